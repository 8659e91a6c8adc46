"""The report writer: figure contents, report files, number formatting, escaping, atomicity."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from experiments.figures import level_panels
from experiments.report import (
    Section,
    dividend_bars,
    figure_png,
    format_value,
    markdown_to_html,
    shapley_waterfall,
    write_report,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def steps() -> pd.DataFrame:
    """Synthetic long table like RunSet.steps: 2 labels x 8 replications x 25 months."""
    rng = np.random.default_rng(7)
    rows = []
    for k, label in enumerate(["baseline", "model_3_0"]):
        for rep in range(8):
            walk = np.cumsum(rng.normal(1.0 + 0.5 * k, 0.3, size=25))
            for step in range(25):
                rows.append({"run_id": f"{label}-{rep}", "label": label, "replication": rep,
                             "step": step, "value_added": 10.0 + walk[step],
                             "jobs": int(100 + 3 * step + rep)})
    return pd.DataFrame(rows)


@pytest.fixture
def dividend() -> pd.DataFrame:
    return pd.DataFrame({
        "component": ["value added", "knowledge", "publications", "graduates employed",
                      "net fiscal"],
        "helix": ["industry", "university", "university", "students", "government"],
        "relative": [0.125, 0.0375, -0.02, 0.25, float("nan")],
        "rel_low": [0.1, 0.01, -0.05, 0.2, float("nan")],
        "rel_high": [0.15, 0.065, 0.01, 0.3, float("nan")],
    })


@pytest.fixture
def shapley() -> pd.DataFrame:
    return pd.DataFrame({
        "channel": ["joint_research", "student_immersion", "incubation", "platform",
                    "brokerage"],
        "mean": [12.5, 7.25, -1.5, 3.125, 0.75],
        "low": [10.0, 5.0, -3.0, 1.0, -0.5],
        "high": [15.0, 9.5, 0.0, 5.25, 2.0],
    })


def test_dividend_bars_one_bar_per_row(dividend):
    fig = dividend_bars(dividend)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.patches) == len(dividend)
    widths = [p.get_width() for p in ax.patches]
    assert widths == pytest.approx([0.125, 0.0375, -0.02, 0.25, 0.0])
    # colour by helix: both university rows share a colour, industry differs
    colours = [p.get_facecolor() for p in ax.patches]
    assert colours[1] == colours[2] and colours[0] != colours[1]
    # a vertical line at 0
    assert any(list(line.get_xdata()) == [0, 0] for line in ax.lines)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "value added (industry)"


def test_shapley_waterfall_ends_at_the_sum(shapley):
    fig = shapley_waterfall(shapley)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.patches) == len(shapley) + 1
    total = ax.patches[-1]
    assert total.get_y() == 0
    assert total.get_height() == pytest.approx(shapley["mean"].sum())
    # each step starts where the previous one ended
    steps = ax.patches[:-1]
    for prev, nxt in itertools.pairwise(steps):
        assert nxt.get_y() == pytest.approx(prev.get_y() + prev.get_height())
    assert len(ax.collections) >= 1  # error bars


def test_shapley_waterfall_closes_a_gap_to_a_given_total(shapley):
    exact = shapley_waterfall(shapley, total=float(shapley["mean"].sum()))
    assert len(exact.axes[0].patches) == len(shapley) + 1
    fig = shapley_waterfall(shapley, total=30.0, total_interval=(25.0, 35.0))
    patches = fig.axes[0].patches
    assert len(patches) == len(shapley) + 2
    assert patches[-2].get_y() + patches[-2].get_height() == pytest.approx(30.0)
    assert patches[-1].get_height() == pytest.approx(30.0)


def test_figures_are_deterministic(shapley):
    assert figure_png(shapley_waterfall(shapley)) == figure_png(shapley_waterfall(shapley))


def test_format_value():
    assert format_value(3) == "3"
    assert format_value(np.int64(1500)) == "1,500"
    assert format_value(0.1234) == "0.1234"
    assert format_value(12.5) == "12.5"
    assert format_value(-3.75) == "-3.75"
    assert format_value(2.0) == "2"
    assert format_value(1 / 3) == "0.3333"
    assert format_value(123456.7) == "123,457"
    assert format_value(37320.4) == "37,320"  # not 3.732e+04
    assert format_value(2.5e7) == "25,000,000"
    assert format_value(float("nan")) == "–"
    assert format_value(2.5e-7) == "2.5e-07"


def test_markdown_to_html_escapes_and_renders():
    out = markdown_to_html("A **bold** `x<y` <b>\n\n- one\n- [two](javascript:alert(1))")
    assert "<strong>bold</strong>" in out and "<code>x&lt;y</code>" in out
    assert "&lt;b&gt;" in out and "<ul><li>one</li>" in out
    assert "javascript" not in out


def test_write_report(tmp_path, steps, dividend, shapley):
    summary = pd.DataFrame({"indicator": ["welfare", "jobs"], "mean": [0.1234, 1500.0],
                            "low": [-3.75, 12.5], "n": [8, 8], "seeds": [8.0, 16.0]})
    description = 'Region <script>alert("x")</script> & co'
    sections = [
        Section("Scenario", f"**model_3_0**: {description}",
                tables=[("Final values", summary)],
                figures=[("fan_value_added", "Value added",
                          level_panels(steps, "value_added", ["baseline", "model_3_0"]))]),
        Section("Dividend", "By helix and channel.",
                tables=[("Dividend", dividend), ("Shapley values", shapley)],
                figures=[("dividend.png", "Relative dividend", dividend_bars(dividend)),
                         ("shapley.png", "Shapley <waterfall>", shapley_waterfall(shapley))]),
    ]
    meta = {"command": "helixsim dividend model_3_0", "scenarios": ["model_3_0"], "seeds": 8,
            "workers": 2, "elapsed_s": 12.345, "versions": {"python": "3.12"},
            "git_commit": None, "description": description}
    out = tmp_path / "report"
    path = write_report(out, "Dividend <of> model_3_0", sections, meta)
    assert path == out / "report.md"
    md = path.read_text(encoding="utf-8")
    page = (out / "report.html").read_text(encoding="utf-8")
    for name in ("fan_value_added.png", "dividend.png", "shapley.png"):
        data = (out / "figures" / name).read_bytes()
        assert data.startswith(PNG_MAGIC)
        assert f"figures/{name}" in md and f'src="figures/{name}"' in page
    for df in (summary, dividend, shapley):
        for column in df.select_dtypes("number"):
            whole = all(float(v).is_integer() for v in df[column].dropna())
            for value in df[column]:
                shown = str(int(value)) if whole else format_value(value)
                assert f" {shown} |" in md, (column, value)
    # whole-number float columns print as integers
    for literal in ("0.1234", "| 1,500 |", "-3.75", "12.5", "0.125", "-0.02", "3.125"):
        assert literal in md
    assert "| Elapsed | 12.3 s |" in md and "helixsim dividend model_3_0" in md
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert "&lt;waterfall&gt;" in page and "Dividend &lt;of&gt; model_3_0" in page
    assert "<strong>model_3_0</strong>" in page
    leftovers = [p for p in out.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"]
    assert leftovers == []
    assert sorted(p.name for p in out.iterdir()) == ["figures", "report.html", "report.md"]


def test_write_report_rejects_bad_figure_names_and_writes_nothing(tmp_path, shapley):
    fig = shapley_waterfall(shapley)
    with pytest.raises(ValueError, match="plain name"):
        write_report(tmp_path / "r", "T", [Section("S", figures=[("../x.png", "", fig)])], {})
    with pytest.raises(ValueError, match="twice"):
        write_report(tmp_path / "r", "T",
                     [Section("S", figures=[("a.png", "", fig), ("a", "", fig)])], {})
    assert not (tmp_path / "r").exists()
