"""The HTTP API (FastAPI): ingest leads, route now, read a lead's story, mark it worked,
change rep availability, health. Writes need ``Authorization: Bearer <token>``; bodies
are size-limited; bad input is a 4xx naming the field, never a 500."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, MutableMapping
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

import httpx
import pandas as pd
from fastapi import BackgroundTasks, Depends, FastAPI, HTTPException, Path, Query, Security
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from solver.app.service import _state as state
from solver.app.service._api_errors import (
    error_responses,
    install_error_handlers,
    problem,
    refuse_repeats,
)
from solver.app.service._api_models import (
    AbsenceIn,
    AbsenceOut,
    BatchOut,
    Health,
    IngestOut,
    LeadOut,
    LeadsIn,
    MarkIn,
    NotificationOut,
    RepOut,
    RepPatch,
    RepsIn,
    WrittenOut,
)
from solver.app.service._api_types import ID_MAX, ID_PATTERN, Id
from solver.app.service._batch import BatchSettings, run_batch
from solver.app.service._delivery_loop import delivery_lifespan
from solver.app.service._gc import freeze_startup_objects
from solver.app.service._instant import InstantOut, route_instant
from solver.app.service._metrics_api import metrics_router
from solver.app.service._notify import deliver_due, notifications
from solver.app.service._operations import ingest_leads, lead_story, load_reps_into_store, mark_lead
from solver.app.service._store import Store, utcnow
from solver.errors import BatchBusyError, NotFoundError

BEARER = HTTPBearer(auto_error=False, description="Bearer $LEADROUTE_API_TOKEN")
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
    return problem(413, f"request body larger than {limit} bytes")


def create_app(store: Store, settings: BatchSettings, *, api_token: str | None,
               max_body_bytes: int = 1_000_000, deliver_webhooks: bool = True,
               webhook_client: httpx.Client | None = None) -> Any:
    """``api_token=None`` disables authentication (only for a trusted loopback).
    ``deliver_webhooks``: send new assignments' webhooks after each ``/route`` response
    (off when a worker delivers them)."""
    # due webhooks (retries included) go out from a background loop while serving
    delivery = (delivery_lifespan(store, client=webhook_client)
                if deliver_webhooks and settings.webhook_url else None)

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        freeze_startup_objects()  # shorter collection pauses while serving (``_gc``)
        if delivery is None:
            yield
            return
        async with delivery(app):
            yield

    app = FastAPI(title="leadroute", version="0.1.0", description=API_DESCRIPTION,
                  lifespan=lifespan)
    install_error_handlers(app)

    writer = _bearer_check(api_token)
    write = [Depends(writer)]
    _reads(app, store)

    def deliver_after(background: BackgroundTasks) -> None:
        if deliver_webhooks and settings.webhook_url:
            # after the response is sent, never blocking or undoing the routing
            background.add_task(deliver_due, store, client=webhook_client)

    _lead_writes(app, store, write, settings, deliver_after)
    _rep_writes(app, store, write)
    _route_write(app, store, write, settings, deliver_after)
    app.include_router(metrics_router(store))
    from solver.app.console import console_router  # the ops console at / (HTML, not in OpenAPI)

    app.include_router(console_router(store, settings, api_token=api_token))
    from solver.app.service._outcomes_api import outcomes_router  # the learning loop

    app.include_router(outcomes_router(store, writer))
    from solver.app.service._accounts_api import accounts_router  # PUT/GET /accounts

    app.include_router(accounts_router(store, settings, writer))
    from solver.app.service._experiments_api import experiments_router  # holdout reports

    app.include_router(experiments_router(store, settings))
    return BodyLimit(app, max_body_bytes) if max_body_bytes > 0 else app


def _bearer_check(api_token: str | None) -> Callable[..., None]:
    """The dependency every write carries (``None``: no authentication)."""
    def writer(credentials: Annotated[HTTPAuthorizationCredentials | None,
                                      Security(BEARER)]) -> None:
        if api_token is None:
            return
        given = credentials.credentials if credentials is not None else ""
        if not secrets.compare_digest(given.encode(), api_token.encode()):
            raise HTTPException(401, "missing or wrong bearer token",
                                headers={"WWW-Authenticate": "Bearer"})
    return writer


def _route_write(app: FastAPI, store: Store, write: list[Any], settings: BatchSettings,
                 deliver_after: Callable[[BackgroundTasks], None]) -> None:
    @app.post("/route", response_model=BatchOut, dependencies=write, operation_id="route_now",
              responses={**error_responses(write=True),
                         200: _links(get_batch={"batch_id": "$response.body#/batch_id"})})
    def route_now(background: BackgroundTasks,
                  batch_id: Id | None = Query(None, description="idempotency key: a batch "
                                              "id that already ran returns its report"),
                  wait: bool = True) -> BatchOut:
        try:
            report = run_batch(store, settings, batch_id=batch_id, wait=wait)
        except BatchBusyError as exc:
            raise HTTPException(409, str(exc)) from None
        if report.assigned:
            deliver_after(background)
        return BatchOut.model_validate(report.model_dump())


API_DESCRIPTION = (
    "Micro-batch lead routing: ingest, route, audit.\n\n"
    "Writes need `Authorization: Bearer <token>`. Timestamps are RFC 3339; one sent "
    "without an offset is taken as UTC, and every timestamp returned is UTC (`Z`). "
    "Every error body is `{detail, field?, row?, column?, errors?}`.")
PathId = Annotated[str, Path(min_length=1, max_length=ID_MAX, pattern=ID_PATTERN)]


def _links(**targets: dict[str, str]) -> dict[str, Any]:
    """OpenAPI links from a response to the operations that can use its ids."""
    return {"description": "Successful Response", "links": {
        name: {"operationId": name, "parameters": parameters}
        for name, parameters in targets.items()}}


def _reads(app: FastAPI, store: Store) -> None:
    @app.get("/health", response_model=Health, operation_id="health")
    def health() -> Health:
        with store.read() as conn:
            counts = state.status_counts(conn)
        failed = len(notifications(store, "failed", limit=10_000))
        return Health(status="ok", database=store.engine.dialect.name,
                      schema_version=store.schema_version, leads=counts,
                      failed_notifications=failed)

    @app.get("/batches/{batch_id}", response_model=BatchOut, operation_id="get_batch",
             responses=error_responses(found=True))
    def get_batch(batch_id: PathId) -> BatchOut:
        with store.read() as conn:
            report = state.batch_report(conn, batch_id)
        if report is None:
            raise NotFoundError(f"batch '{batch_id}' does not exist")
        return BatchOut.model_validate(report)

    @app.get("/leads/{lead_id}", response_model=LeadOut, operation_id="get_lead",
             responses=error_responses(found=True))
    def get_lead(lead_id: PathId) -> LeadOut:
        return LeadOut.model_validate(lead_story(store, lead_id))

    @app.get("/reps", response_model=list[RepOut], operation_id="get_reps")
    def get_reps() -> list[RepOut]:
        with store.read() as conn:
            frame = state.reps_frame(conn)
        return [RepOut.model_validate(_plain(row)) for row in frame.to_dict("records")]

    @app.get("/notifications", response_model=list[NotificationOut],
             operation_id="get_notifications", responses=error_responses())
    def get_notifications(
            status: Literal["pending", "delivered", "failed"] | None = None,
            limit: int = Query(100, ge=1, le=1000)) -> list[NotificationOut]:
        return [NotificationOut.model_validate(row)
                for row in notifications(store, status, limit)]


def _lead_writes(app: FastAPI, store: Store, write: list[Any], settings: BatchSettings,
                 deliver_after: Callable[[BackgroundTasks], None]) -> None:
    first_lead = {"lead_id": "$request.body#/leads/0/lead_id"}

    @app.post("/leads", response_model=IngestOut | InstantOut, dependencies=write,
              operation_id="post_leads",
              responses={**error_responses(write=True, body=True), 200: _links(
                  get_lead=first_lead, accept_lead=first_lead, mark_worked=first_lead)})
    def post_leads(body: LeadsIn, background: BackgroundTasks,
                   instant: bool = Query(False, description="route each lead now and answer "
                                         "its rep (an InstantOut) instead of queueing it")
                   ) -> IngestOut | InstantOut:
        frame = _leads_frame(body)
        if instant:
            answer = route_instant(store, settings, frame)
            deliver_after(background)
            return answer
        inserted, known = ingest_leads(store, frame)
        return IngestOut(inserted=inserted, already_known=known)

    marked = error_responses(write=True, found=True, body=True)

    @app.post("/leads/{lead_id}/accepted", response_model=LeadOut, dependencies=write,
              operation_id="accept_lead", responses=marked)
    def accept(lead_id: PathId) -> LeadOut:
        mark_lead(store, lead_id, action="accepted")
        return LeadOut.model_validate(lead_story(store, lead_id))

    @app.post("/leads/{lead_id}/worked", response_model=LeadOut, dependencies=write,
              operation_id="mark_worked", responses=marked)
    def worked(lead_id: PathId, body: MarkIn | None = None) -> LeadOut:
        mark_lead(store, lead_id, action="worked",
                  converted=body.converted if body is not None else None)
        return LeadOut.model_validate(lead_story(store, lead_id))


def _rep_writes(app: FastAPI, store: Store, write: list[Any]) -> None:
    first_rep = {"rep_id": "$request.body#/reps/0/rep_id"}

    @app.put("/reps", response_model=WrittenOut, dependencies=write, operation_id="put_reps",
             responses={**error_responses(write=True, body=True),
                        200: _links(patch_rep=first_rep, add_absence=first_rep)})
    def put_reps(body: RepsIn) -> WrittenOut:
        return WrittenOut(written=load_reps_into_store(store, _reps_frame(body)))

    by_id = error_responses(write=True, found=True, body=True)

    @app.patch("/reps/{rep_id}", response_model=RepOut, dependencies=write,
               operation_id="patch_rep", responses=by_id)
    def patch_rep(rep_id: PathId, body: RepPatch) -> RepOut:
        changes = body.model_dump(exclude_unset=True)
        with store.write() as conn:
            if changes:
                state.update_rep(conn, rep_id, changes, utcnow())
            frame = state.reps_frame(conn)
        found = frame[frame["rep_id"] == rep_id]
        if found.empty:
            raise NotFoundError(f"rep '{rep_id}' does not exist")
        return RepOut.model_validate(_plain(found.iloc[0].to_dict()))

    @app.post("/reps/{rep_id}/absences", response_model=AbsenceOut, dependencies=write,
              operation_id="add_absence", responses=by_id)
    def absence(rep_id: PathId, body: AbsenceIn) -> AbsenceOut | JSONResponse:
        if body.ends_at <= body.starts_at:  # the one rule JSON Schema cannot state
            return problem(422, "ends_at must be after starts_at", field="body.ends_at")
        with store.write() as conn:
            state.add_absence(conn, rep_id, body.starts_at, body.ends_at)
        return AbsenceOut(rep_id=rep_id, starts_at=body.starts_at, ends_at=body.ends_at)


def _leads_frame(body: LeadsIn) -> pd.DataFrame:
    refuse_repeats([lead.lead_id for lead in body.leads], list_name="leads", column="lead_id")
    rows = []
    for lead in body.leads:
        row: dict[str, Any] = {key: str(value) for key, value in lead.attributes.items()}
        row.update(lead_id=lead.lead_id, account_id=lead.account_id or "",
                   value=lead.value, effort=lead.effort,
                   created_at=lead.created_at.isoformat() if lead.created_at else "")
        rows.append(row)
    return pd.DataFrame(rows).fillna("")


def _reps_frame(body: RepsIn) -> pd.DataFrame:
    refuse_repeats([rep.rep_id for rep in body.reps], list_name="reps", column="rep_id")
    rows = []
    for rep in body.reps:
        row: dict[str, Any] = {key: str(value) for key, value in rep.attributes.items()}
        row.update(
            rep_id=rep.rep_id, capacity=rep.capacity,
            capacity_week="" if rep.capacity_week is None else rep.capacity_week,
            active="true" if rep.active else "false", weight=rep.weight,
            start_date=rep.start_date.isoformat() if rep.start_date else "",
            timezone=rep.timezone, work_start=rep.work_start or "",
            work_end=rep.work_end or "",
        )
        rows.append(row)
    return pd.DataFrame(rows).fillna("")


def _plain(row: Mapping[Any, Any]) -> dict[str, Any]:
    """A pandas record with its missing values (NaN, NaT) as None."""
    return {str(key): None if _missing(value) else value for key, value in row.items()}


def _missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))  # type: ignore[call-overload]
    except (TypeError, ValueError):  # dicts and lists are values, not missing
        return False
