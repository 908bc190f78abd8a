"""``leadroute sweep``: the backtest's estimates and lift from few parallel tasks, serially
or on Spark (``--spark local[N]`` or a master URL); the numbers equal ``backtest``'s."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import typer
from rich.console import Console

from solver.app._io import write_csv_atomic
from solver.app.backtest import BacktestConfig
from solver.app.partitioned_route import read_table
from solver.errors import InputError
from solver.policy import load_policy


def register(app: typer.Typer) -> None:
    @app.command()
    def sweep(
        history: Path = typer.Option(..., "--history", help="History CSV or Parquet."),
        reps: Path = typer.Option(..., "--reps", help="Reps CSV or Parquet."),
        out: Path = typer.Option(..., "--out", help="Output folder (estimates.csv, lift.csv)."),
        strategies: str = typer.Option("round_robin,greedy,optimal", "--strategies"),
        estimators: str = typer.Option("replay,ips,snips,dm,dr", "--estimators"),
        policy: Path | None = typer.Option(None, "--policy", help="Routing policy (TOML)."),
        n_bootstrap: int = typer.Option(200, "--n-bootstrap", min=10),
        n_folds: int = typer.Option(5, "--folds", min=2),
        batch: str = typer.Option("D", "--batch", help="Batch period (pandas alias)."),
        time_limit: float = typer.Option(2.0, "--time-limit", min=0.01),
        seed: int = typer.Option(0, "--seed"),
        spark: str | None = typer.Option(None, "--spark", help="local[N] or a master URL."),
        max_tasks: int = typer.Option(200, "--max-tasks", min=1,
                                      help="Replay tasks at most (each costs ~30 ms)."),
    ) -> None:
        """Backtest sweep (strategies × batches × bootstrap) as parallel tasks."""
        from solver.app.sweep import Runner, run_sweep, serial_runner, spark_runner

        names = tuple(s.strip() for s in strategies.split(",") if s.strip())
        if not names:
            raise InputError("give at least one strategy", source="--strategies")
        config = BacktestConfig(
            strategies=names,
            estimators=tuple(e.strip() for e in estimators.split(",") if e.strip()),
            n_folds=n_folds, n_bootstrap=n_bootstrap, batch=batch, seed=seed,
            time_limit_s=time_limit,
            policy=load_policy(policy) if policy is not None else None,
        )
        runner: Runner = serial_runner
        if spark is not None:
            from solver.app.spark import spark_session

            runner = spark_runner(spark_session(spark))
        result = run_sweep(read_table(history, "history"), read_table(reps, "reps"), config,
                           runner=runner, max_tasks=max_tasks)
        out.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
        try:
            write_csv_atomic(result.estimates, staging / "estimates.csv")
            write_csv_atomic(result.lift, staging / "lift.csv")
            if out.exists():
                shutil.rmtree(out)
            staging.rename(out)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        Console().print(f"{result.n_replay_tasks} replay and {result.n_estimate_tasks} "
                        f"estimate tasks{' on Spark (' + spark + ')' if spark else ''}; "
                        f"written to {out}/ (estimates.csv, lift.csv)")
