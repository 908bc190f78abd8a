"""Partitioned routing without any engine: the kernel, the decomposition checks, the serial
reference and the ``route --partition-by`` command (Spark runs are in test_spark.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from solver._build import problem_from_scores
from solver._partition import (
    ERROR_STATUS,
    PartitionError,
    failed_partitions,
    plan_job,
    route_partitions,
    sort_assignments,
)
from solver.app import cli
from solver.app.partition_world import PartitionedBatch, partitioned_batch
from solver.contract_tables import load_leads, load_reps, load_scores
from solver.policy import Fairness, Policy, PolicyInputs, route_with_policy

KEY = ("region", "team")


@pytest.fixture(scope="module")
def batch() -> PartitionedBatch:
    return partitioned_batch(600, regions=3, teams=2, reps_per_partition=5, seed=1)


def _route(batch: PartitionedBatch, **kwargs: object) -> pd.DataFrame:
    job = plan_job(batch.reps, KEY, **kwargs)  # type: ignore[arg-type]
    return route_partitions(batch.leads, job, batch.scores)


def test_every_lead_once_and_split_capacities_hold(batch: PartitionedBatch) -> None:
    out = _route(batch)
    assert sorted(out["lead_id"]) == sorted(batch.leads["lead_id"])
    assert set(out["status"]) <= {"assigned", "unassigned"}
    assigned = out[out["status"] == "assigned"].merge(batch.leads[["lead_id", "effort"]])
    load = assigned.groupby(["rep_id", *KEY])["effort"].sum()
    capacity = batch.reps.set_index(["rep_id", *KEY])["capacity"]
    assert (load <= capacity.reindex(load.index) + 1e-9).all()  # each partition's share
    shared = assigned[assigned["rep_id"].str.endswith("shared")]
    assert shared.groupby("rep_id")["team"].nunique().max() == 2  # works in both teams


def test_same_objective_as_one_global_solve_when_no_rep_is_shared() -> None:
    world = partitioned_batch(500, regions=4, teams=1, reps_per_partition=6, seed=3)
    out = _route(world, policy=Policy(accounts={"keep_together": "off"}))
    leads, reps = load_leads(world.leads), load_reps(world.reps)
    scores = load_scores(world.scores, lead_ids=leads["lead_id"], rep_ids=reps["rep_id"])
    whole = route_with_policy(problem_from_scores(leads, reps, scores), leads, reps,
                              Policy(accounts={"keep_together": "off"}))
    assert (out["status"] == "assigned").sum() == whole.assignments["status"].eq(
        "assigned").sum()
    assert out["score"].sum() == pytest.approx(whole.assignments["score"].sum(), abs=1e-9)


def test_row_order_does_not_matter(batch: PartitionedBatch) -> None:
    shuffled = PartitionedBatch(leads=batch.leads.sample(frac=1.0, random_state=7),
                                reps=batch.reps,
                                scores=batch.scores.sample(frac=1.0, random_state=8))
    pd.testing.assert_frame_equal(sort_assignments(_route(batch), KEY),
                                  sort_assignments(_route(shuffled), KEY))


def test_bad_data_in_one_territory_fails_alone(batch: PartitionedBatch) -> None:
    good = _route(batch)
    leads = batch.leads.copy()
    victim = leads.index[(leads["region"] == "r1") & (leads["team"] == "t0")][3]
    leads.loc[victim, "effort"] = -2.0
    bad = route_partitions(leads, plan_job(batch.reps, KEY), batch.scores)
    failed = bad["status"] == ERROR_STATUS
    in_victim = ((bad["region"] == "r1") & (bad["team"] == "t0")).to_numpy()
    assert (failed.to_numpy() == in_victim).all()
    [reason] = failed_partitions(bad)
    lead = leads.loc[victim, "lead_id"]
    assert reason.startswith("partition region='r1', team='t0' failed:")
    assert f"lead '{lead}'" in reason and "column 'effort'" in reason
    pd.testing.assert_frame_equal(bad[~in_victim].reset_index(drop=True),
                                  good[~in_victim].reset_index(drop=True))


def test_fairness_spans_partitions_and_is_refused(batch: PartitionedBatch) -> None:
    with pytest.raises(PartitionError, match="fairness"):
        plan_job(batch.reps, KEY, policy=Policy(fairness=Fairness(band=0.2)))


def test_rep_without_partition_is_refused(batch: PartitionedBatch) -> None:
    reps = batch.reps.copy()
    reps.loc[2, "team"] = ""
    with pytest.raises(PartitionError, match="row 3: rep .* has no region/team"):
        plan_job(reps, KEY)


def test_duplicate_rep_inside_one_partition_names_the_partition(batch: PartitionedBatch
                                                                ) -> None:
    reps = pd.concat([batch.reps, batch.reps.iloc[[0]]], ignore_index=True)
    with pytest.raises(ValueError, match="partition region='r0', team='t0': duplicate id"):
        plan_job(reps, KEY)


def test_scored_pair_across_partitions_is_refused_with_its_key(batch: PartitionedBatch
                                                               ) -> None:
    lead = batch.leads[(batch.leads["region"] == "r0") & (batch.leads["team"] == "t1")].iloc[0]
    scores = pd.concat([batch.scores, pd.DataFrame(
        {"lead_id": [lead["lead_id"]], "rep_id": ["R2-1-0"], "score": [0.9]})])
    out = route_partitions(batch.leads, plan_job(batch.reps, KEY), scores)
    [reason] = failed_partitions(out)
    assert "region='r0', team='t1'" in reason and "spans partitions" in reason
    assert "R2-1-0" in reason and "region='r2', team='t1'" in reason


def test_account_across_partitions_is_refused_unless_accounts_may_split(
        batch: PartitionedBatch) -> None:
    leads = batch.leads.copy()
    leads.loc[leads.index[:2], "account_id"] = "ACME"
    leads.loc[leads.index[0], ["region", "team"]] = ["r0", "t0"]
    leads.loc[leads.index[1], ["region", "team"]] = ["r1", "t1"]
    with pytest.raises(PartitionError, match="account 'ACME' has leads in two partitions"):
        route_partitions(leads, plan_job(batch.reps, KEY), batch.scores.iloc[:0])
    relaxed = plan_job(batch.reps, KEY, policy=Policy(accounts={"keep_together": "off"}))
    assert len(route_partitions(leads, relaxed, batch.scores.iloc[:0])) == len(leads)


def test_pin_across_partitions_is_refused(batch: PartitionedBatch) -> None:
    lead = batch.leads[(batch.leads["region"] == "r2")].iloc[0]["lead_id"]
    job = plan_job(batch.reps, KEY, inputs=PolicyInputs(pins={lead: "R0-0-0"}))
    reasons = failed_partitions(route_partitions(batch.leads, job, batch.scores))
    assert len(reasons) == 1 and f"lead '{lead}' is pinned to rep 'R0-0-0'" in reasons[0]


def test_policy_declares_the_partition_key(tmp_path: Path) -> None:
    from solver.policy import load_policy

    (tmp_path / "p.toml").write_text('partition_by = ["region", "team"]\n')
    assert load_policy(tmp_path / "p.toml").partition_by == KEY


# --- the command --------------------------------------------------------------------------


def _write(batch: PartitionedBatch, folder: Path, fmt: str = "csv") -> dict[str, Path]:
    paths = {}
    for name in ("leads", "reps", "scores"):
        frame: pd.DataFrame = getattr(batch, name)
        paths[name] = folder / f"{name}.{fmt}"
        if fmt == "csv":
            frame.to_csv(paths[name], index=False)
        else:
            frame.to_parquet(paths[name], index=False)
    return paths


def _invoke(paths: dict[str, Path], out: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.app, [
        "route", "--leads", str(paths["leads"]), "--reps", str(paths["reps"]),
        "--scores", str(paths["scores"]), "--out", str(out), "--partition-by", "region,team",
        "--quiet", *extra])
    text = result.output + (str(result.exception) if result.exception else "")
    return result.exit_code, text


def test_command_csv_and_parquet_match_the_python_result(batch: PartitionedBatch,
                                                         tmp_path: Path) -> None:
    expected = sort_assignments(_route(batch), KEY)
    for fmt in ("csv", "parquet"):
        paths = _write(batch, tmp_path, fmt)
        out = tmp_path / f"out.{fmt}"
        code, text = _invoke(paths, out)
        assert code == 0, text
        got = pd.read_csv(out, dtype={"rep_id": str}, keep_default_na=False,
                          na_values={"score": [""]}) if fmt == "csv" else pd.read_parquet(out)
        got = sort_assignments(got, KEY)
        assert got["lead_id"].tolist() == expected["lead_id"].tolist()
        assert got["rep_id"].tolist() == expected["rep_id"].tolist()
        assert np.allclose(got["score"].fillna(-1), expected["score"].fillna(-1))


def test_command_with_a_failed_partition_writes_nothing(batch: PartitionedBatch,
                                                        tmp_path: Path) -> None:
    leads = batch.leads.astype({"value": object})
    leads.loc[leads["region"] == "r2", "value"] = "lots"
    paths = _write(PartitionedBatch(leads=leads, reps=batch.reps, scores=batch.scores),
                   tmp_path)
    out = tmp_path / "result" / "out.csv"
    code, text = _invoke(paths, out)
    assert code != 0
    assert "2 partition(s) failed, nothing written" in text
    assert "region='r2', team='t0'" in text and "region='r2', team='t1'" in text
    assert not out.exists()
    assert not out.parent.exists() or not any(out.parent.iterdir())


def test_command_refuses_flags_it_cannot_honour(batch: PartitionedBatch, tmp_path: Path
                                                ) -> None:
    paths = _write(batch, tmp_path)
    code, text = _invoke(paths, tmp_path / "o.csv", "--summary", str(tmp_path / "s.csv"))
    assert code != 0 and "--summary cannot be combined with partitioned routing" in text
