"""State a strategy carries from one batch to the next (rotation pointer, weights, loads).

One small frozen value serves every strategy: each reads the fields it needs and returns
a copy with those fields updated, keeping the others, so one state file can be shared by
several strategies and switching strategy never loses another one's rotation. Reps are
keyed by ``rep_id`` (not by position), so the state survives reps joining or leaving.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from solver.errors import InputError

STATE_VERSION: Final = 1
_KEYS: Final = frozenset({"version", "last_rep_id", "cursor", "current_weights", "loads"})


def _frozen_floats(values: Mapping[str, float], name: str, source: str) -> Mapping[str, float]:
    out: dict[str, float] = {}
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InputError(f"{name}[{key!r}] must be a number", source=source, column=name)
        if not math.isfinite(float(value)):
            raise InputError(f"{name}[{key!r}] must be finite", source=source, column=name)
        out[str(key)] = float(value)
    return MappingProxyType(dict(sorted(out.items())))


@dataclass(frozen=True)
class RotationState:
    """Where the rotations stand after a batch.

    ``last_rep_id``: the rep that received the last lead (round robin continues after it).
    ``cursor``: rotation position of the next rep; used when ``last_rep_id`` is no longer
    among the reps. ``current_weights``: smooth weighted round robin's running weights.
    ``loads``: effort routed so far per rep (load balancing adds this batch to it).
    """

    last_rep_id: str | None = None
    cursor: int = 0
    current_weights: Mapping[str, float] = field(default_factory=dict)
    loads: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        source = "rotation state"
        if self.last_rep_id is not None and not isinstance(self.last_rep_id, str):
            raise InputError("last_rep_id must be a string or null", source=source)
        if isinstance(self.cursor, bool) or not isinstance(self.cursor, int) or self.cursor < 0:
            raise InputError("cursor must be an integer >= 0", source=source, column="cursor")
        weights = _frozen_floats(self.current_weights, "current_weights", source)
        loads = _frozen_floats(self.loads, "loads", source)
        if any(v < 0 for v in loads.values()):
            raise InputError("loads must be >= 0", source=source, column="loads")
        object.__setattr__(self, "current_weights", weights)
        object.__setattr__(self, "loads", loads)

    # -- serialisation ------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION,
            "last_rep_id": self.last_rep_id,
            "cursor": self.cursor,
            "current_weights": dict(self.current_weights),
            "loads": dict(self.loads),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "rotation state") -> RotationState:
        if not isinstance(data, Mapping):
            raise InputError("expected a JSON object", source=source)
        unknown = sorted(set(data) - _KEYS)
        if unknown:
            raise InputError(
                f"unknown key(s) {', '.join(map(repr, unknown))}; "
                f"valid: {', '.join(sorted(_KEYS))}",
                source=source,
            )
        version = data.get("version", STATE_VERSION)
        if version != STATE_VERSION:
            raise InputError(f"unsupported version {version!r} (expected {STATE_VERSION})",
                             source=source)
        for name in ("current_weights", "loads"):
            if not isinstance(data.get(name, {}), Mapping):
                raise InputError(f"{name} must be an object of rep_id: number", source=source)
        try:
            return cls(
                last_rep_id=data.get("last_rep_id"),
                cursor=data.get("cursor", 0),
                current_weights=data.get("current_weights", {}),
                loads=data.get("loads", {}),
            )
        except InputError as exc:
            raise InputError(str(exc).removeprefix("rotation state: "), source=source) from None

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, *, source: str = "rotation state") -> RotationState:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputError(f"not valid JSON ({exc.msg}, line {exc.lineno})",
                             source=source) from None
        return cls.from_dict(data, source=source)


# Every strategy takes and returns this one state type.
StrategyState = RotationState
