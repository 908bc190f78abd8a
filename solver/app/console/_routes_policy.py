"""Policy preview: paste or upload a policy, see its errors in place, or what it would
change on the pending leads. Never writes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from solver._errors import LeadrouteError
from solver.app.console._auth import Session
from solver.app.console._context import PREFIX, Console
from solver.app.console._preview import (
    MAX_POLICY_CHARS,
    PolicyProblem,
    parse_policy_text,
    preview,
)
from solver.app.service._batch import uniform_scorer
from solver.app.service._store import utcnow


def _page(request: Request, console: Console, session: Session, *, text: str = "",
          problems: list[PolicyProblem] | None = None, result: object = None,
          status_code: int = 200) -> Response:
    return console.render(request, "policy.html", session, {
        "text": text, "problems": problems or [], "result": result, "page": "policy",
        "current": console.settings.policy.model_dump(mode="json", exclude_defaults=True),
        "has_model": console.settings.scorer is not uniform_scorer}, status_code=status_code)


def register(router: APIRouter, console: Console) -> None:
    @router.get(f"{PREFIX}/policy")
    def policy_page(request: Request) -> Response:
        return _page(request, console, console.session(request))

    @router.post(f"{PREFIX}/policy")
    def policy_preview(request: Request, csrf_token: str = Form(""),
                             policy: str = Form(""),
                             upload: Annotated[UploadFile | None, File()] = None) -> Response:
        session = console.session(request)
        console.check_csrf(session, csrf_token)  # not a write, but a POST all the same
        text = policy
        if upload is not None and upload.filename:
            raw = upload.file.read(MAX_POLICY_CHARS + 1)
            text = raw.decode("utf-8", errors="replace")
        parsed = parse_policy_text(text)
        if isinstance(parsed, list):
            return _page(request, console, session, text=text, problems=parsed,
                         status_code=422)
        try:
            result = preview(console.store, console.settings, parsed, utcnow())
        except LeadrouteError as exc:  # e.g. a rule naming a column no lead has
            return _page(request, console, session, text=text,
                         problems=[PolicyProblem("", str(exc))], status_code=422)
        return _page(request, console, session, text=text, result=result)
