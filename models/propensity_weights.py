"""Inverse-propensity weights for fitting on history logged with exploration.

Under a logging policy that prefers some pairs, the history over-represents them: a rep
that mostly gets one kind of lead is seen mostly on that kind. Weighting each row by
``1 / propensity`` (the contract's history column: the probability the logging policy
gave this lead to this rep) makes the weighted history look like leads assigned at
random, so what the model cannot express is averaged over all pairs, not over the ones
the old policy chose.

Weights are clipped at ``clip`` (default 20, i.e. the propensity is floored at 0.05): an
epsilon exploration share of 5 % over 20 reps logs off-optimum pairs with propensity
0.0025, and an unclipped weight of 400 would let one lead outweigh hundreds. Clipping
trades a little bias for much less variance (clipped IPS). The weights are then
normalised to mean 1, so ``C`` keeps its meaning (the penalty is relative to the
total weight).

``fit`` and ``refit`` call :meth:`Weighting.weights` (one code path): ``mode="auto"``
weighs when every row has a propensity and fits unweighted otherwise, saying why;
``"ipw"`` requires the propensities; ``"none"`` never weighs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from solver.errors import InputError as DataError

FloatArray = npt.NDArray[np.float64]
DEFAULT_CLIP = 20.0
MODES = ("auto", "ipw", "none")


@dataclass(frozen=True)
class HistoryWeights:
    """Per-row weights (``None``: unweighted) and the line the fit prints about them."""

    weights: FloatArray | None
    note: str


@dataclass(frozen=True)
class Weighting:
    mode: str = "auto"
    clip: float = DEFAULT_CLIP

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"weights must be one of {MODES}, got {self.mode!r}")
        if not self.clip >= 1.0:
            raise ValueError(f"the weight clip must be >= 1 (a weight of 1/propensity "
                             f"with propensity <= 1), got {self.clip!r}")

    def weights(self, history: pd.DataFrame, *, source: str) -> HistoryWeights:
        """The weights of ``history``'s rows, in order. Bad propensities (0, negative,
        above 1, not a number) raise ``DataError`` naming source, row and column."""
        if self.mode == "none":
            return HistoryWeights(None, "fit unweighted (--weights none)")
        if "propensity" not in history.columns:
            return self._unweighted(source, "has no propensity column")
        propensity = _checked(history["propensity"], source)
        missing = np.flatnonzero(np.isnan(propensity))
        if len(missing) == len(propensity):
            return self._unweighted(source, "has an empty propensity column")
        if len(missing):
            return self._unweighted(
                source, f"has no propensity on row {missing[0] + 1}"
                        f"{f' and {len(missing) - 1} other rows' if len(missing) > 1 else ''}")
        raw = 1.0 / propensity
        weights = np.minimum(raw, self.clip)
        clipped = int((raw > self.clip).sum())
        note = (f"fit weighted by inverse propensity from {source} (1/propensity clipped at "
                f"{self.clip:g}: {clipped} of {len(weights)} rows clipped; normalised to "
                f"mean 1)")
        return HistoryWeights(weights / weights.mean(), note)

    def _unweighted(self, source: str, why: str) -> HistoryWeights:
        if self.mode == "ipw":
            raise DataError(f"--weights ipw needs a propensity on every row; the history "
                            f"{why}", source=source, column="propensity")
        return HistoryWeights(None, f"fit unweighted: {source} {why} (history logged "
                                    "without exploration weighs every row the same)")


def _checked(values: pd.Series, source: str) -> FloatArray:
    """Propensities as floats, NaN where missing; a value outside (0, 1] is an error."""
    numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    blank = values.isna().to_numpy() | values.astype(str).str.strip().str.lower().isin(
        ["", "nan", "none"]).to_numpy()
    unreadable = np.isnan(numbers) & ~blank
    bad = unreadable | ~(np.isnan(numbers) | ((numbers > 0) & (numbers <= 1)))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise DataError(f"must be a probability in (0, 1], got {values.iloc[row]!r}",
                        source=source, row=row + 1, column="propensity")
    return numbers
