"""The HTTP API (FastAPI): ingest leads, route now, read a lead's story, mark it worked,
change rep availability, health. Writes need ``Authorization: Bearer <token>``; bodies
are size-limited; bad input is a 4xx naming the field, never a 500."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

import httpx
import pandas as pd
from fastapi import BackgroundTasks, Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from solver._errors import InputError, LeadrouteError
from solver.app.service import _state as state
from solver.app.service._api_models import (
    AbsenceIn,
    Health,
    IngestOut,
    LeadOut,
    LeadsIn,
    MarkIn,
    RepPatch,
    RepsIn,
)
from solver.app.service._batch import BatchReport, BatchSettings, run_batch
from solver.app.service._delivery_loop import delivery_lifespan
from solver.app.service._errors import BatchBusyError, NotFoundError, StoreError
from solver.app.service._notify import deliver_due, notifications
from solver.app.service._operations import ingest_leads, lead_story, load_reps, mark_lead
from solver.app.service._store import Store, as_utc, utcnow

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with 413, declared or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _too_large(self.max_bytes)(scope, receive, send)
            return
        # read the whole body first (it is small by construction), then replay it
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if len(body) > self.max_bytes:
                await _too_large(self.max_bytes)(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _too_large(limit: int) -> JSONResponse:
    return JSONResponse({"detail": f"request body larger than {limit} bytes"}, status_code=413)


def create_app(store: Store, settings: BatchSettings, *, api_token: str | None,
               max_body_bytes: int = 1_000_000, deliver_webhooks: bool = True,
               webhook_client: httpx.Client | None = None) -> Any:
    """``api_token=None`` disables authentication (only for a trusted loopback).
    ``deliver_webhooks``: send new assignments' webhooks after each ``/route`` response
    (off when a worker delivers them)."""
    # due webhooks (retries included) go out from a background loop while serving
    lifespan = (delivery_lifespan(store, client=webhook_client)
                if deliver_webhooks and settings.webhook_url else None)
    app = FastAPI(title="leadroute", version="0.1.0", lifespan=lifespan,
                  description="Micro-batch lead routing: ingest, route, audit.")

    def writer(authorization: str | None = Header(None)) -> None:
        if api_token is None:
            return
        scheme, _, given = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(given.encode(),
                                                                    api_token.encode()):
            raise HTTPException(401, "missing or wrong bearer token",
                                headers={"WWW-Authenticate": "Bearer"})

    @app.exception_handler(LeadrouteError)
    async def _errors(_request: Request, exc: LeadrouteError) -> JSONResponse:
        code = (404 if isinstance(exc, NotFoundError) else 409 if isinstance(exc, StoreError)
                else 422)
        body: dict[str, Any] = {"detail": str(exc)}
        if isinstance(exc, InputError):
            body.update(row=exc.row, column=exc.column)
        return JSONResponse(body, status_code=code)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # the offending input is not echoed back: it may not even be valid JSON (NaN)
        detail = [{"type": e.get("type"), "loc": list(e.get("loc", ())), "msg": e.get("msg")}
                  for e in exc.errors()]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.get("/health", response_model=Health)
    def health() -> Health:
        with store.read() as conn:
            counts = state.status_counts(conn)
        failed = len(notifications(store, "failed", limit=10_000))
        return Health(status="ok", database=store.engine.dialect.name,
                      schema_version=store.schema_version, leads=counts,
                      failed_notifications=failed)

    @app.post("/leads", response_model=IngestOut, dependencies=[Depends(writer)])
    def post_leads(body: LeadsIn) -> IngestOut:
        frame = _leads_frame(body)
        inserted, known = ingest_leads(store, frame)
        return IngestOut(inserted=inserted, already_known=known)

    @app.post("/route", response_model=BatchReport, dependencies=[Depends(writer)])
    def route_now(background: BackgroundTasks,
                  batch_id: str | None = Query(None, min_length=1, max_length=200),
                  wait: bool = True) -> BatchReport:
        try:
            report = run_batch(store, settings, batch_id=batch_id, wait=wait)
        except BatchBusyError as exc:
            raise HTTPException(409, str(exc)) from None
        if deliver_webhooks and settings.webhook_url and report.assigned:
            # after the response is sent, never blocking or undoing the batch
            background.add_task(deliver_due, store, client=webhook_client)
        return report

    @app.get("/batches/{batch_id}", response_model=BatchReport)
    def get_batch(batch_id: str) -> BatchReport:
        with store.read() as conn:
            report = state.batch_report(conn, batch_id)
        if report is None:
            raise NotFoundError(f"batch '{batch_id}' does not exist")
        return BatchReport.model_validate(report)

    @app.get("/leads/{lead_id}", response_model=LeadOut)
    def get_lead(lead_id: str) -> LeadOut:
        return LeadOut.model_validate(lead_story(store, lead_id))

    @app.post("/leads/{lead_id}/accepted", response_model=LeadOut,
              dependencies=[Depends(writer)])
    def accept(lead_id: str) -> LeadOut:
        mark_lead(store, lead_id, action="accepted")
        return LeadOut.model_validate(lead_story(store, lead_id))

    @app.post("/leads/{lead_id}/worked", response_model=LeadOut,
              dependencies=[Depends(writer)])
    def worked(lead_id: str, body: MarkIn | None = None) -> LeadOut:
        mark_lead(store, lead_id, action="worked",
                  converted=body.converted if body is not None else None)
        return LeadOut.model_validate(lead_story(store, lead_id))

    @app.put("/reps", dependencies=[Depends(writer)])
    def put_reps(body: RepsIn) -> dict[str, int]:
        return {"written": load_reps(store, _reps_frame(body))}

    @app.patch("/reps/{rep_id}", dependencies=[Depends(writer)])
    def patch_rep(rep_id: str, body: RepPatch) -> dict[str, Any]:
        changes = body.model_dump(exclude_unset=True)
        with store.write() as conn:
            if changes:
                state.update_rep(conn, rep_id, changes, utcnow())
            frame = state.reps_frame(conn)
        found = frame[frame["rep_id"] == rep_id]
        if found.empty:
            raise NotFoundError(f"rep '{rep_id}' does not exist")
        return _jsonable(found.iloc[0].to_dict())

    @app.post("/reps/{rep_id}/absences", dependencies=[Depends(writer)])
    def absence(rep_id: str, body: AbsenceIn) -> dict[str, str]:
        starts, ends = as_utc(body.starts_at), as_utc(body.ends_at)
        if ends <= starts:
            raise HTTPException(422, "ends_at must be after starts_at")
        with store.write() as conn:
            state.add_absence(conn, rep_id, starts, ends)
        return {"rep_id": rep_id, "starts_at": starts.isoformat(), "ends_at": ends.isoformat()}

    @app.get("/reps")
    def get_reps() -> list[dict[str, Any]]:
        with store.read() as conn:
            frame = state.reps_frame(conn)
        return [_jsonable(row) for row in frame.to_dict("records")]

    @app.get("/notifications")
    def get_notifications(status: str | None = Query(None, pattern="^(pending|delivered|"
                                                                   "failed)$"),
                          limit: int = Query(100, ge=1, le=1000)) -> list[dict[str, Any]]:
        return [_jsonable(row) for row in notifications(store, status, limit)]

    from solver.app.console import console_router  # the ops console at / (HTML, not in OpenAPI)

    app.include_router(console_router(store, settings, api_token=api_token))
    from solver.app.service._accounts_api import accounts_router  # PUT/GET /accounts

    app.include_router(accounts_router(store, settings, api_token=api_token))
    return BodyLimit(app, max_body_bytes) if max_body_bytes > 0 else app


def _leads_frame(body: LeadsIn) -> pd.DataFrame:
    rows = []
    for lead in body.leads:
        row: dict[str, Any] = {key: str(value) for key, value in lead.attributes.items()}
        row.update(lead_id=lead.lead_id, account_id=lead.account_id or "",
                   value=lead.value, effort=lead.effort,
                   created_at=as_utc(lead.created_at).isoformat() if lead.created_at else "")
        rows.append(row)
    return pd.DataFrame(rows).fillna("")


def _reps_frame(body: RepsIn) -> pd.DataFrame:
    rows = []
    for rep in body.reps:
        row: dict[str, Any] = {key: str(value) for key, value in rep.attributes.items()}
        row.update(
            rep_id=rep.rep_id, capacity=rep.capacity,
            capacity_week="" if rep.capacity_week is None else rep.capacity_week,
            active="true" if rep.active else "false", weight=rep.weight,
            start_date=rep.start_date.date().isoformat() if rep.start_date else "",
            timezone=rep.timezone, work_start=rep.work_start or "",
            work_end=rep.work_end or "",
        )
        rows.append(row)
    return pd.DataFrame(rows).fillna("")


def _jsonable(row: Mapping[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        elif isinstance(value, float) and value != value:
            value = None
        elif hasattr(value, "item"):
            value = value.item()
        out[str(key)] = value
    return out
