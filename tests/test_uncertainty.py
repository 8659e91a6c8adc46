"""Priors and the dividend under parameter uncertainty (``--uncertainty N``).

The sign tests run a synthetic task in place of the model: its W is the same seed noise in both
arms plus, in the scenario arm only, an effect that is positive (or, mirrored, negative) by
construction for every draw of ``graduate_premium``'s prior ([0.3, 1.2]).
"""

from __future__ import annotations

import html
import itertools
import math
import re

import numpy as np
import pandas as pd
import pytest
from scipy.stats import qmc
from typer.testing import CliRunner

from experiments import uncertainty as unc
from experiments.analysis import COMPONENTS, shapley
from experiments.runner import RunSpec
from helixsim.cli import app
from simulation import priors
from simulation.parameters import PARAMETERS, check_value
from simulation.scenarios import ScenarioError, load

SMALL = """description = "small model_3_0"
extends = "model_3_0"
[parameters]
n_firms = 150
intake_per_university = 100
faculty_per_university = 60
horizon_months = 14
"""


@pytest.fixture()
def small(tmp_path):
    path = tmp_path / "small.toml"
    path.write_text(SMALL)
    return path


# --- priors ------------------------------------------------------------------------------------

def test_every_prior_draw_lies_inside_its_parameters_valid_range():
    u = qmc.Sobol(1, scramble=True, seed=3).random(2048)[:, 0]
    u = np.concatenate([u, [0.0, 1e-12, 0.5, 1 - 1e-12, 1.0]])
    for name, prior in priors.table().items():
        for v in prior.values(u):
            check_value(name, v)  # raises ParameterError outside the valid range
        lo, hi = prior.support()
        x = prior.distribution.ppf(u)
        assert x.min() >= prior.distribution.low - 1e-12 and x.max() <= prior.distribution.high \
            + 1e-12, name
        if not prior.scale:
            assert lo <= PARAMETERS[name].default <= hi or name in ("product_line_employees",), \
                f"{name}: the default lies outside its own prior"


def test_every_assumed_effect_size_has_a_prior_or_a_reason():
    assert priors.uncovered() == []
    table = priors.table()
    assert len(table) > 80
    for name, prior in table.items():
        assert prior.source.strip(), name
        assert name not in priors.FIXED, name
    # Levers are decisions, never priors.
    assert not [n for n in table if PARAMETERS[n].lever]


def test_a_prior_reaching_outside_the_valid_range_is_refused():
    bad = priors.Prior("transfer_rate", priors.uniform(0.0, 2.0), "test")
    assert "outside the valid range" in priors._valid_range_error(bad)
    scaled = priors.Prior("industry_rate_2_0", priors.uniform(0.0, 100.0), "test", scale=True)
    assert "outside the valid range" in priors._valid_range_error(scaled)


def test_quantile_functions_match_their_closed_forms():
    u = np.array([0.0, 0.1, 0.5, 0.9, 1.0])
    assert np.allclose(priors.uniform(2, 4).ppf(u), 2 + 2 * u)
    assert np.allclose(priors.triangular(0, 0, 1).ppf(u), 1 - np.sqrt(1 - u))
    assert np.allclose(priors.triangular(0, 1, 1).ppf(u), np.sqrt(u))
    assert math.isclose(priors.loguniform(1, 100).median(), 10.0)
    assert math.isclose(priors.beta(2, 2).median(), 0.5)
    assert math.isclose(float(priors.beta(1, 1, 2, 4).ppf(0.25)), 2.5)


def test_a_scenario_narrows_a_prior_and_a_parameter_it_sets_is_fixed(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('extends = "model_3_0"\n[parameters]\ntransfer_rate = 0.02\n[priors]\n'
                    'graduate_premium = { dist = "uniform", low = 0.1, high = 0.2 }\n')
    sc = load(path)
    used = unc.scenario_priors(sc)
    assert "transfer_rate" not in used  # fixed by the scenario
    assert used["graduate_premium"].distribution.high == 0.2
    assert used["graduate_premium"].origin == "s.toml"
    child = tmp_path / "child.toml"
    child.write_text('extends = "s.toml"\n')
    assert load(child).priors["graduate_premium"].distribution.low == 0.1  # inherited


@pytest.mark.parametrize("text, key", [
    ('graduate_premum = { dist = "uniform", low = 0.1, high = 0.2 }', "priors.graduate_premum"),
    ('graduate_premium = { dist = "normal", low = 0.1, high = 0.2 }',
     "priors.graduate_premium.dist"),
    ('graduate_premium = { dist = "uniform", low = 0.1 }', "priors.graduate_premium.high"),
    ('transfer_rate = { dist = "uniform", low = 0.1, high = 2.0 }', "priors.transfer_rate"),
    ('graduate_premium = { dist = "triangular", low = 0.5, mode = 0.1, high = 0.9 }',
     "priors.graduate_premium"),
    ('graduate_premium = { dist = "uniform", low = 0.1, high = 0.2, sd = 1 }',
     "priors.graduate_premium.sd"),
])
def test_bad_priors_in_a_scenario_are_one_line_errors_naming_the_key(tmp_path, text, key):
    path = tmp_path / "bad.toml"
    path.write_text(f"[priors]\n{text}\n")
    with pytest.raises(ScenarioError) as err:
        load(path)
    assert err.value.key == key
    assert "\n" not in str(err.value) and str(path) in str(err.value)


# --- statistics ----------------------------------------------------------------------------------

def test_variance_split_recovers_known_within_and_between_variances():
    rng = np.random.default_rng(0)
    for s in (2, 5):
        # Seed noise larger than the parameters' part: the between-draw variance of the means
        # (1 + 4 / s) overstates the parameters' variance (1) unless its seed part is removed.
        between = rng.normal(0, 1.0, size=(20000, 1))
        d = between + rng.normal(0, 2.0, size=(20000, s))
        split = unc.variance_split(d)
        assert split["seed_sd"] == pytest.approx(2.0, rel=0.05)
        assert split["parameter_sd"] == pytest.approx(1.0, rel=0.1)
        assert split["parameter_share"] == pytest.approx(0.2, abs=0.03)
    same = unc.variance_split(np.tile(np.arange(5.0)[:, None], (1, 3)))
    assert same["seed_sd"] == 0 and same["parameter_share"] == 1
    assert math.isnan(unc.variance_split(np.ones((4, 1)))["parameter_share"])


def test_ordering_shapley_averages_to_the_exact_shapley_values_and_adds_up():
    rng = np.random.default_rng(7)
    m = 4
    configs = list(itertools.product((False, True), repeat=m))
    game = {c: float(rng.normal()) + 3 * c[0] * c[1] - 2 * c[2] for c in configs}
    exact = shapley({c: np.array([v]) for c, v in game.items()})[:, 0]
    orders = np.array(list(itertools.permutations(range(m))))
    v = {unc.channel_code(c): np.full(len(orders), val) for c, val in game.items()}
    phi = unc.ordering_shapley(v, orders)
    assert np.allclose(phi.mean(axis=0), exact)
    assert np.allclose(phi.sum(axis=1), game[(True,) * m] - game[(False,) * m])


def test_ranking_counts_wins_first_places_and_regret():
    w = np.array([[3.0, 1.0, 2.0], [1.0, 2.0, 0.0], [5.0, 4.0, 6.0], [2.0, 1.0, 0.0]])
    matrix, options = unc.ranking(w, ["a", "b", "c"])
    assert matrix.loc[0, "b"] == 0.75 and matrix.loc[1, "a"] == 0.25
    assert list(options["ranked_first"]) == [0.5, 0.25, 0.25]
    # regrets per draw: a (0, 1, 1, 0), b (2, 0, 2, 1), c (1, 2, 0, 2)
    assert options["expected_regret"].tolist() == pytest.approx([0.5, 1.25, 1.25])


# --- the design ----------------------------------------------------------------------------------

def test_design_is_deterministic_for_a_seed_and_changes_with_it(small):
    a = unc.plan_dividend(small, draws=8, seeds=2, root_seed=11)
    b = unc.plan_dividend(small, draws=8, seeds=2, root_seed=11)
    c = unc.plan_dividend(small, draws=8, seeds=2, root_seed=12)
    assert [s.run_id for s in a.specs] == [s.run_id for s in b.specs]
    assert [s.run_id for s in a.specs] != [s.run_id for s in c.specs]
    assert a.runs == 8 * 2 * 2
    # Every draw's scenario and siloed runs share the replications (common random numbers).
    assert {s.replication for s in a.specs} == {0, 1}
    frame = a.design.frame()
    assert frame["graduate_premium"].between(0.3, 1.2).all()
    assert frame["graduate_premium"].nunique() == 8  # a space-filling design, not repeats


def test_attribution_adds_five_configurations_per_draw(small):
    plan = unc.plan_dividend(small, draws=4, seeds=1, attribution=True)
    assert plan.runs == 4 * 7
    for i in range(4):
        codes = plan.index[(plan.index["draw"] == i) & (plan.index["arm"] == "config")]["config"]
        assert sorted(c.count("1") for c in codes) == [0, 1, 2, 3, 4, 5]


def test_posterior_samples_replace_priors_by_weight(tmp_path, small):
    path = tmp_path / "post.parquet"
    pd.DataFrame({"graduate_premium": [0.35, 0.9, 1.1], "search_rate": [0.001, 0.002, 0.003],
                  "weight": [0.0, 1.0, 0.0]}).to_parquet(path)
    plan = unc.plan_dividend(small, draws=8, seeds=1, posterior=path)
    frame = plan.design.frame()
    assert (frame["graduate_premium"] == 0.9).all() and (frame["search_rate"] == 0.002).all()
    assert "graduate_premium" not in plan.design.priors[0]
    assert {s.parameters["graduate_premium"] for s in plan.specs} == {0.9}
    pd.DataFrame({"graduate_premium": [0.4, 0.8], "weight": [1.0, 3.0]}).to_parquet(path)
    frame = unc.plan_dividend(small, draws=400, seeds=1, posterior=path).design.frame()
    assert (frame["graduate_premium"] == 0.8).mean() == pytest.approx(0.75, abs=0.01)


@pytest.mark.parametrize("frame, key", [
    (pd.DataFrame({"graduate_premium": [0.5]}), "weight"),
    (pd.DataFrame({"graduate_premum": [0.5], "weight": [1.0]}), "graduate_premum"),
    (pd.DataFrame({"graduate_premium": [50.0], "weight": [1.0]}), "graduate_premium"),
    (pd.DataFrame({"graduate_premium": [0.5], "weight": [-1.0]}), "weight"),
])
def test_a_bad_posterior_file_is_a_one_line_error(tmp_path, frame, key):
    path = tmp_path / "post.parquet"
    frame.to_parquet(path)
    with pytest.raises(unc.UncertaintyError) as err:
        unc.read_posterior(path)
    assert err.value.key == key and "\n" not in str(err.value)


# --- P(D > 0) by construction: a synthetic task in place of the model --------------------------

def _toy(spec: RunSpec, sign: float, offset: float = 0.0) -> pd.DataFrame:
    noise = float(np.random.default_rng(spec.seed()).normal(0.0, 50.0))  # the same in both arms
    effect = 0.0 if spec.parameters.get("siloed") else sign * 100.0 * (
        spec.parameters["graduate_premium"] - offset)
    row = {c: 1000.0 + noise + effect for c, _, _ in COMPONENTS}
    row.update(run_id=spec.run_id, label=spec.label, replication=spec.replication, step=0)
    return pd.DataFrame([row])


def toy_positive(spec: RunSpec) -> pd.DataFrame:
    return _toy(spec, +1.0)


def toy_negative(spec: RunSpec) -> pd.DataFrame:
    return _toy(spec, -1.0)


def toy_threshold(spec: RunSpec) -> pd.DataFrame:
    return _toy(spec, +1.0, offset=0.6)


@pytest.mark.parametrize("task, expected", [(toy_positive, 1.0), (toy_negative, 0.0)])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_p_positive_is_one_when_d_is_positive_by_construction_and_zero_for_its_mirror(
        tmp_path, small, task, expected, seed):
    plan = unc.plan_dividend(small, draws=8, seeds=2, root_seed=seed)
    runs = unc.execute(plan, out=tmp_path, workers=1, task=task)
    result = unc.dividend(plan, runs, out=tmp_path)
    assert result["p_positive"] == expected
    assert all(row["p_positive"] == expected for row in result["dividend"])
    # The seed noise is common to both arms, so it cancels: all variance is the parameters'.
    assert result["variance"]["seed_sd"] == pytest.approx(0.0, abs=1e-9)
    assert result["variance"]["parameter_share"] == 1.0
    # D is a monotone function of graduate_premium alone, so its rank correlation is exactly
    # +-1; with 8 draws another prior's column can share its ordering by chance (a tie).
    top = result["drivers"][0]
    ranked = {row["parameter"]: row["spearman"] for row in result["drivers"]
              if abs(row["spearman"]) == pytest.approx(abs(top["spearman"]))}
    assert ranked.get("graduate_premium") == pytest.approx(1.0 if expected else -1.0)
    assert (tmp_path / "report.md").exists() and (tmp_path / "draws.parquet").exists()


def test_sign_boxes_find_the_parameter_that_sets_the_sign(tmp_path, small):
    plan = unc.plan_dividend(small, draws=32, seeds=2, root_seed=5)
    runs = unc.execute(plan, out=tmp_path, workers=1, task=toy_threshold)
    result = unc.dividend(plan, runs, out=tmp_path)
    x = plan.design.frame()["graduate_premium"]
    assert result["p_positive"] == pytest.approx(float((x > 0.6).mean()))
    best = result["sign_boxes"][0]
    assert best["rule"].startswith("graduate_premium <=") and best["density"] == 1.0
    assert "D(W) < 0 when graduate_premium <=" in (tmp_path / "report.md").read_text()


def test_compare_under_uncertainty_counts_wins_on_common_draws(tmp_path, small):
    other = tmp_path / "other.toml"
    other.write_text(SMALL.replace('extends = "model_3_0"', 'extends = "baseline"'))
    plan = unc.plan_compare([small, other], draws=8, seeds=2)
    assert plan.runs == 2 * 8 * 2
    runs = unc.execute(plan, out=tmp_path, workers=1, task=toy_positive)
    result = unc.compare(plan, runs, out=tmp_path)
    # Both options run the scenario arm: equal W on every draw, so each is first half the time
    # and neither has regret.
    assert [o["ranked_first"] for o in result["options"]] == [0.5, 0.5]
    assert [o["expected_regret"] for o in result["options"]] == [0.0, 0.0]


# --- determinism on 1 and 2 workers (the model itself) ------------------------------------------

def test_the_uncertainty_run_is_the_same_on_one_and_two_workers(tmp_path, small):
    results = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        plan = unc.plan_dividend(small, draws=2, seeds=2, root_seed=9)
        runs = unc.execute(plan, out=out, workers=workers)
        unc.dividend(plan, runs, out=out)
        results.append(pd.read_parquet(out / "draws.parquet"))
    pd.testing.assert_frame_equal(results[0], results[1])
    assert results[0]["D_welfare"].notna().all()


# --- the command line ---------------------------------------------------------------------

@pytest.mark.parametrize("args, needle", [
    (["--uncertainty", "0"], "--uncertainty 0"),
    (["--uncertainty", "-3"], "--uncertainty -3"),
    (["--posterior", "x.parquet"], "--posterior needs --uncertainty"),
    (["--uncertainty", "2", "--posterior", "missing.parquet"], "missing.parquet: file not found"),
])
def test_bad_uncertainty_options_exit_2_with_one_line(tmp_path, small, args, needle):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["dividend", str(small), "--out", str(out), *args])
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and needle in " ".join(result.stderr.split())
    assert not out.exists()


def test_unknown_prior_name_in_a_scenario_exits_2(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('extends = "model_3_0"\n[priors]\nno_such = { dist = "uniform", low = 0, '
                    'high = 1 }\n')
    result = CliRunner().invoke(app, ["dividend", str(path), "--uncertainty", "4", "--dry-run",
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "priors.no_such: unknown parameter" in " ".join(result.stderr.split())


def test_dry_run_prints_the_run_count_and_writes_nothing(tmp_path, small):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["dividend", str(small), "--uncertainty", "4",
                                      "--attribution", "--dry-run", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "plan: 56 runs" in " ".join(result.stderr.split())  # 4 draws x 2 seeds x 7
    assert not out.exists()
    result = CliRunner().invoke(app, ["compare", str(small), "baseline", "--uncertainty", "8",
                                      "--seeds", "3", "--dry-run", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "plan: 48 runs" in " ".join(result.stderr.split())
    assert not out.exists()


def test_the_dashboards_estimate_runs_under_uncertainty_with_its_levers_fixed(tmp_path):
    from dashboards import session as session_module

    s = session_module.Session()
    s.set_lever("n_firms", "80")
    s.set_lever("intake_per_university", "40")
    result = session_module.estimate_dividend(s, seeds=2, out_root=tmp_path, workers=1,
                                              draws=2)
    assert result["draws"] == 2 and len(result["draws_dividend"]) == 2
    assert 0.0 <= result["p_positive"] <= 1.0
    (folder,) = tmp_path.iterdir()
    draws = pd.read_parquet(folder / "draws.parquet")
    assert "n_firms" not in draws.columns and draws["graduate_premium"].nunique() == 2
    steps = pd.concat(pd.read_parquet(p) for p in (folder / "runs").glob("*.parquet"))
    assert (steps.loc[steps["step"] == 0, "firms_alive"] == 80).all()
    assert len(steps["run_id"].unique()) == 2 * 2 * 2


# --- the report for people ---------------------------------------------------------------------

def _html_tables(path) -> dict[str, list[list[str]]]:
    """caption -> rows (the header first) of every table of a report.html."""
    out = {}
    for caption, body in re.findall(r"<table>\s*<caption>(.*?)</caption>(.*?)</table>",
                                    path.read_text(), re.S):
        rows = [[html.unescape(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)]
                for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S)]
        out[re.sub(r"^Table \d+\. ", "", html.unescape(caption))] = rows
    return out


@pytest.mark.parametrize("seed", [1, 2])
def test_drivers_and_priors_tables_name_parameters_by_label_with_the_raw_name_beside(
        tmp_path, small, seed):
    plan = unc.plan_dividend(small, draws=8, seeds=2, root_seed=seed)
    runs = unc.execute(plan, out=tmp_path, workers=1, task=toy_positive)
    unc.dividend(plan, runs, out=tmp_path)
    tables = _html_tables(tmp_path / "report.html")
    drivers = next(rows for cap, rows in tables.items() if cap.startswith("Uncertain param"))
    for rows in (drivers, tables["Priors"]):
        head, *body = rows
        assert head[:2] == ["Parameter (unit)", "Name"], head
        by_name = {r[1]: r for r in body}
        for name in ("graduate_premium", *[r[1] for r in body][:3]):
            label, p = by_name[name][0], PARAMETERS[name]
            assert name not in label  # the label is the description, not the raw name
            assert label.startswith(p.doc.split(" ")[0]) and label.endswith(f"({p.unit})")
        text = " ".join(c for r in body for c in r)
        assert not re.search(r"\d[eE][+-]?\d", text)
    correlation = {r[1]: r[3] for r in drivers[1:]}["graduate_premium"]
    assert correlation == "+1"  # D rises with graduate_premium alone: a rank correlation of 1
    # researchers still find the raw names and the unformatted numbers in the CSV
    csv = pd.read_csv(tmp_path / "tables" / "drivers.csv")
    assert "graduate_premium" in set(csv["parameter"]) and "spearman" in csv
    assert set(pd.read_csv(tmp_path / "tables" / "priors.csv")["parameter"]) == {
        r[1] for r in tables["Priors"][1:]}


def test_the_terminal_table_under_uncertainty_shows_labels_and_numbers_for_people(tmp_path,
                                                                                   small):
    result = CliRunner().invoke(app, ["dividend", str(small), "--uncertainty", "4", "--seeds",
                                      "2", "--workers", "1", "--out", str(tmp_path / "u")],
                                env={"COLUMNS": "220"})
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "Welfare W, discounted value added (MCU)" in text
    assert "Graduates employed in the region (persons)" in text
    for raw in ("alumni_employed", "value_added", "gov_net_fiscal"):
        assert raw not in text
    assert not re.search(r"\d[eE][+-]?\d", text)
    welfare = next(line for line in text.splitlines() if "Welfare W" in line)
    assert re.search(r"[+-]\d[\d,.]* \[[+-]?\d", welfare)  # signed median [90% of draws]
    assert re.search(r"\d%", welfare)  # P(D > 0) as a percentage
