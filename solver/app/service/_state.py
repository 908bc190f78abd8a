"""Reads and writes of the state store, one small function per question."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Connection, and_, bindparam, case, func, select, update

from solver.app.service import _schema as t
from solver.errors import NotFoundError
from solver.strategies import RotationState

ROTATION_NAME = "default"


# -- reps, owners, absences ------------------------------------------------------------
def upsert(conn: Connection, table: Any, key: str, rows: Sequence[dict[str, Any]]) -> int:
    """Insert new rows, replace existing ones (by primary key); returns rows written."""
    if not rows:
        return 0
    ids = [row[key] for row in rows]
    existing = set(conn.execute(select(table.c[key]).where(table.c[key].in_(ids))).scalars())
    new = [row for row in rows if row[key] not in existing]
    if new:
        conn.execute(table.insert(), new)
    for row in rows:
        if row[key] in existing:
            conn.execute(update(table).where(table.c[key] == row[key]).values(**row))
    return len(rows)


def update_rep(conn: Connection, rep_id: str, changes: dict[str, Any], now: datetime) -> None:
    _storable(rep_id, "rep")
    done = conn.execute(update(t.reps).where(t.reps.c.rep_id == rep_id)
                        .values(**changes, updated_at=now))
    if done.rowcount == 0:
        raise NotFoundError(f"rep '{rep_id}' does not exist")


def add_absence(conn: Connection, rep_id: str, starts_at: datetime, ends_at: datetime) -> None:
    _storable(rep_id, "rep")
    if conn.execute(select(t.reps.c.rep_id).where(t.reps.c.rep_id == rep_id)).first() is None:
        raise NotFoundError(f"rep '{rep_id}' does not exist")
    conn.execute(t.absences.insert().values(rep_id=rep_id, starts_at=starts_at,
                                            ends_at=ends_at))


def reps_frame(conn: Connection) -> pd.DataFrame:
    rows = conn.execute(select(t.reps).order_by(t.reps.c.rep_id)).mappings().all()
    return pd.DataFrame([dict(r) for r in rows], columns=[c.name for c in t.reps.columns])


def has_reps(conn: Connection) -> bool:
    return conn.execute(select(t.reps.c.rep_id).limit(1)).first() is not None


def absent_reps(conn: Connection, now: datetime) -> set[str]:
    query = select(t.absences.c.rep_id).where(
        and_(t.absences.c.starts_at <= now, t.absences.c.ends_at > now))
    return set(conn.execute(query).scalars())


def owners_frame(conn: Connection) -> pd.DataFrame:
    rows = conn.execute(select(t.owners.c.account_id, t.owners.c.rep_id,
                               t.owners.c.parent_account_id)).all()
    return pd.DataFrame(rows, columns=["account_id", "rep_id", "parent_account_id"])


def claim_accounts(conn: Connection, owner_of: dict[str, str], now: datetime) -> None:
    """The first rep to get an account's lead becomes its owner (existing owners stay)."""
    if not owner_of:
        return
    known = set(conn.execute(select(t.owners.c.account_id)
                             .where(t.owners.c.account_id.in_(list(owner_of)))).scalars())
    new = [{"account_id": a, "rep_id": r, "parent_account_id": None, "updated_at": now}
           for a, r in owner_of.items() if a not in known]
    if new:
        conn.execute(t.owners.insert(), new)


# -- leads -----------------------------------------------------------------------------
def pending_leads(conn: Connection, limit: int) -> list[dict[str, Any]]:
    query = (select(t.leads).where(t.leads.c.status == "pending")
             .order_by(t.leads.c.created_at, t.leads.c.lead_id).limit(limit))
    return [dict(row) for row in conn.execute(query).mappings()]


def overdue_leads(conn: Connection, now: datetime) -> list[dict[str, Any]]:
    query = (select(t.leads).where(and_(t.leads.c.status.in_(("assigned", "accepted")),
                                        t.leads.c.due_at.is_not(None),
                                        t.leads.c.due_at <= now))
             .order_by(t.leads.c.due_at, t.leads.c.lead_id))
    return [dict(row) for row in conn.execute(query).mappings()]


def set_lead(conn: Connection, lead_id: str, now: datetime, **values: Any) -> None:
    conn.execute(update(t.leads).where(t.leads.c.lead_id == lead_id)
                 .values(**values, updated_at=now))


def set_leads(conn: Connection, changes: Sequence[dict[str, Any]], now: datetime) -> None:
    """Many lead updates in one executemany; rows with the same keys go together."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for change in changes:
        groups.setdefault(tuple(sorted(change)), []).append(change)
    for keys, rows in groups.items():
        fields = [k for k in keys if k != "lead_id"]
        statement = (update(t.leads).where(t.leads.c.lead_id == bindparam("_lead_id"))
                     .values({**{k: bindparam(f"_{k}") for k in fields}, "updated_at": now}))
        conn.execute(statement, [{f"_{k}": row[k] for k in keys} for row in rows])


def _storable(key: str, what: str) -> None:
    """An id with a NUL byte can never have been stored (ingest refuses it) and PostgreSQL
    cannot even compare it: it does not exist, rather than a database error."""
    if "\x00" in key:
        raise NotFoundError(f"{what} {key!r} does not exist")


def get_lead(conn: Connection, lead_id: str) -> dict[str, Any]:
    _storable(lead_id, "lead")
    row = conn.execute(select(t.leads).where(t.leads.c.lead_id == lead_id)).mappings().first()
    if row is None:
        raise NotFoundError(f"lead '{lead_id}' does not exist")
    return dict(row)


def lead_history(conn: Connection, lead_id: str) -> list[dict[str, Any]]:
    query = (select(t.assignments).where(t.assignments.c.lead_id == lead_id)
             .order_by(t.assignments.c.id))
    return [dict(row) for row in conn.execute(query).mappings()]


def status_counts(conn: Connection) -> dict[str, int]:
    query = select(t.leads.c.status, func.count()).group_by(t.leads.c.status)
    return {str(status): int(count) for status, count in conn.execute(query).all()}


# -- the audit log -----------------------------------------------------------------------
def log_events(conn: Connection, rows: Iterable[dict[str, Any]]) -> None:
    rows = list(rows)
    if rows:
        conn.execute(t.assignments.insert(), rows)


def previous_reps(conn: Connection, lead_ids: Sequence[str]) -> set[tuple[str, str]]:
    """(lead, rep) pairs that were ever assigned: a re-routed lead never goes back."""
    pairs: set[tuple[str, str]] = set()
    for start in range(0, len(lead_ids), 500):
        chunk = list(lead_ids[start:start + 500])
        query = select(t.assignments.c.lead_id, t.assignments.c.rep_id).where(and_(
            t.assignments.c.event == "assigned", t.assignments.c.lead_id.in_(chunk)))
        pairs |= {(str(a), str(b)) for a, b in conn.execute(query).all()}
    return pairs


def effort_by_rep_windows(conn: Connection, starts: Sequence[datetime]
                          ) -> dict[datetime, dict[str, float]]:
    """For each of ``starts``: effort assigned to each rep since then, every window summed
    by the database in one pass over the audit rows since the earliest start."""
    if not starts:
        return {}
    assigned = t.assignments.c
    sums = [func.sum(case((assigned.created_at >= start, assigned.effort), else_=0.0))
            for start in starts]
    query = (select(assigned.rep_id, *sums)
             .where(and_(assigned.event == "assigned", assigned.created_at >= min(starts)))
             .group_by(assigned.rep_id))
    out: dict[datetime, dict[str, float]] = {start: {} for start in starts}
    for rep, *totals in conn.execute(query).all():
        for start, total in zip(starts, totals, strict=True):
            out[start][str(rep)] = float(total or 0.0)
    return out


def expiries_since(conn: Connection, since: datetime) -> dict[str, int]:
    query = (select(t.assignments.c.rep_id, func.count())
             .where(and_(t.assignments.c.event == "expired",
                         t.assignments.c.created_at >= since))
             .group_by(t.assignments.c.rep_id))
    return {str(rep): int(count) for rep, count in conn.execute(query).all()}


def follow_up(conn: Connection, now: datetime, lookback: timedelta) -> pd.DataFrame:
    """Per rep, over the look-back window: leads assigned, how many of them expired, and
    of the leads it worked, how many have a known outcome and how many converted."""
    since = now - lookback
    due = (select(t.assignments.c.rep_id, func.count().label("n"))
           .where(and_(t.assignments.c.event == "assigned",
                       t.assignments.c.created_at >= since))
           .group_by(t.assignments.c.rep_id))
    expired = expiries_since(conn, since)
    outcomes = (select(t.leads.c.rep_id, func.count(),
                       func.sum(case((t.leads.c.converted.is_(True), 1), else_=0)))
                .where(and_(t.leads.c.status == "worked", t.leads.c.converted.is_not(None),
                            t.leads.c.worked_at >= since))
                .group_by(t.leads.c.rep_id))
    known = {str(rep): (int(n), int(won or 0)) for rep, n, won in conn.execute(outcomes).all()}
    rows = [(str(rep), int(n), expired.get(str(rep), 0), *known.get(str(rep), (0, 0)))
            for rep, n in conn.execute(due).all()]
    return pd.DataFrame(rows, columns=["rep_id", "assigned", "expired", "outcomes",
                                       "converted"])


# -- rotation and batches ----------------------------------------------------------------
def read_rotation(conn: Connection) -> RotationState | None:
    text = conn.execute(select(t.rotation.c.state)
                        .where(t.rotation.c.name == ROTATION_NAME)).scalar()
    return RotationState.from_json(text, source="store rotation state") if text else None


def write_rotation(conn: Connection, state: RotationState, now: datetime) -> None:
    upsert(conn, t.rotation, "name",
           [{"name": ROTATION_NAME, "state": state.to_json(), "updated_at": now}])


def batch_report(conn: Connection, batch_id: str) -> dict[str, Any] | None:
    report = conn.execute(select(t.batches.c.report)
                          .where(t.batches.c.batch_id == batch_id)).scalar()
    return dict(report) if report is not None else None


def batch_inputs_version(conn: Connection, lead_ids: Sequence[str]) -> tuple[Any, ...]:
    """What a batch's plan read that a writer other than a batch may change meanwhile:
    the planned leads' status and version, the reps, absences, owners and rotation."""
    leads: list[tuple[Any, ...]] = []
    for start in range(0, len(lead_ids), 500):
        chunk = list(lead_ids[start:start + 500])
        leads += [tuple(row) for row in conn.execute(
            select(t.leads.c.lead_id, t.leads.c.status, t.leads.c.updated_at)
            .where(t.leads.c.lead_id.in_(chunk))).all()]
    reps = [tuple(row) for row in conn.execute(
        select(t.reps.c.rep_id, t.reps.c.updated_at).order_by(t.reps.c.rep_id)).all()]
    # the small tables in one round trip (a batch re-reads this holding the write lock)
    absences_owners_rotation = tuple(conn.execute(select(*(
        select(aggregate).scalar_subquery() for aggregate in (
            func.count(t.absences.c.id), func.max(t.absences.c.id),
            func.count(t.owners.c.account_id), func.max(t.owners.c.updated_at),
            func.count(t.rotation.c.name), func.max(t.rotation.c.updated_at))))).one())
    return sorted(leads), reps, absences_owners_rotation


# -- what a batch's plan must re-check: assignments logged since it read the store -------
def log_mark(conn: Connection) -> int:
    """The audit log's last row id (0 when empty): a plan records it when it reads."""
    return int(conn.execute(select(func.max(t.assignments.c.id))).scalar() or 0)


def assigned_effort_after(conn: Connection, mark: int) -> dict[str, float]:
    """Effort assigned per rep in audit rows after ``mark`` (instant routing's, when a
    batch solved meanwhile)."""
    query = (select(t.assignments.c.rep_id, func.sum(t.assignments.c.effort))
             .where(and_(t.assignments.c.event == "assigned", t.assignments.c.id > mark))
             .group_by(t.assignments.c.rep_id))
    return {str(rep): float(total or 0.0) for rep, total in conn.execute(query).all()}
