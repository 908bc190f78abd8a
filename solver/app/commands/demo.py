"""``leadroute demo``: the main job on an embedded default, readable by a newcomer."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from solver.app.demo import DemoConfig, format_ratio, run_demo


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
        base = next(r.expected_conversions for r in report.rows if r.strategy == "round_robin")
        table = Table(
            title=f"{report.n_leads} leads × {report.n_reps} reps — true expected conversions"
        )
        for column in ("strategy", "assigned", "exp. conversions", "vs round robin",
                       "share deviation", "Gini", "seconds"):
            table.add_column(column, justify="left" if column == "strategy" else "right")
        for row in sorted(report.rows, key=lambda r: -r.expected_conversions):
            table.add_row(
                row.strategy, str(row.assigned), f"{row.expected_conversions:.1f}",
                format_ratio(row.expected_conversions, base), f"{row.share_deviation:.1%}",
                f"{row.gini:.3f}", f"{row.seconds:.3f}",
            )
        console.print(table)
        if report.validation:
            console.print(report.validation)
        console.print("files:")
        for path in report.files:
            console.print(f"  {path}")
        console.print(
            f"next: leadroute route --leads {out}/leads.csv --reps {out}/batch_reps.csv "
            f"--model {out}/model.joblib --out {out}/routed.csv"
        )
