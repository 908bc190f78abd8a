"""What instant routing saves between requests changes no decision: new leads routed from
their validated table are the leads a batch would validate from the store, the reps are
re-read at every request (a change by hand is seen at once), and on SQLite a writer that
polls for the write lock still excludes every other writer and still gives up in time."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal
from service_support import NOW, leads_table, reps_table
from sqlalchemy import text, update

from solver.app.service import (
    BatchSettings,
    Store,
    load_reps_into_store,
)
from solver.app.service import _schema as schema
from solver.app.service._ingest import validated_leads
from solver.app.service._instant import _leads, route_instant
from solver.app.service._routing import instant_lead_table, lead_frame
from solver.contract_tables import load_leads
from solver.policy import Policy, parse_policy
from solver.policy._eligibility import contains_mask, equals_mask

POLICY = parse_policy({"rules": [{"kind": "equals", "lead": "region", "rep": "region"},
                                 {"kind": "at_most", "lead": "size", "rep": "max_size"}]})

REQUESTS = [  # (case, leads as the API's frame gives them: every attribute as text)
    ("text and numbers", pd.DataFrame({
        "lead_id": ["A1", "A2"], "account_id": ["acme", ""], "value": [10.0, 2.5],
        "effort": [1.0, 2.0], "created_at": ["", "2026-12-01T09:30:00.123456+02:00"],
        "region": [" North", "south "], "size": ["12", "007"]})),
    ("a blank number", pd.DataFrame({
        "lead_id": ["B1", "B2"], "account_id": ["", ""], "value": [1.0, 1.0],
        "effort": [1.0, 1.0], "created_at": ["", ""], "region": ["north", "north"],
        "size": ["3", ""]})),
    ("every number blank", pd.DataFrame({
        "lead_id": ["C1"], "account_id": [""], "value": [1.0], "effort": [1.0],
        "created_at": [""], "region": ["east"], "size": [""]})),
    ("a rule column no lead has", pd.DataFrame({
        "lead_id": ["D1"], "account_id": [""], "value": [1.0], "effort": [1.0],
        "created_at": ["2026-11-30T23:59:59Z"], "industry": ["retail"]})),
    ("mixed text", pd.DataFrame({
        "lead_id": ["E1", "E2", "E3"], "account_id": ["", "x", ""],
        "value": [1.0, 0.0, 3.0], "effort": [0.5, 1.0, 1.0], "created_at": ["", "", ""],
        "region": ["west", "12", ""], "size": ["1", "two", "3"]})),
]


@pytest.mark.parametrize(("case", "frame"), REQUESTS, ids=[case for case, _ in REQUESTS])
def test_new_leads_are_routed_as_the_store_would_give_them(store: Store, case: str,
                                                           frame: pd.DataFrame) -> None:
    rows, table = validated_leads(frame, NOW)
    load_reps_into_store(store, reps_table(2, region=["north", "south"], max_size=[10, 100]),
                         now=NOW)
    route_instant(store, BatchSettings(policy=POLICY), frame, now=NOW)  # stores the rows
    with store.read() as conn:
        stored = _leads(conn, [row["lead_id"] for row in rows])
    by_id = {lead["lead_id"]: lead for lead in stored}
    again = [by_id[row["lead_id"]] for row in rows]  # the request's order
    # what a batch (or a retried request) validates from the store...
    expected = load_leads(lead_frame(again, POLICY))
    # ...is what a new request routes without validating it a second time
    assert_frame_equal(instant_lead_table(table, rows, POLICY), expected)


def test_a_rep_changed_by_hand_is_seen_by_the_next_request(store: Store) -> None:
    load_reps_into_store(store, reps_table(2, capacity=50), now=NOW)
    first = route_instant(store, BatchSettings(), leads_table(4, prefix="F"), now=NOW)
    assert {lead.rep_id for lead in first.leads} == {"R0", "R1"}
    with store.write() as conn:  # no updated_at: only the rows themselves say it changed
        conn.execute(update(schema.reps).where(schema.reps.c.rep_id == "R0")
                     .values(active=False))
    second = route_instant(store, BatchSettings(), leads_table(4, prefix="G"), now=NOW)
    assert {lead.rep_id for lead in second.leads} == {"R1"}


def test_a_rep_attribute_changed_by_hand_changes_eligibility(store: Store) -> None:
    policy = parse_policy({"rules": [{"kind": "equals", "lead": "region", "rep": "region"}]})
    load_reps_into_store(store, reps_table(2, capacity=50, region=["north", "south"]), now=NOW)
    lead = leads_table(1, prefix="H", region=["north"])
    assert route_instant(store, BatchSettings(policy=policy), lead,
                         now=NOW).leads[0].rep_id == "R0"
    with store.write() as conn:
        conn.execute(update(schema.reps).where(schema.reps.c.rep_id == "R0")
                     .values(attributes={"region": "east"}))
        conn.execute(update(schema.reps).where(schema.reps.c.rep_id == "R1")
                     .values(attributes={"region": "north"}))
    lead = leads_table(1, prefix="I", region=["north"])
    assert route_instant(store, BatchSettings(policy=policy), lead,
                         now=NOW).leads[0].rep_id == "R1"


@pytest.mark.parametrize("mask", [equals_mask, contains_mask])
def test_rule_masks_follow_the_reps_values_not_a_kept_copy(mask: object) -> None:
    from solver.policy._model import ContainsRule, EqualsRule
    rule = (EqualsRule(kind="equals", lead="region", rep="region") if mask is equals_mask
            else ContainsRule(kind="contains", lead="region", rep="region"))
    leads = pd.DataFrame({"region": ["north"]})
    pair_lead, pair_rep = pd.Series([0, 0]).to_numpy(), pd.Series([0, 1]).to_numpy()
    before = pd.DataFrame({"region": ["north", "south"]})
    after = pd.DataFrame({"region": ["south", "North "]})
    for _ in range(2):  # the second time from the kept copy
        assert mask(rule, leads, before, pair_lead, pair_rep).tolist() == [True, False]  # type: ignore[operator]
        assert mask(rule, leads, after, pair_lead, pair_rep).tolist() == [False, True]  # type: ignore[operator]


def _sqlite_only(store: Store) -> None:
    if not store.is_sqlite:
        pytest.skip("the polling write lock is SQLite's (PostgreSQL waits on the server)")


def test_sqlite_writers_exclude_each_other_while_polling(store: Store) -> None:
    """Read-modify-write of one number from many threads: a lost update would show."""
    _sqlite_only(store)
    with store.write() as conn:
        conn.execute(text("CREATE TABLE counter (n INTEGER)"))
        conn.execute(text("INSERT INTO counter VALUES (0)"))
    errors: list[BaseException] = []

    def bump(times: int) -> None:
        try:
            for _ in range(times):
                with store.write() as conn:
                    n = conn.execute(text("SELECT n FROM counter")).scalar_one()
                    conn.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=bump, args=(25,)) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with store.read() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar_one() == 150


def test_instant_leads_keep_their_moment_to_the_microsecond(store: Store) -> None:
    load_reps_into_store(store, reps_table(1), now=NOW)
    moment = datetime(2026, 12, 1, 9, 0, 0, 123456, tzinfo=UTC)
    frame = leads_table(1, prefix="M", created_at=[moment.isoformat()])
    rows, table = validated_leads(frame, NOW)
    built = instant_lead_table(table, rows, Policy())
    assert built["created_at"].iloc[0] == pd.Timestamp("2026-12-01 09:00:00.123456")
