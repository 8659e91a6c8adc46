"""Errors in the files users write (scenarios, experiment specs): one line, file and key."""

from __future__ import annotations

import os
import stat
from pathlib import Path


class InputFileError(ValueError):
    """An invalid input file. ``str(err)`` is one line: ``file: key: what is wrong``."""

    def __init__(self, path: Path | str, key: str, reason: str) -> None:
        self.path, self.key, self.reason = str(path), key, reason
        where = f"{self.path}: {key}: " if key else f"{self.path}: "
        super().__init__(" ".join((where + reason).split()))


MAX_BYTES = 1 << 20  # an input file above 1 MiB is not a hand-written scenario or spec

_KINDS = ((stat.S_ISDIR, "is a directory"), (stat.S_ISCHR, "is a character device"),
          (stat.S_ISBLK, "is a block device"), (stat.S_ISFIFO, "is a named pipe (FIFO)"),
          (stat.S_ISSOCK, "is a socket"))


def _not_regular(mode: int) -> str | None:
    """What a file that is not a regular file is ("is a character device"), else None."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return None if stat.S_ISREG(mode) else "is not a regular file"


def read_bytes(path: Path | str, error: type[InputFileError], kind: str,
               limit: int = MAX_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; else ``error(path, "", why)``.

    Devices (``/dev/zero`` never ends), FIFOs (a read blocks until a writer comes), sockets and
    directories are refused from ``os.stat`` before anything is opened; the file is then
    opened non-blocking and checked again on the open descriptor, so a file swapped in between
    cannot slip through, and at most ``limit + 1`` bytes are ever read.
    """
    try:
        info = os.stat(path)  # follows symlinks: a link to /dev/zero is a device
    except (FileNotFoundError, NotADirectoryError, ValueError):  # ValueError: a NUL in the name
        raise error(path, "", "file not found") from None
    except OSError as err:
        raise error(path, "", f"cannot read the file ({err.strerror})") from None
    what = _not_regular(info.st_mode)
    if what is not None:
        raise error(path, "", f"{what}, not {kind}")
    if info.st_size > limit:
        raise error(path, "", f"{info.st_size:,} bytes: above the limit of {limit:,} bytes "
                              f"for {kind}")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
        with os.fdopen(fd, "rb") as f:
            what = _not_regular(os.fstat(f.fileno()).st_mode)
            data = f.read(limit + 1) if what is None else b""
    except FileNotFoundError:
        raise error(path, "", "file not found") from None
    except OSError as err:
        raise error(path, "", f"cannot read the file ({err.strerror})") from None
    if what is not None:
        raise error(path, "", f"{what}, not {kind}")
    if len(data) > limit:
        raise error(path, "", f"above the limit of {limit:,} bytes for {kind}")
    return data


def read_toml(path: Path, error: type[InputFileError], kind: str) -> tuple[dict, str]:
    """(document, text) of a TOML file; every failure is ``error(path, "", reason)``.

    ``kind`` names the expected file in messages ("a scenario file", "an experiment spec").
    Only regular files of at most ``MAX_BYTES`` are read (``read_bytes``). Files are parsed as
    data, never executed.
    """
    import tomllib

    data = read_bytes(path, error, kind)
    try:
        text = data.decode("utf-8")
        return tomllib.loads(text), text
    except UnicodeDecodeError as err:
        raise error(path, "", f"not UTF-8 text ({err.reason})") from None
    except tomllib.TOMLDecodeError as err:
        raise error(path, "", f"malformed TOML: {err}") from None
    except RecursionError:
        raise error(path, "", "malformed TOML: values nested too deeply") from None
