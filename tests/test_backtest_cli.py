"""``leadroute backtest`` on bad input: exit code 2, one line naming file, row and column,
no output folder (and an earlier output folder left as it was)."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from models.synthetic import SyntheticWorld, WorldConfig
from solver.app import cli

Edit = Callable[[pd.DataFrame], pd.DataFrame]


@pytest.fixture(scope="module")
def tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    world = SyntheticWorld(WorldConfig(seed=5, n_history=400, n_reps=6, n_new_reps=0,
                                       history_days=4))
    history = world.history().astype(str)  # edits below put text in any cell
    return history, world.reps.astype(str)


def _set(row: int, column: str, text: str) -> Edit:
    def edit(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.copy()
        frame.loc[row, column] = text
        return frame
    return edit


def _run(args: list[str], monkeypatch: pytest.MonkeyPatch,
         capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["leadroute", "backtest", *args])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 1), capsys.readouterr().err


def _write(tmp_path: Path, tables: tuple[pd.DataFrame, pd.DataFrame],
           history_edit: Edit | None = None, reps_edit: Edit | None = None
           ) -> list[str]:
    history, reps = tables
    (history_edit or (lambda f: f))(history).to_csv(tmp_path / "history.csv", index=False)
    (reps_edit or (lambda f: f))(reps).to_csv(tmp_path / "reps.csv", index=False)
    return ["--history", str(tmp_path / "history.csv"), "--reps", str(tmp_path / "reps.csv"),
            "--out", str(tmp_path / "bt"), "--n-bootstrap", "10", "--folds", "2"]


HISTORY_CASES = [
    (_set(3, "converted", "2"), r"history\.csv, row 4, column 'converted'"),
    (_set(7, "propensity", "1.5"), r"history\.csv, row 8, column 'propensity'"),
    (_set(2, "assigned_at", "notadate"), r"history\.csv, row 3, column 'assigned_at'"),
    (_set(4, "rep_id", ""), r"history\.csv, row 5, column 'rep_id'"),
    (lambda f: f.drop(columns=["converted"]), r"history\.csv, column 'converted'"),
]


@pytest.mark.parametrize(("edit", "message"), HISTORY_CASES)
def test_bad_history_exits_2_with_one_located_line(
    edit: Edit, message: str, tables: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    code, err = _run(_write(tmp_path, tables, history_edit=edit), monkeypatch, capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("error: ")
    _fail_unless_match(err, message)
    assert not (tmp_path / "bt").exists()


def _fail_unless_match(text: str, pattern: str) -> None:
    assert re.search(pattern, text), f"{pattern!r} not in {text!r}"


@pytest.mark.parametrize(("column", "text", "message"), [
    ("capacity", "lots", r"reps\.csv, row 2, column 'capacity'"),
    ("start_date", "yesterday", r"reps\.csv, row 2, column 'start_date'"),
])
def test_bad_reps_exit_2(
    column: str, text: str, message: str, tables: tuple[pd.DataFrame, pd.DataFrame],
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    args = _write(tmp_path, tables, reps_edit=_set(1, column, text))
    code, err = _run(args, monkeypatch, capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    _fail_unless_match(err, message)


@pytest.mark.parametrize(("extra", "message"), [
    (["--strategies", "psychic"], "unknown strategy 'psychic'"),
    (["--strategies", "greedy", "--estimators", "ips,oracle"], "unknown estimator 'oracle'"),
    (["--strategies", "greedy", "--policy", "missing.toml"], "missing.toml"),
])
def test_bad_options_exit_2_and_keep_an_earlier_output(
    extra: list[str], message: str, tables: tuple[pd.DataFrame, pd.DataFrame],
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    earlier = tmp_path / "bt"
    earlier.mkdir()
    (earlier / "estimates.csv").write_text("from an earlier run\n")
    code, err = _run([*_write(tmp_path, tables), *extra], monkeypatch, capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert message in err
    assert sorted(p.name for p in earlier.iterdir()) == ["estimates.csv"]
    assert (earlier / "estimates.csv").read_text() == "from an earlier run\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".bt.")]  # no staging left
