"""``leadroute data``: produce contract tables from outside sources.

``leadroute data maven-crm SRC_DIR --out DIR`` converts the Maven CRM export;
``leadroute data synthetic --out DIR`` writes a synthetic world (history, reps, a batch of
leads) whose truth is known, for trying ``fit`` and ``route`` end to end.
"""

from __future__ import annotations

from pathlib import Path

import typer

from models.maven import load_maven_crm
from models.synthetic import SyntheticWorld, WorldConfig
from solver.app._io import write_csv_atomic
from solver.errors import InputError

data_app = typer.Typer(help="Produce contract tables (history.csv, reps.csv) from sources.",
                       no_args_is_help=True)


@data_app.command("maven-crm")
def maven_crm(
    src_dir: Path = typer.Argument(..., help="The maven-crm folder (sales_pipeline.csv...)."),
    out: Path = typer.Option(..., "--out", help="Folder for history.csv and reps.csv."),
) -> None:
    """Closed deals of the Maven CRM export as history.csv, its agents as reps.csv."""
    try:
        tables = load_maven_crm(src_dir)
    except InputError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    write_csv_atomic(tables.history, out / "history.csv")
    write_csv_atomic(tables.reps, out / "reps.csv")
    typer.echo(f"wrote {len(tables.history)} history rows and {len(tables.reps)} reps to {out}")


@data_app.command("synthetic")
def synthetic(
    out: Path = typer.Option(..., "--out", help="Folder for history, reps and leads CSVs."),
    n_history: int = typer.Option(20_000, "--history-rows", min=100),
    n_leads: int = typer.Option(200, "--leads", min=1, help="Size of the batch to route."),
    effect_size: float = typer.Option(1.0, "--effect-size", min=0.0),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """A seeded synthetic world: history.csv, reps.csv and leads.csv (a batch)."""
    world = SyntheticWorld(WorldConfig(n_history=n_history, effect_size=effect_size,
                                       seed=seed))
    write_csv_atomic(world.history(), out / "history.csv")
    write_csv_atomic(world.reps, out / "reps.csv")
    write_csv_atomic(world.leads(n_leads, seed=seed), out / "leads.csv")
    typer.echo(f"wrote {n_history} history rows, {len(world.reps)} reps and {n_leads} leads "
               f"to {out}")


def register(app: typer.Typer) -> None:
    app.add_typer(data_app, name="data")
