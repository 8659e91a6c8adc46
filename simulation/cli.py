"""The ``helixsim`` command line.

``helixsim demo`` runs the default region and prints the main indicators at years 0, 5 and 10;
``helixsim params`` prints the parameter table. Scenario, comparison and dividend commands come
with the scenario layer.
"""

from __future__ import annotations

import sys
import time

import typer
from rich.console import Console
from rich.table import Table

from .parameters import ParameterError, markdown_table

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="helixsim: the ecological dividend of industry-university-government "
                       "integration.")

MAIN_INDICATORS = (
    ("value_added", "Regional value added (MCU/month)", "{:,.1f}"),
    ("welfare", "Welfare W, discounted cumulative VA (MCU)", "{:,.0f}"),
    ("jobs", "Jobs", "{:,.0f}"),
    ("firms_alive", "Firms alive", "{:,.0f}"),
    ("innovations_total", "Innovations so far", "{:,.0f}"),
    ("active_projects", "Active university-industry projects", "{:,.0f}"),
    ("share_firms_collaborating", "Share of firms collaborating", "{:.1%}"),
    ("university_knowledge", "University knowledge (mean level)", "{:,.0f}"),
    ("publications_total", "Publications so far", "{:,.0f}"),
    ("students_enrolled", "Students enrolled", "{:,.0f}"),
    ("graduates_total", "Graduates so far", "{:,.0f}"),
    ("graduate_retention_rate", "Graduates still in the region", "{:.1%}"),
    ("startups_alive", "Start-ups and spin-offs alive", "{:,.0f}"),
    ("mean_digital_maturity", "Mean digital maturity", "{:.3f}"),
    ("gov_net_fiscal", "Government net fiscal position (MCU)", "{:,.0f}"),
    ("synergy_S", "Triple-helix synergy S (millibits)", "{:.2f}"),
)


@app.command()
def demo(seed: int = typer.Option(1, help="Seed of the run."),
         years: int = typer.Option(10, min=1, max=100, help="Years to simulate.")) -> None:
    """Run the default region and print the main indicators at years 0, 5 and 10."""
    from .model import EcosystemModel

    console = Console()
    months = 12 * years
    started = time.perf_counter()
    model = EcosystemModel(rng=seed, horizon_months=months)
    with console.status(f"simulating {years} years of the default region..."):
        model.run()
    elapsed = time.perf_counter() - started
    df = model.dataframe()
    marks = sorted({0, months // 2, months})
    table = Table(title=f"Default region, seed {seed} ({elapsed:.2f} s)")
    table.add_column("indicator")
    for m in marks:
        table.add_column(f"year {m / 12:g}", justify="right")
    for key, label, fmt in MAIN_INDICATORS:
        table.add_row(label, *(fmt.format(df.loc[m, key]) for m in marks))
    console.print(table)
    console.print("Year N is the state after 12N months; month 1 is September, so year-end "
                  "rows fall in August,\nafter June graduation and before the September intake.",
                  style="dim")


@app.command()
def params() -> None:
    """Print the parameter table (Markdown): unit, range, default and source of each."""
    sys.stdout.write(markdown_table())


def main() -> None:  # pragma: no cover
    try:
        app()
    except ParameterError as err:
        Console(stderr=True).print(f"error: {err}")
        raise SystemExit(2) from None
