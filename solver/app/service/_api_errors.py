"""The API's one error body, the handlers that produce it, and the error responses each
operation declares in its OpenAPI document.

Every error is ``{"detail": "<what went wrong>"}`` plus, where they apply, ``field`` (the
request field at fault, e.g. ``body.leads.0.created_at``), ``row`` and ``column`` (the
1-based item and the column of a table-shaped body) and ``errors`` (every field problem of
a request that failed validation).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from solver.errors import InputError, LeadrouteError, NotFoundError, StoreError


class RepeatedId(Exception):
    """One request names the same lead or rep twice: which of the two is meant is
    ambiguous, so the request conflicts with itself (409, located)."""

    def __init__(self, column: str, row: int, first: int, field: str) -> None:
        super().__init__(f"{column} of row {row} repeats row {first}")
        self.column, self.row, self.field = column, row, field


def refuse_repeats(ids: list[str], *, list_name: str, column: str) -> None:
    seen: dict[str, int] = {}
    for row, value in enumerate(ids, start=1):
        if value in seen:
            raise RepeatedId(column, row, seen[value], f"body.{list_name}.{row - 1}.{column}")
        seen[value] = row


class FieldProblem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    detail: str
    field: str | None = None
    row: int | None = None
    column: str | None = None
    errors: list[FieldProblem] | None = None


def _response(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"model": Problem, "description": description}
    if headers:
        out["headers"] = headers
    return out


_UNAUTHORIZED: Final = _response(
    "Missing or wrong bearer token",
    {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}})
_NOT_FOUND: Final = _response("The lead, rep or batch named in the path does not exist")
_CONFLICT: Final = _response(
    "The store's state forbids it now (another run holds the routing lock; the lead is "
    "not assigned to a rep), or the request names one id twice (`row`, `column`)")
_NOT_JSON: Final = _response("The body is not readable JSON text (e.g. not UTF-8)")
_TOO_LARGE: Final = _response("The request body is larger than the server's limit")
_INVALID: Final = _response(
    "The request does not match this document; `field` (and `errors`) name what is wrong, "
    "`row`/`column` locate a bad item of a list")


def error_responses(*, write: bool = False, found: bool = False, body: bool = False,
                    inputs: bool = True) -> dict[int | str, dict[str, Any]]:
    """The error responses one operation can return."""
    out: dict[int | str, dict[str, Any]] = {}
    if body:
        out[400] = _NOT_JSON
    if write:
        out[401] = _UNAUTHORIZED
    if found:
        out[404] = _NOT_FOUND
    if write:
        out[409] = _CONFLICT
    if body:
        out[413] = _TOO_LARGE
    if inputs or body:
        out[422] = _INVALID
    return out


def problem(status: int, detail: str, *, headers: dict[str, str] | None = None,
            **located: Any) -> JSONResponse:
    body = Problem(detail=detail, **located).model_dump(exclude_none=True)
    return JSONResponse(body, status_code=status, headers=headers)


def _loc_text(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(part) for part in loc)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LeadrouteError)
    async def _leadroute(_request: Request, exc: LeadrouteError) -> JSONResponse:
        status = (404 if isinstance(exc, NotFoundError) else 409 if isinstance(exc, StoreError)
                  else 422)
        if isinstance(exc, InputError):
            field = f"body.{exc.column}" if exc.column and exc.row is None else None
            return problem(status, str(exc), row=exc.row, column=exc.column, field=field)
        return problem(status, str(exc))

    @app.exception_handler(RepeatedId)
    async def _repeated(_request: Request, exc: RepeatedId) -> JSONResponse:
        return problem(409, str(exc), field=exc.field, row=exc.row, column=exc.column)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # the offending input is not echoed back: it may not even be valid JSON (NaN)
        errors = [FieldProblem(loc=[p if isinstance(p, int) else str(p)
                                    for p in e.get("loc", ())],
                               msg=str(e.get("msg", "")), type=str(e.get("type", "")))
                  for e in exc.errors()]
        first = errors[0] if errors else None
        detail = f"{_loc_text(first.loc)}: {first.msg}" if first else "invalid request"
        return problem(422, detail, field=_loc_text(first.loc) if first else None,
                       errors=[e.model_dump() for e in errors])

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(app, request.scope))
        return problem(exc.status_code, str(exc.detail), headers=headers or None)


def allowed_methods(app: FastAPI, scope: Mapping[str, Any]) -> list[str]:
    """Every method some route serves on this path (Starlette's own 405 lists only the
    first route's methods when several routes share a path)."""
    methods: set[str] = set()
    for route in app.router.routes:
        match, _ = route.matches({**scope, "method": "GET"})
        if match is not Match.NONE:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)
