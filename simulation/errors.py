"""Errors in the files users write (scenarios, experiment specs): one line, file and key."""

from __future__ import annotations

from pathlib import Path


class InputFileError(ValueError):
    """An invalid input file. ``str(err)`` is one line: ``file: key: what is wrong``."""

    def __init__(self, path: Path | str, key: str, reason: str) -> None:
        self.path, self.key, self.reason = str(path), key, reason
        where = f"{self.path}: {key}: " if key else f"{self.path}: "
        super().__init__(" ".join((where + reason).split()))


def read_toml(path: Path, error: type[InputFileError], kind: str) -> tuple[dict, str]:
    """(document, text) of a TOML file; every failure is ``error(path, "", reason)``.

    ``kind`` names the expected file in messages ("a scenario file", "an experiment spec").
    Files are parsed as data, never executed.
    """
    import tomllib

    try:
        text = Path(path).read_bytes().decode("utf-8")
        return tomllib.loads(text), text
    except FileNotFoundError:
        raise error(path, "", "file not found") from None
    except IsADirectoryError:
        raise error(path, "", f"is a directory, not {kind}") from None
    except UnicodeDecodeError as err:
        raise error(path, "", f"not UTF-8 text ({err.reason})") from None
    except tomllib.TOMLDecodeError as err:
        raise error(path, "", f"malformed TOML: {err}") from None
    except RecursionError:
        raise error(path, "", "malformed TOML: values nested too deeply") from None
    except OSError as err:
        raise error(path, "", f"cannot read the file ({err.strerror})") from None
