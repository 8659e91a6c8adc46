"""Draws that compiled code makes from the run's own Generators, where it is faster than numpy.

numba runs a numpy Generator's methods in compiled code on the same bit generator with numpy's
algorithms: the same numbers, and the Generator left where numpy's call would have left it
(``benchmarks/compiled_draws.py`` replays every call of a run both ways). For most methods that
is no faster; standard normals are the exception: numpy draws them at about 12 ns a value on
the project's machine, numba's compiled ziggurat at about 4 ns (2026-12-06, numpy 2.5.5,
numba 0.68.1). A default run draws some 714,000 of them this way, one per firm row a month
for growth and one for the margin (the graduates' 89,000 a run stay numpy's: their stream
draws uniforms first, from the same Generator).

The Generators reach compiled code in one numba typed List that ``rng.Streams`` keeps, one
item per purpose, positioned in place each month as before: passing a Generator itself costs
about 10 us a call (numba's type look-up and unboxing), the List about 1 us
(``benchmarks/compiled_draws.py`` prints both). The List is made and filled here, in compiled
code, because numba compiles a typed List's methods for each process that calls them from
Python and does not cache them (0.4 to 1 s of a fresh process, measured); these functions
come from the disk cache like every kernel.
"""

from __future__ import annotations

from numba import njit
from numba.typed import List


@njit(cache=True)
def generator_list(gen):
    """A typed List holding the one Generator ``gen``, for ``standard_normals``."""
    gens = List()
    gens.append(gen)
    return gens


@njit(cache=True)
def add_generator(gens, gen):
    """``gen`` appended to the typed List ``gens``; returns its place there."""
    gens.append(gen)
    return len(gens) - 1


@njit(cache=True)
def standard_normals(gens, k, n):
    """``n`` standard normal draws from Generator ``k`` of the typed List ``gens``: numpy's
    ``gens[k].standard_normal(n)``, the same numbers, continuing the Generator's stream."""
    return gens[k].standard_normal(n)
