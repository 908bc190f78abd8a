"""What every console page needs: the store, the batch settings, sessions, templates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from solver.app.console._audit import Origin
from solver.app.console._auth import COOKIE, CSRF_FIELD, ConsoleAuth, Session
from solver.app.service._batch import BatchSettings, policy_version
from solver.app.service._store import Store

HERE = Path(__file__).parent
PREFIX = "/console"


def age(delta: timedelta) -> str:
    """"42 s", "7 min", "3 h 5 min", "2 d 4 h": short, for a table cell."""
    seconds = max(int(delta.total_seconds()), 0)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def when(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S") + " UTC"


def number(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.0%}"


class NotSignedIn(HTTPException):
    """A page asked for without a session: back to the login form. An htmx refresh gets a
    401 telling htmx to load the login page in full (a 303 would be followed inside the
    request, putting the login form in place of the board's rows)."""

    def __init__(self, request: Request) -> None:
        target = f"{PREFIX}/login?next={quote(request.url.path)}"
        if request.headers.get("hx-request"):
            super().__init__(401, "sign in first", headers={"HX-Redirect": target})
        else:
            super().__init__(303, "sign in first", headers={"Location": target})


@dataclass
class Console:
    store: Store
    settings: BatchSettings
    auth: ConsoleAuth
    templates: Jinja2Templates

    @classmethod
    def build(cls, store: Store, settings: BatchSettings, api_token: str | None) -> Console:
        templates = Jinja2Templates(directory=str(HERE / "templates"))
        templates.env.filters.update(age=age, when=when, number=number, percent=percent)
        return cls(store, settings, ConsoleAuth(api_token), templates)

    def session(self, request: Request) -> Session:
        found = self.auth.session(request.cookies.get(COOKIE))
        if found is None:
            raise NotSignedIn(request)
        return found

    def check_csrf(self, session: Session, given: str) -> None:
        if not given or given != session.csrf:
            raise HTTPException(403, f"missing or wrong {CSRF_FIELD}: reload the page and "
                                     "try again")

    def render(self, request: Request, name: str, session: Session | None,
               context: Mapping[str, Any], status_code: int = 200) -> HTMLResponse:
        full = {"csrf": session.csrf if session else "", "prefix": PREFIX,
                "policy_version": policy_version(self.settings.policy),
                "auth_open": self.auth.open, **context}
        return self.templates.TemplateResponse(request, name, full, status_code=status_code)


def origin(request: Request) -> Origin:
    host = request.client.host if request.client else "unknown"
    agent = request.headers.get("user-agent", "")[:120]
    return Origin(client=f"{host} {agent}".strip())
