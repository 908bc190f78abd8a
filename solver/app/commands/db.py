"""``leadroute db upgrade``: bring the store's schema to the newest Alembic revision.

Every service command already does this when it opens the store (under the PostgreSQL
advisory lock); the explicit command suits a deploy step that migrates before starting
the new processes, and says where the database stands."""

from __future__ import annotations

import typer

from solver.app.commands.service import DB_HELP, _store

db_app = typer.Typer(help="The state store's schema (Alembic migrations).",
                     no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(db: str | None = typer.Option(None, "--db", help=DB_HELP)) -> None:
    """Upgrade the schema to the newest revision (a no-op when it is current)."""
    from solver.app.service._alembic import current_revision, revisions

    store = _store(db)  # opening migrates, under the lock
    with store.read() as conn:
        revision = current_revision(conn)
    typer.echo(f"{store.engine.dialect.name} store at schema revision {revision} "
               f"(newest: {revisions()[-1]})")


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
