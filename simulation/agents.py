"""Mesa agents for the institutional actors, as views onto the model's arrays.

Universities and the government are few, so each is a ``mesa.Agent`` (they appear in
``model.agents`` and can be inspected one by one). Their state lives in the world's arrays,
which the mechanisms update in bulk; an agent's properties read and write its row. Firms and
students are array rows for speed; ``model.firm(i)`` and ``model.student(i)`` build a read-only
view of one on demand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from .parameters import INSTRUMENTS, PROGRAMMES, SKILLS
from .state import ORIGIN_NAMES, STATUS_NAMES

if TYPE_CHECKING:
    from .model import EcosystemModel


class UniversityAgent(mesa.Agent):
    """One university: faculty, knowledge, intake mix, publications, reputation, incubator."""

    def __init__(self, model: EcosystemModel, index: int) -> None:
        super().__init__(model)
        self.index = index

    @property
    def knowledge(self) -> np.ndarray:
        return self.model.world.unis.knowledge[self.index]

    @property
    def faculty(self) -> float:
        return float(self.model.world.unis.faculty[self.index])

    @property
    def education_mix(self) -> dict[str, float]:
        mix = self.model.world.unis.mix[self.index]
        return dict(zip(PROGRAMMES, (float(x) for x in mix), strict=True))

    @property
    def publications(self) -> float:
        return float(self.model.world.unis.publications[self.index])

    @property
    def reputation(self) -> float:
        return float(self.model.world.unis.reputation[self.index])

    @property
    def runs_platform(self) -> bool:
        return self.model.world.platform_live()

    @property
    def active_projects(self) -> int:
        pr = self.model.world.projects
        act = pr.active_rows()
        return int((pr.university[act] == self.index).sum())


class GovernmentAgent(mesa.Agent):
    """The regional government: instrument budgets, spending, tax."""

    @property
    def balances(self) -> dict[str, float]:
        return dict(zip(INSTRUMENTS, (float(x) for x in self.model.world.gov.balance),
                        strict=True))

    @property
    def spent(self) -> dict[str, float]:
        return dict(zip(INSTRUMENTS, (float(x) for x in self.model.world.gov.spent),
                        strict=True))

    @property
    def tax_collected(self) -> float:
        return self.model.world.gov.tax_total


def firm_view(model: EcosystemModel, i: int) -> dict[str, Any]:
    f = model.world.firms
    if not 0 <= i < f.n:
        raise IndexError(f"firm {i} does not exist (0..{f.n - 1})")
    return {
        "firm_id": i, "alive": bool(f.alive[i]), "employees": int(f.employees[i]),
        "value_added": float(f.value_added(np.array([i]), model.parameters["graduate_premium"])[0]),
        "productivity": float(f.productivity[i]), "cash": float(f.cash[i]),
        "rd_intensity": float(f.rd_intensity[i]), "absorptive": float(f.absorptive[i]),
        "digital_maturity": float(f.digital[i]), "knowledge": f.knowledge[i].copy(),
        "age": int(model.world.month - f.birth_step[i]), "origin": ORIGIN_NAMES[f.origin[i]],
        "founder_university": int(f.founder_university[i]), "innovations": int(f.innovations[i]),
        "patents": int(f.patents[i]), "platform_member": bool(f.platform_member[i]),
        "exit_step": int(f.exit_step[i]),
    }


def student_view(model: EcosystemModel, i: int) -> dict[str, Any]:
    from .mechanisms.teaching import current_skills

    s = model.world.students
    if not 0 <= i < s.n:
        raise IndexError(f"student {i} does not exist (0..{s.n - 1})")
    skills = current_skills(model.world, np.array([i]))[0]
    return {
        "student_id": i, "university": int(s.university[i]),
        "programme": PROGRAMMES[s.programme[i]], "year": int(s.year[i]),
        "status": STATUS_NAMES[s.status[i]],
        **{f"skill_{k}": float(v) for k, v in zip(SKILLS, skills, strict=True)},
        "interest": int(s.interest[i]), "employer": int(s.employer[i]),
        "startup": int(s.startup[i]), "graduation_month": int(s.grad_step[i]),
    }
