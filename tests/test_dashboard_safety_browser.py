"""The dashboard stays safe and alive against hostile input, in a real browser (Chromium driven by
Playwright against `solara run`): hostile folder names and files show a message and the session
lives; links out of the results root are not followed; reports cannot plant scripts, links or
remote images; other origins cannot open the WebSocket; closed sessions give their memory back;
Play keeps its rate or says what it achieves.

Start-up (server, page opener, Chromium flags, skipping) is tests/browser.py's. Screenshots go
to tests/artifacts/.
"""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path

import pandas as pd
from browser import choose, launch_args, open_page, require_browser, server_fixture, shot

require_browser()
browser_type_launch_args = launch_args


HOSTILE_REPORT = """# Experiment hostile

A [link that runs script](javascript:alert(document.domain)) and a
[data link](data:text/html,<script>alert(1)</script>), an image from elsewhere
![tracker](http://tracker.invalid/pixel.png) and raw <script>window.pwned = 1</script>
<img src=x onerror="window.pwned = 2">. A [fine link](https://example.org/).
"""


def _hostile_root(root: Path) -> None:
    """A results root with the files of the probe: hostile report, links out, broken tables."""
    bad = root / "hostile"
    (bad / "figures").mkdir(parents=True)
    (bad / "report.md").write_text(HOSTILE_REPORT)
    (bad / "broken.csv").write_bytes(b'a,b\n1,"2\n\xff\xfe')
    pd.DataFrame({"x": range(100)}).to_parquet(bad / "summary.parquet")
    whole = (bad / "summary.parquet").read_bytes()
    (bad / "truncated.parquet").write_bytes(whole[: len(whole) // 2])
    (bad / "passwd.csv").symlink_to("/etc/passwd")
    (bad / "figures" / "host.png").symlink_to("/etc/hostname")
    linked = root / "linked"
    linked.mkdir()
    (linked / "report.md").symlink_to("/etc/passwd")
    (linked / "_manifest.json").write_text("{}")


# Sessions that disconnect are closed after 3 s instead of the dashboard's 60 s, so the memory
# test need not wait a minute.
server = server_fixture(_hostile_root, env={"SOLARA_KERNEL_CULL_TIMEOUT": "3s"})


def _type_folder(page, text: str) -> None:
    field = page.get_by_label("or type a folder (relative to the results root)")
    field.fill(text)
    field.press("Enter")


def _still_alive(page) -> None:
    """The session survives: Explore still steps its model."""
    page.get_by_role("tab", name="Explore").click()
    before = page.locator(".explore-month").first.inner_text()
    page.locator(".explore-step").click()
    page.locator(".explore-month", has_text=re.compile(r"Month \d+ of")).first.wait_for()
    page.wait_for_function(
        "(b) => document.querySelector('.explore-month').innerText !== b", arg=before)


def test_hostile_folder_names_show_a_message_and_the_session_lives(server, browser):
    url = server.url
    context = browser.new_context()
    page, _ = open_page(context, url)
    page.get_by_role("tab", name="Results").click()
    for name, words in (("x" * 5000, "5,000 characters"), ("a\x00b", "NUL byte"),
                        ("../../etc", "outside the results folder")):
        _type_folder(page, name)
        page.locator(".results-error", has_text=words).wait_for(timeout=30_000)
        assert "Traceback" not in page.inner_text("body")
    shot(page, "results-hostile-name")
    _still_alive(page)
    context.close()


def test_broken_tables_show_a_message_and_links_out_are_not_followed(server, browser):
    url = server.url
    context = browser.new_context()
    page, outside = open_page(context, url)
    page.get_by_role("tab", name="Results").click()
    _type_folder(page, "hostile")
    refused = page.locator(".results-refused")
    refused.wait_for(timeout=30_000)
    assert "passwd.csv" in refused.inner_text() and "host.png" in refused.inner_text()
    for table in ("broken.csv", "truncated.parquet"):
        choose(page, "table", table)
        page.locator(".results-error", has_text=f"{table}: not a readable table").wait_for(
            timeout=30_000)
        assert "Traceback" not in page.inner_text("body")
    choose(page, "table", "summary.parquet")
    page.get_by_role("cell", name="14", exact=True).first.wait_for()  # a good table shows
    # The report: no script ran, no javascript:/data: link, no remote image was fetched.
    page.get_by_text("fine link").wait_for()  # report.md is open: the folder has no figures
    html = page.content()
    assert page.evaluate("window.pwned === undefined")
    assert "javascript:" not in html and 'href="data:' not in html
    assert "tracker.invalid" not in html
    assert page.locator("[onerror]").count() == 0 and page.locator("script", has_text="pwned"
                                                                   ).count() == 0
    assert page.locator('a[href="https://example.org/"]').count() == 1
    assert not [u for u in outside if "tracker" in u]
    shot(page, "results-hostile-files")
    _still_alive(page)
    # A folder whose only report is a link to /etc/passwd shows nothing of it.
    page.get_by_role("tab", name="Results").click()
    _type_folder(page, "linked")
    page.locator(".results-refused", has_text="report.md").wait_for(timeout=30_000)
    assert "root:" not in page.content()
    context.close()


def _handshake(url: str, origin: str | None) -> str:
    """The status line a WebSocket handshake to Solara's kernel route gets."""
    host, port = url.split("//")[1].rstrip("/").split(":")
    lines = ["GET /jupyter/api/kernels/k1/channels?session_id=s1 HTTP/1.1",
             f"Host: {host}:{port}", "Upgrade: websocket", "Connection: Upgrade",
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==", "Sec-WebSocket-Version: 13"]
    if origin is not None:
        lines.append(f"Origin: {origin}")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return s.recv(4096).decode("latin-1").split("\r\n")[0]


def test_websockets_from_another_origin_are_refused(server):
    url = server.url
    own = url.rstrip("/")
    for origin in ("http://evil.example", "null", "http://127.0.0.1:1",
                   own.replace("http:", "https:")):
        assert " 403 " in _handshake(url, origin) + " ", origin
    for origin in (own, None):
        assert " 101 " in _handshake(url, origin) + " ", origin


def _rss(pid: int) -> int:
    import psutil

    return psutil.Process(pid).memory_info().rss


def test_closed_sessions_give_their_memory_back(server, browser):
    """Ten sessions, each building a 15,000-firm region (under the live cap), opened and
    closed: the server's memory goes up while they are open and returns near its start once
    they are closed."""
    url, proc = server.url, server.proc

    def session(firms: str, keep: bool = False):
        context = browser.new_context()
        page, _ = open_page(context, url)
        field = page.get_by_label("n firms")
        field.fill(firms)
        field.press("Enter")
        page.locator(".explore-reset").click()
        page.locator(".counter-firms-alive", has_text=f"{int(firms):,}").wait_for(
            timeout=60_000)
        page.get_by_role("tab", name="Dividend").click()  # the pair: two more models
        page.locator(".dividend-step").wait_for(timeout=60_000)
        if keep:
            return context
        context.close()
        return None

    session("15000")  # warm-up: imports and caches the first session loads for good
    time.sleep(8)
    start = _rss(proc.pid)
    contexts = [session("15000", keep=True) for _ in range(5)]
    busy = _rss(proc.pid)
    for c in contexts:
        c.close()
    for _ in range(5):
        session("15000")
    # Near the start: at most half of what five open sessions held stays (the allocator
    # keeps some fragments, 50-65 MB here whatever the sessions held; 20 sessions left
    # no more than 10 did, so it is not a leak). A leak of the ten closed sessions would
    # leave twice what five open ones held.
    near = start + (busy - start) / 2
    deadline = time.monotonic() + 60
    end = _rss(proc.pid)
    while end > near and time.monotonic() < deadline:
        time.sleep(2)
        end = _rss(proc.pid)
    print(f"server RSS: start {start / 2**20:.0f} MB, five sessions open {busy / 2**20:.0f} MB, "
          f"after ten sessions closed {end / 2**20:.0f} MB")
    # The sessions did hold memory (so that its return below means something). Tables keep
    # their spare capacity as untouched zero pages, so five sessions hold about 190 MB
    # (measured in CI), where they held more than 200 MiB before that change.
    assert busy > start + 100 * 2**20
    assert end <= near


def test_play_keeps_its_rate_or_shows_the_rate_it_achieves(server, browser):
    url = server.url
    context = browser.new_context()
    page, _ = open_page(context, url)
    page.locator(".explore-play").click()
    page.locator(".explore-play", has_text="Pause").wait_for()
    started = time.monotonic()
    page.wait_for_timeout(6000)
    month = int(re.search(r"Month (\d+)", page.locator(".explore-month").inner_text()).group(1))
    elapsed = time.monotonic() - started
    shown = page.locator(".explore-rate").inner_text()
    rate = float(re.search(r"playing at ([\d.]+) months/s", shown).group(1))
    shot(page, "explore-play-rate")
    page.locator(".explore-play").click(force=True, timeout=90_000)  # redrawn while playing
    measured = month / elapsed
    print(f"asked 5 months/s; the page shows {rate:.1f}, measured {measured:.1f} "
          f"({month} months in {elapsed:.1f} s)")
    if measured < 0.8 * 5:
        assert "cannot keep up" in shown
        assert abs(rate - measured) <= 0.35 * measured + 0.5
    else:
        assert rate >= 0.8 * 5
    context.close()


def test_a_region_above_the_live_cap_is_refused_in_the_page(server, browser):
    url = server.url
    context = browser.new_context()
    page, _ = open_page(context, url)
    page.locator(".live-cap", has_text="Live sessions are capped at").wait_for()
    field = page.get_by_label("n firms")
    field.fill("1000000")
    field.press("Enter")
    page.locator(".explore-reset").click()
    page.locator(".reset-message", has_text="live dashboard sessions").wait_for(timeout=30_000)
    assert page.locator(".counter-firms-alive").inner_text() != "1,000,000"
    shot(page, "explore-live-cap")
    _still_alive(page)
    context.close()
