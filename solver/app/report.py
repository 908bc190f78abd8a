"""The backtest's self-contained HTML report (plots embedded as base64 PNG).

The plots need matplotlib (the ``plots`` extra). On a core install the report is written
without them and says so: its conclusions and tables do not depend on the plots."""

from __future__ import annotations

import html
from collections.abc import Callable

import pandas as pd

from models.plotting import estimates_figure, figure_to_base64_png, loads_figure
from models.policy_eval import ESTIMATORS
from solver.app.backtest import BacktestResult


def conclusions(lift: pd.DataFrame) -> list[str]:
    """One plain sentence per strategy. A difference is claimed only when the doubly
    robust and self-normalised IPS intervals both exclude zero on the same side (each
    alone can mislead: DR through its reward model, SNIPS through few effective rows)."""
    judges = [e for e in ("dr", "snips") if e in set(lift["estimator"])]
    if not judges:
        judges = [str(lift["estimator"].iloc[0])]
    lines = []
    for strategy in dict.fromkeys(lift["strategy"]):
        rows = lift[(lift["strategy"] == strategy) & lift["estimator"].isin(judges)]
        intervals = ", ".join(f"{r.estimator} {r.lift:+.3f} [{r.ci_low:+.3f}, {r.ci_high:+.3f}]"
                              for r in rows.itertuples())
        if (rows["ci_low"] > 0).all():
            verdict = "converts more than the logged routing"
        elif (rows["ci_high"] < 0).all():
            verdict = "converts less than the logged routing"
        elif ((rows["ci_low"] > 0) | (rows["ci_high"] < 0)).any():
            verdict = "no detectable difference (the estimators disagree)"
        else:
            verdict = "no detectable difference from the logged routing"
        lines.append(f"{strategy}: {verdict}; {intervals}")
    return lines


def _conditional(estimator: object) -> bool:
    cls = ESTIMATORS.get(str(estimator))
    return cls is not None and cls.conditional_on_model


def _estimates_table(estimates: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The estimates with an ``interval`` column saying what each interval accounts for,
    and a warning paragraph when some interval is conditional on the reward model."""
    table = estimates.copy()
    conditional = table["estimator"].map(_conditional).astype(bool)
    table["interval"] = conditional.map({True: "conditional on the reward model",
                                         False: "bootstrap over leads"})
    names = sorted(set(table.loc[conditional, "estimator"].astype(str)))
    warning = (f"<p><strong>Warning:</strong> the {html.escape(', '.join(names))} interval "
               "is conditional on the reward model: it resamples the leads but holds the "
               "model fixed, so it ignores the model's error and is too narrow whenever the "
               "model is biased. Judge differences by the DR, IPS and SNIPS intervals.</p>"
               if names else "")
    return table, warning


PLOTS_MISSING = ("charts omitted: matplotlib is not installed "
                 "(pip install 'leadroute[plots]'); the tables below hold the same numbers")


def plots_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def _chart(alt: str, draw: Callable[[], object]) -> str:
    """An embedded PNG, or one line saying why there is none (no matplotlib)."""
    if not plots_available():
        return f"<p><em>{html.escape(PLOTS_MISSING)}</em></p>"
    return f'<img alt="{alt}" src="data:image/png;base64,{draw()}">'


def render_report(result: BacktestResult, title: str = "leadroute backtest") -> str:
    estimates_chart = _chart(
        "estimates", lambda: figure_to_base64_png(estimates_figure(result.estimates)))
    estimates_table, estimates_warning = _estimates_table(result.estimates)
    loads_chart = _chart("loads", lambda: figure_to_base64_png(loads_figure(result.loads)))
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in result.notes) or "<li>none</li>"
    verdicts = "".join(f"<li>{html.escape(line)}</li>" for line in conclusions(result.lift))
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>body{{font-family:sans-serif;max-width:960px;margin:2em auto}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:2px 6px}}</style>
</head><body>
<h1>{html.escape(title)}</h1>
<h2>What to conclude</h2><ul>{verdicts}</ul>
<p>Intervals are bootstrap percentile intervals; the lift is the paired difference to the
logged routing on the same resamples. Strategies were replayed batch by batch with
out-of-fold affinity scores, so the model never grades its own training rows.</p>
<h2>Caveats</h2><ul>{notes}</ul>
<h2>Estimates</h2>{estimates_chart}
{estimates_warning}
{estimates_table.to_html(index=False, float_format=lambda v: f"{v:.4f}")}
<h2>Lift over the logged routing</h2>
{result.lift.to_html(index=False, float_format=lambda v: f"{v:.4f}")}
<h2>Load per rep</h2>{loads_chart}
{result.fairness.to_html(index=False, float_format=lambda v: f"{v:.4f}")}
</body></html>
"""
