"""The reps page and its two writes: capacity/active/weight, and absences. Both go
through the service's store functions, validated by the API's own request models, and
are recorded in the console audit log in the same transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from solver.app.console import _audit as audit
from solver.app.console._auth import Session
from solver.app.console._context import PREFIX, Console, origin
from solver.app.console._reps import rep_rows
from solver.app.service import _state as state
from solver.app.service._api_models import AbsenceIn, RepPatch
from solver.app.service._store import as_utc, utcnow
from solver.errors import NotFoundError


def _page(request: Request, console: Console, session: Session, *,
          errors: dict[str, list[str]] | None = None, saved: str = "",
          status_code: int = 200) -> Response:
    now = utcnow()
    with console.store.read() as conn:
        rows = rep_rows(conn, console.settings.policy, now)
        recent = audit.recent(conn, limit=20)
    return console.render(request, "reps.html", session, {
        "rows": rows, "recent": recent, "errors": errors or {}, "saved": saved,
        "fairness": console.settings.policy.fairness, "page": "reps", "now": now},
        status_code=status_code)


def _messages(exc: ValidationError) -> list[str]:
    return [f"{'.'.join(str(p) for p in e['loc']) or 'form'}: {e['msg']}" for e in exc.errors()]


def _number(text: str) -> object:
    """A form box as the API's strict models take it: a number when it reads as one (the
    model then names anything else as not a number)."""
    try:
        return float(text.strip())
    except ValueError:
        return text.strip()


def _moment(text: str) -> str:
    """A browser's datetime-local value (``2030-01-01T09:00``) as RFC 3339 (UTC)."""
    text = text.strip()
    return f"{text}:00Z" if len(text) == 16 and text[10:11] == "T" else text


def register(router: APIRouter, console: Console) -> None:
    @router.get(f"{PREFIX}/reps")
    def reps_page(request: Request, saved: str = "") -> Response:
        return _page(request, console, console.session(request), saved=saved)

    @router.post(PREFIX + "/reps/{rep_id}")
    def edit_rep(request: Request, rep_id: str, csrf_token: str = Form(""),
                 capacity: str = Form(""), capacity_week: str = Form(""),
                 weight: str = Form(""), active: str = Form("")) -> Response:
        session = console.session(request)
        console.check_csrf(session, csrf_token)
        given: dict[str, Any] = {"capacity": capacity, "capacity_week": capacity_week,
                                 "weight": weight}
        changes: dict[str, Any] = {k: _number(v) for k, v in given.items() if v.strip()}
        changes["active"] = active == "on"
        if not capacity_week.strip():
            changes["capacity_week"] = None  # an empty box clears the weekly cap
        try:
            patch = RepPatch.model_validate(changes)
        except ValidationError as exc:
            return _page(request, console, session, errors={rep_id: _messages(exc)},
                         status_code=422)
        values = patch.model_dump(exclude_unset=True)
        now = utcnow()
        try:
            with console.store.write() as conn:
                state.update_rep(conn, rep_id, values, now)
                audit.record(conn, origin(request), "rep.update", rep_id, values, now)
        except NotFoundError as exc:
            return _page(request, console, session, errors={rep_id: [str(exc)]},
                         status_code=404)
        return RedirectResponse(f"{PREFIX}/reps?saved={rep_id}#rep-{rep_id}", status_code=303)

    @router.post(PREFIX + "/reps/{rep_id}/absences")
    def add_absence(request: Request, rep_id: str, csrf_token: str = Form(""),
                    starts_at: str = Form(""), ends_at: str = Form("")) -> Response:
        session = console.session(request)
        console.check_csrf(session, csrf_token)
        try:
            body = AbsenceIn.model_validate({"starts_at": _moment(starts_at),
                                             "ends_at": _moment(ends_at)})
        except ValidationError as exc:
            return _page(request, console, session, errors={rep_id: _messages(exc)},
                         status_code=422)
        starts, ends = as_utc(body.starts_at), as_utc(body.ends_at)
        if ends <= starts:
            return _page(request, console, session,
                         errors={rep_id: ["ends_at: must be after starts_at"]},
                         status_code=422)
        now = utcnow()
        try:
            with console.store.write() as conn:
                state.add_absence(conn, rep_id, starts, ends)
                audit.record(conn, origin(request), "rep.absence", rep_id,
                             {"starts_at": _iso(starts), "ends_at": _iso(ends)}, now)
        except NotFoundError as exc:
            return _page(request, console, session, errors={rep_id: [str(exc)]},
                         status_code=404)
        return RedirectResponse(f"{PREFIX}/reps?saved={rep_id}#rep-{rep_id}", status_code=303)


def _iso(moment: datetime) -> str:
    return moment.isoformat()
