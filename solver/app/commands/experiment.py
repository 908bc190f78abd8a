"""``leadroute experiment report``: a holdout's lift with fixed-horizon and always-valid
intervals, from a history table that carries each lead's ``arm`` (``--history``) or from
the service's store (``--db``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from solver.contract_tables import load_history
from solver.errors import InputError
from solver.policy import Experiment, load_policy

if TYPE_CHECKING:
    from models.policy_eval import ExperimentReport
    from solver.app.experiments import ReportOptions


def register(app: typer.Typer) -> None:
    group = typer.Typer(help="Holdout experiments ([experiment] in the policy).",
                        no_args_is_help=True)
    app.add_typer(group, name="experiment")

    @group.command("report")
    def report(
        history: Path | None = typer.Option(
            None, "--history",
            help="History CSV with each lead's arm (route's output joined with outcomes)."),
        policy: Path | None = typer.Option(
            None, "--policy", help="The policy with the [experiment] (its name and share)."),
        db: str | None = typer.Option(
            None, "--db", help="Read the service's store instead of a history CSV."),
        name: str | None = typer.Option(
            None, "--name", help="With --db: the experiment (default: the policy's)."),
        mde: float | None = typer.Option(
            None, "--mde", min=1e-6, max=1.0,
            help="Absolute lift worth detecting (default: 10% of the control rate)."),
        alpha: float = typer.Option(0.05, "--alpha", min=1e-4, max=0.5),
        power: float = typer.Option(0.8, "--power", min=0.5, max=0.999),
    ) -> None:
        """Difference in conversion (and revenue) between the arms, with a verdict that
        stays valid however often you look."""
        from solver.app.experiments import ReportOptions, report_from_table

        experiment = load_policy(policy).experiment if policy is not None else None
        if policy is not None and experiment is None:
            raise InputError("the policy has no [experiment] section", source=str(policy))
        if (history is None) == (db is None):
            raise InputError("give either --history (with --policy) or --db (with --name)",
                             source="command line")
        options = ReportOptions(mde=mde, alpha=alpha, power=power)
        if history is not None:
            if experiment is None:
                raise InputError("--history needs --policy (the experiment's name and share)",
                                 source="command line", column="--policy")
            name = experiment.name
            result = report_from_table(load_history(history), name=name,
                                       control_share=experiment.share, label=str(history),
                                       options=options)
        else:
            name = name or (experiment.name if experiment is not None else None)
            if name is None:
                raise InputError("--db needs --name (or --policy)", source="command line",
                                 column="--name")
            result = _from_store(db, name, experiment, options)
        _print(Console(), name, result)


def _from_store(db: str | None, name: str, experiment: Experiment | None,
                options: ReportOptions) -> ExperimentReport:
    """The report the API and the console show, from the service's store."""
    from solver.app.service import Store, StoreSettings, db_url_from_env
    from solver.app.service._experiments import store_report

    store = Store(StoreSettings(url=db_url_from_env(db)))
    try:
        return store_report(store, name, experiment=experiment, options=options).report
    finally:
        store.dispose()


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
