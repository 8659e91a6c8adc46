"""The Compare page (Solara): two policies side by side on the same seed, stepped together.

The state and the logic are in ``compare.py`` and ``session.py``; this module only lays them
out and wires the buttons. The upload field is ipyvuetify's file input (a real file picker, so
it works with a keyboard and on a phone, where a drop zone does not).
"""

from __future__ import annotations

import threading
from typing import Any

import solara
import solara.lab
from ipyvuetify.extra import FileInput

from experiments.formatting import indicator_label
from experiments.report import html_table
from simulation.errors import MAX_BYTES

from . import compare, levers, results, urlstate
from .session import Session, scenario_names

SEED_CHOICES = (2, 4, 8, 16)
# The tables are the reports' HTML tables (experiments.report.html_table); this is their look
# here. The charts scale down with the page (their viewBox keeps the proportions).
CSS = """
.compare-tables table{border-collapse:collapse;font-size:13px;margin:4px 0 12px}
.compare-tables caption{text-align:left;font-weight:600;padding-bottom:4px}
.compare-tables th,.compare-tables td{border:1px solid #d0d0d0;padding:2px 8px;text-align:left}
.compare-tables th{background:#f1f3f5}
.compare-tables td.num,.compare-tables th.num{text-align:right;font-variant-numeric:tabular-nums}
.compare-now td:not(:first-child),.compare-now th:not(:first-child){text-align:right}
.compare-charts svg{max-width:100%;height:auto}
"""


@solara.component
def ScenarioUpload(on_file: Any) -> None:
    """A file picker for one scenario file; ``on_file(name, size, read)`` gets each choice."""
    info, set_info = solara.use_state(None)
    picked, set_picked = solara.use_state(None)
    field = FileInput.element(accept=".toml,text/plain,application/toml", multiple=False,
                              show_progress=False, on_file_info=set_info)

    def wire() -> None:
        if info:
            widget = solara.get_widget(field)
            widget.version += 1  # as solara.FileDrop does: a fresh read of the new file
            widget.reset_stats()
            set_picked(widget.get_files())
    solara.use_effect(wire, [info])

    def handle(cancel: threading.Event) -> None:
        # In a thread: reading waits for the browser's chunks, which the page's loop delivers.
        for f in picked or []:
            on_file(f["name"], int(f["size"]), f["file_obj"].read)
    solara.use_thread(handle, [picked])


@solara.component
def SideCard(session: Session, side: str, names: list[str], pair: Any, revision: int,
             refresh: Any) -> None:
    # revision is a prop so that the card re-renders after a step or a change: reacton skips
    # a child whose props compare equal, and the pair is the same object after a step.
    comparison = session.comparison()
    setup = comparison.setups[side]
    lever, set_lever = solara.use_state(compare.CHANGEABLE[0])
    text, set_text = solara.use_state("")
    error, set_error = solara.use_state("")
    running = pair is not None and pair.month > 0

    def choose(key: str) -> None:
        set_error(session.set_compare_scenario(side, key) or "")
        refresh()

    def apply() -> None:
        set_error(session.change_compare_lever(side, lever, text) or "")
        refresh()

    def clear() -> None:
        set_error(session.clear_compare_levers(side) or "")
        refresh()
    values = names + [k for k in comparison.uploads if k not in names]
    with solara.Card(f"Side {side}", style={"min-width": "320px", "flex": "1"},
                     classes=[f"compare-side-{side.lower()}"]):
        solara.Select(f"scenario of side {side}", values=values, value=setup.scenario,
                      on_value=choose, classes=[f"compare-scenario-{side.lower()}"])
        solara.Text(compare.describe(setup, pair.mid_run(side) if pair else []),
                    classes=[f"compare-describe-{side.lower()}"],
                    style={"font-size": "12px", "color": "#555"})
        with solara.Row(style={"align-items": "baseline", "flex-wrap": "wrap"}):
            solara.Select(f"lever of side {side}", values=list(compare.CHANGEABLE), value=lever,
                          on_value=set_lever, style={"max-width": "240px"},
                          classes=[f"compare-lever-{side.lower()}"])
            solara.InputText(f"value for side {side}", value=text, on_value=set_text,
                             classes=[f"compare-value-{side.lower()}"],
                             style={"max-width": "150px"})
            solara.Button("Change from next month" if running else "Set",
                          on_click=apply, classes=[f"compare-set-{side.lower()}"])
            if setup.changes:
                solara.Button("Clear levers", on_click=clear, text=True,
                              classes=[f"compare-clear-{side.lower()}"])
        hint = levers.spec(lever).hint
        solara.Text(("Moved now, it acts from the next month and goes on the timeline. "
                     if running else "Set before the run: both sides start again at month 0. ")
                    + hint, style={"font-size": "12px", "color": "#555"})
        if error:
            solara.Error(error, dense=True, classes=["compare-lever-error"])


@solara.component
def ComparePage(session: Session, revision: int, refresh: Any) -> None:
    # Lazy: app.py imports this module and owns the shared Play/Step/Reset row.
    from .app import Controls

    pair = session.ensure_compare()
    comparison = session.comparison()
    names = solara.use_memo(scenario_names, [])
    indicator, set_indicator = solara.use_state("welfare")
    upload_message, set_upload_message = solara.use_state(("", ""))
    seeds, set_seeds = solara.use_state(SEED_CHOICES[0])
    progress, set_progress = solara.use_state(0.0)

    def run_export() -> dict[str, Any]:
        set_progress(0.0)
        return compare.export(session, seeds=seeds, out_root=results.results_root(),
                              progress=lambda done, total: set_progress(
                                  100.0 * done / max(total, 1)))
    task = solara.lab.use_task(run_export, dependencies=None)

    def take_file(name: str, size: int, read: Any) -> None:
        error = session.upload_scenario(name, size, read)
        if error:
            set_upload_message(("error", error))
        else:
            sc = session.comparison().scenario(session.comparison().setups["B"].scenario)
            set_upload_message(("ok", f"Loaded {name} as side B: {sc.name}. "
                                      + " ".join(sc.description.split())))
        refresh()

    solara.Style(CSS)
    solara.Text("Two policies side by side: side A and side B on the same seed (common random "
                "numbers), stepped together, so with the same scenario and levers the "
                "difference is exactly zero and any difference is the policy's, not chance's.",
                style={"font-size": "14px"})
    shared = session.shared_levers()
    shared_text = ", ".join("the Education Model mix per university" if k == levers.EDU_MIX
                            else f"{k} = {compare.value_text(v)}" for k, v in shared.items()
                            ) or "none"
    solara.Text(f"Both sides: seed {session.seed} and the levers moved on Explore ({shared_text}),"
                " applied at Reset.", classes=["compare-shared"],
                style={"font-size": "12px", "color": "#555"})
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "stretch"}):
        SideCard(session, "A", names, pair, revision, refresh)
        SideCard(session, "B", names, pair, revision, refresh)
    uploaded = urlstate.uploaded_sides(session)
    if uploaded:
        names_ = " and ".join(f"side {side} ({comparison.setups[side].scenario})"
                              for side in uploaded)
        solara.Info(f"The address of this page leaves out {names_}: an address holds "
                    "settings, not files. Whoever opens it sees "
                    f"{'that side' if len(uploaded) == 1 else 'those sides'} as "
                    f"{session.scenario.name} until they load the same file.", dense=True,
                    classes=["compare-upload-address"])
    with solara.Details("Load a scenario file as side B", expand=True):
        solara.Text(f"A TOML scenario file (at most {MAX_BYTES // 2**20} MiB), checked as "
                    "`helixsim check` checks it; it may extend a library scenario by name.",
                    style={"font-size": "12px", "color": "#555"})
        with solara.Div(classes=["compare-upload"]):
            ScenarioUpload(take_file)
        kind, text = upload_message
        if kind == "error":
            solara.Error(text, classes=["upload-error"])
        elif kind == "ok":
            solara.Success(text, classes=["upload-ok"])
    if comparison.message:
        solara.Error(comparison.message, classes=["compare-message"])
    if pair is None:
        return
    Controls(session, session.step_compare, session.reset_compare, refresh, pair.done,
             "compare")
    solara.Text(f"Month {pair.month} of {pair.horizon} (year {pair.month / 12:.1f})",
                classes=["compare-month"], style={"font-size": "18px"})
    horizons = {side: run.horizon for side, run in pair.runs.items()}
    if len(set(horizons.values())) > 1:
        solara.Warning(f"The sides have different horizons (A {horizons['A']}, B "
                       f"{horizons['B']} months): both run to the shorter one.", dense=True)
    solara.Text(pair.sentence(indicator), classes=["compare-sentence"],
                style={"font-size": "15px", "font-weight": "bold"})
    labels = {indicator_label(key): key for key in compare.CHART_INDICATORS}
    solara.Select("indicator", values=list(labels), value=indicator_label(indicator),
                  on_value=lambda v: set_indicator(labels[v]), style={"max-width": "420px"})
    solara.HTML(tag="div", unsafe_innerHTML=compare.legend_html())
    solara.HTML(tag="div", unsafe_innerHTML=pair.charts_svg(indicator),
                classes=["compare-charts"])
    timeline = pair.timeline()
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "flex-start"},
                    classes=["compare-tables"]):
        with solara.Column(style={"min-width": "320px"}):
            solara.HTML(tag="div", unsafe_innerHTML=html_table(
                timeline, "Timeline: policy events by month (year y starts at month "
                          "12(y - 1) + 1)") if len(timeline) else
                "<p>Timeline: no policy events on either side.</p>",
                classes=["compare-timeline"])
        with solara.Column(style={"min-width": "320px"}):
            solara.HTML(tag="div", unsafe_innerHTML=html_table(
                pair.now(), f"Main indicators at month {pair.month}"),
                classes=["compare-now"])
    solara.Text("Export: both sides as scenario files, run as `helixsim compare A B --seeds N "
                f"--seed {session.seed}` runs them (paired seeds, 95% intervals); the report "
                "and the scenario files download as one zip and stay on the Results page.",
                style={"font-size": "12px", "color": "#555"})
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}):
        solara.Select("seeds", values=list(SEED_CHOICES), value=seeds, on_value=set_seeds,
                      style={"max-width": "120px"})
        solara.Button("Export the comparison (report)", on_click=task, disabled=task.pending,
                      color="primary", classes=["compare-export"])
    if task.pending:
        solara.ProgressLinear(progress)
        solara.Text(f"{progress:.0f}% of the runs done")
    elif task.error:
        solara.Error(f"The export failed: {task.exception}", classes=["compare-export-error"])
    elif task.finished and task.value:
        result = task.value
        solara.FileDownload(result["zip"], "helixsim-compare-report.zip",
                            label="Download the report (zip)", mime_type="application/zip")
        solara.Text(f"Report: {result['report']} (open it on the Results page)",
                    classes=["compare-report"])
