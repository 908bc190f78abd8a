"""Webhook notifications through an outbox table.

The batch writes one outbox row per new assignment inside its own transaction, so a
notification exists exactly when its assignment does. Delivery happens afterwards, outside
the batch: a failed call is retried with exponential back-off and never blocks or undoes
a batch; after ``MAX_ATTEMPTS`` the row is marked failed and shown by the API.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import httpx
from sqlalchemy import Connection, and_, select, update

from solver.app.service import _schema as t
from solver.app.service._store import Store, utcnow

MAX_ATTEMPTS: Final = 6
BASE_DELAY: Final = timedelta(seconds=5)
SECRET_ENV: Final = "LEADROUTE_WEBHOOK_SECRET"
SIGNATURE_HEADER: Final = "X-Leadroute-Signature"


def signature(secret: str, body: bytes) -> str:
    """``sha256=<hex HMAC of the exact body>``: the receiver recomputes it with the shared
    secret to know the call came from leadroute and was not altered."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def queue_notifications(conn: Connection, url: str, batch_id: str,
                        assigned: Sequence[dict[str, Any]], now: datetime) -> None:
    rows = [{
        "lead_id": item["lead_id"], "rep_id": item["rep_id"], "batch_id": batch_id,
        "url": url, "payload": {"event": "lead.assigned", "batch_id": batch_id, **item},
        "status": "pending", "attempts": 0, "next_attempt_at": now, "last_error": None,
        "updated_at": now,
    } for item in assigned]
    if rows:
        conn.execute(t.notifications.insert(), rows)


@dataclass(frozen=True)
class DeliveryReport:
    delivered: int
    retrying: int
    failed: int


def deliver_due(store: Store, *, client: httpx.Client | None = None,
                now: datetime | None = None, limit: int = 200,
                timeout_s: float = 5.0, secret: str | None = None) -> DeliveryReport:
    """Send due notifications once each; never raises for a failed call. With a secret
    (``secret``, else ``$LEADROUTE_WEBHOOK_SECRET``) every call is signed."""
    now = now or utcnow()
    secret = secret if secret is not None else (os.environ.get(SECRET_ENV) or None)
    with store.read() as conn:
        due = conn.execute(
            select(t.notifications).where(and_(t.notifications.c.status == "pending",
                                               t.notifications.c.next_attempt_at <= now))
            .order_by(t.notifications.c.id).limit(limit)).mappings().all()
        conn.rollback()
    if not due:
        return DeliveryReport(0, 0, 0)
    own = client is None
    http = client or httpx.Client(timeout=timeout_s)
    delivered = retrying = failed = 0
    try:
        for row in due:
            error = _post(http, row["url"], row["payload"], secret)
            attempts = row["attempts"] + 1
            if error is None:
                values: dict[str, Any] = {"status": "delivered", "last_error": None}
                delivered += 1
            elif attempts >= MAX_ATTEMPTS:
                values = {"status": "failed", "last_error": error}
                failed += 1
            else:
                values = {"last_error": error,
                          "next_attempt_at": now + BASE_DELAY * 2 ** (attempts - 1)}
                retrying += 1
            with store.write() as conn:
                conn.execute(update(t.notifications).where(t.notifications.c.id == row["id"])
                             .values(**values, attempts=attempts, updated_at=utcnow()))
    finally:
        if own:
            http.close()
    return DeliveryReport(delivered, retrying, failed)


def _post(client: httpx.Client, url: str, payload: dict[str, Any], secret: str | None
          ) -> str | None:
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json"}
    if secret:
        headers[SIGNATURE_HEADER] = signature(secret, body)
    try:
        response = client.post(url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    if response.status_code >= 300:
        return f"HTTP {response.status_code}"
    return None


def notifications(store: Store, status: str | None = None, limit: int = 100
                  ) -> list[dict[str, Any]]:
    query = select(t.notifications).order_by(t.notifications.c.id.desc()).limit(limit)
    if status is not None:
        query = query.where(t.notifications.c.status == status)
    with store.read() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]
