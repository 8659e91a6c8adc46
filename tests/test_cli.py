"""The command line's front door: the demo prints its table, the parameter table prints."""

from typer.testing import CliRunner

from helixsim.cli import app
from simulation.parameters import PARAMETERS


def test_demo_prints_indicators_at_three_years():
    result = CliRunner().invoke(app, ["demo", "--years", "2", "--seed", "5"])
    assert result.exit_code == 0, result.output
    for column in ("year 0", "year 1", "year 2"):
        assert column in result.output
    assert "Regional value added" in result.output


def test_params_lists_every_parameter():
    result = CliRunner().invoke(app, ["params"])
    assert result.exit_code == 0
    for name in PARAMETERS:
        assert f"`{name}`" in result.output


def test_demo_rejects_a_bad_option_with_exit_code_2():
    result = CliRunner().invoke(app, ["demo", "--years", "0"])
    assert result.exit_code == 2
