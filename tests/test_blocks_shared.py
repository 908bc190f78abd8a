"""The shared group and the forward order of models.blocks.select_blocks: tiny hand-built
designs (one lead column, many reps), so each rule is seen on its own."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.model_selection import StratifiedKFold

from models import AffinityModel
from models.blocks import Block, Folds, _forward_order, candidate_blocks, select_blocks
from models.synthetic_family import FamilyWorld, family_config


def _world(effect: float, n: int = 1500, seed: int = 0):
    """Leads of 3 colours, 60 reps; each rep's rate depends on the colour by a random
    rep-specific amount scaled by ``effect`` (0: no rep × colour signal)."""
    rng = np.random.default_rng(seed)
    colour, rep = rng.integers(0, 3, size=n), rng.integers(0, 60, size=n)
    skill = rng.normal(0.0, 1.0, size=(60, 3))
    p = 1.0 / (1.0 + np.exp(-(-1.0 + effect * skill[rep, colour])))
    y = (rng.uniform(size=n) < p).astype(np.int64)
    u, v = np.eye(3)[colour], np.eye(60)[rep]
    block = Block("rep_id × colour", np.arange(3), np.arange(60), identity=True)
    splits = tuple(StratifiedKFold(3, shuffle=True, random_state=0).split(u, y))
    return sp.csr_matrix(u), [(block, block.columns(u, v, 1.0))], y, Folds(splits, n)


def _select(effect: float, shared_cs: tuple[float, ...], threshold: float = 1e9):
    base, candidates, y, folds = _world(effect)
    return select_blocks(base, candidates, y, folds, C=0.3, block_cs=(0.3,),
                         threshold=threshold, max_iter=200, shared_cs=shared_cs)


def test_a_block_too_weak_for_its_own_penalty_enters_the_shared_group() -> None:
    choice = _select(effect=0.8, shared_cs=(0.03, 0.01))
    assert choice.own == {} and choice.shared == {"rep_id × colour": 0.03}
    last = choice.log[-1]
    assert last.stage == "shared" and last.kept and last.gain > 0


def test_a_shared_group_that_clearly_hurts_is_rejected() -> None:
    """Pure noise, 180 columns on 1,000 training rows at a light penalty: overfits."""
    choice = _select(effect=0.0, shared_cs=(1000.0,))
    assert choice.shared == {}
    last = choice.log[-1]
    assert last.stage == "shared" and not last.kept and last.gain < -2 * last.se


def test_a_block_kept_on_its_own_is_not_in_the_shared_group() -> None:
    choice = _select(effect=1.5, shared_cs=(0.003,), threshold=1.0)
    assert list(choice.own) == ["rep_id × colour"] and choice.shared == {}
    assert choice.all_blocks() == choice.own


def test_match_blocks_are_tried_first() -> None:
    """A match (1 column) goes before a product block with a higher gain / SE."""
    one = np.array([0], dtype=np.intp)
    product = (Block("territory × territory", one, one), sp.csr_matrix((1, 1)))
    match = (Block("match: territory in territory", one, one, match=True), sp.csr_matrix((1, 1)))
    other = (Block("desk × channel", one, one), sp.csr_matrix((1, 1)))
    screened = [(3.0, 0, 0.1), (1.2, 1, 0.3), (2.0, 2, 0.1)]
    order = _forward_order(screened, [product, match, other])
    assert [k for _, k, _ in order] == [1, 0, 2]


def test_the_fitted_model_names_own_and_shared_blocks_apart() -> None:
    world = FamilyWorld(family_config("mixed, weak", n_history=3000))
    model = AffinityModel().fit(world.history(), world.reps)
    own, shared = set(model.blocks_), set(model.shared_blocks_)
    assert shared and not own & shared
    assert own | shared == {b.name for b in candidate_blocks(model.schema_)}
    assert any(f"{len(shared)} other blocks under one shared penalty" in line
               for line in model.describe_fit())
    assert AffinityModel(blocks="all", C=0.1).fit(world.history(), world.reps).shared_blocks_ == ()
