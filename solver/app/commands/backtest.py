"""``leadroute backtest``: compare strategies against historical conversions, honestly."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from solver.app._io import write_csv_atomic
from solver.app.backtest import BacktestConfig, BacktestResult, check_batch, run_backtest
from solver.app.report import PLOTS_MISSING, conclusions, plots_available, render_report
from solver.errors import InputError
from solver.policy import load_policy


def register(app: typer.Typer) -> None:
    @app.command()
    def backtest(
        history: Path = typer.Option(..., "--history", help="History CSV (contract)."),
        reps: Path = typer.Option(..., "--reps", help="Reps CSV (capacity = per batch)."),
        out: Path = typer.Option(..., "--out", help="Output folder."),
        strategies: str = typer.Option(
            "round_robin,greedy,optimal", "--strategies", help="Comma-separated names."
        ),
        estimators: str = typer.Option("replay,ips,snips,dm,dr", "--estimators"),
        policy: Path | None = typer.Option(None, "--policy", help="Routing policy (TOML)."),
        n_bootstrap: int = typer.Option(200, "--n-bootstrap", min=10),
        n_folds: int = typer.Option(5, "--folds", min=2, help="Cross-fitting time blocks."),
        batch: str = typer.Option("D", "--batch", help="Batch period (pandas alias)."),
        time_limit: float = typer.Option(2.0, "--time-limit", min=0.01,
                                         help="Seconds per batch and strategy."),
        seed: int = typer.Option(0, "--seed"),
        capacity: str = typer.Option(
            "logged", "--capacity",
            help="Capacity per batch: 'logged' (default) = each rep's busiest logged batch, "
                 "so no strategy is credited with loads the log never saw; 'table' = the "
                 "reps' capacity column."),
    ) -> None:
        """Replay history per batch under each strategy; estimate conversions with
        off-policy estimators and bootstrap intervals; write CSVs and an HTML report."""
        names = tuple(s.strip() for s in strategies.split(",") if s.strip())
        if not names:
            raise InputError("give at least one strategy", source="--strategies")
        check_batch(batch, source="--batch")
        config = BacktestConfig(
            strategies=names,
            estimators=tuple(e.strip() for e in estimators.split(",") if e.strip()),
            n_folds=n_folds, n_bootstrap=n_bootstrap, batch=batch, seed=seed,
            time_limit_s=time_limit,
            policy=load_policy(policy) if policy is not None else None,
            capacity=capacity,
        )
        console = Console()
        with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                      console=console, transient=True) as bar:
            task = bar.add_task("starting", total=1)

            def progress(text: str, done: int, total: int) -> None:
                bar.update(task, description=text, completed=done, total=max(total, 1))

            result = run_backtest(history, reps, config, progress)
        write_outputs(result, out)
        show(console, result, out)


def write_outputs(result: BacktestResult, out: Path) -> None:
    """Everything goes to a temporary folder first, then replaces ``out`` in one move."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        write_csv_atomic(result.estimates, staging / "estimates.csv")
        write_csv_atomic(result.lift, staging / "lift.csv")
        write_csv_atomic(result.fairness, staging / "fairness.csv")
        write_csv_atomic(result.loads.reset_index(names="rep_id"), staging / "loads.csv")
        for name, table in result.assignments.items():
            write_csv_atomic(table, staging / f"assignments_{name}.csv")
        (staging / "report.html").write_text(render_report(result), encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def show(console: Console, result: BacktestResult, out: Path) -> None:
    table = Table(title="lift over the logged routing (conversions per lead)")
    for column in ("strategy", "estimator", "lift", "interval"):
        table.add_column(column)
    for row in result.lift.itertuples():
        table.add_row(str(row.strategy), str(row.estimator), f"{row.lift:+.4f}",
                      f"[{row.ci_low:+.4f}, {row.ci_high:+.4f}]")
    console.print(table)
    for line in conclusions(result.lift):
        console.print(line)
    for note in result.notes:
        console.print(f"note: {note}")
    if not plots_available():
        console.print(f"note: report.html {PLOTS_MISSING}", markup=False)
    console.print(f"written to {out}/ (estimates.csv, lift.csv, fairness.csv, report.html)")
