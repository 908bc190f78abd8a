"""``POST /leads/{lead_id}/converted``: a worked lead's outcome (and revenue) for the
learning loop. A separate endpoint rather than a field on ``/worked``: outcomes often
arrive days later from a CRM, for leads already marked worked, and may be corrected."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, Field

from solver.app.service import _state as state
from solver.app.service._api_errors import error_responses
from solver.app.service._api_models import _Body
from solver.app.service._api_types import ID_MAX, ID_PATTERN
from solver.app.service._outcomes import Outcome, record_outcome
from solver.app.service._store import Store, utcnow

PathId = Annotated[str, Path(min_length=1, max_length=ID_MAX, pattern=ID_PATTERN)]


class OutcomeIn(_Body):
    converted: bool
    revenue: float | None = Field(None, ge=0.0, le=1e12, allow_inf_nan=False,
                                  description="realised value when converted (ignored, "
                                              "and stored as none, when not converted)")


class OutcomeOut(BaseModel):
    lead_id: str
    status: str
    rep_id: str | None
    converted: bool | None
    revenue: float | None


def outcomes_router(store: Store, writer: Callable[..., None]) -> APIRouter:
    router = APIRouter(tags=["outcomes"])

    @router.post(
        "/leads/{lead_id}/converted", response_model=OutcomeOut, status_code=200,
        dependencies=[Depends(writer)], operation_id="record_outcome",
        responses=error_responses(write=True, found=True, body=True))
    def converted(lead_id: PathId, body: OutcomeIn) -> OutcomeOut:
        """Record whether the lead converted (and its revenue); the lead becomes worked."""
        with store.write() as conn:
            revenue = body.revenue if body.converted else None  # no conversion, no revenue
            record_outcome(conn, Outcome(lead_id, body.converted, revenue), utcnow())
            lead: dict[str, Any] = state.get_lead(conn, lead_id)
        return OutcomeOut(lead_id=lead_id, status=lead["status"], rep_id=lead["rep_id"],
                          converted=lead["converted"], revenue=lead["revenue"])

    return router
