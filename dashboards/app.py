"""The helixsim stakeholder dashboard (Solara): Explore, Dividend, Results, Policy search, Compare.

Start it with ``make dashboard`` or ``helixsim dashboard`` (which run
``solara run dashboards.app --host 127.0.0.1 --production --no-open --no-check-version`` with
the offline asset cache). Each browser session builds its own ``Session`` in ``Page`` (with
``use_memo``), never at module level, so visitors never share a model.
"""

from __future__ import annotations

import html
import io
import time
from typing import Any

import nh3
import solara
import solara.lab

from experiments.formatting import (
    MCU_DEFINITION,
    distinguishable_from_zero,
    format_indicator,
    format_interval,
    format_number,
    format_percent,
    indicator_label,
    indicator_unit,
    zero_verdict,
)
from experiments.report import MAIN_INDICATORS

from . import charts, guard, levers, results, urlstate, viewport
from .compare_page import ComparePage
from .network import legend_html, network_figure, network_view
from .pareto import ParetoPage
from .session import (
    SCHEDULED_COLOUR,
    Session,
    estimate_dividend,
    live_limits,
    scenario_names,
)

SPEEDS = (1, 2, 5, 10, 20)  # months per second while playing
guard.install()  # same-origin WebSockets, closed sessions let go (inside a Solara server)


def markdown(text: str, classes: list[str] | None = None) -> None:
    """Markdown shown as HTML made on the server (``render_markdown``).

    solara.Markdown loads mermaid and KaTeX from the CDN in the browser, which this offline
    page does not have.
    """
    solara.HTML(tag="div", unsafe_innerHTML=render_markdown(text), classes=classes or [])


# Tags a report may use: nh3's defaults without images (a Markdown image would make the
# visitor's browser fetch any URL; the Results page shows a folder's figures itself).
_TAGS = nh3.ALLOWED_TAGS - {"img", "map", "area"}
_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text: str) -> str:
    """Sanitised HTML of a Markdown text: raw HTML escaped first, then the HTML Markdown makes
    cleaned by nh3 (Ammonia): no scripts, no event handlers, no ``javascript:`` or ``data:``
    links, no images."""
    import markdown as md

    made = md.markdown(html.escape(text, quote=False), extensions=["tables"])
    return nh3.clean(made, tags=_TAGS, url_schemes=_SCHEMES)


# --- small pieces ------------------------------------------------------------------------------
@solara.component
def LeverInput(session: Session, name: str, value: Any, error: str | None,
               on_change: Any) -> None:
    # value and error are props (not read from session here) so that the input re-renders
    # when they change: reacton skips a child whose props compare equal.
    spec = levers.spec(name)
    # The typed text stays as typed (even when refused), so the user sees what was wrong.
    text, set_text = solara.use_state(f"{value:g}" if isinstance(value, float) else str(value))
    if spec.kind == "bool":
        def toggle(v: bool) -> None:
            session.set_lever(name, bool(v))
            on_change()
        solara.Checkbox(label=f"{spec.label} ({spec.range_text})", value=bool(value),
                        on_value=toggle)
        return

    def take(new: str) -> None:
        set_text(new)
        session.set_lever(name, new)
        on_change()
    solara.InputText(label=spec.label, value=text, on_value=take, continuous_update=False,
                     error=bool(error), message=error or spec.hint,
                     classes=[f"lever-{name}"])


@solara.component
def MixInput(session: Session, mix: Any, errors: dict[str, str], on_change: Any) -> None:
    """Per university: the 2.0 and 3.0 shares of the intake (1.0 takes the rest)."""
    solara.Text("Education Model mix per university (share of intake; 1.0 takes the rest)")
    for u, triple in enumerate(mix):
        with solara.Row(style={"align-items": "baseline"}):
            solara.Text(f"U{u + 1}: 1.0 = {triple[0]:.2f}")
            for programme in (1, 2):
                key = f"{levers.EDU_MIX}[{u}][{programme}]"

                def take(new: str, u: int = u, programme: int = programme) -> None:
                    session.set_share(u, programme, new)
                    on_change()
                solara.InputText(label=f"U{u + 1} {levers.PROGRAMME_LABELS[programme]}",
                                 value=f"{triple[programme]:g}", on_value=take,
                                 continuous_update=False, error=bool(errors.get(key)),
                                 message=errors.get(key) or "share of intake; [0, 1]",
                                 style={"max-width": "110px"})


@solara.component
def Counter(label: str, value: str, unit: str) -> None:
    """A labelled number with its unit under it (the unit from the indicator table)."""
    with solara.Div(classes=["counter"]):
        solara.Div(children=[label], classes=["counter-label"])
        solara.Div(children=[value], classes=["counter-value",
                                              f"counter-{label.lower().replace(' ', '-')}"])
        solara.Div(children=[unit], classes=["counter-unit"])


def table_html(headers: list[str], rows: list[list[str]], css: str,
               numeric: tuple[int, ...] = ()) -> str:
    """An HTML table of texts (every cell escaped), numbers right-aligned, in a box that
    scrolls sideways on a narrow screen instead of widening the page."""
    def cell(tag: str, i: int, text: str) -> str:
        align = ' class="num"' if i in numeric else ""
        return f"<{tag}{align}>{html.escape(text)}</{tag}>"
    head = "".join(cell("th", i, h) for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(cell("td", i, c) for i, c in enumerate(r)) + "</tr>"
                   for r in rows)
    return (f'<div class="table-box"><table class="hx-table {css}"><thead><tr>{head}</tr>'
            f"</thead><tbody>{body}</tbody></table></div>")


def Table(headers: list[str], rows: list[list[str]], css: str,
          numeric: tuple[int, ...] = ()) -> None:
    solara.HTML(tag="div", unsafe_innerHTML=table_html(headers, rows, css, numeric))


def _play_loop(step: Any, refresh: Any, stop: Any, speed: int, playing: bool,
               report: Any = None):
    """A use_thread body: play at ``speed`` months a second until paused or at the horizon.

    The months due follow the clock, not the loop: when a step and the page's redraw take
    longer than 1 / speed, the next tick steps the months that fell due (up to one second's
    worth) and redraws once, so the promised rate holds as long as the model can step that
    fast. ``report(rate)`` gets the rate achieved so far, which the page shows next to the
    speed, so a rate that cannot be kept is visible instead of silent.
    """
    def loop(cancel) -> None:
        started = time.perf_counter()
        done = 0
        while playing and not cancel.is_set():
            due = int((time.perf_counter() - started) * speed) + 1 - done
            if due > 0:
                stepped = step(min(due, speed))
                done += stepped
                if report is not None:
                    report(done / max(time.perf_counter() - started, 1e-3))
                refresh()
                if not stepped:
                    stop()
                    return
            cancel.wait(max(0.0, started + done / speed - time.perf_counter()))
    return loop


@solara.component
def Controls(session: Session, on_step: Any, on_reset: Any, refresh: Any, done: bool,
             prefix: str) -> None:
    """Play, Pause, Step, Reset and speed for one run (Explore's or Dividend's pair)."""
    playing, set_playing = solara.use_state(False)
    speed, set_speed = solara.use_state(5)

    def report(rate: float) -> None:
        session.play_rate[prefix] = rate
    solara.use_thread(_play_loop(on_step, refresh, lambda: set_playing(False), speed, playing,
                                 report), dependencies=[playing, speed], intrusive_cancel=False)

    def reset() -> None:
        set_playing(False)
        session.play_rate.pop(prefix, None)
        on_reset()
        refresh()
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Button("Pause" if playing else "Play", on_click=lambda: set_playing(not playing),
                      color="primary", disabled=done and not playing,
                      classes=[f"{prefix}-play"])
        solara.Button("Step", on_click=lambda: (on_step(), refresh()), disabled=playing or done,
                      classes=[f"{prefix}-step"])
        solara.Button("Reset", on_click=reset, classes=[f"{prefix}-reset"])
        solara.Select("speed (months/s)", values=list(SPEEDS), value=speed,
                      on_value=set_speed, style={"max-width": "150px"})
        rate = session.play_rate.get(prefix)
        if rate is not None:
            kept = rate >= 0.9 * speed or not playing
            solara.Text(f"playing at {rate:.1f} months/s" + ("" if kept else
                        f" (asked {speed}: the model and the page cannot keep up)"),
                        classes=[f"{prefix}-rate"],
                        style={"font-size": "12px", "color": "#555" if kept else "#b00"})


# --- Explore ---------------------------------------------------------------------------------
# (label, indicator whose unit it shows, value from the indicators now)
EXPLORE_COUNTERS: tuple[tuple[str, str, Any], ...] = (
    ("Start-ups founded", "startups_founded", lambda i: i["startups_founded"]),
    ("Graduates retained", "graduates_total", lambda i: i["graduates_total"] - i["alumni_left"]),
    ("Innovations", "innovations_total", lambda i: i["innovations_total"]),
    ("Firms alive", "firms_alive", lambda i: i["firms_alive"]),
    ("Active projects", "active_projects", lambda i: i["active_projects"]),
)


# The key to the dashed lines on the Explore charts (svg.Panel marks): fixed text.
TIMELINE_LEGEND = (
    '<span style="display:inline-block;width:22px;vertical-align:middle;margin-right:4px;'
    f'border-top:2px dashed {SCHEDULED_COLOUR}"></span>policy event on the scenario\'s '
    "timeline (a lever changes that month; hover the line for which and to what)")


@solara.component
def Explore(session: Session, revision: int, refresh: Any) -> None:
    ex = session.explorer
    ind = ex.model.indicators()
    names = solara.use_memo(scenario_names, [])
    limits = solara.use_memo(live_limits, [])
    generation, set_generation = solara.use_state(0)
    width, set_width = solara.use_state(0)  # the window's, once the browser reports it

    def choose(name: str) -> None:
        session.choose_scenario(name)
        set_generation(generation + 1)  # fresh inputs showing the scenario's values
        refresh()
    # Two columns that wrap: on a narrow screen the levers come first, above the charts.
    with solara.Div(classes=["explore-layout"]):
        # One tap folds the levers away or opens them. On a phone they sit above the charts
        # and would fill the first screens, so there they start folded (Details follows its
        # expand prop when it changes: open until the width is known, then folded).
        with solara.Div(classes=["levers-column"]):
            viewport.probe(set_width)
            with solara.Details("Scenario, seed and levers", expand=not viewport.narrow(width)):
                solara.Select("Scenario", values=names, value=session.scenario.name,
                              on_value=choose)
                solara.Text(" ".join(session.scenario.description.split()),
                            style={"font-size": "12px", "color": "#555"})
                solara.InputText("seed", value=str(session.seed),
                                 on_value=lambda t: (session.set_seed(t), refresh()),
                                 continuous_update=False, error=bool(session.errors.get("seed")),
                                 message=session.errors.get("seed") or "applies at Reset")
                with solara.Column(gap="0px").key(f"levers-{generation}"):
                    solara.Text("Levers take effect at Reset.", style={"font-weight": "bold"})
                    MixInput(session, session.settings[levers.EDU_MIX], dict(session.errors),
                             refresh)
                    for title, names_ in levers.LEVER_GROUPS:
                        with solara.Details(title, expand=title == "Region size"):
                            if title == "Region size":  # the live cap, next to the size levers
                                solara.Text(limits, classes=["live-cap"],
                                            style={"font-size": "12px", "color": "#555"})
                            for name in names_:
                                LeverInput(session, name, session.settings[name],
                                           session.errors.get(name), refresh)
        with solara.Div(classes=["charts-column"]):
            Controls(session, session.step, session.reset, refresh, ex.done, "explore")
            if session.message:
                solara.Error(session.message, classes=["reset-message"])
            for err in session.errors.values():
                solara.Warning(err, dense=True, classes=["lever-error"])
            solara.Text(f"Month {ex.month} of {ex.horizon} (year {ex.month / 12:.1f})",
                        classes=["explore-month"], style={"font-size": "18px"})
            with solara.Div(classes=["counters"]):
                for label, unit_of, value in EXPLORE_COUNTERS:
                    Counter(label, format_number(value(ind)), indicator_unit(unit_of))
            solara.HTML(tag="div", unsafe_innerHTML=ex.charts_svg, classes=["live-charts"])
            solara.HTML(tag="div", unsafe_innerHTML=TIMELINE_LEGEND, classes=["timeline-legend"])
            solara.Text("Axes start at zero; the line under a title is the change since "
                        "month 0. Hover a chart for the values of a month.",
                        classes=["chart-note"])
            with solara.Div(classes=["network-box"]):
                solara.HTML(tag="div", unsafe_innerHTML=ex.network_svg,
                            classes=["live-network"])
                solara.HTML(tag="div", unsafe_innerHTML=legend_html(),
                            classes=["network-legend"])
            Exports(session)
            with solara.Details("All main indicators now"):
                Table(["indicator", "value"],
                      [[indicator_label(key), format_indicator(key, ind[key])]
                       for key, _, _ in MAIN_INDICATORS], "main-indicators", numeric=(1,))


@solara.component
def Exports(session: Session) -> None:
    """Downloads of the current run: indicators (CSV, Parquet) and figures (PNG)."""
    stem = f"helixsim-{session.scenario.name}-seed{session.seed}"

    def csv() -> bytes:
        with session.lock:
            return session.explorer.table().to_csv().encode()

    def parquet() -> bytes:
        buf = io.BytesIO()
        with session.lock:
            session.explorer.table().to_parquet(buf)
        return buf.getvalue()

    def chart_png() -> bytes:
        with session.lock:
            ex = session.explorer
            return charts.to_png(charts.indicator_figure(ex.table(), horizon=ex.horizon))

    def network_png() -> bytes:
        with session.lock:
            return charts.to_png(network_figure(network_view(session.explorer.model.world)))
    with solara.Row(style={"flex-wrap": "wrap"}):
        solara.FileDownload(csv, f"{stem}.csv", label="Indicators (CSV)", mime_type="text/csv")
        solara.FileDownload(parquet, f"{stem}.parquet", label="Indicators (Parquet)")
        solara.FileDownload(chart_png, f"{stem}-charts.png", label="Charts (PNG)",
                            mime_type="image/png")
        solara.FileDownload(network_png, f"{stem}-network.png", label="Network (PNG)",
                            mime_type="image/png")


# --- Dividend --------------------------------------------------------------------------------
DIVIDEND_MEANING = (
    "The ecological dividend D is how much more welfare W (regional value added, discounted "
    "and summed over the run, in MCU) the region makes with its industry, universities and "
    "government working together than the same region with every cross-helix channel closed "
    "(siloed): same firms, students, public money and seed. " + MCU_DEFINITION + ".")
DIVIDEND_COUNTERS = (("W scenario", "welfare", "scenario"), ("W siloed", "welfare", "siloed"),
                     ("Dividend D", "welfare", "dividend"),
                     ("Synergy S", "synergy_S", "scenario"))


def single_seed_sentence(seed: int, month: int, horizon: int, d: float,
                         w_siloed: float) -> str:
    """What the pair on one seed says, and what it does not."""
    relative = f" ({format_percent(d / w_siloed, signed=True)} of the siloed W)" \
        if w_siloed else ""
    return (f"On seed {seed}, at month {month} of {horizon}: D = "
            f"{format_number(d, signed=True)} MCU{relative}. One seed is one possible history "
            "of the region; the multi-seed estimate below repeats the pair on several seeds "
            "to tell whether the dividend is distinguishable from zero.")


def estimate_sentence(head: dict[str, Any], seeds: int) -> tuple[str, str]:
    """(sentence, kind) of a multi-seed estimate of D(W): kind is "success" only for an
    interval wholly above zero, "warning" wholly below, "info" when it includes zero or
    there is no interval (no success styling for a dividend that may be nothing)."""
    interval = format_interval(head["dividend"], head["low"], head["high"], signed=True)
    verdict = zero_verdict(head["low"], head["high"])
    text = (f"Over {seeds} paired seeds, D(W) = {interval} MCU (mean and 95% interval; "
            f"{format_percent(head['relative'], signed=True)} of the siloed W): the dividend "
            f"is {verdict}.")
    known = distinguishable_from_zero(head["low"], head["high"])
    if not known:
        return text, "info"
    return text, "success" if head["low"] > 0 else "warning"


def seed_against_estimate(seed: int, d: float, head: dict[str, Any]) -> str:
    """Where the single-seed run of the page lies against the multi-seed interval."""
    inside = head["low"] <= d <= head["high"]
    return (f"The single-seed run above (seed {seed}: D = {format_number(d, signed=True)} MCU "
            f"at the horizon) lies {'inside' if inside else 'outside'} this interval"
            + ("." if inside else ": one seed can mislead, the estimate over seeds is the "
               "one to quote."))


BOXES = {"success": solara.Success, "warning": solara.Warning, "info": solara.Info}


@solara.component
def Dividend(session: Session, revision: int, refresh: Any) -> None:
    pair = session.ensure_pair()
    seeds, set_seeds = solara.use_state(4)
    draws, set_draws = solara.use_state(0)  # 0: seed noise only, with channel shares
    progress, set_progress = solara.use_state(0.0)

    def run_estimate() -> dict[str, Any]:
        set_progress(0.0)
        return estimate_dividend(session, seeds=seeds, out_root=results.results_root(),
                                 progress=lambda done, total: set_progress(
                                     100.0 * done / max(total, 1)), draws=draws or None)
    task = solara.lab.use_task(run_estimate, dependencies=None)

    markdown(DIVIDEND_MEANING, classes=["dividend-meaning"])
    markdown(f"**{session.scenario.name}** and its **siloed counterfactual**, on the same seed "
             f"({session.seed}) and levers as Explore, stepped side by side.")
    Controls(session, session.step_pair, session.reset_pair, refresh, pair.done, "dividend")
    if session.message:
        solara.Error(session.message)
    table = pair.components()
    w = table.set_index("component")
    solara.Text(f"Month {pair.month} of {pair.scenario.horizon}", classes=["dividend-month"],
                style={"font-size": "18px"})
    with solara.Div(classes=["counters"]):
        for label, name, column in DIVIDEND_COUNTERS:
            Counter(label, format_number(w.loc[name, column], signed=column == "dividend"),
                    indicator_unit(name))
    d_now = float(w.loc["welfare", "dividend"])
    solara.Text(single_seed_sentence(pair.scenario.seed, pair.month, pair.scenario.horizon,
                                     d_now, float(w.loc["welfare", "siloed"])),
                classes=["single-seed"])
    solara.HTML(tag="div", unsafe_innerHTML=pair.charts_svg, classes=["dividend-charts"])
    Table(["component", "helix", "scenario", "siloed", "dividend D"],
          [[indicator_label(r.component), r.helix, format_indicator(r.component, r.scenario),
            format_indicator(r.component, r.siloed),
            format_indicator(r.component, r.dividend, signed=True)]
           for r in table.itertuples()], "components-table", numeric=(2, 3, 4))

    markdown("### Multi-seed estimate")
    if not pair.done:
        solara.Info("Run the pair to its horizon (Play) to unlock the multi-seed estimate: "
                    "the dividend's 95% interval over paired seeds and its Shapley shares over "
                    "the five channels (32 channel configurations per seed).")
        return
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Select("seeds", values=[2, 4, 8, 16], value=seeds, on_value=set_seeds,
                      style={"max-width": "120px"})
        solara.Select("parameter draws", values=[0, 8, 16, 32], value=draws,
                      on_value=set_draws, style={"max-width": "160px"})
        solara.Button("Estimate the dividend over seeds", on_click=task,
                      disabled=task.pending, color="primary", classes=["estimate"])
    if task.pending:
        solara.ProgressLinear(progress)
        solara.Text(f"{progress:.0f}% of the runs done")
    elif task.error:
        solara.Error(f"The estimate failed: {task.exception}")
    elif task.finished and task.value:
        EstimateView(task.value, pair.scenario.seed, d_now)


@solara.component
def EstimateView(result: dict[str, Any], seed: int, d_seed: float) -> None:
    import numpy as np
    import pandas as pd

    head = result["dividend"][0]
    if "p_positive" in result:  # under parameter uncertainty (docs/reading-the-dividend.md)
        from experiments.report import figure_png
        from experiments.uncertainty import histogram

        share = result["variance"]["parameter_share"]
        # Success styling only when the sign is settled across the draws' 90% band.
        settled = head["p05"] > 0 or head["p95"] < 0
        box = solara.Success if settled and head["p05"] > 0 else solara.Warning
        box(f"P(D > 0) = {result['p_positive']:.2f} over {result['draws']} "
            f"parameter draws x {result['seeds']} seeds: median D(W) "
            f"{format_number(head['median'], signed=True)} MCU, 50% of draws in "
            f"[{format_number(head['p25'])}, {format_number(head['p75'])}], 90% in "
            f"[{format_number(head['p05'])}, {format_number(head['p95'])}]; "
            f"the parameters are {share:.0%} of one run's variance"
            + ("." if settled else "; the sign is not settled across the draws."),
            classes=["estimate-sentence"])
        solara.Image(figure_png(histogram(np.asarray(result["draws_dividend"]), "D(W) (MCU)",
                                          "D(W) across parameter draws")))
        Table(["component", "median", "5%", "95%", "P(D > 0)"],
              [[str(r["component"]), *(format_number(r[k], signed=True)
                                       for k in ("median", "p05", "p95")),
                format_percent(r["p_positive"])] for r in result["dividend"]],
              "uncertainty-table", numeric=(1, 2, 3, 4))
        solara.Text(f"Report: {result['report']} (open it on the Results page)")
        return
    text, kind = estimate_sentence(head, result["seeds"])
    BOXES[kind](text, classes=["estimate-sentence", f"estimate-{kind}"])
    solara.Text(seed_against_estimate(seed, d_seed, head), classes=["seed-vs-estimate"])
    shares = pd.DataFrame(result.get("shapley", []))
    if len(shares):
        # The same waterfall as the estimate's report, over the same table.
        from experiments.report import figure_png, shapley_waterfall

        solara.Image(figure_png(shapley_waterfall(shares, result.get("shapley_total"))))
        Table(["channel", "Shapley value of W (MCU)", "95% interval (MCU)", "share of D"],
              [[str(r.channel).replace("_", " "), format_number(r.mean, signed=True),
                format_interval(r.mean, r.low, r.high, signed=True).split(" ", 1)[1],
                format_percent(r.share)] for r in shares.itertuples()],
              "shapley-table", numeric=(1, 2, 3))
    solara.Text(f"Report: {result['report']} (open it on the Results page)")


# --- Results ---------------------------------------------------------------------------------
@solara.component
def Results() -> None:
    root = results.results_root()
    found, set_found = solara.use_state(results.list_folders(root))
    name, set_name = solara.use_state("")
    table_name, set_table_name = solara.use_state("")
    error = ""
    folder = None
    if name:
        try:
            folder = results.open_folder(root, name)
        except results.NotAResultsFolderError as err:
            error = str(err)
    markdown(f"Results folders under `{root}` (written by `helixsim run`, `compare`, "
                    "`dividend`, `experiment`, or the Dividend page).")
    with solara.Row(style={"align-items": "center"}):
        solara.Select("folder", values=found, value=name if name in found else None,
                      on_value=lambda v: set_name(v or ""))
        solara.InputText("or type a folder (relative to the results root)", value=name,
                         on_value=set_name, continuous_update=False)
        solara.Button("Refresh", on_click=lambda: set_found(results.list_folders(root)))
    if error:
        solara.Error(error, classes=["results-error"])
    if folder is None:
        return
    if folder.refused:
        solara.Warning("Not shown (outside the results folder, not a regular file, or too "
                       f"large): {', '.join(sorted(set(folder.refused)))[:300]}",
                       classes=["results-refused"])
    tables = {p.name: p for p in folder.tables}
    if tables:
        solara.Select("table", values=list(tables), value=table_name or None,
                      on_value=lambda v: set_table_name(v or ""))
        if table_name in tables:
            try:
                with solara.Div(classes=["df-box"]):
                    solara.DataFrame(results.read_table(tables[table_name], root=root),
                                     items_per_page=15)
            except results.NotAResultsFolderError as err:
                solara.Error(str(err), classes=["results-error"])
    for fig in folder.figures:
        solara.Text(fig.name, style={"font-weight": "bold"})
        try:
            solara.Image(results.read_figure(root, fig), width="640px", classes=["fit"])
        except results.NotAResultsFolderError as err:
            solara.Error(str(err), classes=["results-error"])
    if folder.report:
        with solara.Details("report.md", expand=not folder.figures):
            markdown(folder.report)


# --- the page --------------------------------------------------------------------------------
# Layout rules the components cannot say themselves: two columns that wrap to one on a narrow
# screen (levers above the charts), charts and the network that shrink to the width, tables
# that scroll inside their box, and Solara's "runs on Solara" badge moved from over the page's
# bottom-right corner (where it covered charts and buttons) to the end of the page.
CSS = """
.hx-page { padding: 12px; max-width: 100%; box-sizing: border-box; }
.hx-page h2 { font-size: 24px; line-height: 1.25; }
.explore-layout { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
.levers-column { flex: 1 1 280px; max-width: 380px; min-width: 0; }
.charts-column { flex: 3 1 600px; min-width: 0; }
.counters { display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0; }
.counter { min-width: 140px; flex: 0 1 160px; padding: 8px 12px; border-radius: 4px;
           box-shadow: 0 1px 3px rgba(0,0,0,.25); background: #fff; }
.counter-label { font-size: 12px; color: #555; }
.counter-value { font-size: 22px; font-weight: bold; line-height: 1.3; }
.counter-unit { font-size: 12px; color: #555; }
.live-charts, .dividend-charts { display: flex; flex-wrap: wrap; gap: 4px 12px; }
.live-charts svg, .dividend-charts svg, .live-network svg { max-width: 100%; height: auto; }
.hover rect:hover { fill-opacity: 0.07; }
.chart-note, .single-seed, .seed-vs-estimate { font-size: 13px; color: #444; margin: 6px 0; }
.timeline-legend { font-size: 12px; color: #444; margin: 4px 0 0; }
.network-box { display: flex; flex-wrap: wrap; gap: 12px; align-items: flex-start; }
.live-network { flex: 0 1 420px; min-width: 0; }
.network-legend ul { list-style: none; padding: 0; margin: 8px 0; font-size: 13px; }
.network-legend li { display: flex; align-items: center; gap: 6px; margin: 3px 0; }
.network-legend svg { flex: none; }
.table-box, .df-box { max-width: 100%; overflow-x: auto; }
.hx-page img { max-width: 100%; height: auto; }
.hx-table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
.hx-table th, .hx-table td { padding: 3px 10px; border-bottom: 1px solid #e0e0e0;
                             text-align: left; }
.hx-table .num { text-align: right; font-variant-numeric: tabular-nums; }
.share-link { font-size: 12px; color: #555; overflow-wrap: anywhere; }
.v-slide-group__wrapper { overflow-x: auto; }
@media (max-width: 600px) {
  .hx-page { padding: 6px; }
  .hx-page h2 { font-size: 18px; }
  .levers-column { max-width: none; flex-basis: 100%; }
}
/* The badge: in the page's flow at its end instead of absolutely over its content. */
#app div[style*="position: absolute"][style*="bottom: 0px"] {
  position: static !important; text-align: right; }
"""


@solara.component
def Page() -> None:
    router = solara.use_router()
    routed = router.set_path is not None  # False when rendered without a server (tests)

    def build() -> tuple[Session, list[str]]:
        # One Session per browser session: use_memo runs once per mounted page, i.e. per
        # visitor. A shared link's scenario, seed and levers are applied to it once, here.
        made = Session()
        return made, urlstate.apply(made, router.search, scenario_names()) if routed else []
    session, first_errors = solara.use_memo(build, [])
    link_errors, set_link_errors = solara.use_state(first_errors)
    applied, set_applied = solara.use_state(0)  # addresses applied after the first
    # Bumped after a step or a lever change to re-render the page; read here so that the page
    # subscribes to it. A reactive (not use_state) because the Play thread bumps it too.
    revision = solara.use_reactive(0)
    local_tab, set_local_tab = solara.use_state(urlstate.page_index(router.path))
    tab = urlstate.page_index(router.path) if routed else local_tab
    # The run on screen (changes at Reset or a new scenario), and on Compare its sides.
    shown = urlstate.query(session, compare=tab == urlstate.COMPARE)
    pushed = solara.use_ref(router.search or "")  # the query this page last wrote

    def go(index: int) -> None:
        if routed:
            router.push(urlstate.location(index, urlstate.query(
                session, compare=index == urlstate.COMPARE)))
        else:
            set_local_tab(index)

    # The address the page opened with, applied in build(); the browser reports it once
    # more when its navigator starts, which is no move to re-apply.
    opening = solara.use_ref(router.search or "")

    def follow() -> None:
        search = router.search or ""
        if not routed or search == shown:
            pushed.current = search
            opening.current = None
            return
        if search and search != pushed.current and search != opening.current:
            # The browser moved (Back or Forward) to another address: show its run.
            set_link_errors(urlstate.apply(session, search, scenario_names()))
            set_applied(applied + 1)  # fresh lever fields showing the address's values
            revision.value += 1
            now = urlstate.query(session, compare=tab == urlstate.COMPARE)
        else:
            now = shown  # the run shown changed here: the address follows
        if search == opening.current and search != pushed.current:
            opening.current = None  # that was the browser's report of the opening address
        pushed.current = now
        if now != search:
            router.push(urlstate.location(tab, now))
    solara.use_effect(follow, [shown, tab, router.search])

    def refresh() -> None:
        revision.value += 1
    solara.Title("helixsim dashboard")
    solara.Style(CSS)
    with solara.Column(classes=["hx-page"]):
        markdown("## helixsim: the ecological dividend of industry-university-government "
                 "integration")
        for err in link_errors:
            solara.Error(err, dense=True, classes=["link-error"])
        solara.Text("Share this view: the address holds the page, scenario, seed and levers "
                    "of the run shown" + (" and both sides' scenarios and levers"
                                          if tab == urlstate.COMPARE else "")
                    + f" ({urlstate.location(tab, shown)}).",
                    classes=["share-link"])
        with solara.lab.Tabs(value=tab, on_value=go, lazy=True):
            with solara.lab.Tab("Explore"):
                # revision is passed down because reacton re-renders a child only when its
                # props change, and session is the same object after a step.
                Explore(session, revision.value, refresh).key(f"explore-{applied}")
            with solara.lab.Tab("Dividend"):
                Dividend(session, revision.value, refresh)
            with solara.lab.Tab("Results"):
                Results()
            with solara.lab.Tab("Policy search"):
                ParetoPage()
            with solara.lab.Tab("Compare"):
                ComparePage(session, revision.value, refresh)


@solara.component
def Layout(children: list[Any] = []) -> Any:  # noqa: B006 - Solara passes the page's children
    """Solara's own layout without its route navigation: the tabs are the navigation."""
    return solara.AppLayout(children=children, navigation=False)


# One address per page (urlstate.PAGES), all drawn by Page, which shows the tab of the path;
# the same component on every route keeps the visitor's session when the page changes.
routes = [solara.Route(path="/", component=Page, label="helixsim", layout=Layout),
          *(solara.Route(path=name, component=Page, label=f"helixsim: {title}")
            for name, title in urlstate.PAGES[1:])]
