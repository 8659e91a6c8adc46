"""The state tables' memory: narrow integer columns that every valid region fits, and spare
capacity that costs nothing until a row is handed out (simulation/state.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation import EcosystemModel, state
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


needs_release = pytest.mark.skipif(not state._CAN_RELEASE,
                                   reason="this platform cannot hand pages back")


@needs_release
def test_moving_the_window_hands_back_only_the_study_columns_of_rows_left_behind():
    st = Students.empty(4096)  # many memory pages per column
    rows = st.reserve(4096)
    st.sync[rows], st.aptitude[rows], st.dropout_step[rows] = 1.5, 2.0, 7
    st.skills[rows], st.employer[rows] = 0.5, 3
    st.move_window(3000)
    assert st.window_start == 3000
    for name in state.STUDY_COLUMNS:
        column = getattr(st, name)
        assert (column[:1000] == 0).all(), name        # handed back: zero pages again
        assert (column[3000:] == column[4095]).all() and column[4095].all(), name  # kept
    # The columns alumni still need are untouched everywhere.
    assert (st.skills[:4096] == 0.5).all() and (st.employer[:4096] == 3).all()


@needs_release
@pytest.mark.parametrize("seed", (1, 2))
def test_handing_back_the_study_columns_changes_no_number(seed, monkeypatch):
    # Three Septembers move the window past whole cohorts; the same run on ordinary arrays
    # (nothing handed back) must give the same students and indicators, bit for bit.
    kw = dict(rng=seed, n_universities=2, n_firms=150, intake_per_university=400,
              horizon_months=40)
    freed = EcosystemModel(**kw).run()
    st = freed.world.students
    assert st.window_start > 0 and (st.sync[: st.window_start // 2] == 0).all()
    monkeypatch.setattr(state, "_CAN_RELEASE", False)
    kept = EcosystemModel(**kw).run()
    assert (kept.world.students.sync[: st.window_start // 2] != 0).any()  # really kept
    pd.testing.assert_frame_equal(freed.student_table(), kept.student_table())
    assert freed.indicators() == kept.indicators()
