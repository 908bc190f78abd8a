"""`leadroute fit --max-rows`: a Parquet history fitted on its seeded uniform sample."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from models.synthetic import SyntheticWorld, WorldConfig
from solver.app import cli

pytest.importorskip("pyarrow", reason="Parquet needs pyarrow (the `spark` extra)")


def _run(args: list[str], monkeypatch: pytest.MonkeyPatch,
         capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["leadroute", "fit", *args])
    try:
        cli.main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, " ".join((out.out + out.err).split())


def test_fit_on_a_sample_of_a_parquet_history(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    world = SyntheticWorld(WorldConfig(seed=0, n_history=4000, n_reps=8, n_new_reps=0))
    world.history().to_parquet(tmp_path / "history.parquet")
    world.history().to_csv(tmp_path / "history.csv", index=False)
    world.reps.to_csv(tmp_path / "reps.csv", index=False)
    common = ["--reps", str(tmp_path / "reps.csv"), "--max-rows", "1500", "--seed", "3"]
    code, text = _run(["--history", str(tmp_path / "history.parquet"), *common,
                       "--out", str(tmp_path / "m.joblib")], monkeypatch, capsys)
    assert code == 0, text
    sampled = int(text.split("uniform sample: ")[1].split(" of 4000 rows")[0])
    assert 1300 < sampled < 1700 and (tmp_path / "m.joblib").exists()
    code, text = _run(["--history", str(tmp_path / "history.csv"), *common,
                       "--out", str(tmp_path / "n.joblib")], monkeypatch, capsys)
    assert code == 2 and "--max-rows samples a Parquet history" in text
    assert not (tmp_path / "n.joblib").exists()
