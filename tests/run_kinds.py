"""Test helpers for the machine kinds that reports, manifests and ``results`` name: rewrite a
results folder's run files as if other machines had made some of its runs, and the words a
report uses for two kinds."""

from __future__ import annotations

from pathlib import Path

from experiments import run_files
from experiments.machine_kind import KINDS


def two_kinds(a: str, b: str) -> str:
    """How a report lists runs of kinds ``a`` and ``b``: in ``KINDS`` order ("x86_v4 and
    x86_v3" on an x86-64 machine, "x86_v4 and other" on an ARM one)."""
    return " and ".join(sorted((a, b), key=KINDS.index))


def relabel(out: Path, run_ids: list[str], kind: str | None) -> None:
    """Rewrite the run files of ``out`` as if a machine of ``kind`` had made ``run_ids`` (the
    other runs keep theirs)."""
    tables = run_files.read_runs(out, run_files.stored_runs(out))
    for path in run_files.runs_folder(out).glob("*.parquet"):
        path.unlink()
    ids = sorted(tables)
    run_files.write_runs(out, [(i, tables[i]) for i in ids],
                         [kind if i in run_ids else tables.kinds[i] for i in ids])
