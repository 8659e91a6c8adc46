"""Shared start-up of the browser tests: Debian's Chromium driven by Playwright against
`solara run dashboards.app` on 127.0.0.1.

A browser test module starts with::

    from browser import launch_args, open_page, require_browser, server_fixture

    require_browser()                      # skip (or fail in CI) when it cannot run
    browser_type_launch_args = launch_args # Chromium from Debian, offline flags
    server = server_fixture()              # one server per module, its own results root

Skipped when Chromium, Playwright or the asset cache is missing, unless
HELIXSIM_REQUIRE_BROWSER is truthy (1, true, yes or on, any case; CI sets it), where that is a
failure. ``open_page`` aborts (and records) every request that does not go to the local
server, so a page that renders here renders offline. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from envflags import flag

CHROMIUM = Path(os.environ.get("HELIXSIM_CHROMIUM", "/usr/bin/chromium"))
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
# No sandbox (root in a container), no GPU, and nothing that phones home on its own.
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
START_TIMEOUT = 90  # seconds for `solara run` to answer (a cold import on a busy machine)
READY = re.compile(r"Month 0 of \d+")  # the Explore page has built its model


def unavailable() -> str | None:
    """Why the browser tests cannot run here, or None."""
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


def require_browser() -> None:
    """Call at a test module's import: skip the module, or fail it when the run requires
    browsers (HELIXSIM_REQUIRE_BROWSER)."""
    why = unavailable()
    if why:
        if flag("HELIXSIM_REQUIRE_BROWSER"):  # 1, true, yes, on (any case)
            pytest.fail(f"browser tests cannot run: {why}", pytrace=False)
        pytest.skip(f"browser tests skipped: {why}", allow_module_level=True)


@pytest.fixture(scope="session", name="browser_type_launch_args")
def launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """pytest-playwright's launch arguments with Debian's Chromium and the offline flags.

    Bind it in a test module as ``browser_type_launch_args = launch_args``.
    """
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": FLAGS}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Server:
    """A running `solara run dashboards.app`: its address, process and log file."""

    url: str
    proc: subprocess.Popen
    log: Path


def start_server(tmp: Path, env: dict[str, str] | None = None) -> Server:
    """Start the dashboard on a free port of 127.0.0.1 and wait until it answers."""
    from dashboards import assets

    port = free_port()
    log = tmp / "server.log"
    full_env = {**os.environ, **assets.server_environment(), **(env or {})}
    solara = Path(sys.executable).with_name("solara")
    with open(log, "wb") as out:
        proc = subprocess.Popen([str(solara), "run", "dashboards.app", "--host", "127.0.0.1",
                                 "--port", str(port), "--production", "--no-open",
                                 "--no-check-version"], cwd=ROOT, env=full_env, stdout=out,
                                stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return Server(url=url, proc=proc, log=log)
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                pytest.fail(f"solara run did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)


def stop_server(server: Server) -> None:
    server.proc.terminate()
    try:
        server.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()


def server_fixture(results: Callable[[Path], None] | None = None,
                   env: dict[str, str] | None = None) -> Any:
    """A module-scoped ``server`` fixture yielding a ``Server``.

    Its results root (HELIXSIM_RESULTS) is a fresh temporary folder, filled first by
    ``results(root)`` when given; ``env`` adds environment variables for the server.
    """
    @pytest.fixture(scope="module", name="server")
    def _server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
        root = tmp_path_factory.mktemp("results")
        if results is not None:
            results(root)
        running = start_server(tmp_path_factory.mktemp("solara"),
                               {"HELIXSIM_RESULTS": str(root), **(env or {})})
        yield running
        stop_server(running)
    return _server


def open_page(context: Any, url: str, *, width: int = 1500, height: int = 1200,
              ready: re.Pattern[str] | str | None = READY) -> tuple[Any, list[str]]:
    """A page of the dashboard at ``url`` with every non-local request aborted and recorded.

    Returns the page and the list of refused addresses (assert it stays empty). Waits up to
    90 s for the text ``ready`` (default: the Explore page's "Month 0 of N"); None waits
    for nothing.
    """
    origin = re.match(r"https?://[^/]+/", url)
    local = origin.group(0) if origin else url
    outside: list[str] = []

    def route(r: Any) -> None:
        if r.request.url.startswith(local) or r.request.url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()
    page = context.new_page()
    page.set_viewport_size({"width": width, "height": height})
    page.route("**/*", route)
    page.goto(url)
    if ready is not None:
        page.get_by_text(ready).first.wait_for(timeout=90_000)
    return page, outside


def month_of(page: Any, css: str) -> int:
    """The month a "Month N of M" element shows."""
    text = page.locator(css).first.inner_text()
    return int(re.search(r"Month (\d+)", text).group(1))


def shot(page: Any, name: str) -> Path:
    """A full-page screenshot into tests/artifacts/NAME.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def choose(page: Any, label: str, option: str) -> None:
    """Pick an option of a Vuetify select; a menu still animating from the last choice can
    swallow the first click (seen once in a fresh-clone run), and a page still laying out can
    hold the select outside the viewport for a moment (seen once in a fresh-clone run), so
    try again after a short wait if needed."""
    for attempt in range(3):
        try:
            page.get_by_label(label).click(force=True)
            page.get_by_role("option", name=option, exact=True).click(timeout=10_000)
            return
        except Exception:
            if attempt == 2:
                raise
            page.keyboard.press("Escape")
            page.wait_for_timeout(500)
