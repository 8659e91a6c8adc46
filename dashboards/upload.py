"""A scenario file uploaded to the dashboard: checked by the scenario loader, kept in memory.

The upload is validated by ``simulation.scenarios.load`` (the validation of ``helixsim check``,
not a second one), so a bad file gets the same one-line message, ``file: key: what is wrong``,
with the file named as it was uploaded. Beyond what ``check`` enforces for files on one's own
disk, an upload:

- is at most ``MAX_BYTES`` (1 MiB, the scenario loader's own limit); a larger one is refused
  from its declared size, before anything is transferred;
- is written only into a fresh temporary folder, for the loader to read, and that folder is
  removed as soon as it is read; the bytes stay in the visitor's session (for the export);
- is parsed as TOML data, never executed;
- may ``extends`` only a scenario of the library, by name: a path would let a visitor make the
  server read (and report on) files outside the library.
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from simulation.errors import MAX_BYTES, read_toml
from simulation.parameters import show
from simulation.scenarios import LIBRARY, Scenario, ScenarioError, load

KIND = "a scenario file"
PREFIX = "uploaded-"
MAX_UPLOADS = 8  # files a session keeps (each at most MAX_BYTES, in memory)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class Upload:
    """A validated uploaded scenario: its file name, bytes and the scenario (``path`` None)."""

    file_name: str
    data: bytes
    scenario: Scenario


def file_name(raw: str) -> str:
    """The uploaded file's name, reduced to a plain, safe file name (no folders)."""
    base = _UNSAFE.sub("_", Path(str(raw).replace("\\", "/")).name).strip("._")[:80]
    return base or "scenario.toml"


def library_names() -> list[str]:
    return sorted(p.stem for p in LIBRARY.glob("*.toml"))


def _extends_library_only(path: Path, name: str) -> dict:
    """The document, read as the loader reads it; refused when its ``extends`` is not a
    library scenario's name (a path, a folder)."""
    doc, _ = read_toml(path, ScenarioError, KIND)
    ref = doc.get("extends")
    if not isinstance(ref, str) or not ref:
        return doc  # absent, or wrong in a way the loader reports itself
    bare = Path(ref).name == ref and Path(ref).suffix in ("", ".toml")
    if not bare or Path(ref).stem not in library_names():
        raise ScenarioError(name, "extends", f"an uploaded scenario may extend only a library "
                            f"scenario by name ({', '.join(library_names())}), got {show(ref)}")
    return doc


def validate(raw_name: str, data: bytes) -> Upload:
    """The uploaded bytes as a scenario; raises ScenarioError (one line, the file by name)."""
    name = file_name(raw_name)
    with tempfile.TemporaryDirectory(prefix="helixsim-upload-") as tmp:
        # Alone in its folder under a prefixed name, so `extends = "baseline"` in a file
        # uploaded as baseline.toml still means the library's baseline.
        path = Path(tmp) / f"{PREFIX}{name}"
        path.write_bytes(data[:MAX_BYTES + 1])  # the loader refuses what is above the limit
        try:
            doc = _extends_library_only(path, name)
            scenario = load(path)
        except ScenarioError as err:
            # The same message as `helixsim check NAME` in the folder holding the file.
            reason = err.reason.replace(str(path), name).replace(f"{tmp}/", "")
            raise ScenarioError(name, err.key, reason) from None
    named = str(doc["name"]) if "name" in doc else Path(name).stem
    return Upload(name, bytes(data), dataclasses.replace(scenario, path=None, name=named))


def receive(raw_name: str, size: int, read: Callable[[int], bytes]) -> Upload:
    """An upload from its declared ``size`` and a ``read(n)`` of its bytes: refused from the
    size alone when above the limit, else read (at most the limit + 1 bytes) and validated."""
    name = file_name(raw_name)
    if size > MAX_BYTES:
        raise ScenarioError(name, "", f"{size:,} bytes: above the limit of {MAX_BYTES:,} bytes "
                                      f"for {KIND}")
    try:
        data = read(MAX_BYTES + 1)
    except Exception as err:  # the browser file reader raises a bare Exception (a timeout)
        raise ScenarioError(name, "", f"the file did not arrive ({err})") from None
    return validate(name, data)


def materialise(upload: Upload, folder: Path, stem: str) -> Path:
    """Write the upload as ``folder/<stem>.toml`` (a temporary folder of the caller's) so the
    scenario loader can read it again there; returns the path."""
    path = folder / f"{stem}.toml"
    path.write_bytes(upload.data)
    return path
