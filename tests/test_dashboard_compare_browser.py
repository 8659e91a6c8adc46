"""The Compare page in a real browser (Debian's Chromium driven by Playwright against
`solara run`): two sides stepped together on one seed, a scenario file uploaded (good and bad),
a lever moved mid-run on the timeline, the export downloading the `helixsim compare` report,
and the page's address opening the same comparison in a fresh page.

Start-up (server, page opener, Chromium flags, skipping) is tests/browser.py's. Every request
that does not go to the local server is aborted. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from browser import choose, launch_args, month_of, open_page, require_browser, server_fixture, shot

require_browser()
browser_type_launch_args = launch_args
server = server_fixture()


def _open(context, url: str):
    """The Compare page of a small region (levers on Explore, then Reset)."""
    page, outside = open_page(context, url, width=1400, height=2400)  # the page in one shot
    for label, value in (("n firms", "150"), ("intake per university", "150")):
        field = page.get_by_label(label)
        field.fill(value)
        field.press("Enter")
    page.locator(".explore-reset").click()
    page.locator(".counter-firms-alive", has_text="150").wait_for()
    page.get_by_role("tab", name="Compare").click()
    page.locator(".compare-month", has_text="Month 0 of").wait_for(timeout=60_000)
    return page, outside


def _step(page, months: int) -> None:
    start = month_of(page, ".compare-month")
    for month in range(start + 1, start + months + 1):
        page.locator(".compare-step").click()
        page.locator(".compare-month", has_text=f"Month {month} of").wait_for()


def _set_lever(page, side: str, lever: str, value: str) -> None:
    choose(page, f"lever of side {side.upper()}", lever)
    field = page.get_by_label(f"value for side {side.upper()}")
    field.fill(value)
    field.press("Enter")
    page.locator(f".compare-set-{side}").click()


def test_same_sides_differ_by_zero_and_a_lever_makes_a_difference(server, browser) -> None:
    context = browser.new_context()
    page, outside = _open(context, server.url)
    _step(page, 3)
    # Same scenario, levers and seed on both sides: the difference is exactly zero.
    sentence = page.locator(".compare-sentence")
    assert "exactly zero" in sentence.inner_text()
    charts = page.locator(".compare-charts svg")
    assert charts.locator("polyline title", has_text="A: baseline").count() == 1
    assert charts.locator("polyline title", has_text="B: baseline").count() == 1
    shot(page, "compare-equal")
    # B takes a different lever before the run (after Reset): B differs from A.
    page.locator(".compare-reset").click()
    page.locator(".compare-month", has_text="Month 0 of").wait_for()
    _set_lever(page, "b", "matching_rate", "0.9")
    page.locator(".compare-describe-b", has_text="matching_rate = 0.9").wait_for()
    _step(page, 4)
    text = sentence.inner_text()
    assert "exactly zero" not in text and re.search(r"(higher|lower) in B than in A", text), text
    assert "seed 1 on both sides" in text
    shot(page, "compare-lever")
    assert outside == [], f"requests left the machine: {outside}"
    context.close()


GOOD = """name = "my_policy"
description = "Baseline with a generous matching rate from year 2"
extends = "baseline"

[[timeline]]
year = 2
lever = "matching_rate"
value = 0.8
"""
BAD = 'extends = "baseline"\n[parameters]\nmatching_rate = 7\n'


def test_upload_a_good_and_a_bad_scenario_file(server, browser, tmp_path) -> None:
    from simulation.scenarios import ScenarioError, load

    context = browser.new_context()
    page, outside = _open(context, server.url)
    bad = tmp_path / "too_generous.toml"
    bad.write_text(BAD)
    with pytest.raises(ScenarioError) as err:
        load(bad)
    expected = str(err.value).replace(f"{tmp_path}/", "")  # what `helixsim check` says
    page.locator(".compare-upload input[type=file]").set_input_files(str(bad))
    page.locator(".upload-error").wait_for(timeout=30_000)
    assert page.locator(".upload-error").inner_text().strip() == expected
    shot(page, "compare-upload-bad")
    good = tmp_path / "my_policy.toml"
    good.write_text(GOOD)
    page.locator(".compare-upload input[type=file]").set_input_files(str(good))
    page.locator(".upload-ok", has_text="Loaded my_policy.toml").wait_for(timeout=30_000)
    page.locator(".compare-describe-b", has_text="file: my_policy.toml").wait_for()
    # Its timeline: the matching rate event of year 2 (month 13), listed and marked.
    timeline = page.locator(".compare-timeline")
    row = timeline.locator("tr", has_text="matching_rate")
    assert "13" in row.inner_text() and "year 2" in row.inner_text()
    assert "scenario timeline" in row.inner_text()
    marks = page.locator(".compare-charts svg line.mark title", has_text="month 13:")
    assert marks.count() == 2  # one per panel
    # An address cannot carry a file: the page says the address leaves side B out.
    note = page.locator(".compare-upload-address")
    assert "leaves out side B (file: my_policy.toml)" in note.inner_text()
    assert "b=" not in urlparse(page.url).query and "my_policy" not in page.url
    shot(page, "compare-upload-good")
    assert outside == [], f"requests left the machine: {outside}"
    context.close()


def test_a_lever_moved_mid_run_is_on_the_timeline_and_in_the_export(server, browser) -> None:
    context = browser.new_context(accept_downloads=True)
    page, outside = _open(context, server.url)
    _step(page, 5)
    _set_lever(page, "b", "retention_subsidy", "0")
    row = page.locator(".compare-timeline tr", has_text="retention_subsidy")
    row.wait_for()
    assert "changed mid-run" in row.inner_text() and "6" in row.inner_text()
    page.locator(".compare-describe-b", has_text="retention_subsidy = 0 from month 6").wait_for()
    _step(page, 2)
    mark = page.locator(".compare-charts svg line.mark title", has_text="month 6:")
    assert mark.count() == 2 and "changed mid-run" in mark.first.text_content()
    shot(page, "compare-midrun")
    page.locator(".compare-export").click()
    download = page.get_by_text("Download the report (zip)")
    download.wait_for(timeout=240_000)
    with page.expect_download() as info:
        download.click()
    with zipfile.ZipFile(io.BytesIO(Path(info.value.path()).read_bytes())) as z:
        names = set(z.namelist())
        assert {"report.md", "report.html", "scenarios/compare-a.toml",
                "scenarios/compare-b.toml"} <= names
        assert any(n.startswith("figures/") and n.endswith(".png") for n in names)
        report = z.read("report.md").decode()
        side_b = z.read("scenarios/compare-b.toml").decode()
    assert "# Compare against A: baseline" in report
    assert "retention_subsidy = 0 from month 6" in report  # B's name says it
    assert re.search(r"\[\[timeline\]\]\nmonth = 6\nlever = \"retention_subsidy\"", side_b)
    shot(page, "compare-export")
    assert outside == [], f"requests left the machine: {outside}"
    context.close()


def test_two_visitors_have_their_own_comparison(server, browser) -> None:
    first, second = browser.new_context(), browser.new_context()
    page_a, _ = _open(first, server.url)
    page_b, _ = _open(second, server.url)
    _set_lever(page_a, "b", "matching_rate", "0.9")
    page_a.locator(".compare-describe-b", has_text="matching_rate = 0.9").wait_for()
    _step(page_a, 2)
    page_b.reload()  # a fresh render of the second visitor's own session
    page_b.get_by_role("tab", name="Compare").click()
    page_b.locator(".compare-month", has_text="Month 0 of").wait_for(timeout=60_000)
    assert "matching_rate" not in page_b.locator(".compare-describe-b").inner_text()
    _step(page_b, 1)
    assert month_of(page_a, ".compare-month") == 2
    first.close()
    second.close()


def _sides(page) -> dict[str, str]:
    return {side: page.locator(f".compare-describe-{side}").inner_text() for side in "ab"}


def test_a_compare_address_opens_the_same_comparison_in_a_fresh_page(server, browser) -> None:
    first = browser.new_context()
    page, outside = _open(first, server.url)
    choose(page, "scenario of side B", "model_3_0")
    page.locator(".compare-describe-b", has_text="model_3_0").wait_for()
    _set_lever(page, "b", "matching_rate", "0.9")
    page.locator(".compare-describe-b", has_text="matching_rate = 0.9").wait_for()
    _set_lever(page, "a", "retention_subsidy", "0")
    page.locator(".compare-describe-a", has_text="retention_subsidy = 0").wait_for()
    page.wait_for_function("() => location.search.includes('a.retention_subsidy=0')")
    query = parse_qs(urlparse(page.url).query)
    assert urlparse(page.url).path == "/compare"
    assert query["b"] == ["model_3_0"] and query["b.matching_rate"] == ["0.9"]
    assert query["n_firms"] == ["150"] and "a" not in query  # A is the scenario above
    _step(page, 3)
    seen = _sides(page), page.locator(".compare-sentence").inner_text()
    shot(page, "compare-address-sender")
    second = browser.new_context()  # another visitor, opening the address
    fresh, outside_b = open_page(second, page.url, width=1400, height=2400)
    fresh.locator(".compare-month", has_text="Month 0 of").wait_for(timeout=60_000)
    assert fresh.get_by_role("tab", name="Compare").get_attribute("aria-selected") == "true"
    _step(fresh, 3)
    assert (_sides(fresh), fresh.locator(".compare-sentence").inner_text()) == seen
    assert fresh.locator(".link-error").count() == 0
    shot(fresh, "compare-address-receiver")
    assert outside == [] and outside_b == []
    first.close()
    second.close()


def test_bad_sides_in_a_compare_address_are_one_line_each(server, browser) -> None:
    context = browser.new_context()
    page, _ = open_page(context, f"{server.url}compare?n_firms=150&intake_per_university=150"
                                 "&b=../../etc/passwd&a.matching_rate=7&b.n_firms=3",
                        width=1400, height=1600)
    errors = page.locator(".link-error")
    assert errors.count() == 3
    for text in errors.all_inner_texts():
        assert "\n" not in text.strip() and text.strip().startswith("link: "), text
    shown = " ".join(errors.all_inner_texts())
    assert "b: '../../etc/passwd' is not a scenario" in shown
    assert "side A: parameter 'matching_rate': 7.0 is outside" in shown
    assert "'b.n_firms' is not a setting" in shown
    assert "matching_rate" not in page.locator(".compare-describe-a").inner_text()
    page.wait_for_function("() => !location.search.includes('b=')")  # the view shown
    _step(page, 1)  # the page still works
    assert "exactly zero" in page.locator(".compare-sentence").inner_text()
    shot(page, "compare-address-bad")
    context.close()
