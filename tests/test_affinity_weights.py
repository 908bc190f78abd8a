"""Inverse-propensity weights: ``AffinityModel.fit(..., sample_weight)`` and the
``Weighting`` rule that ``leadroute fit`` and ``leadroute refit`` share."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from models import AffinityModel
from models.propensity_weights import Weighting
from solver.app.cli import app
from solver.errors import InputError as DataError

REPS = pd.DataFrame({"rep_id": ["r1", "r2"]})
TRUE_RATE = {("r1", "a"): 0.6, ("r1", "b"): 0.2, ("r2", "a"): 0.3, ("r2", "b"): 0.3}


def _logged(n: int = 6000, seed: int = 0) -> pd.DataFrame:
    """Half the leads are segment a. The logging policy over-samples r1 on a (0.9) and r2
    on b (0.9), and records the probability of the rep it chose."""
    rng = np.random.default_rng(seed)
    segment = np.where(rng.random(n) < 0.5, "a", "b")
    p_r1 = np.where(segment == "a", 0.9, 0.1)
    rep = np.where(rng.random(n) < p_r1, "r1", "r2")
    propensity = np.where(rep == "r1", p_r1, 1.0 - p_r1)
    rate = np.array([TRUE_RATE[(r, s)] for r, s in zip(rep, segment, strict=True)])
    return pd.DataFrame({"lead_id": [f"L{i}" for i in range(n)], "segment": segment,
                         "rep_id": rep, "converted": (rng.random(n) < rate).astype(int),
                         "propensity": propensity})


def _population_rate(model: AffinityModel) -> float:
    """r1's conversion rate over the whole lead population (half a, half b)."""
    leads = pd.DataFrame({"lead_id": ["x", "y"], "segment": ["a", "b"]})
    return float(model.score_matrix(leads, REPS)[:, 0].mean())


def test_ipw_recovers_the_rate_over_all_leads_closer_than_unweighted() -> None:
    # main effects only: the model cannot express r1's dependence on the segment, so
    # what it averages over depends on which leads count: the logged or all of them
    history = _logged(n=20_000)
    weights = Weighting().weights(history, source="history.csv").weights
    assert weights is not None
    model = AffinityModel(blocks="none", calibration="none", C=100.0)
    plain = _population_rate(model.fit(history, REPS))
    weighted = _population_rate(AffinityModel(**model.get_params()).fit(history, REPS,
                                                                        weights))
    truth = 0.5 * (TRUE_RATE[("r1", "a")] + TRUE_RATE[("r1", "b")])
    assert abs(weighted - truth) < 0.02
    assert abs(weighted - truth) < abs(plain - truth) - 0.03


def test_weights_reach_the_fit() -> None:
    history = _logged(n=2000, seed=1)
    tilt = np.where(history["converted"] == 1, 3.0, 1.0)  # counts conversions 3 times
    leads = pd.DataFrame({"lead_id": ["x", "y"], "segment": ["a", "b"]})
    params = {"calibration": "isotonic", "max_iter": 50}
    plain = AffinityModel(**params).fit(history, REPS).score_matrix(leads, REPS)
    tilted = AffinityModel(**params).fit(history, REPS, tilt).score_matrix(leads, REPS)
    assert (tilted > plain + 0.05).all()


def test_weights_are_clipped_then_normalised() -> None:
    history = pd.DataFrame({"propensity": [0.5, 0.1, 0.01]})
    found = Weighting(clip=5.0).weights(history, source="h.csv")
    assert found.weights is not None
    # raw 2, 10, 100 -> clipped 2, 5, 5 -> mean 1
    np.testing.assert_allclose(found.weights, [0.5, 1.25, 1.25])
    assert "clipped at 5: 2 of 3 rows clipped" in found.note
    assert "fit weighted by inverse propensity from h.csv" in found.note


@pytest.mark.parametrize(("value", "row"), [(0.0, 2), (-0.2, 2), (1.5, 2), ("often", 2)])
def test_a_bad_propensity_names_file_row_and_column(value: object, row: int) -> None:
    history = pd.DataFrame({"propensity": [0.5, value, 0.5]}, dtype=object)
    with pytest.raises(DataError, match=rf"h\.csv.*row {row}.*propensity.*\(0, 1\]"):
        Weighting().weights(history, source="h.csv")


@pytest.mark.parametrize(("history", "why"), [
    (pd.DataFrame({"rep_id": ["r1"]}), "h.csv has no propensity column"),
    (pd.DataFrame({"propensity": [np.nan, np.nan]}), "h.csv has an empty propensity column"),
    (pd.DataFrame({"propensity": [0.5, np.nan, np.nan]}),
     "h.csv has no propensity on row 2 and 1 other rows"),
])
def test_missing_propensities_fit_unweighted_or_refuse_under_ipw(history: pd.DataFrame,
                                                                 why: str) -> None:
    found = Weighting().weights(history, source="h.csv")
    assert found.weights is None and found.note.startswith(f"fit unweighted: {why}")
    with pytest.raises(DataError, match=r"--weights ipw needs a propensity.*propensity"):
        Weighting(mode="ipw").weights(history, source="h.csv")
    assert Weighting(mode="none").weights(history, source="h.csv").weights is None


@pytest.mark.parametrize(("kwargs", "match"), [({"mode": "sometimes"}, "weights must be"),
                                               ({"clip": 0.5}, "clip must be >= 1")])
def test_bad_weighting_options(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Weighting(**kwargs)  # type: ignore[arg-type]


def _fit_cli(tmp_path: Path, history: pd.DataFrame, *extra: str) -> str:
    h, r = tmp_path / "history.csv", tmp_path / "reps.csv"
    history.to_csv(h, index=False)
    REPS.assign(capacity=100).to_csv(r, index=False)
    done = CliRunner().invoke(app, ["fit", "--history", str(h), "--reps", str(r), "--out",
                                    str(tmp_path / "m.joblib"), "--blocks", "none", *extra])
    assert done.exit_code == 0, done.output
    return done.output


def test_fit_says_whether_it_weighted(tmp_path: Path) -> None:
    history = _logged(n=1500, seed=2)
    weighted = _fit_cli(tmp_path, history, "--ipw-clip", "5")
    assert "fit weighted by inverse propensity" in weighted and "clipped at 5" in weighted
    assert "fitted with per-row sample weights" in weighted
    assert "fit unweighted: " in _fit_cli(tmp_path, history.drop(columns="propensity"))
    assert "fit unweighted (--weights none)" in _fit_cli(tmp_path, history,
                                                         "--weights", "none")


def test_fit_refuses_a_bad_propensity_with_file_row_and_column(tmp_path: Path) -> None:
    history = _logged(n=200, seed=3)
    history.loc[4, "propensity"] = 0.0
    h, r = tmp_path / "history.csv", tmp_path / "reps.csv"
    history.to_csv(h, index=False)
    REPS.assign(capacity=100).to_csv(r, index=False)
    done = CliRunner().invoke(app, ["fit", "--history", str(h), "--reps", str(r), "--out",
                                    str(tmp_path / "m.joblib")])
    assert done.exit_code == 2
    assert "history.csv" in done.output and "row 5" in done.output
    assert "propensity" in done.output and not (tmp_path / "m.joblib").exists()
