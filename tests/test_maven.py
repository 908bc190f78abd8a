"""The Maven CRM export as contract tables (skipped when the data folder is absent)."""

from __future__ import annotations

import numpy as np
import pytest

from models import AffinityModel
from models.maven import find_maven_dir, load_maven_crm

SRC = find_maven_dir()
pytestmark = pytest.mark.skipif(
    SRC is None,
    reason="maven-crm data not found: set LEADROUTE_DATA to the shared data folder "
    "(or place it at ../shared/data/maven-crm next to the repository)",
)


@pytest.fixture(scope="module")
def tables():  # type: ignore[no-untyped-def]
    assert SRC is not None
    return load_maven_crm(SRC)


def test_closed_deals_only_with_documented_counts(tables) -> None:  # type: ignore[no-untyped-def]
    history = tables.history
    assert len(history) == 6711  # Won 4238 + Lost 2473
    assert int(history["converted"].sum()) == 4238
    assert history["lead_id"].is_unique and history["account_id"].notna().all()
    assert history["assigned_at"].is_monotonic_increasing
    assert history["rep_id"].nunique() == 30 and len(tables.reps) == 35


def test_close_value_only_becomes_revenue_never_a_feature(tables) -> None:  # type: ignore[no-untyped-def]
    history = tables.history
    assert "close_value" not in history.columns
    assert (history.loc[history["converted"] == 0, "revenue"] == 0).all()
    model = AffinityModel(cv=2).fit(history, tables.reps)
    assert "revenue" not in model.schema_.lead_columns
    assert "propensity" not in model.schema_.lead_columns
    # a value that is known before the outcome: the product's list price
    assert history.groupby("product")["value"].nunique().max() == 1


def test_quirks_are_fixed(tables) -> None:  # type: ignore[no-untyped-def]
    history = tables.history
    assert "GTXPro" not in set(history["product"]) and "GTX Pro" in set(history["product"])
    assert "technolgy" not in set(history["sector"])
    assert "Philipines" not in set(history["office_location"])
    assert {"Central", "East", "West"} == set(tables.reps["region"])


def test_reps_without_deals_are_cold_start_reps(tables) -> None:  # type: ignore[no-untyped-def]
    reps = tables.reps
    idle = reps[~reps["rep_id"].isin(tables.history["rep_id"])]
    assert len(idle) == 5 and idle["start_date"].isna().all()
    assert (reps["capacity"] >= 1).all() and reps["rep_id"].is_unique
    model = AffinityModel(cv=2).fit(tables.history, reps)
    scores = model.score_matrix(tables.history.iloc[:50], reps)
    assert scores.shape == (50, 35) and np.isfinite(scores).all()


def test_missing_folder_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from models import DataError

    with pytest.raises(DataError, match="sales_pipeline.csv: file not found"):
        load_maven_crm(tmp_path)
