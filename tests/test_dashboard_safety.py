"""The dashboard's safety rules without a browser: paths, tables, Markdown, origins, live caps.
(The same rules in a real browser: tests/test_dashboard_safety_browser.py.)"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

from dashboards import guard, results
from dashboards.app import render_markdown
from dashboards.session import MAX_LIVE_BYTES, Session, live_limits
from simulation.budget import estimate
from simulation.parameters import resolve


@pytest.fixture
def root(tmp_path: Path) -> Path:
    folder = tmp_path / "root" / "run-a"
    (folder / "figures").mkdir(parents=True)
    (folder / "report.md").write_text("# fine\n")
    (folder / "figures" / "ok.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    pd.DataFrame({"x": range(50)}).to_parquet(folder / "summary.parquet")
    outside = tmp_path / "secret.txt"
    outside.write_text("root:x:0:0\n")
    (folder / "leak.csv").symlink_to(outside)
    (folder / "figures" / "leak.png").symlink_to(outside)
    (folder / "pipe.csv").symlink_to("/dev/zero")
    linked = tmp_path / "root" / "linked"
    linked.mkdir()
    (linked / "report.md").symlink_to(outside)
    (tmp_path / "root" / "out").symlink_to(tmp_path)
    return tmp_path / "root"


def test_links_out_of_the_root_are_never_read(root: Path):
    assert results.list_folders(root) == ["run-a"]
    folder = results.open_folder(root, "run-a")
    assert [p.name for p in folder.tables] == ["summary.parquet"]
    assert [p.name for p in folder.figures] == ["ok.png"]
    assert sorted(folder.refused) == ["leak.csv", "leak.png", "pipe.csv"]
    with pytest.raises(results.NotAResultsFolderError, match="not a results folder"):
        results.open_folder(root, "linked")  # its only marker links out
    with pytest.raises(results.NotAResultsFolderError, match="outside"):
        results.open_folder(root, "out")
    with pytest.raises(results.NotAResultsFolderError, match="not served"):
        results.read_figure(root, root / "run-a" / "figures" / "leak.png")
    with pytest.raises(results.NotAResultsFolderError, match="not shown"):
        results.read_table(root / "run-a" / "leak.csv", root=root)
    assert results.read_figure(root, root / "run-a" / "figures" / "ok.png")[:4] == b"\x89PNG"


@pytest.mark.parametrize(("name", "words"), [
    ("x" * 5000, "5,000 characters"), ("a\x00b", "NUL byte"), ("run-a/" + "y" * 300,
                                                               "cannot open|no such folder"),
    ("../..", "outside"), ("/etc", "outside")])
def test_hostile_names_are_one_line_messages(root: Path, name: str, words: str):
    with pytest.raises(results.NotAResultsFolderError, match=words) as err:
        results.open_folder(root, name)
    assert "\n" not in str(err.value) and len(str(err.value)) < 300


@pytest.mark.parametrize(("file", "data"), [
    ("bad.csv", b'a,b\n1,"2\n'), ("binary.csv", b"\xff\xfe\x00\x01" * 10),
    ("truncated.parquet", None), ("empty.csv", b""), ("random.parquet", b"PAR1" + b"\0" * 64)])
def test_broken_tables_are_one_line_messages(root: Path, file: str, data: bytes | None):
    path = root / "run-a" / file
    if data is None:
        whole = (root / "run-a" / "summary.parquet").read_bytes()
        data = whole[: len(whole) // 2]
    path.write_bytes(data)
    with pytest.raises(results.NotAResultsFolderError, match="not a readable table") as err:
        results.read_table(path, root=root)
    assert "\n" not in str(err.value)


def test_markdown_keeps_its_text_and_loses_scripts_links_and_images():
    out = render_markdown("# T\n\n[a](javascript:alert(1)) [b](data:text/html,x) "
                          "[c](https://example.org/) ![i](http://tracker.invalid/p.png) "
                          "<script>alert(1)</script> <img src=x onerror=alert(1)>\n\n"
                          "| k | v |\n|---|---|\n| 1 | 2 |\n")
    assert "<h1>T</h1>" in out and "<table>" in out and 'href="https://example.org/"' in out
    assert "javascript:" not in out and "data:text" not in out and "<img" not in out
    assert "<script" not in out and "tracker.invalid" not in out
    assert "&lt;script&gt;" in out  # raw HTML is shown as text, not dropped silently


def _scope(origin: str | None, host: str = "127.0.0.1:8765", scheme: str = "ws") -> dict:
    headers = [(b"host", host.encode())]
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    return {"type": "websocket", "scheme": scheme, "headers": headers}


@pytest.mark.parametrize(("origin", "ok"), [
    ("http://127.0.0.1:8765", True), ("HTTP://127.0.0.1:8765", True), (None, True),
    ("http://localhost:8765", False), ("http://127.0.0.1:8766", False),
    ("https://127.0.0.1:8765", False), ("http://evil.example", False), ("null", False),
    ("http://127.0.0.1:8765.evil.example", False), ("", False)])
def test_only_the_dashboards_own_origin_opens_a_websocket(origin, ok):
    assert guard.origin_allowed(_scope(origin)) is ok


def test_a_proxy_lists_its_public_origin():
    extra = guard.allowed_origins("https://helix.example.org, http://10.0.0.5:8080")
    scope = _scope("https://helix.example.org", host="127.0.0.1:8765")
    assert not guard.origin_allowed(scope)
    assert guard.origin_allowed(scope, extra)
    assert guard.origin_allowed(_scope("http://10.0.0.5:8080"), extra)


def test_the_guard_closes_a_foreign_handshake_before_the_app_sees_it():
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    seen, sent = [], []

    async def app(scope, receive, send):
        seen.append(scope)

    async def send(message):
        sent.append(message)
    def run(coroutine) -> None:
        # In a thread of its own: the browser tests' Playwright may hold this thread's loop.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, coroutine).result()

    guarded = guard.same_origin_websockets(app)
    run(guarded(_scope("http://evil.example"), None, send))
    assert seen == [] and sent == [{"type": "websocket.close", "code": 1008}]
    run(guarded(_scope("http://127.0.0.1:8765"), None, send))
    assert len(seen) == 1


def test_a_region_above_the_live_cap_is_not_built_and_the_page_says_why():
    s = Session()
    month_model = s.explorer.model
    assert s.set_lever("n_firms", "1000000") is None  # a valid parameter value ...
    message = s.reset()                                 # ... but too big to run live
    assert message is not None and "live dashboard sessions" in message
    assert s.explorer.model is month_model              # the old run stays
    # The Dividend page builds its pair from the last settings that could be built.
    pair = s.ensure_pair()
    assert pair.scenario.model.parameters["n_firms"] == month_model.parameters["n_firms"]
    assert "live dashboard sessions" in s.message


def test_the_cap_next_to_the_levers_names_sizes_that_fit():
    text = live_limits()
    firms = int(text.split("up to about ")[1].split(" firms")[0].replace(",", ""))
    assert estimate(resolve({"n_firms": firms})) <= MAX_LIVE_BYTES
    assert estimate(resolve({"n_firms": int(firms * 1.05)})) > MAX_LIVE_BYTES
