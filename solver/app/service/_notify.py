"""Webhook notifications through an outbox table.

The batch writes one outbox row per new assignment inside its own transaction, so a
notification exists exactly when its assignment does. Delivery happens afterwards, outside
the batch: a failed call is retried with exponential back-off and never blocks or undoes
a batch; after ``MAX_ATTEMPTS`` the row is marked failed and shown by the API.

Delivery is at-least-once. A deliverer claims rows (a token and a lease) before posting, so
concurrent deliverers (two ``/route`` tasks, ``serve`` and ``worker``, overlapping cron)
never post the same row; every attempt is recorded in ``lr_notification_attempts``. Only a
crash between a successful POST and its record leaves the row claimed until the lease
lapses, and it is then posted again: receivers dedupe on the ``X-Leadroute-Notification-Id``
header (one id per assignment, the same on every attempt; equivalently the payload's
``batch_id`` + ``lead_id``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import httpx
from sqlalchemy import Connection, and_, or_, select, update

from solver.app.service import _schema as t
from solver.app.service._store import Store, utcnow

MAX_ATTEMPTS: Final = 6
BASE_DELAY: Final = timedelta(seconds=5)
SECRET_ENV: Final = "LEADROUTE_WEBHOOK_SECRET"
SIGNATURE_HEADER: Final = "X-Leadroute-Signature"
# the same on every attempt of one notification: the key a receiver dedupes on
DELIVERY_HEADER: Final = "X-Leadroute-Notification-Id"


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
    """Claim due notifications, send each once, record every attempt; never raises for a
    failed call. With a secret (``secret``, else ``$LEADROUTE_WEBHOOK_SECRET``) every call
    is signed. Concurrent deliverers never claim the same row."""
    now = now or utcnow()
    secret = secret if secret is not None else (os.environ.get(SECRET_ENV) or None)
    token = uuid.uuid4().hex
    # a crashed deliverer's claim lapses after its worst-case run; then the row is due again
    lease = now + timedelta(seconds=CLAIM_MARGIN_S + limit * timeout_s)
    due = claim_due(store, token=token, now=now, until=lease, limit=limit)
    if not due:
        return DeliveryReport(0, 0, 0)
    own = client is None
    http = client or httpx.Client(timeout=timeout_s)
    counts = {"delivered": 0, "retrying": 0, "failed": 0}
    try:
        for row in due:
            error = _post(http, row["url"], row["payload"], secret, row["id"])
            counts[_settle(store, row, token, error, now)] += 1
    finally:
        if own:
            http.close()
    return DeliveryReport(counts["delivered"], counts["retrying"], counts["failed"])


CLAIM_MARGIN_S: Final = 60.0


def claim_due(store: Store, *, token: str, now: datetime, until: datetime, limit: int
              ) -> list[dict[str, Any]]:
    """Atomically mark up to ``limit`` due, unclaimed rows as ours (token + lease) and
    return them. PostgreSQL: ``FOR UPDATE SKIP LOCKED`` lets concurrent claimers pass each
    other; SQLite: the write transaction holds the database lock for the one UPDATE."""
    n = t.notifications
    free = or_(n.c.claimed_until.is_(None), n.c.claimed_until <= now)
    candidates = (select(n.c.id).where(and_(n.c.status == "pending",
                                            n.c.next_attempt_at <= now, free))
                  .order_by(n.c.id).limit(limit).with_for_update(skip_locked=True))
    with store.write() as conn:
        ids = list(conn.execute(candidates).scalars())
        if not ids:
            return []
        conn.execute(update(n).where(and_(n.c.id.in_(ids), n.c.status == "pending", free))
                     .values(claim_token=token, claimed_until=until))
        rows = conn.execute(select(n).where(n.c.claim_token == token).order_by(n.c.id))
        return [dict(row) for row in rows.mappings()]


def _settle(store: Store, row: dict[str, Any], token: str, error: str | None,
            now: datetime) -> str:
    """Record the attempt and the row's next state; release our claim."""
    attempts = row["attempts"] + 1
    if error is None:
        values: dict[str, Any] = {"status": "delivered", "last_error": None}
        outcome = "delivered"
    elif attempts >= MAX_ATTEMPTS:
        values = {"status": "failed", "last_error": error}
        outcome = "failed"
    else:
        values = {"last_error": error,
                  "next_attempt_at": now + BASE_DELAY * 2 ** (attempts - 1)}
        outcome = "retrying"
    moment = utcnow()
    with store.write() as conn:
        conn.execute(t.notification_attempts.insert().values(
            notification_id=row["id"], attempt=attempts, claim_token=token,
            attempted_at=moment, ok=error is None, error=error))
        conn.execute(update(t.notifications).where(and_(
            t.notifications.c.id == row["id"], t.notifications.c.claim_token == token))
            .values(**values, attempts=attempts, updated_at=moment, claim_token=None,
                    claimed_until=None))
    return outcome


def attempts_of(store: Store, notification_id: int) -> list[dict[str, Any]]:
    query = (select(t.notification_attempts)
             .where(t.notification_attempts.c.notification_id == notification_id)
             .order_by(t.notification_attempts.c.id))
    with store.read() as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def _post(client: httpx.Client, url: str, payload: dict[str, Any], secret: str | None,
          notification_id: int) -> str | None:
    body = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json",
               DELIVERY_HEADER: str(notification_id)}
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
