"""The learning loop's commands: ``outcomes import`` and ``history export`` (the store, so
the ``service`` extra), and ``refit`` (a candidate model promoted only when it is not worse
than the current one out of time)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

if TYPE_CHECKING:
    from solver.app.service import Store

DB_HELP = "Store URL (sqlite:///path.db or postgresql://...); default $LEADROUTE_DB_URL."


def register(app: typer.Typer) -> None:
    outcomes = typer.Typer(help="Outcomes of worked leads into the store.",
                           no_args_is_help=True)
    history = typer.Typer(help="The store's history table (for fit, backtest, refit).",
                          no_args_is_help=True)
    app.add_typer(outcomes, name="outcomes")
    app.add_typer(history, name="history")

    @outcomes.command("import")
    def outcomes_import(
        outcomes_csv: Path = typer.Option(..., "--outcomes",
                                          help="CSV: lead_id, converted[, revenue]."),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
    ) -> None:
        """Record each lead's outcome; all rows or none."""
        from solver.app.service._outcomes import import_outcomes

        store = _store(db)
        try:
            found = import_outcomes(store, outcomes_csv)
        finally:
            store.dispose()
        if found.ignored_revenue:
            rows = found.ignored_revenue
            shown = ", ".join(str(r) for r in rows[:10]) + (" ..." if len(rows) > 10 else "")
            typer.echo(f"warning: {found.label}, column 'revenue': revenue on {len(rows)} "
                       f"row(s) that did not convert (row {shown}) ignored and stored as "
                       "none", err=True)
        Console().print(f"{len(found.outcomes)} outcomes recorded")

    @history.command("export")
    def history_export(
        out: Path = typer.Option(..., "--out", help="Where to write the history CSV."),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
    ) -> None:
        """Leads with a known outcome, with the propensity, arm and experiment of their
        assignment (the contract's history table)."""
        from solver.app._io import write_csv_atomic
        from solver.app.service._outcomes import history_frame

        store = _store(db)
        try:
            with store.read() as conn:
                frame = history_frame(conn)
        finally:
            store.dispose()
        write_csv_atomic(frame, out)
        Console().print(f"{len(frame)} leads with outcomes written to {out}")

    @app.command()
    def refit(
        history_csv: Path = typer.Option(..., "--history", help="History CSV (contract)."),
        reps: Path = typer.Option(..., "--reps", help="Reps CSV (contract: reps)."),
        model: Path = typer.Option(..., "--model",
                                   help="The current model; replaced when the candidate "
                                        "is not worse (the old one kept next to it)."),
        holdout_days: float = typer.Option(14.0, "--holdout-days", min=0.01,
                                           help="The latest days of history held out."),
        tolerance: float = typer.Option(
            0.0, "--tolerance", min=0.0,
            help="Log-loss margin by which the candidate may trail and still be promoted."),
        seed: int = typer.Option(0, "--seed"),
        weights: str = typer.Option("auto", "--weights",
                                    help="auto, ipw or none: as for leadroute fit."),
        # 20 = models.propensity_weights.DEFAULT_CLIP (models is not imported at startup)
        ipw_clip: float = typer.Option(20.0, "--ipw-clip", min=1.0,
                                       help="Largest inverse-propensity weight, as for fit."),
    ) -> None:
        """Fit a candidate before the holdout window, compare both models on it, promote
        only when the candidate is not worse."""
        from models.propensity_weights import Weighting
        from solver.app.refit import print_refit, refit_model

        try:
            weighting = Weighting(mode=weights, clip=ipw_clip)
        except ValueError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        print_refit(Console(), refit_model(history_csv, reps, model, holdout_days=holdout_days,
                                           tolerance=tolerance, seed=seed, weighting=weighting))


def _store(db: str | None) -> Store:
    from solver.app.service import Store, StoreSettings, db_url_from_env

    return Store(StoreSettings(url=db_url_from_env(db)))
