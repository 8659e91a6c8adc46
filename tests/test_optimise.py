"""Robust policy search: known optima, exact budget, robustness metrics, resume, determinism.

A synthetic evaluator (a small function of the levers and the uncertain parameter in place of
the model) gives searches whose optimum is known; the model itself is used only where the
property is about it (1 vs 2 workers).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments import optimise as opt
from experiments.optimise_spec import Outcome, load
from simulation.parameters import INSTRUMENTS, resolve

HEAD = """
description = "synthetic"
scenario = "baseline"
horizon_months = 24
replications = 2
seed = {seed}
[[levers]]
parameter = "matching_rate"
low = 0.0
high = 1.0
[[levers]]
budget_shares = ["block_grants", "matching_grants", "retention_subsidy"]
[uncertainty]
draws = 3
[[uncertainty.ranges]]
parameter = "graduate_premium"
low = 0.4
high = 1.2
"""


def write_spec(tmp_path: Path, body: str, seed: int = 7, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(HEAD.format(seed=seed) + body)
    return path


def quadratic(targets: dict[str, float], shift: str = "graduate_premium"):
    """An evaluator: -(sum of squared distances of the levers from ``targets``) plus the
    uncertain parameter (which moves every candidate alike, so the robust optimum is the
    same in every cell) for every quantity asked."""
    calls: list[int] = []

    def evaluate(policies, cells, wanted):
        calls.append(len(policies))
        base = resolve({"horizon_months": 24})
        out = np.empty((len(policies), len(cells), len(wanted)))
        for i, policy in enumerate(policies):
            p = {**base, **policy}
            loss = sum((p[k] - v) ** 2 for k, v in targets.items())
            for k, (d, j) in enumerate(cells.keys):
                noise = cells.values(d)[shift] + 0.001 * j
                out[i, k, :] = -loss + noise
        return out
    evaluate.calls = calls
    return evaluate


ONE_OBJECTIVE = """
[[objectives]]
indicator = "welfare"
robustness = "mean"
[search]
population = 16
generations = 25
[recommend]
count = 1
"""
# The free total of the three instruments is 0.30 + 0.15 + 0.10 = 0.55 of the budget.
TARGET = {"matching_rate": 0.7, "budget_share_block_grants": 0.05,
          "budget_share_matching_grants": 0.35, "budget_share_retention_subsidy": 0.15}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_search_finds_a_known_optimum_within_0_05(tmp_path, seed):
    spec = load(write_spec(tmp_path, ONE_OBJECTIVE, seed=seed))
    result = opt.optimise(spec, out=tmp_path / "out", evaluate=quadratic(TARGET),
                          report=False)
    table = pd.read_parquet(tmp_path / "out" / "candidates.parquet").set_index("candidate")
    best = table.loc[result["recommended"][0]]
    for name, value in TARGET.items():
        assert abs(best[name] - value) < 0.05, (name, best[name], value)
    # and the search improved on the starting scenario (0.5; 0.30 / 0.15 / 0.10)
    assert best["welfare"] > table.loc[opt.START, "welfare"]


@pytest.mark.parametrize("algorithm", ["nsga2", "nsga3", "random"])
def test_a_two_objective_pareto_set_spans_the_known_front(tmp_path, algorithm):
    """f1 = -(m - 0.2)^2 and f2 = -(m - 0.8)^2: the Pareto set is m in [0.2, 0.8]."""
    body = f"""
[[objectives]]
indicator = "welfare"
[[objectives]]
indicator = "jobs"
[search]
algorithm = "{algorithm}"
population = 16
generations = 15
"""
    spec = load(write_spec(tmp_path, body))

    def evaluate(policies, cells, wanted):
        base = resolve({"horizon_months": 24})
        m = np.array([{**base, **p}["matching_rate"] for p in policies])
        by_name = {"welfare": -(m - 0.2) ** 2, "jobs": -(m - 0.8) ** 2}
        f = np.column_stack([by_name.get(ind, 0.0 * m) for ind, _ in wanted])
        return np.repeat(f[:, None, :], len(cells), axis=1)
    opt.optimise(spec, out=tmp_path / "out", evaluate=evaluate, report=False)
    front = pd.read_parquet(tmp_path / "out" / "pareto.parquet")
    m = front["matching_rate"]
    assert m.between(0.2 - 0.02, 0.8 + 0.02).all(), m.tolist()
    assert m.max() - m.min() > 0.45
    assert len(front) >= 5


def test_budget_shares_lie_on_the_simplex_exactly(tmp_path):
    spec = load(write_spec(tmp_path, ONE_OBJECTIVE))
    enc = opt.Encoding(spec)
    rng = np.random.default_rng(0)
    X = np.vstack([rng.random((200, len(enc.variables))), np.zeros((1, len(enc.variables))),
                   np.eye(len(enc.variables)), 1e-300 * rng.random((3, len(enc.variables)))])
    for x in X:
        params = enc.decode(x)
        full = resolve({**spec.base, **params, "horizon_months": 24})  # check_joint passes
        shares = [full[f"budget_share_{i}"] for i in INSTRUMENTS]
        assert abs(math.fsum(shares) - 1.0) <= 1e-12
        assert min(shares) >= 0.0
        # the instruments outside the lever keep their scenario shares
        for i in ("research_grants", "rd_subsidies", "incubator_support", "platform_investment"):
            assert full[f"budget_share_{i}"] == enc.base[f"budget_share_{i}"]
        assert full["gov_budget"] == enc.base["gov_budget"]


def test_the_chosen_policy_spends_the_same_total_budget(tmp_path):
    spec = load(write_spec(tmp_path, ONE_OBJECTIVE.replace("generations = 25",
                                                           "generations = 3")))
    result = opt.optimise(spec, out=tmp_path / "out", evaluate=quadratic(TARGET), report=False)
    table = pd.read_parquet(tmp_path / "out" / "candidates.parquet").set_index("candidate")
    cols = [f"budget_share_{i}" for i in ("block_grants", "matching_grants",
                                          "retention_subsidy")]
    chosen = table.loc[result["recommended"][0]]
    assert abs(math.fsum(chosen[cols]) - 0.55) <= 1e-12
    assert (table[cols].sum(axis=1) - 0.55).abs().max() <= 1e-12


def test_robustness_metrics_on_a_known_table():
    values = np.array([[1.0, 2.0, 3.0, 4.0],    # candidate A
                       [4.0, 0.0, 4.0, -1.0]])  # candidate B
    def outcome(**kw):
        base = dict(name="x", indicator="welfare", dividend=False, sense="max",
                    robustness="mean", percentile=25.0, threshold=1.5)
        return Outcome(**{**base, **kw})
    np.testing.assert_allclose(opt.robust(values, outcome()), [2.5, 1.75])
    np.testing.assert_allclose(opt.robust(values, outcome(robustness="percentile")),
                               [1.75, -0.25])
    np.testing.assert_allclose(opt.robust(values, outcome(robustness="satisficing")),
                               [0.75, 0.5])
    np.testing.assert_allclose(opt.robust(values, outcome(robustness="satisficing",
                                                          sense="min")), [0.25, 0.5])
    # regret: best per cell (4, 2, 4, 4); A falls short by 3 at most, B by 5
    np.testing.assert_allclose(opt.robust(values, outcome(robustness="regret")), [3.0, 5.0])
    # minimised: best per cell (1, 0, 3, -1); A exceeds by 5, B by 3
    np.testing.assert_allclose(opt.robust(values, outcome(robustness="regret", sense="min")),
                               [5.0, 3.0])
    # pymoo minimises: a maximised mean is turned, a regret is not
    assert opt.to_minimise(np.array([2.0]), outcome())[0] == -2.0
    assert opt.to_minimise(np.array([2.0]), outcome(robustness="regret"))[0] == 2.0


def test_a_regret_search_finds_the_known_optimum(tmp_path):
    body = ONE_OBJECTIVE.replace('robustness = "mean"', 'robustness = "regret"')
    spec = load(write_spec(tmp_path, body))
    result = opt.optimise(spec, out=tmp_path / "out", evaluate=quadratic(TARGET), report=False)
    table = pd.read_parquet(tmp_path / "out" / "candidates.parquet").set_index("candidate")
    best = table.loc[result["recommended"][0]]
    assert abs(best["matching_rate"] - 0.7) < 0.05
    assert best["welfare"] == table["welfare"].min()  # the smallest regret


def test_plain_words_pair_budget_cuts_with_rises():
    start = {"budget_share_block_grants": 0.30, "budget_share_matching_grants": 0.15,
             "budget_share_retention_subsidy": 0.10, "matching_rate": 0.5,
             opt.LAUNCH_YEAR: math.nan}
    policy = {"budget_share_block_grants": 0.20, "budget_share_matching_grants": 0.25,
              "budget_share_retention_subsidy": 0.10, "matching_rate": 0.72,
              opt.LAUNCH_YEAR: 2.0}
    words = opt.describe_change(start, policy)
    assert words[0] == "move 10 points of the budget from block grants to matching grants"
    assert "raise the matching rate from 0.5 to 0.72" in words
    assert "launch the platform in year 2 (the scenario has none)" in words
    assert opt.describe_change(start, start) == [
        "keep the starting scenario's levers (no change of 1 point or more)"]


def test_an_interrupted_search_resumes_where_it_stopped(tmp_path):
    body = ONE_OBJECTIVE.replace("generations = 25", "generations = 4")
    spec = load(write_spec(tmp_path, body))
    full = quadratic(TARGET)
    opt.optimise(spec, out=tmp_path / "a", evaluate=full, report=False)
    # b: killed after generation 2 (its checkpoint says 2 generations; 3 and 4 never ran)
    part = quadratic(TARGET)
    opt.optimise(spec.with_search(generations=2), out=tmp_path / "b", evaluate=part,
                 report=False)
    resumed = quadratic(TARGET)
    opt.optimise(spec, out=tmp_path / "b", evaluate=resumed, report=False)
    # only generations 3 and 4 and the fresh re-evaluation were evaluated again
    assert resumed.calls == [16, 16, 2]
    a = pd.read_parquet(tmp_path / "a" / "candidates.parquet")
    b = pd.read_parquet(tmp_path / "b" / "candidates.parquet")
    pd.testing.assert_frame_equal(a, b)


def test_a_changed_checkpoint_is_refused(tmp_path):
    body = ONE_OBJECTIVE.replace("generations = 25", "generations = 2")
    spec = load(write_spec(tmp_path, body))
    opt.optimise(spec, out=tmp_path / "o", evaluate=quadratic(TARGET), report=False)
    first = tmp_path / "o" / "checkpoint" / "generation_001.parquet"
    df = pd.read_parquet(first)
    df["x0"] = df["x0"] * 0.5  # not what the replayed algorithm asks for
    df.to_parquet(first)
    with pytest.raises(opt.OptimiseError, match="asks for other candidates"):
        opt.optimise(spec, out=tmp_path / "o", evaluate=quadratic(TARGET), report=False)
    other = load(write_spec(tmp_path, body, seed=8, name="other.toml"))
    with pytest.raises(opt.OptimiseError, match="another spec"):
        opt.optimise(other, out=tmp_path / "o", evaluate=quadratic(TARGET), report=False)


def test_outcome_constraints_keep_infeasible_policies_out_of_the_pareto_set(tmp_path):
    body = ONE_OBJECTIVE.replace("generations = 25", "generations = 6") + """
[[constraints.outcomes]]
indicator = "jobs"
at_most = -0.05
"""
    spec = load(write_spec(tmp_path, body))
    opt.optimise(spec, out=tmp_path / "o", evaluate=quadratic(TARGET), report=False)
    table = pd.read_parquet(tmp_path / "o" / "candidates.parquet")
    # jobs here is the same function as welfare: the constraint cuts the best candidates
    assert not table["feasible"].all()
    front = table[table["pareto"]]
    assert front["feasible"].all() and (front["constraint_jobs"] <= -0.05).all()


TINY_MODEL = """
description = "tiny model search"
scenario = "baseline"
horizon_months = 18
replications = 1
seed = 3
[parameters]
n_firms = 60
intake_per_university = 40
[[levers]]
parameter = "matching_rate"
low = 0.1
high = 0.9
[[levers]]
budget_shares = ["block_grants", "retention_subsidy"]
[[objectives]]
indicator = "welfare"
dividend = true
[[objectives]]
indicator = "gov_net_fiscal"
[uncertainty]
draws = 2
[[uncertainty.ranges]]
parameter = "graduate_premium"
low = 0.4
high = 1.2
[search]
population = 4
generations = 2
[recommend]
count = 1
draws = 1
replications = 1
"""


def test_one_and_two_workers_give_the_same_pareto_set(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY_MODEL)
    spec = load(path)
    opt.optimise(spec, out=tmp_path / "w1", workers=1, report=False)
    opt.optimise(spec, out=tmp_path / "w2", workers=2, report=False)
    for name in ("candidates.parquet", "pareto.parquet", "recommended.parquet"):
        a = pd.read_parquet(tmp_path / "w1" / name)
        b = pd.read_parquet(tmp_path / "w2" / name)
        pd.testing.assert_frame_equal(a, b)
    table = pd.read_parquet(tmp_path / "w1" / "candidates.parquet")
    # the model, not a constant: the levers move the outcomes
    assert table["dividend_welfare"].nunique() > 1 or table["gov_net_fiscal"].nunique() > 1


def test_education_mixes_lie_on_their_simplex_per_university(tmp_path):
    body = """
[[levers]]
parameter = "edu_mix_by_university"
[[objectives]]
indicator = "welfare"
"""
    spec = load(write_spec(tmp_path, body))
    enc = opt.Encoding(spec)
    # the start reproduces the scenario's mix (0.80, 0.15, 0.05 at every university)
    start = enc.levers(enc.decode(enc.start()))
    for u in (1, 2, 3):
        assert [start[f"edu_mix_U{u}_{p}"] for p in ("1.0", "2.0", "3.0")] == pytest.approx(
            [0.80, 0.15, 0.05], abs=1e-12)
    rng = np.random.default_rng(1)
    for x in rng.random((100, len(enc.variables))):
        mix = enc.decode(x)["edu_mix_by_university"]
        assert len(mix) == 3
        for triple in mix:
            assert abs(math.fsum(triple) - 1.0) <= 1e-12 and min(triple) >= 0.0
        resolve({**spec.base, **enc.decode(x), "horizon_months": 24})


@pytest.mark.parametrize("seed", [7, 8, 9])
def test_regret_survivors_are_rescored_against_the_newest_candidates(tmp_path, monkeypatch,
                                                                     seed):
    """Regret is measured against the best candidate so far in each cell, so when offspring
    beat every survivor in a cell, the survivors' regrets must grow before survival."""
    body = ONE_OBJECTIVE.replace('robustness = "mean"', 'robustness = "regret"').replace(
        "generations = 25", "generations = 6")
    spec = load(write_spec(tmp_path, body, seed=seed))
    real = opt._algorithm
    stale: list[float] = []

    def watched(spec, enc):
        algorithm = real(spec, enc)
        tell = algorithm.tell

        def checked(infills=None, **kwargs):
            if algorithm.pop is not None and len(algorithm.pop):
                old = np.stack(algorithm.pop.get("V", to_numpy=False))[:, :, 0]
                new = np.stack(infills.get("V", to_numpy=False))[:, :, 0]
                best = np.vstack([old, new]).max(axis=0)  # a lower bound of the archive's
                floor = (best - old).max(axis=1)
                stale.append(float((floor - algorithm.pop.get("F")[:, 0]).max()))
            return tell(infills=infills, **kwargs)
        algorithm.tell = checked
        return algorithm
    monkeypatch.setattr(opt, "_algorithm", watched)

    names = ["matching_rate", "budget_share_block_grants", "budget_share_matching_grants"]
    rng = np.random.default_rng(5)
    targets = rng.random((12, 3)) * [1.0, 0.55, 0.55]  # each cell prefers another policy

    def evaluate(policies, cells, wanted):
        base = resolve({"horizon_months": 24})
        x = np.array([[{**base, **p}[n] for n in names] for p in policies])
        v = -((x[:, None, :] - targets[None, :len(cells), :]) ** 2).sum(axis=2)
        return np.repeat(v[:, :, None], len(wanted), axis=2)
    opt.optimise(spec, out=tmp_path / "o", evaluate=evaluate, report=False)
    assert len(stale) == spec.generations - 1
    assert max(stale) <= 1e-12, stale
