"""Calibration: the objective, the optimiser, the calibration file and ``helixsim calibrate``."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from experiments import calibration as c
from experiments import validation as v
from helixsim.cli import app
from simulation import calibrated, parameters

TWO_SIDED = [t for t in v.TARGETS if math.isfinite(t.high)]
ONE_SIDED = [t for t in v.TARGETS if not math.isfinite(t.high)]


# --- the objective -------------------------------------------------------------------------------

@pytest.mark.parametrize("target", TWO_SIDED, ids=lambda t: t.key)
def test_two_sided_term_is_zero_at_the_centre_one_at_the_bounds_more_outside(target):
    centre = (target.low + target.high) / 2
    width = target.high - target.low
    assert c.term(target, centre) == 0.0
    assert c.term(target, target.low) == pytest.approx(1.0)
    assert c.term(target, target.high) == pytest.approx(1.0)
    assert c.term(target, target.high + 0.1 * width) > 1.0
    assert c.term(target, target.low - 0.1 * width) > 1.0


@pytest.mark.parametrize("target", ONE_SIDED, ids=lambda t: t.key)
def test_one_sided_term_is_zero_when_met_and_positive_when_not(target):
    assert c.term(target, target.low) == 0.0
    assert c.term(target, target.low + 10.0) == 0.0
    assert c.term(target, target.low - 0.05) > 0.0


def test_missing_moment_costs_the_penalty():
    assert c.term(v.TARGETS[0], math.nan) == c.MISSING_PENALTY
    assert c.objective({}) == c.MISSING_PENALTY * len(v.TARGETS)


def _centres() -> dict[str, float]:
    return {t.key: (t.low + t.high) / 2 if math.isfinite(t.high) else t.low + 1.0
            for t in v.TARGETS}


def test_objective_is_zero_at_every_centre_and_grows_with_a_miss():
    m = _centres()
    assert c.objective(m) == 0.0
    m["cis_cooperation"] = 0.31  # the uncalibrated model's share: far above 8-15%
    assert c.objective(m) == pytest.approx(((0.31 - 0.115) / 0.035) ** 2)


# --- free parameters -----------------------------------------------------------------------------

@pytest.mark.parametrize("free", c.FREE, ids=lambda p: p.name)
def test_free_parameter_bounds_lie_in_the_parameter_table_range(free):
    p = parameters.PARAMETERS[free.name]
    assert p.kind == "float"
    assert p.low <= free.low < free.high <= p.high
    assert free.low <= parameters.DEFAULTS[free.name] <= free.high
    assert set(free.informs) <= set(v.STATISTICS)


@pytest.mark.parametrize("free", c.FREE, ids=lambda p: p.name)
def test_unit_cube_transform_round_trips_and_clips(free):
    for x in (0.0, 0.3, 1.0):
        assert free.to_unit(free.from_unit(x)) == pytest.approx(x, abs=1e-12)
    assert free.from_unit(0.0) == pytest.approx(free.low)
    assert free.from_unit(1.0) == pytest.approx(free.high)
    assert free.from_unit(-1.0) == pytest.approx(free.low)
    assert free.to_unit(free.high * 10 + 1) == 1.0


# --- the optimiser on an analytic problem --------------------------------------------------------

FREE2 = (c.FreeParameter("search_rate", 0.001, 0.1, True, ("cis_cooperation",), "test"),
         c.FreeParameter("leave_with_offer", 0.0, 1.0, False, ("graduate_retention",), "test"))
TRUTH = {"search_rate": 0.01, "leave_with_offer": 0.3}


def analytic(calls: list | None = None):
    """Moments that hit the centre of every target exactly at TRUTH and drift linearly away
    from it (CIS with log search rate, retention with the leaving probability)."""
    def evaluate(params: dict[str, float]) -> dict[str, float]:
        if calls is not None:
            calls.append(dict(params))
        m = _centres()
        m["cis_cooperation"] += 0.05 * math.log(params["search_rate"] / TRUTH["search_rate"])
        m["graduate_retention"] -= 0.4 * (params["leave_with_offer"] - TRUTH["leave_with_offer"])
        return m
    return evaluate


def test_fit_finds_the_known_optimum_of_an_analytic_problem():
    start = {"search_rate": 0.05, "leave_with_offer": 0.05}
    result = c.fit(analytic(), FREE2, start, budget=150)
    assert result.start_objective > 5.0
    assert result.best_objective < 1e-3
    assert result.best["search_rate"] == pytest.approx(TRUTH["search_rate"], rel=0.05)
    assert result.best["leave_with_offer"] == pytest.approx(TRUTH["leave_with_offer"], abs=0.02)
    assert result.best_objective == result.history["objective"].min()
    assert len(result.history) <= 150 + 1  # scipy may overrun maxfev by one


def test_fit_replays_its_cache_without_evaluating_again():
    start = {"search_rate": 0.05, "leave_with_offer": 0.05}
    first_calls: list = []
    first = c.fit(analytic(first_calls), FREE2, start, budget=40)
    again_calls: list = []
    again = c.fit(analytic(again_calls), FREE2, start, budget=40, cache=first.history)
    assert len(first_calls) == first.evaluations > 0
    assert again_calls == []
    assert again.reused == len(again.history)
    assert again.best == first.best


def test_fit_rejects_a_zero_budget():
    with pytest.raises(ValueError, match="budget"):
        c.fit(analytic(), FREE2, TRUTH, budget=0)


# --- the calibration file ------------------------------------------------------------------------

def _calibration(**values: float) -> calibrated.Calibration:
    return calibrated.Calibration(
        values=values, bounds={k: (0.001, 0.1) for k in values},
        previous={k: parameters.DEFAULTS[k] for k in values},
        provenance={"date": "2026-01-02", "objective": 0.5, "seeds": 4,
                    "targets": ["a", "b"], "method": 'quoted "text"'})


def test_calibration_file_round_trips(tmp_path):
    cal = _calibration(search_rate=0.0123)
    path = c.write_calibration(cal, tmp_path / "cal.toml")
    back = calibrated.read(path)
    assert back == cal
    assert not list(tmp_path.glob(".*.tmp"))  # no temporary file left


def test_an_absent_calibration_file_is_an_error_not_an_empty_calibration(tmp_path):
    """A missing file used to read as "no calibration": the model ran uncalibrated, silently."""
    path = tmp_path / "none.toml"
    with pytest.raises(calibrated.CalibrationFileError) as err:
        calibrated.read(path)
    assert str(err.value).startswith(f"{path}: calibration file not found")
    assert "\n" not in str(err.value)


def test_defaults_come_from_the_calibration_file_on_first_use(monkeypatch, tmp_path):
    """The file is read when defaults are first needed, and a missing one stops that use."""
    monkeypatch.setattr(parameters, "_LOADED", None)
    monkeypatch.setattr(parameters, "CALIBRATION_FILE", tmp_path / "none.toml")
    with pytest.raises(calibrated.CalibrationFileError, match="calibration file not found"):
        parameters.resolve()


@pytest.mark.parametrize(("text", "key"), [
    ("[parameters.search_rate]\nvalue = 'x'\n", "parameters.search_rate.value"),
    ("[parameters.search_rate]\nlow = 1.0\n", "parameters.search_rate.value"),
    ("[parameters.search_rate]\nvalue = 0.1\nhigh_ = 2\n", "parameters.search_rate.high_"),
    ("[parameters]\nsearch_rate = 0.1\n", "parameters.search_rate"),
    ("[other]\n", "other"),
    ("[parameters.search_rate]\nvalue = nan\n", "parameters.search_rate.value"),
])
def test_a_malformed_calibration_file_names_file_and_key(tmp_path, text, key):
    path = tmp_path / "cal.toml"
    path.write_text(text)
    with pytest.raises(calibrated.CalibrationFileError) as err:
        calibrated.read(path)
    assert err.value.key == key
    assert str(err.value).startswith(f"{path}: {key}: ")
    assert "\n" not in str(err.value)


@pytest.fixture()
def table_copy(monkeypatch):
    """Let a test load its own calibration as the table's (restored after the test)."""
    monkeypatch.setattr(parameters, "_LOADED", None)
    return parameters


def test_applied_calibration_becomes_the_default_and_the_documented_source(table_copy):
    table_copy._LOADED = table_copy.calibrated_table(_calibration(search_rate=0.0123),
                                                     "cal.toml")
    assert table_copy.resolve()["search_rate"] == 0.0123
    assert table_copy.PARAMETERS["search_rate"].default == 0.0123
    assert table_copy.DEFAULTS["search_rate"] == 0.0123
    row = next(line for line in table_copy.markdown_table().splitlines()
               if line.startswith("| `search_rate` |"))
    assert "0.0123" in row and "Calibrated by `helixsim calibrate` on 2026-01-02" in row


@pytest.mark.parametrize(("values", "key", "reason"), [
    ({"no_such_parameter": 1.0}, "parameters.no_such_parameter", "unknown parameter"),
    ({"search_rate": 7.0}, "parameters.search_rate", "outside its valid range"),
])
def test_a_calibration_the_table_rejects_names_file_and_key(table_copy, values, key, reason):
    with pytest.raises(calibrated.CalibrationFileError) as err:
        table_copy.calibrated_table(calibrated.Calibration(values=values), "cal.toml")
    assert err.value.key == key and reason in err.value.reason
    assert str(err.value).startswith(f"cal.toml: {key}: ")


def test_the_shipped_calibration_is_what_the_model_uses():
    """simulation/calibration.toml: values inside their bounds and the table's ranges, full
    provenance, and the parameter table's defaults are its values."""
    cal = calibrated.read(calibrated.CALIBRATION_FILE)
    assert {p.name for p in c.FREE} == set(cal.values)
    for name, value in cal.values.items():
        low, high = cal.bounds[name]
        assert low <= value <= high
        assert parameters.DEFAULTS[name] == value
        assert parameters.PARAMETERS[name].source.startswith("Calibrated")
    prov = cal.provenance
    assert set(prov["targets"]) == {t.key for t in v.TARGETS}
    assert prov["seeds"] >= 1 and prov["evaluations"] >= 1
    assert math.isfinite(prov["objective"]) and prov["objective"] <= prov["objective_before"]
    assert len(prov["date"]) == 10


# --- the command ---------------------------------------------------------------------------------

SMALL = {"n_firms": 200, "intake_per_university": 200}


def test_calibrate_writes_report_evaluations_and_file_and_resumes(tmp_path, monkeypatch):
    """The whole pipeline on the small region (36 months): a calibration file with provenance
    at write_to, the report and the evaluations; a rerun replays them all."""
    out, target = tmp_path / "cal", tmp_path / "calibration.toml"
    kwargs = dict(seeds=2, budget=3, horizon=36, workers=1, out=out, write_to=target, base=SMALL)
    first = c.calibrate(**kwargs)
    assert first["evaluations"] == 3 and first["reused"] == 0
    assert (out / "report.md").is_file() and (out / "figures" / "convergence.png").is_file()
    history = pd.read_parquet(out / "evaluations.parquet")
    assert len(history) == 3 and {p.name for p in c.FREE} <= set(history.columns)
    written = calibrated.read(target)
    assert set(written.values) == {p.name for p in c.FREE}
    assert written.provenance["seeds"] == 2
    assert written.provenance["objective"] == pytest.approx(first["objective"], rel=1e-5)
    assert first["objective"] == pytest.approx(history["objective"].min())
    again = c.calibrate(**kwargs)
    assert again["reused"] == 3 and again["best"] == first["best"]


def test_cli_no_write_leaves_the_parameter_table_alone(tmp_path, monkeypatch):
    before = calibrated.CALIBRATION_FILE.read_bytes() if calibrated.CALIBRATION_FILE.exists() \
        else None

    real = c.calibrate

    def small(**kwargs):
        assert kwargs["write_to"] is None
        return real(**{**kwargs, "horizon": 24, "base": SMALL, "workers": 1})
    monkeypatch.setattr(c, "calibrate", small)
    result = CliRunner().invoke(app, ["calibrate", "--budget", "2", "--seeds", "1",
                                      "--no-write", "--out", str(tmp_path / "o"), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["written"] is None and payload["evaluations"] == 2
    after = calibrated.CALIBRATION_FILE.read_bytes() if calibrated.CALIBRATION_FILE.exists() \
        else None
    assert before == after


@pytest.mark.parametrize("args", [["--seeds", "0"], ["--budget", "0"], ["--workers", "0"]])
def test_cli_bad_options_exit_2(tmp_path, args):
    result = CliRunner().invoke(app, ["calibrate", *args, "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert not (tmp_path / "o").exists()


def test_moments_of_pooled_data_match_the_validation_statistics():
    data = v.run_seeds(2, overrides=SMALL, horizon=24, workers=1)
    m = c.moments_of(data)
    assert set(m) == set(v.STATISTICS)
    assert m["cis_cooperation"] == pytest.approx(
        sum(d.cooperating for d in data) / sum(d.innovating for d in data))
    assert 0.0 <= m["graduate_retention"] <= 1.0
    assert np.isnan(m["survival_5y"])  # 24 months cannot show 5-year survival


def test_the_same_fit_in_process_on_a_process_pool_and_on_dask(tmp_path):
    """Common random numbers make the objective a function of the parameters alone: the same
    evaluations whatever executes the seeds."""
    kwargs = dict(seeds=2, budget=2, horizon=24, base=SMALL, write_to=None)
    serial = c.calibrate(out=tmp_path / "serial", workers=1, **kwargs)
    pool = c.calibrate(out=tmp_path / "pool", workers=2, **kwargs)
    dask = c.calibrate(out=tmp_path / "dask", workers=2, scheduler="local", **kwargs)
    columns = [p.name for p in c.FREE] + ["objective", *v.STATISTICS]
    reference = pd.read_parquet(tmp_path / "serial" / "evaluations.parquet")[columns]
    for name in ("pool", "dask"):
        other = pd.read_parquet(tmp_path / name / "evaluations.parquet")[columns]
        pd.testing.assert_frame_equal(other, reference)
    assert serial["best"] == pool["best"] == dask["best"]


def test_the_report_names_the_machine_kind_of_the_workers_runs(tmp_path, monkeypatch):
    """The provenance table gives the kind of the workers that made this call's runs (on a
    Dask cluster not this machine's): here the runner's workers say the other kind."""
    from types import SimpleNamespace

    from experiments import runner
    from experiments.machine_kind import KINDS, WORDS, vector_maths

    other = next(k for k in KINDS if k != vector_maths())
    monkeypatch.setattr(runner, "machine_kind", SimpleNamespace(vector_maths=lambda: other))
    c.calibrate(seeds=1, budget=1, horizon=14, workers=1, out=tmp_path, write_to=None,
                base=SMALL)
    assert f"| Vector maths | {WORDS[other]} |" in (tmp_path / "report.md").read_text()
