"""scikit-learn's own estimator checks on AffinityModel's pair-row API (fit(X, y)).

Checks that cannot apply, and why, are listed in ``EXPECTED_FAILED``: the test still runs
them and requires that they fail (so the list cannot silently go stale)."""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from models import AffinityModel

EXPECTED_FAILED: dict[str, str] = {}


@parametrize_with_checks(
    [AffinityModel(cv=2, max_iter=100)],
    expected_failed_checks=lambda est: EXPECTED_FAILED,
)
def test_sklearn_compatible(estimator, check) -> None:  # type: ignore[no-untyped-def]
    check(estimator)
