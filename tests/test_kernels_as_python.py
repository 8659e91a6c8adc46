"""Each compiled kernel against its own source run as Python, on the arguments of a real run.

numba compiles a kernel's Python source to code with its own semantics: integer types and
their overflow, NaN in comparisons, float reductions. This test records, for every kernel a
mechanism calls, its call with the most work (the most non-empty arrays, then the most
elements) in a small region's first 26 months (two June graduations, the unemployed's flows
after them) and in the model's tables and free places read afterwards. It calls the compiled
kernel and its Python source (numba keeps it as ``py_func``) on copies of the same arguments
and requires that both return the same values and leave every array argument the same, and
that the Python raises nothing (numpy checks the indices that compiled code does not, up to
the arrays' full length: the tables' spare rows hide an index just past the live rows).

It compares the code with itself, so it cannot find a wrong formula (the kernels' own tests
and the fast-path tables do that), and inside ``py_func`` the kernels it calls are the
compiled ones. tests/test_kernel_bounds.py checks the indices of every call of whole runs,
in tables without spare rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from simulation import EcosystemModel, kernels
from simulation.mechanisms import collaboration, teaching
from simulation.state import ENROLLED

SMALL = {"n_universities": 3, "n_firms": 300, "intake_per_university": 200,
         "horizon_months": 26}

# Kernels whose Python source cannot run as Python, and why (numba semantics it relies on).
# The three that step a PCG64 stream (stream.py): the compiled helpers they call hand the
# stream's uint64 state back to Python as a Python int, which the next compiled call takes as
# an int64 (wrong numbers) or cannot take at all (OverflowError). test_kernel_bounds checks
# their indices.
_STREAM = "keeps a stream's uint64 state between compiled helpers, which Python cannot"
NOT_AS_PYTHON: dict[str, str] = {
    "innovate": _STREAM, "row_uniforms": _STREAM, "uniforms_at": _STREAM,
}
# Kernels no mechanism calls from Python: helpers that other kernels call (compiled into
# them), and formula kernels that tests hold the fused ones to.
NOT_CALLED_FROM_PYTHON = {
    "row_sum", "gini_of_sorted", "sorted_values", "publication_rates", "exit_probability",
    "innovation_probability", "certainly_no_innovation", "search_probability",
    "search_probability_bound",
}


def _copy(value: Any) -> Any:
    from numba.typed import List

    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, np.random.Generator):
        # A kernel that draws moves its Generator: each call gets one where the run's stood.
        import copy

        return copy.deepcopy(value)
    if isinstance(value, List):
        copied = List()
        for item in value:
            copied.append(_copy(item))
        return copied
    if isinstance(value, tuple):
        return tuple(_copy(v) for v in value)
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def arrays(value: Any) -> list[np.ndarray]:
    """The arrays among a call's arguments."""
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, tuple | list):
        return [a for v in value for a in arrays(v)]
    return []


def work(args: tuple) -> tuple[int, int]:
    """How much of a kernel a call runs: its non-empty arrays, then their elements."""
    held = arrays(args)
    return sum(a.size > 0 for a in held), sum(a.size for a in held)


def largest_calls(seed: int) -> dict[str, tuple]:
    """Kernel name -> copies of the arguments of its call with the most work in a small run:
    the most non-empty arrays, then the most elements (the first call is often an empty one:
    no projects yet, no searchers)."""
    calls: dict[str, tuple] = {}
    size: dict[str, tuple[int, int]] = {}
    names = [name for name in kernels._MODULES if name not in NOT_AS_PYTHON]
    real = {name: getattr(kernels, name) for name in names}

    def recording(name: str, kernel: Any) -> Any:
        def call(*args: Any) -> Any:
            n = work(args)
            if n > size.get(name, (-1, -1)):
                calls[name], size[name] = _copy(args), n
            return kernel(*args)
        return call

    try:
        for name in names:
            setattr(kernels, name, recording(name, real[name]))
        model = EcosystemModel(rng=seed, **SMALL).run()
        # What a user's tables and a fresh count of free places read (not called in a run).
        model.student_table()
        collaboration.free_slots(model.world)
        students = model.world.students
        teaching.sync_skills(model.world, np.flatnonzero(
            students.status[:students.n] == ENROLLED)[:50])
    finally:
        for name in names:
            setattr(kernels, name, real[name])
    return calls


def assert_same(compiled: Any, python: Any, where: str) -> None:
    from numba.typed import List

    if isinstance(compiled, List):  # of Generators (kernels/draws.py): the same streams
        assert isinstance(python, List) and len(python) == len(compiled), where
        for i, (a, b) in enumerate(zip(compiled, python, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(compiled, np.random.Generator):
        assert isinstance(python, np.random.Generator), where
        assert compiled.bit_generator.state == python.bit_generator.state, where
    elif isinstance(compiled, tuple | list):
        assert isinstance(python, tuple | list) and len(python) == len(compiled), where
        for i, (a, b) in enumerate(zip(compiled, python, strict=True)):
            assert_same(a, b, f"{where}[{i}]")
    elif isinstance(compiled, np.ndarray) or isinstance(python, np.ndarray):
        np.testing.assert_array_equal(np.asarray(python), np.asarray(compiled), err_msg=where)
    else:
        assert (compiled == python) or (compiled != compiled and python != python), where


@pytest.fixture(scope="module", params=[1, 2])
def recorded(request: pytest.FixtureRequest) -> dict[str, tuple]:
    return largest_calls(request.param)


def test_every_kernel_called_from_python_is_reached_with_work(recorded):
    # A kernel the run does not reach would be skipped below, silently, and one reached only
    # with empty arrays would run none of its loops as Python: none may be, but for those no
    # mechanism calls.
    expected = set(kernels._MODULES) - NOT_CALLED_FROM_PYTHON - set(NOT_AS_PYTHON)
    assert sorted(expected - set(recorded)) == []
    assert sorted(name for name in expected if not all(
        a.size for a in arrays(recorded[name]))) == []


@pytest.mark.parametrize("name", sorted(set(kernels._MODULES) - set(NOT_AS_PYTHON)
                                        - NOT_CALLED_FROM_PYTHON))
def test_a_kernel_run_as_python_indexes_within_its_arrays_and_agrees(recorded, name):
    args = recorded[name]
    kernel = getattr(kernels, name)
    compiled_args, python_args = _copy(args), _copy(args)
    out = kernel(*compiled_args)
    with np.errstate(all="ignore"):  # as compiled code: no warnings, the same IEEE results
        python_out = kernel.py_func(*python_args)
    assert_same(out, python_out, f"{name}: result")
    for i, (a, b) in enumerate(zip(compiled_args, python_args, strict=True)):
        if not isinstance(a, np.ndarray | int | float | bool):  # Generators: moved alike
            assert_same(a, b, f"{name}: argument {i} after the call")
        if isinstance(a, np.ndarray):
            np.testing.assert_array_equal(b, a, err_msg=f"{name}: argument {i} after the call")
