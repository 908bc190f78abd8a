"""scikit-learn's own estimator checks on AffinityModel's pair-row API (``fit(X, y)``).

Every check of the installed scikit-learn passes, so ``EXPECTED_FAILED`` is empty. What
the checks cannot reach, by design: the table API (``fit(history, reps)`` and
``score_matrix(leads, reps)``) takes DataFrames with contract columns that generic checks
cannot generate; it is covered by ``test_affinity_model.py``. The estimator is declared
binary-only (``classifier_tags.multi_class = False``): P(convert) has two classes, and
``check_classifier_not_supporting_multiclass`` verifies it refuses three.
"""

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
