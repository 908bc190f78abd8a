"""Helpers for the service tests: SQLite in a temporary folder, and PostgreSQL in a fresh
schema per test (on $LEADROUTE_TEST_PG_URL, default the local server CI starts)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, text

from solver.app.service import Store, StoreSettings

PG_URL = os.environ.get("LEADROUTE_TEST_PG_URL",
                        "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NOW = datetime(2026, 12, 1, 10, 0)  # a Tuesday, 10:00 UTC


def _pg_problem() -> str | None:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:  # any failure means: no server here
        return f"PostgreSQL not reachable at {PG_URL} ({str(exc).splitlines()[0]}); " \
               "run .ci/ensure-postgres or set LEADROUTE_TEST_PG_URL"
    return None


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
        return
    problem = _pg_problem()
    if problem:
        pytest.skip(problem)
    schema = f"lr_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = Store(StoreSettings(url=store_url, lock_timeout_s=20))
    yield opened
    opened.dispose()


def reps_table(n: int = 4, capacity: float = 5, **columns: list[object]) -> pd.DataFrame:
    frame = pd.DataFrame({"rep_id": [f"R{j}" for j in range(n)], "capacity": [capacity] * n})
    for name, values in columns.items():
        frame[name] = values
    return frame


def leads_table(n: int, prefix: str = "L", **columns: list[object]) -> pd.DataFrame:
    frame = pd.DataFrame({"lead_id": [f"{prefix}{i:04d}" for i in range(n)]})
    for name, values in columns.items():
        frame[name] = values
    return frame
