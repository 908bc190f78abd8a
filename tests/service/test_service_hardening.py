"""Issue 13: data the service accepted never stops routing; one bad row is set aside with its
reason while the rest routes; ingestion does not wait behind a solving batch."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from service_support import NOW, leads_table, reps_table
from sqlalchemy import update

from solver.app.service import (
    BatchSettings,
    Store,
    ingest_leads,
    lead_story,
    load_reps_into_store,
    run_batch,
)
from solver.app.service import _batch as batch_module
from solver.app.service import _schema as schema
from solver.errors import InputError
from solver.policy import parse_policy

TIERS = parse_policy({"sla": {"work_within_minutes": 60, "tiers": [
    {"name": "seniors first", "reps": {"attribute": "seniority", "values": ["senior"]}},
    {"name": "everyone", "after_minutes": 15}]}})


def test_mixed_work_hours_do_not_stop_the_batch(store: Store) -> None:
    """Defect 1: one rep with hours, one without: NaN reached time.fromisoformat."""
    load_reps_into_store(store, reps_table(2, capacity=5, work_start=["08:00", ""],
                                work_end=["18:00", ""]), now=NOW)
    ingest_leads(store, leads_table(4), now=NOW)
    assert run_batch(store, BatchSettings(), now=NOW).assigned == 4
    ingest_leads(store, leads_table(2, prefix="N"), now=NOW)
    night = NOW.replace(hour=22)  # R0 off shift: R1 (no hours) takes everything
    report = run_batch(store, BatchSettings(), now=night)
    assert report.assigned == 2
    assert {lead_story(store, f"N{i:04d}")["rep_id"] for i in range(2)} == {"R1"}


def test_a_lead_from_the_future_routes_under_escalation_tiers(store: Store) -> None:
    """Defect 2: a few minutes of client clock skew crashed the tier computation."""
    load_reps_into_store(store, reps_table(2, capacity=5, seniority=["senior", "junior"]), now=NOW)
    ingest_leads(store, leads_table(1, prefix="F", created_at=[
        (NOW + timedelta(minutes=5)).isoformat()]), now=NOW)
    ingest_leads(store, leads_table(2), now=NOW)
    report = run_batch(store, BatchSettings(policy=TIERS), now=NOW)
    assert report.assigned == 3
    future = lead_story(store, "F0000")
    assert future["rep_id"] == "R0" and "tier 'seniors first'" in future["reason"]


@pytest.mark.parametrize(("column", "value"), [("capacity", 1e308), ("capacity", 9.3e18),
                                               ("weight", 1e300)])
def test_a_stored_rep_beyond_the_solver_never_stops_routing(store: Store, column: str,
                                                            value: float) -> None:
    """Defect 4: a stored capacity of 1e308 made every batch fail UNBALANCED."""
    load_reps_into_store(store, reps_table(2, capacity=3), now=NOW)
    with store.write() as conn:  # as a row written before the checks existed
        conn.execute(update(schema.reps).where(schema.reps.c.rep_id == "R0")
                     .values(**{column: value}))
    ingest_leads(store, leads_table(5), now=NOW)
    report = run_batch(store, BatchSettings(), now=NOW)
    if column == "capacity":  # representable once lowered to where it never binds
        assert report.assigned == 5 and report.reps_set_aside == []
    else:  # the rep sits the batch out, named; the others route
        assert report.assigned == 3
        assert report.reps_set_aside[0].startswith("R0: set aside for this batch: ")
        assert "column 'weight'" in report.reps_set_aside[0]


def test_unrepresentable_values_are_refused_at_ingest(store: Store) -> None:
    with pytest.raises(InputError, match="row 2, column 'value': must be <= 1e\\+12"):
        ingest_leads(store, leads_table(2, value=["1", "1e300"]), now=NOW)
    with pytest.raises(InputError, match="row 1, column 'capacity': must be <= 1e\\+12"):
        load_reps_into_store(store, reps_table(1, capacity=1e308), now=NOW)
    with pytest.raises(InputError, match="column 'created_at': .* outside the supported"):
        ingest_leads(store, leads_table(1, created_at=["3000-01-01"]), now=NOW)
    with pytest.raises(InputError, match="row 1, column 'lead_id': control character"):
        ingest_leads(store, pd.DataFrame({"lead_id": ["bad\x00id"]}), now=NOW)


def test_a_stored_value_beyond_the_solver_is_set_aside(store: Store) -> None:
    """Defect 4: with the revenue objective a value of 1e300 made every batch fail."""
    revenue = parse_policy({"objective": "expected_revenue"})
    load_reps_into_store(store, reps_table(2, capacity=5), now=NOW)
    ingest_leads(store, leads_table(4), now=NOW)
    with store.write() as conn:
        conn.execute(update(schema.leads).where(schema.leads.c.lead_id == "L0002")
                     .values(value=1e300))
    report = run_batch(store, BatchSettings(policy=revenue), now=NOW)
    assert (report.assigned, report.unrouted) == (3, 1)
    lead = lead_story(store, "L0002")
    assert lead["status"] == "unrouted"
    assert "row 3, column 'value': must be <= 1e+12" in lead["reason"]


def test_a_batch_overflowing_the_scaling_sets_the_largest_value_aside(store: Store) -> None:
    """Every value is within bounds, yet with a scorer that grows with value the costs
    overflow int64: the largest one waits for a fix and the rest routes."""
    def revenue_scorer(leads: pd.DataFrame, reps: pd.DataFrame) -> np.ndarray:
        return np.outer(leads["value"].to_numpy(dtype=float), np.full(len(reps), 1e6))

    load_reps_into_store(store, reps_table(2, capacity=50), now=NOW)
    ingest_leads(store, leads_table(6, value=["1e12", "1", "2", "3", "4", "5"]), now=NOW)
    report = run_batch(store, BatchSettings(scorer=revenue_scorer), now=NOW)
    assert (report.assigned, report.unrouted) == (5, 1)
    lead = lead_story(store, "L0000")
    assert lead["status"] == "unrouted" and "value is too large" in lead["reason"]


def test_ingestion_goes_on_while_a_batch_solves(store: Store,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Defect 8: on SQLite ingestion waited behind the batch's write lock for the solve."""
    load_reps_into_store(store, reps_table(2, capacity=50), now=NOW)
    ingest_leads(store, leads_table(10), now=NOW)
    real_route = getattr(batch_module, "route", None)
    solving = threading.Event()

    def slow_route(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        solving.set()
        time.sleep(2.0)
        return real_route(*args, **kwargs)

    monkeypatch.setattr("solver.app.service._batch.route", slow_route)
    reports = []
    batch = threading.Thread(target=lambda: reports.append(
        run_batch(store, BatchSettings(), now=NOW)))
    batch.start()
    assert solving.wait(10)
    started = time.perf_counter()
    ingest_leads(store, leads_table(3, prefix="N"), now=NOW)
    waited = time.perf_counter() - started
    batch.join()
    assert waited < 1.0, f"ingestion waited {waited:.2f}s behind the batch"
    assert reports[0].assigned == 10
    assert lead_story(store, "N0000")["status"] == "pending"  # the next batch's


def test_a_change_during_the_solve_is_seen_before_the_commit(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Compare-and-set: a rep deactivated while the solver ran gets nothing."""
    load_reps_into_store(store, reps_table(2, capacity=50), now=NOW)
    ingest_leads(store, leads_table(6), now=NOW)
    real_route = getattr(batch_module, "route", None)
    calls = []

    def route_then_deactivate(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        out = real_route(*args, **kwargs)
        if not calls:
            with store.write() as conn:
                conn.execute(update(schema.reps).where(schema.reps.c.rep_id == "R0")
                             .values(active=False, updated_at=NOW + timedelta(seconds=1)))
        calls.append(1)
        return out

    monkeypatch.setattr("solver.app.service._batch.route", route_then_deactivate)
    report = run_batch(store, BatchSettings(), now=NOW)
    assert len(calls) == 2  # planned again inside the write transaction
    assert report.assigned == 6
    assert {lead_story(store, f"L{i:04d}")["rep_id"] for i in range(6)} == {"R1"}
