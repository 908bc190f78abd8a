"""Properties of the service over random store contents — mixed work hours and time zones,
weekly caps, inactive reps, clock skew both ways, efforts 0.5-3, escalation tiers, rows
stored before the range checks existed: a batch always completes for the leads it can
route, never exceeds a cap, and every lead ends in exactly one state."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from service_support import NOW
from sqlalchemy import delete, select, update

from solver.app.service import BatchSettings, Store, ingest_leads, load_reps_into_store, run_batch
from solver.app.service import _schema as schema
from solver.policy import parse_policy

STATES = {"pending", "assigned", "accepted", "worked", "nurture", "unrouted"}
TIERS = parse_policy({"sla": {"work_within_minutes": 60, "tiers": [
    {"name": "seniors first", "reps": {"attribute": "seniority", "values": ["senior"]}},
    {"name": "everyone", "after_minutes": 15}]}})
HOURS = {"none": ("", ""), "always": ("00:00", "23:59"), "night": ("02:00", "03:00")}


@dataclass(frozen=True)
class World:
    reps: pd.DataFrame
    leads: pd.DataFrame
    tiers: bool
    huge_rep: str | None  # stored 1e308 capacity (as before the checks)
    huge_lead: str | None  # stored 1e300 value
    second_batch_minutes: int  # negative: the second batch's clock runs behind


@st.composite
def worlds(draw: st.DrawFn) -> World:
    n_reps = draw(st.integers(1, 4))
    hours = [draw(st.sampled_from(sorted(HOURS))) for _ in range(n_reps)]
    reps = pd.DataFrame({
        "rep_id": [f"R{j}" for j in range(n_reps)],
        "capacity": [draw(st.sampled_from([0, 1, 2, 2.5, 4])) for _ in range(n_reps)],
        "capacity_week": [draw(st.sampled_from(["", "3", "10"])) for _ in range(n_reps)],
        "active": [draw(st.booleans()) or j == 0 for j in range(n_reps)],
        "timezone": [draw(st.sampled_from(["UTC", "Europe/Paris", "Asia/Tokyo"]))
                     for _ in range(n_reps)],
        "work_start": [HOURS[h][0] for h in hours],
        "work_end": [HOURS[h][1] for h in hours],
        "seniority": [draw(st.sampled_from(["senior", "junior"])) for _ in range(n_reps)],
    })
    n_leads = draw(st.integers(1, 10))
    leads = pd.DataFrame({
        "lead_id": [f"L{i}" for i in range(n_leads)],
        "effort": [draw(st.sampled_from([0.5, 1, 2, 3])) for _ in range(n_leads)],
        # clock skew: some leads are stamped up to half an hour in the future
        "created_at": [(NOW + timedelta(minutes=draw(st.integers(-120, 30)))).isoformat()
                       for _ in range(n_leads)],
    })
    return World(reps, leads, draw(st.booleans()),
                 draw(st.sampled_from([None, "R0"])),
                 draw(st.sampled_from([None, "L0"])),
                 draw(st.integers(-30, 120)))


def _reset(store: Store) -> None:
    with store.write() as conn:
        for table in reversed(schema.metadata.sorted_tables):
            if table is not schema.schema_version:
                conn.execute(delete(table))


def _load(store: Store, world: World) -> None:
    load_reps_into_store(store, world.reps, now=NOW)
    ingest_leads(store, world.leads, now=NOW)
    with store.write() as conn:
        if world.huge_rep:
            conn.execute(update(schema.reps).where(schema.reps.c.rep_id == world.huge_rep)
                         .values(capacity=1e308))
        if world.huge_lead:
            conn.execute(update(schema.leads).where(schema.leads.c.lead_id == world.huge_lead)
                         .values(value=1e300))


def _rows(store: Store, table: Any) -> list[dict[str, Any]]:
    with store.read() as conn:
        return [dict(row) for row in conn.execute(select(table)).mappings()]


def _check(store: Store, world: World) -> None:
    leads = _rows(store, schema.leads)
    # every lead in exactly one state, none lost, none invented
    assert sorted(lead["lead_id"] for lead in leads) == sorted(world.leads["lead_id"])
    assert all(lead["status"] in STATES and lead["reason"] for lead in leads)
    assert all((lead["status"] == "assigned") == (lead["rep_id"] is not None)
               for lead in leads)
    history = _rows(store, schema.assignments)
    events = [e for e in history if e["event"] == "assigned"]
    open_assignments: dict[str, int] = defaultdict(int)
    for event in history:  # an SLA expiry closes an assignment; only then a second one
        if event["event"] in ("assigned", "expired"):
            open_assignments[event["lead_id"]] += 1 if event["event"] == "assigned" else -1
    for lead in leads:
        assert open_assignments[lead["lead_id"]] == int(lead["status"] == "assigned")
    # never over a cap: the day's and the week's
    load: dict[str, float] = defaultdict(float)
    for event in events:
        load[event["rep_id"]] += event["effort"]
    caps = world.reps.set_index("rep_id")
    for rep_id, total in load.items():
        if rep_id != world.huge_rep:
            assert total <= float(caps.loc[rep_id, "capacity"]) + 1e-9
        if caps.loc[rep_id, "capacity_week"]:
            assert total <= float(caps.loc[rep_id, "capacity_week"]) + 1e-9
    if world.huge_lead:
        assert next(le for le in leads if le["lead_id"] == world.huge_lead)[
            "status"] == "unrouted"
    if not world.tiers:
        _check_nothing_routable_waits(leads, load, world)


def _check_nothing_routable_waits(leads: list[dict[str, Any]], load: dict[str, float],
                                  world: World) -> None:
    """A lead still pending fits no rep that is available now (coverage comes first)."""
    efforts = world.leads.set_index("lead_id")["effort"]
    for rep in world.reps.itertuples():
        if not rep.active or rep.work_start == "02:00":
            continue
        room = 1e18 if rep.rep_id == world.huge_rep else float(rep.capacity)
        if rep.capacity_week:
            room = min(room, float(rep.capacity_week))
        room -= load.get(rep.rep_id, 0.0)
        for lead in leads:
            if lead["status"] == "pending":
                assert float(efforts[lead["lead_id"]]) > room + 1e-9, (
                    f"{lead['lead_id']} waits although {rep.rep_id} has room {room}")


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(world=worlds())
def test_batches_complete_respect_caps_and_account_for_every_lead(store: Store,
                                                                  world: World) -> None:
    _reset(store)
    _load(store, world)
    policy = TIERS if world.tiers else BatchSettings().policy
    run_batch(store, BatchSettings(policy=policy), now=NOW)
    _check(store, world)
    run_batch(store, BatchSettings(policy=policy),
              now=NOW + timedelta(minutes=world.second_batch_minutes))
    _check(store, world)
