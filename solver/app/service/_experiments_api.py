"""``GET /experiments`` and ``GET /experiments/{name}/report``: the holdout experiments
the audit log holds, and one experiment's report, the same figures as
``leadroute experiment report --db`` (one computation: :mod:`solver.app.experiments`).
Reads, so no token, like ``GET /leads/{lead_id}``."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from models.policy_eval import ExperimentReport, Verdict
from solver.app.experiments import ReportOptions
from solver.app.service._api_errors import Problem, error_responses
from solver.app.service._api_types import ID_MAX, ID_PATTERN
from solver.app.service._batch import BatchSettings
from solver.app.service._experiments import (
    ExperimentCounts,
    StoreReport,
    experiment_list,
    store_report,
)
from solver.app.service._store import Store

Name = Annotated[str, Path(min_length=1, max_length=ID_MAX, pattern=ID_PATTERN)]


class ExperimentOut(BaseModel):
    name: str
    control: int = Field(description="leads routed in the control arm (outcome or not)")
    treatment: int = Field(description="leads routed by the optimiser in the experiment")
    with_outcome: int = Field(description="leads of either arm with a known outcome")


class ConversionOut(BaseModel):
    """Fixed horizon: valid once, at a sample size fixed in advance."""

    control_rate: float
    treatment_rate: float
    difference: float = Field(description="treatment − control")
    ci_low: float
    ci_high: float
    p_value: float
    test: str = Field(description="the test used (z-test, or Fisher exact on small counts)")


class RevenueOut(BaseModel):
    difference: float = Field(description="revenue per lead, treatment − control")
    ci_low: float | None = Field(description="none while an arm has a single lead")
    ci_high: float | None


class AlwaysValidOut(BaseModel):
    """A confidence sequence on the lift: valid however often it is read."""

    estimate: float
    low: float
    high: float
    level: float = Field(description="coverage, 1 − alpha")
    verdict: Verdict


class ReportOut(BaseModel):
    name: str
    control_share: float = Field(description="share of leads the holdout draws into control")
    control_n: int = Field(description="control leads with an outcome")
    treatment_n: int = Field(description="treatment leads with an outcome")
    conversion: ConversionOut
    revenue: RevenueOut | None
    always_valid: AlwaysValidOut
    mde: float = Field(description="absolute lift the sample size is planned for")
    power: float
    needed_per_arm: int | None = Field(
        description="leads per arm to detect mde at this power (none: no variance to plan "
                    "with)")


_REPORT_ERRORS: dict[int | str, dict[str, object]] = {
    404: {"model": Problem, "description": "No lead was routed in an experiment of this name"},
    409: {"model": Problem, "description": "The experiment has no outcomes in both arms yet"},
}


def experiments_router(store: Store, settings: BatchSettings) -> APIRouter:
    router = APIRouter(tags=["experiments"])

    @router.get("/experiments", response_model=list[ExperimentOut],
                operation_id="get_experiments", responses=error_responses())
    def get_experiments() -> list[ExperimentOut]:
        """Every holdout experiment leads were routed in, with its counts."""
        with store.read() as conn:
            return [_counts_out(c) for c in experiment_list(conn)]

    @router.get("/experiments/{name}/report", response_model=ReportOut,
                operation_id="get_experiment_report",
                responses={**error_responses(), **_REPORT_ERRORS})
    def get_experiment_report(
        name: Name,
        mde: float | None = Query(None, gt=0.0, le=1.0,
                                  description="default: 10% of the control rate"),
        alpha: float = Query(0.05, ge=1e-4, le=0.5),
        power: float = Query(0.8, ge=0.5, le=0.999),
    ) -> ReportOut:
        """The difference in conversion (and revenue) with intervals, the sample size for
        the target power, and the always-valid verdict."""
        found = store_report(store, name, experiment=settings.policy.experiment,
                             options=ReportOptions(mde=mde, alpha=alpha, power=power))
        return report_out(found, power=power)

    return router


def _counts_out(counts: ExperimentCounts) -> ExperimentOut:
    return ExperimentOut(name=counts.name, control=counts.control,
                         treatment=counts.treatment, with_outcome=counts.with_outcome)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def report_out(found: StoreReport, *, power: float) -> ReportOut:
    result: ExperimentReport = found.report
    ab, cs, rev = result.conversion, result.always_valid, result.revenue
    return ReportOut(
        name=found.name, control_share=found.control_share, control_n=result.control_n,
        treatment_n=result.treatment_n,
        conversion=ConversionOut(control_rate=ab.control_rate, treatment_rate=ab.test_rate,
                                 difference=ab.difference, ci_low=ab.ci_low,
                                 ci_high=ab.ci_high, p_value=ab.p_value, test=ab.test),
        revenue=None if rev is None else RevenueOut(difference=rev.difference,
                                                    ci_low=_finite(rev.low),
                                                    ci_high=_finite(rev.high)),
        always_valid=AlwaysValidOut(estimate=cs.estimate, low=cs.low, high=cs.high,
                                    level=1 - cs.alpha, verdict=cs.verdict),
        mde=result.mde, power=power, needed_per_arm=result.needed_per_arm)
