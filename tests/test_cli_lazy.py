"""The CLI imports a command's layer only when that command runs, and a command whose
extra is missing exits 2 with one line naming the extra."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

_LOADED = (
    "import sys\n"
    "sys.argv = ['leadroute', *{args!r}]\n"
    "from solver.app.cli import main\n"
    "try:\n    main()\nexcept SystemExit:\n    pass\n"
    "heavy = {{'sqlalchemy', 'fastapi', 'uvicorn', 'pyspark', 'matplotlib', 'models', 'sklearn'}}\n"
    "print(sorted(heavy & {{m.split('.')[0] for m in sys.modules}}))\n"
    "print(sorted(m for m in sys.modules if m.startswith('solver.app.')))\n"
)


def _loaded(*args: str, block: str = "") -> list[str]:
    code = block + _LOADED.format(args=list(args))
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    return run.stdout.splitlines()[-2:]


def test_route_loads_neither_backtest_nor_service_nor_spark() -> None:
    heavy, app_modules = _loaded("route", "--help")
    assert heavy == "[]"
    assert "solver.app.backtest" not in app_modules
    assert "solver.app.service" not in app_modules
    assert "solver.app.commands.route" in app_modules


def test_a_service_command_loads_the_service_layer() -> None:
    heavy, app_modules = _loaded("status", "--help")
    assert "sqlalchemy" in heavy
    assert "solver.app.commands.route" not in app_modules


@pytest.mark.parametrize(("blocked", "command", "extra"), [
    ("sqlalchemy", "serve", "service"),
    ("sqlalchemy", "run-batch", "service"),
])
def test_missing_extra_is_named_in_one_line(blocked: str, command: str, extra: str) -> None:
    code = (f"import sys; sys.modules[{blocked!r}] = None; "
            f"sys.argv = ['leadroute', {command!r}, '--db', 'sqlite:///nowhere.db', '--x']; "
            "from solver.app.cli import main; main()")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 2
    assert run.stderr.strip() == (f"error: `leadroute {command}` needs the {extra} extra: "
                                  f"pip install 'leadroute[{extra}]'")


def test_an_extra_imported_while_running_is_named_too() -> None:
    code = ("import sys; sys.modules['fastapi'] = None; "
            "sys.argv = ['leadroute', 'serve', '--no-auth', '--db', 'sqlite:///:memory:']; "
            "from solver.app.cli import main; main()")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 2
    assert run.stderr.strip() == ("error: fastapi is not installed; this command needs the "
                                  "service extra: pip install 'leadroute[service]'")


def test_help_lists_a_command_whose_extra_is_missing() -> None:
    code = ("import sys; sys.modules['sqlalchemy'] = None; sys.argv = ['leadroute', '--help']; "
            "from solver.app.cli import main; main()")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0
    assert "serve" in run.stdout and "leadroute[service]" in run.stdout


def test_a_flow_shaped_route_loads_neither_scipy_nor_cp_sat(tmp_path: Path) -> None:
    """Every pair at effort 1: min-cost flow only; the GAP engine, CP-SAT and scipy (half
    a second of imports) load only for a part that needs them."""
    (tmp_path / "leads.csv").write_text("lead_id\nL1\nL2\nL3\n")
    (tmp_path / "reps.csv").write_text("rep_id,capacity\nR1,2\nR2,2\n")
    (tmp_path / "scores.csv").write_text(
        "lead_id,rep_id,score\nL1,R1,0.9\nL1,R2,0.1\nL2,R1,0.8\nL2,R2,0.7\nL3,R1,0.6\n")
    out = tmp_path / "out.csv"
    args = ["route", "--leads", str(tmp_path / "leads.csv"), "--reps",
            str(tmp_path / "reps.csv"), "--scores", str(tmp_path / "scores.csv"),
            "--out", str(out), "--quiet"]
    code = (f"import sys\nsys.argv = ['leadroute', *{args!r}]\n"
            "from solver.app.cli import main\n"
            "try:\n    main()\nexcept SystemExit as stop:\n    assert not stop.code, stop.code\n"
            "print(sorted(m for m in sys.modules if m == 'scipy' or m.startswith("
            "('ortools.sat', 'solver._gap', 'solver._cpsat.', 'solver._lp'))"
            " or m == 'solver._cpsat'))\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert run.stdout.splitlines()[-1] == "[]"
    assert out.read_text().count("assigned") == 3
