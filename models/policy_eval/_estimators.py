"""Off-policy estimators with bootstrap intervals (Open Bandit Pipeline style: config in
fields, data in methods).

Every estimator estimates the same quantity: the target policy's expected reward *per
logged lead*, a lead the target routes to nobody counting as reward 0 (``TargetPolicy``).
With conversions as the reward that is conversions per lead of the history — comparable
with the logged policy's mean outcome, which routed every lead, so the lift is like for
like. Self-normalised estimators (SNIPS, replay) on their own estimate the reward per
*routed* lead (the weights average to the routed share, not 1); they are multiplied by the
target's routed share so that they agree with IPS, DM and DR when capacity leaves leads
unrouted.

Every estimator computes its value as a ratio of sums of per-row terms (times the routed
share for the self-normalised ones), so one bootstrap (Poisson(1) row weights, a
(n_bootstrap × n) matrix, no Python loop over resamples) gives the interval, and the same
weights give a *paired* interval for the lift over the logged policy — the interval of the
difference, not the difference of two intervals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from models.policy_eval._data import FloatArray, LoggedBandit, TargetPolicy
from solver.errors import EvaluationError


@dataclass(frozen=True)
class Estimate:
    value: float
    ci_low: float
    ci_high: float
    n_effective: float


@dataclass(frozen=True)
class _Terms:
    """value = Σ numerator / Σ denominator · mean(share) over rows (each row weighted by the
    bootstrap). ``share`` is the target's routed share per row, for the self-normalised
    estimators, whose ratio alone is a reward per routed lead; ``None`` means 1."""

    numerator: FloatArray
    denominator: FloatArray
    n_effective: float
    share: FloatArray | None = None

    def value(self) -> float:
        ratio = _ratio(self.numerator.sum(), self.denominator.sum())
        return ratio * float(self.share.mean()) if self.share is not None else ratio

    def samples(self, draws: FloatArray) -> FloatArray:
        ratios = _ratios(draws @ self.numerator, draws @ self.denominator)
        if self.share is None:
            return ratios
        return ratios * _ratios(draws @ self.share, draws.sum(axis=1))


def _kish(weights: FloatArray) -> float:
    total = float(weights.sum())
    squares = float(np.square(weights).sum())
    return total * total / squares if squares > 0 else 0.0


@dataclass(frozen=True, kw_only=True)
class _Estimator:
    n_bootstrap: int = 200
    alpha: float = 0.1  # 90% intervals
    seed: int = 0
    name: ClassVar[str] = ""
    # True when the interval holds a fitted model fixed and so ignores that model's error
    conditional_on_model: ClassVar[bool] = False

    def _terms(self, data: LoggedBandit, target: TargetPolicy,
               rewards_hat: FloatArray | None) -> _Terms:
        raise NotImplementedError

    def _bootstrap_weights(self, n: int) -> FloatArray:
        rng = np.random.default_rng(self.seed)
        return rng.poisson(1.0, size=(self.n_bootstrap, n)).astype(float)

    def estimate(self, data: LoggedBandit, target: TargetPolicy,
                 rewards_hat: FloatArray | None = None) -> Estimate:
        target.check(data)
        terms = self._terms(data, target, rewards_hat)
        value = terms.value()
        draws = self._bootstrap_weights(data.n_rows)
        samples = terms.samples(draws)
        low, high = _interval(samples, self.alpha)
        return Estimate(value, low, high, terms.n_effective)

    def lift(self, data: LoggedBandit, target: TargetPolicy,
             rewards_hat: FloatArray | None = None) -> Estimate:
        """Target value minus the logged policy's (its on-policy mean reward), paired."""
        target.check(data)
        terms = self._terms(data, target, rewards_hat)
        value = terms.value() - float(data.rewards.mean())
        draws = self._bootstrap_weights(data.n_rows)
        logged = _ratios(draws @ data.rewards, draws.sum(axis=1))
        samples = terms.samples(draws) - logged
        low, high = _interval(samples, self.alpha)
        return Estimate(value, low, high, terms.n_effective)


def _ratio(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator > 0 else float("nan")


def _ratios(numerator: FloatArray, denominator: FloatArray) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / denominator, np.nan)


def _interval(samples: FloatArray, alpha: float) -> tuple[float, float]:
    finite = samples[np.isfinite(samples)]
    if len(finite) == 0:
        return float("nan"), float("nan")
    low, high = np.quantile(finite, [alpha / 2, 1 - alpha / 2])
    return float(low), float(high)


def _need_model(rewards_hat: FloatArray | None, data: LoggedBandit, name: str) -> FloatArray:
    if rewards_hat is None:
        raise EvaluationError(f"{name} needs predicted rewards for every row and action",
                              source="reward model")
    if rewards_hat.shape != (data.n_rows, data.n_actions):
        raise EvaluationError(f"predicted rewards have shape {rewards_hat.shape}, expected "
                              f"{(data.n_rows, data.n_actions)}", source="reward model")
    return rewards_hat


@dataclass(frozen=True, kw_only=True)
class IPS(_Estimator):
    """Inverse propensity scoring: mean of π(a|x)/p(a|x) · r. Unbiased, high variance."""

    clip: float | None = None  # cap on the importance weight (biased, lower variance)
    name: ClassVar[str] = "ips"

    def _weights(self, data: LoggedBandit, target: TargetPolicy) -> FloatArray:
        weights = target.of_logged(data) / data.propensities
        return np.minimum(weights, self.clip) if self.clip is not None else weights

    def _terms(self, data: LoggedBandit, target: TargetPolicy,
               rewards_hat: FloatArray | None) -> _Terms:
        weights = self._weights(data, target)
        return _Terms(weights * data.rewards, np.ones(data.n_rows), _kish(weights))


@dataclass(frozen=True, kw_only=True)
class SNIPS(IPS):
    """Self-normalised IPS: Σ w r / Σ w times the target's routed share mean(Σ_a π(a|x)).
    Σ w r / Σ w alone is the reward per routed lead (E[w] is the routed share, not 1);
    the share makes it a reward per lead like the other estimators. Slightly biased, much
    steadier than IPS."""

    name: ClassVar[str] = "snips"

    def _terms(self, data: LoggedBandit, target: TargetPolicy,
               rewards_hat: FloatArray | None) -> _Terms:
        weights = self._weights(data, target)
        return _Terms(weights * data.rewards, weights, _kish(weights),
                      share=target.probabilities.sum(axis=1))


@dataclass(frozen=True, kw_only=True)
class Replay(_Estimator):
    """Li et al. (2011): keep the rows where the target's most likely action equals the
    logged one; their mean reward (a reward per routed lead), times the share of rows the
    target routes (a reward per lead, unrouted = 0). Unbiased when logging was uniform
    over the candidates."""

    name: ClassVar[str] = "replay"

    def _terms(self, data: LoggedBandit, target: TargetPolicy,
               rewards_hat: FloatArray | None) -> _Terms:
        chosen = np.argmax(target.probabilities, axis=1)
        routed = target.probabilities.max(axis=1) > 0
        match = (routed & (chosen == data.actions)).astype(float)
        return _Terms(match * data.rewards, match, float(match.sum()),
                      share=routed.astype(float))


@dataclass(frozen=True, kw_only=True)
class DirectMethod(_Estimator):
    """Mean of the reward model's prediction under the target: Σ_a π(a|x) q̂(x, a).
    Low variance; biased as far as the (cross-fitted) reward model is wrong.

    The interval is *conditional on the reward model*: the bootstrap resamples the leads
    with ``rewards_hat`` held fixed, so it measures which leads happened to arrive, not
    how wrong the model is. Whenever the model is biased it undercovers, badly (17% at a
    nominal 90% in ``benchmarks/bench_ope_coverage.py``). Refitting the reward model per
    bootstrap draw would fix that at the cost of one model fit per draw and fold (about
    a second each: 600 fits for 200 draws and 3 folds), so it is not done; use the DR
    interval (whose importance-weighted residual carries the model's error into the
    resampled terms) for inference, and DM as a low-variance point of comparison.
    """

    name: ClassVar[str] = "dm"
    conditional_on_model: ClassVar[bool] = True

    def _terms(self, data: LoggedBandit, target: TargetPolicy,
               rewards_hat: FloatArray | None) -> _Terms:
        q = _need_model(rewards_hat, data, "the direct method")
        direct = (target.probabilities * q).sum(axis=1)
        return _Terms(direct, np.ones(data.n_rows), float(data.n_rows))


@dataclass(frozen=True, kw_only=True)
class DoublyRobust(IPS):
    """DM plus the importance-weighted residual of the logged action: unbiased when the
    propensities are right, low variance when the reward model is good. Its bootstrap
    also holds the reward model fixed, but the residual term r − q̂ is resampled with the
    leads, so the model's error enters the interval (it covers when the propensities are
    right; ``benchmarks/bench_ope_coverage.py``)."""

    name: ClassVar[str] = "dr"

    def _terms(self, data: LoggedBandit, target: TargetPolicy,
               rewards_hat: FloatArray | None) -> _Terms:
        q = _need_model(rewards_hat, data, "doubly robust")
        weights = self._weights(data, target)
        direct = (target.probabilities * q).sum(axis=1)
        residual = data.rewards - q[np.arange(data.n_rows), data.actions]
        return _Terms(direct + weights * residual, np.ones(data.n_rows), _kish(weights))


ESTIMATORS: dict[str, type[_Estimator]] = {
    cls.name: cls for cls in (Replay, IPS, SNIPS, DirectMethod, DoublyRobust)
}


def estimator_from_name(name: str, *, n_bootstrap: int = 200, alpha: float = 0.1,
                        seed: int = 0) -> _Estimator:
    if name not in ESTIMATORS:
        raise EvaluationError(f"unknown estimator '{name}'; valid: {', '.join(ESTIMATORS)}",
                              source="estimators")
    return ESTIMATORS[name](n_bootstrap=n_bootstrap, alpha=alpha, seed=seed)

