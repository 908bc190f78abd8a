"""``leadroute route --partition-by COLS [--spark MASTER]``: route a batch partition by
partition, serially in this process or on Spark, reading and writing Parquet or CSV.

Serial: one output file (CSV or Parquet by suffix), written whole or not at all.
Spark: a Spark dataset folder (part files) written to a staging folder next to ``--out``
(``OUT.staging-*``) and moved into place only when every partition succeeded. In both modes a failed
partition stops the output (exit 2, one line naming each failed partition's key).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from solver import Scorer, SolveOptions
from solver.app._io import write_csv_atomic
from solver.contract_tables import read_raw
from solver.errors import InputError, PartitionsFailed
from solver.partitioning import (
    ERROR_STATUS,
    PartitionJob,
    failed_partitions,
    plan_job,
    route_partitions,
)
from solver.policy import Policy, PolicyInputs

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def nothing_routed(out: Path) -> str:
    """The summary line of a batch without leads (a normal scheduled run)."""
    return f"nothing routed: the batch has no leads; header-only assignments written to {out}"


@dataclass(frozen=True, kw_only=True)
class PartitionedRun:
    leads: Path
    reps: Path
    out: Path
    partition_by: tuple[str, ...]
    scores: Path | None = None
    model: Path | None = None
    spark: str | None = None  # local[N] or a master URL; None = serial in this process
    policy: Policy = Policy()
    inputs: PolicyInputs = PolicyInputs()
    options: SolveOptions = SolveOptions()
    strategy: str = "optimal"


@dataclass(frozen=True)
class PartitionedSummary:
    counts: dict[str, int]
    n_partitions: int
    out: Path


def parse_columns(text: str | None) -> tuple[str, ...]:
    return tuple(c.strip() for c in (text or "").split(",") if c.strip())


def _format(path: Path) -> str:
    if path.suffix.lower() in (".parquet", ".pq"):
        return "parquet"
    if path.is_dir() and any(path.glob("*.parquet")):
        return "parquet"
    return "csv"


def read_table(path: Path, name: str, *, allow_empty: bool = False) -> pd.DataFrame:
    """CSV (all cells as text, as the serial loaders read it) or Parquet; a header-only
    CSV is an error unless ``allow_empty`` (a batch with no leads is valid)."""
    if _format(path) == "csv":
        return read_raw(path, name, allow_empty=allow_empty)[0]
    if not path.exists():
        raise InputError("file not found", source=str(path))
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"not a readable Parquet file ({exc})", source=str(path)) from None


def _scorer(model: Path | None) -> Scorer | None:
    if model is None:
        return None
    from solver.app.scoring import model_scorer  # the app layer may import models

    return model_scorer(model, blank_missing_attributes=False)


def run_partitioned(run: PartitionedRun) -> PartitionedSummary:
    if (run.scores is None) == (run.model is None):
        raise InputError("give exactly one of --scores or --model", source="command line")
    reps = read_table(run.reps, "reps")
    job = plan_job(reps, run.partition_by, policy=run.policy, inputs=run.inputs,
                   options=run.options, strategy=run.strategy, scorer=_scorer(run.model))
    if run.spark is None:
        return _serial(run, job)
    return _on_spark(run, reps)


def _serial(run: PartitionedRun, job: PartitionJob) -> PartitionedSummary:
    leads = read_table(run.leads, "leads", allow_empty=True)
    scores = (read_table(run.scores, "scores", allow_empty=leads.empty)
              if run.scores is not None else None)
    out = route_partitions(leads, job, scores)
    _raise_failures(failed_partitions(out))
    _write_pandas(out, run.out)
    keys = out[list(run.partition_by)].drop_duplicates()
    counts = {str(k): int(v) for k, v in out["status"].value_counts().items()}
    return PartitionedSummary(counts=counts,
                              n_partitions=len(keys), out=run.out)


def _write_pandas(frame: pd.DataFrame, path: Path) -> None:
    if _format(path) == "csv":
        write_csv_atomic(frame, path)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        frame.to_parquet(tmp, index=False)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _raise_failures(failures: list[str]) -> None:
    if not failures:
        return
    raise PartitionsFailed(
        f"{len(failures)} partition(s) failed, nothing written: " + "; ".join(failures))


def _on_spark(run: PartitionedRun, reps: pd.DataFrame) -> PartitionedSummary:
    from pyspark.sql import functions as F

    from solver.app.spark import route_spark, spark_session

    assert run.spark is not None
    spark = spark_session(run.spark)
    leads = _spark_read(spark, run.leads)
    scores = _spark_read(spark, run.scores) if run.scores is not None else None
    result = route_spark(leads, reps, partition_by=run.partition_by, scores=scores,
                         scorer=_scorer(run.model), policy=run.policy, inputs=run.inputs,
                         options=run.options, strategy=run.strategy)
    fmt = _format(run.out)
    # not a hidden name: Spark's readers skip paths starting with "." or "_"
    staging = run.out.with_name(f"{run.out.name}.staging-{uuid.uuid4().hex[:8]}")
    fs = _HadoopFs(spark)
    try:
        writer = result.write.mode("error")
        if fmt == "csv":
            writer.option("header", "true").csv(str(staging))
        else:
            writer.parquet(str(staging))
        written = (spark.read.parquet(str(staging)) if fmt == "parquet" else
                   spark.read.option("header", "true").csv(str(staging)))
        # one small job: per partition and status, a count and (for failures) the reason
        cells = written.groupBy(*run.partition_by, "status").agg(
            F.count(F.lit(1)).alias("n"), F.first("reason").alias("reason")).collect()
        _raise_failures(sorted(str(row["reason"]) for row in cells
                               if row["status"] == ERROR_STATUS))
        counts: dict[str, int] = {}
        for row in cells:
            counts[str(row["status"])] = counts.get(str(row["status"]), 0) + int(row["n"])
        n_partitions = len({tuple(row[c] for c in run.partition_by) for row in cells})
        fs.replace(staging, run.out)
    finally:
        fs.delete(staging)
    return PartitionedSummary(counts=counts, n_partitions=n_partitions, out=run.out)


def _spark_read(spark: SparkSession, path: Path) -> DataFrame:
    if not path.exists() and "://" not in str(path):
        raise InputError("file not found", source=str(path))
    if _format(path) == "parquet":
        return spark.read.parquet(str(path))
    # every cell as text, empty cells as null: what the serial CSV loaders see
    return spark.read.option("header", "true").option("inferSchema", "false").csv(str(path))


class _HadoopFs:
    """Delete and rename through Hadoop's FileSystem, so HDFS/S3/DBFS paths work too."""

    def __init__(self, spark: object) -> None:
        self._jvm = spark._jvm  # type: ignore[attr-defined]
        self._conf = spark._jsc.hadoopConfiguration()  # type: ignore[attr-defined]

    def _path(self, path: Path) -> tuple[object, object]:
        jpath = self._jvm.org.apache.hadoop.fs.Path(str(path))
        return jpath, jpath.getFileSystem(self._conf)

    def delete(self, path: Path) -> None:
        jpath, fs = self._path(path)
        if fs.exists(jpath):  # type: ignore[attr-defined]
            fs.delete(jpath, True)  # type: ignore[attr-defined]

    def replace(self, source: Path, target: Path) -> None:
        src, fs = self._path(source)
        dst, _ = self._path(target)
        old = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.old")
        old_path, _ = self._path(old)
        had_old = bool(fs.exists(dst))  # type: ignore[attr-defined]
        if had_old and not fs.rename(dst, old_path):  # type: ignore[attr-defined]
            raise OSError(f"cannot move the previous {target} aside")
        if not fs.rename(src, dst):  # type: ignore[attr-defined]
            if had_old:
                fs.rename(old_path, dst)  # type: ignore[attr-defined]
            raise OSError(f"cannot move the output into {target}")
        if had_old:
            fs.delete(old_path, True)  # type: ignore[attr-defined]


def run_from_cli(
    *, leads: Path, reps: Path, out: Path, scores: Path | None, model: Path | None,
    options: SolveOptions, strategy: str, policy: Policy, owners: Path | None,
    as_of: str | None, partition_by: str | None, spark: str | None, quiet: bool,
    unsupported: dict[str, Path | None],
) -> None:
    """The ``route`` command's partitioned branch (flags already parsed by Typer)."""
    from rich.console import Console

    from solver.policy import load_owners

    given = [flag for flag, value in unsupported.items() if value is not None]
    if given:
        raise InputError(f"{', '.join(given)} cannot be combined with partitioned routing yet",
                         source="command line")
    columns = parse_columns(partition_by) or policy.partition_by
    if not columns:
        raise InputError("--spark needs --partition-by or a policy with partition_by",
                         source="command line")
    owner_map: dict[str, str] = {}
    if owners is not None:
        rep_ids = read_table(reps, "reps")["rep_id"].astype(str).str.strip().drop_duplicates()
        owner_map = dict(load_owners(owners, rep_ids=rep_ids))
    stamp = None
    if as_of is not None:
        try:
            stamp = pd.Timestamp(as_of)
        except ValueError:
            raise InputError(f"--as-of: not a date: {as_of!r}", source="command line") from None
    run = PartitionedRun(leads=leads, reps=reps, out=out, partition_by=columns, scores=scores,
                         model=model, spark=spark, policy=policy,
                         inputs=PolicyInputs(owners=owner_map, as_of=stamp), options=options,
                         strategy=strategy)
    summary = run_partitioned(run)
    if not quiet and not summary.counts:
        Console().print(nothing_routed(summary.out))
    elif not quiet:
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(summary.counts.items()))
        where = f"on Spark ({spark})" if spark else "serially"
        Console().print(f"routed {sum(summary.counts.values())} leads in "
                        f"{summary.n_partitions} partitions {where} ({counts})")
        Console().print(f"assignments written to {summary.out}")
