"""Kernels compiled with numba's bounds checks, through whole small runs, in tables with no
spare rows.

Compiled kernels do not check their indices: a kernel that reads or writes one place past an
array's end corrupts memory silently and, as often as not, its results stay right, so no test
of results can see it. numba can compile the same kernels with every index checked
(``NUMBA_BOUNDSCHECK=1``): an index past an array's end then raises ``IndexError``. The
tables keep spare rows (they grow by doubling, and the world's build reserves room for the
horizon's entrants and cohorts), and an index past the live rows but within them is in
bounds, so the child process that runs here makes every table exactly as long as its live
rows (``state.grown_capacity`` made exact, and the tables built empty). It runs small regions
of the 3.0 scenario (brokerage, and the platform from month 13) and of three variants that
take the branches it leaves out, then the tables and counts a user reads after a run and the
sort's passes over every digit. It has a numba cache of its own (``boundscheck`` in the
folder ``NUMBA_CACHE_DIR`` names, else in the project's ``.cache``), so the checked kernels
are compiled once per machine, about 40 s, and never mix with the unchecked ones. Every call
the runs make is checked, the helpers compiled into other kernels and the stream kernels
included, and the runs must give the ordinary runs' indicators to the last bit.

What it cannot see: a negative index (numba, like numpy, wraps it around), an index within a
kernel's own scratch arrays' slack, and the few branches these runs never take
(docs/testing.md lists them).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from simulation import EcosystemModel
from simulation.scenarios import load

ROOT = Path(__file__).resolve().parent.parent
SMALL = {"n_universities": 3, "n_firms": 300, "intake_per_university": 200,
         "horizon_months": 38}
SEEDS = (1, 2, 3)
# Regions on top of the 3.0 scenario whose runs take branches its own runs never take
# (found with coverage under NUMBA_DISABLE_JIT): graduates without an offer, employers that
# exit, a retention budget that cannot cover every graduate, R&D subsidies by value added; a
# university's places running out in the search, firms shrinking below the projects they
# run; R&D subsidies shared evenly (no value added at all).
REGIONS = {
    "the 3.0 scenario": {},
    "a tight labour market": {
        "graduate_vacancy_rate": 0.002, "exit_hazard_young": 0.1, "exit_hazard_mid": 0.05,
        "exit_hazard_mature": 0.03, "retention_subsidy": 0.5, "rd_intensity": 0.0},
    "crowded collaboration": {
        "projects_per_faculty": 0.05, "broker_rate": 0.3, "growth_sigma": 0.8,
        "project_slot_employees": 5, "project_duration": 36, "search_rate": 0.3},
    "no value added": {"productivity": 0.0},
}


def parameters(region: str) -> dict:
    return {**load("model_3_0").parameters, **SMALL, **REGIONS[region]}


# The child's run (in the project's folder): the indicators of each region and seed (months x
# indicators, as JSON, whose floats read back exactly), the tables a user reads after a run,
# and the regions and their parameters from this module.
CHILD = """
import json, os, sys
import numpy as np
import simulation.state as state
state.grown_capacity = lambda need, capacity: need
for table in (state.Firms, state.Students, state.Projects):
    made = table.empty.__func__
    table.empty = classmethod(lambda cls, cap, *rest, made=made: made(cls, 0, *rest))
from simulation import EcosystemModel, kernels
from simulation.mechanisms import collaboration, teaching
sys.path.insert(0, "tests")
from test_kernel_bounds import REGIONS, SEEDS, parameters
out = {}
for region in REGIONS:
    for seed in SEEDS:
        model = EcosystemModel(rng=seed, **parameters(region)).run()
        w = model.world
        assert all(t.n == t.capacity for t in (w.firms, w.students, w.projects))
        # What a user's tables and a fresh count of free places read (no run calls it).
        model.student_table()
        model.firm_table()
        collaboration.free_slots(w)
        teaching.sync_skills(w, np.flatnonzero(
            w.students.status[:w.students.n] == state.ENROLLED)[:50])
        out[f"{region}, seed {seed}"] = model.indicator_values()[1].tolist()
# The sort's passes over every digit, which no small run's value added needs: a cluster of
# near-equal values between two far ones exhausts the insertion pass's budget.
x = np.concatenate(([0.0], 1.0 + np.random.default_rng(1).random(3000) * 1e-12, [2.0]))
assert (kernels.sorted_values(x) == np.sort(x)).all()
# Every kernel came from the checked cache, none from the ordinary one.
for name in kernels._MODULES:
    path = str(getattr(kernels, name)._cache._cache_path)
    assert path.startswith(os.environ["NUMBA_CACHE_DIR"]), (name, path)
json.dump(out, sys.stdout)
"""


def checked_cache() -> Path:
    base = os.environ.get("NUMBA_CACHE_DIR")
    return (Path(base) if base else ROOT / ".cache") / "boundscheck"


def test_small_runs_index_within_every_array_and_match_the_unchecked_runs() -> None:
    # numba's cache index does not record the bounds checks, and where it cannot write the
    # folder it is given it falls back to the ordinary cache beside the sources, whose
    # unchecked kernels it would load: the one locator allowed makes that an error instead.
    env = {**os.environ, "NUMBA_BOUNDSCHECK": "1", "NUMBA_CACHE_DIR": str(checked_cache()),
           "NUMBA_CACHE_LOCATOR_CLASSES": "UserProvidedCacheLocator"}
    done = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    checked = json.loads(done.stdout)
    for region in REGIONS:
        for seed in SEEDS:
            unchecked = EcosystemModel(rng=seed, **parameters(region)).run().indicator_values()
            np.testing.assert_array_equal(np.array(checked[f"{region}, seed {seed}"]),
                                          unchecked[1], err_msg=f"{region}, seed {seed}")
