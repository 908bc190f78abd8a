"""Schema migrations with Alembic: the revisions ship inside the package
(``solver/app/service/migrations/versions``) and run at every start (a no-op when the
database is current) or with ``leadroute db upgrade``.

Revision ids are ``0001``, ``0002``, ...: revision N is what the N-th hand-written step
of the previous releases' ``_migrations.MIGRATIONS`` did, so a database those releases
created (``lr_schema_version`` at N, no ``alembic_version``) is stamped at revision N and
upgraded from there, never created twice.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect

from solver.app.service import _migrations as legacy

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def revisions() -> list[str]:
    """Every revision id, oldest first (the history is linear)."""
    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def legacy_revision(version: int) -> str:
    """The revision equal to the hand-written migrations' version ``version``."""
    return f"{version:04d}"


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _adopt_legacy(conn: Connection, config: Config) -> None:
    """A database from before Alembic: record the revision its schema already has."""
    if current_revision(conn) is not None:
        return
    if not inspect(conn).has_table(legacy.schema.schema_version.name):
        return
    version = legacy.current_version(conn)
    if version > 0:
        command.stamp(config, legacy_revision(version))


def migrate(engine: Engine) -> int:
    """Bring the database to the head revision; returns its position (1 = ``0001``)."""
    with engine.begin() as conn:
        config = alembic_config(conn)
        _adopt_legacy(conn, config)
        command.upgrade(config, "head")
        revision = current_revision(conn)
    return revisions().index(revision) + 1 if revision else 0
