"""Random streams: one SeedSequence per run; a stream per purpose and month.

Every random draw comes from a stream named by its purpose ("firms.growth",
"labour.graduation", ...) and the month, derived from the run's root SeedSequence. Two consequences:

- Switching a mechanism or channel off does not shift the numbers any other purpose sees,
  because streams are keyed by name, not by the order in which they are used.
- Within a month, draws over firms or students are made for every row and then indexed, so a
  given row gets the same growth shock, exit draw and innovation draw in every scenario run on
  the same seed, whatever other firms did. Incumbent firms and students occupy the same rows in
  every scenario; rows created during the run (start-ups, entrants, projects) line up only as
  far as they are created in the same order. This is what makes
  paired, common-random-number comparisons between scenarios precise (the ODD, "Randomness").
  Where only a few rows use their number, the mechanism takes the month's start state
  (``Streams.start_state``) and a kernel computes the numbers at those rows' positions
  (kernels.uniforms_at): the same numbers as drawing every row's, without the others.
  Standard normals over every row (the firms' growth and margin shocks) are drawn by compiled
  code from the purpose's own Generator (``Streams.standard_normal``): numpy's numbers, at a
  third of numpy's cost.

Each purpose has a PCG64 generator seeded from the root SeedSequence and the purpose's name;
month m uses that generator advanced by m * 2**64 draws (PCG64 jumps ahead in O(log) time), so
months never overlap. A purpose may be used once per month (a second use would repeat numbers,
so it raises).
"""

from __future__ import annotations

import ctypes
import zlib
from typing import Any

import numpy as np

from . import kernels  # numba itself is imported at a kernel's first use


def root_sequence(rng: int | np.random.SeedSequence | np.random.Generator | None
                  ) -> np.random.SeedSequence:
    """The run's root SeedSequence from what the user passed as ``rng``."""
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if isinstance(rng, np.random.Generator):
        # A generator carries no seed we could reuse; draw one from it, which is reproducible
        # if the generator itself was seeded.
        return np.random.SeedSequence(int(rng.integers(2**63)))
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        if rng is not None and rng < 0:
            raise ValueError(f"rng must be a non-negative integer, got {rng}")
        return np.random.SeedSequence(None if rng is None else int(rng))
    raise TypeError(f"rng must be an int, a numpy SeedSequence or Generator, or None; got {rng!r}")


def child(root: np.random.SeedSequence, name: str) -> np.random.SeedSequence:
    """The child SeedSequence of ``name``: the same for a name whatever else exists."""
    return np.random.SeedSequence(root.entropy,
                                  spawn_key=(*root.spawn_key, zlib.crc32(name.encode())))


def stream(root: np.random.SeedSequence, name: str) -> np.random.Generator:
    """A plain generator for one named purpose (used for the initial state)."""
    return np.random.Generator(np.random.PCG64(child(root, name)))


_MASK = (1 << 128) - 1
_PCG_MULTIPLIER = 0x2360ED051FC65DA44385DF649FCCF645  # PCG64's 128-bit LCG multiplier
_JUMPS: dict[int, tuple[int, int]] = {}


def month_jump(month: int) -> tuple[int, int]:
    """(a, b) with state(month) = a * state(0) + b * inc (mod 2**128): the LCG jump ahead by
    month * 2**64 steps that ``PCG64.advance`` makes, the same for every purpose (so it is
    worked out once per month, and a stream is positioned by two multiplications)."""
    jump = _JUMPS.get(month)
    if jump is None:
        previous = _JUMPS.get(month - 1) if month > 1 else None
        if previous is not None:
            # Months are asked for in order: month m is month m - 1 and one month more,
            # x -> A x + B inc after x -> a x + b inc, so (A a, A b + B), exactly (mod 2**128),
            # in two multiplications instead of Brown's ~70 steps (about 40 us a month, which a
            # process paid for each of the first run's months).
            step_mult, step_plus = month_jump(1)
            jump = ((step_mult * previous[0]) & _MASK,
                    (step_mult * previous[1] + step_plus) & _MASK)
        else:
            jump = _brown_jump(month << 64)
        _JUMPS[month] = jump
    return jump


def _brown_jump(delta: int) -> tuple[int, int]:
    # Brown's jump-ahead for x -> m x + c by delta steps: accumulate (m^delta,
    # (m^delta - 1)/(m - 1)).
    mult, plus, acc_mult, acc_plus = _PCG_MULTIPLIER, 1, 1, 0
    while delta:
        if delta & 1:
            acc_mult = (acc_mult * mult) & _MASK
            acc_plus = (acc_plus * mult + plus) & _MASK
        plus = ((mult + 1) * plus) & _MASK
        mult = (mult * mult) & _MASK
        delta >>= 1
    return acc_mult, acc_plus


_WORD = (1 << 64) - 1


def state_words(bits: np.random.PCG64) -> tuple[np.ndarray, np.ndarray] | None:
    """Views of a PCG64's state in memory: (its 128-bit LCG state as two 64-bit words, low
    first; its buffered 32-bit draw, the words ``has_uint32`` and ``uinteger``), or None when
    the memory does not read back as ``bits.state`` says (another layout than numpy's
    ``pcg64_state`` on a little-endian machine with 128-bit integers).

    Positioning a stream by writing these words is what the ``bits.state`` setter does,
    without parsing a dict of Python integers: 0.3 instead of about 4 us, 2,200 times a run.
    The layout is checked here, against the documented ``state`` property, for every
    generator, so a numpy that lays the state out otherwise falls back to the setter.
    """
    address = bits.ctypes.state_address
    lcg = ctypes.c_void_p.from_address(address).value
    if not lcg:
        return None
    # numpy views of ctypes arrays at those addresses (np.ctypeslib.as_array made the same
    # views several times slower, and a run makes one per purpose).
    words = np.frombuffer((ctypes.c_uint64 * 4).from_address(lcg), dtype=np.uint64)
    flags = np.frombuffer((ctypes.c_uint32 * 2).from_address(
        address + ctypes.sizeof(ctypes.c_void_p)), dtype=np.uint32)
    state = bits.state
    lcg_state, inc = state["state"]["state"], state["state"]["inc"]
    expected = [lcg_state & _WORD, lcg_state >> 64, inc & _WORD, inc >> 64]
    if words.tolist() != expected or flags.tolist() != [state["has_uint32"],
                                                        state["uinteger"]]:
        return None
    return words[:2], flags


_NO_DRAW = bytes(8)  # has_uint32 = 0, uinteger = 0


def _byte_views(words: tuple[np.ndarray, np.ndarray] | None
                ) -> tuple[memoryview, memoryview] | None:
    # Byte views of state_words' two arrays (16 bytes of LCG state, 8 of the buffered draw).
    if words is None:
        return None
    lcg, flags = words
    return memoryview(lcg).cast("B"), memoryview(flags).cast("B")


class Streams:
    """One generator per purpose, positioned at the start of a month on request."""

    def __init__(self, root: np.random.SeedSequence) -> None:
        self.root = root
        # purpose -> [bit generator, Generator, start state, increment, byte views of the
        # state (or None), the month last positioned (-1 before), its place in ``_compiled``
        # (-1 before its first compiled draw)]: one look-up a call.
        self._gens: dict[str, list] = {}
        # The Generators that compiled code draws from (kernels.standard_normals), in a numba
        # typed List made by a kernel at the first such draw.
        self._compiled: Any = None

    def _entry(self, purpose: str) -> list:
        bits = np.random.PCG64(child(self.root, purpose))
        state = bits.state["state"]
        entry = [bits, np.random.Generator(bits), state["state"], state["inc"],
                 _byte_views(state_words(bits)), -1, -1]
        self._gens[purpose] = entry
        return entry

    def _month_state(self, purpose: str, month: int) -> tuple[list, int]:
        # (the purpose's entry, its 128-bit LCG state at the start of ``month``), the stream
        # marked used this month: get and start_state share the "used twice" guard.
        entry = self._gens.get(purpose)
        if entry is None:
            entry = self._entry(purpose)
        elif entry[5] == month:
            raise RuntimeError(f"random stream '{purpose}' used twice in month {month}")
        entry[5] = month
        # The purpose's generator advanced by month * 2**64 draws (what PCG64.advance does);
        # the month's jump looked up here, worked out by month_jump the first time.
        a, b = _JUMPS.get(month) or month_jump(month)
        return entry, (a * entry[2] + b * entry[3]) & _MASK

    def get(self, purpose: str, month: int) -> np.random.Generator:
        entry, state = self._month_state(purpose, month)
        inc = entry[3]
        words = entry[4]
        if words is None:
            entry[0].state = {"bit_generator": "PCG64", "has_uint32": 0, "uinteger": 0,
                              "state": {"state": state, "inc": inc}}
        else:
            # The same state written in place (see state_words; inc never changes): the
            # 128-bit state as its 16 little-endian bytes, low word first, and no buffered
            # draw, through byte views of those words (one write each, not four items).
            lcg, flags = words
            lcg[:] = state.to_bytes(16, "little")
            flags[:] = _NO_DRAW
        return entry[1]

    def standard_normal(self, purpose: str, month: int, n: int) -> np.ndarray:
        """``n`` standard normals from the month's stream of ``purpose``, drawn by compiled
        code (kernels.standard_normals, about three times faster than numpy's): the numbers
        ``get(purpose, month).standard_normal(n)`` gives, bit for bit. It is the month's use
        of the stream, as ``get`` is (a second use raises)."""
        self.get(purpose, month)
        entry = self._gens[purpose]
        if entry[6] < 0:
            if self._compiled is None:
                self._compiled = kernels.generator_list(entry[1])
                entry[6] = 0
            else:
                entry[6] = kernels.add_generator(self._compiled, entry[1])
        return kernels.standard_normals(self._compiled, entry[6], n)

    def start_state(self, purpose: str, month: int) -> np.ndarray:
        """The month's stream of ``purpose`` as its PCG64 start state, uint64[4]: LCG state
        low, high word, increment low, high word, instead of a Generator. Counts as the
        month's use of the stream, as ``get`` does (a second use raises).

        For mechanisms that need a per-row uniform for a few rows only: the uniform at
        position k of the month's stream, what ``get(...).random(n)[k]`` would give, is
        computed from these words (kernels.uniforms_at), so the rows that use one get the
        same number as when every row's was drawn, without drawing the others.
        """
        entry, state = self._month_state(purpose, month)
        inc = entry[3]
        return np.array([state & _WORD, state >> 64, inc & _WORD, inc >> 64], dtype=np.uint64)

    # A copy (copy.deepcopy, pickle) gets new generators, so the views into the old ones'
    # memory must not travel with it: they would position the original's streams and leave
    # the copy's where they were. The copy takes fresh views of its own generators, and a
    # typed List of its own at its first compiled draw (the original's holds the original's).
    def __getstate__(self) -> dict:
        return {"root": self.root,
                "_gens": {purpose: (bits, start, inc, last)
                          for purpose, (bits, _gen, start, inc, _words, last, _at)
                          in self._gens.items()}}

    def __setstate__(self, state: dict) -> None:
        self.root = state["root"]
        self._gens = {}
        self._compiled = None
        for purpose, (bits, start, inc, last) in state["_gens"].items():
            self._gens[purpose] = [bits, np.random.Generator(bits), start, inc,
                                   _byte_views(state_words(bits)), last, -1]
