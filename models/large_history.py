"""Fitting the affinity model on a history larger than memory: a seeded row sample read
from Parquet in record batches.

The learner of :class:`models.AffinityModel` does not learn incrementally (scikit-learn's
LogisticRegression has no ``partial_fit``), so the
model is fitted on a **uniform Bernoulli sample** of the history rows:

    row i (0-based, file order) is kept  iff  splitmix64(seed, i) / 2**64 < max_rows / N

where N is the row count from the Parquet footer. The decision depends only on
``(seed, i)``: the same seed gives the same sample whatever the batch size, and the
expected sample size is ``max_rows`` (binomial around it). A uniform sample keeps the
base conversion rate, so the model stays calibrated; it does not keep rare segments in
full. Memory: one record batch plus the sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class HistorySample:
    rows: pd.DataFrame  # the kept rows, file order
    total_rows: int  # N, from the Parquet footer
    rate: float  # min(1, max_rows / N)
    seed: int


def _uniform(seed: int, index: npt.NDArray[np.uint64]) -> npt.NDArray[np.float64]:
    """splitmix64 of (seed, row index) → uniform [0, 1): counter-based, order-free."""
    with np.errstate(over="ignore"):
        z = index + np.uint64(seed & 0xFFFFFFFF) * _GOLDEN + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def sample_parquet(path: str | Path, max_rows: int, *, seed: int = 0,
                   batch_rows: int = 65_536, columns: list[str] | None = None
                   ) -> HistorySample:
    """Read ``path`` (a Parquet file) batch by batch and keep the seeded sample."""
    import pyarrow.parquet as pq

    if max_rows < 1:
        raise ValueError("max_rows must be at least 1")
    source = pq.ParquetFile(str(path))
    total = int(source.metadata.num_rows)
    rate = min(1.0, max_rows / total) if total else 1.0
    kept: list[pd.DataFrame] = []
    start = 0
    for batch in source.iter_batches(batch_size=batch_rows, columns=columns):
        index = np.arange(start, start + batch.num_rows, dtype=np.uint64)
        start += batch.num_rows
        keep = _uniform(seed, index) < rate
        if keep.any():
            kept.append(batch.to_pandas().loc[keep])
    rows = (pd.concat(kept, ignore_index=True) if kept
            else source.schema_arrow.empty_table().to_pandas())
    return HistorySample(rows=rows, total_rows=total, rate=rate, seed=seed)


def fit_on_parquet_history(path: str | Path, reps: pd.DataFrame, *, max_rows: int = 1_000_000,
                           seed: int = 0, **params: object) -> tuple[object, HistorySample]:
    """Fit :class:`models.AffinityModel` (``params`` as its constructor's) on the seeded
    sample of a Parquet history; returns the model and the sample's description."""
    from models.affinity import AffinityModel

    sample = sample_parquet(path, max_rows, seed=seed)
    model = AffinityModel(**params).fit(sample.rows, reps)  # type: ignore[arg-type]
    return model, sample
