"""Why a lead went where it went, as a code and its parameters; words only at the edge.

The policy's stages record a ``Reason`` per lead; the assignments table (and so the CLI,
HTTP and console) shows ``Reason.render()``, and code that needs to know why (the service
waiting for an eligible rep) asks ``Reason.code``, never the text.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from solver._explain import NO_ELIGIBLE_REP, capacity_exhausted


class ReasonCode(enum.Enum):
    PINNED = "pinned"
    PIN_INACTIVE = "pin_inactive"
    PIN_FULL = "pin_full"
    NURTURE = "nurture"
    ACCOUNT_OWNER = "account_owner"
    ROUTED = "routed"  # placed by a pool's strategy, in its own words (``text``)
    EXPLORATION = "exploration"
    NO_ELIGIBLE_REP = "no_eligible_rep"
    CAPACITY_EXHAUSTED = "capacity_exhausted"
    GROUP_UNPLACEABLE = "group_unplaceable"


@dataclass(frozen=True)
class Reason:
    """A reason code and the parameters its words need (unused ones keep their default)."""

    code: ReasonCode
    rep: str = ""  # the rep it names: pinned to, owner, explored instead of
    value: float = 0.0  # nurture: the best expected value
    limit: float = 0.0  # nurture: the threshold; exploration: the share
    count: int = 0  # eligible reps (capacity exhausted); leads (account group)
    text: str = ""  # ROUTED: the strategy's words; EXPLORATION: the method
    pool: str | None = None  # ROUTED: the fallback pool (None: the first pool)
    every_pool: bool = False  # CAPACITY_EXHAUSTED: the batch has several pools
    notes: tuple[str, ...] = ()  # appended notes (soft account groups)

    def with_note(self, note: str) -> Reason:
        return Reason(self.code, self.rep, self.value, self.limit, self.count, self.text,
                      self.pool, self.every_pool, (*self.notes, note))

    def render(self) -> str:
        return "; ".join((_WORDS[self.code](self), *self.notes))


def _routed(reason: Reason) -> str:
    prefix = f"fallback pool '{reason.pool}': " if reason.pool is not None else ""
    group = f"account group of {reason.count} leads: " if reason.count > 1 else ""
    return prefix + group + reason.text


_WORDS = {
    ReasonCode.PINNED: lambda r: "pinned by a manager",
    ReasonCode.PIN_INACTIVE: lambda r: f"pinned to {r.rep}, who is inactive",
    ReasonCode.PIN_FULL: lambda r: f"pinned to {r.rep}, who has no capacity left",
    ReasonCode.NURTURE: lambda r: (f"below nurture threshold (best expected value "
                                   f"{r.value:.3g} < {r.limit:g})"),
    ReasonCode.ACCOUNT_OWNER: lambda r: f"account owner {r.rep}",
    ReasonCode.ROUTED: _routed,
    ReasonCode.EXPLORATION: lambda r: (f"exploration ({r.text}, share {r.limit:g}): drawn at "
                                       f"random among the reps with room instead of {r.rep}"),
    ReasonCode.NO_ELIGIBLE_REP: lambda r: NO_ELIGIBLE_REP,
    ReasonCode.CAPACITY_EXHAUSTED: lambda r: (capacity_exhausted(r.count)
                                              + (" in every pool" if r.every_pool else "")),
    ReasonCode.GROUP_UNPLACEABLE: lambda r: (f"account group of {r.count} leads: no "
                                             "eligible rep can take them all"),
}
