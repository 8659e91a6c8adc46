"""W and the dividend recomputed from the per-month tables, with discounting done by hand.

W = sum over months m >= 1 of (VA(m) - O(m)) / (1 + r)^(m / 12) (docs/ODD.md, "Welfare"),
with O(m) the firms' link outlays (`firm_link_outlays`: their own cash for project costs and
platform joining). With r = 0.21 a year the discount factors at months 6, 12, 18 and 24 are
1.1, 1.21, 1.331 and 1.4641 exactly, so a wrong exponent (m instead of m / 12, m - 1, a
monthly rate) shows up as a wrong factor, not as a rounding difference. O is checked against
the cash firms actually lose in the mechanisms that charge it, so a cost left out of the
flow, or a flow left out of W, fails here. The dividend D is recomputed from the run tables a
`helixsim dividend` run writes, not from its summary.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from experiments.analysis import COMPONENTS, dividend_table
from simulation import EcosystemModel
from simulation.mechanisms import collaboration, digital

SMALL = dict(n_universities=2, n_firms=200, intake_per_university=200, share_edu_3_0=0.4,
             platform_on=True)
SEEDS = (1, 7, 23)
HAND_FACTORS = {6: 1.1, 12: 1.21, 18: 1.331, 24: 1.4641}  # (1.21)^(m/12) by hand


def run(seed: int, **kw) -> pd.DataFrame:
    return EcosystemModel(rng=seed, **{**SMALL, **kw}).run().dataframe()


def net(df: pd.DataFrame) -> np.ndarray:
    """Value added less the firms' link outlays, month by month (row 0 the initial state)."""
    return df["value_added"].to_numpy() - df["firm_link_outlays"].to_numpy()


@pytest.mark.parametrize("seed", SEEDS)
def test_welfare_discounts_each_month_by_hand_factors(seed):
    df = run(seed, discount_rate=0.21, horizon_months=24)
    va, welfare = df["value_added"].to_numpy(), df["welfare"].to_numpy()
    outlays = df["firm_link_outlays"].to_numpy()
    assert welfare[0] == 0.0  # month 0 is the initial state: nothing accumulated yet
    assert (va[1:] > 0).all()
    assert (outlays[1:] > 0).all()  # projects run every month: the cost term is not idle
    increment = np.diff(welfare)  # increment[m - 1] is month m's contribution
    for month, factor in HAND_FACTORS.items():
        assert increment[month - 1] == pytest.approx(
            (va[month] - outlays[month]) / factor, rel=1e-12), month
    # Every month, not only the four above: factor (1.1)^(m/6).
    months = np.arange(1, 25)
    np.testing.assert_allclose(increment, net(df)[1:] / 1.1 ** (months / 6.0), rtol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_without_discounting_welfare_is_value_added_less_link_outlays(seed):
    df = run(seed, discount_rate=0.0, horizon_months=14)
    assert df["welfare"].iloc[-1] == pytest.approx(net(df)[1:].sum(), rel=1e-12)
    # The outlays are a visible share of value added here, so leaving them out would not hide
    # in the tolerance.
    assert df["firm_link_outlays"].iloc[1:].sum() > 1e-6 * df["value_added"].iloc[1:].sum()
    # A higher rate gives a lower W on the same seed (the same value added, discounted more:
    # the rate does not feed back into the economy).
    higher = run(seed, discount_rate=0.5, horizon_months=14)
    np.testing.assert_array_equal(higher["value_added"], df["value_added"])
    assert higher["welfare"].iloc[-1] < df["welfare"].iloc[-1]


@pytest.mark.parametrize("seed", SEEDS)
def test_link_outlays_are_the_cash_firms_pay_for_links(seed, monkeypatch):
    """Month by month, `firm_link_outlays` equals the fall in firms' cash during the two
    mechanisms that charge firms for links (collaboration: project-cost shares after matching
    grants; digital: joining costs after the subsidy), measured on the cash itself."""
    paid: dict[int, float] = {}
    for module in (collaboration, digital):
        original = module.apply

        def watched(w, original=original):
            before = float(w.firms.cash[: w.firms.n].sum())
            original(w)
            after = float(w.firms.cash[: w.firms.n].sum())
            paid[w.month] = paid.get(w.month, 0.0) + before - after

        monkeypatch.setattr(module, "apply", watched)
    df = run(seed, horizon_months=14, platform_join_cost=0.05, platform_join_subsidy=0.5,
             matching_rate=0.4)
    outlays = df["firm_link_outlays"].to_numpy()
    for month in range(1, 15):
        assert outlays[month] == pytest.approx(paid[month], rel=1e-9, abs=1e-9), month
    assert sum(paid.values()) > 0


def test_a_siloed_region_pays_no_link_outlays():
    """With every channel closed firms pay nothing for links, and W is discounted value added."""
    for seed in SEEDS:
        df = run(seed, horizon_months=14, siloed=True, discount_rate=0.21)
        assert (df["firm_link_outlays"] == 0).all()
        va = df["value_added"].to_numpy()
        hand = (va[1:] / 1.1 ** (np.arange(1, 15) / 6.0)).sum()
        assert df["welfare"].iloc[-1] == pytest.approx(hand, rel=1e-12)


def hand_interval(diff: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    n = len(diff)
    mean = float(diff.mean())
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * diff.std(ddof=1) / math.sqrt(n)
    return mean, mean - half, mean + half


def test_dividend_table_is_the_mean_paired_difference_of_final_values():
    """dividend_table on a summary built here from model runs: D, its t-interval and the
    relative dividend for every component, from the last row of each run's table."""
    rows = []
    for rep, seed in enumerate(SEEDS):
        for label, siloed in (("open", False), ("silo", True)):
            last = run(seed, horizon_months=14, siloed=siloed).iloc[-1]
            rows.append({"label": label, "replication": rep, **last.to_dict()})
    summary = pd.DataFrame(rows)
    table = dividend_table(summary, "open", "silo").set_index("indicator")
    assert list(table.index) == [c[0] for c in COMPONENTS]
    for ind in table.index:
        a = summary[summary.label == "open"].sort_values("replication")[ind].to_numpy()
        b = summary[summary.label == "silo"].sort_values("replication")[ind].to_numpy()
        mean, low, high = hand_interval(a - b)
        row = table.loc[ind]
        assert (row["dividend"], row["low"], row["high"]) == pytest.approx(
            (mean, low, high), rel=1e-9, abs=1e-9), ind
        assert row["scenario_mean"] == pytest.approx(a.mean())
        assert row["siloed_mean"] == pytest.approx(b.mean())
        if b.mean() != 0:
            assert row["relative"] == pytest.approx(mean / abs(b.mean()), rel=1e-9)


def _helixsim() -> list[str]:
    exe = Path(sys.executable).with_name("helixsim")
    found = str(exe) if exe.exists() else shutil.which("helixsim")
    assert found, "the helixsim command is not installed (pip install -e .)"
    return [found]


def test_dividend_command_matches_the_per_month_run_tables(tmp_path):
    """End to end: `helixsim dividend --json` against W and D recomputed from runs/*.parquet."""
    scenario = tmp_path / "tiny.toml"
    scenario.write_text('description = "A small region for the dividend test."\n'
                        'extends = "model_3_0"\n\n[parameters]\n'
                        "n_universities = 2\nn_firms = 150\nintake_per_university = 150\n"
                        "discount_rate = 0.21\n")
    out = tmp_path / "out"
    done = subprocess.run([*_helixsim(), "dividend", str(scenario), "--seeds", "3",
                           "--months", "13", "--workers", "1", "--baseline", str(scenario),
                           "--out", str(out), "--json"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    stored = pd.read_parquet(out / "runs")  # several runs a file: one table of them all
    tables = [t for _, t in stored.groupby("run_id", sort=True)]
    assert len(tables) == 6  # 3 seeds x (scenario, siloed)
    finals: dict[str, dict[int, pd.Series]] = {}
    for t in tables:
        t = t.sort_values("step")
        months = t["step"].to_numpy()
        assert months.tolist() == list(range(14))
        # W by hand from the monthly value added less link outlays: factors 1.1^(m/6), 1.21
        # at month 12.
        w_hand = float((net(t)[1:] / 1.1 ** (months[1:] / 6.0)).sum())
        assert t["welfare"].iloc[-1] == pytest.approx(w_hand, rel=1e-12)
        finals.setdefault(t["label"].iat[0], {})[int(t["replication"].iat[0])] = t.iloc[-1]
    assert set(finals) == {"tiny", "tiny (siloed)"}
    got = {row["indicator"]: row for row in result["dividend"]}
    for ind, _, _ in COMPONENTS:
        reps = sorted(finals["tiny"])
        diff = np.array([finals["tiny"][r][ind] - finals["tiny (siloed)"][r][ind] for r in reps])
        mean, low, high = hand_interval(diff)
        assert (got[ind]["dividend"], got[ind]["low"], got[ind]["high"]) == pytest.approx(
            (mean, low, high), rel=1e-9, abs=1e-9), ind
