"""The live board, a lead's page, and "route now"."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from solver.app.console import _audit as audit
from solver.app.console._board import (
    BoardFilter,
    BoardStatus,
    Window,
    board_rows,
    filter_choices,
)
from solver.app.console._context import PREFIX, Console, origin
from solver.app.service import _state as state
from solver.app.service._batch import run_batch
from solver.app.service._store import utcnow
from solver.errors import BatchBusyError, NotFoundError


def _filter(status: str, rep: str, account: str, window: str) -> BoardFilter:
    known = {s.value for s in BoardStatus}
    return BoardFilter(status=BoardStatus(status) if status in known else None,
                       rep_id=rep or None, account_id=account or None,
                       window=Window(window) if window in {w.value for w in Window}
                       else Window.ALL)


def register(router: APIRouter, console: Console) -> None:
    @router.get("/")
    def board(request: Request, status: str = "", rep: str = "", account: str = "",
              window: str = "all", routed: str = "") -> Response:
        session = console.session(request)
        wanted = _filter(status, rep, account, window)
        now = utcnow()
        with console.store.read() as conn:
            rows = board_rows(conn, wanted, now)
            choices = filter_choices(conn)
            totals = state.status_counts(conn)
            report = state.batch_report(conn, routed) if routed else None
        return console.render(request, "board.html", session, {
            "rows": rows, "wanted": wanted, "choices": choices, "totals": totals,
            "statuses": list(BoardStatus), "windows": list(Window), "report": report,
            "now": now, "page": "board"})

    @router.get(f"{PREFIX}/board/rows")
    def board_partial(request: Request, status: str = "", rep: str = "", account: str = "",
                      window: str = "all") -> Response:
        session = console.session(request)
        now = utcnow()
        with console.store.read() as conn:
            rows = board_rows(conn, _filter(status, rep, account, window), now)
            totals = state.status_counts(conn)
        return console.render(request, "_board_rows.html", session,
                              {"rows": rows, "totals": totals, "now": now})

    @router.get(PREFIX + "/leads/{lead_id}")
    def lead_page(request: Request, lead_id: str) -> Response:
        session = console.session(request)
        try:
            with console.store.read() as conn:
                lead = state.get_lead(conn, lead_id)
                history = state.lead_history(conn, lead_id)
        except NotFoundError as exc:
            return console.render(request, "message.html", session, {
                "title": "No such lead", "message": str(exc)}, status_code=404)
        return console.render(request, "lead.html", session, {
            "lead": lead, "history": history, "now": utcnow(), "page": "board"})

    @router.post(f"{PREFIX}/route")
    def route_now(request: Request, csrf_token: str = Form("")) -> Response:
        session = console.session(request)
        console.check_csrf(session, csrf_token)
        batch_id = f"console-{uuid.uuid4().hex[:12]}"  # the audit log shows the origin
        try:
            report = run_batch(console.store, console.settings, batch_id=batch_id,
                               wait=False)
        except BatchBusyError as exc:
            return console.render(request, "message.html", session, {
                "title": "Routing is busy", "message": str(exc)}, status_code=409)
        with console.store.write() as conn:
            audit.record(conn, origin(request), "route.run", batch_id,
                         {"assigned": report.assigned, "routed": report.routed},
                         report.finished_at)
        return RedirectResponse(f"/?routed={batch_id}", status_code=303)
