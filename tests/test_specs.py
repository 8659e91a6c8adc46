"""Experiment specs: the shipped examples load; every kind of bad spec gives one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from experiments.specs import SpecError, load

# optimise_*.toml are optimisation specs (tests/test_optimise_spec.py loads them).
EXAMPLES = sorted(p for p in (Path(__file__).parent.parent / "experiments" / "examples"
                              ).glob("*.toml") if not p.name.startswith("optimise_"))

GOOD = """
description = "ok"
scenario = "baseline"
replications = 2
horizon_months = 12
[design]
type = "lhs"
samples = 4
[[factors]]
parameter = "matching_rate"
low = 0.2
high = 0.8
"""

# (what to change in GOOD, expected key path and message part)
BAD = [
    (("samples = 4", "samples = 5\n"), None),
    (('type = "lhs"\nsamples = 4', 'type = "sobol"\nsamples = 6'),
     "design.samples: Sobol (Saltelli) sampling needs a power of 2"),
    (('type = "lhs"', 'type = "grid"'), "design.type: expected one of factorial, lhs, sobol"),
    (('scenario = "baseline"', 'scenario = "basline"'), "scenario: "),
    (("replications = 2", "replications = 0"), "replications: 0 is outside"),
    (("replications = 2", 'replications = "two"'), "replications: expected a whole number"),
    (('parameter = "matching_rate"', 'parameter = "matchng_rate"'),
     "factors[0].parameter: 'matchng_rate' is not a parameter; did you mean 'matching_rate'?"),
    (("high = 0.8", "high = 1.8"), "factors[0].high: parameter 'matching_rate': 1.8 is outside"),
    (("high = 0.8", "high = 0.1"), "factors[0].high: must be above low"),
    (("low = 0.2", "low = nan"), "factors[0].low: parameter 'matching_rate': expected a finite"),
    (('parameter = "matching_rate"', 'parameter = "platform_on"'),
     "factors[0].parameter: 'platform_on' is not numeric"),
    (("horizon_months = 12", "horizon_months = 12\noutput = [\"welfare\"]"),
     "output: unknown key; did you mean 'outputs'?"),
    (("horizon_months = 12", "horizon_months = 12\noutputs = [\"welfar\"]"),
     "outputs[0]: 'welfar' is not an indicator; did you mean 'welfare'?"),
    (("[design]", "[desing]"), "desing: unknown key; did you mean 'design'?"),
    (('description = "ok"', 'description = "ok"\nx = ['), "malformed TOML"),
    (("[[factors]]", '[[levers]]\nname = "a"\n[levers.parameters]\nshare_edu_3_0 = 0.9\n'
                     "share_edu_2_0 = 0.5\n[[factors]]"),
     "levers[0]: parameters 'share_edu_2_0' + 'share_edu_3_0' must not exceed 1"),
    (("[[factors]]", '[[levers]]\nname = "a"\n[levers.parameters]\nn_firm = 3\n[[factors]]'),
     "levers[0].parameters.n_firm: unknown parameter; did you mean 'n_firms'?"),
    (("horizon_months = 12", "horizon_months = 12\ndividend = 1"),
     "dividend: expected true or false"),
    (("horizon_months = 12", "horizon_months = 12\n[analysis]\noutput = \"patents\""),
     "analysis.output: expected one of"),
]


def test_shipped_examples_load():
    assert len(EXAMPLES) >= 4
    for path in EXAMPLES:
        spec = load(path)
        assert spec.description and spec.factors


@pytest.mark.parametrize(("change", "expected"), BAD)
def test_bad_spec_gives_one_line_naming_file_and_key(tmp_path, change, expected):
    old, new = change
    assert old in GOOD
    path = tmp_path / "spec.toml"
    path.write_text(GOOD.replace(old, new, 1))
    if expected is None:  # a valid variation
        load(path)
        return
    with pytest.raises(SpecError) as info:
        load(path)
    message = str(info.value)
    assert len(message.splitlines()) == 1
    assert message.startswith(f"{path}: ")
    assert expected in message, message


def test_factorial_needs_levels(tmp_path):
    path = tmp_path / "f.toml"
    path.write_text(GOOD.replace('type = "lhs"', 'type = "factorial"'))
    with pytest.raises(SpecError, match=r"factors\[0\]\.levels: a factorial design needs"):
        load(path)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(cut=st.integers(0, len(GOOD)), length=st.integers(0, 40),
       insert=st.text(alphabet=st.characters(codec="utf-8"), max_size=30))
def test_mutated_specs_never_give_a_traceback(tmp_path, cut, length, insert):
    text = GOOD[:cut] + insert + GOOD[cut + length:]
    path = tmp_path / "m.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        load(path)
    except SpecError as err:
        assert len(str(err).splitlines()) == 1
