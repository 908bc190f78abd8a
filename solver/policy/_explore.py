"""Exploration: route a random share of leads off the optimum, with exact propensities.

The optimiser is deterministic, so its logs only show the pairs it prefers and give
off-policy estimators no overlap. Under ``[explore]`` each explorable lead (routed through
the pools as a single lead) is visited in a seeded order; its rep is released, and with
probability ``share`` a rep is drawn from the reps it could take at that moment (eligible
in its pool, with room), else it keeps the optimiser's rep. Its propensity is

    P(rep) = (1 − share) · [rep = optimiser's rep] + share · q(rep | feasible set)

with q uniform (epsilon) or a softmax of score / temperature. This is the probability
*given the batch's realised state* (the other leads' reps when its turn came); capacity
couples leads, so no simpler marginal exists. Caps and hard rules hold by construction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from solver._problem import EFFORT_TOLERANCE
from solver.policy._draws import keyed_uniform
from solver.policy._model import Explore

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Candidates:
    """One lead's options: rep indices with the pair's effort and score."""

    reps: IntArray
    effort: FloatArray
    score: FloatArray


@dataclass(frozen=True)
class Draw:
    """The rep a lead ends with, its propensity, and whether it left the optimiser's rep."""

    rep: int
    propensity: float
    moved: bool


def choice_weights(explore: Explore, score: FloatArray) -> FloatArray:
    """q over the feasible reps: uniform, or softmax of score / temperature."""
    if explore.method == "epsilon" or len(score) == 0:
        return np.full(len(score), 1.0 / max(len(score), 1))
    logits = (score - score.max()) / explore.temperature
    weights = np.exp(logits)
    return weights / weights.sum()


def draw_rep(explore: Explore, lead_id: str, current: int, options: Candidates,
             remaining: FloatArray) -> Draw:
    """Draw one lead's rep given ``remaining`` capacity (its own rep already released)."""
    room = remaining[options.reps] + EFFORT_TOLERANCE >= options.effort
    feasible = options.reps[room]
    q = choice_weights(explore, options.score[room])
    explores = keyed_uniform(explore.seed, "explore", lead_id) < explore.share
    rep = current
    if explores and len(feasible):
        u = keyed_uniform(explore.seed, "explore-draw", lead_id)
        pick = int(np.searchsorted(np.cumsum(q), u * q.sum(), side="right"))
        rep = int(feasible[min(pick, len(feasible) - 1)])
    q_of = dict(zip(feasible.tolist(), q.tolist(), strict=True))
    propensity = (1.0 - explore.share) * (rep == current) + explore.share * q_of.get(rep, 0.0)
    return Draw(rep=rep, propensity=float(propensity), moved=rep != current)


def exploration_order(explore: Explore, lead_ids: list[str]) -> list[int]:
    """Visit leads in a seeded order that does not depend on row order."""
    keys = [keyed_uniform(explore.seed, "explore-order", lead_id) for lead_id in lead_ids]
    return sorted(range(len(lead_ids)), key=lambda i: (keys[i], lead_ids[i]))


def explore_leads(
    explore: Explore,
    leads: list[int],
    lead_ids: npt.NDArray[np.str_],
    current: IntArray,
    candidates_of: Callable[[int], Candidates],
    remaining: FloatArray,
    move: Callable[[int, int, int], None],
) -> dict[int, Draw]:
    """Run the exploration pass over ``leads``; ``move(lead, old, new)`` updates the
    batch's bookkeeping (``remaining`` is read after each move). Returns each lead's draw."""
    draws: dict[int, Draw] = {}
    names = [str(lead_ids[lead]) for lead in leads]
    for position in exploration_order(explore, names):
        lead = leads[position]
        old = int(current[lead])
        options = candidates_of(lead)
        mine = int(np.searchsorted(options.reps, old))
        freed = remaining.copy()
        freed[old] += options.effort[mine]
        draw = draw_rep(explore, names[position], old, options, freed)
        if draw.moved:
            move(lead, old, draw.rep)
        draws[lead] = draw
    return draws
