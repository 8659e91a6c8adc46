"""No work at import: importing the model reads no file and loads no Mesa, importing the
runner hashes no source, and the command line loads the model only inside a command (so that
``helixsim --help`` is quick). Each check runs in a fresh interpreter, where nothing else has
imported these modules yet."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest


def _fresh(code: str) -> dict:
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120, check=True)
    return json.loads(proc.stdout)


def test_importing_simulation_reads_no_calibration_and_loads_no_mesa():
    seen = _fresh("""
        import json, sys
        import simulation, simulation.parameters, simulation.scenarios
        loaded_at_import = simulation.parameters._LOADED is not None
        mesa_at_import = "mesa" in sys.modules
        simulation.DEFAULTS  # first use: now the file is read
        print(json.dumps({"loaded": loaded_at_import, "mesa": mesa_at_import,
                          "loaded_on_use": simulation.parameters._LOADED is not None,
                          "mesa_on_model": hasattr(simulation, "EcosystemModel")
                          and "mesa" in sys.modules}))
    """)
    assert seen == {"loaded": False, "mesa": False, "loaded_on_use": True,
                    "mesa_on_model": True}


def test_importing_the_runner_computes_no_fingerprint():
    seen = _fresh("""
        import json
        from experiments import runner
        before = runner.model_version.cache_info().currsize
        spec = runner.RunSpec("x", {}, 0, 1, 2)
        spec.run_id
        print(json.dumps([before, runner.model_version.cache_info().currsize]))
    """)
    assert seen == [0, 1]


@pytest.mark.parametrize("module", ["numpy", "pandas", "mesa", "matplotlib",
                                    "experiments.runner", "simulation.model"])
def test_the_command_line_module_loads_no_model(module):
    seen = _fresh(f"""
        import json, sys
        import helixsim.cli
        print(json.dumps({module!r} in sys.modules))
    """)
    assert seen is False, f"importing helixsim.cli imports {module}"
