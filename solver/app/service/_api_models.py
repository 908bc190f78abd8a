"""Request and response bodies of the HTTP API (strict: unknown fields are 422s).

Every rule the server enforces on a request is in the schema these models generate (see
``_api_types``); a field that may be left out but not sent as ``null`` says so.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    ValidationInfo,
    field_validator,
    model_validator,
)

from solver.app.service._api_types import (
    LEAD_FIELDS,
    MAX_CAPACITY,
    MAX_EFFORT,
    MAX_VALUE,
    MAX_WEIGHT,
    MIN_EFFORT,
    MIN_WEIGHT,
    REP_FIELDS,
    AttributeValue,
    Clock,
    DayIn,
    DayOut,
    Id,
    MomentIn,
    MomentOut,
    TimeZone,
    attribute_names,
    attributes_schema,
)
from solver.app.service._batch import BatchReport

Capacity = Annotated[float, Field(ge=0.0, le=MAX_CAPACITY, allow_inf_nan=False,
                                  description="effort units per day")]
Weight = Annotated[float, Field(ge=MIN_WEIGHT, le=MAX_WEIGHT, allow_inf_nan=False)]
LeadAttributes = Annotated[dict[str, AttributeValue], Field(max_length=100),
                           attribute_names(LEAD_FIELDS), attributes_schema(LEAD_FIELDS)]
RepAttributes = Annotated[dict[str, AttributeValue], Field(max_length=100),
                          attribute_names(REP_FIELDS), attributes_schema(REP_FIELDS)]

# work hours come together or not at all (the schema says so with dependentRequired)
_WORK_HOURS_TOGETHER: dict[str, Any] = {
    "dependentRequired": {"work_start": ["work_end"], "work_end": ["work_start"]}}
WORK_HOURS_DOC = ("work_start/work_end: the daily shift in the rep's time zone; a shift "
                  "whose end is earlier than its start crosses midnight, and equal start and "
                  "end mean around the clock.")


class _Body(BaseModel):
    # strict: "1.5" is not a number and 0 is not a timestamp, as the schema says
    model_config = ConfigDict(extra="forbid", strict=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_null_unless_declared(cls, value: object, info: ValidationInfo) -> object:
        # fields that may be left out but not sent as null (their default means "absent")
        if value is None and info.field_name in cls.NOT_NULL:
            raise ValueError("leave the field out instead of sending null")
        return value

    NOT_NULL: ClassVar[frozenset[str]] = frozenset()


def _absent(**extra: Any) -> Any:
    """A field that may be left out (default None) but not sent as null: the schema shows
    neither a null type nor a null default."""

    def drop_default(schema: dict[str, Any]) -> None:
        schema.pop("default", None)
        schema.update(extra)

    return Field(None, json_schema_extra=drop_default)


class LeadIn(_Body):
    lead_id: Id
    account_id: Id | None = None
    value: float = Field(1.0, ge=0.0, le=MAX_VALUE, allow_inf_nan=False)
    effort: float = Field(1.0, ge=MIN_EFFORT, le=MAX_EFFORT, allow_inf_nan=False)
    created_at: MomentIn | None = Field(
        None, description="arrival time; null or left out = when the server receives it")
    attributes: LeadAttributes = Field(default_factory=dict)


class LeadsIn(_Body):
    leads: list[LeadIn] = Field(min_length=1, max_length=5000)


class IngestOut(BaseModel):
    inserted: int
    already_known: int


class RepIn(_Body):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_WORK_HOURS_TOGETHER)
    NOT_NULL = frozenset({"work_start", "work_end"})

    rep_id: Id
    capacity: Capacity
    capacity_week: Capacity | None = None
    active: bool = True
    weight: Weight = 1.0
    start_date: DayIn | None = None
    timezone: TimeZone = "UTC"
    work_start: Clock = _absent(description=WORK_HOURS_DOC)
    work_end: Clock = _absent()
    attributes: RepAttributes = Field(default_factory=dict)

    @model_validator(mode="after")
    def _work_hours_together(self) -> RepIn:
        if (self.work_start is None) != (self.work_end is None):
            raise ValueError("give both work_start and work_end, or neither")
        return self


class RepsIn(_Body):
    reps: list[RepIn] = Field(min_length=1, max_length=5000)


class RepPatch(_Body):
    """Availability and capacity changes; fields left out stay as they are. Work hours
    change together: both times, or both null (no shift: always on)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        **_WORK_HOURS_TOGETHER,
        "anyOf": [{"properties": {"work_start": {"type": "string"},
                                  "work_end": {"type": "string"}}},
                  {"properties": {"work_start": {"type": "null"},
                                  "work_end": {"type": "null"}}}]})
    NOT_NULL = frozenset({"capacity", "active", "weight"})

    capacity: Capacity = _absent()
    capacity_week: Capacity | None = None
    active: bool = _absent()
    weight: Weight = _absent()
    work_start: Clock | None = Field(None, description=WORK_HOURS_DOC)
    work_end: Clock | None = None

    @model_validator(mode="after")
    def _work_hours_together(self) -> RepPatch:
        given = {"work_start", "work_end"} & self.model_fields_set
        if len(given) == 1 or (given and (self.work_start is None) != (self.work_end is None)):
            raise ValueError("change work_start and work_end together (both times, or both "
                             "null)")
        return self


class AbsenceIn(_Body):
    starts_at: MomentIn
    ends_at: MomentIn


class MarkIn(_Body):
    converted: bool | None = None


# -- responses ----------------------------------------------------------------------------
class HistoryEvent(BaseModel):
    event: str
    rep_id: str | None
    batch_id: str
    score: float | None
    reason: str
    engine: str
    policy_version: str
    created_at: MomentOut


class LeadOut(BaseModel):
    lead_id: str
    status: Literal["pending", "assigned", "accepted", "worked", "nurture", "unrouted"]
    rep_id: str | None
    reason: str
    attempts: int
    created_at: MomentOut
    assigned_at: MomentOut | None
    due_at: MomentOut | None
    worked_at: MomentOut | None
    converted: bool | None
    history: list[HistoryEvent]


class BatchOut(BatchReport):
    started_at: MomentOut
    finished_at: MomentOut


class RepOut(BaseModel):
    rep_id: str
    capacity: float
    capacity_week: float | None
    active: bool
    weight: float
    start_date: DayOut | None
    timezone: str
    work_start: str | None
    work_end: str | None
    attributes: dict[str, JsonValue]
    updated_at: MomentOut


class WrittenOut(BaseModel):
    written: int


class AbsenceOut(BaseModel):
    rep_id: str
    starts_at: MomentOut
    ends_at: MomentOut


class NotificationOut(BaseModel):
    id: int
    lead_id: str
    rep_id: str
    batch_id: str
    url: str
    payload: dict[str, JsonValue]
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: MomentOut
    last_error: str | None
    updated_at: MomentOut


class Health(BaseModel):
    status: Literal["ok"]
    database: str
    schema_version: int
    leads: dict[str, int]
    failed_notifications: int

