"""Boolean environment variables read the usual way (shared by conftest.py and the tests)."""

from __future__ import annotations

import os

TRUTHY = frozenset({"1", "true", "yes", "on"})


def truthy(value: str | None) -> bool:
    """True for 1, true, yes, on in any case (surrounding spaces ignored); else False."""
    return value is not None and value.strip().lower() in TRUTHY


def flag(name: str) -> bool:
    """Whether environment variable ``name`` is set to a truthy value."""
    return truthy(os.environ.get(name))
