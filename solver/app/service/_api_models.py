"""Request and response bodies of the HTTP API (strict: unknown fields are 422s)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
AttributeValue = Annotated[str, StringConstraints(max_length=2000)] | float | bool
Clock = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LeadIn(_Body):
    lead_id: Id
    account_id: Id | None = None
    value: float = Field(1.0, ge=0.0, allow_inf_nan=False)
    effort: float = Field(1.0, gt=0.0, allow_inf_nan=False)
    created_at: datetime | None = None
    attributes: dict[Annotated[str, StringConstraints(min_length=1, max_length=100)],
                     AttributeValue] = Field(default_factory=dict, max_length=100)

    @field_validator("attributes")
    @classmethod
    def _no_reserved(cls, value: dict[str, object]) -> dict[str, object]:
        reserved = {"lead_id", "account_id", "value", "effort", "created_at"} & set(value)
        if reserved:
            raise ValueError(f"reserved column(s) {sorted(reserved)} go in their own fields")
        return value


class LeadsIn(_Body):
    leads: list[LeadIn] = Field(min_length=1, max_length=5000)


class IngestOut(BaseModel):
    inserted: int
    already_known: int


class RepIn(_Body):
    rep_id: Id
    capacity: float = Field(ge=0.0, allow_inf_nan=False)
    capacity_week: float | None = Field(None, ge=0.0, allow_inf_nan=False)
    active: bool = True
    weight: float = Field(1.0, gt=0.0, allow_inf_nan=False)
    start_date: datetime | None = None
    timezone: Annotated[str, StringConstraints(max_length=64)] = "UTC"
    work_start: Clock | None = None
    work_end: Clock | None = None
    attributes: dict[Annotated[str, StringConstraints(min_length=1, max_length=100)],
                     AttributeValue] = Field(default_factory=dict, max_length=100)


class RepsIn(_Body):
    reps: list[RepIn] = Field(min_length=1, max_length=5000)


class RepPatch(_Body):
    """Availability and capacity changes; fields left out stay as they are."""

    capacity: float | None = Field(None, ge=0.0, allow_inf_nan=False)
    capacity_week: float | None = Field(None, ge=0.0, allow_inf_nan=False)
    active: bool | None = None
    weight: float | None = Field(None, gt=0.0, allow_inf_nan=False)
    work_start: Clock | None = None
    work_end: Clock | None = None


class AbsenceIn(_Body):
    starts_at: datetime
    ends_at: datetime


class MarkIn(_Body):
    converted: bool | None = None


class HistoryEvent(BaseModel):
    event: str
    rep_id: str | None
    batch_id: str
    score: float | None
    reason: str
    engine: str
    policy_version: str
    created_at: datetime


class LeadOut(BaseModel):
    lead_id: str
    status: Literal["pending", "assigned", "accepted", "worked", "nurture", "unrouted"]
    rep_id: str | None
    reason: str
    attempts: int
    created_at: datetime
    assigned_at: datetime | None
    due_at: datetime | None
    worked_at: datetime | None
    converted: bool | None
    history: list[HistoryEvent]


class Health(BaseModel):
    status: Literal["ok"]
    database: str
    schema_version: int
    leads: dict[str, int]
    failed_notifications: int
