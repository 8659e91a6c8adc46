"""The dashboard's address: which page, and the scenario, seed and levers of the run shown.

``/dividend?scenario=model_3_0&seed=4&n_firms=250&mix=0.15:0.05,0.15:0.05`` opens the Dividend
page of a fresh session with that scenario, seed and levers, so a stakeholder can send exactly
what they see. Only the levers moved away from the scenario are written (the scenario's own
values and timeline do the rest); ``mix`` holds each university's 2.0 and 3.0 shares of the
intake (1.0 takes the rest).

The address is data from whoever sent the link. It is never evaluated: every value goes
through the same checks as the page's inputs (``Session.set_lever`` and ``set_share``, i.e.
``simulation.parameters.check_value``; ``Session.set_seed``), a scenario must be one of the
library's live scenarios by name (never a path), and anything refused is one line naming the
key, while the rest of the link still applies.

The Compare page's address adds its sides: ``a`` and ``b`` name each side's library scenario
when it is not the one above, and ``a.LEVER`` / ``b.LEVER`` each side's own levers, e.g.
``/compare?scenario=baseline&seed=1&b=model_3_0&b.matching_rate=0.9``. An uploaded file cannot
be in an address: a side that is an upload is left out (the page says so). Levers changed
mid-run are events of a run, not settings, and are not in the address either.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, quote

from simulation.parameters import ParameterError

from . import levers
from .compare import CHANGEABLE, SIDES
from .session import Session, scenario_mix

# The page of each tab, in the order of the tabs; "" is the first page at "/".
PAGES: tuple[tuple[str, str], ...] = (
    ("", "Explore"),
    ("dividend", "Dividend"),
    ("results", "Results"),
    ("policy-search", "Policy search"),
    ("compare", "Compare"),
)
MAX_QUERY = 2000          # characters of a query string read at most
MAX_FIELDS = 64           # key=value pairs read at most
MIX_KEY = "mix"
COMPARE = next(i for i, (name, _) in enumerate(PAGES) if name == "compare")
# The Compare sides: "a" / "b" (the side's scenario) and "a.LEVER" / "b.LEVER" (its levers).
SIDE_KEYS = tuple(side.lower() for side in SIDES)
KEYS = ("scenario", "seed", *levers.LEVER_NAMES, MIX_KEY, *SIDE_KEYS,
        *(f"{k}.{name}" for k in SIDE_KEYS for name in CHANGEABLE))


def page_index(path: str | None) -> int:
    """The tab a path opens: "/dividend" -> 1; the first page for "/" and unknown paths."""
    first = (path or "").strip("/").split("/")[0]
    return next((i for i, (name, _) in enumerate(PAGES) if name == first), 0)


def location(index: int, query: str) -> str:
    """The path and query of a page: ``location(1, "seed=2")`` -> "/dividend?seed=2"."""
    path = "/" + PAGES[index][0]
    return f"{path}?{query}" if query else path


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.12g}"
    return str(value)


def _mix_text(mix: Any) -> str:
    return ",".join(f"{_text(float(t[1]))}:{_text(float(t[2]))}" for t in mix)


def query(session: Session, compare: bool = False) -> str:
    """The query string of the run the session shows (its Explore run, as last built).

    Scenario and seed always, then the levers whose values differ from the scenario's, then
    the mix when it differs; with ``compare`` (the Compare page) then each side's scenario
    when it differs from the one above and each side's own levers, sides that are uploaded
    files left out.
    """
    with session.lock:
        sc, run = session.scenario, session.explorer
        pairs = [("scenario", sc.name), ("seed", str(run.seed))]
        for name in levers.LEVER_NAMES:
            value = run.parameters[name]
            if value != sc.parameters[name]:
                pairs.append((name, _text(value)))
        mix, base = scenario_mix(run.parameters), scenario_mix(sc.parameters)
        if len(mix) != len(base) or any(
                abs(a - b) > 1e-9 for x, y in zip(mix, base, strict=True)
                for a, b in zip(x, y, strict=True)):
            pairs.append((MIX_KEY, _mix_text(mix)))
        if compare:
            pairs += _side_pairs(session)
    return "&".join(f"{k}={quote(v, safe=':,._-')}" for k, v in pairs)


def _side_pairs(session: Session) -> list[tuple[str, str]]:
    comparison = session.comparison()
    pairs = []
    for side, k in zip(SIDES, SIDE_KEYS, strict=True):
        setup = comparison.setups[side]
        if setup.scenario in comparison.uploads:
            continue  # a file is not a setting: see uploaded_sides
        if setup.scenario != session.scenario.name:
            pairs.append((k, setup.scenario))
        pairs += [(f"{k}.{name}", _text(value)) for name, value in setup.changes.items()]
    return pairs


def uploaded_sides(session: Session) -> list[str]:
    """The Compare sides that are uploaded files, which an address cannot carry."""
    comparison = session.comparison()
    return [side for side in SIDES if comparison.setups[side].scenario in comparison.uploads]


def _show(text: str) -> str:
    """A value from the address for a message: printable, at most 40 characters."""
    text = "".join(c if c.isprintable() else "?" for c in text)
    return repr(text if len(text) <= 40 else text[:37] + "...")


def parse(search: str | None) -> tuple[dict[str, str], list[str]]:
    """(key -> text, errors) of a query string: known keys, each once; nothing converted."""
    if not search:
        return {}, []
    search = search.lstrip("?")
    if len(search) > MAX_QUERY:
        return {}, [f"link: the query is {len(search):,} characters long; at most "
                    f"{MAX_QUERY:,} are read, so none of it was applied"]
    try:
        pairs = parse_qsl(search, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError:
        return {}, [f"link: more than {MAX_FIELDS} settings; none of them was applied"]
    found: dict[str, str] = {}
    errors: list[str] = []
    for key, value in pairs:
        if key not in KEYS:
            errors.append(f"link: {_show(key)} is not a setting of the dashboard (scenario, "
                          "seed, mix, a lever name, or a, b, a.LEVER, b.LEVER of Compare)")
        elif key in found:
            errors.append(f"link: {key} is given twice; the first value was used")
        else:
            found[key] = value
    return found, errors


def _mix(text: str) -> list[tuple[str, str]] | None:
    parts = [p.split(":") for p in text.split(",")]
    if not all(len(p) == 2 for p in parts):
        return None
    return [(a, b) for a, b in parts]


def apply(session: Session, search: str | None, scenarios: Sequence[str]) -> list[str]:
    """Set the session to the link's scenario, seed and levers, then build its run.

    Levers the link does not name are set to the scenario's values (also when the session had
    moved them: Back to an address means its run). ``scenarios`` are the names a link may
    choose (the live library); without ``scenario`` the session's own is kept. Returns one
    line per value refused (the value is left as the scenario sets it); an empty list when
    all applied. An empty query changes nothing.
    """
    found, errors = parse(search)
    if not found:
        return errors
    # From the scenario's own settings: a lever the address does not name is at the
    # scenario's value (the address lists only the moved ones).
    name = found.pop("scenario", session.scenario.name)
    if name not in scenarios:
        errors.append(f"link: scenario: {_show(name)} is not a scenario of the library "
                      f"that runs live here ({', '.join(scenarios)})")
        name = session.scenario.name
    why = session.choose_scenario(name)
    if why:
        errors.append(f"link: scenario: {why}")
    # The number of universities first: it sizes the mix.
    for key in sorted(found, key=lambda k: k != "n_universities"):
        if key in ("seed", MIX_KEY, *SIDE_KEYS) or "." in key:  # "." : a side's lever
            continue
        why = session.set_lever(key, found[key])
        if why:
            errors.append(f"link: {why}")
            # Said once, in the link's message: the lever's field shows the value in force.
            session.errors.pop(key, None)
    if MIX_KEY in found:
        errors += _apply_mix(session, found[MIX_KEY])
    if "seed" in found:
        why = session.set_seed(found["seed"])
        if why:
            errors.append(f"link: {why}")
            session.errors.pop("seed", None)
    session.reset()  # a combination that cannot be built is said by the page (session.message)
    return errors + _apply_sides(session, found, scenarios)


def _apply_sides(session: Session, found: dict[str, str], scenarios: Sequence[str]
                 ) -> list[str]:
    """The Compare sides of the link; a side it does not name is the link's scenario with no
    levers of its own (an address means its whole view)."""
    errors, sides = [], {}
    for side, k in zip(SIDES, SIDE_KEYS, strict=True):
        name = found.get(k, session.scenario.name)
        if name not in scenarios:
            errors.append(f"link: {k}: {_show(name)} is not a scenario of the library that "
                          f"runs live here ({', '.join(scenarios)}); side {side} shows "
                          f"{session.scenario.name}")
            name = session.scenario.name
        prefix = f"{k}."
        sides[side] = (name, {key[len(prefix):]: text for key, text in found.items()
                              if key.startswith(prefix)})
    return errors + [f"link: {why}" for why in session.set_compare_sides(sides)]


def _apply_mix(session: Session, text: str) -> list[str]:
    shares = _mix(text)
    mix = session.settings[levers.EDU_MIX]
    if shares is None:
        return [f"link: mix: expected the 2.0:3.0 shares of each university separated by "
                f"commas (0.15:0.05,0.2:0.1), got {_show(text)}"]
    if len(shares) != len(mix):
        return [f"link: mix: {len(shares)} universities given, the region has {len(mix)}"]
    # Checked whole first (the page's own checks), so a refused share changes nothing.
    try:
        for u, (s2, s3) in enumerate(shares):
            mix = levers.set_share(mix, u, 2, 0.0)
            for programme, share in ((1, s2), (2, s3)):
                mix = levers.set_share(mix, u, programme,
                                       levers.parse_share(u, programme, share))
    except ParameterError as err:
        return [f"link: mix: {err}"]
    for u, (s2, s3) in enumerate(shares):
        session.set_share(u, 2, 0.0)
        session.set_share(u, 1, s2)
        session.set_share(u, 2, s3)
    return []
