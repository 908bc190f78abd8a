"""``leadroute route``: one batch of leads, reps and scores (or a model) to assignments."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from solver._errors import InputError
from solver._route import RouteOutcome, route_matrix, route_pairs
from solver._solve import SolveOptions
from solver._tables import load_leads, load_reps
from solver.app._io import write_csv_atomic


def register(app: typer.Typer) -> None:
    @app.command()
    def route(
        leads: Path = typer.Option(..., "--leads", help="Leads CSV (contract: leads)."),
        reps: Path = typer.Option(..., "--reps", help="Reps CSV (contract: reps)."),
        out: Path = typer.Option(..., "--out", help="Where to write the assignments CSV."),
        scores: Path | None = typer.Option(None, "--scores", help="Pair scores CSV."),
        model: Path | None = typer.Option(None, "--model", help="Affinity model file."),
        time_limit: float = typer.Option(30.0, "--time-limit", min=0.01, help="Seconds."),
        seed: int = typer.Option(0, "--seed", help="Solver seed (same seed, same output)."),
        quiet: bool = typer.Option(False, "--quiet", help="No summary on stdout."),
    ) -> None:
        """Route a batch of leads to reps; every lead appears once in the output."""
        options = SolveOptions(time_limit_s=time_limit, seed=seed)
        outcome = _route(leads, reps, scores, model, options)
        write_csv_atomic(outcome.assignments, out)
        if not quiet:
            print_summary(Console(), outcome, out)


def _route(
    leads: Path,
    reps: Path,
    scores: Path | None,
    model: Path | None,
    options: SolveOptions,
) -> RouteOutcome:
    if (scores is None) == (model is None):
        raise InputError("give exactly one of --scores or --model", source="command line")
    if scores is not None:
        return route_pairs(leads, reps, scores, options=options)
    assert model is not None
    from solver.app.scoring import score_with_model  # the app layer may import models

    lead_table, rep_table = load_leads(leads), load_reps(reps)
    matrix = score_with_model(model, lead_table, rep_table)
    return route_matrix(lead_table, rep_table, matrix, options=options)


def print_summary(console: Console, outcome: RouteOutcome, out: Path) -> None:
    result = outcome.result
    counts = outcome.assignments["status"].value_counts()
    console.print(
        f"routed {result.n_assigned}/{outcome.problem.n_leads} leads "
        f"({', '.join(f'{k}: {v}' for k, v in counts.items())}) "
        f"with {result.engine} in {result.wall_time_s:.3f}s; status {result.status.value}, "
        f"objective {result.objective:.4f}, gap {result.gap:.2%}"
    )
    console.print(f"assignments written to {out}")
