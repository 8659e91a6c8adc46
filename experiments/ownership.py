"""A results folder belongs to one job.

An experiment's folder is resumable: the same spec run into it again runs only what is
missing. A different spec run into it (at the same time, or one after the other) would mix two
experiments into one inconsistent folder, so the manifest records the command, the spec and
its fingerprint, and ``claim`` refuses a job whose fingerprint differs, suggesting a new
folder. While a job writes the folder it holds an exclusive lock on ``<folder>/.lock``
(``flock``, released by the system when the process ends, however it ends); a second job into
the same folder at the same time is refused, and a manifest that says "running" with no job
holding the lock is a job that died: ``status`` reports it as interrupted.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

LOCK_FILE = ".lock"
MANIFEST_FILE = "_manifest.json"  # experiment and optimise: the job, its spec and its status
JOB_FILE = "_job.json"  # run, compare and dividend: which job the folder belongs to
_held: dict[str, IO[str]] = {}  # folder -> open lock file, kept for the life of the job


class FolderInUseError(RuntimeError):
    """The folder holds, or is being written by, another job; ``str`` is one line."""


def fingerprint(*parts: Any) -> str:
    """A short hash of what defines a job (the spec as written, the resolved scenario)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _suggest(folder: Path) -> Path:
    for i in range(2, 1000):
        candidate = folder.with_name(f"{folder.name}-{i}")
        if not candidate.exists():
            return candidate
    return folder.with_name(f"{folder.name}-new")


def _lock(folder: Path) -> bool:
    """Take the folder's lock (kept open); False when another process holds it."""
    key = str(folder.resolve())
    if key in _held:
        return True
    f = open(folder / LOCK_FILE, "a+")  # noqa: SIM115 - held open for the job's lifetime
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        return False
    f.seek(0)
    f.truncate()
    f.write(f"{socket.gethostname()} {os.getpid()}\n")
    f.flush()
    _held[key] = f
    return True


def release(folder: Path) -> None:
    """Give the folder's lock back (the job is done)."""
    f = _held.pop(str(folder.resolve()), None)
    if f is not None:
        f.close()


def claim(folder: Path, *, command: str, name: str, job: str,
          record: str = MANIFEST_FILE) -> None:
    """Make ``folder`` this job's, or raise ``FolderInUseError``.

    ``job`` is the job's fingerprint; ``name`` and ``command`` are for the message; ``record``
    is the file in the folder that holds the fingerprint of the job that wrote it (an
    experiment's manifest, or ``JOB_FILE`` for run, compare and dividend). The folder is
    created if needed; nothing else is written here.
    """
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / record
    if not _lock(folder):
        holder = (folder / LOCK_FILE).read_text().strip() or "another process"
        raise FolderInUseError(f"{folder}: another job is writing this folder now ({holder}); "
                               f"wait for it, or use a new folder such as "
                               f"--out {_suggest(folder)}")
    if not manifest.is_file():
        return
    try:
        info = json.loads(manifest.read_text())
    except (OSError, ValueError):
        info = {}
    theirs = info.get("fingerprint")
    if theirs == job:
        return
    release(folder)
    what = f"{info.get('command', 'experiment')} '{info.get('experiment', '?')}'"
    raise FolderInUseError(f"{folder}: holds another job ({what}, fingerprint "
                           f"{theirs or 'unknown'}), not this {command} '{name}' (fingerprint "
                           f"{job}); resuming is only for the same job: use a new folder "
                           f"such as --out {_suggest(folder)}")


def record_job(folder: Path, *, command: str, name: str, job: str, state: str) -> None:
    """Write ``JOB_FILE``: the job that owns the folder and whether it is running or done
    (a new record: the runs it plans are added by ``plan_runs``)."""
    from .storage import write_json

    write_json({"command": command, "experiment": name, "fingerprint": job, "status": state},
               folder / JOB_FILE)


def plan_runs(folder: Path, run_ids: Iterable[str]) -> None:
    """Add ``run_ids`` to the planned runs of the running job that this process holds in
    ``folder`` (its ``JOB_FILE``); no job file, or one of a job not running here: nothing.

    An interrupted job's folder may hold an earlier model's runs too (a model change gives new
    run ids): ``helixsim results`` counts as the job's only the runs it planned. A job that
    plans in steps (compare with --precision adds seeds) calls this at each step.
    """
    from .storage import write_json

    path = folder / JOB_FILE
    if str(folder.resolve()) not in _held or not path.is_file():
        return
    try:
        info = json.loads(path.read_text())
    except (OSError, ValueError):
        return  # an unreadable record is rewritten whole when the job ends
    if not isinstance(info, dict) or info.get("status") != "running":
        return
    known = info.get("run_ids") if isinstance(info.get("run_ids"), list) else []
    write_json({**info, "run_ids": list(dict.fromkeys([*known, *run_ids]))}, path)


def status(folder: Path, recorded: str | None) -> str | None:
    """The folder's status: ``recorded`` (the manifest's), or "interrupted" for a "running"
    job that no live process holds."""
    if recorded != "running":
        return recorded
    if str(folder.resolve()) in _held:
        return recorded
    lock = folder / LOCK_FILE
    if not lock.is_file():
        return "interrupted"
    with open(lock) as f:
        try:
            fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return "running"
        fcntl.flock(f, fcntl.LOCK_UN)
    return "interrupted"
