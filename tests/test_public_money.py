"""Public money on the receiving side: what firms, universities, students and the platform
receive equals what the government books as spent, every month, for every instrument.

The government's own books (released = spent + balance + returned) are checked in
test_invariants.py; that cannot see money booked as spent that nobody receives, money paid
out beyond what was booked, or a firm charged the full project cost while the grant is also
booked. Here each mechanism is observed on its own: the model's mechanisms are wrapped so that
the books and the receivers' fields are read before and after each one, in the order the model
calls them. Receivers:

- incubator support: incubated start-ups' cash and public money, and the incubator's running
  cost (policy);
- matching grants: project firms' public money, and their cash pays the rest of the project
  cost; the broker's office, its running cost per active brokered project (collaboration);
- platform investment: the platform's running cost, the joining subsidy in the joiners' public
  money (their cash pays the rest of the joining cost), and the rest as investment per living
  firm (digital);
- retention subsidy: graduates' public money, and its administration, a share
  ``retention_admin_share`` of the payments (labour market);
- block and research grants: universities' funding; R&D subsidies: firms' subsidy
  (accounting).

The scenarios make every pot bind (more demand than money), so an instrument that pays what is
due instead of what the pot holds is caught.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from simulation import EcosystemModel
from simulation import mechanisms as mech
from simulation.parameters import INSTRUMENTS
from simulation.state import EMPLOYED, UNEMPLOYED

IDX = {name: i for i, name in enumerate(INSTRUMENTS)}
TOL = dict(rel=1e-9, abs=1e-12)

BASE = dict(n_universities=2, n_firms=300, intake_per_university=300, horizon_months=26,
            share_edu_2_0=0.3, share_edu_3_0=0.4, platform_on=True, platform_launch_month=3,
            search_rate=0.2)
# Pots too small for the demand on them: matching grants (high rate, many projects), incubator
# support and the retention subsidy (large payments per head), so each pays pro rata.
TIGHT = dict(BASE, matching_rate=0.9, incubator_support=2.0, retention_subsidy=1.0,
             budget_share_block_grants=0.30, budget_share_research_grants=0.20,
             budget_share_rd_subsidies=0.20, budget_share_matching_grants=0.02,
             budget_share_incubator_support=0.02, budget_share_platform_investment=0.06,
             budget_share_retention_subsidy=0.20, gov_budget=60.0)
SCENARIOS = {"defaults": BASE, "tight pots": TIGHT,
             # Nobody leaves: the covered graduates who stay are as many as the pot was sized
             # for, give or take chance, so about every other June the payment is capped.
             # (and a short incubation, so that start-ups reach its last month in the run)
             "tight, all stay": dict(TIGHT, leave_with_offer=0.0, leave_without_offer=0.0,
                                     incubation_months=6, spinoff_rate=0.5),
             "siloed": dict(BASE, siloed=True),
             "carry over": dict(TIGHT, unspent_policy="carry_over")}
SEEDS = (2, 5, 13)


@dataclass
class Books:
    spent: np.ndarray
    firm_cash: float
    firm_public: float
    firm_subsidy: float
    uni_funding: float
    student_public: float
    active_projects: int
    living_firms: int
    public_rows: np.ndarray
    in_incubation: np.ndarray  # rows that are alive, incubated and within incubation_months
    costs: dict[str, float]  # the government's own running costs, counted so far this month


# Public money whose receiver is a running cost, not an agent's field.
COSTS = ("incubator_running_cost", "brokerage_running_cost", "platform_running_cost",
         "platform_join_subsidy", "retention_admin", "platform_joins")


def books(w) -> Books:
    f, st = w.firms, w.students
    return Books(spent=w.gov.spent.copy(), firm_cash=float(f.cash[: f.n].sum()),
                 firm_public=float(f.public_money[: f.n].sum()),
                 firm_subsidy=float(f.subsidy[: f.n].sum()),
                 uni_funding=float(w.unis.funding.sum()),
                 student_public=float(st.public_money[: st.n].sum()),
                 active_projects=len(w.projects.active_rows()),
                 living_firms=int(f.alive[: f.n].sum()),
                 public_rows=f.public_money[: f.n].copy(),
                 in_incubation=np.flatnonzero(
                     f.alive[: f.n] & f.incubated[: f.n]
                     & (w.month - f.birth_step[: f.n] <= w.p["incubation_months"])),
                 costs={k: float(w.scratch.flows.get(k, 0.0)) for k in COSTS})


def counted(before: Books, after: Books, key: str) -> float:
    return after.costs[key] - before.costs[key]


@pytest.fixture
def observed(monkeypatch):
    """Wrap every mechanism: log[(month, name)] = (books before, books after, world)."""
    log: dict[tuple[int, str], tuple[Books, Books]] = {}
    for module in mech.ORDER:
        original = module.apply
        name = module.__name__.rsplit(".", 1)[-1]

        def wrapped(w, original=original, name=name):
            before = books(w)
            original(w)
            log[(w.month, name)] = (before, books(w))

        monkeypatch.setattr(module, "apply", wrapped)
    return log


def spent_by(before: Books, after: Books) -> dict[str, float]:
    return {name: float(after.spent[i] - before.spent[i]) for name, i in IDX.items()}


def only(spent: dict[str, float], allowed: set[str], where: str) -> None:
    """Each instrument is paid by one mechanism: spending anywhere else has no receiver."""
    stray = {k: v for k, v in spent.items() if k not in allowed and v != 0.0}
    assert not stray, f"{where}: spending outside the paying mechanism: {stray}"


def check_month(model: EcosystemModel, log: dict, month: int) -> dict[str, float]:
    """Checks one month; returns what was spent per instrument."""
    w, p = model.world, model.parameters
    total = dict.fromkeys(IDX, 0.0)
    for module in mech.ORDER:
        name = module.__name__.rsplit(".", 1)[-1]
        before, after = log[(month, name)]
        spent = spent_by(before, after)
        where = f"month {month}, {name}"
        for k, v in spent.items():
            total[k] += v
        if name == "policy":
            only(spent, {"incubator_support"}, where)
            # The incubator's running cost is paid first; start-ups receive the rest.
            got = spent["incubator_support"] - counted(before, after, "incubator_running_cost")
            assert counted(before, after, "incubator_running_cost") == pytest.approx(
                min(p["incubator_running_cost"] * len(before.in_incubation),
                    spent["incubator_support"]) if w.channel("incubation") else 0.0,
                **TOL), where
            # Only incubated start-ups still in their incubation period are paid, equally.
            paid_rows = np.flatnonzero(after.public_rows - before.public_rows > 0)
            if got > 0:
                np.testing.assert_array_equal(paid_rows, before.in_incubation, err_msg=where)
            else:
                assert len(paid_rows) == 0, where
            assert after.firm_cash - before.firm_cash == pytest.approx(got, **TOL), where
            assert after.firm_public - before.firm_public == pytest.approx(got, **TOL), where
        elif name == "collaboration":
            only(spent, {"matching_grants"}, where)
            # The broker's office is paid from the same pot, after the grants.
            office = counted(before, after, "brokerage_running_cost")
            assert 0.0 <= office <= p["broker_running_cost"] * after.active_projects * (
                1 + 1e-12), where
            grant = spent["matching_grants"] - office
            assert after.firm_public - before.firm_public == pytest.approx(grant, **TOL), where
            # Firms pay the running projects' cost less the grant: not the full cost too.
            cost = p["project_cost"] * after.active_projects
            assert before.firm_cash - after.firm_cash == pytest.approx(cost - grant, **TOL), (
                f"{where}: firms paid {before.firm_cash - after.firm_cash}, projects cost "
                f"{cost}, grant {grant}")
            top = max(p["matching_rate"], p["social_cofunding_rate"])
            assert grant <= top * cost * (1 + 1e-12) + 1e-15, where
        elif name == "digital":
            only(spent, {"platform_investment"}, where)
            running = counted(before, after, "platform_running_cost")
            join = counted(before, after, "platform_join_subsidy")
            joins = counted(before, after, "platform_joins")
            per_firm = w.scratch.flows["platform_investment_per_firm"]  # this month's
            assert per_firm * max(before.living_firms, 1) / 12.0 + running + join == (
                pytest.approx(spent["platform_investment"], **TOL)), where
            # Joiners receive the subsidy and pay the rest of the joining cost themselves.
            assert after.firm_public - before.firm_public == pytest.approx(join, **TOL), where
            assert before.firm_cash - after.firm_cash == pytest.approx(
                p["platform_join_cost"] * joins - join, **TOL), where
            assert join <= p["platform_join_cost"] * p["platform_join_subsidy"] * joins * (
                1 + 1e-12) + 1e-15, where
            if w.platform_live():
                assert running == pytest.approx(min(
                    p["platform_running_cost"],
                    p["gov_budget"] * p["budget_share_platform_investment"] / 12.0), **TOL)
            else:
                assert spent["platform_investment"] == 0.0, where
        elif name == "labour_market":
            only(spent, {"retention_subsidy"}, where)
            received = after.student_public - before.student_public
            admin = counted(before, after, "retention_admin")
            assert admin == pytest.approx(p["retention_admin_share"] * received, **TOL), where
            assert received + admin == pytest.approx(spent["retention_subsidy"], **TOL), where
        elif name == "accounting":
            only(spent, {"block_grants", "research_grants", "rd_subsidies"}, where)
            assert after.uni_funding == pytest.approx(
                spent["block_grants"] + spent["research_grants"], **TOL), where
            assert after.firm_subsidy == pytest.approx(spent["rd_subsidies"], **TOL), where
        else:
            only(spent, set(), where)
    # The month's books as the indicators report them.
    ind = model.indicators()
    for k, v in total.items():
        assert ind[f"spend_{k}"] == pytest.approx(v, **TOL), (month, k)
    return total


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_instrument_reaches_its_receivers_every_month(observed, scenario, seed):
    model = EcosystemModel(rng=seed, **SCENARIOS[scenario])
    spent = dict.fromkeys(IDX, 0.0)
    for _ in range(model.parameters["horizon_months"]):
        model.step()
        for k, v in check_month(model, observed, model.world.month).items():
            spent[k] += v
    # Whatever was spent on the receivers is all the government booked as spent.
    np.testing.assert_allclose([spent[k] for k in INSTRUMENTS], model.world.gov.spent,
                               rtol=1e-9, atol=1e-12)
    assert sum(spent.values()) > 0


def test_the_tight_scenario_exercises_every_instrument_and_binds_the_pots():
    """Guards the test above: in the tight scenario every instrument pays something, and the
    demand-driven pots run dry and pay less than is due at some point."""
    model = EcosystemModel(rng=SEEDS[0], **TIGHT)
    w, p = model.world, model.parameters
    short = {"matching_grants": False, "incubator_support": False}
    for _ in range(p["horizon_months"]):
        model.step()
        pr = w.projects
        act = pr.active_rows()
        funded_due = p["matching_rate"] * p["project_cost"] * pr.gov_funded[act].sum()
        ind = model.indicators()
        if ind["spend_matching_grants"] < funded_due * (1 - 1e-6):
            short["matching_grants"] = True
        incubator_due = p["incubator_support"] * w.scratch.flows.get("incubated_firms", 0.0)
        if 0 < ind["spend_incubator_support"] < incubator_due * (1 - 1e-6):
            short["incubator_support"] = True
    assert all(short.values()), short
    df = model.dataframe()
    for name in INSTRUMENTS:
        assert df[f"spend_{name}"].sum() > 0, name
    # The retention pot covers some graduates who stay and seek work, not all of them.
    st = w.students
    stayed = (st.grad_step[: st.n] >= 0) & np.isin(st.status[: st.n], (EMPLOYED, UNEMPLOYED))
    paid = st.public_money[: st.n] > 0
    assert (stayed & paid).any() and (stayed & ~paid).any()
    assert not (paid & ~(st.grad_step[: st.n] >= 0)).any()  # only graduates are paid


@pytest.mark.parametrize("seed", SEEDS)
def test_net_fiscal_position_is_tax_collected_less_money_spent(seed):
    model = EcosystemModel(rng=seed, **TIGHT).run()
    df = model.dataframe()
    np.testing.assert_allclose(df["tax_revenue"], model.parameters["tax_rate"] * df["value_added"]
                               * (df.index > 0), rtol=1e-12)
    np.testing.assert_allclose(df["gov_net_fiscal"],
                               (df["tax_revenue"] - df["spend_total"]).cumsum(), rtol=1e-9,
                               atol=1e-9)


@pytest.mark.parametrize("seed", range(10))
def test_graduates_never_receive_more_retention_money_than_the_pot_paid(seed):
    """At the first June the pot covers about as many graduates as it was sized for, give or
    take chance: the chance must not pay graduates money the pot did not have."""
    # Small payments: the pot covers hundreds of graduates, about as many as it can pay.
    model = EcosystemModel(rng=seed, **dict(SCENARIOS["tight, all stay"], retention_subsidy=0.02))
    model.run(10)  # month 10 is the first June
    w, p = model.world, model.parameters
    st = w.students
    received = float(st.public_money[: st.n].sum())
    assert received > 0
    paid = w.gov.spent[IDX["retention_subsidy"]]
    assert received * (1.0 + p["retention_admin_share"]) == pytest.approx(paid, **TOL)
