"""``leadroute route`` end to end: one row per lead on success; on bad input a non-zero exit,
one line naming file, row and column, and no output file (an existing one is untouched)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from solver.app import cli

LEADROUTE = Path(sys.executable).with_name("leadroute")

LEADS = "lead_id,value,effort,region\nL1,10,1,EMEA\nL2,5,1,EMEA\nL3,1,1,APAC\nL4,2,1,APAC\n"
REPS = "rep_id,capacity,active\nR1,2,true\nR2,1,true\nR3,5,false\n"
SCORES = ("lead_id,rep_id,score\nL1,R1,0.9\nL1,R2,0.4\nL2,R1,0.8\nL2,R2,0.7\n"
          "L3,R1,0.3\nL3,R3,0.99\n")
OUT_COLUMNS = ["lead_id", "rep_id", "score", "status", "reason"]


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {}
    for name, text in (("leads", LEADS), ("reps", REPS), ("scores", SCORES)):
        paths[name] = tmp_path / f"{name}.csv"
        paths[name].write_text(text)
    paths["out"] = tmp_path / "out" / "assignments.csv"
    return paths


def _args(files: dict[str, Path], *extra: str) -> list[str]:
    return ["route", "--leads", str(files["leads"]), "--reps", str(files["reps"]),
            "--scores", str(files["scores"]), "--out", str(files["out"]), *extra]


def run_main(args: list[str], monkeypatch: pytest.MonkeyPatch,
             capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """The console script's entry point, in process (same code path as ``leadroute``)."""
    monkeypatch.setattr(sys, "argv", ["leadroute", *args])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    captured = capsys.readouterr()
    code = exit_info.value.code
    return (code if isinstance(code, int) else 1), captured.out, captured.err


def test_console_script_routes_every_lead_once(files: dict[str, Path]) -> None:
    run = subprocess.run([str(LEADROUTE), *_args(files)], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    out = pd.read_csv(files["out"], keep_default_na=False)
    assert out.columns.tolist() == OUT_COLUMNS
    assert out["lead_id"].tolist() == ["L1", "L2", "L3", "L4"]
    by_lead = out.set_index("lead_id")
    # capacity: R1 takes 2, R2 takes 1; coverage first puts L2 on R2 so L3 fits on R1
    assert by_lead.loc["L1", "rep_id"] == "R1"
    assert by_lead.loc["L2", "rep_id"] == "R2"
    assert by_lead.loc["L3", "rep_id"] == "R1"  # R3 is inactive despite the 0.99
    assert by_lead.loc["L4", "status"] == "unassigned"
    assert by_lead.loc["L4", "rep_id"] == ""
    assert by_lead.loc["L4", "reason"] == "no eligible rep"
    assert (out["reason"] != "").all()
    assert "routed 3/4 leads" in run.stdout
    assert [p.name for p in files["out"].parent.iterdir()] == ["assignments.csv"]


def test_console_script_bad_input_fails_with_one_line_and_no_file(
    files: dict[str, Path],
) -> None:
    files["reps"].write_text("rep_id,capacity\nR1,2\nR2,-1\n")
    run = subprocess.run([str(LEADROUTE), *_args(files)], capture_output=True, text=True,
                         timeout=120)
    assert run.returncode != 0
    lines = run.stderr.strip().splitlines()
    assert lines == [f"error: {files['reps']}, row 2, column 'capacity': must be >= 0, got -1"]
    assert not files["out"].exists()
    assert not files["out"].parent.exists() or not any(files["out"].parent.iterdir())


# (file to corrupt, its new text, expected row, expected column)
BAD = [
    ("leads", "lead_id,effort\nL1,1\nL1,2\n", 2, "lead_id"),
    ("leads", "lead_id,effort\nL1,0\n", 1, "effort"),
    ("leads", "lead_id,created_at\nL1,someday\n", 1, "created_at"),
    ("reps", "rep_id,capacity\nR1,nan\n", 1, "capacity"),
    ("reps", "rep_id,capacity,active\nR1,1,sometimes\n", 1, "active"),
    ("reps", "rep_id\nR1\n", None, "capacity"),
    ("scores", "lead_id,rep_id,score\nL1,R1,0.5\nL1,R9,0.5\n", 2, "rep_id"),
    ("scores", "lead_id,rep_id,score\nL7,R1,0.5\n", 1, "lead_id"),
    ("scores", "lead_id,rep_id,score\nL1,R1,inf\n", 1, "score"),
    ("scores", "lead_id,rep_id,score,effort\nL1,R1,1,-1\n", 1, "effort"),
    ("scores", "lead_id,rep_id,score\n", None, None),
    ("leads", "", None, None),
]


@pytest.mark.parametrize("existing", [False, True], ids=["no out file", "out file exists"])
@pytest.mark.parametrize(("which", "text", "row", "column"), BAD,
                         ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_bad_input_exits_non_zero_and_writes_nothing(
    files: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], which: str, text: str, row: int | None,
    column: str | None, existing: bool,
) -> None:
    files[which].write_text(text)
    before = "lead_id,rep_id,score,status,reason\nold,run,1,assigned,kept\n"
    if existing:
        files["out"].parent.mkdir(parents=True)
        files["out"].write_text(before)
    code, out, err = run_main(_args(files), monkeypatch, capsys)
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    where = f"error: {files[which]}"
    if row is not None:
        where += f", row {row}"
    if column is not None:
        where += f", column '{column}'"
    assert lines[0].startswith(where + ": "), lines[0]
    if existing:
        assert files["out"].read_text() == before
        assert sorted(p.name for p in files["out"].parent.iterdir()) == ["assignments.csv"]
    else:
        assert not files["out"].exists()


def test_missing_input_file_is_named(files: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    files["scores"].unlink()
    code, _, err = run_main(_args(files), monkeypatch, capsys)
    assert code != 0
    assert err.strip() == f"error: {files['scores']}: file not found"
    assert not files["out"].exists()


def test_scores_or_model_is_required(files: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    args = ["route", "--leads", str(files["leads"]), "--reps", str(files["reps"]),
            "--out", str(files["out"])]
    code, _, err = run_main(args, monkeypatch, capsys)
    assert code != 0
    assert "--scores" in err and len(err.strip().splitlines()) == 1
    assert not files["out"].exists()


def test_same_seed_same_file(files: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    first = tmp_path / "a.csv"
    second = tmp_path / "b.csv"
    for target in (first, second):
        files["out"] = target
        code, _, err = run_main(_args(files, "--seed", "7", "--quiet"), monkeypatch, capsys)
        assert code == 0, err
    assert first.read_bytes() == second.read_bytes()


def test_success_replaces_an_existing_output(files: dict[str, Path],
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    files["out"].parent.mkdir(parents=True)
    files["out"].write_text("stale\n")
    code, _, err = run_main(_args(files, "--quiet"), monkeypatch, capsys)
    assert code == 0, err
    assert len(pd.read_csv(files["out"])) == 4
