"""Draws that compiled code makes from the run's own Generators, where it is faster than numpy.

numba runs a numpy Generator's methods in compiled code on the same bit generator with numpy's
algorithms: the same numbers, and the Generator left where numpy's call would have left it
(``benchmarks/compiled_draws.py`` replays every call of a run both ways). For most methods that
is no faster; standard normals are the exception: numpy draws them at about 12 ns a value on
the project's machine, numba's compiled ziggurat at about 4 ns (2026-12-06, numpy 2.5.5,
numba 0.68.1). A default run draws some 800,000 of them (one per firm row a month for growth
and for the margin, one per graduate each June).

The Generators reach compiled code in one numba typed List that ``rng.Streams`` keeps, one
item per purpose, positioned in place each month as before: passing a Generator itself costs
about 10 us a call (numba's type look-up and unboxing), the List about 1 us.
"""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def standard_normals(gens, k, n):
    """``n`` standard normal draws from Generator ``k`` of the typed List ``gens``: numpy's
    ``gens[k].standard_normal(n)``, the same numbers, continuing the Generator's stream."""
    return gens[k].standard_normal(n)
