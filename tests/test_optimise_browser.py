"""The dashboard's Policy search page in a real browser (Chromium via Playwright).

An optimisation folder is made with a synthetic evaluator (a small function in place of the
model, so it takes a second) in the server's results root; the page opens it, shows the
Pareto set, and a picked policy's levers and dividend next to the starting scenario's.
Skipped like tests/test_dashboard_browser.py when Chromium, Playwright or the asset cache is
missing (a failure with HELIXSIM_REQUIRE_BROWSER=1). Screenshot: tests/artifacts/pareto.png.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = Path(os.environ.get("HELIXSIM_CHROMIUM", "/usr/bin/chromium"))
REQUIRED = os.environ.get("HELIXSIM_REQUIRE_BROWSER") == "1"
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _unavailable() -> str | None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "playwright is not installed"
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    from dashboards import assets

    if assets.missing():
        return "the Solara asset cache is incomplete (python -m dashboards.assets)"
    return None


_why = _unavailable()
if _why:
    if REQUIRED:
        pytest.fail(f"browser tests cannot run: {_why}", pytrace=False)
    pytest.skip(f"browser tests skipped: {_why}", allow_module_level=True)

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


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": FLAGS}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from dashboards import assets
    from experiments import optimise as opt
    from experiments.optimise_spec import load

    root = tmp_path_factory.mktemp("results")
    spec_file = root / "search.toml"
    spec_file.write_text(SPEC)
    opt.optimise(load(spec_file), out=root / "optimise-synthetic", evaluate=_synthetic)
    (root / "not-a-search").mkdir()
    (root / "not-a-search" / "report.md").write_text("# another command's report\n")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("solara") / "server.log"
    env = {**os.environ, **assets.server_environment(), "HELIXSIM_RESULTS": str(root)}
    solara = Path(sys.executable).with_name("solara")
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(solara), "run", "dashboards.app", "--host", "127.0.0.1",
                                 "--port", str(port), "--production", "--no-open",
                                 "--no-check-version"], cwd=ROOT, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"solara run did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_policy_search_page_shows_the_pareto_set_and_a_picked_policy(server, browser):
    context = browser.new_context()
    outside: list[str] = []

    def route(r):
        if r.request.url.startswith(server) or r.request.url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()
    page = context.new_page()
    page.set_viewport_size({"width": 1500, "height": 1400})
    page.route("**/*", route)
    page.goto(server)
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
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "pareto.png"), full_page=True)
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
