"""Every batch command behaves alike: a plan line before it starts, --dry-run, per-year tables,
--export csv,xlsx with units in the headers, and ``helixsim results`` on every folder kind."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from experiments import design_figures, export, run_files, runner
from experiments.run_files import stored_runs
from experiments.sensitivity import box_text
from helixsim.cli import app

SMALL = """description = "a small region"
extends = "baseline"
[parameters]
n_universities = 1
n_firms = 60
intake_per_university = 40
"""

SWEEP = """description = "a tiny sweep"
scenario = "small.toml"
replications = 2
horizon_months = 13
outputs = ["welfare", "jobs", "startups_alive"]
[design]
type = "{design}"
{design_extra}
[[factors]]
parameter = "matching_rate"
{bounds}
[[factors]]
parameter = "founder_rate"
{bounds2}
{analysis}
"""


@pytest.fixture()
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return path


def sweep(tmp_path: Path, design: str = "factorial", analysis: str = "") -> Path:
    (tmp_path / "small.toml").write_text(SMALL)
    if design == "factorial":
        extra, b1, b2 = "", "levels = [0.2, 0.8]", "levels = [0.005, 0.02]"
    else:
        extra = {"lhs": "samples = 6", "morris": "samples = 2\nlevels = 4",
                 "sobol": "samples = 2"}[design]
        b1, b2 = "low = 0.2\nhigh = 0.8", "low = 0.005\nhigh = 0.02"
    path = tmp_path / f"{design}.toml"
    path.write_text(SWEEP.format(design=design, design_extra=extra, bounds=b1, bounds2=b2,
                                 analysis=analysis))
    return path


def invoke(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def commands(tmp_path: Path, small: Path) -> dict[str, list]:
    """Every batch command with small, valid arguments (no --out)."""
    spec = sweep(tmp_path)
    opt = Path(__file__).resolve().parent.parent / "experiments/examples/optimise_budget.toml"
    return {
        "run": ["run", small, "--seeds", "2", "--months", "6"],
        "compare": ["compare", small, "baseline", "--seeds", "2", "--months", "6"],
        "compare --precision": ["compare", small, "baseline", "--seeds", "2", "--months", "6",
                                "--precision", "0.05", "--max-seeds", "10"],
        "compare --uncertainty": ["compare", small, "baseline", "--uncertainty", "2",
                                  "--months", "6"],
        "dividend": ["dividend", small, "--seeds", "2", "--months", "6"],
        "dividend --uncertainty": ["dividend", small, "--uncertainty", "2", "--months", "6"],
        "experiment": ["experiment", spec],
        "validate": ["validate", "--region", "small", "--seeds", "2"],
        "calibrate": ["calibrate", "--budget", "2", "--seeds", "1"],
        "posterior": ["posterior", "--budget", "30", "--waves", "1", "--seeds", "1",
                      "--check", "2", "--months", "12"],
        "optimise": ["optimise", opt],
    }


NAMES = ["run", "compare", "compare --precision", "compare --uncertainty", "dividend",
         "dividend --uncertainty", "experiment", "validate", "calibrate", "posterior",
         "optimise"]


def planned(stderr: str) -> int:
    """The run count of the plan line."""
    text = " ".join(stderr.split())
    m = re.search(r"plan: (?:at most )?([\d,]+) runs?\b", text)
    assert m, stderr
    return int(m.group(1).replace(",", ""))


@pytest.mark.parametrize("name", NAMES)
def test_dry_run_prints_the_plan_with_an_estimate_and_writes_nothing(tmp_path, small, name):
    out = tmp_path / "out"
    args = commands(tmp_path, small)[name]
    result = invoke(*args, "--out", out, "--dry-run", "--workers", "1")
    assert result.exit_code == 0, result.output
    assert planned(result.stderr) > 0
    assert re.search(r"on 1 worker \(.* a run, timed here", " ".join(result.stderr.split())), \
        result.stderr
    assert "nothing was run or written" in result.stdout
    assert not out.exists()
    if name in ("compare --precision", "calibrate", "posterior", "optimise"):
        assert "plan: at most" in result.stderr  # these may stop before their maximum


@pytest.mark.parametrize("name", NAMES)
def test_a_bad_export_format_is_one_line_exit_2_and_nothing_written(tmp_path, small, name):
    out = tmp_path / "out"
    result = invoke(*commands(tmp_path, small)[name], "--out", out, "--export", "csv,pdf")
    assert result.exit_code == 2, result.output
    errors = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert len(errors) == 1 and errors[0].startswith("error: --export csv,pdf:"), errors
    assert "Traceback" not in result.output
    assert not out.exists()


def test_the_dry_run_json_is_the_plan(tmp_path, small):
    result = invoke("dividend", small, "--seeds", "3", "--months", "6", "--attribution",
                    "--dry-run", "--json", "--out", tmp_path / "o")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["dry_run"] is True and plan["runs"] == planned(result.stderr)
    assert plan["estimate_s"] >= 0


@pytest.mark.parametrize("args, labels", [
    (["run", "--seeds", "3"], 1),
    (["dividend", "--seeds", "2"], 3),                      # scenario, siloed, baseline
    (["dividend", "--seeds", "2", "--attribution"], 34),    # all open is the scenario itself
])
def test_the_count_printed_is_the_runs_made(tmp_path, small, args, labels):
    out = tmp_path / "out"
    result = invoke(args[0], small, *args[1:], "--months", "3", "--workers", "1", "--out", out)
    assert result.exit_code == 0, result.output
    made = len(stored_runs(out))
    assert planned(result.stderr) == made == labels * int(args[2])


def test_experiment_takes_seeds_seed_and_months_and_counts_its_runs(tmp_path):
    spec = sweep(tmp_path)
    out = tmp_path / "out"
    result = invoke("experiment", spec, "--seeds", "3", "--seed", "11", "--months", "5",
                    "--workers", "1", "--out", out)
    assert result.exit_code == 0, result.output
    summary = pd.read_parquet(out / "summary.parquet")
    assert sorted(summary["replication"].unique()) == [0, 1, 2]
    runs = export.read_runs(out)
    assert runs["step"].max() == 5
    assert planned(result.stderr) == len(stored_runs(out)) == 4 * 3
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["seed"] == 11 and manifest["replications"] == 3
    # another root seed is another job: its folder is refused, not mixed
    again = invoke("experiment", spec, "--seeds", "3", "--seed", "12", "--months", "5",
                   "--workers", "1", "--out", out)
    assert again.exit_code == 2 and "holds another job" in " ".join(again.stderr.split())


@pytest.mark.parametrize("option, value", [("--seeds", "0"), ("--months", "0"),
                                           ("--seed", "-1")])
def test_experiment_refuses_bad_options_naming_them(tmp_path, option, value):
    out = tmp_path / "out"
    result = invoke("experiment", sweep(tmp_path), option, value, "--out", out)
    assert result.exit_code == 2 and option in result.output
    assert not out.exists()


def test_per_year_tables_sum_flows_and_keep_stocks_at_the_end_of_each_year(tmp_path, small):
    out = tmp_path / "out"
    result = invoke("run", small, "--seeds", "2", "--months", "30", "--workers", "1",
                    "--out", out, "--per-month")
    assert result.exit_code == 0, result.output
    year = pd.read_parquet(out / "per_year.parquet")
    runs = export.read_runs(out)
    assert list(year["year"]) == [1, 2, 3] and list(year["months"]) == [12, 12, 6]
    for y, months in ((1, range(1, 13)), (3, range(25, 31))):
        rows = runs[runs["step"].isin(months)]
        flow = rows.groupby("replication")["firm_entries"].sum().mean()
        stock = rows[rows["step"] == max(months)]["jobs"].mean()
        got = year.set_index("year").loc[y]
        assert got["firm_entries"] == pytest.approx(flow)
        assert got["jobs"] == pytest.approx(stock)
    month = pd.read_parquet(out / "per_month.parquet")
    assert list(month["month"]) == list(range(31))
    assert month["jobs"].to_numpy() == pytest.approx(
        runs.groupby("step")["jobs"].mean().to_numpy())


def test_export_writes_csv_and_one_excel_sheet_per_table_with_units(tmp_path, small):
    out = tmp_path / "out"
    result = invoke("run", small, "--seeds", "2", "--months", "14", "--workers", "1",
                    "--out", out, "--per-month", "--export", "csv,xlsx")
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(out / "export" / "tables.xlsx", read_only=True)
    assert book.sheetnames == ["per_year", "per_month", "final", "summary"]
    csvs = sorted(p.stem for p in (out / "export").glob("*.csv"))
    assert csvs == sorted(book.sheetnames)
    heads = {name: [c.value for c in next(book[name].iter_rows(max_row=1))]
             for name in book.sheetnames}
    assert "Jobs (persons)" in heads["per_year"]
    assert "Regional value added (MCU/year, summed over the year)" in heads["per_year"]
    assert "Regional value added (MCU/month)" in heads["per_month"]
    assert {"Indicator", "Unit", "Mean"} <= set(heads["final"])
    rows = list(book["per_year"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(pd.read_parquet(out / "per_year.parquet")) == 2
    csv = pd.read_csv(out / "export" / "per_year.csv")
    assert list(csv.columns) == heads["per_year"]


def test_a_failing_workbook_leaves_no_half_written_file(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")
    monkeypatch.setattr(export, "_fit_columns", broken)  # fails while the book is rendered
    table = pd.DataFrame({"label": ["a"], "year": [1], "jobs": [3.0]})
    with pytest.raises(OSError):
        export.export(tmp_path, {"per_year": table}, ("xlsx",))
    assert not (tmp_path / "export").exists() or not list((tmp_path / "export").iterdir())


def test_box_text_is_a_rule_in_words():
    assert box_text({"founder_rate": (0.006222221069037914, float("inf"))}) == \
        "founder_rate > 0.00622"
    assert box_text({"a": (None, 0.5), "b": (0.2, 0.61234)}) == "a ≤ 0.5 and 0.2 < b ≤ 0.612"
    assert box_text({}) == "all cases"


# --- helixsim results on every kind of folder ----------------------------------------------------

def results_of(folder: Path) -> tuple[str, dict]:
    text = invoke("results", folder)
    assert text.exit_code == 0, text.output
    data = invoke("results", folder, "--json")
    assert data.exit_code == 0, data.output
    assert "{'" not in text.stdout  # no Python dicts
    return text.stdout, json.loads(data.stdout)


def test_results_reads_run_compare_dividend_and_validate_folders(tmp_path, small):
    folders = {
        "run": ["run", small, "--seeds", "2"],
        "compare": ["compare", "baseline", small, "--seeds", "2"],
        "dividend": ["dividend", small, "--seeds", "2"],
        "validate": ["validate", "--region", "small", "--seeds", "2"],
    }
    expect = {"run": "Final values", "compare": "Differences against the baseline",
              "dividend": "Ecological dividend", "validate": "Calibration targets"}
    for kind, args in folders.items():
        out = tmp_path / kind
        months = [] if kind == "validate" else ["--months", "4"]
        result = invoke(*args, *months, "--workers", "1", "--out", out)
        assert result.exit_code in (0, 1), result.output  # validate: 1 when a target fails
        text, data = results_of(out)
        assert data["command"] == kind and expect[kind] in text
        assert "per-year table: per_year.parquet" in text
    # a dividend folder written before _result.json existed (make demo's): read from its tables
    (tmp_path / "dividend" / "_result.json").unlink()
    text, data = results_of(tmp_path / "dividend")
    assert data["command"] == "dividend" and "Ecological dividend" in text


def test_results_of_an_experiment_show_indices_and_readable_boxes(tmp_path):
    spec = sweep(tmp_path, "morris", analysis='[analysis]\noutput = "welfare"\n'
                                             'threshold = 0.0\n')
    out = tmp_path / "out"
    result = invoke("experiment", spec, "--workers", "1", "--out", out)
    assert result.exit_code == 0, result.output
    text, data = results_of(out)
    assert "Sensitivity indices" in text and "Scenario discovery" in text
    boxes = data["tables"][next(t for t in data["tables"] if t.startswith("Scenario"))]
    assert boxes and all(isinstance(b["rule"], str) and "inf" not in b["rule"] for b in boxes)
    outputs = {r["output"] for r in data["tables"][next(
        t for t in data["tables"] if t.startswith("Sensitivity"))]}
    assert outputs == {"welfare", "jobs", "startups_alive"}
    # every output gets its panel in the Morris figure
    assert (out / "figures" / "morris_base.png").stat().st_size > 10_000
    report = (out / "report.md").read_text()
    assert "μ*–σ plane of every output" in report


def test_results_refuses_a_folder_helixsim_did_not_write(tmp_path):
    result = invoke("results", tmp_path)
    assert result.exit_code == 2 and "not a helixsim results folder" in result.stderr


# --- design figures ------------------------------------------------------------------------------

def test_sweeps_and_hypercubes_get_partial_dependence_figures(tmp_path):
    for design in ("factorial", "lhs"):
        out = tmp_path / design
        result = invoke("experiment", sweep(tmp_path, design), "--workers", "1", "--out", out)
        assert result.exit_code == 0, result.output
        names = sorted(p.name for p in (out / "figures").glob("*.png"))
        expected = [f"partial_dependence_{o}.png" for o in ("jobs", "startups_alive",
                                                            "welfare")]
        expected += ["response_surface_welfare.png"] if design == "factorial" else []
        assert names == sorted(expected)


def test_figures_have_titles_labels_with_units_and_legends():
    rng = np.random.default_rng(3)
    summary = pd.DataFrame({"lever": ["a"] * 20 + ["b"] * 20,
                            "matching_rate": np.tile(np.linspace(0.2, 0.8, 20), 2),
                            "jobs": rng.normal(100, 5, 40)})
    fig = design_figures.partial_dependence(summary, ["matching_rate"], "jobs",
                                            factorial=False, title="t")
    ax = fig.axes[0]
    assert fig._suptitle.get_text() == "t"
    assert ax.get_xlabel() == "matching_rate (share of project cost)"
    assert ax.get_ylabel() == "Jobs (persons)"
    assert {"a", "b", "95% band of the mean"} <= {t.get_text() for t in fig.legends[0].get_texts()}
    assert len(ax.lines) == 2 and all(len(line.get_xdata()) == design_figures.BINS
                                      for line in ax.lines)
    tables = {o: pd.DataFrame({"factor": ["x", "y"], "mu": [1.0, 0.1], "mu_star": [1.0, 0.2],
                               "mu_star_conf": [0.1, 0.05], "sigma": [0.3, 0.4]})
              for o in ("welfare", "jobs", "dividend")}
    fig = design_figures.morris_plot(tables, title="m")
    visible = [a for a in fig.axes if a.get_visible()]
    assert len(visible) == 3
    assert all(a.get_title() for a in visible)
    assert {"σ = μ* (above: interactions or non-linearity)", "factor: μ* ± 95% interval"} == \
        {t.get_text() for t in fig.legends[0].get_texts()}
    assert "(MCU)" in visible[0].get_xlabel() and "(persons)" in visible[1].get_xlabel()


OPTIMISE = """description = "a tiny policy search"
scenario = "baseline"
horizon_months = 6
replications = 1
[parameters]
n_universities = 1
n_firms = 60
intake_per_university = 40
[[levers]]
parameter = "matching_rate"
low = 0.2
high = 0.8
[[objectives]]
indicator = "welfare"
dividend = true
robustness = "mean"
[uncertainty]
draws = 1
[[uncertainty.ranges]]
parameter = "graduate_premium"
low = 0.4
high = 1.2
[search]
population = 2
generations = 1
[recommend]
count = 1
draws = 1
replications = 1
"""


def test_calibrate_posterior_and_optimise_write_per_year_tables_and_read_back(
        tmp_path, monkeypatch):
    from experiments import calibration

    real = calibration.calibrate

    def small(**kwargs):  # the default region for 2 evaluations is minutes: a small one
        return real(**{**kwargs, "horizon": 14, "workers": 1,
                       "base": {"n_universities": 1, "n_firms": 60,
                                "intake_per_university": 40}})
    monkeypatch.setattr(calibration, "calibrate", small)
    spec = tmp_path / "opt.toml"
    spec.write_text(OPTIMISE)
    jobs = {
        "calibrate": ["calibrate", "--budget", "2", "--seeds", "1", "--no-write"],
        "posterior": ["posterior", "--budget", "8", "--waves", "2", "--seeds", "1",
                      "--check", "2", "--months", "6"],
        "optimise": ["optimise", spec],
    }
    expect = {"calibrate": "Fitted parameters", "posterior": "Posterior against prior",
              "optimise": "Pareto set"}
    for kind, args in jobs.items():
        out = tmp_path / kind
        result = invoke(*args, "--workers", "1", "--out", out, "--export", "xlsx")
        assert result.exit_code == 0, (kind, result.output)
        year = pd.read_parquet(out / "per_year.parquet")
        assert len(year) and "jobs" in year, kind
        sheets = openpyxl.load_workbook(out / "export" / "tables.xlsx",
                                        read_only=True).sheetnames
        assert "per_year" in sheets, (kind, sheets)
        text, data = results_of(out)
        assert data["command"] == kind and expect[kind] in text, text


def test_discovery_figure_shows_each_box_with_coverage_density_and_the_base_rate():
    rng = np.random.default_rng(5)
    x = pd.DataFrame({"transfer_rate": rng.uniform(0.01, 0.1, 80),
                      "founder_rate": rng.uniform(0.005, 0.02, 80)})
    y = ((x["transfer_rate"] > 0.05).astype(float) + rng.normal(0, 0.2, 80)).to_numpy()
    from experiments.sensitivity import discover

    boxes = discover(x, y, 0.5)
    fig = design_figures.discovery_plot(boxes, x, y, 0.5, output="dividend", title="d")
    bars, plane = fig.axes[:2]
    assert len(bars.patches) == 2 * len(boxes) >= 2
    assert [t.get_text().split(":")[0] for t in bars.get_yticklabels()] == \
        [f"box {i + 1}" for i in range(len(boxes))]
    labels = {t.get_text() for t in fig.legends[0].get_texts()}
    assert {"coverage", "density"} <= labels and any(t.startswith("base rate") for t in labels)
    assert plane.get_xlabel() == "transfer_rate (per month)"
    assert len(plane.collections) == 2 and len(plane.patches) == 1  # cases and the box


def test_uncertainty_and_precision_folders_keep_their_plan_and_read_back(tmp_path, small):
    out = tmp_path / "u"
    result = invoke("dividend", small, "--uncertainty", "2", "--months", "4", "--workers", "1",
                    "--out", out)
    assert result.exit_code == 0, result.output
    assert planned(result.stderr) == len(stored_runs(out)) == 8
    text, data = results_of(out)
    assert data["command"] == "dividend"
    assert "P(D(W) > 0)" in text and "Dividend over the parameter draws" in text
    assert (out / "per_year.parquet").is_file()
    out = tmp_path / "p"
    result = invoke("compare", "baseline", small, "--seeds", "2", "--precision", "0.0001",
                    "--max-seeds", "4", "--months", "3", "--workers", "1", "--out", out)
    assert result.exit_code == 0, result.output
    assert "plan: at most 8 runs" in result.stderr
    assert len(stored_runs(out)) <= 8


# --- a results folder used again -----------------------------------------------------------------

# The commands whose runs are stored in the folder's runs/ (the others keep their runs'
# tables in memory for the per-year tables).
STORED = ["run", "compare", "compare --precision", "compare --uncertainty", "dividend",
          "dividend --uncertainty", "experiment"]


def never_run(spec):
    raise AssertionError(f"{spec.label} ran again")


@pytest.mark.parametrize("name", STORED)
def test_after_a_model_change_a_folder_tabulates_and_counts_only_the_runs_of_its_batch(
        tmp_path, small, name, monkeypatch):
    """A model change gives new run ids (they hash the model's source): the same command into
    the same folder runs everything again and keeps the earlier model's runs on disk, but its
    per-year table and ``helixsim results`` are of its own runs only; run again with the same
    model, it reuses its stored runs."""
    out = tmp_path / "out"
    args = [*commands(tmp_path, small)[name], "--workers", "1", "--out", out]
    first = invoke(*args)
    assert first.exit_code == 0, first.output
    before = pd.read_parquet(out / "per_year.parquet")
    n = len(run_files.index(out))
    assert results_of(out)[1]["finished_runs"] == n
    # Another model: the same numbers (the code is the same) under other run ids.
    monkeypatch.setattr(runner, "model_version", lambda: "0.0+changed")
    again = invoke(*args)
    assert again.exit_code == 0, again.output
    assert len(run_files.index(out)) == 2 * n  # the earlier model's runs are kept
    pd.testing.assert_frame_equal(pd.read_parquet(out / "per_year.parquet"), before)
    text, data = results_of(out)
    assert data["finished_runs"] == n and data["other_runs"] == n
    assert f"runs/ also holds {n:,} runs" in " ".join(text.split())
    # The same model again (a resumed batch): its runs are read back, none runs again.
    monkeypatch.setattr(runner, "run_one", never_run)
    resumed = invoke(*args)
    assert resumed.exit_code == 0, resumed.output
    pd.testing.assert_frame_equal(pd.read_parquet(out / "per_year.parquet"), before)
    assert results_of(out)[1]["finished_runs"] == n


def test_optimise_tabulates_only_its_search_and_a_rerun_reuses_its_runs(tmp_path, monkeypatch):
    """A search's folder refuses another model (its checkpoint names the model), so the
    earlier runs here are written as another batch's: copies under other run ids. A rerun
    replays the checkpointed generations, whose runs no evaluation asks for again: the
    per-year table still holds them, and none of the copies."""
    spec = tmp_path / "opt.toml"
    spec.write_text(OPTIMISE)
    out = tmp_path / "out"
    args = ["optimise", spec, "--workers", "1", "--out", out]
    first = invoke(*args)
    assert first.exit_code == 0, first.output
    before = pd.read_parquet(out / "per_year.parquet")
    mine = run_files.read_runs(out, run_files.index(out))
    other = {run_id: f"{int(run_id, 16) ^ 1:016x}" for run_id in mine}  # another run's id
    run_files.write_runs(out, [(other[i], df.assign(run_id=other[i])) for i, df in mine.items()])
    monkeypatch.setattr(runner, "run_one", never_run)
    again = invoke(*args)
    assert again.exit_code == 0, again.output
    pd.testing.assert_frame_equal(pd.read_parquet(out / "per_year.parquet"), before)
    data = results_of(out)[1]
    assert data["finished_runs"] == data["other_runs"] == len(mine) > 0


def test_fewer_seeds_into_a_folder_of_more_tabulate_and_count_only_the_seeds_asked(tmp_path,
                                                                                   small):
    """More seeds is the same job (it resumes), so fewer after more is too: the runs of the
    extra seeds stay stored, out of this result's tables and counts."""
    out = tmp_path / "out"
    for seeds in ("3", "2"):
        result = invoke("run", small, "--seeds", seeds, "--months", "6", "--workers", "1",
                        "--out", out)
        assert result.exit_code == 0, result.output
    assert set(pd.read_parquet(out / "per_year.parquet")["runs"]) == {2}
    data = results_of(out)[1]
    assert (data["finished_runs"], data["other_runs"]) == (2, 1)


REAL_RUN_ONE = runner.run_one  # the model's, before a test replaces it


def stop_after(count: int):
    """A ``run_one`` that makes ``count`` runs, then is interrupted (Ctrl-C)."""
    real, done = REAL_RUN_ONE, []

    def run_one(spec):
        if len(done) == count:
            raise KeyboardInterrupt
        done.append(spec.run_id)
        return real(spec)
    return run_one


@pytest.mark.parametrize("name", STORED)
def test_an_interrupted_rerun_after_a_model_change_counts_only_its_own_runs(
        tmp_path, small, name, monkeypatch):
    """The same command after a model change, interrupted after one of its runs: results
    shows it interrupted, with its own run finished and the earlier model's runs apart (its
    record lists the runs it planned: the manifest, or the job file of run, compare and
    dividend), and none of the earlier job's tables (they are still on disk)."""
    from experiments import ownership

    out = tmp_path / "out"
    args = [*commands(tmp_path, small)[name], "--workers", "1", "--out", out]
    assert invoke(*args).exit_code == 0
    n = len(run_files.index(out))
    monkeypatch.setattr(runner, "model_version", lambda: "0.0+changed")
    monkeypatch.setenv(run_files.STORE_ENV, "0")  # each run stored as it ends
    monkeypatch.setattr(runner, "run_one", stop_after(1))
    assert invoke(*args).exit_code != 0
    ownership.release(out)  # the interrupted process would have ended, its lock with it
    assert (out / "_result.json").is_file() and (out / "summary.parquet").is_file()
    text, data = results_of(out)
    assert data["status"] == "interrupted" and data["tables"] == {}
    assert data["finished_runs"] == 1 and data["other_runs"] == n
    # --precision plans its first seeds, then more: planned so far, at most the earlier job's
    assert data["planned_runs"] <= n if "--precision" in name else data["planned_runs"] == n
    assert "earlier finished job's result" in text


def test_an_interrupted_search_after_a_model_change_counts_only_its_own_runs(
        tmp_path, monkeypatch):
    """A search interrupted in its first generation (no checkpoint yet, so another model may
    start it again), then again after a model change: its manifest lists the runs asked for
    so far, so results counts the one run of this search, not the earlier model's three."""
    spec = tmp_path / "opt.toml"
    spec.write_text(OPTIMISE)
    out = tmp_path / "out"
    args = ["optimise", spec, "--workers", "1", "--out", out]
    monkeypatch.setenv(run_files.STORE_ENV, "0")  # each run stored as it ends
    monkeypatch.setattr(runner, "run_one", stop_after(3))  # the start (2 runs) and one more
    assert invoke(*args).exit_code != 0
    assert not (out / "checkpoint" / "checkpoint.json").exists()
    assert len(run_files.index(out)) == 3
    monkeypatch.setattr(runner, "model_version", lambda: "0.0+changed")
    monkeypatch.setattr(runner, "run_one", stop_after(1))
    assert invoke(*args).exit_code != 0
    text, data = results_of(out)
    assert data["status"] == "interrupted"
    assert data["finished_runs"] == 1 and data["other_runs"] == 3
    assert "runs/ also holds 3 runs" in " ".join(text.split())


def test_a_search_interrupted_while_it_replays_its_checkpoint_counts_the_replayed_runs(
        tmp_path, monkeypatch):
    """A rerun of a finished search reads its generations back from the checkpoint (no runs)
    and is interrupted before it asks for a run: its manifest already lists the replayed
    generations' runs, so results counts them as the search's, not as another job's."""
    from experiments import optimise

    spec = tmp_path / "opt.toml"
    spec.write_text(OPTIMISE)
    out = tmp_path / "out"
    args = ["optimise", spec, "--workers", "1", "--out", out]
    assert invoke(*args).exit_code == 0
    stored = len(run_files.index(out))

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(optimise.ModelEvaluator, "__call__", interrupted)
    assert invoke(*args).exit_code != 0
    _, data = results_of(out)
    assert data["status"] == "interrupted"
    # The replayed generations are the search's; only the fresh re-evaluation's runs, not yet
    # asked for again, are apart.
    assert data["finished_runs"] > 0
    assert data["finished_runs"] + data["other_runs"] == stored


@pytest.mark.parametrize("kind", ["experiment", "optimise"])
def test_a_folder_is_not_complete_before_its_per_year_table_and_result(
        tmp_path, monkeypatch, kind):
    """Killed after its report but before the command wrote per_year.parquet and
    _result.json, an experiment's or a search's folder says interrupted, not complete; the
    same command writes them without running anything again, and only then says complete."""
    from experiments import ownership

    out = tmp_path / "out"
    if kind == "optimise":
        (tmp_path / "opt.toml").write_text(OPTIMISE)
    spec = tmp_path / "opt.toml" if kind == "optimise" else sweep(tmp_path)
    args = [kind, spec, "--workers", "1", "--out", out]
    real = export.finish

    def killed(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(export, "finish", killed)
    assert invoke(*args).exit_code != 0
    ownership.release(out)  # the killed process would have ended, its lock with it
    assert (out / "report.md").is_file() and not (out / "per_year.parquet").exists()
    assert results_of(out)[1].get("status") == "interrupted"
    monkeypatch.setattr(export, "finish", real)
    monkeypatch.setattr(runner, "run_one", never_run)
    assert invoke(*args).exit_code == 0
    assert (out / "per_year.parquet").is_file()
    assert json.loads((out / "_manifest.json").read_text())["status"] == "complete"


@pytest.mark.parametrize("kind", ["experiment", "optimise"])
def test_a_finished_folder_names_the_machine_kind_of_its_runs(tmp_path, kind):
    """The manifest of a finished experiment or search lists the machine kinds its runs were
    made on, as the report's provenance table does; a run stored by a machine of the other
    kind, read back when the command runs again, makes both kinds."""
    from run_kinds import relabel, two_kinds

    from experiments.machine_kind import KINDS, WORDS, vector_maths

    here = vector_maths()
    other = next(k for k in KINDS if k != here)
    out = tmp_path / "out"
    if kind == "optimise":
        (tmp_path / "opt.toml").write_text(OPTIMISE)
    spec = tmp_path / "opt.toml" if kind == "optimise" else sweep(tmp_path)
    args = [kind, spec, "--workers", "1", "--out", out]
    assert invoke(*args).exit_code == 0
    assert json.loads((out / "_manifest.json").read_text())["machine_kinds"] == [here]
    assert f"| Vector maths | {WORDS[here]} |" in (out / "report.md").read_text()
    # One stored run relabelled as the other kind's; the command reads every run back.
    relabel(out, run_files.stored_runs(out)[:1], other)
    assert invoke(*args).exit_code == 0
    assert json.loads((out / "_manifest.json").read_text())["machine_kinds"] == [
        k for k in KINDS if k in (here, other)]
    both = two_kinds(here, other)
    assert f"| Vector maths | {both}:" in (out / "report.md").read_text()
