"""Running an experiment spec: design points x levers x replications, stored and analysed.

``plan`` turns a spec into a design table (one row per point) and run specifications; every
lever is evaluated on the same points and seeds (replication j uses the same seed everywhere),
so lever comparisons are paired. ``run_experiment`` executes the runs (process pool or Dask),
writes the results folder and a report:

    <out>/_manifest.json     versions, git commit, the spec, the design (pyarrow skips "_" files)
    <out>/design.parquet     one row per design point: factor values
    <out>/runs/*.parquet     one row per (run, month): every indicator (written by the workers)
    <out>/summary.parquet    one row per run: lever, point, replication, factors, outputs
    <out>/failures.json      runs that raised, with their error
    <out>/report.md|html     sensitivity indices, scenario discovery, figures

Re-running the same spec into the same folder runs only what is missing.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import json
import os
import socket
import sys
import time
from collections.abc import Mapping
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.parameters import ParameterError

from . import report, sensitivity
from .executors import executor_for
from .ownership import claim, fingerprint, release, status
from .runner import Progress, RunSet, RunSpec, model_version, run_many
from .specs import ExperimentSpec
from .storage import to_plain, write_json, write_parquet

SILOED = "siloed"


def design_table(spec: ExperimentSpec) -> pd.DataFrame:
    """One row per design point (column ``point``), one column per factor."""
    names = spec.factor_names
    if spec.design == "factorial":
        rows = list(itertools.product(*(f.levels for f in spec.factors)))
        x = pd.DataFrame(rows, columns=names)
    else:
        problem = sensitivity.problem([{"name": f.parameter, "low": f.low, "high": f.high}
                                       for f in spec.factors])
        if spec.design == "sobol":
            arr = sensitivity.sobol_sample(problem, spec.samples,
                                           second_order=spec.second_order, seed=spec.seed)
        elif spec.design == "morris":
            arr = sensitivity.morris_sample(problem, spec.samples, levels=spec.morris_levels,
                                            seed=spec.seed)
        else:
            arr = sensitivity.lhs_sample(problem, spec.samples, seed=spec.seed)
        x = pd.DataFrame(arr, columns=names)
    for f in spec.factors:
        if f.integer and f.parameter in x:
            x[f.parameter] = np.rint(x[f.parameter].astype(float)).astype(int)
    x.insert(0, "point", np.arange(len(x)))
    return x


def _point(spec: ExperimentSpec, changes: dict[str, Any]) -> Mapping[str, Any]:
    """The parameters of one design point: the scenario's resolved parameters with the
    point's changes (checked once, here, for all its replications). A point the table rejects
    stays a dict of overrides, so that its runs fail one by one as failures of the batch
    instead of stopping it."""
    try:
        return spec.scenario.parameters.replace(**changes)
    except ParameterError:
        return {**spec.scenario.overrides, **changes}


def plan(spec: ExperimentSpec) -> tuple[pd.DataFrame, list[RunSpec], pd.DataFrame]:
    """(design table, run specs, index of runs: run_id, lever, point, replication, siloed)."""
    x = design_table(spec)
    levers = spec.levers or (None,)
    specs: list[RunSpec] = []
    index = []
    for lever in levers:
        lever_name = lever.name if lever else "base"
        lever_params = lever.parameters if lever else {}
        for row in x.itertuples(index=False):
            point = int(row.point)
            values = {name: to_plain(getattr(row, name)) for name in spec.factor_names}
            params = _point(spec, {**lever_params, **values})
            variants = [(False, params)] + ([(True, _point(spec, {**lever_params, **values,
                                                                  "siloed": True}))]
                                            if spec.dividend else [])
            for siloed, p in variants:
                label = f"{lever_name}|{point}" + (f"|{SILOED}" if siloed else "")
                for j in range(spec.replications):
                    rs = RunSpec(label, p, j, spec.seed, spec.horizon)
                    specs.append(rs)
                    index.append({"run_id": rs.run_id, "label": label, "lever": lever_name,
                                  "point": point, "replication": j, "siloed": siloed})
    return x, specs, pd.DataFrame(index)


def summary_table(spec: ExperimentSpec, runs: RunSet, design: pd.DataFrame,
                  index: pd.DataFrame) -> pd.DataFrame:
    """One row per (lever, point, replication) of the integrated runs, with the outputs and,
    for a dividend experiment, ``dividend`` = welfare - welfare of the paired siloed run."""
    final = runs.summary[["label", "replication", *spec.outputs, "welfare"]]
    final = final.loc[:, ~final.columns.duplicated()]
    merged = index.merge(final, on=["label", "replication"], how="left")
    main = merged[~merged["siloed"]].drop(columns=["siloed"])
    if spec.dividend:
        sil = merged[merged["siloed"]][["lever", "point", "replication", "welfare"]]
        sil = sil.rename(columns={"welfare": "welfare_siloed"})
        main = main.merge(sil, on=["lever", "point", "replication"], how="left")
        main["dividend"] = main["welfare"] - main["welfare_siloed"]
    if "welfare" not in spec.outputs and "welfare" in main and not spec.dividend:
        main = main.drop(columns=["welfare"])
    main = main.merge(design, on="point", how="left")
    return main.sort_values(["lever", "point", "replication"]).reset_index(drop=True)


def analyse(spec: ExperimentSpec, summary: pd.DataFrame, design: pd.DataFrame
            ) -> dict[str, Any]:
    """Sensitivity indices (averaged over replications first) and scenario discovery."""
    out: dict[str, Any] = {"indices": {}, "second_order": {}, "discovery": {}}
    y_name = spec.analysed
    table = summary.pivot_table(index=["lever", "point"], columns="replication",
                                values=y_name, dropna=False)
    for lever, rows in summary.groupby("lever", sort=False):
        if lever == spec.reference or rows[y_name].isna().any():
            continue  # a failed run leaves a hole; indices need every point
        y = table.loc[lever].sort_index()
        if spec.reference is not None:
            # Paired: the same point and seed under the reference lever.
            y = y - table.loc[spec.reference].sort_index()
            lever = f"{lever} - {spec.reference}"
        y = y.to_numpy()
        y = sensitivity.average_replications(y)
        x = design.sort_values("point")[spec.factor_names]
        problem = sensitivity.problem([{"name": f.parameter, "low": f.low, "high": f.high}
                                       for f in spec.factors]) if spec.design in (
            "sobol", "morris") else None
        if spec.design == "sobol":
            first, second = sensitivity.sobol_indices(problem, y, second_order=spec.second_order,
                                                      seed=spec.seed)
            out["indices"][lever] = first
            if second is not None:
                out["second_order"][lever] = second
        elif spec.design == "morris":
            out["indices"][lever] = sensitivity.morris_indices(
                problem, x.to_numpy(dtype=float), y, levels=spec.morris_levels, seed=spec.seed)
        if spec.threshold is not None:
            out["discovery"][lever] = sensitivity.discover(x.reset_index(drop=True), y,
                                                           spec.threshold)
    return out


def lever_table(spec: ExperimentSpec, summary: pd.DataFrame) -> pd.DataFrame:
    """Mean of each output per lever, over points and replications."""
    cols = [*spec.outputs] + (["dividend"] if spec.dividend else [])
    return summary.groupby("lever", sort=False)[cols].mean().reset_index()


def point_table(spec: ExperimentSpec, summary: pd.DataFrame, limit: int = 200
                ) -> pd.DataFrame:
    """Mean of each output per lever and design point, with the factor values."""
    cols = [*spec.outputs] + (["dividend"] if spec.dividend else [])
    keys = ["lever", "point", *spec.factor_names]
    return summary.groupby(keys, sort=False)[cols].mean().reset_index().head(limit)


def manifest(spec: ExperimentSpec, design: pd.DataFrame, n_runs: int, extra: dict) -> dict:
    return {
        "command": "experiment", "fingerprint": job_fingerprint(spec),
        "argv": sys.argv, "pid": os.getpid(), "host": socket.gethostname(),
        "experiment": spec.name, "description": spec.description, "spec_file": str(spec.path),
        "spec": spec.text, "design": spec.design, "factors": spec.factor_names,
        "levers": [lv.name for lv in spec.levers], "replications": spec.replications,
        "seed": spec.seed, "horizon_months": spec.horizon, "outputs": list(spec.outputs),
        "options": spec.options,
        "dividend": spec.dividend, "points": len(design), "runs": n_runs,
        "design_table": design.to_dict(orient="list"),
        "versions": {**report.environment_meta()["versions"], "model": model_version()},
        "created": _dt.datetime.now().isoformat(timespec="seconds"), **extra,
    }


def job_fingerprint(spec: ExperimentSpec) -> str:
    """What makes two runs of ``helixsim experiment`` the same job (ownership.claim)."""
    parts = ["experiment", spec.text, spec.scenario.overrides, spec.horizon]
    # Command-line options change the job; without them the fingerprint is as it always was,
    # so folders written before the options existed still resume.
    return fingerprint(*parts, *([spec.options] if spec.options else []))


def run_experiment(spec: ExperimentSpec, *, out: Path, workers: int | None = None,
                   scheduler: str | None = None, progress: Progress | None = None
                   ) -> dict[str, Any]:
    """Run (or resume) an experiment into ``out``; returns a summary for the command line.

    ``out`` must be empty, or hold this same experiment (resumed): another job's folder is
    refused with ``FolderInUseError`` before anything is written (see ownership.py).
    """
    claim(out, command="experiment", name=spec.name, job=job_fingerprint(spec))
    try:
        return _run_experiment(spec, out=out, workers=workers, scheduler=scheduler,
                               progress=progress)
    finally:
        release(out)


def _run_experiment(spec: ExperimentSpec, *, out: Path, workers: int | None,
                    scheduler: str | None, progress: Progress | None) -> dict[str, Any]:
    started = time.perf_counter()
    design, specs, index = plan(spec)
    # Without a scheduler run_many sizes its own pool to the runs still to do. The executor
    # comes first, so a scheduler that cannot be reached leaves nothing written.
    with executor_for(scheduler, workers) if scheduler else nullcontext() as executor:
        write_parquet(design, out / "design.parquet")
        write_json(manifest(spec, design, len(specs), {"status": "running"}),
                   out / "_manifest.json")
        runs = run_many(specs, workers=workers, out_dir=out, executor=executor,
                        progress=progress)
    summary = summary_table(spec, runs, design, index)
    write_parquet(summary, out / "summary.parquet")
    results = analyse(spec, summary, design)
    levers = lever_table(spec, summary)
    meta = report.run_meta("experiment", spec.replications, workers, started,
                           experiment=spec.name, design=spec.design, points=len(design),
                           runs=len(specs), failed=len(runs.failures),
                           scheduler=scheduler or "process pool")
    write_json(manifest(spec, design, len(specs), {
        "status": "complete" if not runs.failures else "complete with failures",
        "failed": len(runs.failures), "elapsed_s": meta["elapsed_s"],
        "git_commit": meta["git_commit"]}), out / "_manifest.json")
    sections = [report.Section(
        f"Experiment {spec.name}",
        f"{spec.description}\n\nBase scenario **{spec.scenario.name}**; {spec.design} design "
        f"with {len(design)} points x {max(len(spec.levers), 1)} lever setting(s) x "
        f"{spec.replications} replications = {len(specs)} runs ({len(runs.failures)} failed).",
        tables=[("Mean outputs per lever", levers),
                ("Mean outputs per design point (over replications)",
                 point_table(spec, summary))])]
    for lever, table in results["indices"].items():
        value, conf, second = ("ST", "ST_conf", "S1") if spec.design == "sobol" else (
            "mu_star", "mu_star_conf", "sigma")
        sections.append(report.Section(
            f"Sensitivity of {spec.analysed} ({lever})",
            "Indices from the outputs averaged over replications; conf = half-width of the 95% "
            "bootstrap interval.",
            tables=[("Indices", table)] + ([("Second-order indices",
                                              results["second_order"][lever])]
                                            if lever in results["second_order"] else []),
            figures=[(f"sensitivity_{_slug(lever)}.png", f"Ranked {value}",
                      sensitivity.ranked_bars(table, value, conf,
                                              f"{spec.analysed}: {value} ({lever})",
                                              secondary=second))]))
    for lever, boxes in results["discovery"].items():
        sections.append(report.Section(
            f"Where {spec.analysed} > {spec.threshold:g} ({lever})" if " - " not in lever else
            f"Where {lever} pays off: {spec.analysed} difference > {spec.threshold:g}",
            "Boxes of the factor space found by a shallow decision tree: coverage is the share "
            "of all cases above the threshold inside the box, density the share of the box's "
            "cases above the threshold.", tables=[("Boxes", boxes)]))
    path = report.write_report(out, f"Experiment {spec.name}", sections, meta)
    return {"experiment": spec.name, "runs": len(specs), "failed": len(runs.failures),
            "points": len(design), "report": str(path), "folder": str(out),
            "levers": levers.to_dict(orient="records"),
            "indices": {k: v.to_dict(orient="records") for k, v in results["indices"].items()},
            "discovery": {k: v.to_dict(orient="records")
                          for k, v in results["discovery"].items()},
            "failures": [{"label": f.spec.label, "replication": f.spec.replication,
                          "error": f.error.strip().splitlines()[-1]} for f in runs.failures],
            "meta": meta}


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text).strip("_") or "x"


def results_summary(folder: Path) -> dict[str, Any]:
    """What a results folder holds: the manifest, run counts, failures, outputs per lever."""
    manifest_file = folder / "_manifest.json"
    if not manifest_file.is_file():
        raise FileNotFoundError(f"{folder}: no _manifest.json: not a helixsim results folder")
    info = json.loads(manifest_file.read_text())
    runs_dir = folder / "runs"
    done = len(list(runs_dir.glob("*.parquet"))) if runs_dir.is_dir() else 0
    failures_file = folder / "failures.json"
    failures = json.loads(failures_file.read_text()) if failures_file.is_file() else []
    out: dict[str, Any] = {"folder": str(folder), "experiment": info.get("experiment"),
                           "design": info.get("design"),
                           "status": status(folder, info.get("status")),
                           "planned_runs": info.get("runs"), "finished_runs": done,
                           "failed_runs": len(failures)}
    summary_file = folder / "summary.parquet"
    if summary_file.is_file():
        summary = pd.read_parquet(summary_file)
        outputs = [c for c in (*info.get("outputs", []), "dividend") if c in summary]
        stats = summary.groupby("lever")[outputs].agg(["mean", "std"]).round(4)
        stats.columns = [f"{a}_{b}" for a, b in stats.columns]
        out["per_lever"] = stats.reset_index().to_dict(orient="records")
    return out
