"""Every rule of an experiment spec is checked when it is loaded, not when the design is drawn
or analysed (after the results folder is made): one line naming file and key."""

from __future__ import annotations

import pytest

from experiments.experiment import design_table
from experiments.specs import SpecError, load

FACTORS = """
[[factors]]
parameter = "matching_rate"
low = 0.1
high = 0.5
[[factors]]
parameter = "dropout_rate"
low = 0.01
high = 0.1
"""


@pytest.mark.parametrize(("design", "key", "words"), [
    ('type = "morris"\nsamples = 4\nlevels = 5', "design.levels", "must be even"),
    ('type = "morris"\nsamples = 4\nlevels = 3', "design.levels", "must be even"),
    ('type = "morris"\nsamples = 1', "design.samples", "at least 2 trajectories"),
    ('type = "sobol"\nsamples = 1', "design.samples", "power of 2"),
    ('type = "sobol"\nsamples = 12', "design.samples", "power of 2"),
    ('type = "lhs"\nsamples = 4\nlevels = 4', "design.levels", "for a Morris design"),
    ('type = "sobol"\nsamples = 4\nlevels = 4', "design.levels", "for a Morris design"),
])
def test_a_design_the_sampler_would_refuse_is_refused_at_load(tmp_path, design, key, words):
    f = tmp_path / "spec.toml"
    f.write_text(f"[design]\n{design}\n{FACTORS}")
    with pytest.raises(SpecError) as err:
        load(f)
    assert err.value.key == key and words in str(err.value)
    assert str(err.value).startswith(f"{f}: {key}: ")


@pytest.mark.parametrize("design", ['type = "morris"\nsamples = 2\nlevels = 2',
                                    'type = "morris"\nsamples = 3\nlevels = 6',
                                    'type = "sobol"\nsamples = 2'])
def test_designs_that_pass_the_rules_can_be_drawn(tmp_path, design):
    f = tmp_path / "spec.toml"
    f.write_text(f"[design]\n{design}\n{FACTORS}")
    assert len(design_table(load(f))) > 0


def test_discovery_on_a_factor_with_levels_that_are_not_numbers_is_refused(tmp_path):
    f = tmp_path / "spec.toml"
    f.write_text("""
[design]
type = "factorial"
[[factors]]
parameter = "edu_mix_by_university"
levels = [[[1.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]],
          [[0.5, 0.0, 0.5], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]]
[analysis]
threshold = 0.0
""")
    with pytest.raises(SpecError) as err:
        load(f)
    assert err.value.key == "factors[0].levels" and "numeric" in str(err.value)


def test_without_the_rule_the_odd_grid_fails_only_later():
    """The premise of the rule: SALib's Morris analysis does fail on what the rule refuses."""
    from experiments import sensitivity

    problem = sensitivity.problem([{"name": "a", "low": 0, "high": 1}])
    with pytest.raises(ValueError):
        sensitivity.morris_sample(problem, 4, levels=5, seed=1)
