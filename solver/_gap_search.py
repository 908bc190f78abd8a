"""From the LP to a good integral assignment: repair the LP's split rows, then local search.

Moves (each keeps every rep's load within ``[L, U]``): shift a row to another rep, swap two
rows of different reps, and an ejection chain of two (a row takes another's place, which
moves on to a rep with room). Each round evaluates every move at once with numpy and applies
the best improving moves that touch disjoint reps (their gains add up exactly).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from solver._gap_lp import DenseGap

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Swap and chain moves cost rows² cells per round; beyond this only shifts are searched.
_MAX_PAIR_MOVES_ROWS = 2_500
# Best candidate moves considered per kind and round.
_MOVES_PER_ROUND = 2_000
_MIN_GAIN = 1e-12


def repair(gap: DenseGap, fraction: FloatArray) -> IntArray:
    """Rows the LP routes whole keep their rep; the split ones, most decided first, take
    the rep with room their LP share prefers (score breaks ties), or, with no room left
    anywhere, their LP rep over its ceiling (``balance`` moves rows out again)."""
    n, m = gap.shape
    rows = np.arange(n)
    assign = np.full(n, -1, dtype=np.int64)
    whole = fraction.max(axis=1) > 1 - 1e-9
    assign[whole] = fraction[whole].argmax(axis=1)
    load = np.bincount(assign[whole], weights=gap.effort[rows[whole], assign[whole]],
                       minlength=m).astype(np.int64)
    split = np.flatnonzero(~whole)
    for row in split[np.argsort(-fraction[split].max(axis=1), kind="stable")].tolist():
        fits = gap.candidate[row] & (load + gap.effort[row] <= gap.upper)
        rank = np.where(fits, fraction[row] * 1e6 + gap.score[row], -np.inf)
        if not fits.any():
            rank = np.where(gap.candidate[row], fraction[row], -np.inf)
        rep = int(np.argmax(rank))
        assign[row] = rep
        load[rep] += gap.effort[row, rep]
    return assign


def balance(gap: DenseGap, assign: IntArray) -> IntArray:
    """Bring every rep's load into ``[L, U]``: move rows out of reps over their ceiling,
    then into reps below their floor, each time the row that costs the least score, from
    a rep that may lose it to a rep with room. Gives up (returns as is) when stuck."""
    assign = assign.copy()
    load = loads(gap, assign)
    rows = np.arange(len(assign))
    for _ in range(len(assign) + int(gap.lower.sum()) + 1):
        over, under = np.flatnonzero(load > gap.upper), np.flatnonzero(load < gap.lower)
        if len(over) == 0 and len(under) == 0:
            break
        effort = gap.effort[rows, assign]
        room = gap.upper - load
        if len(over):
            source = int(over[np.argmin(room[over])])
            gives = assign == source
            fits = gap.candidate & (gap.effort <= room[None, :])
        else:
            target = int(under[np.argmax(gap.lower[under] - load[under])])
            gives = (load[assign] - effort >= gap.lower[assign]) & (assign != target)
            fits = np.zeros(gap.shape, dtype=bool)
            fits[:, target] = gap.candidate[:, target] & (gap.effort[:, target] <= room[target])
        fits[rows, assign] = False
        loss = np.where(gives[:, None] & fits, gap.score[rows, assign][:, None] - gap.score,
                        np.inf)
        row, rep = np.unravel_index(int(np.argmin(loss)), loss.shape)
        if not np.isfinite(loss[row, rep]):
            break
        load[assign[row]] -= effort[row]
        assign[row] = rep
        load[rep] += gap.effort[row, rep]
    return assign


def within_band(gap: DenseGap, assign: IntArray) -> bool:
    load = loads(gap, assign)
    return bool(np.all(load >= gap.lower) and np.all(load <= gap.upper))


def loads(gap: DenseGap, assign: IntArray) -> IntArray:
    rows = np.arange(len(assign))
    return np.bincount(assign, weights=gap.effort[rows, assign],
                       minlength=gap.shape[1]).astype(np.int64)


def improve(gap: DenseGap, assign: IntArray, deadline: float) -> IntArray:
    """Local search to a local optimum (or the deadline) from a band-feasible ``assign``."""
    assign = assign.copy()
    load = loads(gap, assign)
    pair_moves = gap.shape[0] <= _MAX_PAIR_MOVES_ROWS
    while time.perf_counter() < deadline:
        moves = _candidate_moves(gap, assign, load, pair_moves)
        if not moves:
            break
        _apply_disjoint(gap, assign, load, moves)
    return assign


# A move: (gain, rows, targets): rows[t] goes to targets[t].
Move = tuple[float, tuple[int, ...], tuple[int, ...]]
Describe = Callable[[int, int], tuple[tuple[int, ...], tuple[int, ...]]]


def _candidate_moves(gap: DenseGap, assign: IntArray, load: IntArray,
                     pair_moves: bool) -> list[Move]:
    room, spare = gap.upper - load, load - gap.lower
    rows = np.arange(len(assign))
    current = gap.score[rows, assign]
    leaves = gap.effort[rows, assign] <= spare[assign]  # its rep may lose it
    into = np.where(gap.effort <= room[None, :], gap.score - current[:, None], -np.inf)
    into[rows, assign] = -np.inf
    shifts = np.where(leaves[:, None], into, -np.inf)
    moves = _best(shifts, lambda i, j: ((i,), (j,)))
    if not pair_moves:
        return _sorted(moves)
    # row i takes row k's place at rep a_k: gain d[i, k], load change change[i, k] there
    gain = gap.score[:, assign] - current[:, None]
    change = gap.effort[:, assign] - gap.effort[rows, assign][None, :]
    fits = (change <= room[assign][None, :]) & (change >= -spare[assign][None, :])
    fits &= assign[:, None] != assign[None, :]
    both = np.triu(fits & fits.T, 1)  # each swap once
    swaps = np.where(both, gain + gain.T, -np.inf)
    moves += _best(swaps, lambda i, k: ((i, k), (int(assign[k]), int(assign[i]))))
    onward, onto = into.max(axis=1), into.argmax(axis=1)  # k's best move to a rep with room
    chains = np.where(fits & leaves[:, None], gain + onward[None, :], -np.inf)
    moves += _best(chains, lambda i, k: ((i, k), (int(assign[k]), int(onto[k]))))
    return _sorted(moves)


def _best(gains: FloatArray, describe: Describe) -> list[Move]:
    flat = gains.ravel()
    good = np.flatnonzero(flat > _MIN_GAIN)
    if len(good) > _MOVES_PER_ROUND:
        good = good[np.argpartition(-flat[good], _MOVES_PER_ROUND)[:_MOVES_PER_ROUND]]
    width = gains.shape[1]
    out: list[Move] = []
    for cell in good.tolist():
        first, second = divmod(cell, width)
        members, targets = describe(first, second)
        out.append((float(flat[cell]), members, targets))
    return out


def _sorted(moves: list[Move]) -> list[Move]:
    return sorted(moves, key=lambda move: (-move[0], move[1], move[2]))


def _apply_disjoint(gap: DenseGap, assign: IntArray, load: IntArray,
                    moves: list[Move]) -> None:
    """Apply the best moves whose reps (left and entered) no earlier move touched: each
    was evaluated on loads that the others leave alone, so all stay feasible."""
    touched: set[int] = set()
    for _, members, targets in moves:
        reps = {int(assign[r]) for r in members} | set(targets)
        if reps & touched:
            continue
        touched |= reps
        for row in members:
            load[assign[row]] -= gap.effort[row, assign[row]]
        for row, rep in zip(members, targets, strict=True):
            assign[row] = rep
            load[rep] += gap.effort[row, rep]
