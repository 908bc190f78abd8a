"""SLA re-assignment, escalation tiers, down-weighting, adaptive caps, availability."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from service_support import NOW, leads_table, reps_table
from sqlalchemy import select

from solver.app.service import (
    BatchSettings,
    Store,
    StoreError,
    ingest_leads,
    lead_story,
    load_reps_into_store,
    mark_lead,
    run_batch,
)
from solver.app.service import _schema as schema
from solver.app.service import _state as state
from solver.policy import parse_policy

SLA = parse_policy({"sla": {"work_within_minutes": 30, "max_attempts": 2}})


def test_an_unworked_lead_expires_and_goes_to_another_rep(store: Store) -> None:
    load_reps_into_store(store, reps_table(3, capacity=5), now=NOW)
    ingest_leads(store, leads_table(1), now=NOW)
    run_batch(store, BatchSettings(policy=SLA), now=NOW)
    first = lead_story(store, "L0000")
    assert first["status"] == "assigned" and first["due_at"] == NOW + timedelta(minutes=30)
    report = run_batch(store, BatchSettings(policy=SLA), now=NOW + timedelta(minutes=31))
    assert (report.expired, report.requeued, report.assigned) == (1, 1, 1)
    second = lead_story(store, "L0000")
    assert second["rep_id"] != first["rep_id"] and second["attempts"] == 2
    assert [e["event"] for e in second["history"]] == ["assigned", "expired", "assigned"]
    # the second rep lets it expire too: max_attempts reached, a manager decides
    run_batch(store, BatchSettings(policy=SLA), now=NOW + timedelta(minutes=62))
    third = lead_story(store, "L0000")
    assert third["status"] == "unrouted" and "expired 2 times" in third["reason"]


def test_a_worked_lead_does_not_expire(store: Store) -> None:
    load_reps_into_store(store, reps_table(2, capacity=5), now=NOW)
    ingest_leads(store, leads_table(2), now=NOW)
    run_batch(store, BatchSettings(policy=SLA), now=NOW)
    mark_lead(store, "L0000", action="worked", converted=True, now=NOW + timedelta(minutes=5))
    report = run_batch(store, BatchSettings(policy=SLA), now=NOW + timedelta(minutes=40))
    assert report.expired == 1  # only L0001
    lead = lead_story(store, "L0000")
    assert lead["status"] == "worked" and lead["converted"] is True
    assert lead_story(store, "L0001")["attempts"] == 2  # expired, then re-routed
    ingest_leads(store, leads_table(1, prefix="P"), now=NOW)
    with pytest.raises(StoreError, match="'P0000' is pending, not assigned"):
        mark_lead(store, "P0000", action="worked")


def test_reps_who_let_leads_expire_are_down_weighted(store: Store) -> None:
    policy = parse_policy({"sla": {"work_within_minutes": 30, "expiry_penalty": 0.5}})
    load_reps_into_store(store, reps_table(2, capacity=5), now=NOW)
    ingest_leads(store, leads_table(2, prefix="X"), now=NOW - timedelta(days=3))
    with store.write() as conn:  # R0 let two leads expire three days ago
        state.log_events(conn, [{
            "lead_id": lead, "rep_id": "R0", "batch_id": "old", "event": "expired",
            "effort": 0.0, "score": None, "reason": "", "engine": "", "policy_version": "",
            "created_at": NOW - timedelta(days=3)} for lead in ("X0000", "X0001")])
        state.set_lead(conn, "X0000", NOW, status="worked")
        state.set_lead(conn, "X0001", NOW, status="worked")
    ingest_leads(store, leads_table(1), now=NOW)

    def score(leads: pd.DataFrame, reps: pd.DataFrame) -> np.ndarray:
        return np.tile([0.5, 0.3], (len(leads), 1))  # R0 fits better...

    run_batch(store, BatchSettings(policy=policy, scorer=score), now=NOW)
    # ...but 0.5 × 0.5² = 0.125 < 0.3: the lead goes to R1
    assert lead_story(store, "L0000")["rep_id"] == "R1"


def test_escalation_tiers_open_with_the_lead_age(store: Store) -> None:
    policy = parse_policy({"sla": {"work_within_minutes": 60, "tiers": [
        {"name": "premium", "reps": {"attribute": "team", "values": ["premium"]}},
        {"name": "everyone", "after_minutes": 30}]}})
    load_reps_into_store(store, reps_table(2, capacity=1, team=["premium", "core"]), now=NOW)
    ingest_leads(store, leads_table(2), now=NOW)
    run_batch(store, BatchSettings(policy=policy), now=NOW)
    leads = [lead_story(store, f"L{i:04d}") for i in range(2)]
    assigned = [lead for lead in leads if lead["status"] == "assigned"]
    waiting = [lead for lead in leads if lead["status"] == "pending"]
    assert [lead["rep_id"] for lead in assigned] == ["R0"]
    assert "escalates to 'everyone' at 30 min" in waiting[0]["reason"]
    run_batch(store, BatchSettings(policy=policy), now=NOW + timedelta(minutes=31))
    later = lead_story(store, waiting[0]["lead_id"])
    assert later["rep_id"] == "R1" and "tier 'everyone'" in later["reason"]


def test_caps_adapt_to_recent_follow_up(store: Store) -> None:
    policy = parse_policy({"sla": {"work_within_minutes": 30, "adaptive_caps": {
        "lookback_days": 7, "min_factor": 0.5, "max_factor": 1.5, "min_leads": 4}}})
    load_reps_into_store(store, reps_table(2, capacity=4), now=NOW)
    old = NOW - timedelta(days=2)
    ingest_leads(store, leads_table(8, prefix="H"), now=old)
    with store.write() as conn:  # R0 let all 4 of its leads expire, R1 worked all 4
        events = []
        for i in range(8):
            rep = "R0" if i < 4 else "R1"
            events.append({"lead_id": f"H{i:04d}", "rep_id": rep, "batch_id": "old",
                           "event": "assigned", "effort": 1.0, "score": 1.0, "reason": "",
                           "engine": "", "policy_version": "", "created_at": old})
            if rep == "R0":
                events.append({**events[-1], "event": "expired"})
            state.set_lead(conn, f"H{i:04d}", old, status="worked")
        state.log_events(conn, events)
    ingest_leads(store, leads_table(10), now=NOW)
    report = run_batch(store, BatchSettings(policy=policy), now=NOW)
    got = pd.Series([lead_story(store, f"L{i:04d}")["rep_id"] for i in range(10)])
    # team follow-up 50%: R0 0% → ×0.5 (cap 2), R1 100% → ×1.5 (cap 6)
    assert got.value_counts().to_dict() == {"R1": 6, "R0": 2} and report.assigned == 8
    reasons = [lead_story(store, f"L{i:04d}")["reason"] for i in range(10)]
    assert any("cap ×0.50 (followed up 0% of 4 recent leads vs team 50%)" in r
               for r in reasons)


def test_off_shift_and_out_of_office_reps_get_nothing(store: Store) -> None:
    # NOW is 10:00 UTC = 05:00 in New York: R1 is off shift; R2 is on holiday
    load_reps_into_store(store, reps_table(3, capacity=5,
                                           timezone=["UTC", "America/New_York", "UTC"],
                                           work_start=["08:00", "09:00", ""],
                                           work_end=["18:00", "17:00", ""]), now=NOW)
    with store.write() as conn:
        state.add_absence(conn, "R2", NOW - timedelta(days=1), NOW + timedelta(days=1))
    ingest_leads(store, leads_table(4), now=NOW)
    run_batch(store, BatchSettings(), now=NOW)
    with store.read() as conn:
        reps = set(conn.execute(select(schema.leads.c.rep_id)).scalars())
    assert reps == {"R0"}
    run_batch(store, BatchSettings(), now=NOW + timedelta(days=2, hours=5))  # 10:00 in NY
    with store.read() as conn:
        reps = set(conn.execute(select(schema.leads.c.rep_id)).scalars())
    assert reps == {"R0"}  # nothing was pending any more


def test_ramping_reps_get_a_share_of_their_cap(store: Store) -> None:
    policy = parse_policy({"ramp": {"schedule": [[0, 0.5], [30, 1.0]]}})
    load_reps_into_store(store, reps_table(2, capacity=4, start_date=["2026-11-25", "2020-01-01"]),
              now=NOW)
    ingest_leads(store, leads_table(8), now=NOW)
    run_batch(store, BatchSettings(policy=policy), now=NOW)
    got = pd.Series([lead_story(store, f"L{i:04d}")["rep_id"] for i in range(8)])
    assert got.value_counts().to_dict() == {"R1": 4, "R0": 2}  # 6 days in: half of 4


def test_caps_can_also_follow_recent_conversion(store: Store) -> None:
    policy = parse_policy({"sla": {"work_within_minutes": 30, "adaptive_caps": {
        "lookback_days": 7, "min_factor": 0.5, "max_factor": 1.5, "min_leads": 4,
        "conversion_weight": 1.0}}})
    load_reps_into_store(store, reps_table(2, capacity=4), now=NOW)
    old = NOW - timedelta(days=2)
    ingest_leads(store, leads_table(16, prefix="H"), now=old)
    with store.write() as conn:  # both worked all 8 leads; R0 converted 6, R1 none
        events = []
        for i in range(16):
            rep = "R0" if i < 8 else "R1"
            events.append({"lead_id": f"H{i:04d}", "rep_id": rep, "batch_id": "old",
                           "event": "assigned", "effort": 1.0, "score": 1.0, "reason": "",
                           "engine": "", "policy_version": "", "created_at": old})
            state.set_lead(conn, f"H{i:04d}", old, status="worked", rep_id=rep,
                           worked_at=old, converted=(rep == "R0" and i < 6))
        state.log_events(conn, events)
    ingest_leads(store, leads_table(10), now=NOW)
    run_batch(store, BatchSettings(policy=policy), now=NOW)
    got = pd.Series([lead_story(store, f"L{i:04d}")["rep_id"] for i in range(10)])
    # team 6/16 = 37.5%; shrunk with 4 pseudo-outcomes: R0 (6+1.5)/12 = 62.5% → ×1.67 →
    # capped at ×1.5 (cap 6); R1 1.5/12 = 12.5% → ×0.33 → floored at ×0.5 (cap 2)
    assert got.value_counts().to_dict() == {"R0": 6, "R1": 2}
    reasons = {lead_story(store, f"L{i:04d}")["reason"] for i in range(10)}
    assert any("cap ×1.50" in r and "converted 6 of 8 worked (shrunk 62%) vs team 38%" in r
               for r in reasons)


def test_an_accepted_but_unworked_lead_still_expires(store: Store) -> None:
    load_reps_into_store(store, reps_table(2, capacity=5), now=NOW)
    ingest_leads(store, leads_table(1), now=NOW)
    run_batch(store, BatchSettings(policy=SLA), now=NOW)
    mark_lead(store, "L0000", action="accepted", now=NOW + timedelta(minutes=1))
    report = run_batch(store, BatchSettings(policy=SLA), now=NOW + timedelta(minutes=31))
    assert report.expired == 1
    assert [e["event"] for e in lead_story(store, "L0000")["history"]] == [
        "assigned", "accepted", "expired", "assigned"]
