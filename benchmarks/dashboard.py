"""Dashboard figures: start-up time, Step latency with the charts redrawn, server memory.

    .venv/bin/python benchmarks/dashboard.py [--steps 20] [--sessions 5]

Needs Chromium at /usr/bin/chromium and the asset cache (make assets). Prints figures; it does
not pass or fail. The server is the same command `helixsim dashboard` runs.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dashboards.session import Session  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_side_step(steps: int) -> list[float]:
    """Session.step at the default region: one model step plus the SVG charts and network."""
    s = Session()
    s.step(12)  # past the first intake and into a network with projects
    out = []
    for _ in range(steps):
        t = time.perf_counter()
        s.step()
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--sessions", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    server = server_side_step(args.steps)
    print(f"server side, one Step with charts and network redrawn (default region, "
          f"{args.steps} steps): median {1000 * statistics.median(server):.1f} ms, "
          f"max {1000 * max(server):.1f} ms")

    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    helixsim = Path(sys.executable).with_name("helixsim")
    started = time.perf_counter()
    proc = subprocess.Popen([str(helixsim), "dashboard", "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ})
    try:
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).read()
                break
            except OSError:
                time.sleep(0.1)
        server_ready = time.perf_counter() - started
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                        args=["--no-sandbox", "--disable-gpu"])
            contexts, pages = [], []

            def open_page():
                ctx = browser.new_context()
                page = ctx.new_page()
                page.set_viewport_size({"width": 1500, "height": 1200})
                page.goto(url)
                page.get_by_text(re.compile(r"Month 0 of")).first.wait_for(timeout=120_000)
                contexts.append(ctx)
                pages.append(page)
                return page
            page = open_page()
            usable = time.perf_counter() - started
            print(f"helixsim dashboard to a usable page (server answering {server_ready:.1f} s,"
                  f" first page with charts and network drawn): {usable:.1f} s")
            page.locator(".explore-step").click()
            page.get_by_text(re.compile(r"Month 1 of")).first.wait_for()
            page.locator(".explore-step").click()
            page.get_by_text(re.compile(r"Month 2 of")).first.wait_for()
            latencies = []
            for k in range(3, 3 + args.steps):
                t = time.perf_counter()
                page.locator(".explore-step").click()
                page.get_by_text(re.compile(rf"Month {k} of")).first.wait_for()
                latencies.append(time.perf_counter() - t)
            print(f"browser round trip of one Step (click to new month, charts and network "
                  f"redrawn; {args.steps} steps): median "
                  f"{1000 * statistics.median(latencies):.0f} ms, max "
                  f"{1000 * max(latencies):.0f} ms")
            server_pid = proc.pid  # helixsim dashboard execs the solara server
            print(f"server RSS with 1 session: {rss_mb(server_pid):.0f} MB")
            for _ in range(args.sessions - 1):
                pg = open_page()
                pg.locator(".explore-step").click()
                pg.get_by_text(re.compile(r"Month 1 of")).first.wait_for()
            time.sleep(1.0)
            print(f"server RSS with {args.sessions} sessions: {rss_mb(server_pid):.0f} MB")
            for ctx in contexts:
                ctx.close()
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)


if __name__ == "__main__":
    main()
