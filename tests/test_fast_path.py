"""The compiled fast path (simulation/kernels/) gives the indicator tables of the numpy
implementation it replaced.

tests/fast_path_reference/ holds tables that the replaced implementation (commit e3c1045)
computed for five small-region runs: entry and exit, model_3_0, the siloed counterfactual and
integration_does_not_pay, on several seeds. The kernels draw the same random numbers in the
same order, so every month of every indicator must agree to floating-point tolerance: a
relative 1e-9 (differences come only from the order of sums and the last bit of exp/log, about
1e-13 measured), or, for a value near zero, 1e-9 of the largest magnitude that quantity takes
in the run (a balance such as tax collected less money spent crosses zero as a difference of
large sums, and the triple-helix T is a difference of entropies), and at least 1e-12.

The replaced implementation's own results depend on the machine's vector maths: on an AVX-512
machine (x86-64 level 4) numpy takes exp, log and pow of float arrays with routines of its own,
elsewhere with the C library's, and the two differ in the last bit of a few values, which a
run carries on (in these runs up to a relative 7e-9 by month 36, 2.4e-6 for the fiscal balance,
no count different). So there is a reference of each kind, made by the same commit, and the
test compares the machine it runs on with the reference of its kind. An AVX-512 machine whose
numpy is kept from its AVX-512 routines (``machine_kind.portable_setting``) is of kind x86_v3
and is held to the x86_v3 tables (tests/test_machine_kind.py runs this file so there).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from experiments.machine_kind import vector_maths
from simulation import EcosystemModel
from simulation.scenarios import load

ROOT = Path(__file__).parent / "fast_path_reference"
# The top folder's tables were made on an AVX-512 machine, x86_v3/'s on an AVX2 one.
REFERENCES = {"x86_v4": ROOT, "x86_v3": ROOT / "x86_v3"}
# A machine of another kind (not x86-64) has no tables of its own: it is held to the C
# library's (x86_v3), which its own C library may not match in the last bits.
REFERENCE = REFERENCES.get(vector_maths(), REFERENCES["x86_v3"])
META = json.loads((ROOT / "configs.json").read_text())
TABLE = pd.read_csv(REFERENCE / "indicators.csv")
FINAL = pd.read_csv(REFERENCE / "final_firms.csv")
RTOL, ATOL = 1e-9, 1e-12


def assert_close(got: np.ndarray, expected: np.ndarray, what: str) -> None:
    scale = float(np.abs(expected).max()) if len(expected) else 0.0
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=max(RTOL * scale, ATOL),
                               err_msg=what)
CASES = [(label, seed) for label, config in META["configs"].items() for seed in config["seeds"]]


def run(label: str, seed: int) -> EcosystemModel:
    config = META["configs"][label]
    if config["scenario"] is None:
        model = EcosystemModel(rng=seed, **config["overrides"])
    else:
        model = EcosystemModel(rng=seed, parameters=load(config["scenario"]).parameters,
                               **config["overrides"])
    return model.run()


@pytest.mark.parametrize(("label", "seed"), CASES)
def test_indicators_equal_the_replaced_implementation(label: str, seed: int) -> None:
    expected = TABLE[(TABLE["config"] == label) & (TABLE["seed"] == seed)]
    model = run(label, seed)
    got = model.datacollector.get_model_vars_dataframe()
    assert len(got) == len(expected) > 1
    for name in META["indicators"]:
        assert_close(got[name].to_numpy(float), expected[name].to_numpy(float),
                     f"{label}, seed {seed}: {name}")
    # Every firm's state at the end, which the indicators only summarise (trust enters no
    # indicator directly, for instance).
    final = FINAL[(FINAL["config"] == label) & (FINAL["seed"] == seed)]
    f = model.world.firms
    assert f.n == len(final)
    state = {"productivity": f.productivity[: f.n], "cash": f.cash[: f.n],
             "absorptive": f.absorptive[: f.n], "knowledge": f.knowledge[: f.n].sum(axis=1),
             "trust": f.trust[: f.n].sum(axis=1)}
    for name, values in state.items():
        assert_close(values, final[name].to_numpy(float), f"{label}, seed {seed}: firms' {name}")


def test_the_reference_runs_exercise_every_step() -> None:
    """The reference would not see a broken kernel of a step that never happens in it."""
    totals = TABLE.groupby("config").agg({"firm_entries": "sum", "firm_exits": "sum",
                                          "projects_started": "sum", "platform_members": "max",
                                          "graduates_total": "max",
                                          "innovations_total": "max"})
    assert (totals.drop(index="small_siloed")[["projects_started", "platform_members"]] > 0
            ).all().all()
    assert (totals[["firm_entries", "firm_exits", "graduates_total", "innovations_total"]] > 0
            ).all().all()


def test_the_two_machines_references_differ_only_in_the_last_bits() -> None:
    """The machine's vector maths moves no count (firms, innovations, projects, graduates) in
    these runs and no other indicator by more than a relative 1e-5: the references are of one
    model, and a change that moved either by more would show here."""
    tables = [pd.read_csv(REFERENCES[kind] / "indicators.csv") for kind in ("x86_v4", "x86_v3")]
    counts = ["firms_alive", "innovations_total", "active_projects", "projects_started",
              "platform_members", "students_enrolled", "graduates_total", "alumni_employed",
              "startups_founded", "firm_entries", "firm_exits", "jobs"]
    pd.testing.assert_frame_equal(tables[0][["config", "seed", "month", *counts]],
                                  tables[1][["config", "seed", "month", *counts]])
    for name in META["indicators"]:
        a, b = (t[name].to_numpy(float) for t in tables)
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * np.abs(a).max(), err_msg=name)
    assert not tables[0][META["indicators"]].equals(tables[1][META["indicators"]])


def test_the_machine_kind_says_whose_maths_numpy_uses() -> None:
    """Where ``vector_maths`` says x86_v3, numpy's exp, log and pow of arrays are the C
    library's (which Python's math module calls), value for value, as the choice of reference
    above assumes; x86_v4's own routines are exercised only on an AVX-512 machine."""
    if vector_maths() != "x86_v3":
        pytest.skip("numpy's own AVX-512 maths: checked against the x86_v4 tables above")
    import math

    rng = np.random.default_rng(7)
    x = np.exp(rng.uniform(-20.0, 20.0, 200_000))
    z = rng.normal(0.0, 3.0, 200_000)
    assert np.exp(z).tolist() == [math.exp(v) for v in z]
    assert np.log(x).tolist() == [math.log(v) for v in x]
    assert np.power(x, 0.08).tolist() == [math.pow(v, 0.08) for v in x]
