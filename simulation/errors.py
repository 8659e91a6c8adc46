"""Errors in the files users write (scenarios, experiment specs): one line, file and key."""

from __future__ import annotations

from pathlib import Path


class InputFileError(ValueError):
    """An invalid input file. ``str(err)`` is one line: ``file: key: what is wrong``."""

    def __init__(self, path: Path | str, key: str, reason: str) -> None:
        self.path, self.key, self.reason = str(path), key, reason
        where = f"{self.path}: {key}: " if key else f"{self.path}: "
        super().__init__(" ".join((where + reason).split()))
