"""``POST /leads/{lead_id}/converted``: a worked lead's outcome (and revenue) for the
learning loop. A separate endpoint rather than a field on ``/worked``: outcomes often
arrive days later from a CRM, for leads already marked worked, and may be corrected."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field, model_validator

from solver.app.service import _state as state
from solver.app.service._api_models import _Body
from solver.app.service._outcomes import Outcome, record_outcome
from solver.app.service._store import Store, utcnow


class OutcomeIn(_Body):
    converted: bool
    revenue: float | None = Field(None, ge=0.0, allow_inf_nan=False,
                                  description="realised value when converted")

    @model_validator(mode="after")
    def _revenue_needs_a_conversion(self) -> OutcomeIn:
        if self.revenue and not self.converted:
            raise ValueError("revenue above 0 on a lead that did not convert")
        return self


class OutcomeOut(BaseModel):
    lead_id: str
    status: str
    rep_id: str | None
    converted: bool | None
    revenue: float | None


class _Detail(BaseModel):
    detail: str


def outcomes_router(store: Store, writer: Callable[..., None]) -> APIRouter:
    router = APIRouter(tags=["outcomes"])

    @router.post(
        "/leads/{lead_id}/converted", response_model=OutcomeOut, status_code=200,
        dependencies=[Depends(writer)],
        responses={401: {"model": _Detail, "description": "missing or wrong token"},
                   404: {"model": _Detail, "description": "no such lead"},
                   409: {"model": _Detail, "description": "no rep had this lead"}})
    def converted(lead_id: str, body: OutcomeIn) -> OutcomeOut:
        """Record whether the lead converted (and its revenue); the lead becomes worked."""
        with store.write() as conn:
            record_outcome(conn, Outcome(lead_id, body.converted, body.revenue), utcnow())
            lead: dict[str, Any] = state.get_lead(conn, lead_id)
        return OutcomeOut(lead_id=lead_id, status=lead["status"], rep_id=lead["rep_id"],
                          converted=lead["converted"], revenue=lead["revenue"])

    return router
