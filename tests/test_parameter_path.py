"""One parameter path: a scenario or keyword set is resolved and checked once into a read-only
``Parameters`` that the scenario, the run spec and the model pass on without checking again;
lever changes during a run are run state, never written into the parameters."""

from __future__ import annotations

import pickle

import pytest

from experiments.runner import RunSpec
from simulation import parameters as table
from simulation.model import EcosystemModel
from simulation.parameters import ParameterError, Parameters, resolve
from simulation.scenarios import load

SMALL = dict(n_firms=100, intake_per_university=100, n_universities=1, horizon_months=13)


def test_parameters_are_read_only():
    params = resolve(SMALL)
    with pytest.raises(TypeError):
        params["gov_budget"] = 1.0  # type: ignore[index]
    with pytest.raises(AttributeError):
        params.update(gov_budget=1.0)  # type: ignore[attr-defined]
    assert params["n_firms"] == 100 and params == {**resolve(), **SMALL}


@pytest.fixture()
def resolved():
    return resolve({**SMALL, "timeline": [(2, "gov_budget", 50.0)]})


def test_model_spec_and_resolve_take_parameters_as_they_are(resolved, monkeypatch):
    def refuse(name, value):
        raise AssertionError(f"{name} checked again")
    monkeypatch.setattr(table, "check_value", refuse)
    assert resolve(resolved) is resolved
    assert resolve(resolved, horizon_months=13) is resolved  # an unchanged value: no check
    model = EcosystemModel(rng=0, parameters=resolved)
    assert model.parameters is resolved
    spec = RunSpec("x", resolved, 0, 1, 13)
    assert spec.resolved is resolved and spec.run_id
    with pytest.raises(AssertionError, match="checked again"):  # a mapping is checked
        EcosystemModel(rng=0, **SMALL)


def test_a_scenario_resolves_once(monkeypatch):
    scenario = load("baseline")
    calls = []
    original = table.check_value
    monkeypatch.setattr(table, "check_value", lambda n, v: calls.append(n) or original(n, v))
    EcosystemModel(rng=0, parameters=scenario.parameters)
    assert RunSpec("b", scenario.parameters, 0, 1, scenario.horizon).run_id
    assert calls == []
    scenario.parameters.replace(n_firms=50)
    assert calls == ["n_firms"]  # replace checks only what it changes


def test_replace_keeps_the_joint_and_timeline_checks(resolved):
    with pytest.raises(ParameterError, match="must sum to 1"):
        resolved.replace(budget_share_block_grants=0.9)
    with pytest.raises(ParameterError, match="after the horizon"):
        resolved.replace(horizon_months=1)
    with pytest.raises(ParameterError, match="after the changes at month 3"):
        resolved.replace(share_edu_2_0=0.5, timeline=[(3, "share_edu_3_0", 0.6)])
    assert resolved["horizon_months"] == 13  # the original is untouched


def test_lever_changes_are_run_state_not_parameters(resolved):
    model = EcosystemModel(rng=0, parameters=resolved)
    model.run(1)
    assert model.levers == {} and model.world.p["gov_budget"] == resolved["gov_budget"]
    model.run(1)  # month 2: the timeline sets the budget
    assert model.world.p["gov_budget"] == 50.0
    assert model.levers == {"gov_budget": 50.0}
    assert model.parameters["gov_budget"] == resolved["gov_budget"] != 50.0
    with pytest.raises(TypeError):
        model.world.p["gov_budget"] = 1.0  # mechanisms read, only set_lever writes levers


def test_month_zero_events_are_levers_of_the_initial_state():
    model = EcosystemModel(rng=0, **SMALL, timeline=[(0, "share_edu_3_0", 0.5)])
    assert model.levers == {"share_edu_3_0": 0.5}
    assert model.world.p["share_edu_3_0"] == 0.5
    assert model.parameters["share_edu_3_0"] == resolve()["share_edu_3_0"]
    assert model.world.unis.mix[0][2] == 0.5  # the intake mix follows the lever


def test_a_spec_of_parameters_is_the_run_of_the_same_overrides(resolved):
    overrides = {**SMALL, "timeline": [(2, "gov_budget", 50.0)]}
    a, b = RunSpec("a", resolved, 3, 7, 13), RunSpec("b", overrides, 3, 7, 13)
    assert a.run_id == b.run_id
    assert RunSpec("c", resolved.replace(gov_budget=100.0), 3, 7, 13).run_id != a.run_id
    back = pickle.loads(pickle.dumps(a))
    assert back.resolved == resolved and isinstance(back.resolved, Parameters)


@pytest.mark.parametrize(("overrides", "key", "reason"), [
    ({"gov_budgte": 1.0}, "gov_budgte", "unknown parameter; did you mean 'gov_budget'?"),
    ({"gov_budget": -1.0}, "gov_budget", "-1.0 is outside its valid range [0, 1e+07] (MCU/year)"),
    ({"n_firms": 2.5}, "n_firms", "expected an integer, got 2.5"),
    ({"siloed": 1}, "siloed", "expected true/false, got 1"),
    ({"timeline": [(1, "n_firms", 5)]}, "timeline[0]", "'n_firms' is not a policy lever"),
    ({"edu_mix_by_university": [(0.5, 0.5, 0.5)]}, "edu_mix_by_university[0]",
     "shares must sum to 1, got 1.5"),
    ({"budget_share_block_grants": 0.9}, "",
     "parameters 'budget_share_*' must sum to 1, got 1.6"),
])
def test_parameter_errors_carry_key_and_reason(overrides, key, reason):
    with pytest.raises(ParameterError) as info:
        resolve(overrides)
    err = info.value
    assert (err.key, err.reason) == (key, reason)
    if key and not reason.startswith("unknown"):
        assert str(err) == f"parameter '{key}': {reason}"
    back = pickle.loads(pickle.dumps(err))  # a worker's error comes back whole
    assert (back.key, back.reason, str(back)) == (err.key, err.reason, str(err))


@pytest.mark.parametrize(("kind", "constraint"), [
    ("int", table.Interval), ("float", table.Interval), ("bool", table.Boolean),
    ("choice", table.Options), ("vector", table.Vector), ("mix-list", table.ShareTriples),
    ("timeline", table.Timeline)])
def test_every_row_declares_the_constraint_of_its_kind(kind, constraint):
    rows = [p for p in table.TABLE.values() if p.kind == kind]
    assert rows, kind
    for p in rows:
        assert isinstance(p.constraint, constraint), p.name
        assert table.check_value(p.name, p.default) == p.default


@pytest.mark.parametrize("name", ["baseline", "metro"])  # (metro extends baseline, disjointly)
def test_loading_a_scenario_checks_each_value_once(monkeypatch, name):
    from collections import Counter

    from simulation import scenarios

    table.resolve()  # the calibrated defaults are loaded (and checked) before counting
    calls: Counter = Counter()
    original = table.check_value

    def counting(key, value):
        calls[key] += 1
        return original(key, value)
    monkeypatch.setattr(table, "check_value", counting)
    monkeypatch.setattr(scenarios, "check_value", counting)
    sc = load(name)
    assert calls, "the scenario's values were not checked"
    assert set(calls) == set(sc.overrides), calls
    assert max(calls.values()) == 1, calls
