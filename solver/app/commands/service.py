"""Service commands: ``load-reps``, ``ingest``, ``run-batch``, ``worker``, ``serve``,
``status``. The store is ``--db URL``, else ``$LEADROUTE_DB_URL``, else ./leadroute.db."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import typer
from rich.console import Console

from solver.app.logs import LEVELS, configure_logging
from solver.app.service import (
    BatchBusyError,
    BatchReport,
    BatchSettings,
    Scorer,
    Store,
    StoreSettings,
    db_url_from_env,
    deliver_due,
    freeze_startup_objects,
    ingest_leads,
    load_owners_into_store,
    load_reps_into_store,
    run_batch,
    uniform_scorer,
)
from solver.app.service._state import status_counts
from solver.app.service._worker import WorkerSettings, parse_duration, run_worker
from solver.errors import InputError
from solver.policy import Policy, load_policy
from solver.strategies import STRATEGIES, strategy_from_name

log = logging.getLogger(__name__)
DB_HELP = "Store URL (sqlite:///path.db or postgresql://...); default $LEADROUTE_DB_URL."
TOKEN_ENV = "LEADROUTE_API_TOKEN"


def _store(db: str | None) -> Store:
    return Store(StoreSettings(url=db_url_from_env(db)))


@dataclass(frozen=True, kw_only=True)
class _RoutingFlags:
    policy: Path | None
    model: Path | None
    strategy: str
    time_limit: float
    webhook: str | None

    def settings(self) -> BatchSettings:
        strategy_from_name(self.strategy)  # an unknown name fails before any work
        scorer: Scorer = uniform_scorer
        if self.model is not None:
            from solver.app.scoring import model_scorer

            scorer = model_scorer(self.model)
        policy = load_policy(self.policy) if self.policy else Policy()
        if policy.sla is not None and policy.sla.holidays:
            from solver.app.service._calendar import holiday_calendar

            holiday_calendar(policy.sla.holidays)  # an unknown calendar: one line, exit 2
        return BatchSettings(
            policy=policy,
            strategy=self.strategy, scorer=scorer, time_limit_s=self.time_limit,
            webhook_url=self.webhook,
        )


def _print_report(console: Console, report: BatchReport) -> None:
    if report.replayed:
        console.print(f"batch {report.batch_id} already committed; nothing routed again")
    if report.routed == 0 and report.expired == 0:
        console.print(f"batch {report.batch_id}: nothing routed (no pending leads); "
                      f"policy {report.policy_version}")
        return
    console.print(
        f"batch {report.batch_id}: {report.routed} pending leads → {report.assigned} "
        f"assigned, {report.nurture} nurture, {report.still_pending} still waiting; "
        f"{report.expired} expired ({report.requeued} re-queued, {report.unrouted} "
        f"given up); engine {report.engine}, policy {report.policy_version}")


def register(app: typer.Typer) -> None:  # noqa: C901 - one nested function per command
    policy_opt = typer.Option(None, "--policy", help="Routing policy (TOML), incl. [sla].")
    model_opt = typer.Option(None, "--model", help="Affinity model (default: scores of 1).")
    strategy_opt = typer.Option("optimal", "--strategy",
                                help=f"Strategy: {', '.join(STRATEGIES)}.")
    webhook_opt = typer.Option(None, "--webhook", help="URL to POST each new assignment to.")
    log_format_opt = typer.Option("text", "--log-format",
                                  help="Logs on stderr: text, or json (one object a line).")
    log_level_opt = typer.Option("info", "--log-level", help=f"One of {', '.join(LEVELS)}.")

    @app.command("load-reps")
    def load_reps_command(
        reps: Path = typer.Option(..., "--reps", help="Reps CSV (contract + service columns)."),
        owners: Path | None = typer.Option(None, "--owners", help="Account owners CSV."),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
    ) -> None:
        """Insert or update reps (and account owners) in the store."""
        store = _store(db)
        written = load_reps_into_store(store, reps)
        owned = load_owners_into_store(store, owners) if owners is not None else 0
        Console().print(f"{written} reps and {owned} account owners written to "
                        f"{store.engine.dialect.name} store")

    @app.command("ingest")
    def ingest(
        leads: Path = typer.Option(..., "--leads", help="Leads CSV (contract: leads)."),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
    ) -> None:
        """Queue leads for routing (a lead id seen before is skipped)."""
        inserted, known = ingest_leads(_store(db), leads)
        Console().print(f"{inserted} leads queued, {known} already known")

    @app.command("run-batch")
    def run_batch_command(
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
        policy: Path | None = policy_opt,
        model: Path | None = model_opt,
        strategy: str = strategy_opt,
        webhook: str | None = webhook_opt,
        batch_id: str | None = typer.Option(
            None, "--batch-id", help="Idempotency key (e.g. the scheduler's run id)."),
        no_wait: bool = typer.Option(False, "--no-wait",
                                     help="Exit at once if another run holds the lock."),
        now: str | None = typer.Option(None, "--now", help="Clock override (ISO time, UTC)."),
        time_limit: float = typer.Option(10.0, "--time-limit", min=0.01, help="Seconds."),
        log_format: str = log_format_opt,
        log_level: str = log_level_opt,
    ) -> None:
        """Route every pending lead once (for cron or Airflow)."""
        configure_logging(log_format, log_level)
        flags = _RoutingFlags(policy=policy, model=model, strategy=strategy,
                              time_limit=time_limit, webhook=webhook)
        settings = flags.settings()
        store = _store(db)
        console = Console()
        try:
            report = run_batch(store, settings, batch_id=batch_id, now=_clock(now),
                               wait=not no_wait)
        except BatchBusyError as exc:
            console.print(f"skipped: {exc}")
            return
        _print_report(console, report)
        deliver_due(store)

    @app.command("worker")
    def worker(
        every: str = typer.Option("60s", "--every", help="Interval: 30s, 5m, 1h."),
        max_runs: int | None = typer.Option(None, "--max-runs", min=1,
                                            help="Stop after this many runs."),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
        policy: Path | None = policy_opt,
        model: Path | None = model_opt,
        strategy: str = strategy_opt,
        webhook: str | None = webhook_opt,
        time_limit: float = typer.Option(10.0, "--time-limit", min=0.01, help="Seconds."),
        log_format: str = log_format_opt,
        log_level: str = log_level_opt,
        metrics_port: int | None = typer.Option(
            None, "--metrics-port", min=1, max=65535,
            help="Serve this process's Prometheus metrics on this port (/metrics)."),
    ) -> None:
        """Run a batch every interval until stopped (Ctrl-C)."""
        configure_logging(log_format, log_level)
        interval = parse_duration(every)
        flags = _RoutingFlags(policy=policy, model=model, strategy=strategy,
                              time_limit=time_limit, webhook=webhook)
        settings = flags.settings()
        store = _store(db)
        if metrics_port is not None:
            from prometheus_client import start_http_server

            start_http_server(metrics_port)
        log.info("worker: a batch every %gs on %s", interval, store.engine.dialect.name)
        freeze_startup_objects()  # shorter collection pauses from here on (service._gc)
        try:
            run_worker(store, settings, WorkerSettings(every_s=interval, max_runs=max_runs))
        except KeyboardInterrupt:
            log.info("worker stopped")

    @app.command("serve")
    def serve(
        host: str = typer.Option("127.0.0.1", "--host"),
        port: int = typer.Option(8000, "--port", min=1, max=65535),
        db: str | None = typer.Option(None, "--db", help=DB_HELP),
        policy: Path | None = policy_opt,
        model: Path | None = model_opt,
        strategy: str = strategy_opt,
        webhook: str | None = webhook_opt,
        no_auth: bool = typer.Option(
            False, "--no-auth", help=f"Allow writes without ${TOKEN_ENV} (loopback only)."),
        max_body_bytes: int = typer.Option(1_000_000, "--max-body-bytes", min=1024),
        time_limit: float = typer.Option(10.0, "--time-limit", min=0.01, help="Seconds."),
        log_format: str = log_format_opt,
        log_level: str = log_level_opt,
    ) -> None:
        """HTTP API (OpenAPI docs at /docs, metrics at /metrics) and the ops console at /.
        Writes need Bearer $LEADROUTE_API_TOKEN (the console signs in with it)."""
        configure_logging(log_format, log_level)
        import uvicorn

        from solver.app.service._api import create_app

        token = os.environ.get(TOKEN_ENV) or None
        if token is None and not no_auth:
            raise InputError(f"set ${TOKEN_ENV} (writes need a bearer token), or pass "
                             "--no-auth on a trusted loopback", source="command line")
        flags = _RoutingFlags(policy=policy, model=model, strategy=strategy,
                              time_limit=time_limit, webhook=webhook)
        store = _store(db)
        api = create_app(store, flags.settings(), api_token=token,
                         max_body_bytes=max_body_bytes)
        Console(soft_wrap=True).print(  # a URL must stay on one line to be clickable
            f"leadroute: ops console at http://{host}:{port}/ (sign in with the API token), "
            f"API docs at http://{host}:{port}/docs")
        log.info("serving on http://%s:%d (%s store)", host, port, store.engine.dialect.name)
        # log_config=None: uvicorn logs through the handler configured above; request lines
        # (paths carry lead ids) only when debugging
        uvicorn.run(api, host=host, port=port, log_config=None, log_level=log_level.lower(),
                    access_log=log_level.lower() == "debug")

    @app.command("status")
    def status(db: str | None = typer.Option(None, "--db", help=DB_HELP)) -> None:
        """Leads per lifecycle status in the store."""
        store = _store(db)
        with store.read() as conn:
            counts = status_counts(conn)
        Console().print(", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
                        or "no leads yet")


def _clock(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"--now: not an ISO time: {text!r}", source="command line") from None
