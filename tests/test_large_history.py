"""History larger than memory: the seeded Parquet sample is reproducible, independent of
the batch size, near its target size, and fits the affinity model."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from models.large_history import fit_on_parquet_history, sample_parquet
from models.synthetic import SyntheticWorld, WorldConfig

pytest.importorskip("pyarrow", reason="pyarrow is not installed: pip install -e '.[spark]'")


@pytest.fixture(scope="module")
def world_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    world = SyntheticWorld(WorldConfig(seed=2, n_history=4000, n_reps=6, n_new_reps=0,
                                       history_days=10))
    path = tmp_path_factory.mktemp("history") / "history.parquet"
    world.history().to_parquet(path, index=False, row_group_size=500)
    return path, world.reps


def test_sample_is_seeded_and_independent_of_the_batch_size(
        world_files: tuple[Path, pd.DataFrame]) -> None:
    path, _ = world_files
    a = sample_parquet(path, 1000, seed=5, batch_rows=300)
    b = sample_parquet(path, 1000, seed=5, batch_rows=4096)
    c = sample_parquet(path, 1000, seed=6, batch_rows=300)
    pd.testing.assert_frame_equal(a.rows, b.rows)
    assert not a.rows["lead_id"].equals(c.rows["lead_id"])
    assert a.total_rows == 4000 and a.rate == 0.25
    assert 850 <= len(a.rows) <= 1150  # binomial(4000, 0.25): sd 27


def test_all_rows_when_the_file_is_small(world_files: tuple[Path, pd.DataFrame]) -> None:
    path, _ = world_files
    assert len(sample_parquet(path, 10_000).rows) == 4000


def test_fit_on_the_sample(world_files: tuple[Path, pd.DataFrame]) -> None:
    path, reps = world_files
    model, sample = fit_on_parquet_history(path, reps, max_rows=1500, seed=1)
    scores = model.score_matrix(sample.rows.head(5), reps)  # type: ignore[attr-defined]
    assert scores.shape == (5, len(reps))
