"""The state tables' memory: narrow integer columns that every valid region fits, and spare
capacity that costs nothing until a row is handed out (simulation/state.py)."""

from __future__ import annotations

import numpy as np
import pytest

from simulation.parameters import TABLE, ParameterError
from simulation.state import MONTH_DTYPE, Firms, Students, check_fits


def largest_region() -> dict:
    return {name: TABLE[name].high for name in ("n_universities", "horizon_months",
                                                "programme_years")}


def test_every_region_the_parameter_ranges_allow_fits_the_narrow_columns():
    check_fits(largest_region())
    # ... and the largest values such a region writes survive the round trip.
    p = largest_region()
    st = Students.empty(4)
    rows = st.reserve(4)
    st.university[rows] = p["n_universities"] - 1
    st.intake_step[rows] = 1 - 12 * (p["programme_years"] - 1)
    st.grad_step[rows] = p["horizon_months"]
    assert int(st.university[0]) == p["n_universities"] - 1
    assert int(st.intake_step[0]) == 1 - 12 * (p["programme_years"] - 1)
    assert int(st.grad_step[0]) == p["horizon_months"]


@pytest.mark.parametrize(("key", "value"), [("n_universities", 129),
                                            ("horizon_months", int(np.iinfo(MONTH_DTYPE).max))])
def test_a_region_beyond_the_narrow_columns_is_refused_naming_its_key(key, value):
    p = dict(largest_region(), **{key: value})
    with pytest.raises(ParameterError) as err:
        check_fits(p)
    assert err.value.key == key
    assert "\n" not in str(err.value)


def test_reserved_rows_take_their_empty_values_and_grown_tables_keep_their_rows():
    f = Firms.empty(2, 3, 2)
    first = f.reserve(2)
    assert (f.exit_step[first] == -1).all() and (f.home_university[first] == -1).all()
    f.exit_step[first] = [5, 7]
    f.cash[first] = [1.5, 2.5]
    grown = f.reserve(3)  # beyond the capacity: the table grows
    assert f.capacity >= 5
    assert f.exit_step[:2].tolist() == [5, 7] and f.cash[:2].tolist() == [1.5, 2.5]
    assert (f.exit_step[grown] == -1).all() and (f.last_project[grown] == -1).all()
    assert (f.cash[grown] == 0).all()
    st = Students.empty(3)
    rows = st.reserve(3)
    for name in ("employer", "startup", "tie_firm", "grad_step"):
        assert (getattr(st, name)[rows] == -1).all(), name
    assert (st.status[rows] == 0).all() and np.all(st.skills[rows] == 0)
