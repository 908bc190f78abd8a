"""``GET /metrics`` in the Prometheus text format (prometheus-client).

Two sources: this process's counters and histograms (batches it ran, leads they decided,
batch duration and gap, SLA expiries: see ``_observe``), and gauges read from the store at
scrape time (leads by lifecycle status, webhooks by delivery status), which see the work
of every process sharing the database. A separate ``worker`` exposes its own counters with
``--metrics-port``.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from solver.app.service import _schema as t
from solver.app.service._state import status_counts
from solver.app.service._store import Store

LEAD_STATUSES = ("pending", "assigned", "accepted", "worked", "expired", "nurture",
                 "unrouted")
WEBHOOK_STATUSES = ("pending", "delivered", "failed")


class StoreCollector(Collector):
    """Gauges computed by two grouped counts on indexed columns at each scrape."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[GaugeMetricFamily]:
        with self.store.read() as conn:
            leads = status_counts(conn)
            query = (select(t.notifications.c.status, func.count())
                     .group_by(t.notifications.c.status))
            webhooks = {str(s): int(n) for s, n in conn.execute(query).all()}
        yield _by_status("leadroute_leads", "Leads in the store by lifecycle status",
                         leads, LEAD_STATUSES)
        yield _by_status("leadroute_webhooks", "Webhook notifications by delivery status "
                         "(failed = gave up after the retries)", webhooks, WEBHOOK_STATUSES)


def _by_status(name: str, doc: str, counts: dict[str, int], known: tuple[str, ...]
               ) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, doc, labels=["status"])
    for status in dict.fromkeys([*known, *sorted(counts)]):  # zeros too: alerts need them
        family.add_metric([status], counts.get(status, 0))
    return family


def metrics_router(store: Store) -> APIRouter:
    store_registry = CollectorRegistry(auto_describe=False)
    store_registry.register(StoreCollector(store))
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        body = generate_latest(REGISTRY) + generate_latest(store_registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return router
