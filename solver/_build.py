"""Turn validated tables into a RoutingProblem (the only place tables meet arrays)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from solver._problem import RoutingProblem
from solver.errors import InputError


def problem_from_scores(
    leads: pd.DataFrame, reps: pd.DataFrame, scores: pd.DataFrame
) -> RoutingProblem:
    """Listed pairs are the only candidates; a pair's effort overrides the lead's."""
    lead_pos = pd.Series(np.arange(len(leads)), index=leads["lead_id"].to_numpy())
    rep_pos = pd.Series(np.arange(len(reps)), index=reps["rep_id"].to_numpy())
    pair_lead = lead_pos.loc[scores["lead_id"].to_numpy()].to_numpy()
    pair_rep = rep_pos.loc[scores["rep_id"].to_numpy()].to_numpy()
    lead_effort = leads["effort"].to_numpy(dtype=float)[pair_lead]
    pair_effort = scores["effort"].to_numpy(dtype=float)
    effort = np.where(np.isnan(pair_effort), lead_effort, pair_effort)
    active = reps["active"].to_numpy(dtype=bool)[pair_rep]
    return RoutingProblem.from_pairs(
        lead_ids=leads["lead_id"].to_numpy(),
        rep_ids=reps["rep_id"].to_numpy(),
        capacity=reps["capacity"].to_numpy(dtype=float),
        pair_lead=pair_lead[active],
        pair_rep=pair_rep[active],
        pair_score=scores["score"].to_numpy(dtype=float)[active],
        pair_effort=effort[active],
    )


def problem_from_matrix(
    leads: pd.DataFrame,
    reps: pd.DataFrame,
    score: npt.ArrayLike,
    eligible: npt.ArrayLike | None = None,
) -> RoutingProblem:
    """A lead × rep score matrix (e.g. from the affinity model); inactive reps excluded."""
    matrix = np.asarray(score, dtype=float)
    if matrix.shape != (len(leads), len(reps)):
        raise InputError(
            f"score matrix has shape {matrix.shape}, expected {(len(leads), len(reps))}",
            source="scores",
        )
    bad = ~np.isfinite(matrix)
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise InputError(
            f"score for rep '{reps['rep_id'].iloc[j]}' is not finite",
            source="scores",
            row=int(i) + 1,
        )
    mask = np.ones(matrix.shape, dtype=bool) if eligible is None else np.asarray(eligible, bool)
    mask = mask & reps["active"].to_numpy(dtype=bool)[None, :]
    return RoutingProblem.from_dense(
        matrix,
        reps["capacity"].to_numpy(dtype=float),
        effort=leads["effort"].to_numpy(dtype=float),
        eligible=mask,
        lead_ids=leads["lead_id"].to_numpy(),
        rep_ids=reps["rep_id"].to_numpy(),
    )
