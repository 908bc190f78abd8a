"""Field types of the HTTP API whose OpenAPI schema is exactly what the server accepts.

Each type pairs a strict validator with the JSON Schema that describes it, so a client
generated from ``/openapi.json`` never sends a request the server refuses for a rule the
document does not state (and the server never accepts one the document forbids).

Timestamps are RFC 3339 with an offset (``Z`` or ``±hh:mm``); one without an offset is
taken as UTC. Years are limited to 1900–2199, well inside what the store, Python and pandas
can hold. Every timestamp the API returns is UTC with a ``Z``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Final
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    AllowInfNan,
    Field,
    PlainSerializer,
    PlainValidator,
    Strict,
    StringConstraints,
    WithJsonSchema,
)

FIRST_YEAR: Final = 1900
LAST_YEAR: Final = 2199
_YEAR_PATTERN: Final = "^(19|2[01])[0-9]{2}-"

# Finite bounds the solver can represent (it scales efforts and values to integers).
MAX_CAPACITY: Final = 1e9
MAX_EFFORT: Final = 1e9
MAX_VALUE: Final = 1e12
MIN_WEIGHT: Final = 1e-6  # refuses denormals and other weights too small to share by
MAX_WEIGHT: Final = 1e6
MIN_EFFORT: Final = 1e-6

# -- ids and texts ------------------------------------------------------------------------
# No control characters (PostgreSQL refuses NUL) and no surrounding white space (the table
# loaders strip it, so " a" and "a" would be the same id).
_SPACE: Final = r" \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_CONTROL: Final = r"\x00-\x1f\x7f-\x9f"
ID_PATTERN: Final = (f"^[^{_SPACE}{_CONTROL}]([^{_CONTROL}]*[^{_SPACE}{_CONTROL}])?$")
ID_MAX: Final = 200


def _valid_unicode(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("not valid Unicode text (a lone surrogate)") from None
    return text


Id = Annotated[str, StringConstraints(min_length=1, max_length=ID_MAX, pattern=ID_PATTERN),
               AfterValidator(_valid_unicode)]
Clock = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]

LEAD_FIELDS: Final = ("lead_id", "account_id", "value", "effort", "created_at")
REP_FIELDS: Final = ("rep_id", "capacity", "capacity_week", "active", "weight", "start_date",
                     "timezone", "work_start", "work_end")
_KEY_RE: Final = re.compile(ID_PATTERN)


AttributeValue = Annotated[
    Annotated[str, Strict(), StringConstraints(max_length=2000, pattern=r"^[^\x00]*$"),
              AfterValidator(_valid_unicode)]
    | Annotated[float, Strict(), AllowInfNan(False)]
    | Annotated[bool, Strict()],
    Field(union_mode="left_to_right")]


def attribute_names(reserved: tuple[str, ...]) -> AfterValidator:
    """Attribute names are like ids (1-100 characters) and not reserved columns."""
    def check(values: dict[str, Any]) -> dict[str, Any]:
        for key in values:
            if not _KEY_RE.fullmatch(key) or len(key) > 100:
                raise ValueError(f"attribute name {key!r}: 1-100 characters, no control "
                                 "characters and no surrounding white space")
            if key in reserved:
                raise ValueError(f"'{key}' is a reserved column; it goes in its own field")
            _valid_unicode(key)
        return values

    return AfterValidator(check)


def attributes_schema(reserved: tuple[str, ...]) -> WithJsonSchema:
    """Free attributes that rules and the affinity model may use: at most 100, each value a
    string (up to 2000 characters), a finite number or a boolean."""
    return WithJsonSchema({
        "type": "object", "maxProperties": 100,
        "propertyNames": {"type": "string", "minLength": 1, "maxLength": 100,
                          "pattern": ID_PATTERN, "not": {"enum": list(reserved)}},
        "additionalProperties": {"anyOf": [
            {"type": "string", "maxLength": 2000, "pattern": "^[^\\x00]*$"},
            {"type": "number"}, {"type": "boolean"}]},
        "description": f"free attributes; reserved names: {', '.join(reserved)}"})


# -- time zones ---------------------------------------------------------------------------
TIME_ZONES: Final = tuple(sorted(available_timezones()))
_ZONE_SET: Final = frozenset(TIME_ZONES)


def _zone(value: object) -> str:
    if not isinstance(value, str) or value not in _ZONE_SET:
        raise ValueError("not an IANA time zone name (e.g. Europe/Paris)")
    return value


TimeZone = Annotated[str, PlainValidator(_zone, json_schema_input_type=str),
                     WithJsonSchema({"type": "string", "enum": list(TIME_ZONES),
                                     "description": "IANA time zone name"})]

# -- timestamps ---------------------------------------------------------------------------
_STAMP: Final = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})?")
# a real calendar day of 1900-2199 (leap years included), as a pattern
_LEAP_YEAR: Final = "(19|20|21)(0[48]|[2468][048]|[13579][26])|2000"
_REAL_DAY: Final = ("((19|2[01])[0-9]{2}-((0[13578]|1[02])-(0[1-9]|[12][0-9]|3[01])"
                    "|(0[469]|11)-(0[1-9]|[12][0-9]|30)|02-(0[1-9]|1[0-9]|2[0-8]))"
                    f"|({_LEAP_YEAR})-02-29)")
_NAIVE_PATTERN: Final = (f"^{_REAL_DAY}[Tt]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]"
                         r"(\.[0-9]+)?$")
_DAY: Final = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def _year_ok(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(f"year {year} is out of range ({FIRST_YEAR}-{LAST_YEAR})")


def parse_moment(value: object) -> datetime:
    """RFC 3339 text → naive UTC (the store's format); no offset means UTC."""
    found = _STAMP.fullmatch(value) if isinstance(value, str) else None
    if found is None:
        raise ValueError("expected an RFC 3339 timestamp, e.g. 2026-12-01T09:30:00Z")
    year, month, day, hour, minute, second = (int(part) for part in found.groups()[:6])
    _year_ok(year)
    offset = found.group(8)
    leap = second == 60 and offset is not None  # RFC 3339 leap second: the instant after :59
    fraction = (found.group(7) or ".0")[1:7].ljust(6, "0")
    try:
        moment = datetime(year, month, day, hour, minute, 59 if leap else second,
                          int(fraction))
    except ValueError as exc:
        raise ValueError(f"not a real date or time ({exc})") from None
    if offset and offset not in ("Z", "z"):
        hours, minutes = int(offset[1:3]), int(offset[4:6])
        if hours > 23 or minutes > 59:
            raise ValueError(f"not a valid UTC offset: {offset}")
        sign = 1 if offset[0] == "+" else -1
        moment -= sign * timedelta(hours=hours, minutes=minutes)
    if leap:
        if (moment.hour, moment.minute) != (23, 59):
            raise ValueError("a leap second (:60) falls only at 23:59 UTC")
        moment += timedelta(seconds=1)
    return moment


def format_moment(moment: datetime) -> str:
    """Naive UTC (or aware) → ``YYYY-MM-DDTHH:MM:SS[.ffffff]Z``."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    text = (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
            f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}")
    return text + (f".{moment.microsecond:06d}" if moment.microsecond else "") + "Z"


_MOMENT_DOC: Final = ("RFC 3339 timestamp, e.g. 2026-12-01T09:30:00Z or "
                      "2026-12-01T10:30:00+01:00; without an offset it is taken as UTC; "
                      f"years {FIRST_YEAR}-{LAST_YEAR}")
MomentIn = Annotated[datetime, PlainValidator(parse_moment, json_schema_input_type=str),
                     WithJsonSchema({"type": "string", "pattern": _YEAR_PATTERN,
                                     "anyOf": [{"format": "date-time"},
                                               {"pattern": _NAIVE_PATTERN}],
                                     "description": _MOMENT_DOC})]
MomentOut = Annotated[datetime, PlainSerializer(format_moment, return_type=str),
                      WithJsonSchema({"type": "string", "format": "date-time",
                                      "description": "RFC 3339, UTC (ends in Z)"})]


def parse_day(value: object) -> date:
    found = _DAY.fullmatch(value) if isinstance(value, str) else None
    if found is None:
        raise ValueError("expected an ISO date, e.g. 2026-12-01")
    year, month, day = (int(part) for part in found.groups())
    _year_ok(year)
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"not a real date ({exc})") from None


DayIn = Annotated[date, PlainValidator(parse_day, json_schema_input_type=str),
                  WithJsonSchema({"type": "string", "format": "date",
                                  "pattern": _YEAR_PATTERN + "[0-9]{2}-[0-9]{2}$",
                                  "description": f"ISO date, years {FIRST_YEAR}-{LAST_YEAR}"})]
DayOut = Annotated[date, PlainSerializer(lambda day: day.isoformat(), return_type=str),
                   WithJsonSchema({"type": "string", "format": "date"})]
