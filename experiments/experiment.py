"""Running an experiment spec: design points x levers x replications, stored and analysed.

``plan`` turns a spec into a design table (one row per point) and run specifications; every
lever is evaluated on the same points and seeds (replication j uses the same seed everywhere),
so lever comparisons are paired. ``run_experiment`` executes the runs (process pool or Dask),
writes the results folder and a report:

    <out>/_manifest.json     versions, git commit, the spec, the design (pyarrow skips "_" files)
    <out>/design.parquet     one row per design point: factor values
    <out>/runs/*.parquet     one row per (run, month): every indicator (several runs a file)
    <out>/summary.parquet    one row per run: lever, point, replication, factors, outputs
    <out>/failures.json      runs that raised, with their error
    <out>/report.md|html     sensitivity indices, scenario discovery, figures

Re-running the same spec into the same folder runs only what is missing.
"""

from __future__ import annotations

import datetime as _dt
import itertools
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
from scipy import stats

from simulation.indicators import INDICATORS
from simulation.parameters import ParameterError

from . import design_figures, machine_kind, report, run_files, sensitivity
from .executors import executor_for
from .formatting import format_number, format_percent
from .ownership import MANIFEST_FILE, claim, fingerprint, release
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
    """Sensitivity indices (averaged over replications first) of every output and scenario
    discovery of the analysed one.

    ``indices[lever]`` is the analysed output's table (as before); ``by_output[lever]`` maps
    every output (the analysed one included) to its table; ``discovery[lever]`` the boxes and
    ``discovery_cases[lever]`` the (x, y) they were found on, for the figure.
    """
    out: dict[str, Any] = {"indices": {}, "second_order": {}, "discovery": {},
                           "by_output": {}, "discovery_cases": {}}
    outputs = list(dict.fromkeys([spec.analysed, *spec.outputs,
                                  *(["dividend"] if spec.dividend else [])]))
    problem = sensitivity.problem([{"name": f.parameter, "low": f.low, "high": f.high}
                                   for f in spec.factors]) if spec.design in (
        "sobol", "morris") else None
    x = design.sort_values("point")[spec.factor_names]
    levers = [lv for lv in dict.fromkeys(summary["lever"]) if lv != spec.reference]
    for lever in levers:
        key = lever if spec.reference is None else f"{lever} - {spec.reference}"
        for output in outputs:
            y = _point_outputs(spec, summary, lever, output)
            if y is None:
                continue  # a failed run leaves a hole; indices need every point
            table = None
            if spec.design == "sobol":
                try:
                    table, second = sensitivity.sobol_indices(
                        problem, y, second_order=spec.second_order, seed=spec.seed)
                except ValueError:  # a constant output: its indices are undefined
                    table, second = None, None
                if output == spec.analysed and second is not None:
                    out["second_order"][key] = second
            elif spec.design == "morris":
                table = sensitivity.morris_indices(problem, x.to_numpy(dtype=float), y,
                                                   levels=spec.morris_levels, seed=spec.seed)
            if table is not None:
                out["by_output"].setdefault(key, {})[output] = table
                if output == spec.analysed:
                    out["indices"][key] = table
            if output == spec.analysed and spec.threshold is not None:
                cases = x.reset_index(drop=True)
                out["discovery"][key] = sensitivity.discover(cases, y, spec.threshold)
                out["discovery_cases"][key] = (cases, sensitivity.average_replications(y))
    return out


def _point_outputs(spec: ExperimentSpec, summary: pd.DataFrame, lever: str, output: str
                   ) -> np.ndarray | None:
    """(points, replications) of one output of one lever, minus the reference lever's on the
    same point and seed when the spec names one; None when a run is missing."""
    if output not in summary:
        return None
    table = summary.pivot_table(index=["lever", "point"], columns="replication",
                                values=output, dropna=False)
    if summary.loc[summary["lever"] == lever, output].isna().any():
        return None
    y = table.loc[lever].sort_index()
    if spec.reference is not None:
        y = y - table.loc[spec.reference].sort_index()
    return y.to_numpy()


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


def for_people(table: pd.DataFrame) -> pd.DataFrame:
    """A table of means with headers for people: outputs by their labels with units, factors
    (parameters) with their units; the raw names stay in the CSV and Parquet files."""
    heads = {"lever": "Lever setting", "point": "Design point"}
    return table.rename(columns={c: heads.get(c) or (
        design_figures.output_label(c) if c == "dividend" or c in INDICATORS
        else design_figures.factor_label(c)) for c in table.columns})


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
                   scheduler: str | None = None, progress: Progress | None = None,
                   complete: bool = True) -> dict[str, Any]:
    """Run (or resume) an experiment into ``out``; returns a summary for the command line.

    ``out`` must be empty, or hold this same experiment (resumed): another job's folder is
    refused with ``FolderInUseError`` before anything is written (see ownership.py).

    With ``complete=False`` the manifest is left "running" and the folder held, and the
    result's ``_complete`` marks it complete and gives the folder back: a caller that writes
    more into the folder afterwards (the command line: per_year.parquet, ``_result.json``)
    calls it when that is written, so the folder never says complete before it holds all of
    it. A kill in between leaves "running", which ``helixsim results`` shows as interrupted.
    """
    claim(out, command="experiment", name=spec.name, job=job_fingerprint(spec))
    held = False
    try:
        result = _run_experiment(spec, out=out, workers=workers, scheduler=scheduler,
                                 progress=progress)
        mark = result.pop("_complete")
        if complete:
            mark()
            return result
        held = True

        def finish() -> None:
            try:
                mark()
            finally:
                release(out)
        return {**result, "_complete": finish}
    finally:
        if not held:
            release(out)


def _run_experiment(spec: ExperimentSpec, *, out: Path, workers: int | None,
                    scheduler: str | None, progress: Progress | None) -> dict[str, Any]:
    """The experiment's runs, tables and report; the manifest still says "running": the
    result's ``_complete`` marks it complete."""
    started = time.perf_counter()
    design, specs, index = plan(spec)
    # The runs the folder holds already, read once, before anything is written: a run file
    # this version cannot read is refused (RunFileError) and the folder left as it was.
    stored = run_files.read_runs(out, [s.run_id for s in specs])
    # Without a scheduler run_many sizes its own pool to the runs still to do. The executor
    # comes first, so a scheduler that cannot be reached leaves nothing written.
    with executor_for(scheduler, workers) if scheduler else nullcontext() as executor:
        write_parquet(design, out / "design.parquet")
        # The planned run ids, so that an interrupted job counts its own runs apart from
        # those an earlier model left in runs/ (summaries).
        write_json(manifest(spec, design, len(specs), {
            "status": "running", "run_ids": [s.run_id for s in specs]}), out / MANIFEST_FILE)
        runs = run_many(specs, workers=workers, out_dir=out, executor=executor,
                        progress=progress, stored=stored)
    summary = summary_table(spec, runs, design, index)
    write_parquet(summary, out / "summary.parquet")
    results = analyse(spec, summary, design)
    levers = lever_table(spec, summary)
    meta = report.run_meta("experiment", spec.replications, workers, started,
                           kinds=runs.kinds, experiment=spec.name, design=spec.design,
                           points=len(design), runs=len(specs), failed=len(runs.failures),
                           scheduler=scheduler or "process pool")
    sections = [summary_section(spec, summary, results), report.Section(
        f"Experiment {spec.name}",
        f"{spec.description}\n\nBase scenario **{spec.scenario.name}**; {spec.design} design "
        f"with {len(design)} points x {max(len(spec.levers), 1)} lever setting(s) x "
        f"{spec.replications} replications = {len(specs)} runs ({len(runs.failures)} failed).",
        tables=[("Mean outputs per lever", for_people(levers)),
                ("Mean outputs per design point (over replications)",
                 for_people(point_table(spec, summary)))],
        data=[("means_per_lever.csv", levers),
              ("means_per_point.csv", point_table(spec, summary))])]
    sections += design_sections(spec, summary, results)
    path = report.write_report(out, f"Experiment {spec.name}", sections, meta)
    # Complete once the report (and whatever the caller writes after) is there: a kill before
    # leaves "running", which results shows as interrupted and the same command finishes,
    # never "complete" with no report.
    def mark_complete() -> None:
        write_json(manifest(spec, design, len(specs), {
            "status": "complete" if not runs.failures else "complete with failures",
            "failed": len(runs.failures), "elapsed_s": meta["elapsed_s"],
            "git_commit": meta["git_commit"],
            "machine_kinds": machine_kind.known(runs.kinds)}), out / MANIFEST_FILE)
    return {"_complete": mark_complete,
            "experiment": spec.name, "runs": len(specs), "failed": len(runs.failures),
            "points": len(design), "report": str(path), "folder": str(out),
            "levers": levers.to_dict(orient="records"),
            "analysed": spec.analysed, "design": spec.design, "threshold": spec.threshold,
            "indices": {k: v.to_dict(orient="records") for k, v in results["indices"].items()},
            "sensitivity": [{"lever": lever, "output": output, **row}
                            for lever, tables in results["by_output"].items()
                            for output, table in tables.items()
                            for row in table.to_dict(orient="records")],
            "discovery": {k: v.to_dict(orient="records")
                          for k, v in results["discovery"].items()},
            "boxes": [{"lever": lever, "box": i + 1, "rule": sensitivity.box_text(r["bounds"]),
                       "coverage": r["coverage"], "density": r["density"], "cases": r["n"]}
                      for lever, boxes in results["discovery"].items()
                      for i, r in enumerate(boxes.to_dict(orient="records"))],
            "failures": [{"label": f.spec.label, "replication": f.spec.replication,
                          "error": f.error.strip().splitlines()[-1]} for f in runs.failures],
            "meta": meta, "_run_ids": runs.run_ids}


def _ranked_effects(spec: ExperimentSpec, summary: pd.DataFrame, results: dict[str, Any],
                    lever: str, key: str, output: str) -> list[tuple[str, float, bool, str]]:
    """(factor, size, clear of zero, how it was measured) for one output, largest first:
    μ* for Morris and ST for Sobol (clear when the bootstrap interval excludes 0), the rank
    correlation over the design points for sweeps and hypercubes (clear beyond its rough 95%
    bound under no effect, Bonferroni over the factors; a U-shaped response has none)."""
    table = results["by_output"].get(key, {}).get(output)
    if spec.design == "morris" and table is not None:
        rows = [(r.factor, float(r.mu_star), float(r.mu_star) - float(r.mu_star_conf) > 0,
                 "μ*") for r in table.itertuples()]
    elif spec.design == "sobol" and table is not None:
        rows = [(r.factor, float(r.ST), float(r.ST) - float(r.ST_conf) > 0, "total index ST")
                for r in table.itertuples()]
    elif spec.design in ("factorial", "lhs") and output in summary:
        means = summary[summary["lever"] == lever].groupby("point")[
            [*spec.factor_names, output]].mean()
        n = len(means)
        # |rho| beyond z / sqrt(n - 1), Bonferroni over the factors: the rough 95% bound of a
        # rank correlation under no effect.
        z = float(stats.norm.ppf(1 - 0.025 / max(len(spec.factor_names), 1)))
        bound = z / np.sqrt(max(n - 1, 1))
        rows = []
        varies = means.nunique() > 1  # a constant column has no rank correlation
        for factor in spec.factor_names:
            rho = (means[factor].corr(means[output], method="spearman")
                   if n > 2 and varies[factor] and varies[output] else np.nan)
            if np.isfinite(rho):
                rows.append((factor, float(rho), abs(rho) > bound, "rank correlation"))
    else:
        return []
    return sorted(rows, key=lambda r: -abs(r[1]))


def summary_section(spec: ExperimentSpec, summary: pd.DataFrame, results: dict[str, Any]
                    ) -> report.Section:
    """The report's opening summary, in words generated from the numbers: which factor moves
    each output most, whether any effect is clear of the replications' noise, and the
    scenario-discovery box, then what the estimate rests on."""
    outputs = list(dict.fromkeys([spec.analysed, *spec.outputs,
                                  *(["dividend"] if spec.dividend else [])]))[:4]
    levers = [lv for lv in dict.fromkeys(summary["lever"].dropna()) if lv != spec.reference]
    lever = levers[0] if levers else None
    key = lever if lever is None or spec.reference is None else f"{lever} - {spec.reference}"
    paragraphs = [f"{spec.design.capitalize()} design over {len(spec.factor_names)} factors "
                  f"({', '.join(spec.factor_names)}) of **{spec.scenario.name}**, "
                  f"{spec.replications} replications per point."]
    for output in outputs:
        label = design_figures.output_label(output)
        ranked = _ranked_effects(spec, summary, results, lever, key, output) if lever else []
        if not ranked:
            continue
        clear = [r for r in ranked if r[2]]
        if not clear:
            paragraphs.append(f"{label}: no factor's effect is distinguishable from the noise "
                              f"of {spec.replications} replications ({ranked[0][3]}).")
            continue
        words = []
        for factor, size, _, how in clear[:2]:
            if how == "rank correlation":
                words.append(f"{factor} ({'rises' if size > 0 else 'falls'} with it: "
                             f"{how} {format_number(size, 2, signed=True)})")
            else:
                words.append(f"{factor} ({how} {format_number(size)})")
        rest = len(ranked) - len(clear)
        tail = f"; {rest} other factor(s) show no clear effect" if rest else ""
        paragraphs.append(f"{label} responds most to {' and then '.join(words)}{tail}.")
    boxes = results["discovery"].get(key) if key else None
    if boxes is not None and len(boxes):
        best = boxes.iloc[0]
        paragraphs.append(
            f"{design_figures.output_label(spec.analysed)} exceeds {format_number(spec.threshold)}"
            f" mostly where {sensitivity.box_text(best['bounds'])}: that box holds "
            f"{format_percent(best['coverage'])} of those cases, and "
            f"{format_percent(best['density'])} of its cases exceed it.")
    paragraphs.append(
        "This rests on: the factor ranges of the spec (every other parameter at the "
        "scenario's value); "
        f"{spec.replications} replications per point, so small effects can hide in the noise; "
        "behavioural effect sizes that are assumed rather than measured (marked \"Assumed\" "
        "in the parameter table, `helixsim params`); MCU = million currency units.")
    return report.Section("Summary", "\n\n".join(paragraphs))


def design_sections(spec: ExperimentSpec, summary: pd.DataFrame, results: dict[str, Any]
                    ) -> list[report.Section]:
    """The report's sections of what the design is for: partial dependence (and a response
    surface) for sweeps and hypercubes, μ*–σ for Morris, S1/ST for Sobol, discovery boxes."""
    sections: list[report.Section] = []
    outputs = [*spec.outputs, *(["dividend"] if spec.dividend else [])]
    main = summary[~summary["lever"].isna()]
    if spec.design in ("factorial", "lhs"):
        factorial = spec.design == "factorial"
        how = ("the mean over the other factors' levels, the replications and the points at "
               "each level of the factor (its main effect)" if factorial else
               f"the mean over the design points in each of {design_figures.BINS} equal-count "
               "bins of the factor's range (drawn at the bin's centre), the other factors "
               "varying as sampled")
        figures = [(f"partial_dependence_{_slug(o)}.png",
                    f"Partial dependence of {design_figures.output_label(o)}: {how}; one line "
                    "per lever setting, band = 95% interval of the mean. A steep line is a "
                    "factor that moves the output; a flat one does not.",
                    design_figures.partial_dependence(
                        main, spec.factor_names, o, factorial=factorial,
                        title=f"{spec.name}: {design_figures.output_label(o)}"))
                   for o in outputs if o in main]
        if factorial and len(spec.factors) >= 2:
            o = spec.analysed
            figures.append((f"response_surface_{_slug(o)}.png",
                            f"Response surface of {design_figures.output_label(o)} over "
                            f"{spec.factor_names[0]} and {spec.factor_names[1]} (mean over "
                            "replications and any other factors; first lever setting). Read "
                            "along a row or column for one factor's effect at a level of "
                            "the other; parallel colour bands mean no interaction.",
                            design_figures.response_surface(
                                main, spec.factor_names, o,
                                title=f"{spec.name}: {design_figures.output_label(o)}")))
        sections.append(report.Section(
            "How the outputs respond to the factors",
            "Each output against each factor of the design.", figures=figures))
    for lever, tables in results["by_output"].items():
        if spec.design == "morris":
            rows = pd.concat([t.assign(output=o) for o, t in tables.items()],
                             ignore_index=True)
            sections.append(report.Section(
                f"Morris screening ({lever})",
                "Elementary effects are output changes over each factor's whole range, in the "
                "output's unit; μ* ranks influence, σ flags interactions or non-linearity; "
                "conf = half-width of the 95% bootstrap interval of μ*.",
                tables=[("Morris indices of every output", rows)],
                figures=[(f"morris_{_slug(lever)}.png",
                          f"μ*–σ plane of every output ({lever}): factors to the right move the "
                          "output most; factors above the dashed line σ = μ* act through "
                          "interactions or non-linearly; factors near the origin can be fixed.",
                          design_figures.morris_plot(
                              tables, title=f"{spec.name}: Morris screening ({lever})"))]))
        elif spec.design == "sobol":
            sections.append(report.Section(
                f"Sobol' indices ({lever})",
                "S1: the share of the output's variance a factor explains alone; ST: with all "
                "its interactions; bars ± the 95% bootstrap interval. ST well above S1 means "
                "the factor acts through interactions; intervals reaching below 0 are noise "
                "around 0.",
                tables=[(f"Sobol' indices of {o}", t) for o, t in tables.items()]
                + ([("Second-order indices", results["second_order"][lever])]
                   if lever in results["second_order"] else []),
                figures=[(f"sobol_{_slug(lever)}_{_slug(o)}.png",
                          f"Sobol' indices of {design_figures.output_label(o)} ({lever}), "
                          "ranked by ST.",
                          design_figures.sobol_plot(
                              t, title=f"{design_figures.output_label(o)}: S1 and ST ({lever})"))
                         for o, t in tables.items()]))
    for lever, boxes in results["discovery"].items():
        x, y = results["discovery_cases"][lever]
        readable = pd.DataFrame({
            "box": range(1, len(boxes) + 1),
            "rule": [sensitivity.box_text(b) for b in boxes["bounds"]],
            "coverage": [format_percent(v, digits=3) for v in boxes["coverage"]],
            "density": [format_percent(v, digits=3) for v in boxes["density"]],
            "cases": boxes["n"].to_numpy()})
        what = (f"Where {spec.analysed} > {spec.threshold:g} ({lever})" if " - " not in lever
                else f"Where {lever} pays off: {spec.analysed} difference > "
                     f"{spec.threshold:g}")
        sections.append(report.Section(
            what,
            "Boxes of the factor space found by a shallow decision tree: coverage is the share "
            "of all cases above the threshold inside the box, density the share of the box's "
            "cases above the threshold (to compare with the base rate, the share of all cases "
            "above it).", tables=[("Boxes", readable)],
            figures=[(f"discovery_{_slug(lever)}.png",
                      f"{what}: coverage and density of each box against the base rate (left); "
                      "the cases in the plane of the best box's first two factors, the box "
                      "drawn (right).",
                      design_figures.discovery_plot(
                          boxes, x, y, spec.threshold, output=spec.analysed,
                          title=f"{spec.name}: {what}"))] if len(boxes) else []))
    return sections


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text).strip("_") or "x"
