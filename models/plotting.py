"""Plots shared by notebooks and HTML reports: plain DataFrames/arrays in, Figures out.

matplotlib is imported lazily (the ``plots`` extra) with the Agg backend, so importing
``models`` never needs a display.
"""

from __future__ import annotations

import base64
import io
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _pyplot():  # noqa: ANN202 - matplotlib.pyplot module, imported lazily
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def estimates_figure(estimates: pd.DataFrame, title: str = "Estimated value per strategy"
                     ) -> Figure:
    """Point estimates with intervals: one row per strategy, one marker per estimator.
    Columns: ``strategy, estimator, value, ci_low, ci_high``."""
    plt = _pyplot()
    strategies = list(dict.fromkeys(estimates["strategy"]))
    estimators = list(dict.fromkeys(estimates["estimator"]))
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(strategies) * len(estimators) ** 0.5 + 1.5))
    offsets = np.linspace(-0.3, 0.3, len(estimators)) if len(estimators) > 1 else [0.0]
    for offset, name in zip(offsets, estimators, strict=True):
        rows = estimates[estimates["estimator"] == name].set_index("strategy")
        rows = rows.reindex(strategies)
        y = np.arange(len(strategies)) + offset
        ax.errorbar(rows["value"], y, xerr=[rows["value"] - rows["ci_low"],
                                            rows["ci_high"] - rows["value"]],
                    fmt="o", capsize=3, label=name)
    ax.set_yticks(np.arange(len(strategies)), strategies)
    ax.invert_yaxis()
    ax.set_xlabel("conversions per lead")
    ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    return fig


def loads_figure(loads: pd.DataFrame, title: str = "Load per rep") -> Figure:
    """Per-rep load by strategy: index = rep_id, one column per strategy."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(6, 0.25 * len(loads) + 2), 3.5))
    width = 0.8 / max(len(loads.columns), 1)
    for k, column in enumerate(loads.columns):
        ax.bar(np.arange(len(loads)) + k * width, loads[column], width=width, label=column)
    ax.set_xticks(np.arange(len(loads)) + 0.4 - width / 2, loads.index, rotation=90,
                  fontsize="x-small")
    ax.set_ylabel("assigned effort")
    ax.set_title(title)
    ax.legend(fontsize="x-small", ncol=2)
    fig.tight_layout()
    return fig


def reliability_figure(table: pd.DataFrame, title: str = "Calibration") -> Figure:
    """Reliability diagram from a table with ``mean_predicted`` and ``observed_rate``."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey", label="perfect")
    ax.plot(table["mean_predicted"], table["observed_rate"], marker="o", label="model")
    ax.set_xlabel("predicted probability")
    ax.set_ylabel("observed conversion rate")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return fig


def figure_to_base64_png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    _pyplot().close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
