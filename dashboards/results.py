"""Results folders written by ``helixsim run / compare / dividend / experiment``, for browsing.

The page opens only folders inside one results root (``results/`` of the working directory,
or ``HELIXSIM_RESULTS``), so a visitor cannot make the server read arbitrary files; a folder
that holds none of a report, a summary table or a manifest is refused with a message.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

MARKERS = ("report.md", "summary.parquet", "_manifest.json", "validation.json")
MAX_ROWS = 500  # rows of a table read for display


def results_root() -> Path:
    return Path(os.environ.get("HELIXSIM_RESULTS", "results")).resolve()


def is_results_folder(path: Path) -> bool:
    return path.is_dir() and any((path / m).is_file() for m in MARKERS)


def list_folders(root: Path, depth: int = 2) -> list[str]:
    """Results folders under ``root`` (at most ``depth`` levels down), relative, sorted."""
    if not root.is_dir():
        return []
    found = []
    level = [root]
    for _ in range(depth):
        nxt = []
        for folder in level:
            for child in sorted(p for p in folder.iterdir() if p.is_dir()):
                if is_results_folder(child):
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


class NotAResultsFolderError(ValueError):
    pass


def open_folder(root: Path, name: str) -> ResultsFolder:
    """A results folder by its path relative to ``root`` (or absolute, if inside root)."""
    root = root.resolve()
    target = (root / name.strip()).resolve() if name.strip() else root
    if not target.is_relative_to(root):
        raise NotAResultsFolderError(f"{name!r} is outside the results folder {root}")
    if not target.is_dir():
        raise NotAResultsFolderError(f"{name!r}: no such folder under {root}")
    if not is_results_folder(target):
        raise NotAResultsFolderError(f"{name!r} is not a results folder: it has none of "
                                f"{', '.join(MARKERS)}")
    report = target / "report.md"
    figures = sorted((target / "figures").glob("*.png")) + sorted(target.glob("*.png"))
    tables = [p for p in sorted(target.iterdir())
              if p.suffix in (".parquet", ".csv") and p.is_file()]
    return ResultsFolder(path=target, report=report.read_text(encoding="utf-8")
                         if report.is_file() else "", figures=figures, tables=tables)


def read_table(path: Path, max_rows: int = MAX_ROWS) -> pd.DataFrame:
    """The first ``max_rows`` rows of a Parquet or CSV table."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path)
        batches = []
        rows = 0
        for batch in pf.iter_batches(batch_size=max_rows):
            batches.append(batch)
            rows += batch.num_rows
            if rows >= max_rows:
                break
        import pyarrow as pa

        table = pa.Table.from_batches(batches, schema=pf.schema_arrow) if batches else \
            pf.schema_arrow.empty_table()
        return table.to_pandas().head(max_rows)
    return pd.read_csv(path, nrows=max_rows)
