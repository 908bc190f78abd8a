"""The live board's read queries: leads newest first with filters, and one lead's story."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ColumnElement, Connection, and_, func, select

from solver.app.service import _schema as t

BOARD_LIMIT = 200


class BoardStatus(StrEnum):
    """The filter's choices: the store's lead statuses, plus leads that expired at least once
    (an expired lead is re-queued as pending, so "expired" is a history, not a status)."""

    PENDING = "pending"
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    WORKED = "worked"
    EXPIRED = "expired"
    NURTURE = "nurture"
    UNROUTED = "unrouted"


class Window(StrEnum):
    HOUR = "1h"
    DAY = "24h"
    WEEK = "7d"
    MONTH = "30d"
    ALL = "all"

    @property
    def span(self) -> timedelta | None:
        return {"1h": timedelta(hours=1), "24h": timedelta(days=1), "7d": timedelta(days=7),
                "30d": timedelta(days=30)}.get(self.value)


@dataclass(frozen=True, kw_only=True)
class BoardFilter:
    status: BoardStatus | None = None
    rep_id: str | None = None
    account_id: str | None = None
    window: Window = Window.ALL


@dataclass(frozen=True, kw_only=True)
class BoardRow:
    lead_id: str
    status: str
    rep_id: str | None
    account_id: str | None
    reason: str
    score: float | None
    created_at: datetime
    age: timedelta
    due_at: datetime | None
    expiries: int


def board_rows(conn: Connection, wanted: BoardFilter, now: datetime,
               limit: int = BOARD_LIMIT) -> list[BoardRow]:
    query = select(t.leads).order_by(t.leads.c.created_at.desc(), t.leads.c.lead_id.desc())
    conditions: list[ColumnElement[bool]] = []
    if wanted.status is BoardStatus.EXPIRED:
        conditions.append(t.leads.c.lead_id.in_(
            select(t.assignments.c.lead_id).where(t.assignments.c.event == "expired")))
    elif wanted.status is not None:
        conditions.append(t.leads.c.status == wanted.status.value)
    if wanted.rep_id:
        conditions.append(t.leads.c.rep_id == wanted.rep_id)
    if wanted.account_id:
        conditions.append(t.leads.c.account_id == wanted.account_id)
    span = wanted.window.span
    if span is not None:
        conditions.append(t.leads.c.created_at >= now - span)
    if conditions:
        query = query.where(and_(*conditions))
    leads = [dict(row) for row in conn.execute(query.limit(limit)).mappings()]
    scores, expiries = _scores_and_expiries(conn, [lead["lead_id"] for lead in leads])
    return [BoardRow(
        lead_id=lead["lead_id"], status=lead["status"], rep_id=lead["rep_id"],
        account_id=lead["account_id"], reason=lead["reason"],
        score=scores.get(lead["lead_id"]), created_at=lead["created_at"],
        age=now - lead["created_at"], due_at=lead["due_at"],
        expiries=expiries.get(lead["lead_id"], 0)) for lead in leads]


def _scores_and_expiries(conn: Connection, lead_ids: list[str]
                         ) -> tuple[dict[str, float], dict[str, int]]:
    """Each lead's score at its latest assignment, and how often it expired."""
    if not lead_ids:
        return {}, {}
    a = t.assignments.c
    rows = conn.execute(select(a.lead_id, a.event, a.score)
                        .where(and_(a.lead_id.in_(lead_ids),
                                    a.event.in_(("assigned", "expired"))))
                        .order_by(a.id)).all()
    scores: dict[str, float] = {}
    expiries: dict[str, int] = {}
    for lead_id, event, score in rows:
        if event == "assigned" and score is not None:
            scores[lead_id] = float(score)
        elif event == "expired":
            expiries[lead_id] = expiries.get(lead_id, 0) + 1
    return scores, expiries


def filter_choices(conn: Connection) -> dict[str, list[str]]:
    """Reps and accounts to offer in the filters (accounts: the most recent 200)."""
    reps = list(conn.execute(select(t.reps.c.rep_id).order_by(t.reps.c.rep_id)).scalars())
    accounts = conn.execute(
        select(t.leads.c.account_id, func.max(t.leads.c.created_at).label("last"))
        .where(t.leads.c.account_id.is_not(None)).group_by(t.leads.c.account_id)
        .order_by(func.max(t.leads.c.created_at).desc()).limit(200)).scalars()
    return {"reps": reps, "accounts": sorted(str(a) for a in accounts if a)}
