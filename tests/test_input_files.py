"""Input files are regular files of bounded size: devices, FIFOs, directories and huge files
are refused at once (never read, never waited on), and errors up a chain of ``extends`` are
reported against the file that names the parent, at its ``extends`` key."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from experiments.specs import SpecError
from experiments.specs import load as load_spec
from simulation.errors import MAX_BYTES
from simulation.scenarios import MAX_EXTENDS, ScenarioError
from simulation.scenarios import load as load_scenario

HELIXSIM = str(Path(sys.executable).with_name("helixsim"))


def _check(*args: str) -> subprocess.CompletedProcess:
    # A timeout: a reader that blocks on a FIFO or reads /dev/zero forever fails the test
    # instead of hanging the suite.
    return subprocess.run([HELIXSIM, "check", *args], capture_output=True, text=True,
                          timeout=60)


@pytest.fixture
def specials(tmp_path: Path) -> dict[str, Path]:
    zero = tmp_path / "zero.toml"
    zero.symlink_to("/dev/zero")
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.toml"
    folder.mkdir()
    huge = tmp_path / "huge.toml"
    huge.write_text("# " + "x" * MAX_BYTES + "\n")
    return {"character device": zero, "named pipe": fifo, "directory": folder,
            f"above the limit of {MAX_BYTES:,} bytes": huge}


def test_special_files_are_refused_with_exit_2_and_one_line(specials):
    for what, path in specials.items():
        out = _check(str(path))
        assert out.returncode == 2, (what, out.stderr)
        assert out.stderr.startswith(f"error: {path}: ") and what in out.stderr
        assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr


def test_special_files_are_refused_by_the_loaders(specials):
    for what, path in specials.items():
        with pytest.raises(ScenarioError, match=what):
            load_scenario(path)


def test_a_spec_whose_scenario_is_a_device_names_the_spec_and_its_key(tmp_path, specials):
    for what, path in specials.items():
        spec = tmp_path / "spec.toml"
        spec.write_text(textwrap.dedent(f"""
            scenario = "{path}"
            [design]
            type = "lhs"
            samples = 2
            [[factors]]
            parameter = "matching_rate"
            low = 0.1
            high = 0.2
            """))
        with pytest.raises(SpecError) as err:
            load_spec(spec)
        assert str(err.value).startswith(f"{spec}: scenario: {path}: ") and what in str(
            err.value)


def test_a_spec_that_is_a_fifo_is_refused(specials):
    with pytest.raises(SpecError, match="named pipe"):
        load_spec(specials["named pipe"])


def test_a_file_at_the_size_limit_is_read(tmp_path):
    f = tmp_path / "padded.toml"
    body = 'description = "padded"\n'
    f.write_text(body + "#" * (MAX_BYTES - len(body) - 1) + "\n")
    assert f.stat().st_size == MAX_BYTES
    assert load_scenario(f).description == "padded"


def test_an_error_in_a_parent_names_the_child_file_and_its_extends_key(tmp_path):
    child = tmp_path / "child.toml"
    child.write_text('extends = "/etc/passwd"\n')
    with pytest.raises(ScenarioError) as err:
        load_scenario(child)
    assert str(err.value).startswith(f"{child}: extends: /etc/passwd: ")
    assert err.value.path == str(child) and err.value.key == "extends"
    # Two levels: the chain reads from the file given down to the file at fault.
    parent = tmp_path / "parent.toml"
    parent.write_text("[parameters]\nn_firms = -3\n")
    middle = tmp_path / "middle.toml"
    middle.write_text('extends = "parent.toml"\n')
    top = tmp_path / "top.toml"
    top.write_text('extends = "middle.toml"\n')
    with pytest.raises(ScenarioError) as err:
        load_scenario(top)
    assert str(err.value).startswith(
        f"{top}: extends: {middle}: extends: {parent}: parameters.n_firms: ")


def _chain(tmp_path: Path, files: int) -> Path:
    for i in range(files - 1):
        (tmp_path / f"f{i}.toml").write_text(f'extends = "f{i + 1}.toml"\n')
    (tmp_path / f"f{files - 1}.toml").write_text("[parameters]\nn_firms = 123\n")
    return tmp_path / "f0.toml"


def test_an_extends_chain_up_to_the_limit_loads(tmp_path):
    assert load_scenario(_chain(tmp_path, MAX_EXTENDS)).parameters["n_firms"] == 123


@pytest.mark.parametrize("files", [MAX_EXTENDS + 1, 1000])
def test_an_extends_chain_above_the_limit_has_its_own_message(tmp_path, files):
    with pytest.raises(ScenarioError) as err:
        load_scenario(_chain(tmp_path, files))
    text = str(err.value)
    assert text.startswith(f"{tmp_path / 'f0.toml'}: extends: the chain of extends is longer "
                           f"than {MAX_EXTENDS} files")
    assert "nested too deeply" not in text and len(text) < 300
