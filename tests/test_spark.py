"""Spark on local[2]: the same rows as the serial run, failures per partition with their
key, and no half-written output. One session for the whole module (start-up is ~10 s)."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from solver._partition import (
    ERROR_STATUS,
    PartitionError,
    failed_partitions,
    plan_job,
    route_partitions,
    sort_assignments,
)
from solver.app import cli
from solver.app.partition_world import HashScorer, PartitionedBatch, partitioned_batch
from solver.policy import Policy

pyspark = pytest.importorskip(
    "pyspark", reason="PySpark is not installed: pip install -e '.[spark]' to run these")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Java is not installed (Spark needs Java 17)", allow_module_level=True)

from pyspark.sql import SparkSession  # noqa: E402

from solver.app.spark import route_spark, spark_session  # noqa: E402

KEY = ("region", "team")
# PySpark 4.x warns about pandas >= 3 on every conversion; these tests run on pandas 3
pytestmark = pytest.mark.filterwarnings(
    "ignore:PySpark does not yet fully support pandas:FutureWarning")


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    session = spark_session("local[2]", config={"spark.sql.shuffle.partitions": "4"})
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    # py4j logs "Closing down clientserver connection" (INFO) when its connection is
    # collected at the worker's exit, after pytest has closed the stream: a "Logging
    # error" traceback at the end of every run
    logging.getLogger("py4j").setLevel(logging.WARNING)


@pytest.fixture(scope="module")
def batch() -> PartitionedBatch:
    return partitioned_batch(800, regions=3, teams=2, reps_per_partition=5, seed=5)


def _serial(batch: PartitionedBatch, **kwargs: object) -> pd.DataFrame:
    job = plan_job(batch.reps, KEY, **kwargs)  # type: ignore[arg-type]
    return sort_assignments(route_partitions(batch.leads, job, batch.scores), KEY)


def _equal(left: pd.DataFrame, right: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(sort_assignments(left, KEY).astype(object),
                                  sort_assignments(right, KEY).astype(object),
                                  check_dtype=False)


def test_spark_equals_the_serial_run(spark: SparkSession, batch: PartitionedBatch) -> None:
    routed = route_spark(spark.createDataFrame(batch.leads), batch.reps, partition_by=KEY,
                         scores=spark.createDataFrame(batch.scores))
    _equal(routed.toPandas(), _serial(batch))


def test_spark_with_a_scorer_equals_the_serial_run(spark: SparkSession,
                                                   batch: PartitionedBatch) -> None:
    policy = Policy(accounts={"keep_together": "off"})
    routed = route_spark(spark.createDataFrame(batch.leads), spark.createDataFrame(batch.reps),
                         partition_by=KEY, scorer=HashScorer(), policy=policy)
    job = plan_job(batch.reps, KEY, scorer=HashScorer(), policy=policy)
    _equal(routed.toPandas(), route_partitions(batch.leads, job))


def test_a_bad_territory_fails_alone_with_its_key(spark: SparkSession,
                                                  batch: PartitionedBatch) -> None:
    leads = batch.leads.copy()
    leads["effort"] = leads["effort"].astype(str)
    victim = leads.index[(leads["region"] == "r0") & (leads["team"] == "t1")][0]
    leads.loc[victim, "effort"] = "three"
    routed = route_spark(spark.createDataFrame(leads), batch.reps, partition_by=KEY,
                         scores=spark.createDataFrame(batch.scores)).toPandas()
    routed = sort_assignments(routed, KEY)
    in_victim = ((routed["region"] == "r0") & (routed["team"] == "t1")).to_numpy()
    assert (routed["status"].eq(ERROR_STATUS).to_numpy() == in_victim).all()
    [reason] = failed_partitions(routed)
    assert reason.startswith("partition region='r0', team='t1' failed:")
    assert "column 'effort'" in reason and "'three'" in reason
    serial = _serial(batch)
    _equal(routed[~in_victim], serial[~in_victim])


def test_an_account_spanning_partitions_is_refused_before_any_work(
        spark: SparkSession, batch: PartitionedBatch) -> None:
    leads = batch.leads.copy()
    leads.loc[leads.index[:2], "account_id"] = "ACME"
    leads.loc[leads.index[0], ["region", "team"]] = ["r0", "t0"]
    leads.loc[leads.index[1], ["region", "team"]] = ["r2", "t1"]
    with pytest.raises(PartitionError, match="account 'ACME'"):
        route_spark(spark.createDataFrame(leads), batch.reps, partition_by=KEY,
                    scores=spark.createDataFrame(batch.scores))


def _paths(batch: PartitionedBatch, folder: Path) -> dict[str, Path]:
    paths = {}
    for name in ("leads", "reps", "scores"):
        paths[name] = folder / f"{name}.parquet"
        getattr(batch, name).to_parquet(paths[name], index=False)
    return paths


def _invoke(paths: dict[str, Path], out: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli.app, [
        "route", "--leads", str(paths["leads"]), "--reps", str(paths["reps"]),
        "--scores", str(paths["scores"]), "--out", str(out), "--partition-by", "region,team",
        "--spark", "local[2]", "--quiet"])
    return result.exit_code, result.output + (str(result.exception) if result.exception
                                              else "")


def test_command_on_spark_writes_parquet_equal_to_serial(
        spark: SparkSession, batch: PartitionedBatch, tmp_path: Path) -> None:
    out = tmp_path / "assignments.parquet"
    code, text = _invoke(_paths(batch, tmp_path), out)
    assert code == 0, text
    _equal(pd.read_parquet(out), _serial(batch))
    assert [p.name for p in tmp_path.iterdir() if "staging" in p.name] == []


def test_command_on_spark_with_a_failed_partition_leaves_nothing(
        spark: SparkSession, batch: PartitionedBatch, tmp_path: Path) -> None:
    reps = batch.reps.copy()
    reps["capacity"] = reps["capacity"].astype(object)
    reps.loc[0, "capacity"] = -1  # rep R0-0-0: fails plan_job before any work
    leads = batch.leads.astype({"value": str})
    leads.loc[leads["region"] == "r1", "value"] = "n/a"
    out = tmp_path / "out" / "assignments.csv"
    out.parent.mkdir()
    code, text = _invoke(_paths(PartitionedBatch(leads=leads, reps=batch.reps,
                                                 scores=batch.scores), tmp_path), out)
    assert code != 0
    assert "2 partition(s) failed, nothing written" in text, text
    assert "region='r1', team='t0'" in text and "region='r1', team='t1'" in text
    assert list(out.parent.iterdir()) == []  # no output, no staging folder
    code, text = _invoke(_paths(PartitionedBatch(leads=batch.leads, reps=reps,
                                                 scores=batch.scores), tmp_path), out)
    assert code != 0 and "partition region='r0', team='t0'" in text, text
    assert list(out.parent.iterdir()) == []


def test_backtest_sweep_on_spark_equals_the_serial_backtest(spark: SparkSession) -> None:
    from models.synthetic import SyntheticWorld, WorldConfig
    from solver.app.backtest import BacktestConfig, run_backtest
    from solver.app.sweep import run_sweep, spark_runner

    world = SyntheticWorld(WorldConfig(seed=4, n_history=300, n_reps=6, n_new_reps=0,
                                       history_days=4))
    history, reps = world.history(), world.reps.assign(capacity=30.0)
    config = BacktestConfig(strategies=("round_robin", "optimal"), estimators=("ips", "dr"),
                            n_folds=2, n_bootstrap=50, seed=4)
    expected = run_backtest(history, reps, config)
    got = run_sweep(history, reps, config, runner=spark_runner(spark), max_tasks=3)
    assert got.n_replay_tasks == 3
    pd.testing.assert_frame_equal(got.estimates, expected.estimates)
    pd.testing.assert_frame_equal(got.lift, expected.lift)


def test_command_on_spark_with_no_leads_writes_the_header(
        spark: SparkSession, batch: PartitionedBatch, tmp_path: Path) -> None:
    """An empty batch (header-only CSVs) is a normal run: exit 0, header, no rows."""
    out = tmp_path / "assignments.csv"
    paths = {name: tmp_path / f"{name}.csv" for name in ("leads", "reps", "scores")}
    batch.leads.iloc[:0].to_csv(paths["leads"], index=False)
    batch.reps.to_csv(paths["reps"], index=False)
    batch.scores.iloc[:0].to_csv(paths["scores"], index=False)
    result = CliRunner().invoke(cli.app, [
        "route", "--leads", str(paths["leads"]), "--reps", str(paths["reps"]),
        "--scores", str(paths["scores"]), "--out", str(out), "--partition-by", "region,team",
        "--spark", "local[2]"])
    assert result.exit_code == 0, result.output
    assert "nothing routed: the batch has no leads" in " ".join(result.output.split())
    written = pd.read_csv(next(out.glob("part-*.csv")))
    assert written.empty
    assert list(written.columns) == ["region", "team", "lead_id", "rep_id", "score", "status",
                                     "reason"]
