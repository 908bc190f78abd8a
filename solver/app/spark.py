"""Apache Spark adapter: partitioned routing on a Spark DataFrame of leads.

Usable as is in a Databricks notebook::

    from solver.app.spark import route_spark
    assignments = route_spark(leads_df, reps_pdf, partition_by=("region", "team"),
                              scores=scores_df)

Each partition is one ``applyInPandas`` group running :func:`solver._partition.
route_partition`; the result equals :func:`solver._partition.route_partitions` (the serial
run) row for row. PySpark is imported lazily: ``pip install leadroute[spark]`` and Java
17 are needed only here.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from solver import SolveOptions
from solver.errors import InputError, PartitionError, SparkUnavailable
from solver.partitioning import (
    OUTPUT_COLUMNS,
    PartitionJob,
    Scorer,
    plan_job,
    route_partition,
    with_batch_as_of,
)
from solver.policy import Policy, PolicyInputs

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

# PySpark 4.x warns on every pandas call when pandas >= 3; the test suite runs this
# adapter on pandas 3 (tests/test_spark.py), so the warning is noise here.
_PANDAS3_WARNING = r"PySpark does not yet fully support pandas >= 3"


def quiet_pandas3_warning() -> None:
    warnings.filterwarnings("ignore", message=_PANDAS3_WARNING, category=FutureWarning)


def spark_session(master: str = "local[2]", *, app_name: str = "leadroute",
                  config: Mapping[str, str] | None = None) -> SparkSession:
    """A session whose Python workers run this interpreter (``PYSPARK_PYTHON`` must be set
    before the session starts), with Arrow on and a shuffle width fit for small clusters.
    An existing active session is returned unchanged (e.g. on Databricks)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise SparkUnavailable(
            f"PySpark is not installed ({exc}): pip install 'leadroute[spark]'") from None
    quiet_pandas3_warning()
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    builder = (SparkSession.builder.master(master).appName(app_name)
               .config("spark.ui.enabled", "false")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true")
               .config("spark.sql.shuffle.partitions", "8")
               .config("spark.sql.session.timeZone", "UTC"))
    for key, value in (config or {}).items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except Exception as exc:  # noqa: BLE001 — py4j raises plain exceptions when Java is absent
        raise SparkUnavailable(f"cannot start Spark ({master}): {exc}") from None


def output_schema(leads: DataFrame, partition_by: Sequence[str]) -> Any:
    from pyspark.sql.types import DoubleType, StringType, StructField, StructType

    fields = [leads.schema[c] for c in partition_by]
    fields += [StructField(c, DoubleType() if c == "score" else StringType(), True)
               for c in OUTPUT_COLUMNS]
    return StructType(fields)


def route_spark(
    leads: DataFrame,
    reps: pd.DataFrame | DataFrame,
    *,
    partition_by: Sequence[str] | None = None,
    scores: DataFrame | None = None,
    scorer: Scorer | None = None,
    policy: Policy | None = None,
    inputs: PolicyInputs | None = None,
    options: SolveOptions | None = None,
    strategy: str = "optimal",
) -> DataFrame:
    """Route ``leads`` partition by partition; returns a Spark DataFrame with the key
    columns then ``lead_id, rep_id, score, status, reason`` (one row per lead).

    Checks that need no routing run first and raise :class:`PartitionError` (the batch does
    not decompose) or :class:`InputError`. A partition with bad data does not stop the
    others: its leads come back with status ``error`` and the reason names its key.
    ``partition_by`` defaults to the policy's. Reps are small: they travel to every task.
    """
    policy = policy or Policy()
    columns = tuple(partition_by or policy.partition_by)
    rep_table = reps if isinstance(reps, pd.DataFrame) else _to_pandas(reps)
    job = plan_job(rep_table, columns, policy=policy, inputs=inputs, options=options,
                   strategy=strategy, scorer=scorer)
    for column in (*columns, "lead_id"):
        if column not in leads.columns:
            raise InputError("required column is missing (partition_by names it)",
                             source="leads", column=column)
    _check_accounts(leads, job)
    job = _with_as_of(leads, job)
    schema = output_schema(leads, columns)
    grouped = leads.groupBy(*columns)
    if scores is None:
        if scorer is None:
            raise InputError("give scores or a scorer (model)", source="route_spark")
        return grouped.applyInPandas(_leads_only(job), schema)
    _check_scored_leads(leads, scores)
    from pyspark.sql import functions as F

    aliases = [f"__key{i}" for i in range(len(columns))]
    lead_keys = leads.select(F.col("lead_id").alias("__lead"),
                             *[F.col(c).alias(a) for c, a in zip(columns, aliases, strict=True)])
    keyed = scores.join(lead_keys, scores["lead_id"] == lead_keys["__lead"], "inner")
    return grouped.cogroup(keyed.groupBy(*aliases)).applyInPandas(
        _leads_and_scores(job), schema)


def _leads_only(job: PartitionJob) -> Callable[[pd.DataFrame], pd.DataFrame]:
    # a plain function with pandas type hints: PySpark 4 reads the hints of the function
    # it is given (a functools.partial makes it warn)
    def route(leads: pd.DataFrame) -> pd.DataFrame:
        return route_partition(leads, None, job)

    return route


def _leads_and_scores(job: PartitionJob
                      ) -> Callable[[pd.DataFrame, pd.DataFrame], pd.DataFrame]:
    def route(leads: pd.DataFrame, scores: pd.DataFrame) -> pd.DataFrame:
        return route_partition(leads, scores, job)

    return route


def _to_pandas(frame: DataFrame) -> pd.DataFrame:
    quiet_pandas3_warning()
    return frame.toPandas()


def _check_accounts(leads: DataFrame, job: PartitionJob) -> None:
    """Accounts spanning partitions, found with one small aggregation."""
    from solver.partitioning import check_accounts

    if "account_id" not in leads.columns:
        return
    from pyspark.sql import functions as F

    pairs = leads.select("account_id", *job.partition_by).where(F.col("account_id").isNotNull())
    pairs = pairs.distinct()
    twice = (pairs.groupBy("account_id").count().where("count > 1").limit(1)
             .select("account_id"))
    rows = twice.join(pairs, "account_id").toPandas()
    check_accounts(rows, job)


def _with_as_of(leads: DataFrame, job: PartitionJob) -> PartitionJob:
    """Ramp-up is dated by the whole batch's latest ``created_at``, as in a serial run."""
    if job.policy.ramp is None or job.inputs.as_of is not None or (
            "created_at" not in leads.columns):
        return job
    from pyspark.sql import functions as F

    from solver.partitioning import as_of_for

    latest = leads.select(F.max(F.col("created_at").cast("timestamp"))).first()
    return with_batch_as_of(job, as_of_for([latest[0] if latest else None], None))


def _check_scored_leads(leads: DataFrame, scores: DataFrame) -> None:
    for column in ("lead_id", "rep_id", "score"):
        if column not in scores.columns:
            raise InputError("required column is missing", source="scores", column=column)
    orphan = scores.join(leads.select("lead_id"), "lead_id", "left_anti").limit(1).collect()
    if orphan:
        raise InputError(f"unknown lead '{orphan[0]['lead_id']}' (not in the leads table)",
                         source="scores", column="lead_id")


__all__ = ["PartitionError", "SparkUnavailable", "route_spark", "spark_session"]
