"""The run files of an output folder: every finished run's table, several runs a file.

``<out>/runs/`` holds Parquet files named ``part-<hash>.parquet``. Each holds the tables of
one or more runs, one after the other, and says which in its footer: the key-value metadata
``helixsim.runs`` is the JSON ``{"format": 1, "runs": [[run_id, rows], ...], "kinds": [kind,
...]}``, the run ids in the order of their rows and the kind of machine that made each
(``experiments.machine_kind``: "x86_v4" or "x86_v3"; null where unknown; files of versions
before it have no "kinds", and their runs' kinds are unknown). Read as a folder
(``pandas.read_parquet(".../runs")``, DuckDB's ``'.../runs/*.parquet'``) they are one table,
as before.

Why several runs a file: a small run takes about 50 ms, and a Parquet file costs about 2 ms
whatever it holds (pyarrow's writer about 0.8 ms, the conversion to Arrow, creating the file),
4% of the run for storage alone; the batch runner's whole overhead was 6.5%. A file of 32 runs
costs 0.14 ms a run. ``RunWriter`` gathers the finished runs' tables and writes a file once it
holds ``FILE_RUNS`` (64) runs or its oldest run has waited ``FILE_SECONDS`` (1 s; the
environment variable ``HELIXSIM_STORE_SECONDS`` sets another, 0 for a file a run), the two
limits a log shipper or a message producer uses (its batch size and its linger time). Each
file is written to a temporary name and renamed into place (``storage.atomic_write``), so a
name in ``runs/`` only ever holds complete runs, and a reader sees a run whole or not at all.
What this costs: a batch killed without warning (SIGKILL, SIGTERM, a power cut) loses the
runs it had finished but not yet written, at most those of its last ``FILE_SECONDS`` and never
more than ``FILE_RUNS``; the next run of the batch runs them again. An exception, Ctrl-C
included, loses none: the runner writes what it holds before it stops.

Folders of earlier versions hold one file per run, ``<run_id>.parquet`` (16 hex digits, no
``helixsim.runs`` metadata): they are read as runs of one file each, so such a folder resumes
and reads back as before, and both kinds can live in one folder. A file of another format
(a later version's) is refused (``RunFileError``) rather than misread. A file that cannot be
read (damaged on disk) holds no run; the runner, about to run its runs again, renames it
``.<name>.damaged`` (kept for a look, and out of the way of folder readers, which skip hidden
files) and says so in one line on stderr: the file, what is wrong with it, where it went.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from simulation.errors import InputFileError

from . import machine_kind
from .storage import write_parquet

RUNS = "runs"  # the folder of run files in an output folder
FORMAT = 1  # the layout of run files this version writes and reads
META_KEY = "helixsim.runs"
PART_PREFIX = "part-"
# Flush limits of RunWriter (module constants so that a test can lower them).
FILE_RUNS = 64
FILE_SECONDS = 1.0
# Sets FILE_SECONDS for a process: 0 stores each run as it comes back, a file each.
STORE_ENV = "HELIXSIM_STORE_SECONDS"
# A run file of the layout before several runs a file: the run id as its name.
_ONE_RUN_FILE = re.compile(r"[0-9a-f]{16}")


class RunFileError(InputFileError):
    """A run file this version cannot read: one line naming the file and what to do (an
    input file error, so that a command refuses it with exit code 2)."""


@dataclass(frozen=True)
class StoredRun:
    """Where a run's table is: its file, its first row there and its number of rows (None:
    a file of one run, as earlier versions wrote)."""

    path: Path
    start: int = 0
    rows: int | None = None
    kind: str | None = None  # the machine kind that made it (None: not recorded)


class StoredTables(dict):
    """What ``read_runs`` returns: run id -> table, and ``kinds``, run id -> the kind of
    machine that made the run (None where its file does not say). The kinds ride beside the
    tables, not in their ``attrs``, which pandas carries into concatenated tables and the
    files written from them."""

    def __init__(self, tables: dict[str, pd.DataFrame], kinds: dict[str, str | None]) -> None:
        super().__init__(tables)
        self.kinds = kinds


def store_seconds() -> float:
    """Seconds a finished run may wait to be stored: ``HELIXSIM_STORE_SECONDS`` if set (a
    number >= 0), else ``FILE_SECONDS``."""
    try:
        return max(0.0, float(os.environ[STORE_ENV]))
    except (KeyError, ValueError):
        return FILE_SECONDS


def runs_folder(out: Path | str) -> Path:
    """The run files' folder of output folder ``out``."""
    return Path(out) / RUNS


def file_name(run_ids: Sequence[str]) -> str:
    """The name of the file that holds ``run_ids`` (in that order): a hash of them, so that a
    file written again for the same runs replaces its earlier copy."""
    digest = hashlib.sha256(",".join(run_ids).encode()).hexdigest()[:16]
    return f"{PART_PREFIX}{digest}.parquet"


def write_runs(out: Path | str, tables: Sequence[tuple[str, pd.DataFrame]],
               kinds: Sequence[str | None] | None = None) -> Path:
    """Write the tables of runs (run id, table; same columns and dtypes) as one file of
    ``out/runs`` (atomically), with the kind of machine that made each (``kinds``, in the same
    order; default unknown). Returns its path."""
    ids = [run_id for run_id, _ in tables]
    frames = [df for _, df in tables]
    table = frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)
    kinds = [None] * len(tables) if kinds is None else list(kinds)
    if len(kinds) != len(tables):
        raise ValueError(f"{len(kinds)} machine kinds for {len(tables)} runs")
    meta = json.dumps({"format": FORMAT, "runs": [[i, len(df)] for i, df in tables],
                       "kinds": kinds})
    return write_parquet(table, runs_folder(out) / file_name(ids), metadata={META_KEY: meta})


def index(out: Path | str) -> dict[str, StoredRun]:
    """Every run stored in ``out/runs``: run id -> where (the first file in name order, should
    a run be in two). A damaged file holds none; a file of another format raises
    ``RunFileError``."""
    found: dict[str, StoredRun] = {}
    for run_id, where in _entries(runs_folder(out)):
        found.setdefault(run_id, where)
    return found


def stored_runs(out: Path | str) -> list[str]:
    """The run ids stored in ``out/runs``, one entry per stored copy (a run stored twice
    appears twice), sorted; as ``index``, it only reads."""
    return sorted(run_id for run_id, _ in _entries(runs_folder(out)))


def read_runs(out: Path | str, wanted: Iterable[str]) -> StoredTables:
    """The tables of the ``wanted`` runs that ``out/runs`` holds, each as it was written
    (its own RangeIndex, its columns and dtypes), and in ``.kinds`` the kind of machine that
    made each (None if its file does not say). A run with no rows counts as not stored; a
    file that turns out damaged is set aside and its runs are read from another copy, if a
    file holds one, or count as not stored."""
    wanted = set(wanted)
    copies: dict[str, list[StoredRun]] = {}
    for run_id, where in _entries(runs_folder(out), set_aside=True):
        if run_id in wanted:
            copies.setdefault(run_id, []).append(where)
    files: dict[Path, pd.DataFrame | None] = {}
    tables: dict[str, pd.DataFrame] = {}
    kinds: dict[str, str | None] = {}
    for run_id, places in copies.items():
        for run in places:
            if run.path not in files:
                try:
                    files[run.path] = pd.read_parquet(run.path)
                except Exception as err:  # pyarrow raises several types for a damaged file
                    files[run.path] = None
                    _set_aside(run.path, f"unreadable: {_first_line(err)}")
            whole = files[run.path]
            if whole is None:
                continue
            df = (whole if run.rows is None
                  else whole.iloc[run.start:run.start + run.rows].reset_index(drop=True))
            if len(df):
                tables[run_id] = df
                kinds[run_id] = run.kind
                break
    return StoredTables(tables, kinds)


def _entries(folder: Path, set_aside: bool = False) -> list[tuple[str, StoredRun]]:
    """(run id, where) of every run stored in ``folder``; a damaged file is skipped, or with
    ``set_aside`` (the runner, about to run its runs again) renamed out of the way."""
    if not folder.is_dir():
        return []
    out: list[tuple[str, StoredRun]] = []
    for path in sorted(folder.glob("*.parquet")):
        if _ONE_RUN_FILE.fullmatch(path.stem):
            out.append((path.stem, StoredRun(path)))  # checked when read
        elif path.name.startswith(PART_PREFIX):
            runs, problem = _runs_of(path)
            if runs is None:
                if set_aside:
                    _set_aside(path, problem)
                continue
            start = 0
            for run_id, rows, kind in runs:
                out.append((run_id, StoredRun(path, start, rows, kind)))
                start += rows
        # Any other file is not a run file of ours: left alone.
    return out


def _runs_of(path: Path) -> tuple[list[tuple[str, int, str | None]] | None, str]:
    """The (run id, rows, machine kind) a run file holds, from its footer, and ""; or None and
    what is wrong with the file (damaged). Kinds the footer does not give (an earlier
    version's file) or gives in another form are None: the runs are whole without them."""
    import pyarrow.parquet as pq

    try:
        meta = pq.read_metadata(path)
    except Exception as err:  # a damaged footer: pyarrow raises several types
        return None, f"footer unreadable: {_first_line(err)}"
    raw = (meta.metadata or {}).get(META_KEY.encode())
    if raw is None:
        return None, f"no {META_KEY} list of runs in its footer"
    try:
        info = json.loads(raw)
    except ValueError:
        info = None
    if not isinstance(info, dict):
        return None, f"its footer's {META_KEY} is not a JSON object"
    if info.get("format") != FORMAT:
        raise RunFileError(path, META_KEY,
                           f"a run file of format {info.get('format')!r}, written by another "
                           f"version of helixsim (this one reads format {FORMAT}); read this "
                           "folder with that version, or use another output folder")
    try:
        runs = [(str(run_id), int(rows)) for run_id, rows in info["runs"]]
    except (KeyError, TypeError, ValueError):
        return None, f"its footer's {META_KEY} has no list of [run id, rows]"
    listed = sum(rows for _, rows in runs)
    if listed != meta.num_rows:
        return None, f"its footer lists {listed} rows, the file holds {meta.num_rows}"
    kinds = info.get("kinds")
    if not (isinstance(kinds, list) and len(kinds) == len(runs)):
        kinds = [None] * len(runs)
    # A kind this version does not know (a later one's) reads as unknown.
    return [(run_id, rows, kind if kind in machine_kind.KINDS else None)
            for (run_id, rows), kind in zip(runs, kinds, strict=True)], ""


def _first_line(err: Exception) -> str:
    lines = str(err).strip().splitlines()
    return f"{type(err).__name__}: {lines[0] if lines else ''}"[:200]


def _set_aside(path: Path, problem: str) -> None:
    """Rename a damaged run file out of the way and say so, one line on stderr: its runs
    count as not stored, so a batch runs them again, and without the line a user would only
    see runs made twice (and a hidden file) with no reason given."""
    moved = path.with_name(f".{path.name}.damaged")
    try:
        path.rename(moved)
        where = f"moved to {moved}"
    except OSError as err:  # gone meanwhile, or a read-only folder
        where = f"left in place ({err.strerror})"
    sys.stderr.write(f"warning: {path}: a damaged run file ({problem}); {where}; its runs "
                     "count as not stored, so a batch runs them again\n")


class RunWriter:
    """Gathers finished runs' tables and writes them to ``out/runs`` several a file.

    ``add`` keeps a table; ``flush`` writes every table kept, one file per set of columns
    and dtypes (a task's tables may differ); ``due_in`` says how long the oldest table may
    still wait. A file is written once ``max_runs`` tables are kept or the oldest has waited
    ``linger`` seconds (default ``store_seconds()``; checked by ``add`` and ``flush_due``,
    and the runner wakes up for it). ``add``, ``flush`` and ``flush_due`` return the runs
    that could not be written, (run id, traceback) each, instead of raising: such a run
    failed.
    """

    def __init__(self, out: Path | str, max_runs: int | None = None,
                 linger: float | None = None, clock: Callable[[], float] = time.monotonic
                 ) -> None:
        self.out = Path(out)
        self.max_runs = FILE_RUNS if max_runs is None else max(1, int(max_runs))
        self.linger = store_seconds() if linger is None else float(linger)
        self._clock = clock
        self._kept: list[tuple[str, pd.DataFrame, str | None]] = []
        self._since: float | None = None

    def __len__(self) -> int:
        return len(self._kept)

    def add(self, run_id: str, table: pd.DataFrame, kind: str | None = None
            ) -> list[tuple[str, str]]:
        """Keep ``table``, made on a machine of ``kind`` (a run with no rows is not stored:
        it would run again anyway)."""
        if len(table):
            if not self._kept:
                self._since = self._clock()
            self._kept.append((run_id, table, kind))
        return self.flush_due()

    def due_in(self) -> float | None:
        """Seconds until the kept tables are due (0 if they are); None if none is kept."""
        if self._since is None:
            return None
        return max(0.0, self._since + self.linger - self._clock())

    def flush_due(self) -> list[tuple[str, str]]:
        """``flush`` if the kept tables are due."""
        if len(self._kept) >= self.max_runs or self.due_in() == 0.0:
            return self.flush()
        return []

    def flush(self) -> list[tuple[str, str]]:
        """Write every kept table."""
        kept, self._kept, self._since = self._kept, [], None
        groups: dict[Any, list[tuple[str, pd.DataFrame, str | None]]] = {}
        for run_id, df, kind in kept:
            groups.setdefault((tuple(df.columns), tuple(df.dtypes)), []).append(
                (run_id, df, kind))
        failed: list[tuple[str, str]] = []
        for runs in groups.values():
            try:
                write_runs(self.out, [(run_id, df) for run_id, df, _ in runs],
                           [kind for _, _, kind in runs])
            except Exception:
                error = traceback.format_exc()
                failed += [(run_id, error) for run_id, _, _ in runs]
        return failed
