"""The SLA clock in working time: ``[sla] clock = "working_hours"`` counts only the
minutes inside the assigned rep's shift (``work_start``–``work_end`` in its ``timezone``;
the whole day when it has no shift), Monday to Friday, outside public holidays of the
rep's calendar (the ``holidays`` package: ``"US"``, ``"DE-BY"`` = country-subdivision; the
rep's ``holidays`` attribute, else ``[sla] holidays``).

Absences do not stop the clock on purpose: a lead whose rep goes out of office should
expire and go to someone who is in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any, Final
from zoneinfo import ZoneInfo

import pandas as pd

from solver.errors import PolicyError
from solver.policy import Sla

MAX_DAYS: Final = 3 * 366  # a deadline further than this means no working time at all
WEEKEND: Final = frozenset({5, 6})


@cache
def holiday_calendar(spec: str) -> Any:
    """``"US"`` or ``"DE-BY"`` → a holidays calendar (dates it contains do not count)."""
    import holidays

    country, _, subdivision = spec.strip().partition("-")
    try:
        return holidays.country_holidays(country.upper(), subdiv=subdivision or None)
    except NotImplementedError as exc:
        raise PolicyError(f"holiday calendar {spec!r}: {exc}") from None


@dataclass(frozen=True)
class WorkCalendar:
    zone: str = "UTC"
    work_start: time | None = None  # None: the whole day counts
    work_end: time | None = None
    holidays: str | None = None

    def is_workday(self, day: date) -> bool:
        if day.weekday() in WEEKEND:
            return False
        return self.holidays is None or day not in holiday_calendar(self.holidays)

    def shift(self, day: date) -> tuple[datetime, datetime]:
        """The day's working interval, naive UTC (a night shift ends the next day)."""
        zone = ZoneInfo(self.zone)
        start = datetime.combine(day, self.work_start or time(0), tzinfo=zone)
        end_day = day + timedelta(days=1) if self.work_end is None or (
            self.work_start is not None and self.work_end <= self.work_start) else day
        end = datetime.combine(end_day, self.work_end or time(0), tzinfo=zone)
        return _naive_utc(start), _naive_utc(end)


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None)


def add_working_minutes(start: datetime, minutes: float, calendar: WorkCalendar) -> datetime:
    """The moment (naive UTC) when ``minutes`` of working time have passed since
    ``start`` (naive UTC)."""
    left = timedelta(minutes=minutes)
    local_day = start.replace(tzinfo=UTC).astimezone(ZoneInfo(calendar.zone)).date()
    for offset in range(-1, MAX_DAYS):  # from the day before: a night shift may be running
        day = local_day + timedelta(days=offset)
        if not calendar.is_workday(day):
            continue
        begin, end = calendar.shift(day)
        begin = max(begin, start)
        if end <= begin:
            continue
        if end - begin >= left:
            return begin + left
        left -= end - begin
    raise PolicyError(f"no working time within {MAX_DAYS} days in the calendar of time zone "
                      f"{calendar.zone}: check the shift and holidays")


def _time(value: object) -> time | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value == "":
        return None
    return time.fromisoformat(str(value))


def rep_calendars(reps: pd.DataFrame, default_holidays: str | None) -> dict[str, WorkCalendar]:
    """One calendar per rep of the store's reps table."""
    out = {}
    for row in reps.itertuples(index=False):
        attributes: dict[str, Any] = (row.attributes if isinstance(row.attributes, dict)
                                      else {})
        spec = attributes.get("holidays") or default_holidays
        calendar = WorkCalendar(zone=str(row.timezone or "UTC"), work_start=_time(row.work_start),
                                work_end=_time(row.work_end), holidays=spec or None)
        if calendar.holidays is not None:
            holiday_calendar(calendar.holidays)  # an unknown calendar fails before any work
        out[str(row.rep_id)] = calendar
    return out


def sla_deadlines(sla: Sla | None, reps: pd.DataFrame, now: datetime
                  ) -> Callable[[str], datetime | None]:
    """rep id → when a lead assigned to that rep at ``now`` expires (None: no SLA)."""
    if sla is None:
        return lambda _rep: None
    if sla.clock == "wall":
        due = now + timedelta(minutes=sla.work_within_minutes)
        return lambda _rep: due
    calendars = rep_calendars(reps, sla.holidays)
    deadlines: dict[str, datetime] = {}

    def deadline(rep_id: str) -> datetime | None:
        if rep_id not in deadlines:
            calendar = calendars.get(rep_id, WorkCalendar(holidays=sla.holidays))
            deadlines[rep_id] = add_working_minutes(now, sla.work_within_minutes, calendar)
        return deadlines[rep_id]

    return deadline
