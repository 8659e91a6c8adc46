"""The memory and work budget: regions and batches that cannot fit are refused before they are
allocated, with one line naming the size behind it (exit code 2 from the command line)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from experiments.specs import SpecError, run_count
from experiments.specs import load as load_spec
from simulation import budget
from simulation.budget import BudgetError, check_memory, estimate, parse_bytes
from simulation.model import EcosystemModel
from simulation.parameters import resolve
from simulation.scenarios import ScenarioError
from simulation.scenarios import load as load_scenario

HELIXSIM = str(Path(sys.executable).with_name("helixsim"))


def _allocated(model: EcosystemModel) -> int:
    """Bytes of the firm and student tables a built model holds."""
    w = model.world
    return sum(getattr(t, name).nbytes for t in (w.firms, w.students) for name in t._arrays())


@pytest.mark.parametrize("sizes", [
    {"n_firms": 100, "intake_per_university": 100, "horizon_months": 12},
    {"n_firms": 300, "intake_per_university": 50, "horizon_months": 240},   # long: cohorts kept
    {"n_firms": 2000, "intake_per_university": 20, "horizon_months": 24},   # firm-heavy
    {"n_universities": 12, "n_firms": 100, "intake_per_university": 100, "n_domains": 40,
     "horizon_months": 12},                                                 # wide rows
])
def test_the_estimate_covers_the_tables_a_model_really_allocates(sizes):
    model = EcosystemModel(rng=1, **sizes)
    held = _allocated(model)
    need = estimate(resolve(sizes))
    assert need >= held
    # ... without being wildly above them (the overhead aside, slack of at most 2.5x).
    assert need - budget.OVERHEAD <= 2.6 * held + 64 * 2**10


def test_the_estimate_grows_with_every_size_parameter():
    base = resolve({})
    for key in budget.SIZE_PARAMETERS:
        bigger = dict(base, **{key: base[key] * 2})
        assert estimate(bigger) > estimate(base), key


@pytest.mark.parametrize(("text", "expected"), [
    ("8G", 8 * 2**30), ("512M", 512 * 2**20), ("1.5T", int(1.5 * 2**40)), ("2048", 2048),
    (" 64 MiB ", 64 * 2**20), ("100k", 100 * 2**10),
])
def test_sizes_parse_with_their_units(text, expected):
    assert parse_bytes(text) == expected


@pytest.mark.parametrize("text", ["", "abc", "0", "-1G", "8Q", "nan", "1e400"])
def test_a_bad_size_is_refused_with_one_line(text):
    with pytest.raises(BudgetError) as err:
        parse_bytes(text)
    assert "\n" not in str(err.value)
    assert budget.MEMORY_ENV in str(err.value)


def test_a_region_above_the_budget_is_refused_naming_its_size(monkeypatch):
    monkeypatch.setenv(budget.MEMORY_ENV, "20M")
    with pytest.raises(BudgetError) as err:
        EcosystemModel(rng=1)  # the default region needs about 33 MB
    assert err.value.key == "intake_per_university"
    assert "20.0 MB" in str(err.value) and "\n" not in str(err.value)
    monkeypatch.setenv(budget.MEMORY_ENV, "64M")
    EcosystemModel(rng=1, horizon_months=1)  # fits: built


def test_the_default_budget_is_a_share_of_available_memory_per_worker(monkeypatch):
    monkeypatch.delenv(budget.MEMORY_ENV, raising=False)
    monkeypatch.setattr(budget, "available_memory", lambda: 10 * 2**30)
    assert budget.memory_budget(1)[0] == 5 * 2**30
    assert budget.memory_budget(4)[0] == 5 * 2**30 // 4
    firm_heavy = resolve({"n_firms": 1_000_000, "horizon_months": 1200})
    with pytest.raises(BudgetError) as err:
        check_memory(firm_heavy)
    assert err.value.key == "n_firms" and "50% of the memory available" in str(err.value)
    check_memory(resolve({}), workers=8)


BIG = """
[parameters]
n_universities = 100
intake_per_university = 1000000
horizon_months = 1200
"""


def test_check_refuses_a_region_that_run_could_not_build(tmp_path, monkeypatch):
    monkeypatch.delenv(budget.MEMORY_ENV, raising=False)
    f = tmp_path / "big.toml"
    f.write_text(BIG)
    with pytest.raises(ScenarioError) as err:
        load_scenario(f)
    assert str(err.value).startswith(f"{f}: parameters.intake_per_university: the region needs")
    out = subprocess.run([HELIXSIM, "check", str(f)], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "TB of memory per run" in out.stderr
    assert "Traceback" not in out.stderr
    # The environment variable raises the budget (check builds nothing, so this is safe).
    out = subprocess.run([HELIXSIM, "check", str(f)], capture_output=True, text=True,
                         timeout=120, env={**_env(), budget.MEMORY_ENV: "4T"})
    assert out.returncode == 0, out.stderr


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != budget.MEMORY_ENV}


def _spec(tmp_path: Path, text: str) -> Path:
    f = tmp_path / "spec.toml"
    f.write_text(textwrap.dedent(text))
    return f


LHS = """
replications = {reps}
[design]
type = "lhs"
samples = {samples}
[[factors]]
parameter = "matching_rate"
low = 0.1
high = 0.5
"""


@pytest.mark.parametrize(("samples", "reps"), [(1_000_000, 100_000), (100_000, 2), (50_001, 2)])
def test_a_design_above_the_run_cap_is_refused_before_sampling(tmp_path, monkeypatch, samples,
                                                               reps):
    monkeypatch.delenv(budget.RUNS_ENV, raising=False)
    f = _spec(tmp_path, LHS.format(samples=samples, reps=reps))
    with pytest.raises(SpecError) as err:
        load_spec(f)
    assert err.value.key == "design"
    assert f"{samples:,} design points" in str(err.value) and budget.RUNS_ENV in str(err.value)


def test_the_run_cap_is_raised_by_its_environment_variable(tmp_path, monkeypatch):
    f = _spec(tmp_path, LHS.format(samples=60_000, reps=2))
    monkeypatch.delenv(budget.RUNS_ENV, raising=False)
    with pytest.raises(SpecError):
        load_spec(f)
    monkeypatch.setenv(budget.RUNS_ENV, "200000")
    assert run_count(load_spec(f)) == 120_000
    monkeypatch.setenv(budget.RUNS_ENV, "many")
    with pytest.raises(SpecError, match=budget.RUNS_ENV):
        load_spec(f)


def test_a_factorial_of_ten_billion_points_is_counted_not_built(tmp_path, monkeypatch):
    monkeypatch.delenv(budget.RUNS_ENV, raising=False)
    names = ["share_edu_2_0", "share_edu_3_0", "capstone_acceptance",
             "live_slots_per_brokered_project", "internships_per_project", "aptitude_sigma",
             "dropout_rate", "university_research_rate", "funding_elasticity",
             "publications_per_faculty"]
    levels = ", ".join(f"{i / 10}" for i in range(10))
    f = _spec(tmp_path, '[design]\ntype = "factorial"\n' + "".join(
        f'[[factors]]\nparameter = "{n}"\nlevels = [{levels}]\n' for n in names))
    with pytest.raises(SpecError) as err:
        load_spec(f)
    assert "10,000,000,000 design points" in str(err.value)


@pytest.mark.parametrize(("design", "d", "expected"), [
    ('type = "sobol"\nsamples = 8', 2, 8 * 4), ('type = "sobol"\nsamples = 8\nsecond_order = true',
                                              2, 8 * 6),
    ('type = "morris"\nsamples = 5', 3, 5 * 4), ('type = "lhs"\nsamples = 7', 2, 7)])
def test_the_count_is_the_design_the_sampler_draws(tmp_path, design, d, expected):
    from experiments.experiment import design_table

    factors = "".join(f'[[factors]]\nparameter = "{n}"\nlow = 0.1\nhigh = 0.3\n'
                      for n in ["matching_rate", "dropout_rate", "aptitude_sigma"][:d])
    spec = load_spec(_spec(tmp_path, f"replications = 3\n[design]\n{design}\n{factors}"))
    assert len(design_table(spec)) == expected
    assert run_count(spec) == expected * 3


def test_a_design_that_reaches_a_region_too_big_is_refused_at_its_factor(tmp_path, monkeypatch):
    monkeypatch.setenv(budget.MEMORY_ENV, "1G")
    f = _spec(tmp_path, """
        [design]
        type = "lhs"
        samples = 4
        [[factors]]
        parameter = "matching_rate"
        low = 0.1
        high = 0.2
        [[factors]]
        parameter = "intake_per_university"
        low = 1000
        high = 1000000
        """)
    with pytest.raises(SpecError) as err:
        load_spec(f)
    assert err.value.key == "factors[1]" and "largest region" in str(err.value)
    monkeypatch.setenv(budget.MEMORY_ENV, "1T")
    load_spec(f)


def test_the_command_line_options_set_both_limits(tmp_path):
    env = _env()
    out = subprocess.run([HELIXSIM, "--memory-budget", "10M", "run", "baseline", "--seeds", "2",
                          "--out", str(tmp_path / "r")], capture_output=True, text=True,
                         timeout=120, env=env)
    assert out.returncode == 2 and "above 10.0 MB" in out.stderr
    assert not (tmp_path / "r").exists()
    out = subprocess.run([HELIXSIM, "--max-runs", "10", "dividend", "baseline", "--attribution",
                          "--seeds", "2", "--out", str(tmp_path / "d")], capture_output=True,
                         text=True, timeout=120, env=env)
    assert out.returncode == 2 and "66 runs, above the cap of 10 runs" in out.stderr
    assert not (tmp_path / "d").exists()
    # The cap counts the runs the plan makes: model_3_0 with attribution is 34 distinct runs
    # a seed (the scenario, siloed, 31 more channel configurations and the baseline), so 203
    # is refused at 6 seeds and 204 is planned.
    out = subprocess.run([HELIXSIM, "--max-runs", "203", "dividend", "model_3_0",
                          "--attribution", "--seeds", "6", "--dry-run"],
                         capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 2 and "204 runs, above the cap of 203 runs" in out.stderr
    out = subprocess.run([HELIXSIM, "--max-runs", "204", "dividend", "model_3_0",
                          "--attribution", "--seeds", "6", "--dry-run"],
                         capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0 and "plan: 204 runs" in out.stderr
    out = subprocess.run([HELIXSIM, "--memory-budget", "lots", "check", "baseline"],
                         capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 2 and out.stderr.count("\n") == 1
