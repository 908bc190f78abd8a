"""Login, logout and the vendored static files."""

from __future__ import annotations

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from solver.app.console._auth import COOKIE
from solver.app.console._context import HERE, PREFIX, Console

STATIC = {"htmx.min.js": "text/javascript", "console.css": "text/css",
          "htmx.LICENSE": "text/plain"}


def _safe_next(target: str) -> str:
    """Only a path on this site (no //host, no scheme): no open redirect."""
    return target if target.startswith("/") and not target.startswith("//") else "/"


def register(router: APIRouter, console: Console) -> None:
    @router.get(f"{PREFIX}/login")
    def login_form(request: Request, next: str = "/") -> Response:
        if console.auth.open:  # no token configured: a session for the asking
            return _signed_in(request, console, _safe_next(next))
        return console.render(request, "login.html", None, {"next": _safe_next(next)})

    @router.post(f"{PREFIX}/login")
    def login(request: Request, token: str = Form(""), next: str = Form("/")) -> Response:
        if not console.auth.token_ok(token):
            return console.render(request, "login.html", None, {
                "next": _safe_next(next), "error": "That is not the API token."},
                status_code=401)
        return _signed_in(request, console, _safe_next(next))

    @router.post(f"{PREFIX}/logout")
    def logout(request: Request, csrf_token: str = Form("")) -> Response:
        console.check_csrf(console.session(request), csrf_token)
        response = RedirectResponse(f"{PREFIX}/login", status_code=303)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return response

    @router.get(PREFIX + "/static/{name}")
    def static(name: str) -> FileResponse:
        if name not in STATIC:
            raise HTTPException(404, "no such file")
        return FileResponse(HERE / "static" / name, media_type=STATIC[name],
                            headers={"Cache-Control": "public, max-age=3600"})


def _signed_in(request: Request, console: Console, target: str) -> Response:
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, console.auth.issue(), max_age=console.auth.ttl_s, path="/",
                        httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response
