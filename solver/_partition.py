"""Partitioned routing: one batch split by key columns (e.g. region × team) into
independent problems, each routed by the same pure pandas-in, pandas-out kernel.

Engine adapters (Spark, a process pool, a plain loop) only group rows by the key and call
:func:`route_partition` once per group; this module never imports an engine.

A batch decomposes when nothing couples two partitions:

- every rep row carries a key, and a rep listed under several keys has its capacity split
  explicitly (one row per partition, each with that partition's share);
- no scored pair joins a lead to a rep of another partition, no pin or account owner
  points across, and (unless ``keep_together = "off"``) no account has leads in two
  partitions;
- the policy has no term over the whole batch: the fairness band compares every rep's
  share of all assigned effort, so ``[fairness]`` is refused.

Anything else is refused with :class:`PartitionError` before or during the run. A
partition whose own data is bad fails alone: its leads come back with status ``error``
and the reason names the partition's key, while the other partitions complete.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from solver._result import LeadStatus
from solver._solve import SolveOptions
from solver.contract_tables import load_leads, load_reps, load_scores, read_raw
from solver.errors import InputError, LeadrouteError, PartitionError
from solver.policy import Policy, PolicyInputs
from solver.routing import Scorer, build_strategy, route
from solver.strategies import strategy_from_name

ERROR_STATUS: Final = LeadStatus.ERROR.value
OUTPUT_COLUMNS: Final = ("lead_id", "rep_id", "score", "status", "reason")


@dataclass(frozen=True, kw_only=True)
class PartitionJob:
    """Everything a partition needs besides its own rows; picklable, shipped to workers.

    ``reps`` is the raw reps table of every partition (one row per rep and partition);
    ``scorer`` turns validated (leads, reps) into a score matrix when no pair scores are
    given (e.g. a fitted affinity model).
    """

    partition_by: tuple[str, ...]
    reps: pd.DataFrame
    policy: Policy = field(default_factory=Policy)
    inputs: PolicyInputs = field(default_factory=PolicyInputs)
    options: SolveOptions = field(default_factory=SolveOptions)
    strategy: str = "optimal"
    scorer: Scorer | None = None


def key_text(columns: Sequence[str], values: Sequence[object]) -> str:
    """``region='EU', team='A'``: how a partition is named in every message."""
    return ", ".join(f"{c}={_norm(v)!r}" if v is not None else f"{c}=null"
                     for c, v in zip(columns, values, strict=True))


def _norm(value: object) -> str | None:
    """Key values compare as trimmed text, so '7' in a CSV matches 7 in Parquet."""
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):  # type: ignore[call-overload]
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _keys(frame: pd.DataFrame, columns: Sequence[str]) -> pd.Series:
    """One hashable key per row (a tuple of normalised texts, None = missing)."""
    parts = [[_norm(v) for v in frame[c]] for c in columns]
    return pd.Series(list(zip(*parts, strict=True)) if parts else [], index=frame.index,
                     dtype=object)


def _is(keys: pd.Series, key: tuple[str | None, ...]) -> npt.NDArray[np.bool_]:
    return np.fromiter((k == key for k in keys), dtype=bool, count=len(keys))


def plan_job(
    reps: pd.DataFrame,
    partition_by: Sequence[str],
    *,
    policy: Policy | None = None,
    inputs: PolicyInputs | None = None,
    options: SolveOptions | None = None,
    strategy: str = "optimal",
    scorer: Scorer | None = None,
) -> PartitionJob:
    """Check everything that can be checked without the leads, and build the job.

    Raises :class:`PartitionError` when the policy or the reps couple partitions and
    :class:`InputError` when a partition's reps are invalid (naming the partition).
    """
    columns = tuple(partition_by)
    policy = policy or Policy()
    if not columns:
        raise PartitionError("partitioned routing needs at least one partition column")
    if policy.fairness is not None:
        raise PartitionError(
            "the policy's [fairness] band compares every rep's share of the whole batch, "
            "which spans partitions: remove it or route without partition_by"
        )
    raw, label = read_raw(reps, "reps")
    for column in (*columns, "rep_id"):
        if column not in raw.columns:
            raise InputError("required column is missing (partition_by names it)",
                             source=label, column=column)
    keys = _keys(raw, columns)
    missing = keys.map(lambda key: any(v is None for v in key))
    if missing.any():
        row = int(np.flatnonzero(missing.to_numpy())[0])
        raise PartitionError(
            f"{label}, row {row + 1}: rep '{raw['rep_id'].iloc[row]}' has no "
            f"{'/'.join(columns)}: every rep must belong to one partition (list a shared "
            "rep once per partition with its capacity split explicitly)"
        )
    for key, rows in raw.groupby(keys, sort=False).groups.items():
        assert isinstance(key, tuple)
        try:
            load_reps(raw.loc[rows].reset_index(drop=True))
        except InputError as exc:
            raise InputError(f"partition {key_text(columns, tuple(key))}: {_bare(exc)}",
                             source=label, column=exc.column) from None
    strategy_from_name(strategy, shared={"seed": options.seed if options else 0})
    return PartitionJob(partition_by=columns, reps=raw, policy=policy,
                        inputs=inputs or PolicyInputs(), options=options or SolveOptions(),
                        strategy=strategy, scorer=scorer)


def shared_reps(job: PartitionJob) -> dict[str, int]:
    """Reps listed in several partitions (capacity split explicitly) → partition count."""
    ids = job.reps["rep_id"].astype(str).str.strip()
    counts = ids.value_counts()
    return {str(rep): int(n) for rep, n in counts[counts > 1].items()}


def spanning_account(leads: pd.DataFrame, partition_by: Sequence[str]) -> str | None:
    """An account whose leads fall in two partitions (``leads`` may hold only the
    ``account_id`` and key columns, e.g. a distinct projection), else None."""
    if "account_id" not in leads.columns:
        return None
    frame = pd.DataFrame({"account": [_norm(v) for v in leads["account_id"]],
                          "key": _keys(leads, partition_by).to_numpy()})
    frame = frame[frame["account"].notna()].drop_duplicates()
    twice = frame["account"].duplicated()
    return str(frame["account"][twice].iloc[0]) if twice.any() else None


def check_accounts(leads: pd.DataFrame, job: PartitionJob) -> None:
    """Refuse a batch in which an account that must stay with one rep spans partitions."""
    accounts = job.policy.accounts
    if accounts.keep_together == "off" and not (accounts.owner_keeps and job.inputs.owners):
        return
    account = spanning_account(leads, job.partition_by)
    if account is not None:
        raise PartitionError(
            f"account '{account}' has leads in two partitions of "
            f"{'/'.join(job.partition_by)}, but its leads must stay with one rep: "
            "partition by a coarser key or set accounts.keep_together = \"off\""
        )


def route_partition(
    leads: pd.DataFrame, scores: pd.DataFrame | None, job: PartitionJob
) -> pd.DataFrame:
    """Route one partition's leads (all rows share the key). Never raises on bad data:
    a failure becomes status ``error`` on every lead of the partition, with the reason.

    Returns the key columns then ``lead_id, rep_id, score, status, reason``, one row per
    input lead, sorted by ``lead_id`` (the engine's row order never matters).
    """
    columns = job.partition_by
    if leads.empty:
        return _empty(leads, columns)
    leads = leads.sort_values("lead_id", kind="stable").reset_index(drop=True)
    key = tuple(leads[c].iloc[0] for c in columns)
    try:
        assignments = _route(leads, scores, job, key)
    except Exception as exc:  # noqa: BLE001 — one partition's failure must not stop the rest
        detail = str(exc) if isinstance(exc, LeadrouteError) else (
            f"internal error ({type(exc).__name__}: {exc})")
        reason = f"partition {key_text(columns, key)} failed: {detail}"
        assignments = pd.DataFrame({
            "lead_id": [_norm(v) or "" for v in leads["lead_id"]],
            "rep_id": "", "score": np.nan, "status": ERROR_STATUS, "reason": reason,
        })
    out = leads[list(columns)].reset_index(drop=True).copy()
    for column in OUTPUT_COLUMNS:
        out[column] = assignments[column].to_numpy()
    out["score"] = out["score"].astype(float)
    return out


def _empty(leads: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    out = leads[list(columns)].iloc[:0].copy()
    for column in OUTPUT_COLUMNS:
        out[column] = pd.Series([], dtype=float if column == "score" else object)
    return out


def _route(
    leads_raw: pd.DataFrame, scores_raw: pd.DataFrame | None, job: PartitionJob,
    key: tuple[object, ...],
) -> pd.DataFrame:
    columns = job.partition_by
    wanted = tuple(_norm(v) for v in key)
    if any(v is None for v in wanted):
        raise InputError(f"{len(leads_raw)} lead(s) have no {'/'.join(columns)}",
                         source="leads", column=columns[wanted.index(None)])
    try:
        leads = load_leads(leads_raw.drop(columns=[c for c in leads_raw.columns
                                                   if c.startswith("__")]))
    except InputError as exc:
        raise _by_lead(exc, leads_raw) from None
    rep_keys = _keys(job.reps, columns)
    mine = _is(rep_keys, wanted)
    reps = load_reps(job.reps[mine].reset_index(drop=True))
    _check_references(leads, reps, job, rep_keys)
    table = None
    if scores_raw is not None:
        _check_scored_reps(scores_raw, reps, job, rep_keys)
        table = load_scores(scores_raw[[c for c in scores_raw.columns
                                        if c in ("lead_id", "rep_id", "score", "effort")]
                                       ].sort_values(["lead_id", "rep_id"], kind="stable")
                            .reset_index(drop=True),
                            lead_ids=leads["lead_id"], rep_ids=reps["rep_id"])
    elif job.scorer is None:
        raise InputError("give pair scores or a scorer (model)", source="partitioned route")
    present = set(leads["lead_id"])
    inputs = replace(job.inputs, pins={lead: rep for lead, rep in job.inputs.pins.items()
                                       if lead in present})
    # a partition's strategy has always solved to its own gap limit (0: optimal), not the
    # run's --gap (which its fairness and split-penalty solves do use)
    strategy = build_strategy(job.strategy, reps, replace(job.options, gap_limit=0.0))
    outcome = route(leads=leads, reps=reps, scores=table,
                    scorer=job.scorer if table is None else None, policy=job.policy,
                    inputs=inputs, strategy=strategy, options=job.options)
    return outcome.assignments


def _check_references(
    leads: pd.DataFrame, reps: pd.DataFrame, job: PartitionJob, rep_keys: pd.Series
) -> None:
    here = set(reps["rep_id"])
    lead_ids = set(leads["lead_id"])
    for lead, rep in job.inputs.pins.items():
        if lead in lead_ids and rep not in here:
            raise PartitionError(f"lead '{lead}' is pinned to rep '{rep}' of "
                                 f"{_where(rep, job, rep_keys)}: the pin spans partitions")
    if job.policy.accounts.owner_keeps and job.inputs.owners:
        for account in leads["account_id"].dropna().unique():
            owner = job.inputs.owners.get(str(account))
            if owner is not None and owner not in here:
                raise PartitionError(
                    f"account '{account}' is owned by rep '{owner}' of "
                    f"{_where(owner, job, rep_keys)}: ownership spans partitions")


def _check_scored_reps(
    scores: pd.DataFrame, reps: pd.DataFrame, job: PartitionJob, rep_keys: pd.Series
) -> None:
    known = set(job.reps["rep_id"].map(_norm))
    here = set(reps["rep_id"])
    for lead, rep in zip(scores["lead_id"].map(_norm), scores["rep_id"].map(_norm),
                         strict=True):
        if rep in known and rep not in here:
            raise PartitionError(
                f"lead '{lead}' is scored for rep '{rep}' of {_where(rep, job, rep_keys)}: "
                "the pair spans partitions (list the rep in this partition too, with its "
                "capacity split explicitly)")


def _where(rep: str, job: PartitionJob, rep_keys: pd.Series) -> str:
    rows = (job.reps["rep_id"].map(_norm) == rep).to_numpy()
    found = rep_keys[rows].tolist()
    if not found:
        return "no partition (not in the reps table)"
    return "partition " + " and ".join(key_text(job.partition_by, k) for k in found)


def _by_lead(exc: InputError, leads: pd.DataFrame) -> InputError:
    """Row numbers inside a partition mean nothing to a user: name the lead instead."""
    if exc.row is None or "lead_id" not in leads.columns:
        return exc
    lead = _norm(leads["lead_id"].iloc[exc.row - 1])
    where = f"lead '{lead}'" if lead else f"row {exc.row} of the partition"
    return InputError(f"{where}: {_bare(exc)}", source=exc.source, column=exc.column)


def _bare(exc: InputError) -> str:
    """The message without the ``source, row, column:`` location InputError adds."""
    return exc.message


def route_partitions(
    leads: pd.DataFrame, job: PartitionJob, scores: pd.DataFrame | None = None
) -> pd.DataFrame:
    """The serial reference: every partition in turn through :func:`route_partition`,
    partitions in sorted key order. Any engine adapter must return the same rows."""
    for column in job.partition_by:
        if column not in leads.columns:
            raise InputError("required column is missing (partition_by names it)",
                             source="leads", column=column)
    check_accounts(leads, job)
    if "created_at" in leads.columns:
        job = with_batch_as_of(job, as_of_for(leads["created_at"], None))
    keys = _keys(leads, job.partition_by)
    lead_key = dict(zip(leads["lead_id"].map(_norm), keys, strict=True))
    if scores is not None and "lead_id" in scores.columns:
        orphan = ~scores["lead_id"].map(_norm).isin(lead_key.keys())
        if orphan.any():
            row = int(np.flatnonzero(orphan.to_numpy())[0])
            raise InputError(f"unknown lead '{scores['lead_id'].iloc[row]}' (not in the "
                             "leads table)", source="scores", row=row + 1, column="lead_id")
    lead_rows = _positions(keys)
    score_rows = (_positions(scores["lead_id"].map(_norm).map(lead_key))
                  if scores is not None else {})
    parts: list[pd.DataFrame] = []
    for key in sorted(lead_rows, key=_sort_key):
        part_scores = None
        if scores is not None:
            part_scores = scores.iloc[score_rows.get(key, [])]
        parts.append(route_partition(leads.iloc[lead_rows[key]], part_scores, job))
    return pd.concat(parts, ignore_index=True) if parts else _empty(leads, job.partition_by)


def _positions(keys: pd.Series) -> dict[tuple[str | None, ...], list[int]]:
    """Row positions of every key, in row order (one pass)."""
    out: dict[tuple[str | None, ...], list[int]] = {}
    for position, key in enumerate(keys):
        out.setdefault(key, []).append(position)
    return out


def _sort_key(key: tuple[str | None, ...]) -> tuple[tuple[bool, str], ...]:
    return tuple((v is None, v or "") for v in key)


def failed_partitions(assignments: pd.DataFrame) -> list[str]:
    """One line per failed partition (the reason of its leads), in output order."""
    failed = assignments.loc[assignments["status"] == ERROR_STATUS, "reason"]
    return list(dict.fromkeys(failed.astype(str)))


def sort_assignments(frame: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """Canonical row order (key columns as text, then lead_id) for comparing engines."""
    order = pd.DataFrame({c: frame[c].map(_norm).fillna("") for c in (*columns, "lead_id")})
    return frame.iloc[np.lexsort([order[c].to_numpy() for c in reversed(order.columns)])
                      ].reset_index(drop=True)


def as_of_for(leads_created: Iterable[object], given: pd.Timestamp | None
              ) -> pd.Timestamp | None:
    """One ``as_of`` for every partition: the batch's latest ``created_at`` (each partition
    alone would otherwise date the ramp-up by its own latest lead)."""
    if given is not None:
        return pd.Timestamp(given)
    stamps = pd.to_datetime(pd.Series(list(leads_created), dtype=object), errors="coerce")
    return pd.Timestamp(stamps.max()) if stamps.notna().any() else None


def with_batch_as_of(job: PartitionJob, as_of: pd.Timestamp | None) -> PartitionJob:
    if as_of is None or job.inputs.as_of is not None:
        return job
    return replace(job, inputs=replace(job.inputs, as_of=as_of))

