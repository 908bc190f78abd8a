"""Server-side SVG plots with matplotlib (the ``plots`` extra). Without matplotlib the
console shows the same figures as tables and says plots need it."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd

from solver.app.console._speed import Speed


def plots_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _figure(width: float = 7.0, height: float = 3.2) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")  # no display on a server
    from matplotlib.figure import Figure  # a Figure, not pyplot: no global state, threads ok

    figure = Figure(figsize=(width, height), layout="constrained")
    return figure, figure.add_subplot()


def _svg(figure: Any) -> bytes:
    out = io.StringIO()
    figure.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue().encode()


def speed_chart(result: Speed) -> bytes:
    """Median minutes to assignment and to first touch, per rep (overall last)."""
    frame = result.per_rep
    figure, axes = _figure()
    positions = range(len(frame))
    width = 0.4
    assign = frame["to_assign_median"].astype(float).fillna(0.0)
    touch = frame["to_touch_median"].astype(float).fillna(0.0)
    axes.bar([p - width / 2 for p in positions], assign, width, label="to assignment",
             color="#2b6cb0")
    axes.bar([p + width / 2 for p in positions], touch, width, label="to first touch",
             color="#dd6b20")
    axes.set_xticks(list(positions), list(frame["rep_id"]), rotation=30, ha="right")
    axes.set_ylabel("median minutes from arrival")
    axes.set_title("Speed to lead, per rep")
    axes.legend(frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    return _svg(figure)


def sla_chart(result: Speed) -> bytes:
    """SLA breaches and re-routes per day."""
    daily = result.daily
    figure, axes = _figure()
    days = pd.to_datetime(daily["day"])
    axes.plot(days, daily["breaches"], marker="o", label="SLA breaches (expired)",
              color="#c53030")
    axes.plot(days, daily["reroutes"], marker="s", label="re-routes", color="#2f855a")
    axes.set_ylabel("leads per day")
    axes.set_title("SLA breaches and re-routes")
    axes.set_ylim(bottom=0)
    axes.legend(frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    figure.autofmt_xdate()
    return _svg(figure)
