"""Speed to lead and SLA: a table per rep and two server-rendered SVG plots."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response

from solver.app.console._board import Window
from solver.app.console._charts import plots_available, sla_chart, speed_chart
from solver.app.console._context import PREFIX, Console
from solver.app.console._speed import speed
from solver.app.service._store import utcnow

CHARTS = {"speed": speed_chart, "sla": sla_chart}


def _window(text: str) -> Window:
    known = {w.value: w for w in Window if w.span is not None}
    return known.get(text, Window.WEEK)


def register(router: APIRouter, console: Console) -> None:
    @router.get(f"{PREFIX}/speed")
    def speed_page(request: Request, window: str = "7d") -> Response:
        session = console.session(request)
        chosen = _window(window)
        with console.store.read() as conn:
            result = speed(conn, utcnow(), chosen.span or Window.WEEK.span)  # type: ignore[arg-type]
        return console.render(request, "speed.html", session, {
            "result": result, "window": chosen, "page": "speed",
            "windows": [w for w in Window if w.span is not None],
            "sla": console.settings.policy.sla, "plots": plots_available()})

    @router.get(PREFIX + "/speed/{chart}.svg")
    def chart(request: Request, chart: str, window: str = "7d") -> Response:
        console.session(request)
        if chart not in CHARTS or not plots_available():
            raise HTTPException(404, "no such chart (plots need matplotlib)")
        with console.store.read() as conn:
            result = speed(conn, utcnow(), _window(window).span)  # type: ignore[arg-type]
        return Response(CHARTS[chart](result), media_type="image/svg+xml",
                        headers={"Cache-Control": "no-store"})
