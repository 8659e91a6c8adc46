"""Which of a run's draws numba's compiled Generator reproduces to the last bit, and at what cost.

A compiled month (docs/performance.md, "What would get the rest") would have to draw inside
compiled code wherever the month's counts decide the draws' sizes. The rule of identical
results then asks that compiled code draw exactly numpy's numbers. numba compiles calls on a
``numpy.random.Generator`` passed into a jitted function; whether each method gives numpy's
values and leaves the generator where numpy's would is a question of numba's implementation
of that method, so this script asks it of every call a default-region run makes.

It records the run's Generator calls (``draw_floor.record``: purpose, month, method,
arguments), and for each call draws once with numpy and once from a compiled function
calling the same method with the same arguments, both on fresh copies of the call's stream
(the same seed, the same position). Per method and argument form it prints how many calls
numba compiled, how many gave numpy's values bit for bit and left the same generator state,
and the median time of one call each way (numba's including the cost of taking the Generator
into compiled code). The start states that kernels read uniforms from (``start_state``) are
not draws and are left out. It ends with what taking Generators in costs: one at a time, and
the run's per-purpose Generators (``Streams`` keeps one a purpose) in one numba typed List.

    python benchmarks/compiled_draws.py            # default region, seed 1
    python benchmarks/compiled_draws.py --seed 2
    python benchmarks/compiled_draws.py --per-value  # each method's cost a value, both ways

Prints figures only; exits 0 (2 on a bad option). The first run compiles numba's versions
(a minute or so; not cached).
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent


def _draw_floor() -> Any:
    # benchmarks/ is no package: load the recorder by path (as kernel_mutation loads wilson).
    spec = importlib.util.spec_from_file_location("draw_floor", HERE / "draw_floor.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def form(args: tuple, kwargs: dict) -> str:
    """A call's argument form: "(float, int)", "(arr[int64], size=tuple2)"."""
    def one(a: Any) -> str:
        if isinstance(a, np.ndarray):
            return f"arr[{a.dtype}]"
        if isinstance(a, tuple):
            return f"tuple{len(a)}"
        return type(a).__name__
    parts = [one(a) for a in args] + [f"{k}={one(v)}" for k, v in sorted(kwargs.items())]
    return "(" + ", ".join(parts) + ")"


def compiled_calls() -> dict[tuple[str, int], Any]:
    """(method, number of arguments) -> a jitted ``f(gen, *values)`` making that call (size,
    when given by keyword, passed positionally: numba's methods take it either way)."""
    from numba import njit

    def binomials(gen: Any, n: int, pvals: np.ndarray) -> np.ndarray:
        # Not in numba's Generator: numpy's multinomial (its C random_multinomial) written
        # out. Category j takes a binomial of what is left at its share of the probability
        # left, until nothing is left; the last takes the rest.
        d = len(pvals)
        out = np.zeros(d, dtype=np.int64)
        remaining_p = 1.0
        dn = n
        for j in range(d - 1):
            out[j] = gen.binomial(dn, pvals[j] / remaining_p)
            dn -= out[j]
            if dn <= 0:
                break
            remaining_p -= pvals[j]
        if dn > 0:
            out[d - 1] = dn
        return out

    def gammas_normalised(gen: Any, alpha: np.ndarray, size: int) -> np.ndarray:
        # Not in numba's Generator either: numpy's dirichlet for alphas above 0.1, a standard
        # gamma variate per category in row order, each row times the reciprocal of its
        # running sum (as kernels.start_firms does).
        k = len(alpha)
        out = np.empty((size, k))
        for i in range(size):
            acc = 0.0
            for j in range(k):
                out[i, j] = gen.standard_gamma(alpha[j])
                acc += out[i, j]
            inverse = 1.0 / acc
            for j in range(k):
                out[i, j] *= inverse
        return out

    def poissons(gen: Any, lam: Any) -> Any:
        # numba's poisson takes a scalar mean: an array's, one draw per element in order.
        out = np.empty(len(lam), dtype=np.int64)
        for i in range(len(lam)):
            out[i] = gen.poisson(lam[i])
        return out

    def shuffled(gen: Any, x: np.ndarray) -> np.ndarray:
        y = x.copy()
        gen.shuffle(y)
        return y

    calls = {
        ("random", 1): lambda gen, size: gen.random(size),
        ("standard_normal", 1): lambda gen, size: gen.standard_normal(size),
        ("permutation", 1): lambda gen, x: gen.permutation(x),
        ("poisson", 1): lambda gen, lam: gen.poisson(lam),
        ("binomial", 2): lambda gen, n, p: gen.binomial(n, p),
        ("standard_gamma", 2): lambda gen, shape, size: gen.standard_gamma(shape, size),
        ("geometric", 2): lambda gen, p, size: gen.geometric(p, size),
        ("lognormal", 3): lambda gen, mean, sigma, size: gen.lognormal(mean, sigma, size),
        ("beta", 3): lambda gen, a, b, size: gen.beta(a, b, size),
        ("integers", 3): lambda gen, low, high, size: gen.integers(low, high, size),
        ("uniform", 3): lambda gen, low, high, size: gen.uniform(low, high, size),
        ("multinomial", 2): binomials,
        ("dirichlet", 2): gammas_normalised,
        ("shuffle", 1): shuffled,
        ("poisson_array", 1): poissons,
    }
    return {key: njit(function) for key, function in calls.items()}


def numpy_call(gen: np.random.Generator, name: str, args: tuple, kwargs: dict) -> Any:
    if name == "shuffle":
        b = args[0].copy()
        gen.shuffle(b)
        return b
    return getattr(gen, name)(*args, **kwargs)


def same(a: Any, b: Any) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype.kind == b.dtype.kind and bool(
        np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))


def per_value(n: int = 30_000, repeats: int = 50) -> None:
    """Prints, per method as the run calls it, numpy's and numba's nanoseconds a value on one
    Generator each (the same seed), medians of ``repeats`` calls of ``n`` values, and whether
    the values were the same: which draws compiled code makes faster, apart from the cost of
    taking the Generator in."""
    from numba import njit

    means = np.random.default_rng(1).uniform(0.0, 0.5, n)
    rows = np.arange(n)

    @njit(cache=False)
    def poisson_means(gen: Any, lam: np.ndarray) -> np.ndarray:
        out = np.empty(len(lam), dtype=np.int64)
        for i in range(len(lam)):
            out[i] = gen.poisson(lam[i])
        return out

    methods = {  # name: (numpy's call, numba's call)
        "standard_normal": (lambda g: g.standard_normal(n),
                            njit(lambda g: g.standard_normal(n))),
        "random": (lambda g: g.random(n), njit(lambda g: g.random(n))),
        "uniform": (lambda g: g.uniform(0.05, 0.3, n), njit(lambda g: g.uniform(0.05, 0.3, n))),
        "integers": (lambda g: g.integers(0, 12, n), njit(lambda g: g.integers(0, 12, n))),
        "lognormal": (lambda g: g.lognormal(-0.02, 0.2, n),
                      njit(lambda g: g.lognormal(-0.02, 0.2, n))),
        "geometric": (lambda g: g.geometric(0.01, n), njit(lambda g: g.geometric(0.01, n))),
        "poisson (array of means)": (lambda g: g.poisson(means),
                                     lambda g: poisson_means(g, means)),
        "permutation": (lambda g: g.permutation(rows), njit(lambda g: g.permutation(rows))),
    }
    print(f"per value: {n:,} values a call, medians of {repeats} calls (numba's including "
          "taking the Generator in)")
    print(f"  {'method':26s} {'numpy ns':>9s} {'numba ns':>9s} {'same':>5s}")
    for name, (with_numpy, with_numba) in methods.items():
        a, b = np.random.Generator(np.random.PCG64(7)), np.random.Generator(np.random.PCG64(7))
        equal = same(with_numpy(a), with_numba(b))  # also compiles numba's, untimed
        costs = []
        for call, gen in ((with_numpy, a), (with_numba, b)):
            samples = []
            for _ in range(repeats):
                c0 = time.perf_counter()
                call(gen)
                samples.append(time.perf_counter() - c0)
            costs.append(statistics.median(samples) / n * 1e9)
        print(f"  {name:26s} {costs[0]:9.1f} {costs[1]:9.1f} {'yes' if equal else 'NO':>5s}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--calls", type=int, default=40,
                    help="calls tried per method and argument form (default 40)")
    ap.add_argument("--per-value", action="store_true",
                    help="only each method's cost a value, numpy's against numba's")
    args = ap.parse_args(argv)
    if args.calls < 1:
        ap.error("--calls must be at least 1")
    if args.per_value:
        per_value()
        return 0
    draw_floor = _draw_floor()
    from simulation.rng import Streams

    compiled = compiled_calls()
    log, root = draw_floor.record("default", args.seed)
    # Each call's generator as it stood just before the call: the month's stream replayed
    # through the calls before it (a stream is taken once per purpose and month).
    streams = Streams(root)
    gens: dict[tuple[str, int], np.random.Generator] = {}
    by_form: dict[tuple[str, str], list[tuple]] = defaultdict(list)
    for purpose, month, name, call_args, kwargs, *_ in log:
        # The run's normals already drawn in compiled code are Generator calls all the same.
        name = name.removeprefix(draw_floor.COMPILED)
        if name == "start_state":
            streams.start_state(purpose, month)
            continue
        key = (purpose, month)
        gen = gens.get(key)
        if gen is None:
            gen = gens[key] = streams.get(purpose, month)
        if not name.startswith("bit_generator."):
            by_form[(name, form(call_args, kwargs))].append((copy.deepcopy(gen), call_args,
                                                             kwargs))
            numpy_call(gen, name, call_args, kwargs)
        else:
            getattr(gen.bit_generator, name.removeprefix("bit_generator."))(*call_args,
                                                                           **kwargs)

    print(f"compiled draws: numba's Generator against numpy's, default region, seed "
          f"{args.seed}; up to {args.calls} calls per form")
    print(f"{'method and form':44s} {'calls':>6s} {'compiled':>8s} {'same':>5s} "
          f"{'numpy us':>9s} {'numba us':>9s}")
    total = identical = 0
    for (name, shape), calls in sorted(by_form.items(), key=lambda kv: -len(kv[1])):
        tried = calls[:: max(len(calls) // args.calls, 1)][: args.calls]
        n_values = len(tried[0][1]) + len(tried[0][2])
        array_mean = name == "poisson" and isinstance(tried[0][1][0], np.ndarray)
        function = compiled.get(("poisson_array", 1) if array_mean else (name, n_values))
        if name == "dirichlet" and not all(np.asarray(tried[0][1][0]) > 0.1):
            function = None  # numpy's other algorithm (small alphas) is not written out
        n_ok = n_same = 0
        t_np, t_nb = [], []
        reason = ""
        for before, call_args, kwargs in tried:
            expected_gen = copy.deepcopy(before)
            c0 = time.perf_counter()
            expected = numpy_call(expected_gen, name, call_args, kwargs)
            t_np.append(time.perf_counter() - c0)
            if function is None:
                reason = "no such form"
                continue
            values = list(call_args) + [kwargs[k] for k in sorted(kwargs)]
            gen = copy.deepcopy(before)
            try:
                function(copy.deepcopy(before), *values)  # compiled, warmed
                c0 = time.perf_counter()
                got = function(gen, *values)
                t_nb.append(time.perf_counter() - c0)
            except Exception as error:  # numba refuses the form: say which
                reason = type(error).__name__
                break
            n_ok += 1
            state_same = (gen.bit_generator.state == expected_gen.bit_generator.state)
            n_same += bool(same(got, expected) and state_same)
        total += len(tried)
        identical += n_same
        print(f"{name + shape:44.44s} {len(tried):6d} {n_ok:8d} {n_same:5d} {_us(t_np)} "
              f"{_us(t_nb)}{'  ' + reason if reason else ''}")
    print(f"all: {identical} of {total} calls tried gave numpy's values and state")
    boxing, typing = generator_cost()
    purposes = sorted({p for p, *_ in log})
    print(f"taking a Generator into compiled code: {boxing:.1f} us a Generator a call "
          f"(numba's typeof of it alone {typing:.1f} us; an array 0.3 us); a run takes "
          f"{len({(p, m) for p, m, *_ in log})} streams ({len(purposes)} purposes x months)")
    listed, shared = typed_list_cost(streams, purposes)
    print(f"the run's {len(purposes)} purposes' Generators in one numba typed List: "
          f"{listed:.2f} us a call for all of them; draws through it are numpy's and move "
          f"the Python-side Generators: {'yes' if shared else 'NO'}")
    return 0


def typed_list_cost(streams: Any, purposes: list[str], n: int = 2000) -> tuple[float, bool]:
    """Microseconds to pass a numba typed List holding one Generator per purpose (the
    Generators ``Streams`` keeps and positions in place each month) into a jitted function,
    and whether a compiled draw through the List gives numpy's number and leaves the Python
    object where numpy's draw would (the List holds the same objects, not copies)."""
    import numba
    from numba import typed

    month = 10**6  # a month no run reached: each purpose's stream positioned afresh
    gens = [streams.get(purpose, month) for purpose in purposes]
    listed = typed.List()
    for gen in gens:
        listed.append(gen)

    @numba.njit
    def first_uniform(gens: Any, i: int) -> float:
        return gens[i].random()

    @numba.njit
    def size_of(gens: Any) -> int:
        return len(gens)

    expected = copy.deepcopy(gens[0])
    got = first_uniform(listed, 0)
    shared = (got == expected.random() and gens[0].bit_generator.state
              == expected.bit_generator.state)
    size_of(listed)
    return per_call_us(size_of, listed, n), shared


def per_call_us(function: Any, argument: Any, n: int) -> float:
    """Microseconds a call of ``function(argument)``: the median of five timings of n calls."""
    times = []
    for _ in range(5):
        c0 = time.perf_counter()
        for _ in range(n):
            function(argument)
        times.append((time.perf_counter() - c0) / n)
    return 1e6 * statistics.median(times)


def _us(times: list[float]) -> str:
    return f"{1e6 * statistics.median(times):9.1f}" if times else f"{'-':>9s}"


def generator_cost(n: int = 2000) -> tuple[float, float]:
    """Microseconds to pass one Generator into a jitted function that does nothing, and of
    numba's ``typeof`` of it (the dispatcher's first step): medians of five timings."""
    import numba

    @numba.njit
    def nothing(gen: Any) -> int:
        return 0

    gen = np.random.default_rng(0)
    nothing(gen)
    return per_call_us(nothing, gen, n), per_call_us(numba.typeof, gen, n)


if __name__ == "__main__":
    sys.exit(main())
