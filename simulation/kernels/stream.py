"""Uniforms at chosen positions of a month's random stream, computed from its start state.

Why: a mechanism that needs one uniform per firm row drew all n of them (``Generator.random``)
so that a row's number does not depend on which other rows use theirs (common random
numbers), though only a few rows use them. A month's stream (simulation/rng.py) is used once,
so the uniform at position k is a pure function of the month's start state: the PCG64 state
advanced k + 1 steps, through its output function. Computing the few that are used gives the
same numbers, bit for bit, without the n - few others (tests hold it to numpy's draw).

PCG64 (O'Neill 2014), as numpy runs it: a 128-bit LCG, state <- a state + inc (mod 2**128),
with an odd increment inc; each draw steps first and outputs the new state's XSL-RR (the two
64-bit halves xor-ed, rotated right by the top six bits of the state); ``random()`` is the
top 53 bits of that output over 2**53. The 128-bit words are pairs of uint64 (low, high):
numba has no 128-bit integer. Every literal below is a uint64, so that numba never mixes in
a signed integer (which would turn the arithmetic into float64).

A stream's jump by g steps is state <- A_g state + C_g, where A_g = a**g and C_g =
(a**(g-1) + ... + 1) inc; for g = 2**j these follow by squaring (A_2g = A_g A_g,
C_2g = A_g C_g + C_g: Brown 1994, as rng._brown_jump does with Python integers), so a table
of the 64 powers of two makes a jump one affine step per set bit of g. A single step is the
table's first entry, so small and large gaps take the same path.

Kernels in other modules call these functions (innovation, projects). numba's on-disk cache
of a caller is not renewed when a function it calls from another file changes, so an edit
here needs the callers' cache cleared (``find simulation -name '*.nbi' -delete``, or a fresh
clone) before the same-numbers tests can be trusted.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_MULT_LOW = np.uint64(0x4385DF649FCCF645)   # PCG64's multiplier, low 64 bits
_MULT_HIGH = np.uint64(0x2360ED051FC65DA4)  # and high 64 bits
_LOW32 = np.uint64(0xFFFFFFFF)
_32 = np.uint64(32)
_ONE = np.uint64(1)
_ZERO = np.uint64(0)


@njit(cache=True)
def _mul_high(a, b):
    """The high 64 bits of the 128-bit product of two uint64, by 32-bit halves."""
    a_lo, a_hi = a & _LOW32, a >> _32
    b_lo, b_hi = b & _LOW32, b >> _32
    lo_lo = a_lo * b_lo
    hi_lo = a_hi * b_lo
    lo_hi = a_lo * b_hi
    # The middle column's sum: at most 3 (2**32 - 1), no overflow.
    middle = (lo_lo >> _32) + (hi_lo & _LOW32) + (lo_hi & _LOW32)
    return a_hi * b_hi + (hi_lo >> _32) + (lo_hi >> _32) + (middle >> _32)


@njit(cache=True)
def _mul(x_lo, x_hi, y_lo, y_hi):
    """x y (mod 2**128) on (low, high) pairs: the cross terms only reach the high word."""
    return x_lo * y_lo, _mul_high(x_lo, y_lo) + x_lo * y_hi + x_hi * y_lo


@njit(cache=True)
def _add(x_lo, x_hi, y_lo, y_hi):
    """x + y (mod 2**128) on (low, high) pairs."""
    lo = x_lo + y_lo
    return lo, x_hi + y_hi + (_ONE if lo < x_lo else _ZERO)


@njit(cache=True)
def jump_table(inc_lo, inc_hi):
    """(64, 4) uint64: row j is (A, C) of the jump by 2**j steps, state <- A state + C, for
    the stream of increment inc, as (A low, A high, C low, C high)."""
    table = np.empty((64, 4), dtype=np.uint64)
    a_lo, a_hi, c_lo, c_hi = _MULT_LOW, _MULT_HIGH, inc_lo, inc_hi
    for j in range(64):
        table[j, 0], table[j, 1], table[j, 2], table[j, 3] = a_lo, a_hi, c_lo, c_hi
        # C_2g = A_g C_g + C_g, then A_2g = A_g A_g (C first: it needs the old A).
        p_lo, p_hi = _mul(a_lo, a_hi, c_lo, c_hi)
        c_lo, c_hi = _add(p_lo, p_hi, c_lo, c_hi)
        a_lo, a_hi = _mul(a_lo, a_hi, a_lo, a_hi)
    return table


@njit(cache=True)
def jump_state(s_lo, s_hi, table, gap):
    """The state ``gap`` (uint64) steps on: one affine step per set bit (the jumps commute)."""
    j = 0
    while gap:
        if gap & _ONE:
            p_lo, p_hi = _mul(table[j, 0], table[j, 1], s_lo, s_hi)
            s_lo, s_hi = _add(p_lo, p_hi, table[j, 2], table[j, 3])
        gap >>= _ONE
        j += 1
    return s_lo, s_hi


@njit(cache=True)
def uniform_of_state(s_lo, s_hi):
    """``random()`` of the state just stepped to: XSL-RR output, its top 53 bits / 2**53."""
    x = s_hi ^ s_lo
    r = s_hi >> np.uint64(58)
    # A rotation by 0 must not shift by 64 (undefined): (64 - r) & 63 is 0 then.
    out = (x >> r) | (x << ((np.uint64(64) - r) & np.uint64(63)))
    return np.float64(out >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def uniform_at(s_lo, s_hi, at, position, table):
    """The uniform at stream ``position`` (>= ``at`` - 1), from the state (``s_lo``,
    ``s_hi``) ``at`` steps past the start, and that state moved to it: (value, s_lo, s_hi,
    steps taken). Position k is k + 1 steps on. The callers keep the state in local
    variables between values (kept in an array, a value cost about eight times as much)."""
    target = position + 1
    s_lo, s_hi = jump_state(s_lo, s_hi, table, np.uint64(target - at))
    return uniform_of_state(s_lo, s_hi), s_lo, s_hi, target


@njit(cache=True)
def uniforms_at(start_state, offsets):
    """float64 values equal to ``Generator.random(N)[offsets]`` (N past the last offset) of
    the generator whose PCG64 state is ``start_state`` (uint64[4]: state low, high, increment
    low, high, as rng.Streams.start_state gives it), bit for bit; ``offsets`` int64, best
    ascending: one behind the last is reached from the start again, so any order gives
    numpy's values, while ascending ones cost one jump each."""
    out = np.empty(len(offsets))
    if len(offsets) == 0:
        return out
    table = jump_table(start_state[2], start_state[3])
    s_lo, s_hi, at = start_state[0], start_state[1], 0
    for k in range(len(offsets)):
        if offsets[k] < 0:
            raise ValueError("uniforms_at: a stream position is never negative")
        if offsets[k] + 1 < at:
            s_lo, s_hi, at = start_state[0], start_state[1], 0
        out[k], s_lo, s_hi, at = uniform_at(s_lo, s_hi, at, offsets[k], table)
    return out


@njit(cache=True)
def row_uniforms(start_state, rows, n_rows, width):
    """(len(rows), width): rows ``rows`` of ``Generator.random((n_rows, width))`` of the
    generator at ``start_state`` (row r is positions r width ... r width + width - 1), and -1,
    or the index in ``rows`` of the first row that does not ascend (a repeat, or one out of
    order) or lies outside 0..n_rows - 1, the values then unfinished: the caller raises."""
    out = np.empty((len(rows), width))
    if len(rows) == 0:
        return out, -1
    table = jump_table(start_state[2], start_state[3])
    m_lo, m_hi, inc_lo, inc_hi = table[0, 0], table[0, 1], table[0, 2], table[0, 3]
    s_lo, s_hi, at = start_state[0], start_state[1], 0  # at: steps taken
    previous = -1
    for k in range(len(rows)):
        row = rows[k]
        if row <= previous or row >= n_rows:
            return out, k
        previous = row
        if width == 0:
            continue  # no number to compute (out has no column to write)
        # A jump to the row's first number, then a step for each next one: the state kept
        # in registers.
        out[k, 0], s_lo, s_hi, at = uniform_at(s_lo, s_hi, at, row * width, table)
        for j in range(1, width):
            p_lo, p_hi = _mul(m_lo, m_hi, s_lo, s_hi)
            s_lo, s_hi = _add(p_lo, p_hi, inc_lo, inc_hi)
            out[k, j] = uniform_of_state(s_lo, s_hi)
        at = (row + 1) * width
    return out, -1
