"""A test helper: rewrite a results folder's run files as if other machines had made some of
its runs (tests of the machine kinds that reports, manifests and ``results`` name)."""

from __future__ import annotations

from pathlib import Path

from experiments import run_files


def relabel(out: Path, run_ids: list[str], kind: str | None) -> None:
    """Rewrite the run files of ``out`` as if a machine of ``kind`` had made ``run_ids`` (the
    other runs keep theirs)."""
    tables = run_files.read_runs(out, run_files.stored_runs(out))
    for path in run_files.runs_folder(out).glob("*.parquet"):
        path.unlink()
    ids = sorted(tables)
    run_files.write_runs(out, [(i, tables[i]) for i in ids],
                         [kind if i in run_ids else tables.kinds[i] for i in ids])
