"""What each committed batch tells ops: one log record and this process's Prometheus
metrics. Called once per batch by ``run_batch`` after its transaction commits.

The record carries ids, counts, engine, status, gap and wall time only: never a token
and never a lead's own data (names, e-mails, attributes).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

from prometheus_client import Counter, Histogram

if TYPE_CHECKING:
    from solver.app.service._batch import BatchReport

log = logging.getLogger(__name__)

# seconds: a micro-batch takes well under a second; a big one may run to its time limit
DURATION_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
GAP_BUCKETS: Final = (0.0, 1e-4, 1e-3, 1e-2, 0.05, 0.1, 0.5)

BATCHES = Counter("leadroute_batches", "Routing batches committed by this process",
                  ["engine", "solve_status"])
LEADS = Counter("leadroute_batch_leads", "Leads decided by this process's batches, by outcome",
                ["outcome"])
DURATION = Histogram("leadroute_batch_duration_seconds",
                     "Wall time of a batch: read, solve and commit", buckets=DURATION_BUCKETS)
GAP = Histogram("leadroute_batch_gap", "Relative optimality gap of a batch's solve (when the "
                "engine reports one)", buckets=GAP_BUCKETS)
SLA_EXPIRIES = Counter("leadroute_sla_expiries", "Assigned leads that expired unworked (SLA)")


def batch_gap(report: BatchReport) -> float | None:
    # the gap joins BatchReport with the solver-speed work (issue 15); until then: none
    gap = getattr(report, "gap", None)
    return None if gap is None else float(gap)


def observe_batch(report: BatchReport) -> None:
    wall = (report.finished_at - report.started_at).total_seconds()
    gap = batch_gap(report)
    BATCHES.labels(engine=report.engine, solve_status=report.solve_status).inc()
    outcomes = {"assigned": report.assigned, "nurture": report.nurture,
                "waiting": report.still_pending, "unrouted": report.unrouted}
    for outcome, count in outcomes.items():
        LEADS.labels(outcome=outcome).inc(count)
    DURATION.observe(wall)
    if gap is not None:
        GAP.observe(gap)
    SLA_EXPIRIES.inc(report.expired)
    log.info(
        "batch %s: %d leads, %d assigned, %d nurture, %d waiting, %d unrouted, %d expired; "
        "engine %s, status %s, gap %s, %.3fs", report.batch_id, report.routed,
        report.assigned, report.nurture, report.still_pending, report.unrouted,
        report.expired, report.engine, report.solve_status,
        "n/a" if gap is None else f"{gap:.4%}", wall,
        extra={"batch_id": report.batch_id, "leads": report.routed,
               "assigned": report.assigned, "nurture": report.nurture,
               "waiting": report.still_pending, "unrouted": report.unrouted,
               "expired": report.expired, "requeued": report.requeued,
               "engine": report.engine, "solve_status": report.solve_status, "gap": gap,
               "wall_time_s": round(wall, 4), "policy_version": report.policy_version})
