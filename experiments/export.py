"""Per-year and per-month tables of a batch command's runs, and their CSV and Excel export.

Every batch command (run, compare, dividend, experiment, validate, calibrate, posterior,
optimise) ends here, through one function, ``finish``:

- ``per_year.parquet`` (and ``per_month.parquet`` on request) next to the command's other
  Parquet results: one row per configuration (``label``: scenario, siloed counterfactual,
  design point...) and year, one column per indicator, the mean over the replications. A
  year is 12 months: year y covers months 12 (y - 1) + 1 to 12 y (a September to an August).
  Indicators counted per month (unit "per month", "MCU/month") are summed over the year's
  months (unit "per year", "MCU/year"); the others are the value at the end of the year (the
  state after its last month). ``months`` says how many months a row covers (a horizon that
  is not a whole number of years ends with a shorter year). The tables are of the command's
  own runs: a folder used again also holds earlier batches' runs (an earlier model's: a
  model change gives new run ids), which stay on disk and out of these tables.
- ``--export csv,xlsx``: ``export/<table>.csv`` and ``export/tables.xlsx`` (one sheet per
  table) of the per-year and per-month tables, the command's result tables (final values,
  differences, dividend, Shapley values, sensitivity indices, targets...) and the other
  Parquet tables of the folder; every header carries the unit of its column.

Parquet keeps the indicators' plain names (for programs); CSV and Excel are for people, so
their headers are labels with units (``experiments.formatting``). Every file is written
through ``storage.atomic_write``: a final name only ever holds a complete file, and the
formats are checked (``parse_formats``) before a command runs anything.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from simulation.indicators import INDICATORS

from . import run_files
from .formatting import indicator_label
from .storage import atomic_write, write_parquet

FORMATS = ("csv", "xlsx")
EXPORT_DIR = "export"
WORKBOOK = "tables.xlsx"
RESULT_FILE = "_result.json"  # what the command returned (helixsim results reads it)
PER_YEAR, PER_MONTH = "per_year", "per_month"
# Columns of the run tables that are keys, not indicators.
KEYS = ("run_id", "label", "replication", "step")
# Units counted per month: summed over a year's months.
_FLOW_UNITS = {"per month": "per year", "MCU/month": "MCU/year"}
# Headers of columns that are not indicators (units where they have one).
_COLUMN_HEADERS = {
    "label": "Configuration", "year": "Year", "months": "Months in the year",
    "month": "Month", "runs": "Runs (replications)", "replication": "Replication",
    "scenario": "Scenario", "indicator": "Indicator", "unit": "Unit", "name": "Indicator label",
    "mean": "Mean", "low": "95% interval: low", "high": "95% interval: high",
    "n": "Seeds (n)", "lever": "Lever setting", "factor": "Factor", "output": "Output",
    "rule": "Box (rule)", "coverage": "Coverage (share)", "density": "Density (share)",
    "S1": "S1 (first order)", "S1_conf": "S1 ± (95%)", "ST": "ST (total)",
    "ST_conf": "ST ± (95%)", "mu": "μ", "mu_star": "μ*", "mu_star_conf": "μ* ± (95%)",
    "sigma": "σ",
    "box": "Box", "cases": "Cases", "dividend": "Dividend D(W) (MCU)",
    "welfare_siloed": "Welfare W of the siloed counterfactual (MCU)",
}
_EXCEL_SHEET_CHARS = 31  # Excel's limit on a sheet name


def parse_formats(text: str | None, option: str = "--export") -> tuple[str, ...]:
    """``"csv,xlsx"`` -> ("csv", "xlsx"); ValueError naming the option for anything else."""
    if text is None:
        return ()
    parts = [p.strip().lower() for p in str(text).split(",")]
    bad = [p for p in parts if p not in FORMATS]
    if not parts or bad or len(set(parts)) != len(parts):
        shown = ", ".join(repr(p) for p in bad) if bad else repr(text)
        raise ValueError(f"{option} {text}: unknown or repeated format {shown}; expected "
                         f"csv, xlsx or csv,xlsx")
    return tuple(parts)


# --- the tables ----------------------------------------------------------------------------------

def indicator_columns(steps: pd.DataFrame) -> list[str]:
    """The indicator columns of a run table, in the indicator table's order."""
    return [c for c in steps.columns if c in INDICATORS and c not in ("month",)
            and c not in KEYS]


def year_unit(name: str) -> str:
    """The unit of an indicator in the per-year table ("per month" summed is "per year")."""
    unit = INDICATORS.get(name, ("", ""))[0]
    return _FLOW_UNITS.get(unit, unit)


def _is_flow(name: str) -> bool:
    return INDICATORS.get(name, ("", ""))[0] in _FLOW_UNITS


def per_year(steps: pd.DataFrame) -> pd.DataFrame:
    """One row per label and year: flows summed over the year's months, stocks at its end,
    then the mean over replications (see the module's docstring)."""
    inds = indicator_columns(steps)
    cols = ["label", "year", "months", "runs", *inds]
    body = steps[steps["step"] >= 1] if len(steps) else steps
    if body.empty:
        return pd.DataFrame(columns=cols)
    body = body.assign(year=(body["step"].astype(int) + 11) // 12)
    keys = ["label", "replication", "year"]
    grouped = body.sort_values("step").groupby(keys, sort=False)
    flows = [c for c in inds if _is_flow(c)]
    stocks = [c for c in inds if not _is_flow(c)]
    parts = [grouped["step"].size().rename("months")]
    if flows:
        parts.append(grouped[flows].sum())
    if stocks:
        parts.append(grouped[stocks].last())
    per_run = pd.concat(parts, axis=1).reset_index()
    table = per_run.groupby(["label", "year"], sort=False).agg(
        months=("months", "max"), runs=("replication", "nunique"),
        **{c: (c, "mean") for c in inds})
    return table.reset_index().sort_values(["label", "year"], kind="stable")[cols] \
        .reset_index(drop=True)


def per_month(steps: pd.DataFrame) -> pd.DataFrame:
    """One row per label and month (0 = the initial state): the mean over replications."""
    inds = indicator_columns(steps)
    cols = ["label", "month", "runs", *inds]
    if steps.empty:
        return pd.DataFrame(columns=cols)
    table = steps.groupby(["label", "step"], sort=False).agg(
        runs=("replication", "nunique"), **{c: (c, "mean") for c in inds})
    table = table.reset_index().rename(columns={"step": "month"})
    return table.sort_values(["label", "month"], kind="stable")[cols].reset_index(drop=True)


def read_runs(folder: Path, run_ids: Iterable[str] | None = None) -> pd.DataFrame | None:
    """The run tables in ``folder/runs`` as one table (None when there is none): those of
    ``run_ids`` (a batch's runs), or every run stored. In the order of label, replication
    and month: which runs share a file depends on when they finished, so the files' order is
    not the runs' (and the means over replications of the per-year tables would differ in the
    last bit from one batch to another).

    Why a batch names its runs: a folder used again keeps the runs of every earlier batch,
    those of an earlier model included (a model change gives new run ids, so they are run
    again and the old ones stay), and a batch's tables are of its own runs only."""
    wanted = run_files.index(folder) if run_ids is None else run_ids
    frames = [f for f in run_files.read_runs(folder, wanted).values()
              if len(f) and {"label", "replication", "step"} <= set(f.columns)]
    if not frames:
        return None
    keys = ["label", "replication", "step", *(["run_id"] if "run_id" in frames[0] else [])]
    return (pd.concat(frames, ignore_index=True).sort_values(keys, kind="stable")
            .reset_index(drop=True))


def result_tables(result: Mapping[str, Any], prefix: str = "") -> dict[str, pd.DataFrame]:
    """The tables of a command's result: every list of flat records (``final``,
    ``differences``, ``dividend``, ``shapley``, ``targets``...), and one level of dicts of
    them (an experiment's ``indices`` per lever), by name."""
    out: dict[str, pd.DataFrame] = {}
    for key, value in result.items():
        if key.startswith("_") or key in ("meta", "tables"):
            continue
        name = f"{prefix}{key}"
        if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            flat = [{k: v for k, v in row.items() if _scalar(v)} for row in value]
            if any(flat):
                out[name] = pd.DataFrame(flat)
        elif isinstance(value, Mapping) and not prefix and value and all(
                isinstance(v, list) for v in value.values()):
            out.update(result_tables(value, prefix=f"{key} "))
    return out


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, bool, int, float, np.integer, np.floating))


# --- headers with units --------------------------------------------------------------------------

def header(column: str, *, yearly: bool = False) -> str:
    """A column's header for people, with its unit: ``jobs`` -> "Jobs (persons)"; in a
    per-year table a flow's unit is per year."""
    column = str(column)
    if column in _COLUMN_HEADERS:
        return _COLUMN_HEADERS[column]
    if column in INDICATORS:
        label = indicator_label(column, unit=False)
        unit = year_unit(column) if yearly else INDICATORS[column][0]
        if yearly and _is_flow(column):
            unit += ", summed over the year"
        return f"{label} ({unit})" if unit else label
    return column


def for_people(name: str, table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with headers that carry units; a table with an ``indicator`` column gets the
    unit of each row's indicator in a ``unit`` column next to it."""
    df = table.copy()
    if "indicator" in df.columns and "unit" not in df.columns:
        at = list(df.columns).index("indicator") + 1
        df.insert(at, "unit", [INDICATORS.get(str(i), ("", ""))[0] for i in df["indicator"]])
        if "name" not in df.columns:
            df.insert(at, "name", [indicator_label(str(i), unit=False) for i in df["indicator"]])
    yearly = name == PER_YEAR
    names = [header(c, yearly=yearly) for c in df.columns]
    seen: dict[str, int] = {}
    for i, n in enumerate(names):  # two columns may read alike (a name and its label)
        seen[n] = seen.get(n, 0) + 1
        if seen[n] > 1:
            names[i] = f"{n} [{df.columns[i]}]"
    df.columns = names
    return df


def _sheet_names(names: Sequence[str]) -> list[str]:
    """Names Excel accepts: at most 31 characters, none of []:*?/\\, unique."""
    out: list[str] = []
    for name in names:
        clean = "".join(" " if c in "[]:*?/\\" else c for c in name).strip() or "table"
        base = clean[:_EXCEL_SHEET_CHARS]
        candidate, i = base, 2
        while candidate.lower() in {o.lower() for o in out}:
            suffix = f" {i}"
            candidate = base[:_EXCEL_SHEET_CHARS - len(suffix)] + suffix
            i += 1
        out.append(candidate)
    return out


def _file_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name).strip("_") or "table"


def export(folder: Path, tables: Mapping[str, pd.DataFrame], formats: Sequence[str]
           ) -> list[Path]:
    """Write ``tables`` as ``export/<name>.csv`` and/or ``export/tables.xlsx`` (one sheet per
    table, in the order given). Each file is rendered in memory and renamed into place."""
    written: list[Path] = []
    if not formats or not tables:
        return written
    out = Path(folder) / EXPORT_DIR
    people = {name: for_people(name, df) for name, df in tables.items()}
    if "csv" in formats:
        used: set[str] = set()
        for name, df in people.items():
            stem = _file_name(name)
            while stem in used:
                stem += "_"
            used.add(stem)
            written.append(atomic_write(out / f"{stem}.csv",
                                        df.to_csv(index=False, float_format="%.10g")))
    if "xlsx" in formats:
        buffer = io.BytesIO()
        with pd.ExcelWriter(buffer, engine="openpyxl") as book:
            for sheet, df in zip(_sheet_names(list(people)), people.values(), strict=True):
                _excel_safe(df).to_excel(book, sheet_name=sheet, index=False)
                _fit_columns(book.sheets[sheet], df)
        written.append(atomic_write(out / WORKBOOK, buffer.getvalue()))
    return written


def _excel_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Infinities as text (Excel has no infinity) and dict-like cells as text."""
    df = df.copy()
    for c in df.columns:
        if pd.api.types.is_float_dtype(df[c]):
            if np.isinf(df[c].to_numpy(dtype=float)).any():
                df[c] = df[c].map(lambda v: ("inf" if v > 0 else "-inf")
                                  if isinstance(v, float) and math.isinf(v) else v)
        elif df[c].dtype == object:
            df[c] = df[c].map(lambda v: v if _scalar(v) else str(v))
    return df


def _fit_columns(sheet: Any, df: pd.DataFrame) -> None:
    """Column widths that show the headers (units included) without a cut."""
    from openpyxl.utils import get_column_letter

    for i, column in enumerate(df.columns, start=1):
        width = min(max(len(str(column)), 10) + 2, 60)
        sheet.column_dimensions[get_column_letter(i)].width = width


# --- the one entry point -------------------------------------------------------------------------

def finish(folder: Path, result: Mapping[str, Any], *, steps: pd.DataFrame | None = None,
           run_ids: Iterable[str] | None = None, per_month_table: bool = False,
           formats: Sequence[str] = ()) -> dict[str, Any]:
    """After a batch command: write the per-year (and per-month) tables of its runs next to its
    Parquet results, then export them and its other tables as ``formats``.

    The runs are ``steps`` (their monthly tables: key columns label, replication, step plus
    the indicators), or else those of ``run_ids`` (the batch's runs), read from
    ``folder/runs``; with neither there are no per-year tables. Returns the paths written,
    by kind, for the command's result.
    """
    folder = Path(folder)
    if steps is None and run_ids is not None:
        steps = read_runs(folder, run_ids)
    tables: dict[str, pd.DataFrame] = {}
    files: dict[str, Any] = {}
    if steps is not None and len(steps):
        tables[PER_YEAR] = per_year(steps)
        files[PER_YEAR] = str(write_parquet(tables[PER_YEAR], folder / f"{PER_YEAR}.parquet"))
        if per_month_table:
            tables[PER_MONTH] = per_month(steps)
            files[PER_MONTH] = str(write_parquet(tables[PER_MONTH],
                                                 folder / f"{PER_MONTH}.parquet"))
    if formats:
        tables.update({k: v for k, v in result_tables(result).items() if k not in tables})
        for path in sorted(folder.glob("*.parquet")):
            if path.stem not in tables and path.stem not in (PER_YEAR, PER_MONTH):
                try:
                    tables[path.stem] = pd.read_parquet(path)
                except Exception:  # a table another tool left there: not ours to export
                    continue
        files["export"] = [str(p) for p in export(folder, tables, formats)]
    return files
