"""The routing problem as plain arrays: candidate pairs, scores, efforts, capacities.

A problem is a bipartite graph between leads and reps. Only listed pairs are candidates
(eligibility is already applied). It is independent of files, policies and models: the
policy layer and the CLI build it, the engines solve it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from solver.errors import InputError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Two efforts closer than this are "the same effort" (flow-shaped problems).
EFFORT_TOLERANCE = 1e-9


@dataclass(frozen=True, eq=False)
class RoutingProblem:
    """Leads × reps candidate pairs with scores, efforts and rep capacities.

    Pairs are sorted by lead, then rep, and unique.
    """

    lead_ids: npt.NDArray[np.object_]
    rep_ids: npt.NDArray[np.object_]
    capacity: FloatArray
    pair_lead: IntArray
    pair_rep: IntArray
    pair_score: FloatArray
    pair_effort: FloatArray
    # How many leads each row stands for when counting coverage (an account group routed
    # as one item counts its leads); None = 1 each.
    lead_weight: IntArray | None = None

    def __post_init__(self) -> None:
        n, m, k = len(self.lead_ids), len(self.rep_ids), len(self.pair_lead)
        shapes = {
            "capacity": (self.capacity, (m,)),
            "pair_rep": (self.pair_rep, (k,)),
            "pair_score": (self.pair_score, (k,)),
            "pair_effort": (self.pair_effort, (k,)),
        }
        if self.lead_weight is not None:
            shapes["lead_weight"] = (self.lead_weight, (n,))
            if n and self.lead_weight.min() < 1:
                raise InputError("lead weights must be >= 1", source="lead_weight")
        for name, (array, shape) in shapes.items():
            if array.shape != shape:
                raise InputError(f"shape {array.shape}, expected {shape}", source=name)
        if k:
            if self.pair_lead.min() < 0 or self.pair_lead.max() >= n:
                raise InputError("pair refers to a lead index out of range", source="pairs")
            if self.pair_rep.min() < 0 or self.pair_rep.max() >= m:
                raise InputError("pair refers to a rep index out of range", source="pairs")
            if not _strictly_increasing(self.pair_lead, self.pair_rep, m):
                raise InputError("pairs must be sorted by lead, rep and unique", source="pairs")
        if not np.all(np.isfinite(self.pair_score)):
            raise InputError("scores must be finite", source="pairs")
        if np.any(~np.isfinite(self.pair_effort)) or np.any(self.pair_effort <= 0):
            raise InputError("efforts must be finite and > 0", source="pairs")
        if np.any(~np.isfinite(self.capacity)) or np.any(self.capacity < 0):
            raise InputError("capacities must be finite and >= 0", source="capacity")
        for array in (self.capacity, self.pair_lead, self.pair_rep, self.pair_score,
                      self.pair_effort):
            array.setflags(write=False)

    # -- constructors -------------------------------------------------------------------
    @classmethod
    def from_pairs(
        cls,
        *,
        lead_ids: npt.ArrayLike,
        rep_ids: npt.ArrayLike,
        capacity: npt.ArrayLike,
        pair_lead: npt.ArrayLike,
        pair_rep: npt.ArrayLike,
        pair_score: npt.ArrayLike,
        pair_effort: npt.ArrayLike | float = 1.0,
        lead_weight: npt.ArrayLike | None = None,
    ) -> RoutingProblem:
        """Build from unsorted pair lists (index arrays into ``lead_ids``/``rep_ids``)."""
        leads = np.asarray(lead_ids, dtype=object)
        reps = np.asarray(rep_ids, dtype=object)
        pl = np.asarray(pair_lead, dtype=np.int64)
        pr = np.asarray(pair_rep, dtype=np.int64)
        ps = np.asarray(pair_score, dtype=np.float64)
        pe = np.broadcast_to(np.asarray(pair_effort, dtype=np.float64), pl.shape)
        # Input that is already sorted (row-major from a matrix or a model) is only copied;
        # one effort for every pair stays one read-only value broadcast over the pairs.
        # Otherwise one int64 sort key (faster than a two-key lexsort on millions of
        # pairs). Indices out of range are rejected by __post_init__ either way.
        if _strictly_increasing(pl, pr, len(reps)):
            pl, pr, ps = pl.copy(), pr.copy(), ps.copy()
            pe = pe if pe.strides == (0,) else pe.copy()
        else:
            order = np.argsort(pl * max(len(reps), 1) + pr, kind="stable")
            pl, pr, ps, pe = pl[order], pr[order], ps[order], pe[order]
        return cls(
            lead_ids=leads,
            rep_ids=reps,
            capacity=np.asarray(capacity, dtype=np.float64).copy(),
            pair_lead=pl,
            pair_rep=pr,
            pair_score=ps,
            pair_effort=pe,
            lead_weight=None if lead_weight is None else np.asarray(lead_weight, np.int64),
        )

    @classmethod
    def from_dense(
        cls,
        score: npt.ArrayLike,
        capacity: npt.ArrayLike,
        *,
        effort: npt.ArrayLike | None = None,
        eligible: npt.ArrayLike | None = None,
        lead_ids: npt.ArrayLike | None = None,
        rep_ids: npt.ArrayLike | None = None,
    ) -> RoutingProblem:
        """Build from an n×m score matrix; ``effort`` is (n,) per lead or (n, m) per pair."""
        s = np.asarray(score, dtype=np.float64)
        if s.ndim != 2:
            raise InputError(f"score matrix must be 2-D, got shape {s.shape}", source="score")
        n, m = s.shape
        mask = np.ones((n, m), dtype=bool) if eligible is None else np.asarray(eligible, bool)
        if mask.shape != (n, m):
            raise InputError(f"shape {mask.shape}, expected {(n, m)}", source="eligible")
        if effort is None:
            e = np.ones((n, m))
        else:
            e = np.asarray(effort, dtype=np.float64)
            e = np.broadcast_to(e[:, None] if e.ndim == 1 else e, (n, m))
        pl, pr = np.nonzero(mask)  # row-major: already sorted by lead, then rep
        return cls(
            lead_ids=np.asarray(lead_ids if lead_ids is not None else np.arange(n).astype(str),
                                dtype=object),
            rep_ids=np.asarray(rep_ids if rep_ids is not None else np.arange(m).astype(str),
                               dtype=object),
            capacity=np.asarray(capacity, dtype=np.float64).copy(),
            pair_lead=pl.astype(np.int64),
            pair_rep=pr.astype(np.int64),
            pair_score=s[pl, pr].copy(),
            pair_effort=np.ascontiguousarray(e[pl, pr], dtype=np.float64),
        )

    # -- derived facts ------------------------------------------------------------------
    @property
    def n_leads(self) -> int:
        return len(self.lead_ids)

    @property
    def n_reps(self) -> int:
        return len(self.rep_ids)

    @property
    def n_pairs(self) -> int:
        return len(self.pair_lead)

    def rep_unit_effort(self) -> FloatArray | None:
        """Per-rep effort if every candidate pair of each rep costs the same, else None.

        Such problems are transportation-shaped: a rep's capacity is a whole number of
        leads, so min-cost flow solves them exactly.
        """
        m = self.n_reps
        if self.n_pairs == 0:
            return np.ones(m)
        effort = self.pair_effort
        if effort.strides == (0,):  # one effort broadcast over the pairs (``from_pairs``)
            effort = effort[:1]
        low, high = effort.min(), effort.max()
        if high - low <= EFFORT_TOLERANCE:  # one effort everywhere: no per-rep pass
            return np.where(np.bincount(self.pair_rep, minlength=m) > 0, high, 1.0)
        hi = np.full(m, -np.inf)
        lo = np.full(m, np.inf)
        np.maximum.at(hi, self.pair_rep, self.pair_effort)
        np.minimum.at(lo, self.pair_rep, self.pair_effort)
        used = np.isfinite(hi)
        if np.any(hi[used] - lo[used] > EFFORT_TOLERANCE):
            return None
        return np.where(used, hi, 1.0)

    def coverage_weights(self) -> IntArray:
        """Leads each row counts for in coverage (1 unless it stands for a group)."""
        if self.lead_weight is None:
            return np.ones(self.n_leads, dtype=np.int64)
        return self.lead_weight

    def lead_pair_bounds(self) -> IntArray:
        """``starts`` of length n+1: lead i's pairs are ``starts[i]:starts[i+1]``
        (read-only, computed once: the pairs never change)."""
        return self._starts

    @cached_property
    def _starts(self) -> IntArray:
        starts = np.searchsorted(self.pair_lead, np.arange(self.n_leads + 1)).astype(np.int64)
        starts.setflags(write=False)
        return starts

    def subproblem(self, leads: IntArray, reps: IntArray) -> tuple[RoutingProblem, IntArray]:
        """Restrict to the given lead and rep indices; also returns the kept pair indices."""
        lead_map = np.full(self.n_leads, -1, dtype=np.int64)
        lead_map[leads] = np.arange(len(leads))
        rep_map = np.full(self.n_reps, -1, dtype=np.int64)
        rep_map[reps] = np.arange(len(reps))
        keep = np.flatnonzero((lead_map[self.pair_lead] >= 0) & (rep_map[self.pair_rep] >= 0))
        sub = RoutingProblem(
            lead_ids=self.lead_ids[leads],
            rep_ids=self.rep_ids[reps],
            capacity=self.capacity[reps].copy(),
            pair_lead=lead_map[self.pair_lead[keep]],
            pair_rep=rep_map[self.pair_rep[keep]],
            pair_score=self.pair_score[keep],  # fancy indexing copies already
            pair_effort=self.pair_effort[keep],
            lead_weight=None if self.lead_weight is None else self.lead_weight[leads].copy(),
        )
        return sub, keep


def _strictly_increasing(pair_lead: IntArray, pair_rep: IntArray, m: int,
                         chunk: int = 1 << 20) -> bool:
    """Pairs sorted by lead, then rep, without duplicates; in chunks, because full-size
    key and difference arrays on 30M pairs cost more in fresh memory than the compare."""
    for start in range(0, len(pair_lead), chunk):
        stop = min(start + chunk + 1, len(pair_lead))  # one pair of overlap
        key = pair_lead[start:stop] * max(m, 1) + pair_rep[start:stop]
        if np.any(key[1:] <= key[:-1]):
            return False
    return True


def lead_chunks(starts: IntArray, size: int = 1 << 20) -> list[tuple[int, int, int, int]]:
    """(first lead, end lead, first pair, end pair) blocks of about ``size`` pairs cut at
    lead boundaries, covering every pair (``starts`` as from ``lead_pair_bounds``): numpy
    passes over tens of millions of pairs in cache-sized pieces instead of full-size
    temporaries, whose fresh memory costs more in page faults than the arithmetic."""
    n, k = len(starts) - 1, int(starts[-1])
    cuts = np.searchsorted(starts, np.arange(0, k, size), "right") - 1
    leads = np.unique(np.append(cuts, n))
    return [(int(a), int(b), int(starts[a]), int(starts[b]))
            for a, b in zip(leads[:-1], leads[1:], strict=True)]
