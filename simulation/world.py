"""The simulated region: all state in one container, and how it is initialised.

``World`` holds the arrays of every population, the government's books, the month, the run's
random streams and records, and ``scratch``: the one place where a mechanism leaves a value for
a later mechanism of the same month (``state.MonthScratch``, renewed by ``begin_month``).
Mechanisms (simulation/mechanisms/) read and update it; the Mesa model (model.py) owns one and
calls the mechanisms in a fixed, visible order. ``build_world`` returns it ready to step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import kernels
from .parameters import INSTRUMENTS
from .rng import Streams, stream
from .state import (
    INCUMBENT,
    Firms,
    MonthScratch,
    Projects,
    Students,
    Tally,
    Universities,
    check_fits,
)

N_INSTRUMENTS = len(INSTRUMENTS)
INSTRUMENT_INDEX = {name: i for i, name in enumerate(INSTRUMENTS)}
UNTIED = (INSTRUMENT_INDEX["block_grants"], INSTRUMENT_INDEX["rd_subsidies"])
_NO_ROWS = np.zeros(0, dtype=np.int64)


@dataclass
class Government:
    """The government's books, per instrument (order of parameters.INSTRUMENTS).

    Invariant (checked by tests): released = spent + balance + returned, every month.
    """

    balance: np.ndarray = field(default_factory=lambda: np.zeros(N_INSTRUMENTS))
    released: np.ndarray = field(default_factory=lambda: np.zeros(N_INSTRUMENTS))
    spent: np.ndarray = field(default_factory=lambda: np.zeros(N_INSTRUMENTS))
    spent_month: np.ndarray = field(default_factory=lambda: np.zeros(N_INSTRUMENTS))
    returned: float = 0.0
    tax_total: float = 0.0
    tax_month: float = 0.0

    def spend(self, instrument: int, amount: float) -> float:
        """Spend up to ``amount`` from an instrument's balance; returns what was spent."""
        # Python floats read and written by item (the same arithmetic as the arrays' own):
        # a handful of calls a month, and numpy's scalar operators cost several times more.
        balance = self.balance
        left = balance.item(instrument)
        amount = float(min(max(amount, 0.0), left))
        balance[instrument] = left - amount
        spent, month = self.spent, self.spent_month
        spent[instrument] = spent.item(instrument) + amount
        month[instrument] = month.item(instrument) + amount
        return amount

    def demand_share(self, instrument: int, demand: float) -> float:
        """Fraction of a demand the instrument can pay this month (in [0, 1])."""
        if demand <= 0:
            return 0.0
        return float(min(1.0, self.balance[instrument] / demand))


@dataclass
class StaffIndex:
    """Which alumni work at which firm, so that a firm's exit finds its graduates without a
    pass over the student table (labour_market.lose_jobs).

    ``rows[start[i]:start[i] + count[i]]`` are the alumni that firm row i employed when the
    index was last built (every June, after the hires, from the index before and the hires
    since; firms created since have none), ``recent`` the alumni hired since and
    ``recent_firm`` their employers (the firms that hired them: a recent hire whose firm exits
    leaves ``recent``). A firm's segment is read once, when it exits, and then emptied (count
    0). ``hired_digital`` is hiring's scratch, a zero per firm row between hires
    (kernels.hire_graduates), kept so that a month's few hires do not zero one per firm row.
    """

    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    start: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    count: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    recent: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    recent_firm: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    hired_digital: np.ndarray = field(default_factory=lambda: np.zeros(0))


@dataclass
class World:
    """Everything that changes during a run (tests check it holds no attribute but these)."""

    p: dict[str, Any]
    firms: Firms
    students: Students
    unis: Universities
    projects: Projects
    gov: Government
    tally: Tally
    streams: Streams                    # the run's random streams (rng.py), one per purpose
    month: int = 0                      # months completed
    welfare: float = 0.0                # W: discounted value added net of link outlays (MCU)
    totals: dict[str, float] = field(default_factory=dict)  # cumulative counters (count)
    # This month's scratch values between mechanisms (see state.MonthScratch).
    scratch: MonthScratch = field(default_factory=MonthScratch)
    # Funding per faculty per month at the default budget split (MCU), a constant of the run
    # set by build_world; research.py scales research output by funding relative to it.
    ref_funding: float = 1.0
    # Run records, read by indicators and validation, not by mechanisms.
    # Outcomes of the latest graduating cohort (labour_market writes each June).
    last_cohort: dict[str, float] = field(default_factory=dict)
    # Value (MCU) of every innovation, one array per month with any (innovation writes).
    innovation_values: list[np.ndarray] = field(default_factory=list)
    # State kept current across months.
    enrolled: np.ndarray | None = None                # (U, 3) enrolled students, kept current
    # Cumulative teaching exposure per (university, programme) row and skill: the sum over
    # teaching months of log(1 - rate). See mechanisms/teaching.py.
    exposure: np.ndarray | None = None
    # Month -> rows whose scheduled dropout month it is (row order), consumed month by month.
    dropout_schedule: dict = field(default_factory=dict)
    # Rows of the unemployed graduates in row order, kept current by labour_market (the rows
    # whose status is UNEMPLOYED: alumni_flows draws one number per row of it each month).
    unemployed: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    # Alumni at work by employer, kept current by labour_market.
    staff: StaffIndex = field(default_factory=StaffIndex)

    def begin_month(self) -> None:
        """Start the next month: advance the counter, renew the scratch, zero the month's
        spending. The only month-start reset of the run."""
        self.month += 1
        self.scratch = MonthScratch()
        self.gov.spent_month.fill(0.0)

    # --- calendar -----------------------------------------------------------------------
    @property
    def calendar_month(self) -> int:
        """Calendar month (1 = January) of the month being simulated; month 1 is September."""
        return (8 + self.month - 1) % 12 + 1 if self.month > 0 else 9

    def rng(self, purpose: str) -> np.random.Generator:
        """This month's random stream for one purpose (see rng.py); once per month each."""
        return self.streams.get(purpose, self.month)

    def standard_normal(self, purpose: str, n: int) -> np.ndarray:
        """This month's ``n`` standard normals of one purpose, ``rng(purpose).standard_normal(n)``
        drawn by compiled code (Streams.standard_normal); once per month, as ``rng``."""
        return self.streams.standard_normal(purpose, self.month, n)

    def rng_start(self, purpose: str) -> np.ndarray:
        """This month's stream for one purpose as its start state (Streams.start_state), for
        a kernel that computes the few per-row uniforms used; once per month, as ``rng``."""
        return self.streams.start_state(purpose, self.month)

    def channel(self, name: str) -> bool:
        return bool(self.p[f"channel_{name}"]) and not self.p["siloed"]

    def platform_live(self) -> bool:
        return (self.channel("platform") and bool(self.p["platform_on"])
                and self.month >= self.p["platform_launch_month"])

    def enrol(self, rows: np.ndarray | slice, sign: int) -> None:
        """Add (+1) or remove (-1) students from the enrolled counts per university/programme."""
        codes = self.students.code[rows]
        n_u = self.unis.count
        self.enrolled += sign * np.bincount(codes, minlength=3 * n_u).reshape(n_u, 3)

    def schedule_dropouts(self, rows: slice) -> None:
        """File newly admitted students by the month they would drop out."""
        # Months after the cohort has certainly graduated can never strike: left out. One
        # entry per month (cohorts are admitted in row order, so each month's rows stay in
        # row order): a month's dropouts are then one look-up, not a search per cohort.
        ids, months, bounds = kernels.file_by_month(
            self.students.dropout_step[rows], rows.start,
            self.month + 12 * self.p["programme_years"])
        schedule = self.dropout_schedule
        for month, lo, hi in zip(months.tolist(), bounds[:-1].tolist(), bounds[1:].tolist(),
                                 strict=True):
            due = schedule.get(month)
            schedule[month] = ids[lo:hi] if due is None else np.concatenate((due, ids[lo:hi]))

    def due_dropouts(self) -> np.ndarray:
        """Rows whose dropout month is this month (enrolled or not), in row order."""
        return self.dropout_schedule.pop(self.month, _NO_ROWS)

    def share_3_0(self) -> np.ndarray:
        """(U,) share of each university's enrolled students in Education Model 3.0."""
        total = self.enrolled.sum(axis=1)
        return np.where(total > 0, self.enrolled[:, 2] / np.maximum(total, 1.0), 0.0)

    def count(self, key: str, value: float = 1.0) -> None:
        """Add ``value`` to this month's flow ``key`` and to its run total."""
        flows = self.scratch.flows
        flows[key] = flows.get(key, 0.0) + value
        self.totals[key] = self.totals.get(key, 0.0) + value


def education_mix(p: dict[str, Any]) -> np.ndarray:
    """(U, 3) intake shares of Education Models 1.0 / 2.0 / 3.0 per university."""
    if p["edu_mix_by_university"]:
        return np.array(p["edu_mix_by_university"], dtype=float)
    s2, s3 = p["share_edu_2_0"], p["share_edu_3_0"]
    return np.tile([max(0.0, 1.0 - s2 - s3), s2, s3], (p["n_universities"], 1))


def build_world(p: dict[str, Any], root: np.random.SeedSequence) -> World:
    """The region at month 0, ready to step: universities, firms, four enrolled cohorts, the
    run's random streams and the universities' month-0 funding.

    The initial state is drawn from the child stream ``init`` of ``root``; the monthly streams
    of the mechanisms are further children of the same root (rng.py).
    """
    check_fits(p)  # before anything is allocated
    rng = stream(root, "init")
    k, n_u = p["n_domains"], p["n_universities"]

    faculty = np.full(n_u, float(p["faculty_per_university"]))
    unis = Universities(
        # Universities are broad: a flat Dirichlet profile over the domains.
        knowledge=rng.dirichlet(np.full(k, 2.0), size=n_u) * 100.0 * faculty[:, None] / 800.0,
        faculty=faculty,
        intake=np.full(n_u, float(p["intake_per_university"])),
        mix=education_mix(p),
        publications=np.zeros(n_u),
        reputation=np.ones(n_u),
        funding=np.zeros(n_u),
    )

    n_f = p["n_firms"]
    years = p["horizon_months"] / 12.0
    firms = Firms.empty(int(n_f * (1 + 0.15 * years)) + 16, k, n_u)
    rows = firms.reserve(n_f)
    size = truncated_pareto(rng, n_f, p["size_tail"], p["size_min"], p["size_max"])
    init_firms(firms, rows, p, rng, size=size, origin=INCUMBENT, step=0,
               home=home_universities(rng, unis.intake, n_f))
    # Incumbents have a history: spread their ages over the past 20 years.
    firms.birth_step[rows] = -rng.integers(0, 240, size=n_f)
    firms.cash[rows] = p["initial_cash_months"] * firms.productivity[rows] * size
    start_near_steady_state(firms, rows, p)

    n_cohorts = p["programme_years"]
    per_cohort = int(unis.intake.sum())
    cap = per_cohort * (n_cohorts + int(np.ceil(p["horizon_months"] / 12)) + 1)
    students = Students.empty(cap)
    w = World(p=p, firms=firms, students=students, unis=unis,
              projects=Projects.empty(256), gov=Government(), tally=Tally(),
              streams=Streams(root), enrolled=np.zeros((n_u, 3)),
              exposure=np.zeros((3 * n_u, 4)))
    for year in range(n_cohorts, 0, -1):  # oldest cohort first: rows stay in intake order
        admit_cohort(w, rng, step=1 - (year - 1) * 12, year=year)
    initial_funding(w)
    return w


def initial_funding(w: World) -> None:
    """Month 0's research money: as if the untied grants had been paid at the reference level
    (``ref_funding`` x faculty), with the research-grant part of it at the budget split."""
    from .mechanisms.research import reference_funding

    w.ref_funding = reference_funding(w)
    w.unis.funding = w.ref_funding * w.unis.faculty
    total = w.p["budget_share_block_grants"] + w.p["budget_share_research_grants"]
    # Only money the government actually has can have paid for month 0's research.
    funded = total > 0 and w.p["gov_budget"] > 0
    w.unis.grant_share = np.full(
        w.unis.count, w.p["budget_share_research_grants"] / total if funded else 0.0)


def start_near_steady_state(firms: Firms, rows: slice, p: dict[str, Any]) -> None:
    """Give incumbents the graduate staff, knowledge and absorptive capacity of a region that
    has been running, so that the run does not open with a start-up transient.

    Graduates: ``initial_graduate_share`` of employees, of skill ``initial_graduate_skill``.
    Knowledge: the level at which own R&D, the R&D subsidy and graduate hires replace
    obsolescence, (firm_rd_rate x effort + hires) / knowledge_depreciation (profile kept).
    Absorptive capacity: the fixed point of its accumulation at that effort and graduate staff.
    """
    from .mechanisms.firm_dynamics import absorptive_inflow, absorptive_steady_state

    emp = firms.employees[rows]
    grads = np.floor(p["initial_graduate_share"] * emp).astype(np.int64)
    firms.prior_grads[rows] = grads
    firms.prior_grad_skill[rows] = grads * p["initial_graduate_skill"]
    va = firms.value_added(rows, p["graduate_premium"])
    own = firms.rd_intensity[rows] * va
    # The R&D subsidy pot, shared by own R&D among qualifying firms (accounting.py).
    qualify = firms.rd_intensity[rows] >= p["rd_subsidy_threshold"]
    pot = p["gov_budget"] * p["budget_share_rd_subsidies"] / 12.0
    weight = own * qualify
    subsidy = pot * weight / weight.sum() if weight.sum() > 0 else np.zeros(len(own))
    effort = own + subsidy
    delta = p["knowledge_depreciation"]
    # Graduates hired each June bring knowledge too (labour_market.hire): at full vacancy fill
    # and the initial graduates' skill, a monthly inflow of this many units.
    hires = (p["graduate_vacancy_rate"] / 12.0 * emp * p["graduate_knowledge"]
             * p["initial_graduate_skill"])
    if delta > 0:
        level = (p["firm_rd_rate"] * effort + hires) / delta
    else:  # no obsolescence, no steady state: knowledge per employee at the reference
        level = p["knowledge_reference"] * np.maximum(emp, 1).astype(float)
    k = firms.knowledge[rows]
    firms.knowledge[rows] = k / np.maximum(k.sum(axis=1), 1e-12)[:, None] * level[:, None]
    firms.knowledge_paid[rows] = firms.knowledge[rows].sum(axis=1)
    grad_term = firms.graduate_term(rows)
    inflow = absorptive_inflow(effort / np.maximum(va, 1e-12), grad_term, p)
    firms.absorptive[rows] = absorptive_steady_state(inflow, p["absorptive_depreciation"])


_NO_DOMAINS = np.zeros(0, dtype=np.int32)  # no row's main domain known yet


def displace_incumbents(w: World, new: np.ndarray, main_domain: np.ndarray | None = None
                        ) -> None:
    """New firms ``new`` take ``displacement_share`` of their value added from living firms of
    their main domain (business stealing), in proportion to those firms' value added.

    Each incumbent's productivity falls by the same factor within a domain, so with share 1
    the new firms' value added is moved from incumbents, not created; a domain whose new
    firms would take more than its incumbents hold loses all of theirs and no more.
    ``main_domain``, if given, holds the main domain of every living row below its length,
    found when their knowledge last changed (firm dynamics' growth, the same month).
    """
    share = w.p["displacement_share"]
    f = w.firms
    if share <= 0 or len(new) == 0:
        return
    known = _NO_DOMAINS if main_domain is None else main_domain
    # One pass over the firms (simulation/kernels/firms.py).
    n_old, lost = kernels.displace(f.alive[: f.n], np.asarray(new, dtype=np.int64), known,
                                   len(known), f.knowledge, f.productivity, f.employees,
                                   f.diverted, f.grad_skill, f.prior_grad_skill,
                                   w.p["graduate_premium"], share)
    if n_old:
        w.count("displaced_value_added", lost)


def home_universities(rng: np.random.Generator, intake: np.ndarray, n: int) -> np.ndarray:
    """The home universities of ``n`` new firms, drawn in proportion to the universities'
    intake: ``rng.choice(len(intake), size=n, p=intake / intake.sum())``.

    Generator.choice's own method on the same uniforms, ``n`` of them from ``rng``
    (kernels.labour.weighted_picks; a test holds it to ``choice``), without choice's checks
    of p, which cost more than the draw on a month's few entrants (intake is at least one
    student a university, so p is valid).
    """
    return kernels.weighted_picks(np.arange(len(intake)), intake, intake.sum(), rng.random(n))


def truncated_pareto(rng: np.random.Generator, n: int, alpha: float, lo: float, hi: float
                     ) -> np.ndarray:
    """Draws from a Pareto(alpha) on [lo, hi] by inverting its CDF."""
    u = rng.random(n)
    ratio = (lo / hi) ** alpha
    return lo * (1.0 - u * (1.0 - ratio)) ** (-1.0 / alpha)


def init_firms(firms: Firms, rows: slice, p: dict[str, Any], rng: np.random.Generator, *,
               size: np.ndarray, origin: int, step: int, home: np.ndarray,
               knowledge: np.ndarray | None = None) -> None:
    """Fill new firm rows: size, productivity, R&D intensity and a specialised knowledge profile."""
    n = rows.stop - rows.start
    k = p["n_domains"]
    sig = p["productivity_sigma"]
    productivity_draw = rng.lognormal(-0.5 * sig**2, sig, n)
    rd_draw = rng.lognormal(-0.5, 1.0, n)
    # Firms are specialists unless their knowledge is given: a spiky Dirichlet(0.3, ..., 0.3)
    # profile, at the level their own R&D sustains. Drawn as numpy's dirichlet draws it, one
    # standard gamma variate per domain in row order (kernels.start_firms normalises them as
    # dirichlet does, and scales them): the same numbers without dirichlet's checks of alpha.
    profile = rng.standard_gamma(0.3, size=(n, k)) if knowledge is None else knowledge
    # One pass over the new rows (simulation/kernels/firms.py), which writes every column.
    kernels.start_firms(
        rows.start, np.asarray(size, dtype=float), productivity_draw, rd_draw,
        np.asarray(profile, dtype=float), knowledge is None, rng.beta(2.0, 5.0, n),
        np.asarray(home), origin, step, p["productivity"], p["rd_intensity"],
        p["knowledge_reference"], p["startup_cash"], firms.size, firms.employees,
        firms.productivity, firms.rd_intensity, firms.knowledge, firms.knowledge_paid,
        firms.cash, firms.digital, firms.absorptive, firms.birth_step, firms.exit_step,
        firms.alive, firms.origin, firms.founder_university, firms.incubated,
        firms.home_university, firms.platform_member, firms.grad_employees, firms.grad_skill,
        firms.prior_grads, firms.prior_grad_skill, firms.innovations, firms.patents,
        firms.partners, firms.last_innovation, firms.last_project, firms.subsidy,
        firms.public_money, firms.trust, firms.trusted)


def admit_cohort(w: World, rng: np.random.Generator, *, step: int, year: int = 1) -> slice:
    """Append one intake cohort for every university; earlier years get their past teaching.

    The cohort is added to the enrolled counts and its dropout months are scheduled.
    """
    students, unis, p = w.students, w.unis, w.p
    # A cohort already in year y has lost (y - 1) years of dropouts.
    survived = (1.0 - p["dropout_rate"]) ** (year - 1)
    counts = np.rint(unis.intake * survived).astype(np.int64)
    n = int(counts.sum())
    rows = students.reserve(n)
    uni = np.repeat(np.arange(unis.count, dtype=np.int16), counts)
    # Programme by the university's mix: a multinomial split per university, shuffled rows.
    prog = np.empty(n, dtype=np.int8)
    start = 0
    for u, c in enumerate(counts):
        split = rng.multinomial(c, unis.mix[u] / unis.mix[u].sum())
        block = np.repeat(np.arange(3, dtype=np.int8), split)
        rng.shuffle(block)
        prog[start:start + c] = block
        start += c
    # The draws, in their order: skills, aptitude, interest, dropout wait (each narrowed to
    # its column's type, float32 and int8, by the kernel as it stores it).
    skills = rng.uniform(0.05, 0.3, size=(n, 4))
    sig = p["aptitude_sigma"]
    aptitude = rng.lognormal(-0.5 * sig**2, sig, n)  # mean 1
    interest = rng.integers(0, p["n_domains"], n)
    # Dropout is a constant monthly hazard, so the month it would strike is a geometric draw.
    monthly = 1.0 - (1.0 - p["dropout_rate"]) ** (1.0 / 12.0)
    # A wait past the horizon means never (the kernel caps it at 2**30 months, so that
    # month + wait cannot wrap the int32 dropout column: a tiny hazard draws waits of 10^10
    # months and more).
    wait = rng.geometric(monthly, n) if monthly > 0 else np.full(n, 2**30)
    # Every column of the new rows but those reserve gave their empty values, the enrolled
    # and status counts in one pass (kernels).
    kernels.enrol_cohort(
        rows.start, uni, prog, skills, aptitude, interest, wait, w.month, step, year,
        students.university, students.programme, students.code, students.year, students.skills,
        students.aptitude, students.interest, students.status, students.intake_step,
        students.dropout_step, students.sync, w.exposure, w.enrolled, students.status_counts)
    if year > 1:
        # Students already in year y have had (y - 1) academic years (10 months each) of
        # classroom teaching: the closed form of s += r (1 - s) applied that many times.
        retain = (1.0 - classroom_rates(p)[prog]) ** students.aptitude[rows][:, None]
        s = students.skills[rows]
        students.skills[rows] = 1.0 - (1.0 - s) * retain ** (10 * (year - 1))
    w.schedule_dropouts(rows)
    return rows


def classroom_rates(p: dict[str, Any]) -> np.ndarray:
    """(3, 4) classroom skill rates of programmes 1.0, 2.0, 3.0."""
    return np.array([p["teach_rate_1_0"], p["teach_rate_2_0"], p["teach_rate_3_0"]],
                    dtype=np.float32)
