"""The dashboard in a real browser: Debian's Chromium driven by Playwright against `solara run`.

Start-up (server, page opener, Chromium flags, skipping) is tests/browser.py's. Every request
that does not go to the local server is aborted, so a page that renders here renders offline.
Screenshots of each page go to tests/artifacts/.
"""

from __future__ import annotations

import re
from pathlib import Path

from browser import (
    choose,
    launch_args,
    month_of,
    open_page,
    require_browser,
    server_fixture,
    shot,
)

require_browser()
browser_type_launch_args = launch_args
server = server_fixture()


def test_explore_renders_steps_and_resets_with_a_lever(server, browser) -> None:
    context = browser.new_context()
    page, outside = open_page(context, server.url)
    # Not blank: the live charts (SVG polylines) and the network (firms, edges) are drawn.
    page.locator(".live-charts svg polyline").first.wait_for(state="attached")
    assert page.locator(".live-charts svg polyline").count() >= 6
    assert page.locator(".live-network svg circle").count() > 100
    assert month_of(page, ".explore-month") == 0
    page.locator(".explore-step").click()
    page.get_by_text(re.compile(r"Month 1 of")).first.wait_for()
    page.locator(".explore-step").click()
    page.get_by_text(re.compile(r"Month 2 of")).first.wait_for()
    assert page.locator(".live-network svg path.edges").count() >= 1  # projects by month 2
    firms = page.locator(".counter-firms-alive").inner_text()
    # A lever, then Reset: the firms counter shows the new region.
    field = page.get_by_label("n firms")
    field.fill("250")
    field.press("Enter")
    page.locator(".explore-reset").click()
    page.get_by_text(re.compile(r"Month 0 of")).first.wait_for()
    page.locator(".counter-firms-alive", has_text="250").wait_for()
    assert firms != "250"
    # An invalid value shows the table's message; the page keeps working.
    page.get_by_text("Instruments", exact=True).click()  # a closed panel of levers
    rate = page.get_by_label("matching rate")
    rate.fill("7")
    rate.press("Enter")
    page.get_by_text("outside its valid range [0, 1]").first.wait_for()
    page.locator(".explore-step").click()
    page.get_by_text(re.compile(r"Month 1 of")).first.wait_for()
    shot(page, "explore")
    assert outside == [], f"requests left the machine: {outside}"
    context.close()


def test_dividend_page_shows_both_runs_and_a_number(server, browser) -> None:
    context = browser.new_context()
    page, outside = open_page(context, server.url)
    page.get_by_role("tab", name="Dividend").click()
    page.locator(".dividend-step").wait_for()
    for month in (1, 2, 3):
        page.locator(".dividend-step").click()
        page.locator(".dividend-month", has_text=f"Month {month} of").wait_for()
    charts = page.locator(".dividend-charts svg")
    # Both runs: scenario and siloed lines in the W and S panels, plus the dividend line.
    assert charts.locator("polyline").count() == 5
    assert charts.locator("polyline title", has_text="siloed").count() == 2
    d = page.locator(".counter-dividend-d").inner_text()
    assert re.fullmatch(r"[+-]?[\d,]+(\.\d+)?", d), d  # formatted for people, signed
    w_scenario = page.locator(".counter-w-scenario").inner_text()
    w_siloed = page.locator(".counter-w-siloed").inner_text()
    assert float(w_scenario.replace(",", "")) > 0 and float(w_siloed.replace(",", "")) > 0
    shot(page, "dividend")
    page.get_by_role("tab", name="Results").click()
    page.get_by_text("Results folders under").wait_for()
    shot(page, "results")
    assert outside == [], f"requests left the machine: {outside}"
    context.close()


def test_two_browser_contexts_do_not_share_a_model(server, browser) -> None:
    a, b = browser.new_context(), browser.new_context()
    page_a, _ = open_page(a, server.url)
    page_b, _ = open_page(b, server.url)
    for month in (1, 2, 3):
        page_a.locator(".explore-step").click()
        page_a.get_by_text(re.compile(rf"Month {month} of")).first.wait_for()
    page_b.reload()  # a fresh render of b's own session
    page_b.get_by_text(re.compile(r"Month \d+ of")).first.wait_for(timeout=90_000)
    assert month_of(page_b, ".explore-month") == 0
    page_b.locator(".explore-step").click()
    page_b.get_by_text(re.compile(r"Month 1 of")).first.wait_for()
    assert month_of(page_a, ".explore-month") == 3
    a.close()
    b.close()


def test_play_advances_the_month_and_pause_holds_it(server, browser) -> None:
    context = browser.new_context()
    page, _ = open_page(context, server.url)
    page.locator(".explore-play").click()
    page.locator(".explore-play", has_text="Pause").wait_for()
    # At the default 5 months a second, month 3 comes within a few seconds without a click.
    page.locator(".explore-month", has_text=re.compile(r"Month ([3-9]|\d\d+) of")).wait_for(
        timeout=30_000)
    page.locator(".explore-play").click()
    page.locator(".explore-play", has_text="Play").wait_for()
    page.wait_for_timeout(500)  # a step already under way may still land
    held = month_of(page, ".explore-month")
    page.wait_for_timeout(1500)
    assert month_of(page, ".explore-month") == held >= 3
    context.close()


def test_downloads_are_the_current_runs_indicators_and_figures(server, browser) -> None:
    context = browser.new_context(accept_downloads=True)
    page, _ = open_page(context, server.url)
    for month in (1, 2):
        page.locator(".explore-step").click()
        page.get_by_text(re.compile(rf"Month {month} of")).first.wait_for()
    with page.expect_download() as info:
        page.get_by_text("Indicators (CSV)").click()
    lines = Path(info.value.path()).read_text().splitlines()
    header = lines[0].split(",")
    assert "month" in header and "welfare" in header
    assert len(lines) == 1 + 3  # months 0, 1 and 2
    with page.expect_download() as info:
        page.get_by_text("Charts (PNG)").click()
    assert Path(info.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    context.close()


def _small_pair_at_horizon(page) -> None:
    """A small region (levers, then Reset) and its Dividend pair played to the horizon, so the
    multi-seed estimates that follow stay short."""
    for label, value in (("n firms", "150"), ("intake per university", "150")):
        field = page.get_by_label(label)
        field.fill(value)
        field.press("Enter")
    page.locator(".explore-reset").click()
    page.locator(".counter-firms-alive", has_text="150").wait_for()
    page.get_by_role("tab", name="Dividend").click()
    page.locator(".dividend-play").click()
    page.locator(".dividend-month", has_text=re.compile(r"Month 120 of 120")).wait_for(
        timeout=120_000)


def test_multi_seed_estimate_runs_from_the_dividend_page(server, browser) -> None:
    """Play the pair to its horizon, then the estimate button: D(W) with its interval and the
    channel shares. A small region (levers, then Reset) keeps the 4 x 34 runs short."""
    context = browser.new_context()
    page, outside = open_page(context, server.url)
    _small_pair_at_horizon(page)
    page.locator(".estimate").click()
    done = page.get_by_text(re.compile(r"D\(W\) = [+-]?[\d,.]+ \[[+-]?[\d,.]+, [+-]?[\d,.]+\] MCU"))
    done.wait_for(timeout=180_000)
    assert "Over 4 paired seeds" in done.inner_text()
    page.get_by_text("brokerage").first.wait_for()  # the channel shares table
    shot(page, "dividend-estimate")
    assert outside == [], f"requests left the machine: {outside}"
    context.close()


def test_estimate_under_parameter_uncertainty_shows_p_positive(server, browser) -> None:
    """The Dividend page's 'parameter draws' choice runs the estimate over prior draws and shows
    P(D > 0) with the bands and the histogram (issue 11)."""
    context = browser.new_context()
    page, outside = open_page(context, server.url)
    _small_pair_at_horizon(page)
    choose(page, "parameter draws", "8")
    page.locator(".estimate").click()
    done = page.get_by_text(re.compile(r"P\(D > 0\) = [01]\.\d\d over 8 parameter draws"))
    done.wait_for(timeout=300_000)
    shot(page, "dividend-uncertainty")
    assert outside == [], f"requests left the machine: {outside}"
    context.close()
