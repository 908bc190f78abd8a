"""Policy preview: paste or upload a policy, see its errors in place, or what it would
change on the pending leads (or on the last N days' leads, replayed). Never writes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from solver.app.console._auth import Session
from solver.app.console._context import PREFIX, Console
from solver.app.console._preview import (
    MAX_POLICY_CHARS,
    PolicyProblem,
    Preview,
    parse_policy_text,
    preview,
    replay,
)
from solver.app.service._batch import uniform_scorer
from solver.app.service._store import utcnow
from solver.errors import LeadrouteError
from solver.policy import Policy

MAX_DAYS = 90


def _days(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() and 1 <= int(text) <= MAX_DAYS else None


def _page(request: Request, console: Console, session: Session, *, text: str = "",
          problems: list[PolicyProblem] | None = None, result: Preview | None = None,
          on: str = "pending", days: str = "7", status_code: int = 200) -> Response:
    return console.render(request, "policy.html", session, {
        "text": text, "problems": problems or [], "result": result, "page": "policy",
        "on": on, "days": days, "max_days": MAX_DAYS,
        "current": console.settings.policy.model_dump(mode="json", exclude_defaults=True),
        "has_model": console.settings.scorer is not uniform_scorer}, status_code=status_code)


def _try(console: Console, policy: Policy, window: int | None) -> Preview:
    if window is None:
        return preview(console.store, console.settings, policy, utcnow())
    return replay(console.store, console.settings, policy, utcnow(), window)


def register(router: APIRouter, console: Console) -> None:
    @router.get(f"{PREFIX}/policy")
    def policy_page(request: Request) -> Response:
        return _page(request, console, console.session(request))

    @router.post(f"{PREFIX}/policy")
    def policy_preview(request: Request, csrf_token: str = Form(""), policy: str = Form(""),
                       on: str = Form("pending"), days: str = Form("7"),
                       upload: Annotated[UploadFile | None, File()] = None) -> Response:
        session = console.session(request)
        console.check_csrf(session, csrf_token)  # not a write, but a POST all the same
        text = policy
        if upload is not None and upload.filename:
            text = upload.file.read(MAX_POLICY_CHARS + 1).decode("utf-8", errors="replace")
        parsed = parse_policy_text(text)
        window = _days(days) if on == "replay" else None
        if on == "replay" and window is None:
            parsed = [*(parsed if isinstance(parsed, list) else []), PolicyProblem(
                "days", f"a whole number of days from 1 to {MAX_DAYS}")]
        if isinstance(parsed, list):
            return _page(request, console, session, problems=parsed, status_code=422,
                         text=text, on=on, days=days)
        try:
            result = _try(console, parsed, window)
        except LeadrouteError as exc:  # e.g. a rule naming a column no lead has
            return _page(request, console, session, problems=[PolicyProblem("", str(exc))],
                         status_code=422, text=text, on=on, days=days)
        return _page(request, console, session, result=result, text=text, on=on, days=days)
