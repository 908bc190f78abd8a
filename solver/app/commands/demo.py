"""``leadroute demo``: the main job on an embedded default, readable by a newcomer."""

from __future__ import annotations

from pathlib import Path

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from solver.app.demo import DemoConfig, DemoReport, format_ratio, run_demo

# (header, name, meaning): short two-line headers keep the table inside 80 columns;
# the legend under the table spells each one out
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("strategy", "strategy", "how the batch was routed"),
    ("leads\nassigned", "leads assigned",
     "leads given to a rep (the rest wait: capacity ran out)"),
    ("expected\nconv.", "expected conversions",
     "sum of the world's true conversion probabilities of the chosen pairs (the demo "
     "knows the truth; a real batch does not)"),
    ("vs round\nrobin", "vs round robin", "expected conversions relative to round robin"),
    ("share\ndev.", "share deviation",
     "largest gap between a rep's share of the leads and its weight-proportional share; "
     "100% means some rep got no lead"),
    ("Gini", "Gini", "inequality of the load over reps: 0 = equal, 1 = one rep gets all"),
    ("seconds", "seconds", "wall time of the routing"),
)

NO_BAND = ("No fairness band was asked for: optimal and greedy maximise conversions within "
           "each rep's capacity only, so a rep who fits few leads may get none. To bound the "
           "share deviation, route with a policy that has [fairness] band = 0.1 (see the "
           "policy reference in the README).")


def demo_table(report: DemoReport) -> Table:
    base = next(r.expected_conversions for r in report.rows if r.strategy == "round_robin")
    table = Table(
        title=f"{report.n_leads} leads × {report.n_reps} reps — true expected conversions",
        box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False, collapse_padding=True,
    )
    for header, _name, _meaning in COLUMNS:
        left = header == "strategy"
        table.add_column(header, justify="left" if left else "right", no_wrap=True,
                         min_width=max(6, *(len(line) for line in header.splitlines())))
    for row in sorted(report.rows, key=lambda r: -r.expected_conversions):
        table.add_row(
            row.strategy, str(row.assigned), f"{row.expected_conversions:.1f}",
            format_ratio(row.expected_conversions, base), f"{row.share_deviation:.1%}",
            f"{row.gini:.3f}", f"{row.seconds:.3f}",
        )
    return table


def print_legend(console: Console) -> None:
    console.print("columns:")
    for _header, name, meaning in COLUMNS[1:]:
        console.print(f"  {name}: {meaning}", markup=False)
    console.print(NO_BAND, markup=False)


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        out: Path = typer.Option(Path("demo-output"), "--out", help="Folder for the outputs."),
        seed: int = typer.Option(0, "--seed"),
        n_leads: int = typer.Option(400, "--leads", min=1, help="Leads in the batch."),
        n_history: int = typer.Option(20_000, "--history", min=100, help="History rows."),
    ) -> None:
        """Synthetic world → fit the affinity model → route one batch with every strategy."""
        console = Console()
        with console.status("starting") as status:
            report = run_demo(
                DemoConfig(out=out, seed=seed, n_leads=n_leads, n_history=n_history),
                progress=lambda text: status.update(text),
            )
        console.print(demo_table(report))
        print_legend(console)
        if report.validation:
            console.print(report.validation)
        console.print("files:")
        for path in report.files:
            console.print(f"  {path}")
        console.print(
            f"next: leadroute route --leads {out}/leads.csv --reps {out}/batch_reps.csv "
            f"--model {out}/model.joblib --out {out}/routed.csv", markup=False, soft_wrap=True,
        )
