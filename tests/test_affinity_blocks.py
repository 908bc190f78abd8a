"""Interaction blocks chosen from the data (models.blocks): a planted block is found, an
empty one is rejected, the choice is deterministic with a seed, and the fitted structure
is stored and printable. Small data: a few thousand rows, few columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models import AffinityModel
from models.blocks import candidate_blocks, resolve_blocks
from models.synthetic_family import FamilyWorld, family_config


def _planted(n: int = 4000, seed: int = 0, effect: float = 1.2) -> tuple[pd.DataFrame,
                                                                          pd.DataFrame]:
    """Reps have a desk; leads a channel and a colour. Only desk × channel matters (when
    ``effect`` > 0); colour and the rep's hobby are noise. 150 reps: ``rep_id × channel``
    could express the same effect, with 150 times the parameters."""
    rng = np.random.default_rng(seed)
    reps = pd.DataFrame({"rep_id": [f"R{j}" for j in range(150)], "desk": ["a", "b"] * 75,
                         "hobby": np.random.default_rng(99).choice(["x", "y", "z"], 150)})
    channel = rng.choice(["web", "call"], size=n)
    rep = rng.integers(0, 150, size=n)
    desk_a = (rep % 2 == 0)
    logit = -1.0 + effect * np.where(desk_a == (channel == "web"), 0.5, -0.5)
    history = pd.DataFrame({
        "channel": channel, "colour": rng.choice(["red", "blue", "green"], size=n),
        "rep_id": reps["rep_id"].to_numpy()[rep],
        "converted": (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int),
    })
    return history, reps


def test_a_planted_block_is_found() -> None:
    history, reps = _planted()
    model = AffinityModel(cv=3).fit(history, reps)
    assert "desk × channel" in model.blocks_
    assert not any("colour" in name or "hobby" in name for name in model.blocks_)


def test_an_empty_block_is_rejected() -> None:
    """Without the effect, the same block is kept in at most one of four seeds (the rule
    admits a block one standard error above zero: rare false positives, by design)."""
    kept = 0
    for seed in range(4):
        history, reps = _planted(n=3000, seed=seed, effect=0.0)
        kept += "desk × channel" in AffinityModel(cv=3).fit(history, reps).blocks_
    assert kept <= 1


def test_the_choice_is_deterministic_with_a_seed() -> None:
    history, reps = _planted(effect=0.6)
    first = AffinityModel(random_state=3).fit(history, reps)
    second = AffinityModel(random_state=3).fit(history, reps)
    assert first.blocks_ == second.blocks_
    assert first.block_scores_ == second.block_scores_
    assert first.C_ == second.C_


def test_blocks_by_name_all_and_none() -> None:
    history, reps = _planted()
    named = AffinityModel(blocks=("desk × channel",), C=0.3).fit(history, reps)
    assert named.blocks_ == ("desk × channel",) and named.C_ == 0.3
    assert AffinityModel(blocks="none").fit(history, reps).blocks_ == ()
    every = AffinityModel(blocks="all", C=0.1).fit(history, reps)
    assert len(every.blocks_) == len(candidate_blocks(every.schema_))
    with pytest.raises(ValueError, match="unknown interaction block"):
        AffinityModel(blocks=("desk × nothing",)).fit(history, reps)
    with pytest.raises(ValueError, match="unknown interaction block"):
        resolve_blocks("nope", candidate_blocks(every.schema_))


def test_scores_equal_the_design_logits() -> None:
    """The bilinear W folds every kept block in (penalty scales included)."""
    history, reps = _planted(effect=1.0)
    model = AffinityModel(blocks=("desk × channel", "rep_id × channel")).fit(history, reps)
    rows = history.iloc[:50]
    design = model._design(model._encode_rows(
        rows, model.reps_.set_index("rep_id").loc[rows["rep_id"]].reset_index(), "t"))
    direct = model.calibration_(model.estimator_.decision_function(design))
    assert np.allclose(model.predict_proba(rows)[:, 1], direct)
    matrix = model.score_matrix(rows, reps)
    at = pd.Index(reps["rep_id"]).get_indexer(rows["rep_id"])
    assert np.allclose(matrix[np.arange(50), at], direct)


def test_the_fitted_structure_is_described() -> None:
    history, reps = _planted()
    lines = AffinityModel().fit(history, reps).describe_fit()
    assert "desk × channel" in lines[0]
    assert any(line.startswith("C = ") and "cross-validated" in line for line in lines)


def test_family_worlds_name_blocks_the_model_knows() -> None:
    world = FamilyWorld(family_config("region match", n_history=3000))
    model = AffinityModel(blocks=world.config.true_blocks).fit(world.history(), world.reps)
    assert model.blocks_ == ("match: territory in territory",)
    assert world.true_probability(world.leads(10), world.reps).shape == (10, 40)
    assert FamilyWorld(family_config("no rep signal")).config.true_blocks == ()
    with pytest.raises(ValueError, match="no world"):
        family_config("atlantis")
