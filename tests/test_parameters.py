"""The parameter table and the validation of user input.

Every bad input is a ``ParameterError`` (a ``ValueError``) with a one-line message that names
the parameter; no other exception escapes, whatever junk is passed.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulation import DEFAULTS, LEVERS, PARAMETERS, EcosystemModel, ParameterError
from simulation.parameters import INSTRUMENTS, check_value, resolve

SMALL = dict(n_firms=100, intake_per_university=100, n_universities=1, horizon_months=13)
NUMERIC = [p for p in PARAMETERS.values() if p.kind in ("int", "float")]
INTS = [p.name for p in PARAMETERS.values() if p.kind == "int"]
FLOATS = [p.name for p in PARAMETERS.values() if p.kind == "float"]
BOUNDED_FLOATS = [p.name for p in PARAMETERS.values()
                  if p.kind == "float" and p.low is not None and p.high is not None]
# Parameters whose valid values also depend on others (joint constraints).
JOINT = {"share_edu_2_0", "share_edu_3_0", "size_min", "size_max",
         *(f"budget_share_{i}" for i in INSTRUMENTS)}


def _error(**kwargs) -> str:
    """Build a model from ``kwargs`` over a small region; return the ParameterError text."""
    with pytest.raises(ParameterError) as info:
        EcosystemModel(rng=0, **{**SMALL, **kwargs})
    message = str(info.value)
    assert "\n" not in message, f"multi-line message: {message!r}"
    assert message.strip(), "empty message"
    return message


# --- the table ---------------------------------------------------------------------------------
def test_parameter_error_is_a_value_error() -> None:
    assert issubclass(ParameterError, ValueError)


@pytest.mark.parametrize("name", sorted(PARAMETERS))
def test_every_parameter_is_documented(name: str) -> None:
    p = PARAMETERS[name]
    assert p.name == name
    for field in ("unit", "doc", "source", "group"):
        value = getattr(p, field)
        assert isinstance(value, str) and value.strip(), f"{name}: empty {field}"
    assert p.range_text().strip()


@pytest.mark.parametrize("name", sorted(PARAMETERS))
def test_every_default_passes_its_own_check(name: str) -> None:
    p = PARAMETERS[name]
    assert DEFAULTS[name] == p.default
    assert check_value(name, p.default) == p.default
    if p.kind in ("int", "float"):
        if p.low is not None:
            assert p.low <= p.default, f"{name}: default below its range"
        if p.high is not None:
            assert p.default <= p.high, f"{name}: default above its range"
    if p.kind == "vector":
        assert len(p.default) == p.length
        assert all(p.low <= v <= p.high for v in p.default)
    if p.kind == "choice":
        assert p.default in p.choices


def test_defaults_resolve() -> None:
    params = resolve({})
    assert params == DEFAULTS
    assert set(params) == set(PARAMETERS)
    assert math.isclose(sum(params[f"budget_share_{i}"] for i in INSTRUMENTS), 1.0,
                        rel_tol=1e-12)
    assert params["share_edu_2_0"] + params["share_edu_3_0"] <= 1.0


def test_levers_are_parameters() -> None:
    assert LEVERS
    for name in LEVERS:
        assert PARAMETERS[name].lever


# --- bad names ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("typo", "meant"), [("n_firm", "n_firms"), ("gov_budgte", "gov_budget"),
                                             ("chanel_platform", "channel_platform"),
                                             ("share_edu_30", "share_edu_3_0")])
def test_unknown_name_suggests_close_match(typo: str, meant: str) -> None:
    message = _error(**{typo: 1})
    assert f"'{typo}'" in message
    assert "unknown" in message
    assert f"did you mean '{meant}'" in message


def test_unknown_name_without_close_match() -> None:
    message = _error(zzqqxx=3)
    assert "'zzqqxx'" in message and "did you mean" not in message


# --- wrong types and values --------------------------------------------------------------------
@pytest.mark.parametrize(("name", "value"), [
    ("n_firms", "100"), ("n_firms", 2.5), ("n_firms", True), ("n_firms", None),
    ("n_firms", [100]), ("n_firms", float("nan")), ("n_firms", float("inf")),
    ("horizon_months", 13.5), ("programme_years", np.float64(2.5)),
    ("gov_budget", True), ("gov_budget", "170"), ("gov_budget", None), ("gov_budget", [1.0]),
    ("gov_budget", 1 + 2j), ("matching_rate", np.bool_(True)),
    ("platform_on", 1), ("platform_on", "true"), ("siloed", None), ("channel_platform", 0.0),
    ("unspent_policy", "spend"), ("unspent_policy", None), ("unspent_policy", 1),
    ("teach_rate_1_0", 0.1), ("teach_rate_1_0", "0.1"), ("teach_rate_1_0", (0.1, 0.1, 0.1)),
    ("teach_rate_1_0", (0.1, 0.1, 0.1, "a")), ("teach_rate_1_0", (0.1, 0.1, 0.1, float("nan"))),
    ("teach_rate_1_0", (0.1, 0.1, 0.1, True)),
    ("edu_mix_by_university", "abc"), ("edu_mix_by_university", 0.5),
    ("edu_mix_by_university", [(0.5, 0.5)]), ("edu_mix_by_university", [("a", 0.5, 0.5)]),
    ("timeline", "gov_budget"), ("timeline", 3), ("timeline", [(1, "gov_budget")]),
    ("timeline", [("1", "gov_budget", 1.0)]), ("timeline", [(True, "gov_budget", 1.0)]),
])
def test_wrong_type(name: str, value) -> None:
    message = _error(**{name: value})
    assert f"'{name}" in message, message


@pytest.mark.parametrize("name", sorted(set(INTS) | set(FLOATS)))
def test_out_of_range(name: str) -> None:
    p = PARAMETERS[name]
    if p.low is not None:
        below = p.low - 1 if p.kind == "int" else p.low - max(abs(p.low), 1.0) * 0.5
        assert f"'{name}'" in _error(**{name: below})
    if p.high is not None:
        above = p.high + 1 if p.kind == "int" else p.high + max(abs(p.high), 1.0) * 0.5
        assert f"'{name}'" in _error(**{name: above})


@pytest.mark.parametrize("name", FLOATS)
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), np.float64("nan")])
def test_non_finite_floats(name: str, value: float) -> None:
    assert f"'{name}'" in _error(**{name: value})


@pytest.mark.parametrize("name", [p.name for p in PARAMETERS.values() if p.kind == "vector"])
def test_vector_out_of_range(name: str) -> None:
    p = PARAMETERS[name]
    bad = list(p.default)
    bad[2] = p.high + 1.0
    assert f"'{name}'" in _error(**{name: bad})
    bad[2] = p.low - 1.0
    assert f"'{name}'" in _error(**{name: bad})
    # A numpy array of valid numbers is fine.
    model = EcosystemModel(rng=0, **{**SMALL, name: np.asarray(p.default)})
    assert model.parameters[name] == p.default


def test_budget_shares_must_sum_to_one() -> None:
    message = _error(budget_share_block_grants=0.5)
    assert "budget_share" in message and "sum to 1" in message
    shares = {f"budget_share_{i}": 0.1 for i in INSTRUMENTS}  # sum 0.7
    assert "budget_share" in _error(**shares)
    # A valid re-split works.
    ok = {f"budget_share_{i}": 1.0 / len(INSTRUMENTS) for i in INSTRUMENTS}
    EcosystemModel(rng=0, **SMALL, **ok)


def test_education_shares_must_leave_room_for_1_0() -> None:
    message = _error(share_edu_2_0=0.6, share_edu_3_0=0.5)
    assert "share_edu_2_0" in message and "share_edu_3_0" in message
    EcosystemModel(rng=0, **SMALL, share_edu_2_0=0.5, share_edu_3_0=0.5)


def test_edu_mix_by_university() -> None:
    message = _error(n_universities=2, edu_mix_by_university=[(0.5, 0.25, 0.25)])
    assert "edu_mix_by_university" in message
    message = _error(n_universities=1, edu_mix_by_university=[(0.5, 0.25, 0.5)])
    assert "edu_mix_by_university[0]" in message and "sum to 1" in message
    message = _error(n_universities=1, edu_mix_by_university=[(1.5, -0.25, -0.25)])
    assert "edu_mix_by_university[0]" in message
    model = EcosystemModel(rng=0, **{**SMALL, "n_universities": 2},
                           edu_mix_by_university=[(1.0, 0.0, 0.0), (0.2, 0.3, 0.5)])
    np.testing.assert_allclose(model.world.unis.mix, [[1.0, 0.0, 0.0], [0.2, 0.3, 0.5]])


def test_size_bounds_are_ordered() -> None:
    assert "size_max" in _error(size_min=100.0, size_max=50.0)


# --- the timeline ------------------------------------------------------------------------------
def test_timeline_unknown_lever() -> None:
    message = _error(timeline=[(3, "gov_budgt", 100.0)])
    assert "timeline" in message and "'gov_budgt'" in message
    assert "did you mean 'gov_budget'" in message
    # A parameter that exists but is not a lever cannot be changed mid-run.
    assert "n_firms" in _error(timeline=[(3, "n_firms", 200)])


def test_timeline_negative_month() -> None:
    message = _error(timeline=[(-1, "gov_budget", 100.0)])
    assert "timeline" in message and "month" in message


def test_timeline_month_after_horizon() -> None:
    message = _error(horizon_months=13, timeline=[(14, "gov_budget", 100.0)])
    assert "timeline" in message and "14" in message and "horizon" in message
    EcosystemModel(rng=0, **SMALL, timeline=[(13, "gov_budget", 100.0)])  # at the horizon: fine


@pytest.mark.parametrize(("lever", "value"), [("gov_budget", -1.0), ("matching_rate", 1.5),
                                              ("share_edu_3_0", float("nan")),
                                              ("platform_on", "yes"),
                                              ("budget_share_rd_subsidies", 2.0)])
def test_timeline_value_out_of_range(lever: str, value) -> None:
    message = _error(timeline=[(3, lever, value)])
    assert "timeline" in message and lever in message


def test_timeline_must_keep_joint_constraints() -> None:
    message = _error(share_edu_2_0=0.5, timeline=[(5, "share_edu_3_0", 0.6)])
    assert "timeline" in message and "share_edu_3_0" in message


def test_timeline_events_accepted_as_mappings() -> None:
    model = EcosystemModel(rng=0, **SMALL, timeline=[{"month": 2, "lever": "gov_budget",
                                                       "value": 50.0}])
    assert model.parameters["timeline"] == ((2, "gov_budget", 50.0),)
    model.run()
    assert model.world.p["gov_budget"] == 50.0


def test_timeline_can_move_money_between_instruments() -> None:
    """Events of the same month apply together, so the budget can be re-split mid-run
    (regression: each budget_share_* change used to be checked alone)."""
    model = EcosystemModel(rng=0, **SMALL, timeline=[
        (6, "budget_share_block_grants", 0.20), (6, "budget_share_matching_grants", 0.25)])
    model.run()
    assert model.world.p["budget_share_matching_grants"] == 0.25


def test_timeline_month_may_be_a_numpy_integer() -> None:
    """A month read from a numpy/pandas scenario table is a whole number too (regression)."""
    model = EcosystemModel(rng=0, **SMALL, timeline=[(np.int64(3), "gov_budget", 50.0)])
    assert model.parameters["timeline"][0][0] == 3


# --- regressions: validation bugs found by fuzzing -------------------------------------------
@pytest.mark.parametrize(("name", "value"), [("gov_budget", 10**400),
                                             ("teach_rate_1_0", (10**400, 0.0, 0.0, 0.0)),
                                             ("timeline", [(1, "gov_budget", 10**400)])],
                         ids=["float", "vector", "timeline-value"])
def test_huge_integer_is_a_parameter_error(name: str, value) -> None:
    """An int beyond the float range is a ParameterError, not OverflowError (regression)."""
    assert name in _error(**{name: value})


@pytest.mark.parametrize("value", [np.array(["reallocate"]), np.array([1, 2])],
                         ids=["1-element", "2-element"])
def test_array_is_not_a_choice(value) -> None:
    """`array in choices` compares elementwise; an array must be rejected (regression)."""
    assert "unspent_policy" in _error(unspent_policy=value)


@pytest.mark.parametrize("value", [{0.01: "a", 0.02: "b", 0.03: "c", 0.04: "d"},
                                   {0.01, 0.02, 0.03, 0.04}], ids=["dict", "set"])
def test_unordered_container_is_not_a_vector(value) -> None:
    """A dict (its keys) or a set (hash order) has no order of skills (regression)."""
    assert "teach_rate_1_0" in _error(teach_rate_1_0=value)


# --- junk --------------------------------------------------------------------------------------
# Integers are kept within 64 bits here; huge integers have their own test above.
_scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63), st.floats(),
                     st.text(max_size=8), st.just(float("nan")),
                     st.builds(np.float64, st.floats()))
JUNK = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5), st.tuples(inner, inner, inner),
                            st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=8)
NAMES = st.one_of(st.sampled_from(sorted(PARAMETERS)), st.text(min_size=1, max_size=12))


def _too_big(params: dict) -> bool:
    return params["n_firms"] > 5000 or params["intake_per_university"] * \
        params["n_universities"] > 5000


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(junk=st.dictionaries(NAMES, JUNK, min_size=1, max_size=3))
def test_junk_is_accepted_or_a_parameter_error(junk: dict) -> None:
    """Whatever is passed, the model is built or a ParameterError is raised, nothing else.
    (That the message is one line is checked on fixed cases above and below.)"""
    kwargs = {**SMALL, **junk}
    try:
        params = resolve(kwargs)
    except ParameterError:
        with pytest.raises(ParameterError):
            EcosystemModel(rng=0, **kwargs)
        return
    if _too_big(params):
        return
    try:
        model = EcosystemModel(rng=0, **kwargs)
    except ParameterError:
        return
    # What was accepted is stored normalised: it passes its own check unchanged.
    for name in junk:
        assert check_value(name, model.parameters[name]) == model.parameters[name]


@pytest.mark.parametrize("kwargs", [{"n_firms\nx": 1},
                                    {"timeline": [(1, "gov\nbudget", 1.0)]}],
                         ids=["name", "lever"])
def test_message_is_one_line_even_for_odd_names(kwargs: dict) -> None:
    """User-given names are quoted with repr, so a line break stays escaped (regression)."""
    _error(**kwargs)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(BOUNDED_FLOATS), data=st.data())
def test_any_in_range_float_is_accepted(name: str, data) -> None:
    p = PARAMETERS[name]
    value = data.draw(st.floats(p.low, p.high))
    assert check_value(name, value) == value
    if name not in JOINT:
        params = resolve({name: value})
        assert params[name] == value
