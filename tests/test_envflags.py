"""Boolean environment flags (HELIXSIM_REQUIRE_BROWSER, CI) accept the usual truthy values."""

import pytest
from envflags import flag, truthy


@pytest.mark.parametrize("value", ["1", "true", "True", "TRUE", "yes", "Yes", "on", "ON", " 1 "])
def test_usual_truthy_values_are_true(value):
    assert truthy(value)


@pytest.mark.parametrize("value", [None, "", "0", "false", "no", "off", "2", "y", "enabled"])
def test_everything_else_is_false(value):
    assert not truthy(value)


def test_flag_reads_the_environment(monkeypatch):
    monkeypatch.setenv("HELIXSIM_REQUIRE_BROWSER", "Yes")
    assert flag("HELIXSIM_REQUIRE_BROWSER")
    monkeypatch.setenv("HELIXSIM_REQUIRE_BROWSER", "0")
    assert not flag("HELIXSIM_REQUIRE_BROWSER")
    monkeypatch.delenv("HELIXSIM_REQUIRE_BROWSER")
    assert not flag("HELIXSIM_REQUIRE_BROWSER")


@pytest.mark.parametrize("value", ["1", "yes", "On", "TRUE"])
def test_a_required_browser_that_is_missing_fails_instead_of_skipping(monkeypatch, value):
    """The browser tests' start-up (tests/browser.py) reads the flag the usual way: with any
    truthy value a missing browser is a failure, otherwise a skip (it once accepted only "1")."""
    import browser

    monkeypatch.setattr(browser, "unavailable", lambda: "no Chromium here")
    for setting, outcome in ((value, pytest.fail.Exception), ("0", pytest.skip.Exception)):
        monkeypatch.setenv("HELIXSIM_REQUIRE_BROWSER", setting)
        # Caught as BaseException: a skip where a failure is due must fail this test, not
        # skip it.
        with pytest.raises(BaseException, match="no Chromium here") as raised:
            browser.require_browser()
        assert raised.type is outcome, setting


def test_ci_profile_derandomises_hypothesis():
    import os

    from hypothesis import settings

    assert settings.get_profile("ci").derandomize
    assert settings.get_profile("ci").database is None
    if not os.environ.get("HYPOTHESIS_PROFILE"):
        # conftest.py loads the CI profile exactly when CI is set to a truthy value.
        assert settings.default.derandomize == flag("CI")
