"""save_model / load_affinity_model: round trip, metadata, and clear refusals."""

from __future__ import annotations

import dataclasses
import io
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest

from models import (
    AffinityModel,
    ModelError,
    PairScorer,
    build_metadata,
    load_affinity_model,
    load_pair_scorer,
    save_model,
)
from models.persistence import FORMAT, FORMAT_1, load_model_file
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
    assert joblib.load(path)["format"] == FORMAT
    assert not list(path.parent.glob("*.tmp"))


def _rewrite(path: Path, change: dict[str, object]) -> None:
    """Change entries of the estimator's payload (metadata, model) inside the file."""
    payload = joblib.load(path)
    inner = joblib.load(io.BytesIO(payload["estimator"]))
    inner.update(change)
    buffer = io.BytesIO()
    joblib.dump(inner, buffer)
    payload["estimator"] = buffer.getvalue()
    joblib.dump(payload, path)


def _as_first_format(model: AffinityModel, path: Path) -> Path:
    """A file as leadroute wrote it before the scorer was stored apart."""
    joblib.dump({"format": FORMAT_1, "metadata": build_metadata(model), "model": model}, path)
    return path


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
    _rewrite(swapped, {"model": "not a model"})
    with pytest.raises(ModelError, match="damaged"):
        load_affinity_model(swapped)


BOTH = (load_affinity_model, load_pair_scorer)


@pytest.mark.parametrize(("change", "match", "loaders"), [
    ({"format": "something-else"}, "not a leadroute affinity model file", BOTH),
    ({"scorer": "not a scorer"}, "damaged", (load_pair_scorer,)),
    ({"schema_digest": "0" * 16}, "feature schema .* does not match", (load_pair_scorer,)),
    ({"estimator": b"not a pickle"}, "not a readable model file", (load_affinity_model,)),
    ({"estimator": None}, "damaged", (load_affinity_model,)),
])
def test_a_damaged_file_is_refused(model: AffinityModel, tmp_path: Path,
                                   change: dict[str, object], match: str,
                                   loaders: tuple[object, ...]) -> None:
    path = save_model(model, tmp_path / "model.joblib")
    payload = joblib.load(path)
    payload.update(change)
    joblib.dump(payload, path)
    for load in loaders:
        with pytest.raises(ModelError, match=match):
            load(path)  # type: ignore[operator]


def test_the_pair_scorer_scores_as_the_model_and_loads_without_scikit_learn(
    model: AffinityModel, tmp_path: Path
) -> None:
    path = save_model(model, tmp_path / "model.joblib")
    scorer = load_pair_scorer(path)
    assert isinstance(scorer, PairScorer)
    leads = WORLD.leads(60, seed=4)
    np.testing.assert_array_equal(scorer.score_matrix(leads, WORLD.reps),
                                  model.score_matrix(leads, WORLD.reps))
    # a fresh process: what `leadroute route --model` pays for
    probe = ("import sys; from models import load_pair_scorer; "
             f"load_pair_scorer({str(path)!r}); "
             "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sklearn'))")
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    assert loaded.stdout.strip() == "[]"


def test_files_of_the_first_format_still_load_and_score(model: AffinityModel,
                                                        tmp_path: Path) -> None:
    path = _as_first_format(model, tmp_path / "first.joblib")
    leads = WORLD.leads(40, seed=5)
    expected = model.score_matrix(leads, WORLD.reps)
    np.testing.assert_array_equal(load_pair_scorer(path).score_matrix(leads, WORLD.reps),
                                  expected)
    np.testing.assert_array_equal(load_affinity_model(path).score_matrix(leads, WORLD.reps),
                                  expected)


def test_a_model_fitted_on_arrays_saves_but_cannot_score_batches(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] + rng.normal(size=200) > 0).astype(int)
    path = save_model(AffinityModel(cv=2).fit(X, y), tmp_path / "arrays.joblib")
    assert isinstance(load_affinity_model(path), AffinityModel)
    with pytest.raises(ModelError, match="fitted on feature arrays"):
        load_pair_scorer(path)


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
