"""The synthetic world: seeded, contract-shaped, and its truth behaves as documented."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.synthetic import SyntheticWorld, WorldConfig

SMALL = WorldConfig(n_reps=12, n_new_reps=2, n_accounts=300, n_history=3000, seed=5)


@pytest.fixture(scope="module")
def world() -> SyntheticWorld:
    return SyntheticWorld(SMALL)


def test_same_seed_same_world_other_seed_other_world() -> None:
    a, b = SyntheticWorld(SMALL), SyntheticWorld(SMALL)
    pd.testing.assert_frame_equal(a.history(), b.history())
    pd.testing.assert_frame_equal(a.leads(50, seed=1), b.leads(50, seed=1))
    c = SyntheticWorld(WorldConfig(**{**SMALL.__dict__, "seed": 6}))
    assert not a.history()["converted"].equals(c.history()["converted"])
    assert not a.leads(50, seed=1)["value"].equals(a.leads(50, seed=2)["value"])


def test_tables_carry_the_contract_columns(world: SyntheticWorld) -> None:
    assert {"rep_id", "capacity", "active", "weight", "start_date", "region", "team",
            "seniority", "industries", "max_deal_value"} <= set(world.reps.columns)
    leads = world.leads(20, seed=3)
    assert {"lead_id", "account_id", "value", "effort", "created_at", "region", "industry",
            "company_size", "deal_size"} <= set(leads.columns)
    assert leads["lead_id"].is_unique
    history = world.history()
    assert {"rep_id", "converted", "assigned_at", "revenue", "propensity"} <= set(history.columns)
    assert set(history["converted"].unique()) <= {0, 1}
    assert history["assigned_at"].is_monotonic_increasing
    assert ((history["propensity"] > 0) & (history["propensity"] <= 1)).all()
    assert (history.loc[history["converted"] == 0, "revenue"] == 0).all()


def test_new_reps_have_no_history(world: SyntheticWorld) -> None:
    new = world.reps["rep_id"].iloc[-SMALL.n_new_reps:]
    assert not world.history()["rep_id"].isin(new).any()
    assert world.history()["rep_id"].nunique() == SMALL.n_reps - SMALL.n_new_reps


def test_logged_propensity_is_the_policy_probability(world: SyntheticWorld) -> None:
    history = world.history()
    matrix = world.logging_propensity(history, world.reps)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0)
    col = world.reps.set_index("rep_id").index.get_indexer(history["rep_id"])
    np.testing.assert_allclose(matrix[np.arange(len(history)), col], history["propensity"])
    # empirical home-region share matches 1 - explore (+ the explore mass landing at home)
    home = world.reps.set_index("rep_id").loc[history["rep_id"], "region"].to_numpy()
    share = float(np.mean(home == history["region"].to_numpy()))
    expected = (1 - SMALL.explore) + SMALL.explore * 0.25
    assert abs(share - expected) < 0.03


def test_true_probability_shape_range_and_subset(world: SyntheticWorld) -> None:
    leads = world.leads(30, seed=4)
    p = world.true_probability(leads, world.reps)
    assert p.shape == (30, SMALL.n_reps)
    assert ((p > 0) & (p < 1)).all()
    subset = world.reps.iloc[[5, 2]]
    np.testing.assert_allclose(world.true_probability(leads, subset), p[:, [5, 2]])
    with pytest.raises(ValueError, match="not a rep of this synthetic world"):
        world.true_probability(leads, pd.DataFrame({"rep_id": ["nobody"]}))


def test_effect_size_zero_means_reps_do_not_matter() -> None:
    flat = SyntheticWorld(WorldConfig(**{**SMALL.__dict__, "effect_size": 0.0}))
    p = flat.true_probability(flat.leads(40, seed=1), flat.reps)
    assert np.allclose(p, p[:, :1])
    rich = SyntheticWorld(SMALL).true_probability(flat.leads(40, seed=1), flat.reps)
    assert rich.std(axis=1).mean() > 0.05


def test_planted_effects_show_in_the_truth(world: SyntheticWorld) -> None:
    leads = world.leads(2000, seed=9)
    p = world.true_probability(leads, world.reps)
    same_region = leads["region"].to_numpy()[:, None] == world.reps["region"].to_numpy()[None]
    assert p[same_region].mean() > p[~same_region].mean() + 0.03
    listed = np.array([[ind in rep.split(";") for rep in world.reps["industries"]]
                       for ind in leads["industry"]])
    assert p[listed].mean() > p[~listed].mean() + 0.03


def test_bad_config_is_rejected() -> None:
    with pytest.raises(ValueError, match="effect_size"):
        WorldConfig(effect_size=-1)
    with pytest.raises(ValueError, match="n_new_reps"):
        WorldConfig(n_reps=5, n_new_reps=5)
    with pytest.raises(ValueError, match="unknown to the synthetic world"):
        SyntheticWorld(SMALL).true_probability(
            pd.DataFrame({"industry": ["mining"], "region": ["north"],
                          "company_size": ["small"], "value": [1.0]}),
            SyntheticWorld(SMALL).reps,
        )
