"""The dashboard's Policy search page in a real browser (Chromium via Playwright).

An optimisation folder is made with a synthetic evaluator (a small function in place of the
model, so it takes a second) in the server's results root; the page opens it, shows the
Pareto set, and a picked policy's levers and dividend next to the starting scenario's.
Start-up (server, page opener, Chromium flags, skipping) is tests/browser.py's. Screenshot:
tests/artifacts/pareto.png.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from browser import launch_args, open_page, require_browser, server_fixture, shot

require_browser()
browser_type_launch_args = launch_args

SPEC = """
description = "Synthetic search for the browser test"
scenario = "baseline"
horizon_months = 24
replications = 2
[[levers]]
parameter = "matching_rate"
low = 0.0
high = 1.0
[[levers]]
budget_shares = ["block_grants", "matching_grants", "retention_subsidy"]
[[objectives]]
indicator = "welfare"
dividend = true
[[objectives]]
indicator = "jobs"
[uncertainty]
draws = 2
[[uncertainty.ranges]]
parameter = "graduate_premium"
low = 0.4
high = 1.2
[search]
population = 8
generations = 4
[recommend]
count = 2
"""


def _synthetic(policies, cells, wanted):
    """Welfare peaks at matching rate 0.2, jobs at 0.8: a front of policies between."""
    from simulation.parameters import resolve

    base = resolve({"horizon_months": 24})
    m = np.array([{**base, **p}["matching_rate"] for p in policies])
    block = np.array([{**base, **p}["budget_share_block_grants"] for p in policies])
    by = {"welfare": 50 - 100 * (m - 0.2) ** 2 - 10 * block, "jobs": 1000 - 500 * (m - 0.8) ** 2}
    f = np.column_stack([by.get(ind, 0 * m) for ind, _ in wanted])
    noise = np.array([cells.values(d)["graduate_premium"] for d, _ in cells.keys])
    return f[:, None, :] + noise[None, :, None]


def _search_folder(root: Path) -> None:
    """An optimisation folder made with the synthetic evaluator, and a folder of another
    command beside it."""
    from experiments import optimise as opt
    from experiments.optimise_spec import load

    spec_file = root / "search.toml"
    spec_file.write_text(SPEC)
    opt.optimise(load(spec_file), out=root / "optimise-synthetic", evaluate=_synthetic)
    (root / "not-a-search").mkdir()
    (root / "not-a-search" / "report.md").write_text("# another command's report\n")


server = server_fixture(_search_folder)


def test_policy_search_page_shows_the_pareto_set_and_a_picked_policy(server, browser):
    context = browser.new_context()
    page, outside = open_page(context, server.url, height=1400, ready=None)
    page.get_by_role("tab", name="Policy search").click(timeout=90_000)
    page.get_by_text("Optimisation folders under").wait_for()
    # A folder of another command is refused with a message; so is a path outside the root.
    field = page.get_by_label("or type a folder (relative to the results root)")
    for name, message in (("not-a-search", "is not an optimisation folder"),
                          ("../..", "is outside the results folder")):
        field.fill(name)
        field.press("Enter")
        page.locator(".pareto-error", has_text=message).wait_for()
    field.fill("optimise-synthetic")
    field.press("Enter")
    count = page.locator(".pareto-count")
    count.wait_for()
    assert "policies in the Pareto set of 33 evaluated" in count.inner_text()
    # The most robust policy is picked first: its dividend on fresh seeds next to the start's.
    dividend = page.locator(".pareto-dividend")
    dividend.wait_for()
    text = dividend.inner_text()
    assert "On fresh seeds and draws" in text and "the starting scenario: D(W)" in text
    page.get_by_text("starting scenario", exact=True).first.wait_for()
    page.get_by_text("budget_share_matching_grants").first.wait_for()
    page.wait_for_timeout(500)
    shot(page, "pareto")
    # Pick another policy of the Pareto set: the comparison follows.
    current = page.locator(".pareto-pick").inner_text()
    page.locator(".pareto-pick").click()
    options = page.get_by_role("option")
    options.first.wait_for()
    texts = options.all_inner_texts()
    other = next(t for t in texts if t.split(":")[0] not in current)
    options.nth(texts.index(other)).click()
    name = other.split(":")[0]
    page.get_by_text(f"{name} next to the starting scenario").wait_for()
    assert page.locator(".pareto-dividend").inner_text() != text
    assert outside == [], f"requests left the machine: {outside}"
    context.close()
