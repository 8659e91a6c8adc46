"""The scenario commands end to end on a small region: exact zeros, efficiency, workers, errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from experiments import commands, run_files
from experiments.run_files import stored_runs
from helixsim.cli import app
from simulation.parameters import CHANNELS

SMALL = """
n_universities = 2
n_firms = 120
intake_per_university = 120
horizon_months = 14
"""


def scenario(tmp_path: Path, name: str, extends: str = "model_3_0", extra: str = "") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(f'description = "{name} on a small region"\nextends = "{extends}"\n'
                    f"[parameters]\n{SMALL}{extra}")
    return path


def test_dividend_of_a_scenario_with_every_channel_closed_is_exactly_zero(tmp_path):
    closed = "".join(f"channel_{c} = false\n" for c in CHANNELS)
    path = scenario(tmp_path, "closed", extra=closed)
    result = commands.dividend(str(path), seeds=3, workers=1, out=tmp_path / "out",
                               baseline=None)
    for row in result["dividend"]:
        assert (row["dividend"], row["low"], row["high"]) == (0.0, 0.0, 0.0), row["indicator"]


def test_shapley_values_add_up_to_the_dividend_of_opening_every_channel(tmp_path):
    path = scenario(tmp_path, "small3")
    result = commands.dividend(str(path), seeds=3, workers=1, out=tmp_path / "out",
                               attribution=True, baseline=None)
    total = sum(row["mean"] for row in result["shapley"])
    assert total == pytest.approx(result["shapley_total"], rel=1e-9, abs=1e-9)
    # The scenario opens every channel, so that total is the dividend itself.
    welfare = next(r for r in result["dividend"] if r["indicator"] == "welfare")
    assert total == pytest.approx(welfare["dividend"], rel=1e-9)
    assert welfare["dividend"] != 0
    report = Path(result["report"])
    assert report.exists() and (report.parent / "report.html").exists()
    assert (report.parent / "figures" / "shapley_waterfall.png").exists()


def test_compare_a_with_a_is_exactly_zero(tmp_path):
    a = scenario(tmp_path, "a")
    b = scenario(tmp_path, "b")  # the same content under another name
    result = commands.compare_scenarios([str(a), str(b)], seeds=3, workers=1,
                                        out=tmp_path / "out")
    for row in result["differences"]:
        assert (row["difference"], row["low"], row["high"]) == (0.0, 0.0, 0.0)


def test_results_do_not_depend_on_the_number_of_workers(tmp_path):
    path = scenario(tmp_path, "w")
    one = commands.run_scenario(str(path), seeds=3, workers=1, out=tmp_path / "one")
    two = commands.run_scenario(str(path), seeds=3, workers=2, out=tmp_path / "two")
    s1 = pd.read_parquet(tmp_path / "one" / "summary.parquet")
    s2 = pd.read_parquet(tmp_path / "two" / "summary.parquet")
    pd.testing.assert_frame_equal(s1, s2)
    assert one["final"] == two["final"]


def test_an_interrupted_run_resumes_from_its_parquet_files(tmp_path, monkeypatch):
    path = scenario(tmp_path, "r")
    out = tmp_path / "out"
    monkeypatch.setattr(run_files, "FILE_RUNS", 1)  # a file per run, to lose one of them
    commands.run_scenario(str(path), seeds=3, workers=1, out=out)
    files = sorted((out / "runs").glob("*.parquet"))
    assert len(files) == len(stored_runs(out)) == 3
    files[0].unlink()  # as if killed before the last run was stored
    stamps = {f: f.stat().st_mtime_ns for f in files[1:]}
    again = commands.run_scenario(str(path), seeds=3, workers=1, out=out)
    assert all(f.stat().st_mtime_ns == t for f, t in stamps.items())  # not rerun
    assert files[0].exists() and len(again["final"]) > 0
    assert len(stored_runs(out)) == 3


def test_cli_bad_scenario_exits_2_with_one_line_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('description = "x"\n[parameters]\nn_firm = 3\n')
    out = tmp_path / "never"
    for command in (["run", str(bad)], ["dividend", str(bad)],
                    ["compare", "baseline", str(bad)]):
        result = CliRunner().invoke(app, [*command, "--out", str(out), "--seeds", "2"])
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        assert "parameters.n_firm: unknown parameter" in result.output
        assert not out.exists()


def test_cli_json_output_is_machine_readable(tmp_path):
    path = scenario(tmp_path, "j")
    result = CliRunner().invoke(app, ["dividend", str(path), "--seeds", "2", "--workers", "1",
                                      "--out", str(tmp_path / "o"), "--json",
                                      "--baseline", str(path)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["scenario"] == "j"
    assert {r["indicator"] for r in data["dividend"]} >= {"welfare", "jobs", "gov_net_fiscal"}
    assert np.isfinite(data["dividend"][0]["dividend"])


def test_a_results_folder_belongs_to_one_batch_job(tmp_path):
    """run, compare and dividend claim their folder: the same job resumes in it (more seeds
    included), another job is refused with exit 2 and one line suggesting a new folder, and the
    folder keeps the first job's runs only."""
    a, b = scenario(tmp_path, "a"), scenario(tmp_path, "b", extends="baseline")
    out = tmp_path / "o"

    def run(*args: str):
        return CliRunner().invoke(app, [*args, "--workers", "1", "--months", "14",
                                        "--out", str(out), "--json"])

    first = run("run", str(a), "--seeds", "2")
    assert first.exit_code == 0, first.output
    assert json.loads((out / "_job.json").read_text())["status"] == "done"
    again = run("run", str(a), "--seeds", "3")  # the same job, one more seed: resumes
    assert again.exit_code == 0, again.output
    runs = sorted(p.name for p in (out / "runs").glob("*.parquet"))
    assert len(stored_runs(out)) == 3
    for other in (("run", str(b), "--seeds", "2"), ("run", str(a), "--seeds", "2", "--seed", "5"),
                  ("dividend", str(a), "--seeds", "2", "--baseline", str(a))):
        refused = run(*other)
        assert refused.exit_code == 2, (other, refused.output)
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1 and "holds another job" in lines[0] and "--out" in lines[0]
    assert sorted(p.name for p in (out / "runs").glob("*.parquet")) == runs


def _printed(args: list[str]) -> str:
    """What a command prints on a wide terminal (so no label is folded over two lines)."""
    result = CliRunner().invoke(app, [*args, "--workers", "1"], env={"COLUMNS": "220"})
    assert result.exit_code == 0, result.output
    return result.stdout


def test_terminal_tables_show_indicators_by_label_and_numbers_for_people(tmp_path):
    a, b = scenario(tmp_path, "a"), scenario(tmp_path, "b", extends="baseline")
    run = _printed(["run", str(a), "--seeds", "2", "--out", str(tmp_path / "r")])
    compare = _printed(["compare", str(b), str(a), "--seeds", "2", "--out", str(tmp_path / "c")])
    dividend = _printed(["dividend", str(a), "--seeds", "2", "--baseline", str(b),
                         "--out", str(tmp_path / "d")])
    for text in (run, compare, dividend):
        assert not re.search(r"\d[eE][+-]?\d", text), text  # no scientific notation
        assert "Graduates employed in the region (persons)" in text
        assert "Welfare W, discounted value added (MCU)" in text
        for raw in ("alumni_employed", "welfare ", "value_added", "startups_alive"):
            assert raw not in text, (raw, text)
    # the run's table has every indicator: shares as percentages, large numbers with commas
    assert "Graduates who left the region (persons)" in run and "alumni_left" not in run
    retention = next(line for line in run.splitlines() if "Graduates still in the region" in line)
    assert "(%)" in retention and re.search(r"\d%", retention)
    assert re.search(r"\d,\d{3}", run)
    # differences carry a sign, relative changes are percentages
    welfare = next(line for line in compare.splitlines() if "Welfare W" in line)
    assert re.search(r"[+-]\d", welfare) and re.search(r"\d%", welfare)
