"""``leadroute absences import``: out-of-office periods from a CSV (``rep_id, starts_at,
ends_at``; ISO times, naive = UTC) or from one rep's iCalendar export (``.ics``, each
VEVENT an absence; all-day events span whole days in the rep's time zone).

All rows are checked before any is written, and written in one transaction; a period
already stored for the rep is skipped, so re-importing a calendar adds nothing twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from solver.app.service import _schema as t
from solver.app.service._state import add_absence, reps_frame
from solver.app.service._store import Store
from solver.contract_tables import read_raw
from solver.errors import InputError

COLUMNS = ("rep_id", "starts_at", "ends_at")


@dataclass(frozen=True)
class Absence:
    rep_id: str
    starts_at: datetime  # naive UTC
    ends_at: datetime


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


def _csv(path: Path) -> list[Absence]:
    raw, label = read_raw(path, "absences")
    for column in COLUMNS:
        if column not in raw.columns:
            raise InputError("required column is missing", source=label, column=column)
    out = []
    for i, row in enumerate(raw.itertuples(index=False), start=1):
        moments = []
        for column in ("starts_at", "ends_at"):
            text = str(getattr(row, column)).strip()
            try:
                moments.append(_utc(datetime.fromisoformat(text)))
            except ValueError:
                raise InputError(f"not an ISO time: {text!r}", source=label, row=i,
                                 column=column) from None
        out.append(_checked(str(row.rep_id).strip(), moments[0], moments[1], label, i))
    return out


def _checked(rep_id: str, starts: datetime, ends: datetime, label: str, row: int) -> Absence:
    if not rep_id:
        raise InputError("empty id", source=label, row=row, column="rep_id")
    if ends <= starts:
        raise InputError("ends_at must be after starts_at", source=label, row=row,
                         column="ends_at")
    return Absence(rep_id, starts, ends)


def _ics(path: Path, rep_id: str, zone: str) -> list[Absence]:
    from icalendar import Calendar

    label = str(path)
    try:
        calendar = Calendar.from_ical(path.read_bytes())
    except (ValueError, OSError) as exc:
        raise InputError(f"not a readable iCalendar file ({exc})", source=label) from None
    out = []
    for i, event in enumerate(calendar.walk("VEVENT"), start=1):
        if "RRULE" in event:
            raise InputError("recurring events are not supported: export the single "
                             "occurrences", source=label, row=i, column="RRULE")
        if "DTSTART" not in event:
            raise InputError("event without a start", source=label, row=i, column="DTSTART")
        start = event.decoded("DTSTART")
        if "DTEND" in event:
            end = event.decoded("DTEND")
        elif "DURATION" in event:
            end = start + event.decoded("DURATION")
        else:  # RFC 5545: a date lasts one day, a date-time no time at all
            end = start + timedelta(days=1) if not isinstance(start, datetime) else start
        out.append(_checked(rep_id, _moment(start, zone), _moment(end, zone), label, i))
    return out


def _moment(value: date | datetime, zone: str) -> datetime:
    """An iCalendar DATE is local midnight of the rep; a floating time is the rep's too."""
    if not isinstance(value, datetime):
        value = datetime.combine(value, time(0))
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(zone))
    return _utc(value)


def import_absences(store: Store, path: Path, rep_id: str | None = None) -> tuple[int, int]:
    """Returns (written, already stored)."""
    if not path.is_file():
        raise InputError("file not found", source=str(path))
    with store.write() as conn:
        reps = reps_frame(conn)
        zones = dict(zip(reps["rep_id"].astype(str), reps["timezone"].astype(str),
                         strict=True))
        if path.suffix.lower() == ".ics":
            if rep_id is None:
                raise InputError("an iCalendar file holds one rep's calendar: give --rep",
                                 source="command line")
            if rep_id not in zones:
                raise InputError(f"unknown rep '{rep_id}' (not in the store)",
                                 source="command line")
            found = _ics(path, rep_id, zones[rep_id])
        else:
            found = _csv(path)
        for i, absence in enumerate(found, start=1):
            if absence.rep_id not in zones:
                raise InputError(f"unknown rep '{absence.rep_id}' (not in the store)",
                                 source=str(path), row=i, column="rep_id")
        known = {(r, s, e) for r, s, e in conn.execute(
            select(t.absences.c.rep_id, t.absences.c.starts_at, t.absences.c.ends_at))}
        new = [a for a in dict.fromkeys(found)
               if (a.rep_id, a.starts_at, a.ends_at) not in known]
        for absence in new:
            add_absence(conn, absence.rep_id, absence.starts_at, absence.ends_at)
    return len(new), len(found) - len(new)
