"""Results folders written by ``helixsim run / compare / dividend / experiment``, for browsing.

The page opens only folders inside one results root (``results/`` of the working directory,
or ``HELIXSIM_RESULTS``), so a visitor cannot make the server read arbitrary files. Every path
is resolved (symlinks followed) before it is used and refused when it lands outside the root:
a ``report.md`` linked to ``/etc/passwd`` is not shown, a figure linked to another file not
served. Only regular files are read, each below a size limit, and every failure (a name that
is too long or holds a NUL byte, an unparseable CSV, a truncated Parquet file) is a
``NotAResultsFolderError`` with one line for the page, never a traceback.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from experiments.ownership import MANIFEST_FILE

MARKERS = ("report.md", "summary.parquet", MANIFEST_FILE, "validation.json")
MAX_ROWS = 500                 # rows of a table read for display
MAX_NAME = 1024                # characters of a typed folder name
MAX_REPORT_BYTES = 2 << 20     # report.md larger than this is not rendered
MAX_FIGURE_BYTES = 16 << 20    # PNG larger than this is not served
MAX_TABLE_BYTES = 1 << 30      # tables are read in part (MAX_ROWS), but not from huge files


class NotAResultsFolderError(ValueError):
    """A folder or file of the Results page that cannot be shown; ``str`` is one line."""


def results_root() -> Path:
    return Path(os.environ.get("HELIXSIM_RESULTS", "results")).resolve()


def _show(name: str) -> str:
    """A user's text for a message: printable, at most 60 characters."""
    text = name.replace("\x00", "\\0")
    return repr(text if len(text) <= 60 else text[:57] + "...")


def inside(root: Path, path: Path) -> Path | None:
    """``path`` resolved (symlinks followed) if it lands inside ``root``, else None."""
    try:
        real = path.resolve()
    except (OSError, RuntimeError, ValueError):  # a loop of links, a NUL, a name too long
        return None
    return real if real == root or real.is_relative_to(root) else None


def _regular(root: Path, path: Path, limit: int) -> Path | None:
    """``path`` resolved if it is a regular file inside ``root`` of at most ``limit`` bytes."""
    real = inside(root, path)
    if real is None:
        return None
    try:
        info = real.stat()
    except OSError:
        return None
    return real if stat.S_ISREG(info.st_mode) and info.st_size <= limit else None


def is_results_folder(path: Path, root: Path | None = None) -> bool:
    """A folder with a marker file (with ``root``: a marker that resolves inside it)."""
    try:
        if not path.is_dir():
            return False
        if root is None:
            return any((path / m).is_file() for m in MARKERS)
        return any(_regular(root, path / m, 2**63) is not None for m in MARKERS)
    except OSError:
        return False


def list_folders(root: Path, depth: int = 2) -> list[str]:
    """Results folders under ``root`` (at most ``depth`` levels down), relative, sorted.

    Folders that resolve outside ``root`` (links out of it) are not listed.
    """
    root = root.resolve()
    if not root.is_dir():
        return []
    found = []
    level = [root]
    for _ in range(depth):
        nxt = []
        for folder in level:
            try:
                children = sorted(p for p in folder.iterdir() if p.is_dir())
            except OSError:
                continue
            for child in children:
                if inside(root, child) is None:
                    continue
                if is_results_folder(child, root):
                    found.append(child.relative_to(root).as_posix())
                elif not child.name.startswith((".", "_")) and child.name != "runs":
                    nxt.append(child)
        level = nxt
    return sorted(found)


@dataclass
class ResultsFolder:
    path: Path
    report: str = ""
    figures: list[Path] = field(default_factory=list)
    tables: list[Path] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)  # files left out: outside, special, huge


def open_folder(root: Path, name: str) -> ResultsFolder:
    """A results folder by its path relative to ``root`` (or absolute, if inside root)."""
    root = root.resolve()
    if "\x00" in name:
        raise NotAResultsFolderError(f"{_show(name)}: a folder name cannot hold a NUL byte")
    if len(name) > MAX_NAME:
        raise NotAResultsFolderError(f"{_show(name)}: the name is {len(name):,} characters "
                                     f"long; folder names here are at most {MAX_NAME:,}")
    target = inside(root, root / name.strip()) if name.strip() else root
    if target is None:
        raise NotAResultsFolderError(f"{_show(name)} is outside the results folder {root}")
    try:
        if not target.is_dir():
            raise NotAResultsFolderError(f"{_show(name)}: no such folder under {root}")
        entries = sorted(target.iterdir())
        figure_dir = target / "figures"
        entries_fig = sorted(figure_dir.iterdir()) if figure_dir.is_dir() else []
    except OSError as err:
        raise NotAResultsFolderError(f"{_show(name)}: cannot open the folder "
                                     f"({err.strerror or err})") from None
    if not is_results_folder(target, root):
        raise NotAResultsFolderError(f"{_show(name)} is not a results folder: it has none of "
                                     f"{', '.join(MARKERS)}")
    folder = ResultsFolder(path=target)

    def keep(path: Path, limit: int) -> bool:
        if _regular(root, path, limit) is None:
            folder.refused.append(path.name)
            return False
        return True
    folder.figures = [p for p in entries_fig + entries if p.suffix == ".png"
                      and keep(p, MAX_FIGURE_BYTES)]
    folder.tables = [p for p in entries if p.suffix in (".parquet", ".csv")
                     and keep(p, MAX_TABLE_BYTES)]
    report = target / "report.md"
    if report.exists() or report.is_symlink():
        folder.report = read_text(root, report, MAX_REPORT_BYTES, folder.refused)
    return folder


def read_text(root: Path, path: Path, limit: int, refused: list[str]) -> str:
    """A text file inside ``root`` (else "" and its name added to ``refused``)."""
    real = _regular(root, path, limit)
    if real is None:
        refused.append(path.name)
        return ""
    try:
        return real.read_text(encoding="utf-8", errors="replace")
    except OSError:
        refused.append(path.name)
        return ""


def read_figure(root: Path, path: Path) -> bytes:
    """A figure's bytes, read from its resolved path only if that is inside ``root``."""
    real = _regular(root.resolve(), path, MAX_FIGURE_BYTES)
    if real is None:
        raise NotAResultsFolderError(f"{path.name}: not served (outside the results folder, "
                                     f"not a regular file, or above {MAX_FIGURE_BYTES >> 20} MB)")
    try:
        return real.read_bytes()
    except OSError as err:
        raise NotAResultsFolderError(f"{path.name}: cannot be read ({err.strerror})") from None


def read_table(path: Path, max_rows: int = MAX_ROWS, root: Path | None = None) -> pd.DataFrame:
    """The first ``max_rows`` rows of a Parquet or CSV table.

    With ``root``, the table is read only if it resolves inside it. A file that is not a
    readable table raises ``NotAResultsFolderError`` with one line.
    """
    if root is not None:
        real = _regular(root.resolve(), path, MAX_TABLE_BYTES)
        if real is None:
            raise NotAResultsFolderError(f"{path.name}: not shown (outside the results folder "
                                         "or not a regular file)")
        path = real
    try:
        return _read_table(path, max_rows)
    except Exception as err:  # pyarrow and pandas raise many types for a damaged file
        reason = " ".join(str(err).split())[:200] or type(err).__name__
        raise NotAResultsFolderError(f"{path.name}: not a readable table ({reason})") from None


def _read_table(path: Path, max_rows: int) -> pd.DataFrame:
    if path.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path)
        batches = []
        rows = 0
        for batch in pf.iter_batches(batch_size=max_rows):
            batches.append(batch)
            rows += batch.num_rows
            if rows >= max_rows:
                break
        table = pa.Table.from_batches(batches, schema=pf.schema_arrow) if batches else \
            pf.schema_arrow.empty_table()
        return table.to_pandas().head(max_rows)
    return pd.read_csv(path, nrows=max_rows)
