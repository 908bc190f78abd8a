"""Alembic environment of the state store. Runs on the connection ``_alembic.migrate``
hands over (inside its transaction and, on PostgreSQL, under the advisory lock), or on
``sqlalchemy.url`` when the ``alembic`` command line is used by a developer."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

from solver.app.service._schema import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection, target_metadata=metadata,
        # SQLite cannot ALTER most things: batch mode copies the table instead
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    given = context.config.attributes.get("connection")
    if given is not None:
        _run(given)
        return
    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as connection:
        _run(connection)


_main()
