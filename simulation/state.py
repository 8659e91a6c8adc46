"""Structure-of-arrays state of the populations: firms, students, universities, projects.

Firms and students are rows of numpy arrays, not Python objects: a row costs tens of bytes and
a vectorised update nanoseconds, where a Mesa agent per student costs about 700 bytes and a
microsecond per step (measured). Tables grow by doubling their capacity, so appending a
cohort or a batch of start-ups is amortised O(rows added).
"""

from __future__ import annotations

import mmap
import sys
from dataclasses import dataclass, field, fields

import numpy as np

# Student status codes: every admitted student holds exactly one.
ENROLLED, EMPLOYED, FOUNDER, LEFT, UNEMPLOYED, DROPPED_OUT = range(6)
STATUS_NAMES = ("enrolled", "employed", "founder", "left_region", "unemployed", "dropped_out")

# Firm origin codes.
INCUMBENT, ENTRANT, GRADUATE_STARTUP, SPINOFF = range(4)
ORIGIN_NAMES = ("incumbent", "entrant", "graduate_startup", "university_spinoff")


def grown_capacity(need: int, capacity: int) -> int:
    """A table's new capacity once ``need`` rows no longer fit in ``capacity``: doubled, so
    that appending is amortised O(rows added). (tests/test_kernel_bounds.py makes it
    ``need``, so that a kernel's index past the live rows is past its arrays' end.)"""
    return max(need, 2 * capacity, 16)


class Table:
    """Base class of a growable structure of arrays; subclasses declare array fields."""

    n: int

    def _arrays(self) -> tuple[str, ...]:
        # The column names, read once per class: dataclasses.fields costs microseconds a
        # call, and tables grow several times a month.
        names = _COLUMNS.get(type(self))
        if names is None:
            names = _COLUMNS[type(self)] = tuple(self._columns())
        return names

    def _columns(self) -> list[str]:
        return [f.name for f in fields(self) if f.name != "n"]

    @property
    def capacity(self) -> int:
        return len(getattr(self, self._arrays()[0]))

    def reserve(self, extra: int) -> slice:
        """Make room for ``extra`` more rows and return the slice they will occupy."""
        need = self.n + extra
        if need > self.capacity:
            new_cap = grown_capacity(need, self.capacity)
            for name in self._arrays():
                old = getattr(self, name)
                new = np.zeros((new_cap, *old.shape[1:]), dtype=old.dtype)
                new[: self.n] = old[: self.n]
                setattr(self, name, new)
        rows = slice(self.n, need)
        # Rows take their empty value when they are reserved, not when the capacity is
        # allocated: the spare rows stay untouched zero pages, which cost no memory.
        for name, fill in self._fills():
            getattr(self, name)[rows] = fill
        self.n = need
        return rows

    def _fills(self) -> tuple[tuple[str, int], ...]:
        # (column, empty value) of the columns whose empty value is not 0, read once per
        # class like _arrays: reserve runs a few times a month and the other columns need
        # nothing.
        fills = _FILLS.get(type(self))
        if fills is None:
            fills = _FILLS[type(self)] = tuple((name, _FILL[name]) for name in self._arrays()
                                               if name in _FILL)
        return fills


# Narrow columns of the student table, the largest table (one row per student ever admitted:
# 3.2 million rows in a 120-month metro region): a university index in int8 and the intake
# and graduation months in int16 save 5 of 96 bytes a row. ``check_fits`` refuses a region
# whose sizes would not fit them, before anything is allocated, instead of letting numpy wrap
# a value silently. (The dropout month stays int32: "never" is written as 2**30.)
UNIVERSITY_DTYPE = np.int8
MONTH_DTYPE = np.int16


def check_fits(p: dict) -> None:
    """Raise ``ParameterError`` (naming the key) when a region would overflow a narrow column:
    more universities than ``UNIVERSITY_DTYPE`` holds, or months (the horizon plus the
    years of study around it) beyond ``MONTH_DTYPE``."""
    from .parameters import ParameterError

    top = int(np.iinfo(UNIVERSITY_DTYPE).max) + 1
    if p["n_universities"] > top:
        raise ParameterError("n_universities", f"the student table holds at most {top} "
                             f"universities, got {p['n_universities']}")
    months = p["horizon_months"] + 12 * p["programme_years"]
    top = int(np.iinfo(MONTH_DTYPE).max)
    if months > top:
        raise ParameterError("horizon_months", f"the student table holds months up to "
                             f"{top}: horizon_months + 12 x programme_years = {months}")


# Column names of each table class (Table._arrays).
_COLUMNS: dict[type, tuple[str, ...]] = {}

# Fields whose empty value is not zero.
_FILLS: dict[type, tuple[tuple[str, int], ...]] = {}
_FILL = {"last_innovation": -1, "last_project": -1, "employer": -1, "startup": -1,
         "tie_firm": -1, "grad_step": -1, "exit_step": -1, "home_university": -1,
         "founder_university": -1}


def _empty(cap: int, *shape: int, dtype=np.float64) -> np.ndarray:
    """A column of ``cap`` rows of zeros. ``np.zeros`` maps fresh zero pages that count
    towards resident memory only once a row is written, so capacity reserved for later
    cohorts and entrants costs nothing until it is used (``Table.reserve`` writes the
    non-zero empty values of ``_FILL`` into the rows it hands out)."""
    return np.zeros((cap, *shape), dtype=dtype)


# Columns of the student table that only an enrolled student needs: the sync point and the
# aptitude of teaching's closed form, and the dropout month. Every enrolled student lies at or
# after ``Students.window_start``, so once the window has passed a row nothing reads these
# columns there again; they are 40 of the 89 bytes a row, and alumni are most of the rows
# (2.4 of 3.2 million at the end of a 120-month metro run). ``Students.move_window`` hands
# their pages back to the operating system, which keeps the table's resident memory
# proportional to enrolment for these columns instead of to every student ever admitted.
STUDY_COLUMNS = ("sync", "aptitude", "dropout_step")

# Pages of an anonymous private memory map can be handed back (madvise MADV_DONTNEED: on
# Linux they are freed at once and read as zeros again; elsewhere the call is only a hint).
# On other platforms study columns are ordinary arrays and nothing is handed back (the
# numbers are the same either way).
_CAN_RELEASE = (sys.platform.startswith("linux") and hasattr(mmap, "MAP_PRIVATE")
                and hasattr(mmap, "MADV_DONTNEED"))


def _releasable(cap: int, *shape: int, dtype=np.float64) -> np.ndarray:
    """Like ``_empty`` (zero pages, resident only once written), on a private anonymous
    memory map so that ``release_rows`` can return pages of rows no longer read."""
    nbytes = cap * int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    if not _CAN_RELEASE or nbytes == 0:
        return _empty(cap, *shape, dtype=dtype)
    buf = mmap.mmap(-1, nbytes, flags=mmap.MAP_PRIVATE)
    return np.frombuffer(buf, dtype=dtype).reshape(cap, *shape)


def _mapping(column: np.ndarray) -> mmap.mmap | None:
    # The memory map under a column made by _releasable (None for an ordinary array, e.g.
    # after Table.reserve has grown the table into fresh np.zeros columns).
    obj = column.base
    while isinstance(obj, np.ndarray):
        obj = obj.base
    if isinstance(obj, memoryview):
        obj = obj.obj
    return obj if isinstance(obj, mmap.mmap) else None


def release_rows(column: np.ndarray, stop: int) -> None:
    """Return to the operating system the memory pages that lie wholly inside rows
    ``[0, stop)`` of ``column``; those rows read as zeros afterwards (call only for rows that
    are never read again). A no-op for a column not made by ``_releasable``."""
    buf = _mapping(column)
    if buf is None:
        return
    row_bytes = column.strides[0]
    length = stop * row_bytes // mmap.PAGESIZE * mmap.PAGESIZE
    if length > 0:
        buf.madvise(mmap.MADV_DONTNEED, 0, length)


@dataclass
class Firms(Table):
    """One row per firm ever alive in the run (dead firms keep their row)."""

    n: int
    knowledge: np.ndarray        # (F, K) knowledge vector, >= 0
    size: np.ndarray             # latent size (employees, real-valued, for Gibrat growth)
    employees: np.ndarray        # int64, jobs
    productivity: np.ndarray     # MCU per employee per month
    cash: np.ndarray             # MCU
    rd_intensity: np.ndarray     # share of value added spent on R&D
    absorptive: np.ndarray       # [0, 1], a stock (firm_dynamics.absorb)
    knowledge_paid: np.ndarray   # knowledge level (L1) productivity last reflected
    digital: np.ndarray          # digital maturity [0, 1]
    birth_step: np.ndarray       # int32
    exit_step: np.ndarray        # int32, -1 while alive
    alive: np.ndarray            # bool
    origin: np.ndarray           # int8 origin code
    founder_university: np.ndarray  # int16, university of a spin-off / incubated start-up
    incubated: np.ndarray        # bool: start-up supported by a university incubator
    home_university: np.ndarray  # int16, nearest university (search reach without platform)
    platform_member: np.ndarray  # bool
    grad_employees: np.ndarray   # int64, graduates of the region's universities employed
    grad_skill: np.ndarray       # sum over employed graduates of their mean skill
    prior_grads: np.ndarray      # int64, graduates of years before month 0 (no alumni rows)
    prior_grad_skill: np.ndarray  # sum of their mean skills
    innovations: np.ndarray      # int64, cumulative
    patents: np.ndarray          # int64, cumulative
    partners: np.ndarray         # int64, university projects ever started
    last_innovation: np.ndarray  # int32 month of the latest innovation, -1 if none
    last_project: np.ndarray     # int32 latest month with an active university project, -1
    subsidy: np.ndarray          # MCU of R&D subsidy paid last month, spent on R&D this month
    public_money: np.ndarray     # MCU of any public money received this month
    trust: np.ndarray            # (F, U) trust toward each university, [0, 1]
    # bool: the row has gained trust toward some university. Trust starts at 0 and only a
    # success raises it, so every other row's trust is 0 and stays 0 under decay: the monthly
    # decay visits these rows alone (a few thousand of the metro region's 180,000). Code that
    # writes trust itself must set it for the rows it writes.
    trusted: np.ndarray
    # Employees diverted this month to university work (projects, capstones), not producing.
    diverted: np.ndarray

    def value_added(self, rows: np.ndarray | slice, graduate_premium: float) -> np.ndarray:
        """Monthly value added (MCU): productivity x effective labour.

        Effective labour counts each employee once plus ``graduate_premium`` x mean skill for
        each graduate employed: skilled graduates produce more (returns to tertiary education).
        Graduates of years before month 0 (``prior_grads``) count the same way.
        A firm that has exited produces nothing.
        """
        extra = graduate_premium * (self.grad_skill[rows] + self.prior_grad_skill[rows])
        labour = np.maximum(self.employees[rows] - self.diverted[rows], 0.0) + extra
        return self.productivity[rows] * labour * self.alive[rows]

    def graduates(self, rows: np.ndarray | slice) -> np.ndarray:
        """Graduates on the staff: alumni employed plus those of years before month 0."""
        return self.grad_employees[rows] + self.prior_grads[rows]

    def graduate_term(self, rows: np.ndarray | slice) -> np.ndarray:
        """Graduate share of employees x their mean skill: total graduate skill / employees."""
        return ((self.grad_skill[rows] + self.prior_grad_skill[rows])
                / np.maximum(self.employees[rows], 1))

    @classmethod
    def empty(cls, cap: int, k: int, n_universities: int) -> Firms:
        return cls(
            n=0,
            knowledge=_empty(cap, k), size=_empty(cap), employees=_empty(cap, dtype=np.int64),
            productivity=_empty(cap), cash=_empty(cap), rd_intensity=_empty(cap),
            absorptive=_empty(cap), knowledge_paid=_empty(cap), digital=_empty(cap),
            birth_step=_empty(cap, dtype=np.int32), exit_step=_empty(cap, dtype=np.int32),
            alive=_empty(cap, dtype=bool), origin=_empty(cap, dtype=np.int8),
            founder_university=_empty(cap, dtype=np.int16),
            incubated=_empty(cap, dtype=bool),
            home_university=_empty(cap, dtype=np.int16),
            platform_member=_empty(cap, dtype=bool),
            grad_employees=_empty(cap, dtype=np.int64), grad_skill=_empty(cap),
            prior_grads=_empty(cap, dtype=np.int64), prior_grad_skill=_empty(cap),
            innovations=_empty(cap, dtype=np.int64), patents=_empty(cap, dtype=np.int64),
            partners=_empty(cap, dtype=np.int64), subsidy=_empty(cap), public_money=_empty(cap),
            last_innovation=_empty(cap, dtype=np.int32),
            last_project=_empty(cap, dtype=np.int32),
            trust=_empty(cap, n_universities), trusted=_empty(cap, dtype=bool),
            diverted=_empty(cap),
        )


@dataclass
class Students(Table):
    """One row per student ever admitted; graduates stay as alumni rows.

    Rows are appended cohort by cohort, so every enrolled student lies at or after
    ``window_start``, the first row of the oldest cohort still enrolled: teaching touches only
    that window, which keeps the cost per step proportional to enrolment, not to all alumni.
    """

    n: int
    university: np.ndarray    # int8 (UNIVERSITY_DTYPE)
    programme: np.ndarray     # int8: 0 = 1.0, 1 = 2.0, 2 = 3.0
    code: np.ndarray          # int16: 3 * university + programme (row of the rate table)
    year: np.ndarray          # int8 year of study (1..programme_years), 0 after leaving study
    skills: np.ndarray        # (S, 4) float32 in [0, 1], as of the student's last sync
    sync: np.ndarray          # (S, 4) teaching exposure of the student's programme at that sync
    aptitude: np.ndarray      # float32 learning-rate multiplier
    interest: np.ndarray      # int8 domain of interest
    status: np.ndarray        # int8 status code
    employer: np.ndarray      # int32 firm row, -1
    startup: np.ndarray       # int32 firm row founded, -1
    tie_firm: np.ndarray      # int32 firm of the current internship / live project, -1
    intake_step: np.ndarray   # int16 month (MONTH_DTYPE)
    grad_step: np.ndarray     # int16 month, -1 before graduation
    dropout_step: np.ndarray  # int32: month the student would drop out if still enrolled
    public_money: np.ndarray  # MCU of retention subsidy received (the receiving side's books)
    window_start: int = 0
    # Students per status code, kept current by set_status so indicators need no full pass.
    status_counts: np.ndarray = field(default_factory=lambda: np.zeros(6, dtype=np.int64))

    @classmethod
    def empty(cls, cap: int) -> Students:
        return cls(
            n=0, university=_empty(cap, dtype=UNIVERSITY_DTYPE),
            programme=_empty(cap, dtype=np.int8),
            code=_empty(cap, dtype=np.int16),
            year=_empty(cap, dtype=np.int8), skills=_empty(cap, 4, dtype=np.float32),
            sync=_releasable(cap, 4),
            aptitude=_releasable(cap, dtype=np.float32), interest=_empty(cap, dtype=np.int8),
            status=_empty(cap, dtype=np.int8), employer=_empty(cap, dtype=np.int32),
            startup=_empty(cap, dtype=np.int32),
            tie_firm=_empty(cap, dtype=np.int32),
            intake_step=_empty(cap, dtype=MONTH_DTYPE), grad_step=_empty(cap, dtype=MONTH_DTYPE),
            dropout_step=_releasable(cap, dtype=np.int32), public_money=_empty(cap),
        )

    def _columns(self) -> list[str]:
        return [f.name for f in fields(self)
                if f.name not in ("n", "window_start", "status_counts")]

    def move_window(self, start: int) -> None:
        """The oldest cohort still enrolled now begins at row ``start``: the rows before it
        are alumni or dropouts for good, so their STUDY_COLUMNS are handed back."""
        self.window_start = start
        for name in STUDY_COLUMNS:
            release_rows(getattr(self, name), start)

    def set_status(self, rows: np.ndarray | slice, status: int, *, new: bool = False) -> None:
        """Give ``rows`` a new status (``new`` for rows just added, which had none)."""
        if not new:
            self.status_counts -= np.bincount(self.status[rows], minlength=6)
        self.status[rows] = status
        self.status_counts[status] += len(self.status[rows])


@dataclass
class Projects(Table):
    """One row per university-industry project ever started."""

    n: int
    firm: np.ndarray          # int32
    university: np.ndarray    # int16
    start_step: np.ndarray    # int32
    end_step: np.ndarray      # int32 (exclusive: active while step < end_step)
    brokered: np.ndarray      # bool: started by a 3.0 broker
    via_platform: np.ndarray  # bool: match found through the platform
    gov_funded: np.ndarray    # bool: co-funded by a matching grant (third helix)
    payoff: np.ndarray        # inverted-U payoff at formation, [0, 1]
    active: np.ndarray        # bool
    social: np.ndarray        # bool: a brokered project with a public or social partner
    failed: np.ndarray        # bool: abandoned early or ended without success

    @classmethod
    def empty(cls, cap: int) -> Projects:
        return cls(
            n=0, firm=_empty(cap, dtype=np.int32), university=_empty(cap, dtype=np.int16),
            start_step=_empty(cap, dtype=np.int32), end_step=_empty(cap, dtype=np.int32),
            brokered=_empty(cap, dtype=bool), via_platform=_empty(cap, dtype=bool),
            gov_funded=_empty(cap, dtype=bool), payoff=_empty(cap), active=_empty(cap, dtype=bool),
            social=_empty(cap, dtype=bool), failed=_empty(cap, dtype=bool),
        )

    def active_rows(self) -> np.ndarray:
        return np.flatnonzero(self.active[: self.n])


@dataclass
class Universities:
    """The few universities as small arrays (U rows); Mesa agents give per-university views."""

    knowledge: np.ndarray     # (U, K)
    faculty: np.ndarray       # (U,)
    intake: np.ndarray        # (U,) students per year
    mix: np.ndarray           # (U, 3) intake shares of 1.0 / 2.0 / 3.0
    publications: np.ndarray  # (U,) cumulative
    reputation: np.ndarray    # (U,) normalised publications per faculty, rolling
    funding: np.ndarray       # (U,) research money received this month (MCU)
    # (U,) share of ``funding`` that came from competitive research grants (accounting writes
    # it with ``funding``; research reads it next month to tally grant-funded papers).
    grant_share: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # Faculty time this month (research.faculty_time): FTE taken by industry engagement and
    # the shares of research and teaching time left, each in [0, 1].
    engaged_fte: np.ndarray = field(default_factory=lambda: np.zeros(0))
    research_time: np.ndarray = field(default_factory=lambda: np.zeros(0))
    teaching_time: np.ndarray = field(default_factory=lambda: np.zeros(0))
    # 2.0 capstone partnerships of the academic year: parallel arrays (firm row, university).
    capstone_firm: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    capstone_uni: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def count(self) -> int:
        return len(self.faculty)


@dataclass
class Tally:
    """Counts of joint outputs in the 8 cells of (university, industry, government) presence.

    Index = 4*u + 2*i + g. Feeds Leydesdorff's triple-helix indicator (synergy.py).
    """

    cells: np.ndarray = field(default_factory=lambda: np.zeros(8, dtype=np.int64))

    def add_counts(self, u: int, i: int, g: int, count: int) -> None:
        self.cells[4 * u + 2 * i + g] += int(count)


@dataclass
class MonthScratch:
    """Values one mechanism leaves for a later one, or for the indicators, within one month.

    ``World.begin_month`` replaces it with a fresh one at the start of every step, so nothing
    in it outlives its month: a value wanted next month belongs in the state, not here.
    """

    # Every mechanism adds (World.count) or sets a named flow of this month; the indicators
    # and the tests read them.
    flows: dict[str, float] = field(default_factory=dict)
    # (U,) share of each university's brokered live-project slots that 3.0 students fill:
    # teaching.engagement writes it, innovation reads it (None: not computed this month).
    live_fill: np.ndarray | None = None
    # (living firm rows, their value added in MCU, its total as numpy sums it): accounting
    # writes it, the indicators reuse it rather than compute it again (None before accounting
    # has run this month).
    value_added: tuple[np.ndarray, np.ndarray, float] | None = None
    # Rows of the start-ups in their incubation period this month: the policy mechanism's
    # incubator payments find them, the staff time of teaching's faculty_time reuses them (no
    # firm is founded, closed or incubated in between). None: not found yet this month.
    incubating: np.ndarray | None = None
