"""Holdout experiments in the store: which experiments the audit log holds, and one
experiment's report (computed by :mod:`solver.app.experiments`, as the CLI's).

The control share the report's always-valid interval needs is the policy's when the
policy's ``[experiment]`` is this one (the share the draw used); otherwise, for an older
experiment, the share of its logged leads (outcome or not) that were in control."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from models.policy_eval import ExperimentReport
from solver.app.experiments import ReportOptions, report_from_table
from solver.app.service import _schema as t
from solver.app.service._outcomes import experiment_arms, history_frame
from solver.app.service._store import Store
from solver.errors import NotFoundError, StoreError
from solver.policy import Experiment


@dataclass(frozen=True)
class ExperimentCounts:
    name: str
    control: int  # leads logged in each arm, outcome or not
    treatment: int
    with_outcome: int


@dataclass(frozen=True)
class StoreReport:
    name: str
    control_share: float
    counts: ExperimentCounts
    report: ExperimentReport


def experiment_list(conn: Connection) -> list[ExperimentCounts]:
    """Every experiment the audit log names, by name."""
    a, leads = t.assignments, t.leads
    names = conn.execute(select(a.c.experiment).where(a.c.experiment.is_not(None))
                         .distinct().order_by(a.c.experiment)).scalars().all()
    out = []
    for name in names:
        arms = experiment_arms(conn, str(name))
        ids = select(a.c.lead_id).where(a.c.experiment == name).distinct()
        known = conn.execute(select(func.count()).select_from(leads).where(
            leads.c.lead_id.in_(ids), leads.c.converted.is_not(None))).scalar_one()
        out.append(ExperimentCounts(str(name), arms.get("control", 0),
                                    arms.get("treatment", 0), int(known)))
    return out


def store_report(store: Store, name: str, *, experiment: Experiment | None,
                 options: ReportOptions | None = None) -> StoreReport:
    """Experiment ``name``'s report. Unknown name: ``NotFoundError``; known but without
    outcomes in both arms yet: ``StoreError`` (nothing to compare)."""
    with store.read() as conn:
        arms = experiment_arms(conn, name)
        if not arms:
            raise NotFoundError(f"experiment '{name}' does not exist (no lead was routed in "
                                "it)")
        table = history_frame(conn)
    table = table[table["experiment"].astype(str) == name].reset_index(drop=True)
    counts = ExperimentCounts(name, arms.get("control", 0), arms.get("treatment", 0),
                              len(table))
    with_outcome = {arm: int((table["arm"] == arm).sum()) for arm in ("control", "treatment")}
    if min(with_outcome.values()) == 0:
        raise StoreError(f"experiment '{name}' has no outcomes in both arms yet (control "
                         f"{with_outcome['control']}, treatment {with_outcome['treatment']})")
    if experiment is not None and experiment.name == name:
        share = experiment.share
    else:
        share = counts.control / (counts.control + counts.treatment)
    report = report_from_table(table, name=name, control_share=share,
                               label=f"store, experiment '{name}'", options=options)
    return StoreReport(name, share, counts, report)
