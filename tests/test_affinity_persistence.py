"""save_model / load_affinity_model: round trip, metadata, and clear refusals."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import joblib
import numpy as np
import pytest

from models import AffinityModel, ModelError, build_metadata, load_affinity_model, save_model
from models.persistence import FORMAT, load_model_file
from models.synthetic import SyntheticWorld, WorldConfig

WORLD = SyntheticWorld(WorldConfig(n_reps=8, n_new_reps=1, n_accounts=200, n_history=2000))


@pytest.fixture(scope="module")
def model() -> AffinityModel:
    return AffinityModel(cv=2).fit(WORLD.history(), WORLD.reps)


def test_round_trip_scores_identically_and_keeps_metadata(
    model: AffinityModel, tmp_path: Path
) -> None:
    path = save_model(model, tmp_path / "sub" / "model.joblib")
    loaded, meta = load_model_file(path)
    leads = WORLD.leads(100, seed=2)
    np.testing.assert_array_equal(loaded.score_matrix(leads, WORLD.reps),
                                  model.score_matrix(leads, WORLD.reps))
    assert meta.training_rows == 2000
    assert meta.training_period is not None and meta.training_period[0].startswith("2023-01-01")
    assert "industry" in meta.lead_columns and "industries" in meta.rep_columns
    assert any("match: lead industry in rep industries" in line for line in meta.schema)
    assert meta.versions.sklearn and meta.validation is None
    assert isinstance(load_affinity_model(path), AffinityModel)
    assert not list(path.parent.glob("*.tmp"))


def _rewrite(path: Path, change: object) -> None:
    payload = joblib.load(path)
    payload.update(change)  # type: ignore[call-overload]
    joblib.dump(payload, path)


def test_refusals_are_one_clear_line(model: AffinityModel, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="model file not found"):
        load_affinity_model(tmp_path / "nope.joblib")
    garbage = tmp_path / "garbage.joblib"
    garbage.write_text("not a pickle")
    with pytest.raises(ModelError, match="not a readable model file"):
        load_affinity_model(garbage)
    other = tmp_path / "other.joblib"
    joblib.dump({"format": "something-else"}, other)
    with pytest.raises(ModelError, match="not a leadroute affinity model file"):
        load_affinity_model(other)

    old = save_model(model, tmp_path / "old.joblib")
    meta = build_metadata(model)
    stale = dataclasses.replace(
        meta, versions=dataclasses.replace(meta.versions, sklearn="0.24.2")
    )
    _rewrite(old, {"metadata": stale})
    with pytest.raises(ModelError, match=r"saved with scikit-learn 0\.24\.2.*refit"):
        load_affinity_model(old)

    tampered = save_model(model, tmp_path / "tampered.joblib")
    _rewrite(tampered, {"metadata": dataclasses.replace(meta, schema_digest="0" * 16)})
    with pytest.raises(ModelError, match="feature schema .* does not match"):
        load_affinity_model(tampered)

    swapped = save_model(model, tmp_path / "swapped.joblib")
    _rewrite(swapped, {"model": "not a model", "format": FORMAT})
    with pytest.raises(ModelError, match="damaged"):
        load_affinity_model(swapped)


def test_save_rejects_what_it_cannot_save(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="expected an AffinityModel"):
        save_model("model", tmp_path / "m.joblib")  # type: ignore[arg-type]
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        save_model(AffinityModel(), tmp_path / "m.joblib")
    assert not (tmp_path / "m.joblib").exists()


def _as_legacy(model: AffinityModel) -> AffinityModel:
    """The same fitted model as a file written before blocks were chosen would hold it:
    an ``interactions`` parameter, no ``blocks`` and none of the new fitted attributes."""
    state = {k: v for k, v in model.__dict__.items()
             if k not in ("blocks", "block_threshold", "blocks_", "block_scores_",
                          "block_penalties_", "C_", "C_scores_", "_block_specs")}
    state["interactions"] = True
    state["C"] = 0.1  # the old fixed default
    old = AffinityModel.__new__(AffinityModel)
    old.__setstate__(state)
    return old


def test_models_saved_before_block_selection_still_load_and_score(
    model: AffinityModel, tmp_path: Path
) -> None:
    path = save_model(model, tmp_path / "old.joblib")
    legacy = _as_legacy(model)
    _rewrite(path, {"model": legacy})
    loaded = load_affinity_model(path)
    leads = WORLD.leads(50, seed=3)
    np.testing.assert_allclose(loaded.score_matrix(leads, WORLD.reps),
                               model.score_matrix(leads, WORLD.reps))
    assert loaded.get_params()["blocks"] == "all"
    assert loaded.describe_fit()
    hgb = _as_legacy(model)
    hgb.learner = "hgb"
    _rewrite(path, {"model": hgb})
    with pytest.raises(ModelError, match="hgb model saved by an older leadroute"):
        load_affinity_model(path)


def test_metadata_stores_the_chosen_structure(model: AffinityModel) -> None:
    meta = build_metadata(model)
    assert meta.structure == model.describe_fit()
    assert any(line.startswith("C = ") for line in meta.structure)
