"""The wheel is a complete helixsim: built, installed without -e into a fresh virtual
environment and run from a folder outside the checkout, it has its scenario library and its
calibrated defaults (package data), and without the calibration file it says so in one line.

The fresh environment sees the project environment's site-packages for the dependencies
(through a plain path line, so the editable install's finder there is not loaded) and runs
from a temporary folder, so only the installed copy of helixsim can be imported.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("pyproject.toml", "README.md", "helixsim", "simulation", "experiments", "dashboards",
           "scenarios")

pytestmark = pytest.mark.wheel


def _run(args: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=600,
                          env={"PATH": str(Path(args[0]).parent), "HOME": str(cwd)})
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> tuple[Path, Path]:
    """(python of a fresh venv with the wheel installed, a work folder outside the checkout)."""
    tmp = tmp_path_factory.mktemp("wheel")
    # Build from a copy, so that the build leaves nothing (build/, *.egg-info) in the checkout.
    src = tmp / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=ignore)
        else:
            shutil.copy2(path, src / name)
    dist = tmp / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
          "--disable-pip-version-check", "-w", str(dist), str(src)], cwd=tmp)
    (wheel,) = dist.glob("helixsim-*.whl")

    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                     cwd=tmp).stdout.strip())
    # The dependencies from the project environment; a path line does not run that folder's
    # .pth files, so its editable finder (which maps helixsim to the checkout) stays out.
    (site / "project-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
          "--no-deps", "--disable-pip-version-check", str(wheel)], cwd=tmp)
    work = tmp / "work"
    work.mkdir()
    return python, work


def test_the_wheel_ships_the_scenario_library_and_the_calibration(installed):
    python, work = installed
    code = textwrap.dedent("""
        import json
        import simulation
        from simulation import calibrated, parameters, scenarios
        cal = calibrated.read(calibrated.CALIBRATION_FILE)
        print(json.dumps({
            "package": simulation.__file__,
            "library": str(scenarios.LIBRARY),
            "names": sorted(s.name for s in scenarios.library()),
            "calibration_file": str(calibrated.CALIBRATION_FILE),
            "calibrated": {k: [v, parameters.DEFAULTS[k]] for k, v in cal.values.items()},
        }))
    """)
    info = json.loads(_run([str(python), "-c", code], cwd=work).stdout)
    env_dir = python.parent.parent
    for key in ("package", "library", "calibration_file"):
        assert Path(info[key]).is_relative_to(env_dir), f"{key} not from the installed wheel"
        assert not Path(info[key]).is_relative_to(ROOT), f"{key} from the checkout"
    shipped = sorted(p.stem for p in (ROOT / "scenarios").glob("*.toml"))
    assert info["names"] == shipped
    assert info["calibrated"], "the shipped calibration is empty"
    for name, (value, default) in info["calibrated"].items():
        assert default == value, f"{name}: default {default} is not the calibrated {value}"


def test_the_installed_command_runs_a_library_scenario(installed):
    python, work = installed
    helixsim = python.parent / "helixsim"
    out = work / "run"
    _run([str(helixsim), "run", "baseline", "--seeds", "2", "--months", "2", "--workers", "1",
          "--out", str(out), "--json"], cwd=work)
    assert (out / "report.md").is_file() and (out / "report.html").is_file()
    import pandas as pd

    assert pd.read_parquet(out / "runs")["run_id"].nunique() == 2


def test_without_the_calibration_file_the_installed_package_says_so(installed):
    python, work = installed
    file = Path(_run([str(python), "-c", "from simulation.calibrated import CALIBRATION_FILE; "
                      "print(CALIBRATION_FILE)"], cwd=work).stdout.strip())
    moved = file.with_name("calibration.toml.away")
    file.rename(moved)
    try:
        proc = _run([str(python.parent / "helixsim"), "params"], cwd=work, check=False)
    finally:
        moved.rename(file)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "calibration file not found" in lines[0] and str(file) in lines[0]
