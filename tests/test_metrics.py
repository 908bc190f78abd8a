import numpy as np
import pytest

from solver import gini, share_deviation


@pytest.mark.parametrize(
    ("loads", "weights", "expected"),
    [
        ([10, 10], [1, 1], 0.0),
        ([15, 5], [1, 1], 0.5),  # target 10 each: 5/10 off
        ([20, 10], [2, 1], 0.0),  # weighted target met exactly
        ([0, 0], [1, 1], 0.0),
        ([10, 10, 99], [1, 1, 0], 0.0),  # zero-weight rep ignored
    ],
)
def test_share_deviation(loads: list[float], weights: list[float], expected: float) -> None:
    assert share_deviation(loads, weights) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("loads", "expected"),
    [([5, 5, 5, 5], 0.0), ([0, 0, 0, 8], 0.75), ([], 0.0), ([1, 3], 0.25)],
)
def test_gini(loads: list[float], expected: float) -> None:
    assert gini(np.asarray(loads)) == pytest.approx(expected)
