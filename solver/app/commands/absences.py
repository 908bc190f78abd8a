"""``leadroute absences import FILE``: reps' out-of-office periods into the store, from
a CSV (``rep_id, starts_at, ends_at``) or one rep's iCalendar export (``--rep``)."""

from __future__ import annotations

from pathlib import Path

import typer

from solver.app.commands.service import DB_HELP, _store

absences_app = typer.Typer(help="Reps' absences (out of office) in the store.",
                           no_args_is_help=True)


@absences_app.command("import")
def import_command(
    source: Path = typer.Argument(..., help="absences.csv or a calendar .ics file."),
    rep: str | None = typer.Option(None, "--rep", help="The rep whose .ics calendar it is."),
    db: str | None = typer.Option(None, "--db", help=DB_HELP),
) -> None:
    """Add absences; a period already stored is skipped (re-importing is safe)."""
    from solver.app.service._absences import import_absences

    written, known = import_absences(_store(db), source, rep)
    typer.echo(f"{written} absences written, {known} already stored")


def register(app: typer.Typer) -> None:
    app.add_typer(absences_app, name="absences")
