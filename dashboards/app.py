"""The helixsim stakeholder dashboard (Solara): Explore, Dividend, Results and Policy search.

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

from experiments.report import MAIN_INDICATORS

from . import charts, guard, levers, results
from .compare_page import ComparePage
from .network import network_figure, network_view
from .pareto import ParetoPage
from .session import Session, estimate_dividend, live_limits, scenario_names

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


def _fmt(fmt: str, value: float) -> str:
    try:
        return fmt.format(value)
    except (ValueError, TypeError):
        return str(value)


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
def Counter(label: str, value: str) -> None:
    with solara.Card(style={"min-width": "150px", "margin": "4px"}, classes=["counter"]):
        solara.Text(label, style={"font-size": "12px", "color": "#555"})
        solara.Text(value, style={"font-size": "22px", "font-weight": "bold"},
                    classes=[f"counter-{label.lower().replace(' ', '-')}"])


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
@solara.component
def Explore(session: Session, revision: int, refresh: Any) -> None:
    ex = session.explorer
    ind = ex.model.indicators()
    names = solara.use_memo(scenario_names, [])
    limits = solara.use_memo(live_limits, [])
    generation, set_generation = solara.use_state(0)

    def choose(name: str) -> None:
        session.choose_scenario(name)
        set_generation(generation + 1)  # fresh inputs showing the scenario's values
        refresh()
    with solara.Columns([1, 3]):
        with solara.Column():
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
        with solara.Column():
            Controls(session, session.step, session.reset, refresh, ex.done, "explore")
            if session.message:
                solara.Error(session.message, classes=["reset-message"])
            for err in session.errors.values():
                solara.Warning(err, dense=True, classes=["lever-error"])
            solara.Text(f"Month {ex.month} of {ex.horizon} (year {ex.month / 12:.1f})",
                        classes=["explore-month"], style={"font-size": "18px"})
            with solara.Row(style={"flex-wrap": "wrap"}):
                Counter("Start-ups founded", f"{ind['startups_founded']:,.0f}")
                Counter("Graduates retained", f"{ind['graduates_total'] - ind['alumni_left']:,.0f}")
                Counter("Innovations", f"{ind['innovations_total']:,.0f}")
                Counter("Firms alive", f"{ind['firms_alive']:,.0f}")
                Counter("Active projects", f"{ind['active_projects']:,.0f}")
            with solara.Row(style={"flex-wrap": "wrap"}):
                solara.HTML(tag="div", unsafe_innerHTML=ex.charts_svg, classes=["live-charts"])
                solara.HTML(tag="div", unsafe_innerHTML=ex.network_svg, classes=["live-network"])
            solara.Text("Network: universities (squares), government (G), firms (dots: every "
                        "firm with an active project, a fixed sample of the others); edges are "
                        "active projects (grey two-party, red government co-funded, green "
                        "brokered by a 3.0 university).", style={"font-size": "12px"})
            Exports(session)
            with solara.Details("All main indicators now"):
                markdown("\n".join(["| indicator | value |", "|---|---|"] + [
                    f"| {label} | {_fmt(fmt, ind[key])} |" for key, label, fmt in MAIN_INDICATORS]))


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

    markdown(f"**{session.scenario.name}** and its **siloed counterfactual** (every "
                    "cross-helix channel closed, same money), on the same seed "
                    f"({session.seed}) and levers as Explore, stepped side by side.")
    Controls(session, session.step_pair, session.reset_pair, refresh, pair.done, "dividend")
    if session.message:
        solara.Error(session.message)
    table = pair.components()
    w = table.set_index("component")
    solara.Text(f"Month {pair.month} of {pair.scenario.horizon}", classes=["dividend-month"],
                style={"font-size": "18px"})
    with solara.Row(style={"flex-wrap": "wrap"}):
        Counter("W scenario", f"{w.loc['welfare', 'scenario']:,.1f}")
        Counter("W siloed", f"{w.loc['welfare', 'siloed']:,.1f}")
        Counter("Dividend D", f"{w.loc['welfare', 'dividend']:+,.2f}")
        Counter("Synergy S", f"{w.loc['synergy_S', 'scenario']:.2f}")
    solara.HTML(tag="div", unsafe_innerHTML=pair.charts_svg, classes=["dividend-charts"])
    solara.DataFrame(table.round(4), items_per_page=12)

    markdown("### Multi-seed estimate")
    if not pair.done:
        solara.Info("Run the pair to its horizon (Play) to unlock the multi-seed estimate: "
                    "the dividend's 95% interval over paired seeds and its Shapley shares over "
                    "the five channels (32 channel configurations per seed).")
        return
    with solara.Row(style={"align-items": "center"}):
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
        EstimateView(task.value)


@solara.component
def EstimateView(result: dict[str, Any]) -> None:
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
            f"{head['median']:,.1f} MCU, 50% of draws in [{head['p25']:,.1f}, "
            f"{head['p75']:,.1f}], 90% in [{head['p05']:,.1f}, {head['p95']:,.1f}]; "
            f"the parameters are {share:.0%} of one run's variance"
            + ("." if settled else "; the sign is not settled across the draws."))
        solara.Image(figure_png(histogram(np.asarray(result["draws_dividend"]), "D(W) (MCU)",
                                          "D(W) across parameter draws")))
        solara.DataFrame(pd.DataFrame(result["dividend"])[
            ["component", "median", "p05", "p95", "p_positive"]].round(4))
        solara.Text(f"Report: {result['report']} (open it on the Results page)")
        return
    solara.Success(f"D(W) = {head['dividend']:,.1f} MCU, 95% interval {head['low']:,.1f} to "
                   f"{head['high']:,.1f} over {result['seeds']} paired seeds "
                   f"({head['relative']:+.2%} of the siloed W).")
    shares = pd.DataFrame(result.get("shapley", []))
    if len(shares):
        # The same waterfall as the estimate's report, over the same table.
        from experiments.report import figure_png, shapley_waterfall

        solara.Image(figure_png(shapley_waterfall(shares, result.get("shapley_total"))))
        solara.DataFrame(shares.round(4))
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
                solara.DataFrame(results.read_table(tables[table_name], root=root),
                                 items_per_page=15)
            except results.NotAResultsFolderError as err:
                solara.Error(str(err), classes=["results-error"])
    for fig in folder.figures:
        solara.Text(fig.name, style={"font-weight": "bold"})
        try:
            solara.Image(results.read_figure(root, fig), width="640px")
        except results.NotAResultsFolderError as err:
            solara.Error(str(err), classes=["results-error"])
    if folder.report:
        with solara.Details("report.md", expand=not folder.figures):
            markdown(folder.report)


# --- the page --------------------------------------------------------------------------------
@solara.component
def Page() -> None:
    # One Session per browser session: use_memo runs once per mounted page, i.e. per visitor.
    session = solara.use_memo(Session, [])
    # Bumped after a step or a lever change to re-render the page; read here so that the page
    # subscribes to it. A reactive (not use_state) because the Play thread bumps it too.
    revision = solara.use_reactive(0)
    tab, set_tab = solara.use_state(0)

    def refresh() -> None:
        revision.value += 1
    solara.Title("helixsim dashboard")
    with solara.Column(style={"padding": "12px"}):
        markdown("## helixsim: the ecological dividend of industry-university-government "
                        "integration")
        with solara.lab.Tabs(value=tab, on_value=set_tab, lazy=True):
            with solara.lab.Tab("Explore"):
                # revision is passed down because reacton re-renders a child only when its
                # props change, and session is the same object after a step.
                Explore(session, revision.value, refresh)
            with solara.lab.Tab("Dividend"):
                Dividend(session, revision.value, refresh)
            with solara.lab.Tab("Compare"):
                ComparePage(session, revision.value, refresh)
            with solara.lab.Tab("Results"):
                Results()
            with solara.lab.Tab("Policy search"):
                ParetoPage()
