"""The SLA clock in working hours (shift, time zone, weekends, holidays) and absences
imported from CSV or iCalendar."""

from __future__ import annotations

import sys
from datetime import datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from service_support import NOW, leads_table, reps_table
from sqlalchemy import select

from solver.app import cli
from solver.app.service import (
    BatchSettings,
    Store,
    ingest_leads,
    lead_story,
    load_reps_into_store,
    run_batch,
)
from solver.app.service import _schema as schema
from solver.app.service._absences import import_absences
from solver.app.service._calendar import WorkCalendar, add_working_minutes
from solver.errors import InputError, PolicyError
from solver.policy import parse_policy

BERLIN = WorkCalendar(zone="Europe/Berlin", work_start=time(9), work_end=time(17))


@pytest.mark.parametrize(("start", "minutes", "calendar", "due"), [
    # Fri 16:30 Berlin (15:30 UTC), 60 min: 30 today, 30 on Monday from 09:00 Berlin
    (datetime(2026, 12, 4, 15, 30), 60, BERLIN, datetime(2026, 12, 7, 8, 30)),
    # Thu 24 Dec 16:30: 25 and 26 Dec are Bavarian holidays, then the weekend → Mon 28th
    (datetime(2026, 12, 24, 15, 30), 60,
     WorkCalendar(zone="Europe/Berlin", work_start=time(9), work_end=time(17),
                  holidays="DE-BY"), datetime(2026, 12, 28, 8, 30)),
    (datetime(2026, 12, 24, 15, 30), 60, BERLIN, datetime(2026, 12, 25, 8, 30)),
    # a night shift 22:00–06:00 UTC: 30 min before it ends, the rest the next night
    (datetime(2026, 12, 1, 5, 30), 60,
     WorkCalendar(work_start=time(22), work_end=time(6)), datetime(2026, 12, 1, 22, 30)),
    # no shift: whole weekdays count; a Saturday start waits for Monday 00:00
    (datetime(2026, 12, 5, 10, 0), 60, WorkCalendar(), datetime(2026, 12, 7, 1, 0)),
    # New York moves to summer time on Sun 8 Mar 2026: Monday 09:00 EDT is 13:00 UTC
    (datetime(2026, 3, 6, 21, 0), 120,
     WorkCalendar(zone="America/New_York", work_start=time(9), work_end=time(17)),
     datetime(2026, 3, 9, 14, 0)),
    # inside the shift: plain addition
    (datetime(2026, 12, 1, 10, 0), 30, BERLIN, datetime(2026, 12, 1, 10, 30)),
])
def test_working_minutes(start: datetime, minutes: float, calendar: WorkCalendar,
                         due: datetime) -> None:
    assert add_working_minutes(start, minutes, calendar) == due


@given(start=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31)),
       minutes=st.floats(min_value=1, max_value=5000),
       more=st.floats(min_value=0, max_value=600))
@settings(max_examples=60, deadline=None)
def test_working_time_never_runs_faster_than_the_clock(start: datetime, minutes: float,
                                                       more: float) -> None:
    due = add_working_minutes(start, minutes, BERLIN)
    assert due - start >= timedelta(minutes=minutes) - timedelta(microseconds=1)
    assert add_working_minutes(start, minutes + more, BERLIN) >= due


def test_unknown_holiday_calendar_is_a_policy_error() -> None:
    with pytest.raises(PolicyError, match="holiday calendar 'XX-YY'"):
        add_working_minutes(NOW, 10, WorkCalendar(holidays="XX-YY"))


def test_batch_deadline_follows_the_reps_shift(store: Store) -> None:
    policy = parse_policy({"sla": {"work_within_minutes": 60, "clock": "working_hours"}})
    # NOW is Tue 10:00 UTC; the rep works 09:00–10:30 UTC: 30 minutes today, 30 tomorrow
    load_reps_into_store(store, reps_table(1, capacity=5, timezone=["UTC"], work_start=["09:00"],
                                work_end=["10:30"]), now=NOW)
    ingest_leads(store, leads_table(1), now=NOW)
    run_batch(store, BatchSettings(policy=policy), now=NOW)
    due = NOW + timedelta(days=1, minutes=-30)
    assert lead_story(store, "L0000")["due_at"] == due
    later = run_batch(store, BatchSettings(policy=policy), now=NOW + timedelta(hours=3))
    assert later.expired == 0  # past the wall-clock hour, within the working hour
    assert run_batch(store, BatchSettings(policy=policy), now=due).expired == 1


def _absences(store: Store) -> list[tuple[str, datetime, datetime]]:
    with store.read() as conn:
        rows = conn.execute(select(schema.absences.c.rep_id, schema.absences.c.starts_at,
                                   schema.absences.c.ends_at).order_by(schema.absences.c.id))
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_absences_from_csv(store: Store, tmp_path: Path) -> None:
    load_reps_into_store(store, reps_table(2), now=NOW)
    path = tmp_path / "absences.csv"
    path.write_text("rep_id,starts_at,ends_at\nR0,2026-12-21T00:00,2026-12-24T00:00\n"
                    "R1,2026-12-22T09:00+01:00,2026-12-22T13:00+01:00\n")
    assert import_absences(store, path) == (2, 0)
    assert import_absences(store, path) == (0, 2)  # re-importing adds nothing
    assert _absences(store) == [
        ("R0", datetime(2026, 12, 21), datetime(2026, 12, 24)),
        ("R1", datetime(2026, 12, 22, 8), datetime(2026, 12, 22, 12))]


ICS = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:1
DTSTART;VALUE=DATE:20261228
DTEND;VALUE=DATE:20261231
SUMMARY:Holiday
END:VEVENT
BEGIN:VEVENT
UID:2
DTSTART:20270105T130000Z
DURATION:PT2H
SUMMARY:Dentist
END:VEVENT
END:VCALENDAR
"""


def test_absences_from_icalendar(store: Store, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    load_reps_into_store(store, reps_table(1, timezone=["Europe/Berlin"]), now=NOW)
    path = tmp_path / "r0.ics"
    path.write_text(ICS)
    monkeypatch.setattr(sys, "argv", ["leadroute", "absences", "import", str(path), "--rep",
                                      "R0", "--db", store.settings.url])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == "2 absences written, 0 already stored"
    assert _absences(store) == [  # all-day events are the rep's local days
        ("R0", datetime(2026, 12, 27, 23), datetime(2026, 12, 30, 23)),
        ("R0", datetime(2027, 1, 5, 13), datetime(2027, 1, 5, 15))]


@pytest.mark.parametrize(("text", "rep", "message"), [
    ("rep_id,starts_at,ends_at\nR0,soon,2026-12-24T00:00\n", None,
     r"absences.csv, row 1, column 'starts_at': not an ISO time: 'soon'"),
    ("rep_id,starts_at,ends_at\nR0,2026-12-24T00:00,2026-12-23T00:00\n", None,
     r"row 1, column 'ends_at': ends_at must be after starts_at"),
    ("rep_id,starts_at,ends_at\nR0,2026-12-21,2026-12-22\nR9,2026-12-21,2026-12-22\n", None,
     r"row 2, column 'rep_id': unknown rep 'R9'"),
    ("rep_id,starts_at\nR0,2026-12-21\n", None, r"column 'ends_at': required column"),
])
def test_bad_absences_name_row_and_column_and_write_nothing(
        store: Store, tmp_path: Path, text: str, rep: str | None, message: str) -> None:
    load_reps_into_store(store, reps_table(1), now=NOW)
    path = tmp_path / "absences.csv"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        import_absences(store, path, rep)
    assert _absences(store) == []


def test_icalendar_needs_the_rep(store: Store, tmp_path: Path) -> None:
    load_reps_into_store(store, reps_table(1), now=NOW)
    path = tmp_path / "r0.ics"
    path.write_text(ICS)
    with pytest.raises(InputError, match="give --rep"):
        import_absences(store, path)
