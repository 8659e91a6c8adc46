"""``helixsim results FOLDER``: what any folder helixsim wrote holds, for people.

A folder is recognised by what its command leaves in it: ``_result.json`` (every batch
command since it was added: the command and its result as ``--json`` prints it); for older
folders ``_manifest.json`` (experiment, optimise), ``_job.json`` (run, compare, dividend; their
tables are recomputed from ``summary.parquet``), ``validation.json`` (validate),
``evaluations.parquet`` (calibrate) and ``posterior.parquet`` (posterior). ``summarise``
returns a ``Summary``: a few lines and a few tables (sensitivity indices and scenario-discovery
boxes with their rules in words included), which the command line prints as text tables and
``--json`` as data. The runs counted are the result's (``_result.json`` names them): runs of
an earlier model the folder keeps are counted apart (``other_runs``). A folder whose latest
job is running or was interrupted is summarised by that job's state alone: its tables and
``_result.json`` are then an earlier finished job's (the same command after a model change).
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from . import machine_kind, run_files
from .export import PER_MONTH, PER_YEAR, RESULT_FILE
from .ownership import JOB_FILE, MANIFEST_FILE, status
from .sensitivity import box_text

KINDS = ("run", "compare", "dividend", "experiment", "validate", "calibrate", "posterior",
         "optimise")
HEADLINE = ("welfare", "value_added", "jobs", "startups_alive", "alumni_employed",
            "graduate_retention_rate", "synergy_S")


@dataclass
class Summary:
    """What ``helixsim results`` prints: the kind of folder, lines, then titled tables."""

    folder: str
    command: str
    lines: list[str] = field(default_factory=list)
    tables: list[tuple[str, pd.DataFrame]] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def plain(self) -> dict[str, Any]:
        return {"folder": self.folder, "command": self.command, "lines": self.lines,
                "tables": {title: t.to_dict(orient="records") for title, t in self.tables},
                **self.data}


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ValueError(f"{path}: not readable as JSON ({err})") from None
    return data if isinstance(data, dict) else {}


def _records(rows: Any, columns: list[str] | None = None) -> pd.DataFrame:
    df = pd.DataFrame(rows or [])
    if columns:
        df = df[[c for c in columns if c in df.columns]]
    return df


def summarise(folder: Path) -> Summary:
    """The summary of a results folder; FileNotFoundError / ValueError (one line) otherwise."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder")
    batch: set[str] | None = None  # the runs the result is made of, when the folder says
    unfinished = _unfinished(folder)
    if unfinished is not None:
        s, batch = unfinished
    elif (folder / RESULT_FILE).is_file():
        record = _read_json(folder / RESULT_FILE)
        command = str(record.get("command", ""))
        s = _from_result(folder, command, record.get("result") or {})
        if isinstance(record.get("run_ids"), list):
            batch = {str(run_id) for run_id in record["run_ids"]}
    elif (folder / MANIFEST_FILE).is_file():
        info = _read_json(folder / MANIFEST_FILE)
        s = _old_optimise(folder, info) if _kind(info) == "optimise" else \
            _old_experiment(folder, info)
    elif (folder / JOB_FILE).is_file():
        s = _old_paired(folder, _read_json(folder / JOB_FILE))
    elif (folder / "validation.json").is_file():
        s = _from_result(folder, "validate", _read_json(folder / "validation.json"))
    elif (folder / "evaluations.parquet").is_file():
        s = Summary(str(folder), "calibrate", tables=[(
            "Evaluations (best first)",
            pd.read_parquet(folder / "evaluations.parquet").sort_values("objective").head(10))])
    elif (folder / "posterior.parquet").is_file():
        s = Summary(str(folder), "posterior", tables=[(
            "Posterior samples (first rows)", pd.read_parquet(folder / "posterior.parquet")
            .head(10))])
    else:
        raise ValueError(f"{folder}: not a helixsim results folder (none of {RESULT_FILE}, "
                         f"{MANIFEST_FILE}, {JOB_FILE}, validation.json, evaluations.parquet, "
                         "posterior.parquet)")
    where = run_files.index(folder)
    stored = set(where)
    mine = stored if batch is None else stored & batch
    kinds = Counter(where[run_id].kind or "unknown" for run_id in mine)
    s.lines += _files(folder, len(mine), len(stored - mine), kinds)
    s.data.setdefault("finished_runs", len(mine))
    if mine:
        s.data.setdefault("machine_kinds", dict(kinds))
    if batch is not None:
        s.data.setdefault("other_runs", len(stored - mine))
    return s


def _kind(info: dict[str, Any]) -> str | None:
    # Experiment manifests say "command", optimise manifests "kind".
    return info.get("command") or info.get("kind")


def _unfinished(folder: Path) -> tuple[Summary, set[str] | None] | None:
    """The folder's latest job when it has not finished (running, or interrupted: no live
    process holds it), as its state alone, with the run ids it plans when its record lists
    them; None when every job record the folder holds says finished (or none is readable).

    The tables such a folder holds (``_result.json``, ``summary.parquet``) are an earlier
    finished job's: shown beside an interrupted job's status they would pass for its result.
    """
    for name in (MANIFEST_FILE, JOB_FILE):
        path = folder / name
        if not path.is_file():
            continue
        try:
            info = _read_json(path)
        except ValueError:
            continue  # an unreadable record says nothing; the others may
        state = status(folder, info.get("status"))
        if state not in ("running", "interrupted"):
            continue
        command = str(_kind(info) or ("experiment" if name == MANIFEST_FILE else "run"))
        ids = info.get("run_ids")
        planned = info.get("runs")
        if not isinstance(planned, int) and isinstance(ids, list):
            planned = len(ids)  # a job file counts its runs by their ids (those planned so far)
        s = Summary(str(folder), command)
        s.lines.append(f"{command} {info.get('experiment')}: status {state}"
                       + (f", {'at most ' if command == 'optimise' else ''}{planned:,} runs "
                          "planned" if isinstance(planned, int) else ""))
        earlier = [n for n in (RESULT_FILE, "summary.parquet") if (folder / n).is_file()]
        if earlier:
            s.lines.append(f"{' and '.join(earlier)}: an earlier finished job's result, not "
                           "this one's, left out; run the same command again to finish it")
        s.data.update(status=state, planned_runs=planned)
        return s, ({str(i) for i in ids} if isinstance(ids, list) else None)
    return None


_KIND_ORDER = [*machine_kind.KINDS, "unknown"]


def _files(folder: Path, mine: int, others: int, kinds: Counter | None = None) -> list[str]:
    """Lines on the folder's files: ``mine`` runs stored of the result, ``others`` not;
    ``kinds``: the machine kinds the result's runs were made on, with their counts."""
    lines = []
    if (folder / "runs").is_dir():
        made = ""
        if kinds:
            made = ", made on " + " and ".join(
                f"{kind}" + (f" ({n:,})" if len(kinds) > 1 else "")
                for kind, n in sorted(kinds.items(), key=lambda kn: _KIND_ORDER.index(kn[0])))
            if len([k for k in kinds if k != "unknown"]) > 1:
                made += f" ({machine_kind.MIXED})"
        lines.append(f"runs stored: {mine:,} (runs/*.parquet){made}")
    if others:
        # A folder used again keeps every run stored in it: a model change gives new run ids
        # (they hash the model's source), so an earlier model's runs stay beside the new ones.
        lines.append(f"runs/ also holds {others:,} runs this result is not made of (of an "
                     "earlier model, or seeds it did not ask for): kept on disk, left out of "
                     "its tables and counts")
    failures = folder / "failures.json"
    if failures.is_file():
        try:
            n = len(json.loads(failures.read_text()))
        except (OSError, ValueError):
            n = 0
        if n:
            lines.append(f"failed runs: {n} (failures.json)")
    for name in (PER_YEAR, PER_MONTH):
        path = folder / f"{name}.parquet"
        if path.is_file():
            rows = len(pd.read_parquet(path, columns=["label"]))
            lines.append(f"{name.replace('_', '-')} table: {path.name} ({rows:,} rows)")
    export = folder / "export"
    if export.is_dir():
        lines.append("exported: " + ", ".join(sorted(p.name for p in export.iterdir())))
    if (folder / "report.md").is_file():
        lines.append(f"report: {folder / 'report.md'} (and report.html)")
    return lines


def _from_result(folder: Path, command: str, r: dict[str, Any]) -> Summary:
    s = Summary(str(folder), command)
    if command == "run":
        s.lines.append(f"scenario {r.get('scenario')}, {r.get('seeds')} seeds")
        rows = [x for x in r.get("final", []) if x.get("indicator") in HEADLINE]
        s.tables.append(("Final values: mean and 95% interval over seeds",
                         _records(rows, ["indicator", "mean", "low", "high", "n"])))
    elif command == "compare" and "differences" in r:
        s.lines.append(f"baseline {r.get('baseline')}, {r.get('seeds')} paired seeds")
        rows = [x for x in r["differences"] if x.get("indicator") in HEADLINE]
        s.tables.append(("Differences against the baseline (95% paired interval, Bonferroni)",
                         _records(rows, ["scenario", "indicator", "difference", "low", "high",
                                         "relative"])))
    elif command == "dividend" and "dividend" in r and "draws" not in r:
        s.lines.append(f"scenario {r.get('scenario')}, {r.get('seeds')} paired seeds")
        s.tables.append(("Ecological dividend D = scenario − siloed (95% paired interval)",
                         _records(r["dividend"], ["component", "helix", "dividend", "low",
                                                  "high", "relative"])))
        if r.get("shapley"):
            s.tables.append(("Shapley attribution of D(W) over channels",
                             _records(r["shapley"], ["channel", "mean", "low", "high",
                                                     "share"])))
    elif command in ("compare", "dividend"):  # under uncertainty
        s.lines.append(f"{r.get('draws')} parameter draws x {r.get('seeds')} seeds")
        if r.get("p_positive") is not None:
            s.lines.append(f"P(D(W) > 0) = {r['p_positive']:.2f}")
        for key, title in (("dividend", "Dividend over the parameter draws"),
                           ("options", "Options under uncertainty")):
            if r.get(key):
                s.tables.append((title, _records(r[key])))
        for b in r.get("sign_boxes", [])[:3]:
            s.lines.append(f"D < 0 when {b.get('rule')} ({b.get('density', 0):.0%} of "
                           f"{b.get('n')} draws)")
    elif command == "experiment":
        _experiment(s, folder, r)
    elif command == "validate":
        s.lines.append(f"{r.get('met')} of {r.get('total')} targets met")
        s.tables.append(("Calibration targets", _records(
            r.get("targets"), ["fact", "target", "simulated", "interval", "result"])))
    elif command == "calibrate":
        s.lines.append(f"objective {r.get('objective_before')} -> {r.get('objective')} in "
                       f"{r.get('evaluations')} evaluations; written: "
                       f"{r.get('written') or 'no'}")
        s.tables.append(("Fitted parameters", pd.DataFrame(
            [{"parameter": k, "start": (r.get("start") or {}).get(k), "fitted": v}
             for k, v in (r.get("best") or {}).items()])))
    elif command == "posterior":
        s.lines.append(f"{r.get('simulations')} simulations, {r.get('model_runs')} runs")
        s.tables.append(("Posterior against prior", _records(
            r.get("parameters"), ["parameter", "prior_low", "prior_high", "posterior_low",
                                  "posterior_high", "width_ratio", "reading"])))
    elif command == "optimise":
        s.lines.append(f"{r.get('pareto')} Pareto policies of {r.get('candidates')} "
                       "candidates")
        if r.get("pareto_set"):
            s.tables.append(("Pareto set (first 10)", _records(r["pareto_set"][:10])))
        for line in r.get("change", []):
            s.lines.append(f"recommended: {line}")
    else:
        raise ValueError(f"{folder}: {RESULT_FILE} names an unknown command {command!r}")
    return s


def _experiment(s: Summary, folder: Path, r: dict[str, Any]) -> None:
    manifest = folder / MANIFEST_FILE
    info = _read_json(manifest) if manifest.is_file() else {}
    s.data.update(planned_runs=r.get("runs"), experiment=r.get("experiment"),
                  design=r.get("design") or info.get("design"),
                  status=status(folder, info.get("status")))
    s.lines.append(f"experiment {r.get('experiment')}: {r.get('design') or info.get('design')} "
                   f"design, {r.get('points')} points, {r.get('runs')} runs "
                   f"({r.get('failed')} failed); status "
                   f"{status(folder, info.get('status')) or 'unknown'}")
    if r.get("levers"):
        s.tables.append(("Mean outputs per lever", _records(r["levers"])))
    if r.get("sensitivity"):
        df = pd.DataFrame(r["sensitivity"])
        key = "ST" if "ST" in df else "mu_star"
        columns = [c for c in ("lever", "output", "factor", "S1", "S1_conf", "ST", "ST_conf",
                               "mu_star", "mu_star_conf", "sigma") if c in df]
        df = df.sort_values(["lever", "output", key], ascending=[True, True, False])
        s.tables.append(("Sensitivity indices (every output, most influential first)",
                         df[columns]))
    elif r.get("indices"):
        for lever, rows in r["indices"].items():
            s.tables.append((f"Sensitivity indices of {r.get('analysed', 'the output')} "
                             f"({lever})", _records(rows)))
    boxes = r.get("boxes")
    if boxes is None and r.get("discovery"):
        boxes = [{"lever": lever, "box": i + 1, "rule": box_text(b.get("bounds")),
                  "coverage": b.get("coverage"), "density": b.get("density"),
                  "cases": b.get("n")}
                 for lever, rows in r["discovery"].items() for i, b in enumerate(rows)]
    if boxes:
        paired = any(" - " in str(b.get("lever")) for b in boxes)
        what = f"{r.get('analysed', 'the output')}{' difference' if paired else ''}"
        s.tables.append((f"Scenario discovery: where {what} > {r.get('threshold')}",
                         _records(boxes)))
    elif r.get("threshold") is not None:
        s.lines.append(f"scenario discovery: no box where {r.get('analysed')} > "
                       f"{r.get('threshold')}")


def _old_experiment(folder: Path, info: dict[str, Any]) -> Summary:
    s = Summary(str(folder), "experiment")
    s.lines.append(f"experiment {info.get('experiment')}: {info.get('design')} design, "
                   f"{info.get('points')} points, {info.get('runs')} runs planned; status "
                   f"{status(folder, info.get('status'))}")
    s.data.update(planned_runs=info.get("runs"), experiment=info.get("experiment"),
                  design=info.get("design"), status=status(folder, info.get("status")))
    summary = folder / "summary.parquet"
    if summary.is_file():
        df = pd.read_parquet(summary)
        outputs = [c for c in (*info.get("outputs", []), "dividend") if c in df]
        s.tables.append(("Mean outputs per lever", df.groupby("lever")[outputs].mean()
                         .reset_index()))
    return s


def _old_optimise(folder: Path, info: dict[str, Any]) -> Summary:
    s = Summary(str(folder), "optimise")
    s.lines.append(f"policy search {info.get('experiment') or info.get('name')}: status "
                   f"{status(folder, info.get('status'))}")
    pareto = folder / "pareto.parquet"
    if pareto.is_file():
        s.tables.append(("Pareto set (first 10)", pd.read_parquet(pareto).head(10)))
    return s


def _old_paired(folder: Path, job: dict[str, Any]) -> Summary:
    """A run, compare or dividend folder without ``_result.json``: its tables again from
    summary.parquet (the same functions as the command)."""
    from . import analysis

    command = str(job.get("command", "run"))
    s = Summary(str(folder), command)
    path = folder / "summary.parquet"
    if not path.is_file():
        s.lines.append(f"{command} {job.get('experiment')}: status {job.get('status')}; "
                       "no summary.parquet yet")
        return s
    summary = pd.read_parquet(path)
    labels = list(dict.fromkeys(summary["label"]))
    siloed = [lb for lb in labels if lb.endswith(" (siloed)")]
    s.lines.append(f"{command} {job.get('experiment')}: status {job.get('status')}; "
                   f"{summary['replication'].nunique()} seeds, {len(labels)} configurations")
    if command == "dividend" and siloed:
        scenario = siloed[0][: -len(" (siloed)")]
        table = analysis.dividend_table(summary, scenario, siloed[0])
        s.tables.append(("Ecological dividend D = scenario − siloed (95% paired interval)",
                         table[["component", "helix", "dividend", "low", "high", "relative"]]))
        configs = {tuple(ch == "1" for ch in lb[len(scenario) + 1:-1]): lb for lb in labels
                   if lb.startswith(f"{scenario}[") and lb.endswith("]")}
        if len(configs) == 2 ** len(analysis.CHANNELS):
            s.tables.append(("Shapley attribution of D(W) over channels",
                             analysis.shapley_table(summary, configs, "welfare")))
    else:
        rows = [{"configuration": lb, "indicator": ind,
                 "mean": float(analysis.finals(summary, lb, ind).mean())}
                for lb in labels for ind in HEADLINE if ind in summary]
        s.tables.append(("Final values: mean over seeds", pd.DataFrame(rows)))
    return s
