"""``leadroute route`` output paths: a bad one fails before the solve with exit 2 and one
line; outputs are written all or none; symlinks are written through, devices refused; new
files follow the umask."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest

from solver.app import cli

LEADS = "lead_id,value,effort\nL1,10,1\nL2,5,1\nL3,1,1\n"
REPS = "rep_id,capacity\nR1,2\nR2,1\n"
SCORES = "lead_id,rep_id,score\nL1,R1,0.9\nL2,R1,0.8\nL2,R2,0.7\nL3,R2,0.3\n"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {}
    for name, text in (("leads", LEADS), ("reps", REPS), ("scores", SCORES)):
        paths[name] = tmp_path / f"{name}.csv"
        paths[name].write_text(text)
    return paths


def _route(files: dict[str, Path], out: Path, *extra: str, monkeypatch: pytest.MonkeyPatch,
           capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    args = ["route", "--leads", str(files["leads"]), "--reps", str(files["reps"]),
            "--scores", str(files["scores"]), "--out", str(out), "--quiet", *extra]
    monkeypatch.setattr(sys, "argv", ["leadroute", *args])
    with pytest.raises(SystemExit) as exit_info:
        cli.main()
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), captured.out + captured.err


def _no_solve(monkeypatch: pytest.MonkeyPatch) -> None:
    """A solve that fails loudly: the path check must come before it."""
    from solver.app.commands import route as route_command

    def boom(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("solved before checking the output paths")

    monkeypatch.setattr(route_command, "_route", boom)


@pytest.mark.parametrize(("make_out", "message"), [
    (lambda tmp: tmp, "is a directory"),
    (lambda tmp: tmp / "leads.csv" / "out.csv", "is a file, not a folder"),
], ids=["directory", "under-a-file"])
def test_bad_out_fails_before_the_solve(files: dict[str, Path], tmp_path: Path, make_out,
                                        message: str, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    _no_solve(monkeypatch)
    code, text = _route(files, make_out(tmp_path), monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2
    assert message in text and "Traceback" not in text
    assert len(text.strip().splitlines()) == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only folders")
def test_read_only_folder_fails_before_the_solve(files: dict[str, Path], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    _no_solve(monkeypatch)
    try:
        code, text = _route(files, locked / "out.csv", monkeypatch=monkeypatch, capsys=capsys)
    finally:
        locked.chmod(0o700)
    assert code == 2 and "not writable" in text


def test_summary_that_is_a_directory_writes_nothing(files: dict[str, Path], tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.csv"
    code, text = _route(files, out, "--summary", str(tmp_path), monkeypatch=monkeypatch,
                        capsys=capsys)
    assert code == 2 and "--summary" in text and "is a directory" in text
    assert not out.exists()


def test_outputs_are_written_all_or_none(files: dict[str, Path], tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """The second output fails while being written: the first is not left in place."""
    from solver.app import _io

    out, summary = tmp_path / "out.csv", tmp_path / "summary.csv"
    real = _io.csv_writer

    def failing_second(frame):  # noqa: ANN001, ANN202
        if "lead_id" not in frame.columns:
            def fail(_handle):  # noqa: ANN001, ANN202
                raise OSError(28, "No space left on device")
            return fail
        return real(frame)

    monkeypatch.setattr("solver.app.commands.route.csv_writer", failing_second)
    code, text = _route(files, out, "--summary", str(summary), monkeypatch=monkeypatch,
                        capsys=capsys)
    assert code == 2 and "nothing was written" in text
    assert not out.exists() and not summary.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_symlink_is_written_through(files: dict[str, Path], tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    real = tmp_path / "real.csv"
    real.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    code, _ = _route(files, link, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0
    assert link.is_symlink() and real.read_text().startswith("lead_id")


def test_special_file_is_refused(files: dict[str, Path], tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A FIFO stands for any non-regular file (a device node needs root to create)."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    _no_solve(monkeypatch)
    code, text = _route(files, fifo, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 2 and "not a regular file" in text
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_new_files_follow_the_umask(files: dict[str, Path], tmp_path: Path,
                                    monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    old = os.umask(0o022)
    try:
        code, _ = _route(files, tmp_path / "out.csv", monkeypatch=monkeypatch, capsys=capsys)
    finally:
        os.umask(old)
    assert code == 0
    assert stat.S_IMODE((tmp_path / "out.csv").stat().st_mode) == 0o644


def test_an_existing_file_keeps_its_mode(files: dict[str, Path], tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.csv"
    out.write_text("old\n")
    out.chmod(0o640)
    code, _ = _route(files, out, monkeypatch=monkeypatch, capsys=capsys)
    assert code == 0 and stat.S_IMODE(out.stat().st_mode) == 0o640
