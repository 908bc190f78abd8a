"""Logged bandit data and target policies, validated once."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from solver.errors import EvaluationError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _first_bad(mask: npt.NDArray[np.bool_]) -> int:
    return int(np.flatnonzero(mask)[0]) + 1


@dataclass(frozen=True, eq=False)
class LoggedBandit:
    """What the logging policy did: per row the chosen action (rep index), the reward
    (converted, or revenue) and the probability the logging policy gave that action.

    ``estimated_propensity`` marks propensities that came from a model of the logging
    policy rather than from the log itself: estimates then rest on that model.
    """

    actions: IntArray
    rewards: FloatArray
    propensities: FloatArray
    n_actions: int
    estimated_propensity: bool = False

    def __post_init__(self) -> None:
        n = len(self.actions)
        for name, array in (("rewards", self.rewards), ("propensities", self.propensities)):
            if len(array) != n:
                raise EvaluationError(f"{len(array)} values for {n} logged rows",
                                      source="logged data", column=name)
        if n == 0:
            raise EvaluationError("no logged rows", source="logged data")
        bad = ~np.isfinite(self.rewards)
        if bad.any():
            raise EvaluationError("reward is not finite", source="logged data",
                                  row=_first_bad(bad), column="rewards")
        bad = ~((self.propensities > 0) & (self.propensities <= 1))
        if bad.any():
            raise EvaluationError(f"propensity must be in (0, 1], got "
                                  f"{self.propensities[_first_bad(bad) - 1]!r}",
                                  source="logged data", row=_first_bad(bad),
                                  column="propensities")
        bad = (self.actions < 0) | (self.actions >= self.n_actions)
        if bad.any():
            raise EvaluationError("action index out of range", source="logged data",
                                  row=_first_bad(bad), column="actions")

    @property
    def n_rows(self) -> int:
        return len(self.actions)


@dataclass(frozen=True, eq=False)
class TargetPolicy:
    """The evaluated policy as action probabilities per logged row, shape (n, n_actions).
    A row of zeros means the policy routes that lead to nobody (reward 0)."""

    probabilities: FloatArray

    @classmethod
    def deterministic(cls, actions: IntArray, n_actions: int) -> TargetPolicy:
        """One action per row (-1 = unassigned)."""
        probabilities = np.zeros((len(actions), n_actions))
        routed = np.flatnonzero(actions >= 0)
        probabilities[routed, actions[routed]] = 1.0
        return cls(probabilities)

    def check(self, data: LoggedBandit) -> None:
        if self.probabilities.shape != (data.n_rows, data.n_actions):
            raise EvaluationError(
                f"target probabilities have shape {self.probabilities.shape}, expected "
                f"{(data.n_rows, data.n_actions)}", source="target policy")
        sums = self.probabilities.sum(axis=1)
        bad = (self.probabilities < 0).any(axis=1) | (sums > 1 + 1e-9)
        if bad.any():
            raise EvaluationError("probabilities must be >= 0 and sum to at most 1",
                                  source="target policy", row=_first_bad(bad))

    def of_logged(self, data: LoggedBandit) -> FloatArray:
        return self.probabilities[np.arange(data.n_rows), data.actions]
