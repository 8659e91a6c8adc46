"""The ``helixsim`` command line.

- ``helixsim scenarios`` lists the scenario library; ``helixsim check FILE`` validates one.
- ``helixsim run SCENARIO`` runs seeds in parallel and writes per-step indicators and a report.
- ``helixsim compare A B [C ...]`` compares scenarios with the first on paired seeds.
- ``helixsim dividend SCENARIO [--attribution]`` estimates the ecological dividend against the
  siloed counterfactual, optionally attributed to the channels by Shapley values;
  ``--uncertainty N`` (on ``compare`` too) repeats it over N parameter draws from the priors.
- ``helixsim validate`` checks the default region against the calibration targets of the ODD
  (exit code 0 only when every target is met, 1 when one is not); ``helixsim calibrate`` fits
  the free parameters to them and writes the calibrated defaults to the parameter table;
  ``helixsim posterior`` gives them posterior distributions (what the targets pin down).
- ``helixsim experiment SPEC`` runs a design; ``helixsim optimise SPEC`` a robust policy search;
  ``helixsim results FOLDER`` summarises any folder these commands write.
- Every batch command prints its plan first (runs and an estimate of the time;
  ``--dry-run`` stops there), writes per-year tables (``--per-month`` adds months) and, with
  ``--export csv,xlsx``, CSV and Excel copies of its tables (experiments.export).
- ``helixsim demo`` runs the default region once; ``helixsim params`` prints the parameters.
- ``helixsim dashboard`` serves the stakeholder dashboard on 127.0.0.1 (``--host``, ``--port``).

Bad input (a scenario file, an option) gives one line on stderr and exit code 2, and nothing is
written. ``--json`` prints a machine-readable result on stdout.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from experiments.seeding import CALIBRATION_SEED, ROOT_SEED
from experiments.storage import to_plain
from simulation.errors import InputFileError

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="helixsim: the ecological dividend of industry-university-government "
                       "integration.")

@app.command()
def demo(seed: int = typer.Option(1, help="Seed of the run."),
         years: int = typer.Option(10, min=1, max=100, help="Years to simulate.")) -> None:
    """Run the default region and print the main indicators at years 0, 5 and 10."""
    from experiments.report import MAIN_INDICATORS
    from simulation.model import EcosystemModel

    console = Console()
    months = 12 * years
    started = time.perf_counter()
    model = EcosystemModel(rng=seed, horizon_months=months)
    with console.status(f"simulating {years} years of the default region..."):
        model.run()
    elapsed = time.perf_counter() - started
    df = model.dataframe()
    marks = sorted({0, months // 2, months})
    table = Table(title=f"Default region, seed {seed} ({elapsed:.2f} s)")
    table.add_column("indicator")
    for m in marks:
        table.add_column(f"year {m / 12:g}", justify="right")
    for key, label, fmt in MAIN_INDICATORS:
        table.add_row(label, *(fmt.format(df.loc[m, key]) for m in marks))
    console.print(table)
    console.print("Year N is the state after 12N months; month 1 is September, so year-end "
                  "rows fall in August,\nafter June graduation and before the September intake.",
                  style="dim")


@app.command()
def params() -> None:
    """Print the parameter table (Markdown): unit, range, default and source of each."""
    from simulation.parameters import markdown_table

    sys.stdout.write(markdown_table())


# --- scenarios and batch commands ------------------------------------------------------------

SEEDS = typer.Option(8, "--seeds", min=2, max=10_000, help="Paired replications (seeds).")
WORKERS = typer.Option(None, "--workers", min=1, max=512,
                       help="Worker processes (default: all cores).")
def _parse_out(text: str) -> Path:
    """--out as typed: an empty text would be the current folder, so it is refused."""
    if not text.strip():
        raise _fail("--out: expected a folder, got an empty name (use --out . for the current "
                    "folder)")
    return Path(text)


OUT = typer.Option(None, "--out", parser=_parse_out,
                   help="Report folder (default: results/<command>-<name>).")
JSON = typer.Option(False, "--json", help="Print a machine-readable result on stdout.")
SEED = typer.Option(ROOT_SEED, "--seed", min=0, help="Root seed of the replications.")
MONTHS = typer.Option(None, "--months", min=1, max=1200,
                      help="Horizon in months (default: the scenario's, 120).")
# dividend and compare: seeds per parameter draw under --uncertainty (2 tell seed noise from
# parameter uncertainty at the least cost), 8 otherwise.
PAIRED_SEEDS = typer.Option(None, "--seeds", min=2, max=10_000,
                            help="Paired replications (seeds); default 8, or 2 per parameter "
                                 "draw with --uncertainty.")
UNCERTAINTY = typer.Option(None, "--uncertainty", metavar="N",
                           help="N parameter draws from the priors (docs/parameters.md), each "
                                "run on the same seeds: the report gives the dividend's "
                                "distribution, P(D > 0) and what decides it.")
POSTERIOR = typer.Option(None, "--posterior",
                         help="With --uncertainty: a Parquet file of weighted posterior "
                              "samples (one column per parameter plus weight) that replaces "
                              "the priors of its parameters.")
DRY_RUN = typer.Option(False, "--dry-run",
                       help="Check the inputs, print how many runs the command would make and "
                            "an estimate of the time, and stop: nothing is run or written.")
PER_MONTH = typer.Option(False, "--per-month",
                         help="Also write per_month.parquet: every indicator month by month "
                              "(mean over seeds), next to per_year.parquet.")
EXPORT = typer.Option(None, "--export", metavar="FORMATS",
                      help="Also write the per-year (and per-month) tables and the result "
                           "tables as csv, xlsx or csv,xlsx in export/ (one Excel sheet per "
                           "table, units in the headers).")


def _uncertainty_options(draws: int | None, posterior: Path | None) -> None:
    """One-line errors for the uncertainty options before anything runs."""
    if draws is not None and draws < 1:
        raise _fail(f"--uncertainty {draws}: expected a number of parameter draws >= 1")
    if draws is None and posterior is not None:
        raise _fail("--posterior needs --uncertainty N")


def _formats(text: str | None) -> tuple[str, ...]:
    """--export as given, checked before anything runs (exit 2, one line)."""
    from experiments.export import parse_formats

    try:
        return parse_formats(text)
    except ValueError as err:
        raise _fail(str(err)) from None


def _announce(text: str) -> None:
    Console(stderr=True, highlight=False, soft_wrap=True).print(f"plan: {text}", markup=False)


_PENDING_PLAN: list[str] = []  # the plan line of the command being run, until _execute prints it


def _plan(runs: int, what: str, *, region=None, horizon: int = 120,
          workers: int | None = None, dry_run: bool = False, as_json: bool = False,
          at_most: bool = False) -> dict:
    """The one plan every batch command prints before it starts: the number of runs and an
    estimate of the time (experiments.planning: a short timing of ``region`` here). With
    ``dry_run`` it stops there (exit code 0), having written nothing."""
    from experiments import planning
    from simulation.parameters import ParameterError

    try:
        est = planning.estimate(runs, region, horizon, workers) if runs else None
    except (ParameterError, ValueError):  # a region the timing cannot build: count only
        est = None
    text = planning.describe(runs, what, est, at_most=at_most)
    plan = {"runs": runs, "at_most": at_most, "plan": text,
            "estimate_s": None if est is None else round(est.total_s, 1),
            "workers": None if est is None else est.workers}
    if not dry_run:  # printed by _execute once the folder is this job's (else the error alone)
        _PENDING_PLAN[:] = [text]
        return plan
    _announce(text)
    if dry_run:
        if as_json:
            sys.stdout.write(json.dumps({**plan, "dry_run": True}, indent=2) + "\n")
        else:
            Console(highlight=False).print(f"dry run: {'at most ' if at_most else ''}"
                                           f"{runs:,} runs; nothing was run or written",
                                           markup=False)
        raise typer.Exit(code=0)
    return plan


def _uncertainty_plan(make) -> tuple[int, str]:
    """(runs, description) of a validated uncertainty plan; its bad input exits 2."""
    from experiments import uncertainty

    try:
        plan = make(uncertainty)
    except InputFileError as err:
        raise _fail(str(err)) from None
    return plan.runs, plan.describe().replace(f" = {plan.runs:,} runs", "")


def _print_uncertainty(result: dict) -> None:
    """The terminal summary of an uncertainty run."""
    console = Console(highlight=False)
    if result.get("dry_run"):
        console.print(f"dry run: {result['runs']:,} runs; nothing was run or written",
                      markup=False)
        return
    if "options" in result:
        _print_table(f"Under uncertainty: {result['draws']} draws x {result['seeds']} seeds",
                     result["options"], [("Scenario", _text("scenario")),
                                         ("Ranked first (share of draws)",
                                          _percent("ranked_first")),
                                         ("Expected regret of W (MCU)",
                                          _number("expected_regret")),
                                         ("Median W (MCU)", _number("median_W"))])
    else:
        _print_table(f"Dividend of {result['scenario']} over {result['draws']} parameter draws "
                     f"x {result['seeds']} seeds", result["dividend"],
                     [("Component (unit)", _label()),
                      ("Median D [90% of draws]", _spread),
                      ("P(D > 0)", _percent("p_positive"))])
        v = result["variance"]
        console.print(f"P(D(W) > 0) = {result['p_positive']:.2f}; parameter uncertainty is "
                      f"{v['parameter_share']:.0%} of one run's variance of D(W)", markup=False)
        for b in result["sign_boxes"][:2]:
            console.print(f"D < 0 when {b['rule']} ({b['density']:.0%} of {b['n']} draws)",
                          markup=False)
    console.print(f"report: {result['report']}", markup=False)


@app.callback()
def _limits(memory_budget: str | None = typer.Option(
                None, "--memory-budget", metavar="SIZE",
                help="Memory one run may use (512M, 8G, 1.5T); default: half the memory "
                     "available, shared by the workers. Same as HELIXSIM_MEMORY_BUDGET."),
            max_runs: int | None = typer.Option(
                None, "--max-runs", min=1,
                help="Runs one batch may plan (default 100,000). Same as HELIXSIM_MAX_RUNS."),
            ) -> None:
    """helixsim: the ecological dividend of industry-university-government integration."""
    from simulation import budget
    from simulation.parameters import ParameterError

    if memory_budget is not None:
        try:
            budget.parse_bytes(memory_budget, "--memory-budget")
        except ParameterError as err:
            raise _fail(str(err)) from None
        os.environ[budget.MEMORY_ENV] = memory_budget  # worker processes inherit it
    if max_runs is not None:
        os.environ[budget.RUNS_ENV] = str(max_runs)


def _check_batch(scenarios: list[str], months: int | None, workers: int | None, runs: int,
                 what: str) -> None:
    """Before anything is planned: the run count within its cap, and each scenario's region
    within the memory budget of one of the workers that will hold runs at once."""
    from experiments.executors import default_workers
    from simulation.budget import check_memory, check_runs
    from simulation.parameters import ParameterError
    from simulation.scenarios import ScenarioError, load

    try:
        check_runs(runs, what)
        n = min(workers or default_workers(), max(runs, 1))
        for name in scenarios:
            sc = load(name)
            check_memory({**sc.parameters, "horizon_months": months or sc.horizon},
                         workers=n)
    except (ScenarioError, ParameterError) as err:
        raise _fail(str(err)) from None


def _region(name: str, months: int | None) -> tuple[dict, int]:
    """(parameters, horizon) of a scenario for the time estimate (checked by _check_batch)."""
    from simulation.scenarios import load

    sc = load(name)
    return dict(sc.parameters), int(months or sc.horizon)


def _fail(message: str) -> typer.Exit:
    """One line on stderr, exit code 2."""
    Console(stderr=True, soft_wrap=True, highlight=False).print(
        f"error: {message}", markup=False)
    return typer.Exit(code=2)


def _out_dir(out: Path | None, command: str, name: str) -> Path:
    """The results folder, checked to be a folder this process can create and write in.

    Only checked, not created: the nearest existing ancestor must be a folder in which a
    folder can be made (not a regular file, not /proc or /sys, not a read-only mount).
    """
    path = out if out is not None else Path("results") / f"{command}-{name}"
    try:
        if path.exists() and not path.is_dir():
            raise _fail(f"--out {path}: exists and is not a folder")
        real = path.resolve()
        ancestor = next(p for p in (real, *real.parents) if p.exists())
        if not ancestor.is_dir():
            raise _fail(f"--out {path}: {ancestor} is a file, so no folder can be made under it")
        try:  # a probe, removed at once: /proc, /sys and read-only mounts refuse it
            os.rmdir(tempfile.mkdtemp(prefix=".helixsim-probe-", dir=ancestor))
        except OSError as err:
            raise _fail(f"--out {path}: cannot create a folder in {ancestor} "
                        f"({err.strerror})") from None
    except (OSError, ValueError) as err:  # a name too long, a NUL byte
        raise _fail(f"--out {str(path)[:80]}: not a usable folder ({err})") from None
    return path


def _progress(quiet: bool):
    """A rich progress bar with time left, on stderr; returns (context, callback)."""
    bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
                   console=Console(stderr=True), disable=quiet, transient=False)
    task = bar.add_task("runs", total=None)

    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)
    return bar, update


def _remove_claim(folder: Path) -> None:
    """Remove a folder that holds nothing but a job's claim (lock and job file)."""
    from experiments.ownership import JOB_FILE, LOCK_FILE

    if folder.is_dir() and {p.name for p in folder.iterdir()} <= {JOB_FILE, LOCK_FILE}:
        for name in (JOB_FILE, LOCK_FILE):
            (folder / name).unlink(missing_ok=True)
        folder.rmdir()


def _ids(names: list) -> list[str]:
    """Scenario names as a job knows them: a file by its resolved path, a library name as is."""
    return [str(Path(n).resolve()) if n is not None and Path(n).is_file() else str(n)
            for n in names]


def _execute(command: str, name: str, out: Path | None, as_json: bool, work,
             job: tuple | None = None, *, per_month: bool = False,
             formats: tuple[str, ...] = (), precheck=None) -> dict:
    """Validate, run with progress, and turn known errors into exit code 2.

    ``job`` (run, compare, dividend) is what defines the job, so that a results folder belongs
    to one job: the same job resumes in it, another is refused (experiments.ownership).
    Afterwards every command's folder gets the same things (experiments.export.finish):
    per_year.parquet (per_month.parquet with ``per_month``) of the command's own runs (the
    result's ``_steps``, or its ``_run_ids`` in runs/), the ``formats`` export, and
    ``_result.json``, the result as printed by ``--json`` with the run ids, which ``helixsim
    results`` reads. A result's ``_complete`` (experiment, optimise) is called after that:
    the folder's record says complete only once everything the command writes is there.
    """
    from experiments.export import RESULT_FILE, finish
    from experiments.storage import write_json
    from simulation.parameters import ParameterError

    folder = _out_dir(out, command, name)
    fresh = not folder.exists()
    if job is not None:
        from experiments import ownership

        key = ownership.fingerprint(command, *job)
        try:
            ownership.claim(folder, command=command, name=name, job=key,
                            record=ownership.JOB_FILE)
        except ownership.FolderInUseError as err:
            raise _fail(str(err)) from None
        ownership.record_job(folder, command=command, name=name, job=key, state="running")
    if precheck is not None:  # a command that claims its folder itself: refused before the plan
        from experiments.ownership import FolderInUseError

        try:
            precheck(folder)
        except FolderInUseError as err:
            raise _fail(str(err)) from None
    for text in _PENDING_PLAN:
        _announce(text)
    _PENDING_PLAN.clear()
    bar, update = _progress(as_json)
    try:
        with bar:
            result = work(folder, update)
    except (InputFileError, ParameterError, RuntimeError) as err:
        # A bad input found by the work itself (scenario, spec or calibration file, an option):
        # a folder this call created holds only the job's claim, so it goes again.
        if job is not None and fresh:
            ownership.release(folder)
            _remove_claim(folder)
        raise _fail(str(err)) from None
    steps = result.pop("_steps", None)
    run_ids = result.pop("_run_ids", None)  # the batch's runs in runs/ (it may hold others)
    complete = result.pop("_complete", None)  # marks the folder's record complete
    if not result.get("dry_run"):
        result["tables"] = finish(folder, result, steps=steps, run_ids=run_ids,
                                  per_month_table=per_month, formats=formats)
        write_json({"command": command, "name": name, "result": result,
                    **({"run_ids": run_ids} if run_ids is not None else {})},
                   folder / RESULT_FILE)
    if complete is not None:
        complete()
    if job is not None and not result.get("dry_run"):
        ownership.record_job(folder, command=command, name=name, job=key, state="done")
        ownership.release(folder)
    if as_json:
        sys.stdout.write(json.dumps(to_plain(result), indent=2) + "\n")
    return result


@app.command()
def scenarios(as_json: bool = JSON) -> None:
    """List the scenario library with descriptions."""
    from simulation.scenarios import library

    try:
        items = library()
    except InputFileError as err:
        raise _fail(str(err)) from None
    if as_json:
        sys.stdout.write(json.dumps([{"name": s.name, "description": s.description,
                                      "file": str(s.path)} for s in items], indent=2) + "\n")
        return
    table = Table(title="Scenario library (scenarios/)", show_lines=True)
    table.add_column("name", style="bold")
    table.add_column("description")
    for s in items:
        table.add_row(s.name, " ".join(s.description.split()))
    Console().print(table)


@app.command()
def check(files: list[Path] = typer.Argument(..., help="Scenario files or library names."),
          as_json: bool = JSON) -> None:
    """Validate scenario files: exit 0 if all are valid, else one line each and exit 2."""
    from simulation.scenarios import load

    bad, good = [], []
    for f in files:
        try:
            sc = load(f)
            good.append({"file": str(sc.path), "name": sc.name, "valid": True})
        except InputFileError as err:
            bad.append({"file": str(f), "valid": False, "error": str(err)})
            Console(stderr=True, soft_wrap=True, highlight=False).print(
                f"error: {err}", markup=False)
    if as_json:
        sys.stdout.write(json.dumps(good + bad, indent=2) + "\n")
    elif good:
        for g in good:
            Console(highlight=False).print(f"ok: {g['file']} ({g['name']})", markup=False)
    if bad:
        raise typer.Exit(code=2)


def _print_table(title: str, rows: list[dict], columns: list[tuple[str, Any]],
                 names: int = 1) -> None:
    """A terminal table: ``columns`` are (header, function of a row giving its cell); the
    first ``names`` columns are left-aligned (names), the others right-aligned (numbers).
    A star on a
    cell (an interval cut to what the quantity can take) adds the note under the table."""
    table = Table(title=title)
    for i, (head, _) in enumerate(columns):
        table.add_column(head, justify="left" if i < names else "right", overflow="fold")
    cut = False
    for row in rows:
        cells = [cell(row) for _, cell in columns]
        cut = cut or any(c.endswith(" *") for c in cells)
        table.add_row(*cells)
    Console().print(table)
    if cut:
        Console(highlight=False).print(CUT_NOTE, style="dim", markup=False)


def _label(key: str = "indicator") -> Any:
    """A row's indicator by its label with its unit."""
    from experiments.formatting import indicator_label

    return lambda r: indicator_label(str(r[key]))


def _interval(value: str, *, difference: bool = False) -> Any:
    """A row's indicator value and 95% interval, formatted and cut to what the indicator can
    take (a star marks a cut interval, as in the reports)."""
    from experiments.formatting import format_indicator_interval

    def cell(r: dict) -> str:
        text, note = format_indicator_interval(str(r["indicator"]), r.get(value), r.get("low"),
                                               r.get("high"), difference=difference)
        return text + (" *" if note else "")
    return cell


def _relative(r: dict) -> str:
    """A relative difference as a signed percentage; none for a share (its difference is
    already in percentage points)."""
    from experiments.formatting import MISSING, format_percent, is_share

    return MISSING if is_share(str(r.get("indicator"))) else format_percent(
        r.get("relative"), signed=True)


def _number(key: str, *, signed: bool = False) -> Any:
    """A row's number (thousands separators, no exponent for everyday magnitudes)."""
    from experiments.formatting import format_number

    return lambda r: format_number(r.get(key), signed=signed)


def _percent(key: str, *, signed: bool = False) -> Any:
    from experiments.formatting import format_percent

    return lambda r: format_percent(r.get(key), signed=signed)


def _spread(r: dict) -> str:
    """The median over parameter draws and the middle 90% of draws (a spread, not a
    confidence interval), with one number of decimals for the three; shares in pp."""
    from experiments.formatting import format_interval, is_share

    share = is_share(str(r["indicator"]))
    text = format_interval(r.get("median"), r.get("p05"), r.get("p95"), signed=True,
                           percent=share)
    return text.replace("%", " pp") if share else text


def _text(key: str) -> Any:
    return lambda r: str(r.get(key, ""))


CUT_NOTE = ("* interval cut to what the quantity can take (a count cannot be negative, a share "
            "cannot pass 100%)")


@app.command()
def run(scenario: str = typer.Argument(..., help="Scenario file or library name."),
        seeds: int = SEEDS, workers: int | None = WORKERS, out: Path | None = OUT,
        seed: int = SEED, months: int | None = MONTHS, dry_run: bool = DRY_RUN,
        per_month: bool = PER_MONTH, export: str | None = EXPORT,
        as_json: bool = JSON) -> None:
    """Run a scenario over seeds in parallel: per-step Parquet, summary and report."""
    from experiments.commands import run_scenario

    formats = _formats(export)
    _check_batch([scenario], months, workers, seeds, f"{seeds} seeds")
    region, horizon = _region(scenario, months)
    _plan(seeds, f"{seeds} seeds of {Path(scenario).stem}, {horizon} months", region=region,
          horizon=horizon, workers=workers, dry_run=dry_run, as_json=as_json)
    result = _execute("run", Path(scenario).stem, out, as_json, lambda folder, cb: run_scenario(
        scenario, seeds=seeds, workers=workers, out=folder, root_seed=seed, months=months,
        progress=cb), job=(_ids([scenario]), months, seed), per_month=per_month,
        formats=formats)
    if not as_json:
        _print_table(f"{result['scenario']}: final values over {seeds} seeds",
                     result["final"], [("Indicator (unit)", _label()),
                                       ("Mean [95% interval]", _interval("mean"))])
        Console().print(f"report: {result['report']}")


@app.command()
def compare(scenarios_: list[str] = typer.Argument(..., metavar="A B [C ...]",
                                                  help="Scenarios; the first is the baseline."),
            seeds: int | None = PAIRED_SEEDS, workers: int | None = WORKERS,
            out: Path | None = OUT, seed: int = SEED, months: int | None = MONTHS,
            draws: int | None = UNCERTAINTY, posterior: Path | None = POSTERIOR,
            dry_run: bool = DRY_RUN,
            precision: float | None = typer.Option(
                None, "--precision", min=0.0001, max=10.0,
                help="Add seeds until the welfare difference's 95% interval half-width is at "
                     "most this share of |difference| (e.g. 0.05)."),
            max_seeds: int = typer.Option(200, "--max-seeds", min=2, max=10_000),
            per_month: bool = PER_MONTH, export: str | None = EXPORT,
            as_json: bool = JSON) -> None:
    """Compare scenarios with the first on paired seeds (common random numbers)."""
    from experiments.commands import compare_scenarios

    if len(scenarios_) < 2:
        raise _fail("compare needs at least two scenarios: a baseline and one to compare")
    _uncertainty_options(draws, posterior)
    formats = _formats(export)
    seeds = seeds if seeds is not None else (2 if draws is not None else 8)
    name = "-".join(Path(s).stem for s in scenarios_)
    most = max(seeds, max_seeds) if precision is not None else seeds
    draws_ = draws or 1
    _check_batch(scenarios_, months, workers, len(scenarios_) * most * draws_,
                 f"{len(scenarios_)} scenarios x {most} seeds"
                 + (f" x {draws} draws" if draws else ""))
    region, horizon = _region(scenarios_[0], months)
    if draws is not None:
        runs, what = _uncertainty_plan(lambda u: u.plan_compare(
            scenarios_, draws=draws, seeds=seeds, root_seed=seed, months=months,
            posterior=posterior))
        _plan(runs, what, region=region, horizon=horizon, workers=workers, dry_run=dry_run,
              as_json=as_json)
    elif precision is not None:
        _plan(len(scenarios_) * most, f"{len(scenarios_)} scenarios x {seeds} seeds, more "
              f"seeds until the welfare interval is within ±{precision:.0%}, up to "
              f"--max-seeds {most}; {horizon} months", region=region, horizon=horizon,
              workers=workers, dry_run=dry_run, as_json=as_json, at_most=True)
    else:
        _plan(len(scenarios_) * seeds, f"{len(scenarios_)} scenarios x {seeds} seeds, "
              f"{horizon} months", region=region, horizon=horizon, workers=workers,
              dry_run=dry_run, as_json=as_json)
    result = _execute("compare", name, out, as_json, lambda folder, cb: compare_scenarios(
        scenarios_, seeds=seeds, workers=workers, out=folder, root_seed=seed, months=months,
        precision=precision, max_seeds=max_seeds, progress=cb, draws=draws,
        posterior=posterior), job=(_ids(scenarios_), months, seed, draws, _ids([posterior])),
        per_month=per_month, formats=formats)
    if draws is not None:
        if not as_json:
            _print_uncertainty(result)
        return
    if not as_json:
        rows = [r for r in result["differences"] if r["indicator"] in ("welfare", "value_added",
                                                                       "jobs", "startups_alive",
                                                                       "alumni_employed")]
        _print_table(f"Against {result['baseline']} on {result['seeds']} paired seeds "
                     "(95% CI, Bonferroni)", rows,
                     [("Scenario", _text("scenario")), ("Indicator (unit)", _label()),
                      ("Difference [95% interval]", _interval("difference", difference=True)),
                      ("Relative", _relative)], names=2)
        if result["precision_reached"] is False:
            Console().print(f"precision not reached at --max-seeds {max_seeds}: the widest "
                            f"welfare interval is ±{result['achieved_relative_half_width']:.1%} "
                            "of its difference")
        for p in result["precision"]:
            Console().print(f"{p['scenario']}: seeds for ±{p['precision']:.0%} on welfare: "
                            f"{p['seeds_paired']} paired, {p['seeds_independent']} independent "
                            f"(x{p['ratio']:.1f})")
        Console().print(f"report: {result['report']}")


@app.command()
def dividend(scenario: str = typer.Argument(..., help="Scenario file or library name."),
             seeds: int | None = PAIRED_SEEDS, workers: int | None = WORKERS,
             out: Path | None = OUT, seed: int = SEED, months: int | None = MONTHS,
             attribution: bool = typer.Option(False, "--attribution",
                                              help="Shapley shares over the five channels "
                                                   "(32 configurations per seed; with "
                                                   "--uncertainty 6 per draw: one random "
                                                   "channel ordering)."),
             draws: int | None = UNCERTAINTY, posterior: Path | None = POSTERIOR,
             dry_run: bool = DRY_RUN,
             baseline: str = typer.Option("baseline", "--baseline",
                                          help="Scenario for the change of synergy."),
             per_month: bool = PER_MONTH, export: str | None = EXPORT,
             as_json: bool = JSON) -> None:
    """The ecological dividend of a scenario against its siloed counterfactual."""
    from experiments.commands import dividend as compute
    from experiments.commands import dividend_runs

    _uncertainty_options(draws, posterior)
    formats = _formats(export)
    seeds = seeds if seeds is not None else (2 if draws is not None else 8)
    if draws is None:
        # The cap is checked on the runs the runner will make (dividend_runs counts the
        # distinct ones: all channels open is the scenario itself), so the refusal and the
        # plan printed below name the same number.
        try:
            runs, what = dividend_runs(scenario, seeds=seeds, months=months,
                                       attribution=attribution, baseline=baseline)
        except InputFileError as err:
            raise _fail(str(err)) from None
        _check_batch([scenario, baseline], months, workers, runs, what)
    else:
        per_draw = 7 if attribution else 2  # one channel ordering per draw, or the pair
        _check_batch([scenario], months, workers, draws * seeds * per_draw,
                     f"{draws} draws x {seeds} seeds x {per_draw} configurations")
        runs, what = _uncertainty_plan(lambda u: u.plan_dividend(
            scenario, draws=draws, seeds=seeds, root_seed=seed, months=months,
            attribution=attribution, posterior=posterior))
    region, horizon = _region(scenario, months)
    _plan(runs, what, region=region, horizon=horizon, workers=workers, dry_run=dry_run,
          as_json=as_json)
    result = _execute("dividend", Path(scenario).stem, out, as_json,
                      lambda folder, cb: compute(scenario, seeds=seeds, workers=workers,
                                                 out=folder, root_seed=seed, months=months,
                                                 attribution=attribution, baseline=baseline,
                                                 progress=cb, draws=draws, posterior=posterior),
                      job=(_ids([scenario]), _ids([baseline]), attribution, months, seed, draws,
                           _ids([posterior])), per_month=per_month, formats=formats)
    if draws is not None:
        if not as_json:
            _print_uncertainty(result)
        return
    if not as_json:
        from experiments.formatting import format_interval
        from experiments.report import pretty

        _print_table(f"Ecological dividend of {result['scenario']} ({seeds} paired seeds, "
                     "95% CI)", result["dividend"],
                     [("Component (unit)", _label()), ("Helix", _text("helix")),
                      ("Dividend D [95% interval]", _interval("dividend", difference=True)),
                      ("Relative", _relative)], names=2)
        if "shapley" in result:
            _print_table("Shapley attribution of D(W) over channels", result["shapley"],
                         [("Channel", lambda r: pretty(str(r["channel"]))),
                          ("Shapley value of W (MCU) [95% interval]",
                           lambda r: format_interval(r.get("mean"), r.get("low"), r.get("high"),
                                                     signed=True)),
                          ("Share of the dividend", _percent("share", signed=True))])
        syn = result["synergy"]
        Console().print(f"synergy S: {syn['S_scenario']:.2f} mbit (siloed {syn['S_siloed']:.2f}, "
                        f"change {syn['change_vs_siloed']:+.2f})")
        Console().print(f"report: {result['report']}")


@app.command()
def validate(seeds: int = typer.Option(8, "--seeds", min=2, max=10_000,
                                       help="Replications (seeds) of the region."),
             workers: int | None = WORKERS,
             out: Path | None = typer.Option(
                 None, "--out", help="Report folder (default: results/validate-<region>)."),
             seed: int = SEED,
             region: str = typer.Option(
                 "default", "--region",
                 help="'default': the default region of the ODD over 120 months. 'small': "
                      "200 firms, 200 students a year per university, 36 months (a smoke "
                      "test; targets it cannot estimate are n/a)."),
             dry_run: bool = DRY_RUN, per_month: bool = PER_MONTH,
             export: str | None = EXPORT, as_json: bool = JSON) -> None:
    """Validate the region against the calibration targets of the ODD.

    Estimates each stylized fact over seeds (firm-size tail, growth volatility,
    new-firm survival, co-operation with universities, graduate retention,
    innovation value concentration, collaboration degree) with a 95% interval,
    prints the table and writes report.md / report.html and validation.json.

    Exit code: 0 when every target is met; 1 when at least one is not met or
    cannot be estimated; 2 for bad input.
    """
    from experiments.validation import REGIONS
    from experiments.validation import validate as compute

    if region not in REGIONS:
        raise _fail(f"--region {region!r}: unknown; choose from {', '.join(REGIONS)}")
    formats = _formats(export)
    overrides, horizon = REGIONS[region]
    _plan(seeds, f"{seeds} seeds of the {region} region, {horizon} months", region=overrides,
          horizon=horizon, workers=workers, dry_run=dry_run, as_json=as_json)
    result = _execute("validate", region, out, as_json, lambda folder, cb: compute(
        seeds=seeds, workers=workers, out=folder, root_seed=seed, region=region, progress=cb,
        keep_steps=True), per_month=per_month, formats=formats)
    if not as_json:
        table = Table(title=f"Validation of the {region} region: {seeds} seeds "
                            f"({result['meta']['elapsed_s']:.1f} s)", show_lines=True)
        for head in ("fact", "target", "simulated", "95% interval", "result", "source"):
            table.add_column(head, justify="right" if head in ("simulated", "95% interval")
                             else "left")
        style = {"pass": "green", "fail": "bold red", "n/a": "yellow"}
        for r in result["targets"]:
            table.add_row(r["fact"], r["target"], r["simulated"], r["interval"],
                          f"[{style[r['result']]}]{r['result']}[/]", r["source"])
        Console().print(table)
        for r in result["targets"]:
            if r["note"]:
                Console(highlight=False).print(f"n/a: {r['fact']}: {r['note']}", markup=False)
        Console().print(f"{result['met']} of {result['total']} targets met. "
                        f"report: {result['report']}")
    if not result["all_met"]:
        raise typer.Exit(code=1)


@app.command()
def calibrate(seeds: int = typer.Option(4, "--seeds", min=1, max=1000,
                                        help="Replications per evaluation (common random "
                                             "numbers: the same seeds every time)."),
              budget: int = typer.Option(80, "--budget", min=1, max=100_000,
                                         help="Evaluations of the objective at most."),
              workers: int | None = WORKERS,
              scheduler: str | None = typer.Option(
                  None, "--scheduler",
                  help="Dask scheduler address, or 'local'; default: a local process pool."),
              out: Path | None = typer.Option(
                  None, "--out", help="Report folder (default: results/calibrate-default)."),
              seed: int = typer.Option(CALIBRATION_SEED, "--seed", min=0,
                                       help="Root seed of the calibration replications "
                                            "(validate uses another, so it checks out of "
                                            "sample)."),
              no_write: bool = typer.Option(False, "--no-write",
                                            help="Fit and report, but leave the parameter "
                                                 "table (simulation/calibration.toml) as it "
                                                 "is."),
              dry_run: bool = DRY_RUN, per_month: bool = PER_MONTH,
              export: str | None = EXPORT, as_json: bool = JSON) -> None:
    """Fit the free parameters to the calibration targets of the ODD.

    Simulated method of moments: Nelder-Mead over the free parameters'
    bounds, the same seeds at every point, on all cores. Writes the
    calibrated defaults with their provenance to simulation/calibration.toml
    (which the parameter table reads), report.md and evaluations.parquet
    (a rerun resumes from it). Then check with `helixsim validate`.
    """
    from experiments.calibration import calibrate as compute
    from experiments.executors import SchedulerError, check_scheduler
    from simulation.calibrated import CALIBRATION_FILE

    try:
        scheduler = check_scheduler(scheduler)
    except SchedulerError as err:
        raise _fail(str(err)) from None
    formats = _formats(export)
    _check_batch([], None, workers, budget * seeds, f"{budget} evaluations x {seeds} seeds")
    from experiments.validation.observations import DEFAULT_HORIZON

    _plan(budget * seeds, f"{budget} evaluations x {seeds} seeds of the default region, "
          f"{DEFAULT_HORIZON} months; the search may stop earlier", region={},
          horizon=DEFAULT_HORIZON, workers=workers, dry_run=dry_run, as_json=as_json,
          at_most=True)

    def work(folder: Path, update) -> dict:
        return compute(seeds=seeds, budget=budget, root_seed=seed, workers=workers,
                       scheduler=scheduler, out=folder,
                       write_to=None if no_write else CALIBRATION_FILE,
                       progress=lambda done, total, best: update(done, total))
    result = _execute("calibrate", "default", out, as_json, work, per_month=per_month,
                      formats=formats)
    if not as_json:
        Console().print(f"objective {result['objective_before']:.4g} -> "
                        f"{result['objective']:.4g} in {result['evaluations']} evaluations "
                        f"({result['elapsed_s']:.0f} s); all targets met in sample: "
                        f"{'yes' if result['all_met_in_sample'] else 'no'}")
        for name, value in result["best"].items():
            Console().print(f"  {name}: {result['start'][name]:.4g} -> {value:.4g}")
        Console().print(f"written: {result['written'] or 'no (--no-write)'}; "
                        f"report: {result['report']}")


@app.command()
def posterior(budget: int = typer.Option(150, "--budget",
                                         help="Simulations (parameter points) for the waves."),
              seeds: int = typer.Option(2, "--seeds", help="Replications per simulation."),
              waves: int = typer.Option(3, "--waves", help="History-matching waves."),
              check: int = typer.Option(20, "--check",
                                        help="Posterior draws simulated again to check."),
              months: int = typer.Option(120, "--months", help="Horizon of each run."),
              workers: int | None = typer.Option(None, "--workers",
                                                 help="Worker processes (default: all cores)."),
              scheduler: str | None = typer.Option(
                  None, "--scheduler",
                  help="Dask scheduler address, or 'local'; default: a local process pool."),
              out: Path | None = typer.Option(
                  None, "--out", help="Report folder (default: results/posterior-default)."),
              seed: int = typer.Option(CALIBRATION_SEED, "--seed",
                                       help="Root seed of the replications and designs."),
              dry_run: bool = DRY_RUN, per_month: bool = PER_MONTH,
              export: str | None = EXPORT, as_json: bool = JSON) -> None:
    """Bayesian calibration: which free parameters the targets pin down.

    History matching with Gaussian-process emulators, then the posterior that
    every target lies in its range. Writes posterior.parquet (one column per
    parameter plus weight; `dividend --uncertainty --posterior` reads it),
    simulations.parquet (a rerun resumes from it) and report.md / .html.
    Leaves the parameter table as it is.
    """
    from experiments.posterior import calibrate_posterior, check_options, region_problem

    try:
        check_options(budget=budget, seeds=seeds, waves=waves, check=check, workers=workers)
        if not 1 <= months <= 1200:
            raise ValueError(f"--months {months}: expected 1 to 1200")
        if seed < 0:
            raise ValueError(f"--seed {seed}: expected a non-negative integer")
    except ValueError as err:
        raise _fail(str(err)) from None
    formats = _formats(export)
    _plan((budget + check) * seeds, f"({budget} simulations + {check} posterior checks) x "
          f"{seeds} seeds of the default region, {months} months", region={}, horizon=months,
          workers=workers, dry_run=dry_run, as_json=as_json, at_most=True)
    result = _execute("posterior", "default", out, as_json, lambda folder, cb:
                      calibrate_posterior(region_problem(months), out=folder, budget=budget,
                                          seeds=seeds, waves=waves, check=check,
                                          root_seed=seed, workers=workers,
                                          scheduler=scheduler, progress=cb),
                      per_month=per_month, formats=formats)
    if not as_json:
        console = Console(highlight=False)
        for p in result["parameters"]:
            console.print(f"{p['parameter']}: prior {p['prior_low']:.3g}-{p['prior_high']:.3g}"
                          f", posterior {p['posterior_low']:.3g}-{p['posterior_high']:.3g} "
                          f"(width ratio {p['width_ratio']:.2f}: {p['reading']})",
                          markup=False)
        console.print(f"{result['simulations']} simulations, {result['model_runs']} runs, "
                      f"{result['elapsed_s']:.0f} s; posterior: {result['posterior']}; "
                      f"report: {result['report']}", markup=False)


@app.command()
def experiment(spec: Path = typer.Argument(..., help="Experiment spec (TOML)."),
               workers: int | None = WORKERS, out: Path | None = OUT,
               scheduler: str | None = typer.Option(
                   None, "--scheduler",
                   help="Dask scheduler address (tcp://host:8786), or 'local' for a Dask "
                        "LocalCluster; default: a local process pool."),
               seeds: int | None = typer.Option(
                   None, "--seeds", min=1, max=100_000,
                   help="Replications (seeds) per design point (default: the spec's "
                        "replications)."),
               seed: int | None = typer.Option(None, "--seed", min=0,
                                               help="Root seed (default: the spec's seed)."),
               months: int | None = typer.Option(
                   None, "--months", min=1, max=1200,
                   help="Horizon in months (default: the spec's horizon_months)."),
               dry_run: bool = DRY_RUN, per_month: bool = PER_MONTH,
               export: str | None = EXPORT, as_json: bool = JSON) -> None:
    """Run (or resume) an experiment: sweep, Latin hypercube, Sobol or Morris design."""
    from experiments.executors import SchedulerError, check_scheduler
    from experiments.experiment import job_fingerprint, run_experiment
    from experiments.ownership import claim
    from experiments.specs import SpecError, load, run_count, with_options

    formats = _formats(export)
    try:
        loaded = with_options(load(spec), replications=seeds, seed=seed, horizon=months)
        scheduler = check_scheduler(scheduler)
    except (SpecError, SchedulerError) as err:
        raise _fail(str(err)) from None
    _check_batch([str(loaded.scenario.path or loaded.scenario.name)], loaded.horizon, workers,
                 run_count(loaded), "the design's runs")
    _plan(run_count(loaded), loaded.plan_text(), region=dict(loaded.scenario.parameters),
          horizon=loaded.horizon, workers=workers, dry_run=dry_run, as_json=as_json)
    result = _execute("experiment", spec.stem, out, as_json, lambda folder, cb: run_experiment(
        loaded, out=folder, workers=workers, scheduler=scheduler, progress=cb,
        complete=False),
        per_month=per_month, formats=formats,
        precheck=lambda folder: claim(folder, command="experiment", name=loaded.name,
                                      job=job_fingerprint(loaded)))
    if not as_json:
        from experiments.summaries import summarise

        for f in result["failures"][:5]:
            Console(stderr=True).print(f"failed: {f['label']} rep {f['replication']}: "
                                       f"{f['error']}", markup=False)
        _print_summary(summarise(Path(result["folder"])))


@app.command()
def optimise(spec: Path = typer.Argument(..., help="Optimisation spec (TOML)."),
             workers: int | None = WORKERS, out: Path | None = OUT,
             scheduler: str | None = typer.Option(
                 None, "--scheduler",
                 help="Dask scheduler address (tcp://host:8786), or 'local' for a Dask "
                      "LocalCluster; default: a local process pool."),
             seed: int | None = typer.Option(None, "--seed", min=0,
                                             help="Root seed (default: the spec's)."),
             dry_run: bool = DRY_RUN, per_month: bool = PER_MONTH,
             export: str | None = EXPORT, as_json: bool = JSON) -> None:
    """Robust policy search: a Pareto set of levers across uncertain futures (resumable)."""
    from functools import partial

    from experiments.optimise import command

    formats = _formats(export)
    command(spec, workers=workers, out=out, scheduler=scheduler, seed=seed, dry_run=dry_run,
            as_json=as_json, fail=_fail,
            execute=partial(_execute, per_month=per_month, formats=formats),
            plan=partial(_plan, workers=workers, dry_run=dry_run, as_json=as_json))


@app.command()
def results(path: Path = typer.Argument(..., help="A results folder."),
            as_json: bool = JSON) -> None:
    """Summarise any folder helixsim wrote (run, compare, dividend, experiment, validate,
    calibrate, posterior, optimise): headline tables, sensitivity indices, discovery boxes."""
    from experiments.summaries import summarise

    try:
        info = summarise(path)
    except (FileNotFoundError, ValueError) as err:
        raise _fail(str(err)) from None
    if as_json:
        sys.stdout.write(json.dumps(to_plain(info.plain()), indent=2, default=str) + "\n")
        return
    _print_summary(info)


_PERCENT_COLUMNS = {"relative", "share", "coverage", "density", "ranked_first", "p_positive"}
_TEXT_COLUMNS = {"lever", "output", "factor", "indicator", "component", "helix", "scenario",
                 "channel", "rule", "configuration", "parameter", "fact", "target", "result",
                 "reading", "label", "candidate", "simulated", "interval"}


def _print_summary(info) -> None:
    """A summary (experiments.summaries) as lines and text tables: numbers for people,
    headers with units, shares as percentages."""
    from experiments.export import header
    from experiments.formatting import format_number, format_percent, indicator_label

    console = Console(highlight=False, soft_wrap=True)
    console.print(f"{info.command} results in {info.folder}", markup=False, style="bold")
    for line in info.lines:
        console.print(line, markup=False)
    for title, df in info.tables:
        table = Table(title=title, title_justify="left")
        for c in df.columns:  # shares are printed as percentages, so "(share)" goes
            head = header(c).replace(" (share)", "") if c in _PERCENT_COLUMNS else header(c)
            table.add_column(head, justify="left" if c in _TEXT_COLUMNS else "right",
                             overflow="fold")  # a narrow terminal folds names, never cuts
        for row in df.itertuples(index=False):
            cells = []
            for c, v in zip(df.columns, row, strict=True):
                if c == "indicator" and isinstance(v, str):
                    cells.append(indicator_label(v))
                elif isinstance(v, bool) or not isinstance(v, (int, float)):
                    cells.append("" if v is None else str(v))
                elif c in _PERCENT_COLUMNS:
                    cells.append(format_percent(v, signed=c == "relative"))
                else:
                    cells.append(format_number(v))
            table.add_row(*cells)
        console.print(table)


@app.command()
def dashboard(host: str = typer.Option("127.0.0.1", "--host",
                                       help="Address to bind; 127.0.0.1 keeps it on this "
                                            "machine."),
              port: int = typer.Option(8765, "--port", min=1, max=65535),
              fetch_assets: bool = typer.Option(True, "--fetch-assets/--no-fetch-assets",
                                                help="Fill the offline asset cache from the "
                                                     "npm registry first if it is incomplete.")
              ) -> None:
    """Start the stakeholder dashboard (Solara) and serve it until interrupted."""
    import os

    from dashboards import assets

    if assets.missing():
        if not fetch_assets:
            raise _fail("the Solara asset cache is incomplete; run python -m dashboards.assets")
        try:
            assets.fill()
        except RuntimeError as err:
            raise _fail(str(err)) from None
    solara = Path(sys.executable).with_name("solara")
    command = [str(solara) if solara.exists() else "solara", "run", "dashboards.app",
               "--host", host, "--port", str(port), "--production", "--no-open",
               "--no-check-version"]
    Console(stderr=True).print(f"helixsim dashboard on http://{host}:{port}/ (Ctrl-C stops it)")
    # Become the server (exec, not a child process), so that a SIGTERM to this process stops
    # the server instead of orphaning it.
    os.execvpe(command[0], command, {**os.environ, **assets.server_environment()})


def main() -> None:  # pragma: no cover
    try:
        app()
    except InputFileError as err:  # e.g. a missing or malformed calibration file
        raise SystemExit(_fail(str(err)).exit_code) from None
