"""``leadroute route``: placeholder until the core lands."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def route() -> None:
        """Route a batch of leads to reps."""
        raise typer.Exit(1)
