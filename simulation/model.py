"""EcosystemModel: the Mesa model of an industry-university-government innovation ecosystem.

The model is an orchestrator. It takes resolved parameters (or resolves keyword arguments once),
builds the world, owns the run's random streams (one per purpose and month, rng.py), and each
month calls the nine mechanisms of the ODD in a fixed order, then records the indicators in a
Mesa DataCollector:

    policy -> teaching -> research -> collaboration -> innovation -> digital
           -> labour_market -> firm_dynamics -> accounting

Example::

    from simulation import EcosystemModel
    model = EcosystemModel(rng=7, n_firms=500, share_edu_3_0=0.5)
    model.run()                       # horizon_months steps
    EcosystemModel(rng=7, parameters=load("model_3_0").parameters)  # a scenario's, as is
    df = model.datacollector.get_model_vars_dataframe()
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import mesa
import numpy as np
import pandas as pd

from . import indicators as indicators_module
from .agents import GovernmentAgent, UniversityAgent, firm_view, student_view
from .budget import check_memory
from .mechanisms import ORDER
from .mechanisms.teaching import current_skills
from .parameters import LEVERS, PROGRAMMES, SKILLS, ParameterError, RunParameters, resolve
from .rng import root_sequence
from .state import GRADUATE_STARTUP, ORIGIN_NAMES, SPINOFF, STATUS_NAMES
from .world import build_world


def _read_indicator(model: EcosystemModel, name: str) -> float:
    return model._current[name]


class IndicatorCollector(mesa.DataCollector):
    """Mesa's DataCollector with one reporter per indicator, fed the month's indicators
    directly: every indicator is a float computed once a month (indicators.compute), so the
    per-reporter call and deep copy of ``DataCollector.collect`` are not needed."""

    def collect(self, model: EcosystemModel) -> None:
        if hasattr(self, "_collection_steps"):
            self._collection_steps.append(model.time)
        current = model._current
        for name, column in self.model_vars.items():
            column.append(current[name])


class EcosystemModel(mesa.Model):
    """An innovation ecosystem of universities, a government, firms and students.

    Parameters
    ----------
    rng : int, numpy SeedSequence or Generator, or None
        Seed of the run. Every mechanism draws from its own child stream of one SeedSequence.
    parameters : Parameters or mapping, optional
        The run's parameters: a ``simulation.parameters.Parameters`` (from ``resolve`` or a
        scenario) is used as it is; a mapping is resolved over the defaults.
    **overrides
        Any parameter of ``simulation.parameters.PARAMETERS`` by name, on top of
        ``parameters``; unknown names, wrong types and values outside the valid range raise
        ``ParameterError``.

    Attributes
    ----------
    parameters : Parameters
        The resolved parameters of the run (read-only). Only ``change_lever`` replaces them
        mid-run, by a copy whose timeline holds the change, so that they always replay the run.
    lever_changes : list of (month, lever, value)
        The changes ``change_lever`` made mid-run, in the order they were made.
    levers : dict
        The levers the policy timeline has changed so far, at their current values.
    world : World
        All state: firms and students as arrays, universities, projects, government books;
        ``world.p`` reads the current levers, else ``parameters``.
    datacollector : mesa.DataCollector
        One column per indicator of ``simulation.indicators.INDICATORS``, one row per month
        (row 0 is the initial state).
    """

    def __init__(self, rng: Any = None, parameters: Mapping[str, Any] | None = None,
                 **overrides: Any) -> None:
        # A Parameters object is used as it is (resolved and checked once, upstream).
        params = resolve(parameters, **overrides)
        check_memory(params)  # a region that cannot fit is refused before it is allocated
        # Changes scheduled for month 0 are part of the initial state (e.g. the intake mix):
        # lever state of the run, like every later change; the parameters stay as resolved.
        levers = {lever: value for month, lever, value in params["timeline"] if month == 0}
        self.seed_sequence = root_sequence(rng)
        super().__init__(rng=int(self.seed_sequence.generate_state(1, np.uint64)[0]))
        self.parameters = params
        self.world = w = build_world(RunParameters(params, levers), self.seed_sequence)

        self.universities = [UniversityAgent(self, i) for i in range(w.unis.count)]
        self.government = GovernmentAgent(self)
        self.datacollector = IndicatorCollector(model_reporters={
            name: partial(_read_indicator, name=name) for name in indicators_module.INDICATORS})
        self._current = indicators_module.compute(w)
        self.datacollector.collect(self)
        self.running = True
        self.lever_changes: list[tuple[int, str, Any]] = []

    # --- simulation ------------------------------------------------------------------------
    def step(self) -> None:
        """Advance one month: the nine mechanisms in order, then the indicators."""
        w = self.world
        w.begin_month()
        for mechanism in ORDER:
            mechanism.apply(w)
        self._current = indicators_module.compute(w)
        self.datacollector.collect(self)
        if w.month >= self.parameters["horizon_months"]:
            self.running = False

    def run(self, months: int | None = None) -> EcosystemModel:
        """Step ``months`` times (default: to the horizon). Returns the model."""
        n = self.parameters["horizon_months"] - self.world.month if months is None else months
        for _ in range(max(int(n), 0)):
            self.step()
        return self

    def change_lever(self, name: str, value: Any) -> tuple[int, str, Any]:
        """Change a policy lever while the run is under way, from the next month on.

        The change is a timeline event (next month, lever, value), checked as a scenario's
        event is: the lever must be one of ``parameters.LEVERS``, the value in its valid range,
        and every state the timeline then passes through must satisfy the joint constraints
        (budget shares summing to 1, say). It is added to the timeline after the events already
        scheduled for that month, so it has the last word there, as a scenario file that
        extends this run's scenario and lists it would; ``parameters`` then replay this run
        (``EcosystemModel(rng=seed, parameters=model.parameters)`` gives the same months).
        Returns the event; raises ParameterError (nothing changed) when it is refused.
        """
        if name not in LEVERS:
            raise ParameterError(name, f"{name!r} is not a policy lever (one of "
                                       f"{', '.join(LEVERS)})")
        month = self.world.month + 1
        horizon = int(self.parameters["horizon_months"])
        if month > horizon:
            raise ParameterError(name, f"the run is at its horizon ({horizon} months): "
                                       "no month left to change it in")
        # Parameters.replace checks the value, the joint constraints and the timeline's
        # states; its sort by month is stable, so the new event stays last in its month.
        timeline = (*self.parameters["timeline"], (month, name, value))
        params = self.parameters.replace(timeline=timeline)
        event = next(ev for ev in reversed(params["timeline"]) if ev[0] == month)
        self.parameters = params
        self.world.p.parameters = params  # what the policy mechanism reads next month
        self.lever_changes.append(event)
        return event

    # --- inspection --------------------------------------------------------------------------
    @property
    def month(self) -> int:
        return self.world.month

    @property
    def levers(self) -> dict[str, Any]:
        """The levers the timeline has changed so far, at their current values (a copy);
        ``parameters`` are the values the run started from."""
        return dict(self.world.p.levers)

    def indicators(self) -> dict[str, float]:
        """The current value of every indicator (see simulation.indicators.INDICATORS)."""
        return dict(self._current)

    def indicator_values(self) -> tuple[list[str], np.ndarray]:
        """The indicators' names and values: one row per indicator (in the DataCollector's
        order, ``month`` among them), one column per month recorded (0..month), as floats."""
        # Every indicator is a float, so one 2-D array is much faster than Mesa's
        # dict-of-lists conversion (it matters per run in large batches).
        columns = self.datacollector.model_vars
        return list(columns), np.array(list(columns.values()), dtype=float)

    def dataframe(self) -> pd.DataFrame:
        """The DataCollector's indicator table, indexed by month."""
        names, values = self.indicator_values()
        df = pd.DataFrame(values.T, columns=names)
        df.index = df["month"].astype(int)
        df.index.name = "step"
        return df

    def firm(self, i: int) -> dict[str, Any]:
        """A read-only view of firm row ``i``."""
        return firm_view(self, i)

    def student(self, i: int) -> dict[str, Any]:
        """A read-only view of student row ``i``."""
        return student_view(self, i)

    def firm_table(self) -> pd.DataFrame:
        """One row per firm ever alive in the run."""
        f, n = self.world.firms, self.world.firms.n
        return pd.DataFrame({
            "firm_id": np.arange(n),
            "alive": f.alive[:n].copy(),
            "employees": f.employees[:n].copy(),
            "value_added": f.value_added(slice(0, n), self.parameters["graduate_premium"]),
            "productivity": f.productivity[:n].copy(),
            "cash": f.cash[:n].copy(),
            "age": self.world.month - f.birth_step[:n],
            "birth_step": f.birth_step[:n].copy(),
            "exit_step": f.exit_step[:n].copy(),
            "is_startup": (f.origin[:n] == GRADUATE_STARTUP) | (f.origin[:n] == SPINOFF),
            "origin": pd.Categorical.from_codes(f.origin[:n], ORIGIN_NAMES),
            "founder_university": f.founder_university[:n].copy(),
            "rd_intensity": f.rd_intensity[:n].copy(),
            "absorptive": f.absorptive[:n].copy(),
            "digital_maturity": f.digital[:n].copy(),
            "platform_member": f.platform_member[:n].copy(),
            "graduate_employees": f.grad_employees[:n].copy(),
            "innovations": f.innovations[:n].copy(),
            "patents": f.patents[:n].copy(),
            "projects": f.partners[:n].copy(),
            "last_innovation_month": f.last_innovation[:n].copy(),
            "last_project_month": f.last_project[:n].copy(),
        })

    def student_table(self) -> pd.DataFrame:
        """One row per student ever admitted (alumni included)."""
        s, n = self.world.students, self.world.students.n
        table = {
            "student_id": np.arange(n),
            # The table stores narrow integers (state.Students); the output keeps its types.
            "university": s.university[:n].astype(np.int16),
            "programme": pd.Categorical.from_codes(s.programme[:n], PROGRAMMES),
            "year": s.year[:n].copy(),
            "status": pd.Categorical.from_codes(s.status[:n], STATUS_NAMES),
        }
        skills = current_skills(self.world, slice(0, n))
        for j, name in enumerate(SKILLS):
            table[f"skill_{name}"] = skills[:, j]
        table.update({
            "interest": s.interest[:n].copy(),
            "employer": s.employer[:n].copy(),
            "startup": s.startup[:n].copy(),
            "intake_month": s.intake_step[:n].astype(np.int32),
            "graduation_month": s.grad_step[:n].astype(np.int32),
        })
        return pd.DataFrame(table)
