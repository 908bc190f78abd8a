"""The ops console: server-rendered pages (Jinja2 + vendored htmx) for the people who run
routing every day, served by ``leadroute serve`` at ``/`` from the same process, store and
token as the API.

Pages: the live board and a lead's history, reps (load, caps, share, availability; edit
capacity, active, absences), speed and SLA (plots), a policy preview that never writes, and
holdout experiments with their reports.
"""

from __future__ import annotations

from fastapi import APIRouter

from solver.app.console import _audit as audit
from solver.app.console import (
    _routes_auth,
    _routes_board,
    _routes_experiments,
    _routes_policy,
    _routes_reps,
    _routes_speed,
)
from solver.app.console._context import Console
from solver.app.service._batch import BatchSettings
from solver.app.service._store import Store


def console_router(store: Store, settings: BatchSettings, *, api_token: str | None
                   ) -> APIRouter:
    """The console's routes (HTML, so left out of the OpenAPI schema)."""
    with store.write() as conn:
        audit.ensure_table(conn)
    console = Console.build(store, settings, api_token)
    router = APIRouter(include_in_schema=False)
    for module in (_routes_auth, _routes_board, _routes_reps, _routes_speed, _routes_policy,
                   _routes_experiments):
        module.register(router, console)
    return router


__all__ = ["console_router"]
