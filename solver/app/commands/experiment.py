"""``leadroute experiment report``: a holdout's lift with fixed-horizon and always-valid
intervals, from a history table that carries each lead's ``arm``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import typer
from rich.console import Console
from rich.table import Table

from solver._errors import InputError
from solver._tables import load_history
from solver.policy import load_policy

if TYPE_CHECKING:
    from models.policy_eval import ExperimentReport

ARMS = ("control", "treatment")


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Holdout experiments ([experiment] in the policy).",
                        no_args_is_help=True)
    app.add_typer(group, name="experiment")

    @group.command("report")
    def report(
        history: Path = typer.Option(
            ..., "--history",
            help="History CSV with each lead's arm (route's output joined with outcomes)."),
        policy: Path = typer.Option(..., "--policy", help="The policy with the [experiment]."),
        mde: float | None = typer.Option(
            None, "--mde", min=1e-6, max=1.0,
            help="Absolute lift worth detecting (default: 10% of the control rate)."),
        alpha: float = typer.Option(0.05, "--alpha", min=1e-4, max=0.5),
        power: float = typer.Option(0.8, "--power", min=0.5, max=0.999),
    ) -> None:
        """Difference in conversion (and revenue) between the arms, with a verdict that
        stays valid however often you look."""
        from models.policy_eval import experiment_report  # the app layer may import models

        experiment = load_policy(policy).experiment
        if experiment is None:
            raise InputError("the policy has no [experiment] section", source=str(policy))
        table = load_history(history)
        label = str(history)
        if "arm" not in table.columns:
            raise InputError("missing column 'arm' (control or treatment)", source=label,
                             column="arm")
        arm = table["arm"].astype(str).str.strip()
        bad = ~arm.isin(ARMS)
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise InputError(f"expected control or treatment, got {arm.iloc[row]!r}",
                             source=label, row=row + 1, column="arm")
        if "experiment" in table.columns:  # a log may hold several experiments
            table = table[table["experiment"].astype(str) == experiment.name]
            arm = arm[table.index]
        result = experiment_report(
            (arm == "control").to_numpy(), table["converted"].to_numpy(dtype=float),
            control_share=experiment.share,
            revenue=table["revenue"].to_numpy(dtype=float) if "revenue" in table else None,
            mde=mde, alpha=alpha, power=power)
        _print(Console(), experiment.name, result)


def _print(console: Console, name: str, result: ExperimentReport) -> None:
    ab, cs = result.conversion, result.always_valid
    level = f"{1 - cs.alpha:.0%}"
    table = Table(title=f"experiment {name}: treatment (optimiser) vs control")
    for column in ("", "control", "treatment", "difference", f"{level} interval"):
        table.add_column(column)
    table.add_row("leads", str(result.control_n), str(result.treatment_n), "", "")
    table.add_row("conversion", f"{ab.control_rate:.4f}", f"{ab.test_rate:.4f}",
                  f"{ab.difference:+.4f}", f"[{ab.ci_low:+.4f}, {ab.ci_high:+.4f}]")
    if result.revenue is not None:
        rev = result.revenue
        table.add_row("revenue per lead", "", "", f"{rev.difference:+.2f}",
                      f"[{rev.low:+.2f}, {rev.high:+.2f}]")
    console.print(table)
    console.print(f"fixed horizon: {ab.test}, p = {ab.p_value:.3g} (valid once, at a sample "
                  f"size fixed in advance)")
    if result.needed_per_arm is not None:
        console.print(f"to detect a lift of {result.mde:.4f} with the stated power: "
                      f"{result.needed_per_arm} leads per arm (control has "
                      f"{result.control_n})")
    console.print(f"always-valid {level} interval on the lift: [{cs.low:+.4f}, {cs.high:+.4f}]"
                  f" → {cs.verdict.value}")
