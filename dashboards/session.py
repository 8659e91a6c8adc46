"""One browser session's state: its scenario, lever settings, models and drawings.

Nothing here imports Solara: the page (app.py) holds one ``Session`` per browser session and
calls these methods from its buttons and its Play thread, and the tests call them directly.
Every mutation takes the session's lock, because Play steps from a thread while the page may
Reset or change a lever from another.
"""

from __future__ import annotations

import datetime as _dt
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from experiments.analysis import COMPONENTS
from experiments.formatting import format_number
from simulation.budget import check_memory, estimate, format_bytes
from simulation.model import EcosystemModel
from simulation.parameters import ParameterError, Parameters, resolve
from simulation.scenarios import Scenario, ScenarioError, library, load

from . import levers, svg
from .charts import (
    DIVIDEND_COLOUR,
    LIVE_INDICATORS,
    SCENARIO_COLOUR,
    SILOED_COLOUR,
    chart_unit,
)
from .network import network_view

if TYPE_CHECKING:
    from .compare import Comparison

DEFAULT_SCENARIO = "baseline"
DEFAULT_SEED = 1
# A live session holds three runs (Explore's, and one pair: the Dividend page's scenario and
# siloed runs or the Compare page's sides A and B, never both), each at most this large by
# simulation.budget.estimate, so one visitor holds at most about 3 x 64 MiB however the
# region-size levers are set; larger regions run from the command line. Library scenarios
# above it (metro: 100,000 firms) are left out of the picker.
MAX_LIVE_BYTES = 64 * 2**20
LIVE_SOURCE = (f"the cap of {format_bytes(MAX_LIVE_BYTES)} per run for live dashboard "
               "sessions; run larger regions with helixsim run")

Mix = tuple[tuple[float, float, float], ...]


def scenario_names() -> list[str]:
    """The library scenarios small enough to step live, by name."""
    return [sc.name for sc in library() if estimate(sc.parameters) <= MAX_LIVE_BYTES]


def live_limits() -> str:
    """The region sizes a live session can build, in words, for the text next to the levers."""
    base = resolve({})
    firms = students = 1
    for key, out in (("n_firms", "firms"), ("intake_per_university", "students")):
        lo, hi = 1, 10**7
        while lo < hi:  # the largest size that fits with every other size at its default
            mid = (lo + hi + 1) // 2
            if estimate({**base, key: mid}) <= MAX_LIVE_BYTES:
                lo = mid
            else:
                hi = mid - 1
        step = 10 ** max(len(str(lo)) - 2, 0)
        lo = lo // step * step  # two significant digits, rounded down: 22,121 -> 22,000
        if out == "firms":
            firms = lo
        else:
            students = lo
    return (f"Live sessions are capped at {format_bytes(MAX_LIVE_BYTES)} per run: with the "
            f"other sizes at their defaults, up to about {firms:,} firms or {students:,} "
            f"students a year per university. Larger regions: helixsim run.")


def scenario_mix(params: dict[str, Any]) -> Mix:
    """Each university's (1.0, 2.0, 3.0) intake shares as the model will use them."""
    if params[levers.EDU_MIX]:
        return tuple(tuple(float(x) for x in t) for t in params[levers.EDU_MIX])  # type: ignore
    s2, s3 = float(params["share_edu_2_0"]), float(params["share_edu_3_0"])
    return ((1.0 - s2 - s3, s2, s3),) * int(params["n_universities"])


def scenario_settings(sc: Scenario) -> dict[str, Any]:
    """The dashboard's lever values as the scenario sets them."""
    settings = {name: sc.parameters[name] for name in levers.LEVER_NAMES}
    settings[levers.EDU_MIX] = scenario_mix(sc.parameters)
    return settings


def model_kwargs(sc: Scenario, settings: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments of EcosystemModel: the scenario plus the levers moved away from it.

    Only changed levers are passed, so the scenario's own timeline and mix stay in force for
    everything the user did not touch. Raises ParameterError when the combination is invalid
    (e.g. budget shares that do not sum to 1).
    """
    changes = moved_levers(sc, settings)
    sc.parameters.replace(**changes)  # raises ParameterError
    return sc.model_kwargs(**changes)


def model_parameters(sc: Scenario, settings: dict[str, Any]) -> Parameters:
    """The models' parameters: the scenario's with the levers moved away from it, checked
    once here and passed to the models as they are. Raises ParameterError."""
    return sc.parameters.replace(**moved_levers(sc, settings))


def moved_levers(sc: Scenario, settings: dict[str, Any]) -> dict[str, Any]:
    """The levers of ``settings`` that differ from the scenario's own values."""
    base = scenario_settings(sc)
    changes = {k: v for k, v in settings.items() if k != levers.EDU_MIX and v != base[k]}
    if not _same_mix(settings[levers.EDU_MIX], base[levers.EDU_MIX]):
        changes[levers.EDU_MIX] = settings[levers.EDU_MIX]
    return changes


def _same_mix(a: Mix, b: Mix) -> bool:
    return len(a) == len(b) and bool(np.allclose(np.asarray(a), np.asarray(b), atol=1e-9))


def lever_changes(sc: Scenario, settings: dict[str, Any]) -> dict[str, Any]:
    """What the levers change relative to the scenario's own parameters."""
    kwargs = model_kwargs(sc, settings)
    return {k: v for k, v in kwargs.items() if k not in sc.overrides or sc.overrides[k] != v}


# Policy events on the charts' time axis (svg.Panel marks): the scenario's timeline, and
# levers changed mid-run (the Compare page).
SCHEDULED_COLOUR, MIDRUN_COLOUR = "#9467bd", "#d62728"


def value_text(value: Any) -> str:
    """A lever's value in a label: on/off, numbers for people."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (int, float)):
        return format_number(value, 4)
    return str(value)


def event_marks(events: Iterable[tuple[int, str, bool]]) -> list[tuple[float, str, str]]:
    """(month, colour, tooltip) of each month after the initial state with policy events,
    from (month, text, changed mid-run) triples; red when one of them was changed mid-run."""
    by_month: dict[int, list[str]] = {}
    midrun: set[int] = set()
    for month, text, mid in events:
        if month > 0:
            by_month.setdefault(month, []).append(text)
            if mid:
                midrun.add(month)
    return [(float(m), MIDRUN_COLOUR if m in midrun else SCHEDULED_COLOUR,
             f"month {m}: " + "; ".join(texts)) for m, texts in sorted(by_month.items())]


def timeline_marks(parameters: Parameters) -> list[tuple[float, str, str]]:
    """The marks of a run's scheduled timeline."""
    return event_marks((m, f"{lever} = {value_text(v)} (scenario timeline)", False)
                       for m, lever, v in parameters["timeline"])


class Run:
    """One model stepped live, with its per-month table cached per month."""

    def __init__(self, parameters: Parameters, seed: int) -> None:
        self.seed = seed
        self.parameters = parameters
        # Refused before anything is allocated when the region is above the live cap.
        check_memory(parameters, budget=MAX_LIVE_BYTES, source=LIVE_SOURCE)
        self.model = EcosystemModel(rng=seed, parameters=parameters)
        self._table: tuple[int, pd.DataFrame] | None = None

    @property
    def month(self) -> int:
        return self.model.month

    @property
    def horizon(self) -> int:
        return int(self.model.parameters["horizon_months"])

    @property
    def done(self) -> bool:
        return self.month >= self.horizon

    def step(self, n: int = 1) -> int:
        """Step up to ``n`` months (not past the horizon); returns the months stepped."""
        k = max(0, min(n, self.horizon - self.month))
        for _ in range(k):
            self.model.step()
        return k

    def table(self) -> pd.DataFrame:
        if self._table is None or self._table[0] != self.month:
            self._table = (self.month, self.model.dataframe())
        return self._table[1]


class Explorer(Run):
    """The Explore page's run: after every step it redraws its charts and network (SVG)."""

    def __init__(self, parameters: Parameters, seed: int) -> None:
        super().__init__(parameters, seed)
        self.redraw()

    def step(self, n: int = 1) -> int:
        k = super().step(n)
        if k:
            self.redraw()
        return k

    def redraw(self) -> None:
        df = self.table()
        months = df["month"].to_numpy()
        marks = timeline_marks(self.model.parameters)
        panels = []
        for name, title in LIVE_INDICATORS:
            unit, scale = chart_unit(name)
            panels.append(svg.Panel(f"{title} ({unit})", [
                svg.Series(months, df[name].to_numpy() * scale, SCENARIO_COLOUR)], marks=marks))
        self.charts_svg = svg.panels_svg(panels, x_max=self.horizon)
        self.network_svg = svg.network_svg(network_view(self.model.world))


class DividendPair:
    """The scenario and its siloed counterfactual on the same seed, stepped together."""

    def __init__(self, parameters: Parameters, seed: int, label: str) -> None:
        self.label = label
        self.scenario = Run(parameters, seed)
        self.siloed = Run(parameters.replace(siloed=True), seed)
        self.redraw()

    @property
    def month(self) -> int:
        return self.scenario.month

    @property
    def done(self) -> bool:
        return self.scenario.done

    def step(self, n: int = 1) -> int:
        k = self.scenario.step(n)
        self.siloed.step(k)
        if k:
            self.redraw()
        return k

    def components(self) -> pd.DataFrame:
        """The dividend's components now: scenario, siloed and their difference."""
        a, b = self.scenario.model.indicators(), self.siloed.model.indicators()
        rows = [{"component": name, "helix": helix, "meaning": meaning, "scenario": a[name],
                 "siloed": b[name], "dividend": a[name] - b[name]}
                for name, helix, meaning in COMPONENTS]
        rows.append({"component": "synergy_S", "helix": "all", "meaning": "triple-helix "
                     "synergy S (millibits)", "scenario": a["synergy_S"],
                     "siloed": b["synergy_S"], "dividend": a["synergy_S"] - b["synergy_S"]})
        return pd.DataFrame(rows)

    def redraw(self) -> None:
        a, b = self.scenario.table(), self.siloed.table()
        x = a["month"].to_numpy()
        d = (a["welfare"] - b["welfare"]).to_numpy()
        marks = timeline_marks(self.scenario.model.parameters)
        self.charts_svg = svg.panels_svg([
            svg.Panel("Welfare W (MCU)", [
                svg.Series(x, a["welfare"].to_numpy(), SCENARIO_COLOUR, label=self.label),
                svg.Series(x, b["welfare"].to_numpy(), SILOED_COLOUR, True, "siloed")],
                marks=marks),
            svg.Panel("Dividend D = W - W(siloed) (MCU)",
                      [svg.Series(x, d, DIVIDEND_COLOUR, label="dividend")],
                      marks=marks),
            svg.Panel("Synergy S (millibits)", [
                svg.Series(x, a["synergy_S"].to_numpy(), SCENARIO_COLOUR, label=self.label),
                svg.Series(x, b["synergy_S"].to_numpy(), SILOED_COLOUR, True, "siloed")],
                marks=marks),
        ], x_max=self.scenario.horizon)


_NO_VALUE = object()


class Session:
    """Everything one browser session owns. Methods return an error text or None."""

    def __init__(self, scenario: str = DEFAULT_SCENARIO, seed: int = DEFAULT_SEED) -> None:
        self.lock = threading.RLock()
        self.seed = seed
        self.errors: dict[str, str] = {}   # lever -> why the typed value was refused
        self.message = ""                  # why the last Reset did not rebuild
        self.pair: DividendPair | None = None
        self.estimate: dict[str, Any] | None = None
        self.play_rate: dict[str, float] = {}  # months per second Play achieved, per page
        self._comparison: Comparison | None = None
        self.choose_scenario(scenario)

    # --- settings ----------------------------------------------------------------------------
    def choose_scenario(self, name: str) -> str | None:
        with self.lock:
            try:
                sc = load(name)
            except ScenarioError as err:
                return str(err)
            self.scenario = sc
            self.settings = scenario_settings(sc)
            self.errors.clear()
            self.pair = None
            self.estimate = None
            if self._comparison is not None:  # side A is the scenario; the rest starts again
                from .compare import SideSetup

                self._comparison.setups["A"] = SideSetup(sc.name)
                self._comparison.pair = None
            return self.reset()

    def set_lever(self, name: str, text: Any) -> str | None:
        """Take a typed lever value, or keep the old one and say why not."""
        with self.lock:
            try:
                value = levers.parse(name, text)
            except ParameterError as err:
                self.errors[name] = str(err)
                return str(err)
            self.errors.pop(name, None)
            self.settings[name] = value
            if name == "n_universities":
                default = scenario_mix(self.scenario.parameters)[0]
                self.settings[levers.EDU_MIX] = levers.resize_mix(
                    self.settings[levers.EDU_MIX], value, default)
            return None

    def set_share(self, university: int, programme: int, text: Any) -> str | None:
        key = f"{levers.EDU_MIX}[{university}][{programme}]"
        with self.lock:
            try:
                value = levers.parse_share(university, programme, text)
                self.settings[levers.EDU_MIX] = levers.set_share(
                    self.settings[levers.EDU_MIX], university, programme, value)
            except ParameterError as err:
                self.errors[key] = str(err)
                return str(err)
            self.errors.pop(key, None)
            return None

    def set_seed(self, text: Any) -> str | None:
        try:
            seed = int(str(text).strip())
            if seed < 0:
                raise ValueError
        except ValueError:
            self.errors["seed"] = f"seed: expected a whole number >= 0, got {str(text)[:40]!r}"
            return self.errors["seed"]
        self.errors.pop("seed", None)
        self.seed = seed
        return None

    def kwargs(self) -> dict[str, Any]:
        return model_kwargs(self.scenario, self.settings)

    def parameters(self) -> Parameters:
        return model_parameters(self.scenario, self.settings)

    # --- Explore ---------------------------------------------------------------------------
    def reset(self) -> str | None:
        """Rebuild the Explore run from the current settings; on bad settings keep the old run."""
        with self.lock:
            try:
                self.explorer = Explorer(self.parameters(), self.seed)
            except ParameterError as err:
                self.message = f"Not rebuilt: {err}"
                return self.message
            self.message = ""
            return None

    def step(self, n: int = 1) -> int:
        with self.lock:
            return self.explorer.step(n)

    # --- Dividend --------------------------------------------------------------------------
    def reset_pair(self) -> str | None:
        with self.lock:
            self._release_compare()
            try:
                self.pair = DividendPair(self.parameters(), self.seed, self.scenario.name)
            except ParameterError as err:
                self.message = f"Not rebuilt: {err}"
                return self.message
            self.estimate = None
            self.message = ""
            return None

    def ensure_pair(self) -> DividendPair:
        """The Dividend page's pair; built from the Explore run's settings when the levers
        have been moved to settings that cannot be built (the page says why)."""
        with self.lock:
            if self.pair is None:
                self._release_compare()
                try:
                    self.pair = DividendPair(self.parameters(), self.seed, self.scenario.name)
                except ParameterError as err:
                    self.message = f"Not rebuilt: {err}"
                    self.pair = DividendPair(self.explorer.parameters, self.explorer.seed,
                                             self.scenario.name)
            return self.pair

    def step_pair(self, n: int = 1) -> int:
        with self.lock:
            return self.ensure_pair().step(n)

    # --- Compare -----------------------------------------------------------------------------
    def _release_compare(self) -> None:
        """Let the Compare page's runs go (one pair per session: the memory cap)."""
        if self._comparison is not None:
            self._comparison.pair = None

    def comparison(self) -> Comparison:
        """The Compare page's set-ups, uploads and runs (runs built by ``ensure_compare``)."""
        from .compare import Comparison

        with self.lock:
            if self._comparison is None:
                self._comparison = Comparison(self.scenario.name)
            return self._comparison

    def shared_levers(self) -> dict[str, Any]:
        """The levers moved on Explore, which both Compare sides take."""
        return moved_levers(self.scenario, self.settings)

    def reset_compare(self) -> str | None:
        """Rebuild sides A and B at month 0 (the Dividend page's pair is let go)."""
        with self.lock:
            comparison = self.comparison()
            self.pair, self.estimate = None, None
            return comparison.build(self.shared_levers(), self.seed)

    def ensure_compare(self) -> Any:
        """The Compare page's pair, built when missing; None when it cannot be (the
        comparison's message says why)."""
        with self.lock:
            comparison = self.comparison()
            if comparison.pair is None:
                self.reset_compare()
            return comparison.pair

    def step_compare(self, n: int = 1) -> int:
        with self.lock:
            pair = self.ensure_compare()
            return pair.step(n) if pair is not None else 0

    def set_compare_scenario(self, side: str, key: str) -> str | None:
        from .compare import SideSetup

        with self.lock:
            comparison = self.comparison()
            before = comparison.setups[side]
            # A fresh set-up: the side's levers were moves from another scenario.
            comparison.setups[side] = SideSetup(key)
            message = self.reset_compare()
            if message:  # refused (a region above the live cap, say): the side stays as it was
                comparison.setups[side] = before
                comparison.message = message
            return message

    def change_compare_lever(self, side: str, name: str, text: Any) -> str | None:
        """A lever of one side: before the run (month 0) part of the side's set-up (both
        sides rebuilt); once it runs, a timeline event from the next month on."""
        with self.lock:
            comparison = self.comparison()
            try:
                value = levers.parse(name, text)
                pair = self.ensure_compare()
                if pair is not None and pair.month > 0:
                    pair.change_lever(side, name, value)
                    return None
                changes = comparison.setups[side].changes
                old = changes.get(name, _NO_VALUE)
                changes[name] = value
                message = self.reset_compare()
                if message:  # refused (budget shares not summing to 1, say): keep the old
                    changes.pop(name) if old is _NO_VALUE else changes.update({name: old})
                    comparison.message = message
                return message
            except ParameterError as err:
                return f"{side}: {err}"

    def set_compare_sides(self, sides: dict[str, tuple[str, dict[str, Any]]]) -> list[str]:
        """Both Compare set-ups at once (a shared address): per side, its scenario key and its
        own levers as typed. Each lever is checked as the page's field checks it
        (``levers.parse``), then the side as a whole (``Comparison.parameters``: budget shares
        summing to 1, say); a refused lever is left out, a side refused whole keeps none of its
        levers. The runs are built when the page shows them. One line per refusal."""
        from .compare import CHANGEABLE, SideSetup

        errors: list[str] = []
        with self.lock:
            comparison = self.comparison()
            shared = self.shared_levers()
            for side, (key, texts) in sides.items():
                setup = SideSetup(key)
                for name, text in texts.items():
                    try:
                        if name not in CHANGEABLE:
                            raise ParameterError(name, "not a lever a side may change ("
                                                       + ", ".join(CHANGEABLE) + ")")
                        setup.changes[name] = levers.parse(name, text)
                    except ParameterError as err:
                        errors.append(f"side {side}: {err}")
                comparison.setups[side] = setup
                try:
                    comparison.parameters(side, shared)
                except (ParameterError, ScenarioError) as err:
                    errors.append(f"side {side}: {err}; its own levers were not applied")
                    setup.changes.clear()
            comparison.pair = None
            comparison.message = ""
        return errors

    def clear_compare_levers(self, side: str) -> str | None:
        with self.lock:
            self.comparison().setups[side].changes.clear()
            return self.reset_compare()

    def upload_scenario(self, name: str, size: int, read: Callable[[int], bytes]
                        ) -> str | None:
        """Take an uploaded scenario file as side B; the one-line error when it is invalid."""
        from .upload import MAX_UPLOADS, receive

        try:
            upload = receive(name, size, read)
        except ScenarioError as err:
            return str(err)
        with self.lock:
            comparison = self.comparison()
            in_use = {s.scenario for s in comparison.setups.values()}
            spare = [k for k in comparison.uploads if k not in in_use]
            while len(comparison.uploads) >= MAX_UPLOADS and spare:
                del comparison.uploads[spare.pop(0)]  # the oldest not on a side goes
            if len(comparison.uploads) >= MAX_UPLOADS:
                return f"{upload.file_name}: at most {MAX_UPLOADS} uploaded files per session"
            key = comparison.add_upload(upload)
        return self.set_compare_scenario("B", key)


def estimate_dividend(session: Session, *, seeds: int, out_root: Path,
                      progress: Callable[[int, int], None] | None = None,
                      workers: int | None = None, draws: int | None = None
                      ) -> dict[str, Any]:
    """The multi-seed dividend (with channel shares) of the session's scenario and levers.

    Runs ``helixsim dividend --attribution`` underneath (experiments.commands.dividend) into
    ``out_root/dashboard-dividend-<scenario>-<time>``, so the Results page can open it later.
    With ``draws``, ``helixsim dividend --uncertainty draws`` instead (no attribution): the
    levers are fixed and the priors' parameters drawn.
    """
    from experiments.commands import dividend

    with session.lock:
        sc = session.scenario
        changes = lever_changes(sc, session.settings)
        horizon = int(session.parameters()["horizon_months"])
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    out = out_root / f"dashboard-dividend-{sc.name}-{stamp}"
    return dividend(str(sc.path or sc.name), seeds=seeds, workers=workers, out=out,
                    months=horizon, attribution=draws is None, baseline=None,
                    progress=progress, changes=changes, draws=draws)
