"""Scipy's bundled HiGHS object, for the solves ``linprog``/``milp`` cannot do: start from
an incumbent, stop from a callback (``_gap_mip``), or change a model in place and re-solve
from the last basis (``_gap_dive``). Private to scipy, so callers check ``available()``
and keep a fallback; never ``highspy`` itself (SOLVER-NOTES 1: it cannot share a process
with OR-Tools)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def core() -> ModuleType | None:
    """scipy's ``_highspy._core`` module, or None on a scipy without it."""
    try:
        from scipy.optimize._highspy import _core as highs_core
    except ImportError:  # pragma: no cover - another scipy layout
        return None
    return highs_core if hasattr(highs_core, "_Highs") else None


def loaded(highs_core: ModuleType, matrix: Any, cost: FloatArray, col_bounds: tuple[
        FloatArray, FloatArray], row_bounds: tuple[FloatArray, FloatArray],
           integer: bool = False, **options: object) -> Any | None:
    """A ``_Highs`` holding the model ``row_lower <= matrix @ x <= row_upper`` (a scipy
    CSC matrix), its options set; None when HiGHS refuses the model."""
    rows, cols = matrix.shape
    lp = highs_core.HighsLp()
    lp.num_col_, lp.num_row_ = cols, rows
    lp.a_matrix_.num_col_, lp.a_matrix_.num_row_ = cols, rows
    lp.a_matrix_.format_ = highs_core.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data.astype(np.float64)
    lp.col_cost_ = cost
    lp.col_lower_, lp.col_upper_ = col_bounds
    lp.row_lower_, lp.row_upper_ = row_bounds
    if integer:
        lp.integrality_ = [highs_core.HighsVarType.kInteger] * cols
    highs = highs_core._Highs()
    for name, value in {"output_flag": False, **options}.items():
        highs.setOptionValue(name, value)
    if highs.passModel(lp) == highs_core.HighsStatus.kError:
        return None
    return highs
