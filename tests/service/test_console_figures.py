"""The console's figures on tiny hand-built histories: speed to lead, SLA breaches and
re-routes, and each rep's load, share and band; plus the policy checker's table of bad
inputs (pure, no store)."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import pytest
from service_support import NOW

from solver.app.console._board import BoardFilter, BoardStatus, board_rows
from solver.app.console._preview import PolicyProblem, parse_policy_text
from solver.app.console._reps import rep_rows
from solver.app.console._speed import speed
from solver.app.service import (
    BatchSettings,
    Store,
    ingest_leads,
    load_reps_into_store,
    mark_lead,
    run_batch,
)
from solver.policy import Policy, parse_policy

SLA = {"sla": {"work_within_minutes": 30, "max_attempts": 3}}


def _world(store: Store, n_leads: int, **reps: list[object]) -> None:
    columns: dict[str, list[object]] = {"rep_id": ["R0", "R1"], "capacity": [5, 5]}
    columns.update(reps)
    load_reps_into_store(store, pd.DataFrame(columns), now=NOW - timedelta(days=1))
    if n_leads:
        ingest_leads(store, pd.DataFrame({
            "lead_id": [f"L{i}" for i in range(n_leads)],
            "created_at": [NOW.isoformat()] * n_leads}))


def test_minutes_to_assignment_and_first_touch(store: Store) -> None:
    _world(store, 1, active=[True, False])
    settings = BatchSettings(policy=parse_policy(SLA))
    run_batch(store, settings, now=NOW + timedelta(minutes=5))
    mark_lead(store, "L0", action="accepted", now=NOW + timedelta(minutes=12))
    mark_lead(store, "L0", action="worked", now=NOW + timedelta(minutes=20))
    with store.read() as conn:
        result = speed(conn, NOW + timedelta(hours=1), timedelta(days=1))
    rows = result.per_rep.set_index("rep_id")
    assert rows.loc["R0", "to_assign_median"] == pytest.approx(5.0)
    assert rows.loc["R0", "to_touch_median"] == pytest.approx(12.0)  # accepted is the touch
    assert rows.loc["overall", "assigned"] == 1 and rows.loc["overall", "breaches"] == 0
    assert result.daily["breaches"].sum() == 0 and result.daily["reroutes"].sum() == 0


def test_a_breach_and_its_re_route_are_counted_once(store: Store) -> None:
    _world(store, 1)
    settings = BatchSettings(policy=parse_policy(SLA))
    run_batch(store, settings, now=NOW)
    run_batch(store, settings, now=NOW + timedelta(minutes=45))  # past due: expire, re-route
    with store.read() as conn:
        result = speed(conn, NOW + timedelta(hours=1), timedelta(days=1))
        (row,) = board_rows(conn, BoardFilter(status=BoardStatus.EXPIRED), NOW)
    assert result.daily["breaches"].sum() == 1 and result.daily["reroutes"].sum() == 1
    rows = result.per_rep.set_index("rep_id")
    assert rows.loc["overall", "assigned"] == 2 and rows.loc["overall", "breaches"] == 1
    assert row.lead_id == "L0" and row.expiries == 1 and row.status == "assigned"


def test_load_share_target_and_band(store: Store) -> None:
    _world(store, 4, weight=[3, 1], capacity=[10, 10], active=[True, True])
    policy = parse_policy({"fairness": {"band": 0.1}})
    run_batch(store, BatchSettings(policy=policy), now=NOW)
    with store.read() as conn:
        rows = {row.rep_id: row for row in rep_rows(conn, policy, NOW + timedelta(minutes=1))}
    assert rows["R0"].target == pytest.approx(0.75) and rows["R1"].target == pytest.approx(0.25)
    # the band (±10% of 3:1) forces 3 leads to R0 and 1 to R1
    assert (rows["R0"].day_load, rows["R1"].day_load) == (3.0, 1.0)
    assert rows["R0"].share == pytest.approx(0.75) and rows["R0"].band_state == "within"
    assert rows["R0"].band == (pytest.approx(0.675), pytest.approx(0.825))


def test_an_inactive_rep_has_no_target_and_says_why(store: Store) -> None:
    _world(store, 0, active=[True, False])
    with store.read() as conn:
        rows = {row.rep_id: row for row in rep_rows(conn, Policy(), NOW)}
    assert rows["R1"].availability == "inactive" and rows["R1"].target is None
    assert rows["R0"].target == pytest.approx(1.0) and rows["R0"].band is None


@pytest.mark.parametrize(("text", "key", "message"), [
    ("[fairness]\nbandd = 0.2\n", "fairness.bandd", "unknown key"),
    ("[fairness]\nband = -1\n", "fairness.band", "greater than or equal to 0"),
    ('objective = "profit"\n', "objective", "expected_conversions"),
    ('[sla]\nwork_within_minutes = "soon"\n', "sla.work_within_minutes", "valid number"),
    ("nurture = { threshold = 1, bogus = 2 }\n", "nurture.bogus", "unknown key"),
    ('[[rules]]\nkind = "equals"\nlead = "region"\n', "rules.0.equals.rep", "Field required"),
    ('[[pools]]\nname = "p"\nrules = ["nope"]\n', "(top level)", "unknown rule"),
])
def test_every_policy_problem_names_its_key(text: str, key: str, message: str) -> None:
    problems = parse_policy_text(text)
    assert isinstance(problems, list)
    assert any(p.key == key and message in p.message for p in problems), problems


def test_all_problems_are_reported_not_just_the_first() -> None:
    problems = parse_policy_text("[fairness]\nband = -1\nmode = \"loud\"\nextra = 1\n")
    assert isinstance(problems, list)
    assert {p.key for p in problems} == {"fairness.band", "fairness.mode", "fairness.extra"}


def test_a_syntax_error_has_a_line_and_no_key() -> None:
    assert parse_policy_text("a = 1\n[broken\n") == [PolicyProblem(
        "", "not valid TOML: Expected ']' at the end of a table declaration "
            "(at line 2, column 8)", 2)]
