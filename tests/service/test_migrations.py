"""Alembic migrations: a database created by the previous release (the hand-written
``_migrations`` steps) is adopted and upgraded, never re-created; a fresh database at the
head revision matches the tables the code uses; concurrent starts migrate once."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, insert, inspect, select

from solver.app import cli
from solver.app.service import Store, StoreSettings
from solver.app.service import _migrations as legacy
from solver.app.service import _schema as t
from solver.app.service._alembic import current_revision, legacy_revision, revisions
from solver.app.service._store import utcnow


def test_previous_release_database_is_adopted_and_upgraded(store_url: str) -> None:
    engine = create_engine(store_url)
    assert legacy.migrate(engine) == legacy.LATEST  # what the previous release created
    with engine.begin() as conn:
        conn.execute(insert(t.reps).values(rep_id="R1", capacity=3, active=True, weight=1.0,
                                           timezone="UTC", attributes={},
                                           updated_at=utcnow()))
    engine.dispose()
    store = Store(StoreSettings(url=store_url))
    try:
        assert store.schema_version == len(revisions())
        with store.read() as conn:
            assert current_revision(conn) == revisions()[-1]
            assert conn.execute(select(t.reps.c.rep_id)).scalars().all() == ["R1"]
            versions = conn.execute(select(t.schema_version.c.version)).scalars().all()
        assert versions == list(range(1, legacy.LATEST + 1))  # the old record, untouched
    finally:
        store.dispose()


def test_fresh_database_matches_the_code(store_url: str) -> None:
    store = Store(StoreSettings(url=store_url))
    try:
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), t.metadata)
            tables = set(inspect(conn).get_table_names())
        assert diff == []
        assert {table.name for table in t.metadata.sorted_tables} <= tables
        assert "alembic_version" in tables
    finally:
        store.dispose()


def test_every_hand_written_step_has_its_revision() -> None:
    """A step appended to ``_migrations.MIGRATIONS`` needs the revision of the same number
    (see ``_alembic``'s docstring), else its databases could not be adopted."""
    ids = revisions()
    assert [legacy_revision(v) for v in range(1, legacy.LATEST + 1)] == ids[:legacy.LATEST]


def test_concurrent_starts_migrate_once(store_url: str) -> None:
    opened: list[Store] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            opened.append(Store(StoreSettings(url=store_url)))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == [] and len(opened) == 3
        assert {s.schema_version for s in opened} == {len(revisions())}
    finally:
        for store in opened:
            store.dispose()


def test_db_upgrade_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    legacy.migrate(create_engine(url))
    monkeypatch.setattr(sys, "argv", ["leadroute", "db", "upgrade", "--db", url])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == 0
    head = revisions()[-1]
    assert capsys.readouterr().out.strip() == (f"sqlite store at schema revision {head} "
                                               f"(newest: {head})")
