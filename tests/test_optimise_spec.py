"""Optimisation specs: the shipped example loads; every kind of bad spec gives one clear line,
exit code 2 and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from experiments.optimise_spec import OptimiseSpecError, load
from helixsim.cli import app
from simulation.parameters import PARAMETERS

EXAMPLES = sorted((Path(__file__).parent.parent / "experiments" / "examples"
                   ).glob("optimise_*.toml"))

GOOD = """
description = "ok"
scenario = "baseline"
horizon_months = 36
replications = 1
[parameters]
n_firms = 100
[[levers]]
parameter = "matching_rate"
low = 0.2
high = 0.8
[[levers]]
parameter = "platform_launch_year"
low = 1
high = 3
[[levers]]
budget_shares = ["block_grants", "matching_grants"]
[[objectives]]
indicator = "welfare"
dividend = true
robustness = "percentile"
percentile = 10
[uncertainty]
draws = 2
[[uncertainty.ranges]]
parameter = "graduate_premium"
low = 0.4
high = 1.2
[search]
population = 4
generations = 2
"""

# (what to change in GOOD, expected "key: message" part)
BAD = [
    (("draws = 2", "draws = 2\nsamples = 3"), "uncertainty.samples: unknown key"),
    (('scenario = "baseline"', 'scenario = "basline"'), "scenario: "),
    (("replications = 1", "replications = 0"), "replications: 0 is outside"),
    (("n_firms = 100", "n_firm = 100"), "parameters.n_firm: unknown parameter"),
    (('parameter = "matching_rate"', 'parameter = "matchng_rate"'),
     "levers[0].parameter: 'matchng_rate' is not a policy lever; did you mean 'matching_rate'?"),
    (('parameter = "matching_rate"', 'parameter = "budget_share_block_grants"'),
     "levers[0].parameter: budget shares must stay on their simplex"),
    (('parameter = "matching_rate"', 'parameter = "gov_budget"'),
     "levers[0].parameter: the total budget is held fixed"),
    (('parameter = "matching_rate"', 'parameter = "tax_rate"'),
     "levers[0].parameter: 'tax_rate' is not a policy lever"),
    (("high = 0.8", "high = 1.8"), "levers[0].high: 1.8 is outside its valid range"),
    (("low = 0.2", "low = 0.9"), "levers[0].high: must be above low (0.9)"),
    (("high = 3", "high = 4"), "levers[1].high: year 4 opens the platform in month 37, after "
                               "the horizon (36 months)"),
    (('["block_grants", "matching_grants"]', '["block_grants", "matching_grant"]'),
     "levers[2].budget_shares[1]: 'matching_grant' is not an instrument; did you mean "
     "'matching_grants'?"),
    (('["block_grants", "matching_grants"]', '["block_grants"]'),
     "levers[2].budget_shares: expected a list of two or more instruments"),
    (('indicator = "welfare"', 'indicator = "welfair"'),
     "objectives[0].indicator: 'welfair' is not an indicator; did you mean 'welfare'?"),
    (('robustness = "percentile"', 'robustness = "worst"'),
     "objectives[0].robustness: expected one of mean, percentile, satisficing, regret"),
    (('robustness = "percentile"', 'robustness = "mean"'),
     "objectives[0].percentile: only for robustness = \"percentile\""),
    (("percentile = 10", "percentile = 120"), "objectives[0].percentile: 120 is outside"),
    (('parameter = "graduate_premium"', 'parameter = "matching_rate"'),
     "uncertainty.ranges[0].parameter: 'matching_rate' is a lever"),
    (("draws = 2", 'draws = 2\nprior = "tables"'),
     "uncertainty.prior: expected \"table\""),
    (("population = 4", "population = 1"), "search.population: 1 is outside [2, 10000]"),
    (("generations = 2", 'generations = 2\nalgorithm = "cmaes"'),
     "search.algorithm: expected one of nsga2, nsga3, random"),
    (("generations = 2", "generations = 2\n[recommend]\nobjective = \"jobs\""),
     "recommend.objective: expected the name of an objective (dividend_welfare)"),
    (("[[objectives]]", "[[objectivs]]"), "objectivs: unknown key; did you mean 'objectives'?"),
    (("high = 1.2", "high = 1.2\n[constraints]\n[[constraints.outcomes]]\n"
                    "indicator = \"jobs\""),
     "constraints.outcomes[0]: an outcome constraint needs at_least or at_most"),
    (("description = \"ok\"", "description = \"ok"), "malformed TOML"),
]


def test_shipped_examples_load():
    assert EXAMPLES
    for path in EXAMPLES:
        spec = load(path)
        assert spec.description and spec.levers and spec.objectives


@pytest.mark.parametrize(("change", "expected"), BAD)
def test_a_bad_spec_is_one_line_naming_file_and_key(tmp_path, change, expected):
    old, new = change
    assert old in GOOD
    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace(old, new, 1))
    with pytest.raises(OptimiseSpecError) as info:
        load(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: ")
    assert expected in message, message


def test_the_good_spec_loads(tmp_path):
    path = tmp_path / "good.toml"
    path.write_text(GOOD)
    spec = load(path)
    assert [lv.kind for lv in spec.levers] == ["number", "number", "budget"]
    assert spec.objectives[0].name == "dividend_welfare" and spec.needs_siloed


def test_prior_table_draws_over_the_parameter_tables_priors(tmp_path):
    """prior = "table": one range per scalar prior of simulation.priors, its support, inside
    the parameter's valid range; a parameter the search itself sets is not also uncertain."""
    from simulation.priors import table

    path = tmp_path / "priors.toml"
    path.write_text(GOOD.replace("draws = 2", 'draws = 2\nprior = "table"', 1).replace(
        '[[uncertainty.ranges]]\nparameter = "graduate_premium"\nlow = 0.4\nhigh = 1.2\n', ""))
    spec = load(path)
    got = {r.parameter: (r.low, r.high) for r in spec.ranges}
    scalar = {n: pr.support() for n, pr in table().items() if not pr.scale}
    assert len(got) > 50 and got == {n: s for n, s in scalar.items() if n in got}
    for name, (low, high) in got.items():
        p = PARAMETERS[name]
        assert (p.low is None or low >= p.low) and (p.high is None or high <= p.high), name
    assert "graduate_premium" in got  # drawn from its prior now, not from the spec's range


def test_cli_bad_spec_exits_2_with_one_line_and_writes_nothing(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(GOOD.replace('indicator = "welfare"', 'indicator = "welfair"'))
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["optimise", str(path), "--out", str(out)])
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert lines == [f"error: {path}: objectives[0].indicator: 'welfair' is not an indicator; "
                     "did you mean 'welfare'?"]
    assert not out.exists()


def test_cli_dry_run_prints_the_runs_and_writes_nothing(tmp_path):
    path = tmp_path / "good.toml"
    path.write_text(GOOD)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["optimise", str(path), "--out", str(out), "--dry-run"])
    assert result.exit_code == 0, result.output
    # (1 start + 4 x 2 candidates) x 2 cells x 2 (siloed) + (3 + 1) x 2 cells x 2
    assert "plan: at most 52 runs" in result.output  # the one plan line of every batch command
    assert not out.exists()


def test_cli_refuses_a_folder_of_another_search(tmp_path):
    path = tmp_path / "good.toml"
    path.write_text(GOOD)
    out = tmp_path / "out"
    (out / "checkpoint").mkdir(parents=True)
    (out / "checkpoint" / "checkpoint.json").write_text('{"spec": "0000", "generations": 1}')
    result = CliRunner().invoke(app, ["optimise", str(path), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "holds a search with another spec" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint"]
