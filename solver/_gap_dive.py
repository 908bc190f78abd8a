"""Column generation and diving for tight generalized assignment parts.

The master problem picks, for each rep, one set of rows (a column) that fits its load range,
so that every row is covered once. Its LP relaxation is as strong as the knapsack
Lagrangian bound (much stronger than the plain LP on tight parts: OR-Library gapd-5, plain
LP 0.69% below the best known, this one 0.15%), and its fractional optimum is a very good
guide: fixing the column the LP trusts most, re-pricing the rest and repeating (a "dive")
builds an assignment rep by rep. The last rows go to the engine's exact CP-SAT path.

Why: on such parts (type D: efforts 1-100, capacities binding) neighbourhood searches of
the incumbent stall 0.2-1.2% above the best known; one dive lands 0.1-0.3% above it in
1.5-4 s (gapd-3..6), and the rep-set search goes on from there (``benchmarks/README.md``).
Descents from the same root differ (its pool grows): a strong one, which compares the
child LPs of the LP's few favourite columns before fixing one, and others drawn among the
favourites take the best to 0.02-0.1% on gapd-3..6.

How it stays fast in Python: duals come first from subgradient steps that only price (a
pricing round is one vectorised knapsack pass, 10-30x cheaper than an LP round), LP duals
are then smoothed towards the best bound's (Wentges), and a node stops pricing once its
LP has stopped moving. Pricing is one knapsack per rep over exact loads ``L..U``,
vectorised over reps: a row's pass updates every rep it could profit at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from solver._gap_lp import DenseGap
from solver._highs import core, loaded
from solver.errors import SolverError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Solves the rows still free among the reps still free exactly, the rest fixed by
# ``assign`` (-1 = free), within seconds: a full assignment or None.
Finish = Callable[[IntArray, BoolArray, float], IntArray | None]

# The pricing tables hold rows × reps × (U + 1) flags: beyond, the dive does not apply.
MAX_TABLE_CELLS = 30_000_000
# Residuals this small go to CP-SAT, its best within a second (gapd-5: 6209 / 6203 / 6198
# at 0.5 / 1 / 2 s; residuals of 40-60 rows ended further from the best known).
_FINISH_ROWS = 30
_FINISH_SECONDS = 1.0
_COLUMNS_PER_REP = 6  # best loads priced per rep in a column-generation round
_MAX_BACKTRACKS = 4
_FAVOURITES = 3  # columns a randomised dive draws from at each node
# A strong descent compares the child LPs of the LP's ``_LOOKAHEAD`` favourite columns and
# fixes the best; it looks ahead only while more than ``_RESERVE`` of the dive's time is
# left, so it ends with an assignment (gapd-4: 7 s, plain 3.6 s).
_LOOKAHEAD = 3
_RESERVE = 0.4
# Each descent's lookahead: > 1 strong, 0 drawn among the favourites (the last repeats).
# Of four orders measured on gapd-5/6 at 20 s, seeds 0-2, one strong descent first, then
# drawn ones, found the best (benchmarks/README.md: gapd-5 6188 / 6188 / 6196, gapd-6
# 12244 x 3).
_DESCENTS = (_LOOKAHEAD, 0)
_SMOOTHING = 0.8  # weight of the best bound's duals in the priced duals (Wentges)
_ROOT_STEPS = 200  # subgradient steps before the root's first LP
_NODE_STEPS = 10  # and before each node's, from the parent's duals
_PATIENCE = 5  # subgradient steps without a better bound before the step is halved
# A node's pricing stops when the LP is this close (relative) to the node's bound, or has
# moved less than that over the last ``_TAIL`` rounds (the bound then lags, the LP is done).
_CONVERGED = 1e-5
_TAIL = 2
_ROOT_TAIL = 10
_EPS = 1e-7


def dive_applies(gap: DenseGap) -> bool:
    """Small enough tables, and scipy's HiGHS object for the master (private: a scipy
    without it leaves the engine's other stages)."""
    n, m = gap.shape
    if n * m * (int(gap.upper.max(initial=0)) + 1) > MAX_TABLE_CELLS:
        return False
    return core() is not None


class _Pool:
    """Every column generated so far: its rep, its rows and its value (arrays grown by
    doubling: the master reads them whole every round)."""

    def __init__(self, n_rows: int) -> None:
        self.size = 0
        self.rep = np.zeros(64, dtype=np.int64)
        self.member = np.zeros((64, n_rows), dtype=bool)
        self.value = np.zeros(64)
        self.seen: set[bytes] = set()

    def add(self, rep: int, rows: BoolArray, value: float) -> bool:
        key = rep.to_bytes(4, "little") + np.packbits(rows).tobytes()
        if key in self.seen:
            return False
        self.seen.add(key)
        if self.size == len(self.rep):
            self.rep = np.concatenate([self.rep, np.zeros_like(self.rep)])
            self.member = np.vstack([self.member, np.zeros_like(self.member)])
            self.value = np.concatenate([self.value, np.zeros_like(self.value)])
        self.rep[self.size], self.member[self.size] = rep, rows
        self.value[self.size] = value
        self.size += 1
        return True


@dataclass(frozen=True)
class _Master:
    value: float  # of the LP, normalised units (max sense)
    weight: FloatArray  # per column of ``columns``
    columns: IntArray  # pool indices usable at this node
    row_dual: FloatArray  # per row of the part (0 where fixed)
    threshold: FloatArray  # per rep: a column enters when its priced profit exceeds this
    uncovered: float  # artificial cover and floors: > 0 means the node has no assignment


@dataclass(frozen=True)
class DiveResult:
    assigns: tuple[IntArray, ...]  # the descents' distinct assignments, best first
    bound: float  # the root's Lagrangian bound, in the units of ``values`` (inf: none)

    @property
    def assign(self) -> IntArray | None:
        return self.assigns[0] if self.assigns else None


def dive(gap: DenseGap, values: IntArray, *, start: IntArray | None, deadline: float,
         finish: Finish, descents: int = 1, seed: int = 0) -> DiveResult:
    """Column generation at the root, then up to ``descents`` dives from it with limited
    backtracking: the first looks ahead (fixes the favourite column whose child LP is
    best, while enough time is left), the others draw among the LP's favourites. Seeded
    with ``start``'s columns (those within their rep's load range) and aimed at its
    value; returns the assignments found, best first. HiGHS trouble in the master ends
    the dive with what it has."""
    norm = float(np.abs(values[gap.candidate]).max(initial=1.0)) or 1.0
    try:
        search = _Dive(gap, values / norm, deadline)
        root_bound = search.root(start) * norm
    except SolverError:  # HiGHS trouble with the master (numerics): no dive
        return DiveResult(assigns=(), bound=np.inf)
    rng = np.random.default_rng(seed)
    rows = np.arange(gap.shape[0])
    found: dict[bytes, tuple[float, IntArray]] = {}
    for descent in range(descents):
        started = time.perf_counter()
        if started >= deadline:
            break
        lookahead = _DESCENTS[min(descent, len(_DESCENTS) - 1)]
        # a strong descent stops looking ahead in time to end as a plain one would
        reserve = _RESERVE * (deadline - started) if np.isfinite(deadline) else 0.0
        try:
            assign = search.descend(finish, rng=rng if lookahead == 0 else None,
                                    lookahead=max(lookahead, 1), reserve=reserve)
        except SolverError:
            break
        if assign is not None:
            found[assign.tobytes()] = float(values[rows, assign].sum()), assign
    ranked = sorted(found.values(), key=lambda item: -item[0])
    return DiveResult(assigns=tuple(assign for _, assign in ranked), bound=root_bound)


class _Dive:
    def __init__(self, gap: DenseGap, values: FloatArray, deadline: float) -> None:
        self.gap, self.deadline = gap, deadline
        self.values = np.where(gap.candidate, values, -np.inf)
        n, _ = gap.shape
        self.pool = _Pool(n)
        self.penalty = 4.0 * n + 4.0  # an uncovered row costs more than any exchange
        self.master: _Master | None = None
        self.lp = _HighsMaster(gap, self.penalty)
        self.center: FloatArray | None = None  # the duals of the last best bound
        self.at_root: tuple[_Master | None, FloatArray | None] = (None, None)

    def add(self, rep: int, member: BoolArray) -> bool:
        return self.pool.add(rep, member, float(self.values[member, rep].sum()))

    def root(self, start: IntArray | None) -> float:
        """Seed the pool with ``start``, converge the root; its Lagrangian bound."""
        gap = self.gap
        n, m = gap.shape
        reachable = np.where(gap.candidate, self.values, -np.inf).max(axis=1)
        target = float(reachable.sum())
        if start is not None:
            target = float(self.values[np.arange(n), start].sum())
            for rep in range(m):
                member = start == rep
                load = int(gap.effort[member, rep].sum())
                if gap.lower[rep] <= load <= gap.upper[rep] and gap.candidate[member, rep].all():
                    self.add(rep, member)  # only columns the master may really use
        everything = np.ones(m, bool), np.ones(n, bool)
        bound, center = self.subgradient(*everything, dual=-reachable, target=target,
                                         steps=_ROOT_STEPS)
        # the root's bound is the dive's proof: a longer tail before giving up on it
        bound = self.converge(*everything, bound=bound, center=center, tail=_ROOT_TAIL)
        self.at_root = self.master, self.center
        return bound

    def subgradient(self, reps: BoolArray, rows: BoolArray, *, dual: FloatArray,
                    target: float, steps: int) -> tuple[float, FloatArray]:
        """Near-optimal duals by subgradient steps on the node's Lagrangian bound
        (pricing only: an LP round costs 10-30x a pricing round), Polyak steps aimed at
        ``target``; the sets priced on the way seed the pool. Returns the best bound and
        its duals."""
        n, _ = self.gap.shape
        best, best_dual, step, stale = np.inf, dual, 1.0, 0
        for _ in range(steps):
            if time.perf_counter() >= self.deadline or step < 1e-3:
                break
            priced = _price(self, dual, reps, rows, per_rep=1)
            for rep, member in priced.columns:
                self.add(rep, member)
            if priced.bound < best - 1e-12:
                best, best_dual, stale = priced.bound, dual, 0
            else:
                stale += 1
                if stale >= _PATIENCE:
                    step, stale = step / 2, 0
            taken = np.zeros(n)
            for _, member in priced.columns:
                taken += member
            slope = np.where(rows, taken - 1.0, 0.0)
            norm = float(slope @ slope)
            if norm == 0:
                break
            dual = dual - step * max(priced.bound - target, 1e-9) / norm * slope
        return best, best_dual

    def converge(self, reps: BoolArray, rows: BoolArray, *, bound: float = np.inf,
                 center: FloatArray | None = None, tail: int = _TAIL) -> float:
        """Column generation at a node until no column prices in, or the LP is within
        ``_CONVERGED`` of the node's Lagrangian bound; returns the least bound seen (max
        sense, normalised, the node's rows only). Duals are smoothed towards the best
        bound's (Wentges): plain LP duals swing and take ~10x the rounds on gapd."""
        seen: list[float] = []
        self.center = center
        while True:
            master = self.master = _solve_master(self, reps, rows)
            seen.append(master.value)
            smooth = center is not None
            dual = (_SMOOTHING * center + (1 - _SMOOTHING) * master.row_dual
                    if center is not None else master.row_dual)
            priced = _price(self, dual, reps, rows)
            if priced.bound < bound:
                bound, center = priced.bound, dual
                self.center = center
            added = self._add_entering(priced, master)
            close = _CONVERGED * max(abs(master.value), 1.0)
            if bound - master.value <= close:
                return bound
            if len(seen) > tail and master.value - seen[-tail - 1] <= close:
                return bound  # tailing off: the LP has stopped moving, only the bound does
            if not added:
                if not smooth:
                    return bound
                center = None  # mispriced: the next round prices at the LP's own duals
            if time.perf_counter() >= self.deadline:
                return bound

    def _add_entering(self, priced: _Priced, master: _Master) -> bool:
        """Add the priced columns that improve the LP at its own duals (with smoothed
        duals some do not); True when any does."""
        entering = False
        for rep, member in priced.columns:
            gain = float((self.values[member, rep] + master.row_dual[member]).sum())
            if gain > master.threshold[rep] + _EPS:
                entering |= self.add(rep, member)
        return entering

    def descend(self, finish: Finish, *, rng: np.random.Generator | None = None,
                lookahead: int = 1, reserve: float = 0.0) -> IntArray | None:
        """From the converged root: fix the column the LP trusts most (with ``rng``: one
        of its favourites; with ``lookahead`` > 1, while ``reserve`` seconds are left, the
        favourite whose child LP is best), re-price, repeat; a dead end (the node's LP
        cannot cover its rows, or the finish fails) goes back one node and tries its next
        column, at most ``_MAX_BACKTRACKS`` times."""
        n, m = self.gap.shape
        self.master, self.center = self.at_root
        node = _Node(assign=np.full(n, -1, dtype=np.int64), reps=np.ones(m, bool),
                     rows=np.ones(n, bool), tabu=[])
        stack: list[tuple[_Node, _Master]] = []
        backtracks = 0
        while time.perf_counter() < self.deadline:
            master = self.master
            assert master is not None
            dead = master.uncovered > 1e-6
            if not dead and (node.rows.sum() <= _FINISH_ROWS or node.reps.sum() <= 2):
                left = min(self.deadline - time.perf_counter(), _FINISH_SECONDS)
                done = finish(node.assign, node.reps, max(left, 0.01))
                if done is not None:
                    return done
                dead = True
            choices = [] if dead else _favourites(master, node.tabu, rng, lookahead)
            if not choices:
                if not stack or backtracks >= _MAX_BACKTRACKS:
                    return None
                backtracks += 1
                node, self.master = stack.pop()
                continue
            strong = len(choices) > 1 and self.deadline - time.perf_counter() > reserve
            children = [node.child(self.pool, column) for column in choices[: None if strong
                                                                            else 1]]
            complete = [child for child in children if not child.rows.any()]
            if complete:
                return complete[0].assign if _loads_ok(self.gap, complete[0].reps) else None
            states = [self._converge_child(master, child) for child in children]
            pick = max(range(len(children)), key=lambda k: states[k][0])
            stack.append((node.tried(children[pick].column), master))
            node = children[pick]
            self.master, self.center = states[pick][1], states[pick][2]
        return None

    def _converge_child(self, master: _Master, child: _Node
                        ) -> tuple[float, _Master, FloatArray | None]:
        """The child's LP from the parent's duals: (its value with the fixed column's, a
        child that cannot cover its rows last; its master; its best duals)."""
        center = self.center
        assert center is not None
        target = master.value - float(self.pool.value[child.column])
        bound, best = self.subgradient(child.reps, child.rows, dual=center, target=target,
                                       steps=_NODE_STEPS)
        self.converge(child.reps, child.rows, bound=bound, center=best)
        found, found_center = self.master, self.center
        self.center = center  # siblings start from the same duals
        assert found is not None
        value = -np.inf if found.uncovered > 1e-6 else (float(self.pool.value[child.column])
                                                         + found.value)
        return value, found, found_center


@dataclass
class _Node:
    """A descent's state: rows fixed so far (``assign``, -1 free), reps and rows still
    free, columns already tried here (``tabu``), and the column that made it."""

    assign: IntArray
    reps: BoolArray
    rows: BoolArray
    tabu: list[int]
    column: int = -1

    def child(self, pool: _Pool, column: int) -> _Node:
        rep, member = int(pool.rep[column]), pool.member[column]
        assign, reps = self.assign.copy(), self.reps.copy()
        assign[member] = rep
        reps[rep] = False
        return _Node(assign=assign, reps=reps, rows=self.rows & ~member, tabu=[],
                     column=column)

    def tried(self, column: int) -> _Node:
        return _Node(assign=self.assign, reps=self.reps, rows=self.rows,
                     tabu=self.tabu + [column], column=self.column)


def _favourites(master: _Master, tabu: list[int], rng: np.random.Generator | None,
                count: int) -> list[int]:
    """The ``count`` columns the LP trusts most (largest weight), not yet tried at this
    node; with ``rng``, one drawn by weight among the ``_FAVOURITES`` largest."""
    order = np.argsort(-master.weight, kind="stable")
    weights = master.weight[order]
    allowed = (weights > _EPS) & ~np.isin(master.columns[order], tabu)
    order, weights = order[allowed], weights[allowed]
    if len(order) == 0:
        return []
    if rng is not None:
        top = weights[:_FAVOURITES]
        return [int(master.columns[order[rng.choice(len(top), p=top / top.sum())]])]
    return [int(column) for column in master.columns[order[:count]]]


def _loads_ok(gap: DenseGap, free_reps: BoolArray) -> bool:
    """Reps left without a column take nothing: fine only where no floor binds."""
    return bool(np.all(gap.lower[free_reps] == 0))


def _solve_master(search: _Dive, reps: BoolArray, rows: BoolArray) -> _Master:
    """The restricted master LP over the columns the node can use: each free row covered
    once (or by its artificial, at a penalty), each free rep at most one column (exactly
    one with a floor, or its artificial)."""
    pool, lp = search.pool, search.lp
    lp.grow(pool)
    rep_of, member = pool.rep[: pool.size], pool.member[: pool.size]
    usable = reps[rep_of] & ~(member & ~rows[None, :]).any(axis=1)
    lp.restrict(usable, reps, rows)
    value, weight, row_dual, rep_dual, uncovered = lp.solve()
    columns = np.flatnonzero(usable)
    return _Master(value=value, weight=weight[columns], columns=columns,
                   row_dual=np.where(rows, row_dual, 0.0),
                   threshold=np.where(reps, -rep_dual, np.inf), uncovered=uncovered)


class _HighsMaster:
    """The master LP in one HiGHS object (scipy's bundled one, as ``_gap_mip``), changed
    in place: new columns and the node's bounds keep the last basis, so a round re-solves
    in a few pivots (rebuilt by ``linprog`` every round it cost 25-50 ms on gapd)."""

    def __init__(self, gap: DenseGap, penalty: float) -> None:
        from scipy.sparse import csc_matrix

        highs_core = core()
        if highs_core is None:  # pragma: no cover - dive_applies checked it
            raise SolverError("scipy's HiGHS object is missing")
        n, m = gap.shape
        self.core, self.n = highs_core, n
        self.floored = np.flatnonzero(gap.lower > 0)
        artificials = n + len(self.floored)
        rows_of = np.concatenate([np.arange(n), n + self.floored])
        matrix = csc_matrix((np.ones(artificials), (rows_of, np.arange(artificials))),
                            shape=(n + m, artificials))
        self.rep_lower = np.where(gap.lower > 0, 1.0, -np.inf)
        highs = loaded(highs_core, matrix, np.full(artificials, penalty),
                       (np.zeros(artificials), np.full(artificials, np.inf)),
                       (np.concatenate([np.ones(n), self.rep_lower]), np.ones(n + m)))
        if highs is None:
            raise SolverError("HiGHS refused the dive's master LP")
        self.highs = highs
        self.artificials, self.columns = artificials, 0  # pool columns added so far
        self.banned = np.zeros(0, dtype=bool)
        self.rows, self.reps = np.ones(n, bool), np.ones(m, bool)

    def grow(self, pool: _Pool) -> None:
        new = np.arange(self.columns, pool.size)
        if len(new) == 0:
            return
        member = pool.member[new]
        counts = member.sum(axis=1) + 1
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int32)
        indices = np.concatenate([np.concatenate([np.flatnonzero(row), [self.n + rep]])
                                  for row, rep in zip(member, pool.rep[new], strict=True)])
        self.highs.addCols(len(new), -pool.value[new], np.zeros(len(new)),
                           np.ones(len(new)), int(counts.sum()), starts,
                           indices.astype(np.int32), np.ones(int(counts.sum())))
        self.columns = pool.size
        self.banned = np.concatenate([self.banned, np.zeros(len(new), dtype=bool)])

    def restrict(self, usable: BoolArray, reps: BoolArray, rows: BoolArray) -> None:
        """Only what changed since the last node is touched."""
        flip = np.flatnonzero(self.banned == usable)
        if len(flip):
            self.highs.changeColsBounds(len(flip), (self.artificials + flip).astype(np.int32),
                                        np.zeros(len(flip)), usable[flip].astype(float))
            self.banned = ~usable
        for row in np.flatnonzero(rows != self.rows).tolist():
            bound = 1.0 if rows[row] else 0.0
            self.highs.changeRowBounds(row, bound, bound)
        for rep in np.flatnonzero(reps != self.reps).tolist():
            lower, upper = (self.rep_lower[rep], 1.0) if reps[rep] else (-np.inf, np.inf)
            self.highs.changeRowBounds(self.n + rep, lower, upper)
        self.rows, self.reps = rows.copy(), reps.copy()

    def solve(self) -> tuple[float, FloatArray, FloatArray, FloatArray, float]:
        """(value in max sense, pool column weights, row duals, rep duals, artificials)."""
        self.highs.run()
        if self.highs.getModelStatus() != self.core.HighsModelStatus.kOptimal:
            raise SolverError(f"the dive's master LP ended {self.highs.getModelStatus()}")
        solution = self.highs.getSolution()
        x = np.asarray(solution.col_value)
        dual = np.asarray(solution.row_dual)
        return (-float(self.highs.getInfo().objective_function_value),
                x[self.artificials:], dual[: self.n], dual[self.n:],
                float(x[: self.artificials].sum()))


@dataclass(frozen=True)
class _Priced:
    bound: float  # the Lagrangian bound at the priced duals (max sense, the node's rows)
    columns: list[tuple[int, BoolArray]]  # each rep's best sets at a few loads


def _price(search: _Dive, dual: FloatArray, reps: BoolArray, rows: BoolArray, *,
           per_rep: int = 0) -> _Priced:
    """Each rep's knapsack over the node's rows at row duals ``dual``: the bound
    ``Σ_rep best − Σ_row dual`` holds for any duals, and the best sets are new columns."""
    gap = search.gap
    active_reps = np.flatnonzero(reps)
    active_rows = np.flatnonzero(rows)
    profit = search.values[np.ix_(active_rows, active_reps)] + dual[active_rows, None]
    effort = gap.effort[np.ix_(active_rows, active_reps)]
    upper = gap.upper[active_reps]
    table, take = _knapsack_tables(profit, effort, int(upper.max(initial=0)),
                                   gap.lower[active_reps] > 0)
    loads = np.arange(table.shape[1])
    allowed = (loads[None, :] >= gap.lower[active_reps, None]) & (loads[None, :]
                                                                   <= upper[:, None])
    best = np.where(allowed, table, -np.inf)
    bound = float(best.max(axis=1).sum() - dual[active_rows].sum())
    columns = []
    for position, rep in enumerate(active_reps.tolist()):
        top = np.argsort(-best[position], kind="stable")[:per_rep or _COLUMNS_PER_REP]
        for load in top[np.isfinite(best[position, top])].tolist():
            chosen = _backtrack(take[:, position], effort[:, position], load)
            member = np.zeros(gap.shape[0], dtype=bool)
            member[active_rows[chosen]] = True
            columns.append((rep, member))
    return _Priced(bound=bound, columns=columns)


def _knapsack_tables(profit: FloatArray, effort: IntArray, top: int, floored: BoolArray
                     ) -> tuple[FloatArray, BoolArray]:
    """Best profit at each exact load, per rep (rows × reps inputs), and per row whether
    taking it made that entry (for reading the sets back). A row of no profit to a rep
    never helps it unless the rep has a floor to reach (``floored``): such rows are
    skipped, so without floors the table is exact only where it matters, at its best.

    Each rep's table sits behind ``shift`` slots of -inf, so "the table ``effort`` loads
    back" is one window of it: a row's pass over every rep is a gather, an add and a
    max (2.4x faster than indexing the shifted loads: the dive's pricing is its cost)."""
    n, m = profit.shape
    width = top + 1
    shift = int(effort.max(initial=0))
    padded = np.full((m, shift + width), -np.inf)
    padded[:, shift] = 0.0
    table = padded[:, shift:]
    windows = sliding_window_view(padded, width, axis=1)  # [rep, start, load]
    take = np.zeros((n, m, width), dtype=bool)
    useful = (profit > 0) | (floored[None, :] & np.isfinite(profit))
    gain = np.where(useful, profit, -np.inf)
    start = shift - np.minimum(effort, shift)
    reps = np.arange(m)
    candidate = np.empty((m, width))
    for row in np.flatnonzero(useful.any(axis=1)).tolist():
        np.add(windows[reps, start[row]], gain[row][:, None], out=candidate)
        np.greater(candidate, table, out=take[row])
        np.maximum(table, candidate, out=table)
    return table.copy(), take


def _backtrack(take: BoolArray, effort: IntArray, load: int) -> BoolArray:
    """The rows of one rep's best set at ``load`` (``take``: rows × loads)."""
    chosen = np.zeros(take.shape[0], dtype=bool)
    for row in range(take.shape[0] - 1, -1, -1):
        if take[row, load]:
            chosen[row] = True
            load -= int(effort[row])
    return chosen
