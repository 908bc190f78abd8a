"""Why a lead went where it went, as a code and its parameters; words only at the edge.

Every producer of reasons (the solver core's ``explain``, each strategy, the fairness band,
the policy's stages) records a ``Reason``; the assignments table (and so the CLI, HTTP and
console) shows ``Reason.render()``, and code that needs to know why (the service waiting
for an eligible rep) asks ``Reason.code``, never the text. This module imports nothing of
the solver, so every layer may use it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

NO_ELIGIBLE_REP = "no eligible rep"
SOLVER_TIMEOUT = "solver time limit reached before an assignment was found"


def capacity_exhausted(n_candidates: int) -> str:
    noun = "rep is" if n_candidates == 1 else f"{n_candidates} eligible reps are"
    return f"capacity exhausted: {'the only eligible ' if n_candidates == 1 else 'all '}{noun} full"


class ReasonCode(enum.Enum):
    """The parameters each code uses are in its comment (the rest keep their default)."""

    # policy stages
    PINNED = "pinned"
    PIN_INACTIVE = "pin_inactive"  # rep
    PIN_FULL = "pin_full"  # rep
    NURTURE = "nurture"  # value: best expected value, limit: the threshold
    ACCOUNT_OWNER = "account_owner"  # rep
    # placed by a pool's strategy: inner (its reason; or text, its words), pool, count
    ROUTED = "routed"
    EXPLORATION = "exploration"  # text: the method, limit: the share, rep: instead of
    GROUP_UNPLACEABLE = "group_unplaceable"  # count: leads
    # unassigned (core and stages)
    NO_ELIGIBLE_REP = "no_eligible_rep"
    CAPACITY_EXHAUSTED = "capacity_exhausted"  # count: eligible reps, every_pool
    SOLVER_TIMEOUT = "solver_timeout"
    # the optimiser (core): score: the chosen pair's, other_rep / other: the best other pair
    ONLY_ELIGIBLE = "only_eligible"
    BEST_FIT = "best_fit"  # score, other_rep, other
    PREFERRED_FULL = "preferred_full"  # other_rep, other
    TRADE_OFF = "trade_off"  # score, other_rep, other
    # strategies
    GREEDY = "greedy"  # inner: the core's reason for the pair
    ROUND_ROBIN = "round_robin"  # count: eligible reps ahead that were full
    WEIGHTED_ROUND_ROBIN = "weighted_round_robin"  # value: the rep's weight
    FIRST_MATCH = "first_match"  # count: earlier matching reps that were full
    LOAD_BALANCING = "load_balancing"  # value: the rep's load share of capacity
    CHERRY_PICKED = "cherry_picked"  # rep, count: the round, score
    BID_PRICE = "bid_price"  # rep, score, price, value: effort, text: where prices came from
    BID_FREE_ROOM = "bid_free_room"  # rep, score (no prices yet)
    # the fairness band (on_value: the band is on expected value, not effort); rep and
    # score: the chosen rep, other_rep and other: its free-solve rep (None: unassigned there)
    FAIR_AT_LIMIT = "fair_at_limit"  # value: the preferred rep's load, limit: its upper bound
    FAIR_BELOW_FLOOR = "fair_below_floor"  # value: the rep's load, limit: its lower bound
    FAIR_EVEN_OUT = "fair_even_out"


@dataclass(frozen=True, init=False)
class Reason:
    """A reason code and the parameters its words need (unused ones keep their default)."""

    code: ReasonCode
    rep: str  # the rep it names: pinned to, owner, explored instead of, chosen
    value: float  # a measured quantity (see the code)
    limit: float  # a threshold or share (see the code)
    count: int  # eligible reps, leads of an account group, reps passed, round
    text: str  # ROUTED without inner: the words; EXPLORATION: method; BID_PRICE: source
    pool: str | None  # ROUTED: the fallback pool (None: the first pool)
    every_pool: bool  # CAPACITY_EXHAUSTED: the batch has several pools
    notes: tuple[str, ...]  # appended notes (soft account groups)
    score: float  # the chosen pair's score
    other: float  # the score of the other pair it is compared with
    other_rep: str | None  # the rep of that other pair
    price: float  # BID_PRICE: the rep's capacity price
    on_value: bool  # fairness: the band shares expected value, not effort
    inner: Reason | None  # ROUTED, GREEDY: the reason they wrap

    def __init__(self, code: ReasonCode, rep: str = "", value: float = 0.0,
                 limit: float = 0.0, count: int = 0, text: str = "", pool: str | None = None,
                 every_pool: bool = False, notes: tuple[str, ...] = (), score: float = 0.0,
                 other: float = 0.0, other_rep: str | None = None, price: float = 0.0,
                 on_value: bool = False, inner: Reason | None = None) -> None:
        # One dict instead of the frozen dataclass's object.__setattr__ per field: explain
        # and the strategies build a Reason per lead, and this halves its cost (0.9 µs).
        object.__setattr__(self, "__dict__", {
            "code": code, "rep": rep, "value": value, "limit": limit, "count": count,
            "text": text, "pool": pool, "every_pool": every_pool, "notes": notes,
            "score": score, "other": other, "other_rep": other_rep, "price": price,
            "on_value": on_value, "inner": inner})

    def with_note(self, note: str) -> Reason:
        return replace(self, notes=(*self.notes, note))

    def render(self) -> str:
        words = _WORDS[self.code](self)
        return "; ".join((words, *self.notes)) if self.notes else words


@lru_cache(maxsize=4096)
def shared(code: ReasonCode, count: int = 0, value: float = 0.0) -> Reason:
    """One ``Reason`` object per code, count and value: the per-lead reasons that repeat
    (round robin, first match, a rep's weight, capacity exhausted) are built once, and
    ``render_all`` renders each once."""
    return Reason(code, count=count, value=value)


def render_all(reasons: Sequence[Reason]) -> tuple[str, ...]:
    """Each reason's words, rendering a shared object (``shared``) once (by identity: the
    sequence keeps every object alive, so no id is reused meanwhile)."""
    words: dict[int, str] = {}
    out = []
    for reason in reasons:
        text = words.get(id(reason))
        if text is None:
            text = words[id(reason)] = reason.render()
        out.append(text)
    return tuple(out)


def _inner(reason: Reason) -> str:
    return reason.inner.render() if reason.inner is not None else reason.text


def _routed(reason: Reason) -> str:
    prefix = f"fallback pool '{reason.pool}': " if reason.pool is not None else ""
    group = f"account group of {reason.count} leads: " if reason.count > 1 else ""
    return prefix + group + _inner(reason)


def _plural(k: int, noun: str) -> str:
    return f"{k} {noun}{'' if k == 1 else 's'}"


def _unit(reason: Reason) -> str:
    return "expected value " if reason.on_value else ""


def _fair_at_limit(r: Reason) -> str:
    return (f"fairness band binding: preferred rep {r.other_rep} (score {r.other:.3g}) at its "
            f"share limit ({_unit(r)}{r.value:.3g} of at most {r.limit:.3g}); best remaining "
            f"fit {r.rep} (score {r.score:.3g})")


def _fair_below_floor(r: Reason) -> str:
    return (f"fairness band binding: {r.rep} below its share floor ({_unit(r)}{r.value:.3g} of "
            f"at least {r.limit:.3g}) takes it (score {r.score:.3g})"
            + (f" instead of {r.other_rep}" if r.other_rep is not None else ""))


def _fair_even_out(r: Reason) -> str:
    return (f"fairness band binding: moved to {r.rep} (score {r.score:.3g}) to even out "
            f"{'expected value' if r.on_value else 'loads'}"
            + (f", from {r.other_rep}" if r.other_rep is not None else ""))


_WORDS: dict[ReasonCode, Callable[[Reason], str]] = {
    ReasonCode.PINNED: lambda r: "pinned by a manager",
    ReasonCode.PIN_INACTIVE: lambda r: f"pinned to {r.rep}, who is inactive",
    ReasonCode.PIN_FULL: lambda r: f"pinned to {r.rep}, who has no capacity left",
    ReasonCode.NURTURE: lambda r: (f"below nurture threshold (best expected value "
                                   f"{r.value:.3g} < {r.limit:g})"),
    ReasonCode.ACCOUNT_OWNER: lambda r: f"account owner {r.rep}",
    ReasonCode.ROUTED: _routed,
    ReasonCode.EXPLORATION: lambda r: (f"exploration ({r.text}, share {r.limit:g}): drawn at "
                                       f"random among the reps with room instead of {r.rep}"),
    ReasonCode.GROUP_UNPLACEABLE: lambda r: (f"account group of {r.count} leads: no "
                                             "eligible rep can take them all"),
    ReasonCode.NO_ELIGIBLE_REP: lambda r: NO_ELIGIBLE_REP,
    ReasonCode.CAPACITY_EXHAUSTED: lambda r: (capacity_exhausted(r.count)
                                              + (" in every pool" if r.every_pool else "")),
    ReasonCode.SOLVER_TIMEOUT: lambda r: SOLVER_TIMEOUT,
    ReasonCode.ONLY_ELIGIBLE: lambda r: "only eligible rep",
    ReasonCode.BEST_FIT: lambda r: (f"best fit (score {r.score:.3g}, +{r.score - r.other:.3g} "
                                    f"over next best {r.other_rep})"),
    ReasonCode.PREFERRED_FULL: lambda r: (f"preferred rep {r.other_rep} (score {r.other:.3g}) "
                                          "at capacity; next best fit"),
    ReasonCode.TRADE_OFF: lambda r: (f"trade-off: {r.other_rep} fits better (score "
                                     f"{r.other:.3g} vs {r.score:.3g}) but routing it here "
                                     "maximises the batch total"),
    ReasonCode.GREEDY: lambda r: f"greedy best fit: {_inner(r)}",
    ReasonCode.ROUND_ROBIN: lambda r: "round robin: next in rotation" + (
        f" ({_plural(r.count, 'eligible rep')} ahead full)" if r.count else ""),
    ReasonCode.WEIGHTED_ROUND_ROBIN: lambda r: ("weighted round robin: next in weighted "
                                                f"rotation (weight {r.value:g})"),
    ReasonCode.FIRST_MATCH: lambda r: "first match: first eligible rep in rule order" + (
        f" with room ({_plural(r.count, 'earlier matching rep')} full)" if r.count else ""),
    ReasonCode.LOAD_BALANCING: lambda r: ("load balancing: least loaded eligible rep "
                                          f"({r.value:.0%} of capacity)"),
    ReasonCode.CHERRY_PICKED: lambda r: (f"cherry-picked by {r.rep} in round {r.count}: its "
                                         f"best remaining lead (score {r.score:.3g})"),
    ReasonCode.BID_PRICE: lambda r: (f"instant: {r.rep} has the best fit net of its capacity "
                                     f"price (score {r.score:.3g} − price {r.price:.3g} × "
                                     f"effort {r.value:g}; prices from {r.text})"),
    ReasonCode.BID_FREE_ROOM: lambda r: (f"instant: {r.rep} has the best fit weighted by free "
                                         f"capacity (score {r.score:.3g}; no capacity prices "
                                         "yet)"),
    ReasonCode.FAIR_AT_LIMIT: _fair_at_limit,
    ReasonCode.FAIR_BELOW_FLOOR: _fair_below_floor,
    ReasonCode.FAIR_EVEN_OUT: _fair_even_out,
}
