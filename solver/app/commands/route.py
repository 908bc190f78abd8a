"""``leadroute route``: one batch of leads, reps and scores (or a model) to assignments."""

from __future__ import annotations

import math
from pathlib import Path

import typer
from rich.console import Console

from solver._build import problem_from_matrix, problem_from_scores
from solver._errors import InputError
from solver._route import RouteOutcome
from solver._solve import SolveOptions
from solver._tables import load_leads, load_reps, load_scores
from solver.app._io import write_csv_atomic
from solver.app._state_io import read_rotation_state, write_rotation_state
from solver.strategies import STRATEGIES, StrategyState, strategy_from_name


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
        strategy: str = typer.Option(
            "optimal", "--strategy", help=f"Routing strategy: {', '.join(STRATEGIES)}."
        ),
        rotation_state: Path | None = typer.Option(
            None, "--rotation-state",
            help="Rotation state JSON: read if present, written back after success.",
        ),
    ) -> None:
        """Route a batch of leads to reps; every lead appears once in the output."""
        options = SolveOptions(time_limit_s=time_limit, seed=seed)
        state = read_rotation_state(rotation_state)
        outcome, state = _route(leads, reps, scores, model, options, strategy, state)
        write_csv_atomic(outcome.assignments, out)
        if rotation_state is not None:
            write_rotation_state(state, rotation_state)
        if not quiet:
            print_summary(Console(), outcome, out)


def _route(
    leads: Path,
    reps: Path,
    scores: Path | None,
    model: Path | None,
    options: SolveOptions,
    strategy: str = "optimal",
    state: StrategyState | None = None,
) -> tuple[RouteOutcome, StrategyState | None]:
    if (scores is None) == (model is None):
        raise InputError("give exactly one of --scores or --model", source="command line")
    shared = {"seed": options.seed, "time_limit_s": options.time_limit_s}
    strategy_from_name(strategy, shared=shared)  # an unknown name fails before any work
    lead_table, rep_table = load_leads(leads), load_reps(reps)
    if scores is not None:
        score_table = load_scores(
            scores, lead_ids=lead_table["lead_id"], rep_ids=rep_table["rep_id"]
        )
        problem = problem_from_scores(lead_table, rep_table, score_table)
    else:
        assert model is not None
        from solver.app.scoring import score_with_model  # the app layer may import models

        matrix = score_with_model(model, lead_table, rep_table)
        problem = problem_from_matrix(lead_table, rep_table, matrix)
    chosen = strategy_from_name(strategy, reps=rep_table, shared=shared)
    done = chosen.assign(problem, state)
    result = done.result
    return RouteOutcome(problem=problem, result=result,
                        assignments=result.assignments(problem)), done.state


def print_summary(console: Console, outcome: RouteOutcome, out: Path) -> None:
    result = outcome.result
    counts = outcome.assignments["status"].value_counts()
    console.print(
        f"routed {result.n_assigned}/{outcome.problem.n_leads} leads "
        f"({', '.join(f'{k}: {v}' for k, v in counts.items())}) "
        f"with {result.engine} in {result.wall_time_s:.3f}s; status {result.status.value}, "
        f"objective {result.objective:.4f}, "
        f"gap {f'{result.gap:.2%}' if math.isfinite(result.gap) else 'not proven'}"
    )
    console.print(f"assignments written to {out}")
