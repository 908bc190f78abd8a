"""Holdout experiments: the experiments the audit log holds and one experiment's report,
the same figures as ``GET /experiments/{name}/report`` (it builds them)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from solver.app.console._context import PREFIX, Console
from solver.app.experiments import ReportOptions
from solver.app.service._experiments import experiment_list, store_report
from solver.app.service._experiments_api import ReportOut, report_out
from solver.errors import StoreError


def register(router: APIRouter, console: Console) -> None:
    @router.get(f"{PREFIX}/experiments")
    def experiments_page(request: Request, name: str = "") -> Response:
        session = console.session(request)
        with console.store.read() as conn:
            found = experiment_list(conn)
        chosen = name or (found[0].name if found else "")
        report: ReportOut | None = None
        problem = ""
        if chosen:
            options = ReportOptions()  # the API's defaults
            try:  # NotFoundError is a StoreError: an unknown name is shown, not raised
                report = report_out(store_report(
                    console.store, chosen, experiment=console.settings.policy.experiment,
                    options=options), power=options.power)
            except StoreError as exc:
                problem = str(exc)
        return console.render(request, "experiments.html", session, {
            "experiments": found, "chosen": chosen, "report": report, "problem": problem,
            "page": "experiments"})
