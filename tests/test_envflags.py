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


def test_the_browser_tests_read_the_flag_through_envflags():
    """The browser module must not parse the variable on its own (it accepted only "1")."""
    from pathlib import Path

    source = (Path(__file__).parent / "test_dashboard_browser.py").read_text()
    assert 'flag("HELIXSIM_REQUIRE_BROWSER")' in source
    assert 'environ.get("HELIXSIM_REQUIRE_BROWSER")' not in source


def test_ci_profile_derandomises_hypothesis():
    import os

    from hypothesis import settings

    assert settings.get_profile("ci").derandomize
    assert settings.get_profile("ci").database is None
    if not os.environ.get("HYPOTHESIS_PROFILE"):
        # conftest.py loads the CI profile exactly when CI is set to a truthy value.
        assert settings.default.derandomize == flag("CI")
