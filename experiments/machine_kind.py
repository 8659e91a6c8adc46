"""The kind of machine a run was made on, as far as its last bits depend on it.

numpy takes exp, log and pow of float64 arrays with its own AVX-512 routines on x86-64
processors that have AVX-512 ("x86_v4") and with the C library's on the others ("x86_v3");
machines that are not x86-64 (ARM, say) are "other": their C library's routines are not
known to give the x86 ones' last bits. The two differ in the last bit of a few
values, which a run carries on, so the same seed gives the same run only on machines of one
kind. Every run therefore records the kind of the worker that made it (``run_files`` keeps it
in its file's footer), and a report or a manifest says which kinds its runs were made on; a
batch whose runs come from machines of two kinds says so, because rerunning it on one machine
will not give every run back to the last bit.

A module of its own, importing nothing heavy, because every worker calls ``vector_maths`` once
per batch task, a Dask worker included.

The kind is numpy's choice of routines in the process, not the processor's: numpy skips the
dispatch targets named in the environment variable ``NPY_DISABLE_CPU_FEATURES`` when it is
imported, so an AVX-512 machine whose processes set it to ``portable_setting()`` takes the C
library's exp, log and pow, is of kind x86_v3 and gives an x86_v3 machine's runs to the last
bit (checked on an AVX-512 machine: docs/performance.md, "Same numbers"). The variable must
be in the environment before numpy is imported, in every process that runs the model (a
batch's workers included), so it is for the shell or the job script to set, not for the
model; ``python -m experiments.machine_kind`` prints it with this process's kind.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

KINDS = ("x86_v4", "x86_v3", "other")
WORDS = {"x86_v4": "x86_v4 (AVX-512: numpy's own exp, log and pow)",
         "x86_v3": "x86_v3 (no AVX-512 in use: the C library's exp, log and pow)",
         "other": "other (not x86-64: its C library's exp, log and pow)"}
MIXED = ("runs made on machines of several kinds, which differ in the last bits: a rerun on "
         "machines of one kind will not give every run back exactly")
_X86 = {"x86_64", "amd64", "x64"}
PORTABLE_VARIABLE = "NPY_DISABLE_CPU_FEATURES"


@cache
def vector_maths() -> str:
    """The kind of vector maths numpy uses in this process: "x86_v4", "x86_v3" or "other"."""
    import platform

    if platform.machine().lower() not in _X86:
        return "other"
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # numpy moved its private table: the C library's maths assumed
        return "x86_v3"
    return "x86_v4" if features.get("X86_V4") or features.get("AVX512_SKX") else "x86_v3"


def portable_setting() -> str:
    """The value of ``NPY_DISABLE_CPU_FEATURES`` that keeps this numpy from its AVX-512 routines:
    the dispatch targets of its build from x86-64 level 4 up (named X86_V4, AVX512_ICL and
    AVX512_SPR since numpy 2.4, AVX512F, AVX512_SKX and others before), space-separated; ""
    where its build dispatches to none (not x86-64, say)."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__ as targets
    except ImportError:  # numpy moved its private table: nothing known to switch off
        return ""
    return " ".join(t for t in targets if t == "X86_V4" or t.startswith("AVX512"))


def known(kinds: Iterable[str | None]) -> list[str]:
    """The distinct known kinds among ``kinds`` (None: a run stored by a version that did not
    record it), in ``KINDS`` order."""
    seen = set(kinds)
    return [kind for kind in KINDS if kind in seen]


def describe(kinds: Iterable[str | None] | None = None) -> str:
    """Words for the kinds runs were made on (default: this machine's), for a report's "How
    this report was made": one kind's words, several kinds' with ``MIXED``, or, when no run
    recorded its kind, this machine's words marked as such; runs of unknown kind (None, or a
    kind this version does not know) beside known ones are counted."""
    if kinds is None:
        return WORDS[vector_maths()]
    kinds = list(kinds)
    listed = known(kinds)
    if not listed:
        return f"{WORDS[vector_maths()]}, this machine's (no run recorded its kind)"
    words = WORDS[listed[0]] if len(listed) == 1 else f"{' and '.join(listed)}: {MIXED}"
    unknown = sum(kind not in KINDS for kind in kinds)
    if unknown:
        words += f" ({unknown} of the {len(kinds)} runs did not record their kind)"
    return words


if __name__ == "__main__":
    # For a POSIX shell or a job script (``eval "$(python -m experiments.machine_kind)"``):
    # this process's kind as a comment, then the export that makes an AVX-512 machine's later
    # processes of kind x86_v3. The names are this numpy's: run it with the workers' numpy.
    import shlex

    print(f"# this process: {WORDS[vector_maths()]}")
    print(f"export {PORTABLE_VARIABLE}={shlex.quote(portable_setting())}")
