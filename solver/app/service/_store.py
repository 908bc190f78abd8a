"""Opening the state store, and the one lock that serialises routing runs.

SQLite (the embedded default) gets WAL, foreign keys and ``BEGIN IMMEDIATE`` so a write
transaction takes the database's write lock at its start: a second run waits (up to the
lock timeout) instead of both reading the same pending leads. PostgreSQL uses a
transaction-scoped advisory lock for the same purpose.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from filelock import FileLock, Timeout
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError

from solver.app.service._alembic import migrate
from solver.app.service._gc import no_collection
from solver.errors import BatchBusyError, StoreError

DEFAULT_DB_URL: Final = "sqlite:///leadroute.db"
DB_URL_ENV: Final = "LEADROUTE_DB_URL"
_ROUTING_LOCK_KEY: Final = 0x1EAD_0001  # any constant shared by all leadroute processes
# the routing lock is per schema: stores in two schemas of one database never block each other
_SCHEMA_KEY: Final = "hashtext(current_schema())"
_MIGRATION_LOCK_KEY: Final = 0x1EAD_0002
_WRITE_LOCK_KEY: Final = 0x1EAD_0003  # write transactions on PostgreSQL (see ``write``)
_WRITE_OPTION: Final = "leadroute_write"


def utcnow() -> datetime:
    """Naive UTC, the store's time format."""
    return datetime.now(UTC).replace(tzinfo=None)


def as_utc(moment: datetime) -> datetime:
    """Any datetime → naive UTC (naive input is taken as UTC already)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def db_url_from_env(given: str | None = None) -> str:
    return given or os.environ.get(DB_URL_ENV) or DEFAULT_DB_URL


@dataclass(frozen=True, kw_only=True)
class StoreSettings:
    url: str = DEFAULT_DB_URL
    lock_timeout_s: float = 30.0  # how long a run waits for another run's lock


class Store:
    """A migrated database plus the routing lock. Cheap to pass around; one per process."""

    def __init__(self, settings: StoreSettings) -> None:
        self.settings = settings
        self.engine = _engine(settings)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self._lock_path = _sqlite_lock_path(settings.url) if self.is_sqlite else None
        self._process_lock = threading.Lock()
        try:
            with self._migration_lock():
                self.schema_version = migrate(self.engine.execution_options(
                    **{_WRITE_OPTION: True}))
        except OperationalError as exc:
            raise StoreError(f"{_safe_url(settings.url)}: cannot open the store "
                             f"({_first_line(exc)})") from None

    @contextmanager
    def _migration_lock(self) -> Iterator[None]:
        if self.is_sqlite:
            yield  # BEGIN IMMEDIATE already serialises the migration's transaction
            return
        with self.engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"),
                             {"key": _MIGRATION_LOCK_KEY})
                conn.commit()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back on any error; no
        garbage collection pauses it while it holds the write lock (``_gc``)."""
        try:
            with no_collection(), \
                    self.engine.execution_options(**{_WRITE_OPTION: True}).begin() as conn:
                if not self.is_sqlite:  # one writer at a time, as BEGIN IMMEDIATE on SQLite
                    # one round trip (no bound parameters: psycopg sends both statements as
                    # one simple query; a lock timeout in the second still raises)
                    conn.exec_driver_sql(
                        f"SET LOCAL lock_timeout = '{int(self.settings.lock_timeout_s * 1000)}ms'"
                        f"; SELECT pg_advisory_xact_lock({_WRITE_LOCK_KEY}, {_SCHEMA_KEY})")
                yield conn
        except OperationalError as exc:
            if _is_lock_timeout(exc):
                raise BatchBusyError("the store is busy (another run holds its lock); "
                                     "try again later") from None
            raise

    @contextmanager
    def routing_lock(self, *, wait: bool = True) -> Iterator[None]:
        """Serialises routing runs across processes WITHOUT holding a database transaction,
        so ingestion goes on while a batch solves. PostgreSQL: a session advisory lock (the
        server drops it when the process dies). SQLite: a lock file next to the database
        (the OS drops it when the process dies); an in-memory database: a process lock."""
        if self.is_sqlite:
            with self._sqlite_routing_lock(wait):
                yield
            return
        with self.engine.connect() as conn:
            try:
                if wait:
                    conn.execute(text(f"SET lock_timeout = "
                                      f"'{int(self.settings.lock_timeout_s * 1000)}ms'"))
                    conn.execute(text(f"SELECT pg_advisory_lock(:key, {_SCHEMA_KEY})"),
                                 {"key": _ROUTING_LOCK_KEY})
                    conn.execute(text("RESET lock_timeout"))
                elif not conn.execute(
                        text(f"SELECT pg_try_advisory_lock(:key, {_SCHEMA_KEY})"),
                        {"key": _ROUTING_LOCK_KEY}).scalar_one():
                    raise BatchBusyError("another routing run holds the lock")
                conn.commit()  # the session lock outlives the transaction: none stays open
            except OperationalError as exc:
                if _is_lock_timeout(exc):
                    raise BatchBusyError("the store is busy (another run holds its lock); "
                                         "try again later") from None
                raise
            try:
                yield
            finally:
                conn.rollback()
                conn.execute(text(f"SELECT pg_advisory_unlock(:key, {_SCHEMA_KEY})"),
                             {"key": _ROUTING_LOCK_KEY})
                conn.commit()

    @contextmanager
    def _sqlite_routing_lock(self, wait: bool) -> Iterator[None]:
        timeout = self.settings.lock_timeout_s if wait else 0.0
        release: Callable[[], object]
        if self._lock_path is None:
            acquired = self._process_lock.acquire(timeout=timeout)
            release = self._process_lock.release
        else:
            # one lock object per run: two threads of one process exclude each other too
            lock = FileLock(self._lock_path, thread_local=False)
            try:
                lock.acquire(timeout=timeout)
                acquired = True
            except Timeout:
                acquired = False
            release = lock.release
        if not acquired:
            raise BatchBusyError("the store is busy (another run holds its lock); "
                                 "try again later")
        try:
            yield
        finally:
            release()

    @contextmanager
    def routing_transaction(self, *, wait: bool = True) -> Iterator[Connection]:
        """A write transaction holding the routing lock until it commits or rolls back."""
        with self.routing_lock(wait=wait), self.write() as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()


def _engine(settings: StoreSettings) -> Engine:
    url = settings.url
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite:///") and not url.startswith("sqlite:///:memory:"):
        Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True,
                                                                       exist_ok=True)
    try:
        engine = create_engine(url, pool_pre_ping=True)
    except Exception as exc:  # bad URL, missing driver
        raise StoreError(f"{_safe_url(url)}: cannot open the store ({_first_line(exc)})"
                         ) from None
    if engine.dialect.name == "sqlite":
        _sqlite_pragmas(engine, settings.lock_timeout_s)
    elif engine.dialect.name != "postgresql":
        raise StoreError(f"{_safe_url(url)}: only sqlite:// and postgresql:// are supported")
    return engine


def _sqlite_pragmas(engine: Engine, lock_timeout_s: float) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (below)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(lock_timeout_s * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        # writers take the write lock up front (so two runs cannot read the same pending
        # leads); readers see the last commit under WAL without waiting for a writer
        if conn.get_execution_options().get(_WRITE_OPTION, False):
            _begin_immediate(conn, lock_timeout_s)
        else:
            conn.exec_driver_sql("BEGIN")


_POLL_S: Final = (0.0005, 0.002)  # first and longest pause between two tries of the lock


def _begin_immediate(conn: Connection, lock_timeout_s: float) -> None:
    """``BEGIN IMMEDIATE``, waiting for another writer by polling every few milliseconds.
    SQLite's own busy handler sleeps in growing steps (up to 100 ms) and so wakes up to
    tens of milliseconds after the writer commits: an instant request queued behind a
    batch's commit would pay that on top of the wait."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    deadline = time.monotonic() + lock_timeout_s
    pause = _POLL_S[0]
    raw.execute("PRAGMA busy_timeout=0")
    try:
        while time.monotonic() < deadline:
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    break  # the last try below raises it, as SQLAlchemy's error
            time.sleep(pause)
            pause = min(pause * 2, _POLL_S[1])
        conn.exec_driver_sql("BEGIN IMMEDIATE")  # the last try (timed out: "locked")
    finally:
        raw.execute(f"PRAGMA busy_timeout={int(lock_timeout_s * 1000)}")


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    message = str(exc).lower()
    return "locked" in message or "busy" in message


def _sqlite_lock_path(url: str) -> str | None:
    """``<database file>.routing-lock``; None for an in-memory database."""
    path = url.split("///", 1)[1].split("?", 1)[0] if "///" in url else ""
    if not path or path.startswith(":memory:"):
        return None
    return str(Path(path).expanduser()) + ".routing-lock"


def _is_lock_timeout(exc: OperationalError) -> bool:
    message = str(exc.orig).lower()
    return "database is locked" in message or "lock timeout" in message


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _safe_url(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in credentials else url
    return url
