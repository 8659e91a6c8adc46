"""Mutation testing of the model's mechanisms, the synergy indicator and the statistics.

mutmut 3 (configured in pyproject.toml, [tool.mutmut]) writes every mutant of a module (a
flipped comparison, a changed constant, a dropped argument) into a copy of the code in
mutants/, each behind a switch: the environment variable MUTANT_UNDER_TEST names the one that
is active. This script uses mutmut for that generation only and runs the mutants itself,
because a full mutmut run is impractical on a small machine (about 3,000 mutants, and each
mechanism mutant runs model simulations):

- **Per-module test selection.** Each module is tested by the test files that exercise it
  (``TESTS`` below: the files that import it plus those whose behaviour it drives), fastest
  test first and stopping at the first failure (``pytest -x``), instead of the whole selection.
- **Sampling.** ``--sample N --seed S`` tests a seeded random sample of N mutants per module.
  Testing a random sample of mutants is a recognised way to estimate the mutation score
  (Acree 1980; Budd 1980; Wong & Mathur 1995; Papadakis et al., "Mutation testing advances",
  2019): the sample's kill rate is an unbiased estimate of the full run's, and the report gives
  it with a 95% Wilson score interval. The full number of mutants per module is reported too.
- **Warm test processes.** One server process per worker imports pytest, the model and the
  test modules once and forks a child per mutant, so a mutant pays for its tests only.
- **Politeness and timeouts.** Everything runs under ``nice -n 19``; each mutant has a CPU-time
  limit (``--timeout`` seconds, or 4 x the CPU time of the module's clean test run; CPU time,
  because wall time on a shared machine says little). A mutant that hangs the tests is
  detected ("timeout" counts as killed).

A mutant the tests do not notice "survives": either a test is missing or the change is
equivalent (it cannot alter behaviour). ``EQUIVALENT`` lists the survivors known to be
equivalent, each with its reason; the kill rate excludes them from the denominator. Names
follow mutmut's numbering of the current code (function by function), so an entry must be
revisited when its function changes.

Not part of ``make test``. Results are kept in mutants/helixsim-mutation.json and a mutant
already tested is not tested again (``--fresh`` forgets them, as is needed after the code
changed); ``--resume`` re-tests the sample's survivors not known to be equivalent (without a
new clean run, tests/test_mutants_<module>.py first), which is how a sample is re-scored after
new tests were added (a killed mutant stays killed when tests are only added).

    python benchmarks/mutation.py --sample 40 --seed 1            # every module, 40 mutants
    python benchmarks/mutation.py mechanisms.policy --sample 60   # one module
    python benchmarks/mutation.py --sample 40 --seed 1 --resume   # re-test the survivors
    python benchmarks/mutation.py --sample 40 --seed 1 --fresh    # start over
    python benchmarks/mutation.py --report                        # last run's figures, no run
    MUTATION_STORE=before.json python benchmarks/mutation.py --report   # a saved copy's
    python benchmarks/mutation.py mechanisms.policy               # all of a module's mutants
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import subprocess
import sys
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from xml.etree import ElementTree

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MUTANTS = ROOT / "mutants"
STORE = Path(os.environ.get("MUTATION_STORE", MUTANTS / "helixsim-mutation.json"))

MECHANISMS = ("policy", "teaching", "research", "collaboration", "innovation", "digital",
              "labour_market", "firm_dynamics", "accounting")

# Test selection per module: tests/test_mutants_<module>.py (if present), every test file that
# imports the module (found by grep, ``importers``), and the files and test ids below, whose
# behaviour the module drives. Only one seed of a many-seed test is needed to see a change.
COMMON = [  # books on both sides and the monthly invariants: every mechanism moves them
    "tests/test_mechanisms.py",
    "tests/test_invariants.py::test_invariants_default_mix_over_two_years",
    "tests/test_public_money.py::test_every_instrument_reaches_its_receivers_every_month"
    "[defaults-2]",
    "tests/test_public_money.py::test_every_instrument_reaches_its_receivers_every_month"
    "[tight pots-2]",
]
LEVERS = "tests/test_levers.py::"
TESTS: dict[str, list[str]] = {
    "mechanisms.policy": [
        *COMMON, "tests/test_year_end.py",
        "tests/test_public_money.py::test_the_tight_scenario_exercises_every_instrument_and"
        "_binds_the_pots",
        LEVERS + "test_budget_shares_move_money_to_their_instruments[1]",
        LEVERS + "test_a_scheduled_mix_change_shapes_the_next_intake_only",
        LEVERS + "test_a_scheduled_budget_cut_releases_less_from_that_month",
        LEVERS + "test_incubator_support_keeps_more_incubated_start_ups_alive",
        "tests/test_siloed.py",
    ],
    "mechanisms.teaching": [
        *COMMON, "tests/test_education_models.py",
        LEVERS + "test_teaching_runs_september_to_june_and_stops_in_july_and_august[1]",
        LEVERS + "test_a_scheduled_mix_change_shapes_the_next_intake_only",
    ],
    "mechanisms.research": [
        *COMMON, "tests/test_channel_costs.py", "tests/test_tally.py",
        LEVERS + "test_a_larger_budget_funds_more_research_and_more_rd[1]",
    ],
    "mechanisms.collaboration": [
        *COMMON, "tests/test_channel_costs.py", "tests/test_tally.py",
        "tests/test_knowledge_pays.py", "tests/test_crn_alignment.py",
        LEVERS + "test_matching_rate_raises_collaboration[1]",
        LEVERS + "test_more_education_model_3_0_means_more_brokered_projects[1]",
        LEVERS + "test_platform_brings_members_digital_maturity_and_platform_matches[1]",
    ],
    "mechanisms.innovation": [
        *COMMON, "tests/test_firm_size.py", "tests/test_tally.py", "tests/test_knowledge_pays.py",
        "tests/test_firm_kernel_formulas.py",  # hazard against its kernel twin
    ],
    "mechanisms.digital": [
        *COMMON, "tests/test_platform.py",
        LEVERS + "test_platform_brings_members_digital_maturity_and_platform_matches[1]",
    ],
    "mechanisms.labour_market": [
        *COMMON, "tests/test_education_models.py", "tests/test_entry.py",
        "tests/test_public_money.py::test_graduates_never_receive_more_retention_money_than_the"
        "_pot_paid[0]",
        LEVERS + "test_retention_subsidy_lowers_departures[1]",
    ],
    "mechanisms.firm_dynamics": [
        *COMMON, "tests/test_entry.py", "tests/test_firm_size.py", "tests/test_knowledge_pays.py",
        "tests/test_crn_alignment.py",
        "tests/test_firm_kernel_formulas.py",  # exit_hazard against its kernel twin
        LEVERS + "test_incubator_hazard_cut_keeps_more_incubated_start_ups_alive",
        LEVERS + "test_exit_hazard_age_bands_first_year_years_two_to_five_and_mature",
        LEVERS + "test_a_larger_budget_funds_more_research_and_more_rd[1]",  # R&D spending
    ],
    "mechanisms.accounting": [
        *COMMON, "tests/test_year_end.py", "tests/test_welfare.py",
        "tests/test_public_money.py::test_net_fiscal_position_is_tax_collected_less_money"
        "_spent[2]",
        LEVERS + "test_a_larger_budget_funds_more_research_and_more_rd[1]",
    ],
    "synergy": ["tests/test_synergy.py", "tests/test_synergy_pinned.py", "tests/test_tally.py"],
    "analysis": ["tests/test_analysis.py", "tests/test_analysis_pinned.py"],
}
SOURCE = {**{f"mechanisms.{m}": f"simulation/mechanisms/{m}.py" for m in MECHANISMS},
          "synergy": "simulation/synergy.py", "analysis": "experiments/analysis.py"}

# Survivors that cannot change behaviour, by mutant name, with the reason.
ZIP = "zip over UNTIED and shares built from UNTIED: equal lengths, strict or not"
STREAM = ("another name of a random stream gives other draws of the same distribution, used "
          "for nothing else; only a test pinning the draws could tell")
COUNTER = ("a diagnostic counter (World.count) that no indicator, table or page reads")
EQUIVALENT: dict[str, str] = {
    "experiments.analysis.x_paired_interval__mutmut_5":
        "np.asarray of numbers is numeric without dtype=float; callers pass floats",
    "experiments.analysis.x_paired_interval__mutmut_7":
        "np.asarray of numbers is numeric without dtype=float; callers pass floats",
    "experiments.analysis.x_compare_table__mutmut_33":
        "an empty Series' mean is already NaN, and relative_to(NaN) is NaN",
    "experiments.analysis.x_dividend_table__mutmut_31":
        "an empty Series' mean is already NaN, and relative_to(NaN) is NaN",
    "experiments.analysis.x_seeds_needed__mutmut_62":
        "a larger growth step is bisected back: the same smallest n, found in other steps",
    "experiments.analysis.x_seeds_needed__mutmut_64":
        "growth by one instead of 10% reaches the same smallest n, only more slowly",
    "experiments.analysis.x_seeds_needed__mutmut_65":
        "a larger growth step is bisected back: the same smallest n, found in other steps",
    "experiments.analysis.x_shapley__mutmut_6":
        "one more factorial in the table is never read",
    "experiments.analysis.x_shapley__mutmut_34":
        "values are numeric arrays; float weights make the sum float either way",
    "experiments.analysis.x_shapley__mutmut_36":
        "values are numeric arrays; float weights make the sum float either way",
    "experiments.analysis.x_shapley__mutmut_38":
        "values are numeric arrays; float weights make the sum float either way",
    "experiments.analysis.x_shapley__mutmut_40":
        "values are numeric arrays; float weights make the sum float either way",
    "simulation.synergy.x_entropy__mutmut_3": "counts / total is float division for any numbers",
    "simulation.synergy.x_entropy__mutmut_5": "counts / total is float division for any numbers",
    "simulation.synergy.x_transmission__mutmut_3":
        "cell counts summed as ints or floats; every p = c / total is float division",
    "simulation.synergy.x_transmission__mutmut_5":
        "cell counts summed as ints or floats; every p = c / total is float division",
    "simulation.synergy.x_transmission__mutmut_108":
        "|T| exactly 1e-12 is a rounding residue either way: 0 or 1e-12 bits read alike",
    "simulation.synergy.x_entropy__mutmut_7":
        "no counts: the sum over an empty selection is 0.0 (as -0.0), the same value",
    "simulation.synergy.x_transmission__mutmut_9": "entropy() converts the sums to float",
    "simulation.synergy.x_transmission__mutmut_11": "entropy() converts the sums to float",
    "simulation.synergy.x_transmission__mutmut_55":
        "differs only when |T| is exactly 1e-12 bits",
    # accounting
    "simulation.mechanisms.accounting.x_apply__mutmut_39":
        "flows['value_added'] is never read: indicators.compute sums the firms' value added",
    "simulation.mechanisms.accounting.x_close_year__mutmut_37": ZIP,
    "simulation.mechanisms.accounting.x_close_year__mutmut_38": ZIP,
    "simulation.mechanisms.accounting.x_pay_universities__mutmut_28":
        "reputation starts at 1 and decays at most by 0.9 a month, so its sum is never 0",
    "simulation.mechanisms.accounting.x_pay_universities__mutmut_45":
        "where funding is 0 the research money is 0 too: 0 / 1e-12 is the 0 of the else branch",
    # policy
    "simulation.mechanisms.policy.x_monthly_release__mutmut_6":
        "without dtype=float, shares are still multiplied by the float budget / 12.0",
    "simulation.mechanisms.policy.x_monthly_release__mutmut_37": ZIP,
    # digital
    "simulation.mechanisms.digital.x_apply__mutmut_12":
        "differs only with at most one living firm, and then only in the diagnostic flow "
        "platform_investment_per_firm",
    "simulation.mechanisms.digital.x_apply__mutmut_62": STREAM,
    "simulation.mechanisms.digital.x_hire_effect__mutmut_7":
        "bincount without minlength is shorter, but only its nonzero rows are read",
    "simulation.mechanisms.digital.x_hire_effect__mutmut_8":
        "indexing by None takes every row, and rows without hires get a zero step",
    "simulation.mechanisms.digital.x_saturating__mutmut_5":
        "its one caller passes rates >= 0 (non-negative parameters, an investment boost >= 1)",
    # research
    "simulation.mechanisms.research.x_apply__mutmut_51":
        "a capacity below 1 admits no project (capacity_left floors it), so the share is 0 "
        "either way",
    "simulation.mechanisms.research.x_faculty_time__mutmut_11": COUNTER,
    "simulation.mechanisms.research.x_faculty_time__mutmut_13": COUNTER,
    "simulation.mechanisms.research.x_reference_funding__mutmut_28":
        "differs only for a region with fewer than 2 faculty members in all",
    "simulation.mechanisms.research.x_time_left__mutmut_33":
        "engaged FTE >= 0 and a from-teaching share in [0, 1] keep research time <= 1",
    "simulation.mechanisms.research.x_time_left__mutmut_46":
        "engaged FTE >= 0 and a from-teaching share in [0, 1] keep teaching time <= 1",
    # innovation
    "simulation.mechanisms.innovation.x_apply__mutmut_189": COUNTER,
    "simulation.mechanisms.innovation.x_gains_from_uniforms__mutmut_3":
        "u < share and u <= share differ only when a uniform draw equals the share exactly",
    "simulation.mechanisms.innovation.x_line_share__mutmut_13":
        "line / np.maximum(employees, line) is true division: float with or without dtype",
    # labour_market
    "simulation.mechanisms.labour_market.x_graduate__mutmut_204": COUNTER,
    "simulation.mechanisms.labour_market.x_graduate__mutmut_249":
        "the cohort's skill_* entries of last_cohort are never read (only internships and "
        "employment_rate are)",
    "simulation.mechanisms.labour_market.x_graduate__mutmut_35": STREAM,
    "simulation.mechanisms.labour_market.x_match__mutmut_51":
        "skill / (1 + 0.1 z) for a standard normal z is the same +-10% employability noise "
        "(1 - 0.1 z to first order); only a test pinning the draws could tell",
    # teaching
    "simulation.mechanisms.teaching.x_rate_table__mutmut_45":
        "float64 instead of float32 rates: its caller converts them to float64 at once, so "
        "only float32 rounding (1e-7) differs",
    # collaboration
    "simulation.mechanisms.collaboration.x_trim_to_slots__mutmut_45": COUNTER,
    "simulation.mechanisms.collaboration.x_end_projects__mutmut_58": STREAM,
    "simulation.mechanisms.collaboration.x_broker__mutmut_5": STREAM,
    "simulation.mechanisms.collaboration.x_search_and_match__mutmut_204":
        "u < p and u <= p differ only when a uniform draw equals the probability exactly",
    "simulation.mechanisms.collaboration.x_start_projects__mutmut_32":
        "None stored into a boolean array is False",
}
DETECTED = ("killed", "timeout")


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion k / n (Wilson 1927): unlike the normal
    approximation it stays inside [0, 1] and is sound for small n and rates near 1."""
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def generate() -> None:
    """Write (or refresh) every mutant into mutants/ with mutmut's own generator; tests/ and
    the also_copy folders are copied afresh, so new tests are seen."""
    code = ("import mutmut.__main__ as m\n"
            "m.set_mutant_under_test('mutant_generation')\n"
            "m.copy_src_dir(); m.copy_also_copy_files(); m.setup_source_paths()\n"
            "m.create_mutants(1)\n")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)


def mutants_of(module: str) -> list[str]:
    """Every mutant mutmut wrote for ``module``, in its own order."""
    meta = MUTANTS / (SOURCE[module] + ".meta")
    return sorted(json.loads(meta.read_text())["exit_code_by_key"],
                  key=lambda n: (n.rsplit("__mutmut_", 1)[0], int(n.rsplit("_", 1)[1])))


def importers(module: str) -> list[str]:
    """Test files that import the module by name (grep)."""
    dotted = "simulation." + module if module.startswith("mech") else None
    name = module.rsplit(".", 1)[-1]
    pats = [re.compile(rf"from simulation\.mechanisms\.{name} import|"
                       rf"from simulation\.mechanisms import .*\b{name}\b|"
                       rf"mechanisms\.{name}\b")] if dotted else []
    out = []
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        text = path.read_text()
        if any(p.search(text) for p in pats) and "browser" not in path.name:
            out.append(f"tests/{path.name}")
    return out


def selection(module: str) -> list[str]:
    own = f"tests/test_mutants_{module.rsplit('.', 1)[-1]}.py"
    chosen = ([own] if (ROOT / own).exists() else []) + TESTS[module] + importers(module)
    covered: list[str] = []
    for t in chosen:  # a file already selected covers its own test ids
        if t not in covered and t.split("::")[0] not in covered:
            covered.append(t)
    return [t for t in covered if not any(t.startswith(c + "::") for c in covered if c != t)]


def pytest_cmd(tests: list[str], extra: list[str] | None = None) -> list[str]:
    return ["nice", "-n", "19", sys.executable, "-m", "pytest", "-x", "-q", "-p",
            "no:cacheprovider", "-p", "no:randomly", "--tb=line", *(extra or []), *tests]


def env_for(mutant: str) -> dict[str, str]:
    # CI=1: Hypothesis derandomised (tests/conftest.py), so a verdict does not hang on the
    # examples drawn. mutants/ first on the path: the tests import the mutated copy.
    # One thread per numeric library: the server forks, and a forked thread pool can hang.
    return {**os.environ, "CI": "1", "MUTANT_UNDER_TEST": mutant, "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NUMBA_NUM_THREADS": "1",
            "PYTHONPATH": str(MUTANTS), "PYTHONDONTWRITEBYTECODE": "1"}


def clean_run(module: str, tests: list[str]) -> tuple[list[str], float, float]:
    """Run the module's tests unmutated: they must pass. Returns the test ids, fastest first
    (so a mutant is usually caught in seconds), the run's wall time and its CPU time."""
    import resource
    xml = MUTANTS / f"clean-{module}.xml"
    started = time.perf_counter()
    cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(pytest_cmd(tests, [f"--junitxml={xml}"]), cwd=MUTANTS,
                          env=env_for(""), capture_output=True, text=True)
    took = time.perf_counter() - started
    cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime
    if done.returncode != 0:
        sys.exit(f"the tests of {module} fail without a mutant:\n{done.stdout[-3000:]}")
    cases = []
    for case in ElementTree.parse(xml).getroot().iter("testcase"):
        if case.find("skipped") is not None:
            continue
        path = case.get("classname", "").replace(".", "/") + ".py"
        cases.append((float(case.get("time", 0)), f"{path}::{case.get('name')}"))
    xml.unlink()
    return [nodeid for _, nodeid in sorted(cases)], took, cpu


class Server:
    """A warm test process for one module's mutants: imports pytest, the model and the test
    modules once (``pytest --collect-only``), then forks one child per mutant, so a mutant pays
    for its tests only, not for Python's start-up (mutmut's own runner does the same)."""

    def __init__(self, tests: list[str]) -> None:
        self.proc = subprocess.Popen(
            ["nice", "-n", "19", sys.executable, __file__, "--serve", *tests], cwd=MUTANTS,
            env=env_for(""), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def test(self, mutant: str, cpu_limit: float) -> dict:
        self.proc.stdin.write(f"{mutant} {int(cpu_limit)}\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def serve(tests: list[str]) -> None:
    """The server's side: one line "mutant cpu-seconds" in, one JSON result line out."""
    import resource
    import tempfile

    # The tests import the mutated copy (the working directory), and never this script's
    # neighbours (benchmarks/experiments.py would shadow the experiments package).
    sys.path[:] = [os.getcwd()] + [p for p in sys.path[1:] if Path(p).resolve() != HERE]
    import pytest
    out = sys.stdout
    sys.stdout = sys.stderr  # pytest's output must not reach the protocol stream
    args = ["-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "--tb=line", *tests]
    with open(os.devnull, "w") as null:
        sys.stdout = null
        pytest.main(["--collect-only", "-q", *args])
        sys.stdout = sys.stderr
    for line in sys.stdin:
        mutant, limit = line.split()
        log = tempfile.TemporaryFile("w+")  # noqa: SIM115 (closed below, after the fork)
        started = time.perf_counter()
        with warnings.catch_warnings():  # "multi-threaded fork": see OMP_NUM_THREADS above
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # the child: this mutant only, its output to the log, a CPU-time limit
            os.environ["MUTANT_UNDER_TEST"] = mutant
            resource.setrlimit(resource.RLIMIT_CPU, (int(limit), int(limit) + 1))
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            code = 3
            try:
                code = int(pytest.main(args))
            finally:
                os._exit(code)
        while True:  # a child that sleeps or deadlocks uses no CPU: a wall-clock guard too
            done, wait = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.perf_counter() - started > 20 * int(limit):
                os.kill(pid, 9)
            time.sleep(0.05)
        took = round(time.perf_counter() - started, 1)
        if os.WIFSIGNALED(wait):
            result = {"status": "timeout" if os.WTERMSIG(wait) in (9, 24) else "killed",
                      "signal": os.WTERMSIG(wait)}
        else:
            result = {"status": {0: "survived", 1: "killed"}.get(os.WEXITSTATUS(wait),
                                                                   "error")}
        log.seek(0)
        text = log.read()
        failed = re.search(r"^FAILED (\S+)", text, re.M)
        if failed:
            result["killed_by"] = failed.group(1)
        log.close()
        if result["status"] == "error":
            result["output"] = text[-800:]
        result["seconds"] = took
        out.write(json.dumps(result) + "\n")
        out.flush()


def load() -> dict:
    return json.loads(STORE.read_text()) if STORE.exists() else {"modules": {}, "mutants": {}}


def save(store: dict, *, module: str | None = None, mutant: str | None = None) -> None:
    """Write one module's entry or one mutant's result into the file under a lock: runs of
    other modules may write it too, so only what this run changed is merged."""
    import fcntl
    with open(STORE.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        disk = load()
        if module:
            disk["modules"][module] = store["modules"][module]
        if mutant:
            disk["mutants"][mutant] = store["mutants"][mutant]
        tmp = STORE.with_suffix(".tmp")
        tmp.write_text(json.dumps(disk, indent=1, sort_keys=True))
        tmp.replace(STORE)


def diff(mutant: str, module: str) -> str:
    code = ("import sys\nfrom mutmut.mutation.diff_apply import get_diff_for_mutant\n"
            "print(get_diff_for_mutant(sys.argv[1], path=sys.argv[2]))\n")
    shown = subprocess.run([sys.executable, "-c", code, mutant, SOURCE[module]], cwd=ROOT,
                           text=True, capture_output=True)
    return "\n".join(f"      {line}" for line in shown.stdout.splitlines()
                     if re.match(r"^[-+](?![-+])", line))


def test_all(store: dict, todo: list[str], tests: list[str], limit: float, workers: int
             ) -> None:
    """Test the mutants ``todo`` on ``workers`` warm servers, saving each result at once."""
    queue, lock = list(todo), threading.Lock()

    def work() -> None:
        server = Server(tests)
        try:
            while True:
                with lock:
                    if not queue:
                        return
                    name = queue.pop(0)
                result = server.test(name, limit)
                with lock:
                    # The first verdict is kept as "before": the kill rate before new tests.
                    result["before"] = store["mutants"].get(name, result).get(
                        "before", store["mutants"].get(name, result)["status"])
                    store["mutants"][name] = result
                    save(store, mutant=name)
                    print(f"  {result['status']:8} {result['seconds']:6.1f} s  {name}",
                          flush=True)
        finally:
            server.close()

    with ThreadPoolExecutor(workers) as pool:
        for done in [pool.submit(work) for _ in range(workers)]:
            done.result()


def run(modules: list[str], *, sample: int | None, seed: int, workers: int,
        timeout: float | None, resume: bool, fresh: bool) -> None:
    generate()
    if fresh:
        STORE.unlink(missing_ok=True)
    store = load()
    for module in modules:
        everyone = mutants_of(module)
        # A seeded shuffle, then the first N: a larger sample of the same seed contains the
        # smaller one, so a sample can be extended without re-testing what is done.
        order = list(everyone)
        random.Random(f"{seed}:{module}").shuffle(order)
        chosen = sorted(order[:sample]) if sample else everyone
        # Results are kept: a mutant already tested is not tested again, except a survivor
        # with --resume (after new tests were written); --fresh forgets everything.
        # Tested in shuffled order, so that the mutants tested by an interrupted run are a
        # random sample too.
        def due(m: str) -> bool:
            if not resume:
                return m not in store["mutants"]
            return (m in store["mutants"] and store["mutants"][m]["status"] not in DETECTED
                    and m not in EQUIVALENT)

        todo = [m for m in (order[:sample] if sample else everyone) if due(m)]
        store["modules"][module] = {"total": len(everyone), "sampled": chosen,
                                    "sample": sample, "seed": seed}
        save(store, module=module)
        if not todo:
            print(f"{module}: {len(everyone)} mutants, nothing left to test in the sample of "
                  f"{len(chosen)}", flush=True)
            continue
        if resume:
            # Re-testing survivors after new tests were written: the clean run was made when
            # they were first tested (and each new test was checked on its own), so the
            # selection runs as listed, tests/test_mutants_<module>.py first.
            tests, limit = selection(module), timeout or 120.0
            print(f"{module}: re-testing {len(todo)} survivors of a sample of {len(chosen)} "
                  f"({len(everyone)} mutants), limit {limit:.0f} CPU s", flush=True)
        else:
            tests, took, cpu = clean_run(module, selection(module))
            # CPU seconds (the machine is shared: wall time says little); a child over the
            # limit gets SIGXCPU, which counts as a timeout.
            limit = timeout or max(60.0, 4.0 * cpu)
            print(f"{module}: {len(everyone)} mutants, testing {len(todo)} of a sample of "
                  f"{len(chosen)}; {len(tests)} tests, clean run {took:.0f} s ({cpu:.0f} s "
                  f"CPU), limit {limit:.0f} CPU s per mutant", flush=True)
        test_all(store, todo, tests, limit, workers)


def report(modules: list[str], *, show_diffs: bool) -> None:
    store = load()
    print(f"{'module':26} {'mutants':>7} {'sampled':>7} {'tested':>6} {'killed':>6} "
          f"{'survived':>8} {'equiv.':>6}  {'first run':21}  {'now':21}")
    print(f"{'':26} {'':>7} {'':>7} {'':>6} {'':>6} {'':>8} {'':>6}  kill rate [95% CI], "
          "equivalents excluded")
    survivors = []
    for module in modules:
        info = store["modules"].get(module)
        if not info:
            continue
        results = {m: store["mutants"][m] for m in info["sampled"] if m in store["mutants"]
                   and store["mutants"][m]["status"] in (*DETECTED, "survived")}
        left = [m for m, r in results.items() if r["status"] == "survived"]
        equivalent = sum(m in EQUIVALENT for m in results)
        n = len(results) - equivalent
        rates = []
        for killed in (sum(r.get("before", r["status"]) in DETECTED for r in results.values()),
                       sum(r["status"] in DETECTED for r in results.values())):
            lo, hi = wilson(killed, n)
            rates.append(f"{killed / n:6.1%} [{lo:4.0%}, {hi:4.0%}]" if n else "n/a")
        print(f"{module:26} {info['total']:7d} {len(info['sampled']):7d} {len(results):6d} "
              f"{len(results) - len(left):6d} {len(left):8d} {equivalent:6d}  {rates[0]:21}  "
              f"{rates[1]:21}")
        survivors += [(module, m) for m in left]
    if survivors:
        print(f"\n{len(survivors)} surviving mutants:")
        for module, name in survivors:
            why = EQUIVALENT.get(name)
            print(f"  {name}" + (f"  equivalent: {why}" if why else "  NOT EXPLAINED"))
            if show_diffs:
                print(diff(name, module))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("modules", nargs="*", help=f"any of {', '.join(SOURCE)} "
                    "(default: the nine mechanism modules); 'mechanisms' for all nine")
    ap.add_argument("--sample", type=int, help="mutants per module, a seeded random sample")
    ap.add_argument("--seed", type=int, default=1, help="seed of the sample (default 1)")
    ap.add_argument("--workers", type=int, default=1, help="mutants tested in parallel")
    ap.add_argument("--timeout", type=float, help="seconds per mutant (default: 4 x clean run)")
    ap.add_argument("--resume", action="store_true",
                    help="re-test the sample's survivors too (after adding tests)")
    ap.add_argument("--fresh", action="store_true", help="forget all stored results first")
    ap.add_argument("--report", action="store_true", help="only print the last run's figures")
    ap.add_argument("--serve", nargs="*", help=argparse.SUPPRESS)  # the warm test process
    ap.add_argument("--no-diffs", action="store_true", help="list survivors without diffs")
    args = ap.parse_args()
    if args.serve is not None:
        serve(args.serve)
        return
    modules = []
    for name in args.modules or ["mechanisms"]:
        if name == "mechanisms":
            modules += [f"mechanisms.{m}" for m in MECHANISMS]
        elif name in SOURCE:
            modules.append(name)
        else:
            sys.exit(f"unknown module {name!r}; choose from {', '.join(SOURCE)}")
    if not args.report:
        started = time.perf_counter()
        run(modules, sample=args.sample, seed=args.seed, workers=args.workers,
            timeout=args.timeout, resume=args.resume, fresh=args.fresh)
        print(f"\nmutation run: {time.perf_counter() - started:.0f} s with {args.workers} "
              "worker(s)\n")
    report(modules, show_diffs=not args.no_diffs)


if __name__ == "__main__":
    main()
