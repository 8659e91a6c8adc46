"""Small real experiments of every design, end to end: plan, run, store, analyse, report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from experiments import run_files
from experiments.experiment import plan, run_experiment
from experiments.run_files import stored_runs
from experiments.specs import load
from helixsim.cli import app

TINY = """description = "tiny region"
extends = "baseline"
[parameters]
n_universities = 1
n_firms = 60
intake_per_university = 60
horizon_months = 13
"""

DESIGNS = {
    "factorial": ("[design]\ntype = \"factorial\"\n", "levels = [0.2, 0.8]", 2),
    "lhs": ("[design]\ntype = \"lhs\"\nsamples = 3\n", "low = 0.2\nhigh = 0.8", 3),
    "sobol": ("[design]\ntype = \"sobol\"\nsamples = 2\n", "low = 0.2\nhigh = 0.8", 2 * 4),
    "morris": ("[design]\ntype = \"morris\"\nsamples = 2\nlevels = 4\n",
               "low = 0.2\nhigh = 0.8", 2 * 3),
}


def write_spec(tmp_path: Path, design: str, extra: str = "") -> Path:
    (tmp_path / "tiny.toml").write_text(TINY)
    head, bounds, _ = DESIGNS[design]
    spec = tmp_path / f"{design}.toml"
    spec.write_text(f'description = "{design}"\nscenario = "tiny.toml"\nreplications = 2\n'
                    f'outputs = ["welfare", "jobs"]\n{extra}\n{head}'
                    f'[[factors]]\nparameter = "matching_rate"\n{bounds}\n'
                    f'[[factors]]\nparameter = "founder_rate"\n'
                    f'{bounds.replace("0.2", "0.005").replace("0.8", "0.02")}\n')
    return spec


@pytest.mark.parametrize("design", list(DESIGNS))
def test_each_design_runs_stores_and_reports(tmp_path, design):
    spec = load(write_spec(tmp_path, design))
    points = DESIGNS[design][2] * (2 if design == "factorial" else 1)
    x, runs, _ = plan(spec)
    assert len(x) == points and len(runs) == points * 2
    out = tmp_path / "out"
    result = run_experiment(spec, out=out, workers=1)
    assert result["failed"] == 0
    summary = pd.read_parquet(out / "summary.parquet")
    assert len(summary) == points * 2
    assert set(summary["replication"]) == {0, 1}
    assert np.isfinite(summary[["welfare", "jobs"]].to_numpy()).all()
    # every run of the design is stored once, under its run id
    assert len(stored_runs(out)) == len(set(stored_runs(out))) == points * 2
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["design"] == design and manifest["status"] == "complete"
    assert manifest["spec"] == spec.text and "versions" in manifest
    assert (out / "report.md").exists() and (out / "report.html").exists()
    if design in ("sobol", "morris"):
        assert result["indices"]["base"], result


def test_levers_share_points_and_seeds_and_dividend_is_paired(tmp_path):
    levers = ('[[levers]]\nname = "a"\n[levers.parameters]\nshare_edu_3_0 = 0.0\n'
              '[[levers]]\nname = "b"\n[levers.parameters]\nshare_edu_3_0 = 0.6\n')
    path = write_spec(tmp_path, "lhs", extra="dividend = true\n[analysis]\nreference = \"a\"\n"
                                            "threshold = 0.0\n")
    text = path.read_text().replace("[design]", levers + "[design]")
    path.write_text(text)
    spec = load(path)
    out = tmp_path / "out"
    run_experiment(spec, out=out, workers=1)
    s = pd.read_parquet(out / "summary.parquet")
    a, b = (s[s["lever"] == k].set_index(["point", "replication"]) for k in ("a", "b"))
    pd.testing.assert_frame_equal(a[["matching_rate", "founder_rate"]],
                                  b[["matching_rate", "founder_rate"]])
    np.testing.assert_allclose(s["dividend"], s["welfare"] - s["welfare_siloed"])
    report = (out / "report.md").read_text()
    assert "b - a pays off" in report


def test_results_command_and_duckdb_query_the_folder(tmp_path):
    spec = write_spec(tmp_path, "factorial")
    out = tmp_path / "res"
    r = CliRunner().invoke(app, ["experiment", str(spec), "--out", str(out), "--workers", "1",
                                 "--json"])
    assert r.exit_code == 0, r.output
    info = CliRunner().invoke(app, ["results", str(out), "--json"])
    assert info.exit_code == 0, info.output
    data = json.loads(info.stdout)
    assert data["finished_runs"] == data["planned_runs"] == 8
    n = duckdb.sql(f"select count(distinct run_id) from '{out}/runs/*.parquet'").fetchall()[0][0]
    assert n == 8


def test_a_folder_with_a_run_file_of_another_format_exits_2_and_is_left_as_it_was(tmp_path):
    import pyarrow.parquet as pq

    spec = write_spec(tmp_path, "factorial")
    out = tmp_path / "res"
    r = CliRunner().invoke(app, ["experiment", str(spec), "--out", str(out), "--workers", "1"])
    assert r.exit_code == 0, r.output
    # One run file as a later version might write it (another format number).
    path = sorted((out / "runs").glob("part-*.parquet"))[0]
    table = pq.read_table(path)
    meta = json.loads(table.schema.metadata[run_files.META_KEY.encode()])
    pq.write_table(table.replace_schema_metadata({
        **table.schema.metadata, run_files.META_KEY.encode(): json.dumps({**meta, "format": 2})}),
        path)
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    r = CliRunner().invoke(app, ["experiment", str(spec), "--out", str(out), "--workers", "1"])
    assert r.exit_code == 2, r.output
    assert f"{path.name}: {run_files.META_KEY}: a run file of format 2" in r.output
    assert "Traceback" not in r.output
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def footer_reads(monkeypatch) -> dict[str, int]:
    """How often each run file's footer is read from now on (by file name)."""
    reads: dict[str, int] = {}
    real = run_files._runs_of

    def counted(path):
        reads[path.name] = reads.get(path.name, 0) + 1
        return real(path)
    monkeypatch.setattr(run_files, "_runs_of", counted)
    return reads


def test_a_resumed_experiment_and_results_read_each_run_file_footer_once(tmp_path,
                                                                        monkeypatch):
    """The experiment checks its folder's run files before it writes anything, then runs
    what is missing: one read of the folder for both; results counts the runs stored with
    one read too."""
    from experiments.summaries import summarise

    spec = load(write_spec(tmp_path, "factorial"))
    out = tmp_path / "out"
    monkeypatch.setattr(run_files, "FILE_RUNS", 3)  # several files
    run_experiment(spec, out=out, workers=1)
    files = sorted(p.name for p in (out / "runs").glob("part-*.parquet"))
    assert len(files) > 1
    reads = footer_reads(monkeypatch)
    again = run_experiment(spec, out=out, workers=1)  # resumed: every run is stored
    assert again["failed"] == 0 and reads == dict.fromkeys(files, 1)
    reads.clear()
    assert summarise(out).data["finished_runs"] == 8
    assert reads == dict.fromkeys(files, 1)


def test_invalid_spec_exits_2_and_writes_nothing(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('description = "x"\n[design]\ntype = "grid"\n')
    out = tmp_path / "never"
    r = CliRunner().invoke(app, ["experiment", str(bad), "--out", str(out)])
    assert r.exit_code == 2
    assert "design.type: expected one of" in r.output and "Traceback" not in r.output
    assert not out.exists()


def test_experiment_killed_mid_run_resumes_to_the_same_results(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time

    spec = write_spec(tmp_path, "factorial")
    text = spec.read_text().replace("replications = 2", "replications = 4")
    spec.write_text(text)
    (tmp_path / "tiny.toml").write_text(TINY.replace("horizon_months = 13",
                                                     "horizon_months = 48"))
    out = tmp_path / "killed"
    cmd = [sys.executable, "-c", "from helixsim.cli import main; main()", "experiment",
           str(spec), "--out", str(out), "--workers", "1", "--json"]
    # Each run stored as it ends (not a second's worth a file): the whole batch takes less.
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True,
                            env={**os.environ, run_files.STORE_ENV: "0"})
    deadline = time.time() + 60
    while time.time() < deadline:
        done = stored_runs(out)
        if len(done) >= 3 or proc.poll() is not None:
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    finished_before = len(stored_runs(out))
    assert 0 < finished_before < 16, "kill the experiment while it is running"
    assert not (out / "summary.parquet").exists()

    resumed = run_experiment(load(spec), out=out, workers=1)
    assert resumed["failed"] == 0
    assert len(stored_runs(out)) == 16
    clean_out = tmp_path / "clean"
    run_experiment(load(spec), out=clean_out, workers=1)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "summary.parquet"),
                                  pd.read_parquet(clean_out / "summary.parquet"))


def test_the_manifest_says_complete_only_once_the_report_is_written(tmp_path, monkeypatch):
    """A kill while the report is written (here: the report's writer fails) leaves the
    manifest "running", so that results shows the job as interrupted and the same command
    finishes it, never "complete" with no report."""
    from experiments import experiment, ownership

    def killed(out, *args, **kwargs):
        assert json.loads((out / "_manifest.json").read_text())["status"] == "running"
        raise KeyboardInterrupt

    monkeypatch.setattr(experiment.report, "write_report", killed)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_experiment(load(write_spec(tmp_path, "factorial")), out=out, workers=1)
    info = json.loads((out / "_manifest.json").read_text())
    assert not (out / "report.md").exists()
    assert ownership.status(out, info["status"]) == "interrupted"


def _table_text(html_text: str, caption: str) -> str:
    """The header and cells of the report table whose caption contains ``caption``."""
    import html
    import re

    for cap, body in re.findall(r"<caption>(.*?)</caption>(.*?)</table>", html_text, re.S):
        if caption in html.unescape(cap):
            return html.unescape(re.sub(r"<[^>]+>", " ", body))
    raise AssertionError(f"no table {caption!r}")


def test_means_tables_show_outputs_by_label_with_units_and_keep_raw_names_in_csv(tmp_path):
    spec = write_spec(tmp_path, "factorial")
    spec.write_text(spec.read_text().replace('outputs = ["welfare", "jobs"]',
                                             'outputs = ["welfare", "alumni_left"]\n'
                                             'dividend = true'))
    out = tmp_path / "res"
    r = CliRunner().invoke(app, ["experiment", str(spec), "--out", str(out), "--workers", "1"],
                           env={"COLUMNS": "220"})
    assert r.exit_code == 0, r.output
    page = (out / "report.html").read_text()
    # the report opens with its summary in words (tests/test_experiment_summary.py)
    assert (out / "report.md").read_text().split("\n## ")[1].startswith("Summary\n")
    for caption in ("Mean outputs per lever", "Mean outputs per design point"):
        text = _table_text(page, caption)
        assert "Graduates who left the region (persons)" in text
        assert "Welfare W, discounted value added (MCU)" in text and "Dividend D(W)" in text
        assert "alumni_left" not in text and "welfare " not in text
        assert not re.search(r"\d[eE][+-]?\d", text)
    assert "matching_rate (share of project cost)" in _table_text(page, "per design point")
    # the terminal summary (helixsim results) labels them too
    for printed in (r.stdout, CliRunner().invoke(app, ["results", str(out)],
                                                 env={"COLUMNS": "220"}).stdout):
        assert "Graduates who left the region" in printed and "alumni_left" not in printed
        assert not re.search(r"\d[eE][+-]?\d", printed)
    # raw names and unformatted numbers stay in the CSV and Parquet files
    csv = pd.read_csv(out / "tables" / "means_per_point.csv")
    assert {"alumni_left", "welfare", "dividend", "matching_rate"} <= set(csv.columns)
    assert "alumni_left" in pd.read_parquet(out / "summary.parquet")
