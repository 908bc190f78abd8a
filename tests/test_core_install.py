"""The core install (no extras) runs every core job: a real venv, ``pip install`` of the
project without extras, then fit, route and backtest; service commands name their extra.

The venv with the core dependencies is cached in pytest's cache, keyed by the core
dependency list and the Python version, so a run reinstalls only the project itself
(``--no-deps --no-build-isolation``, offline). The first run installs from the package
index pip is configured with (~1 minute)."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _pip(python: Path, *args: str) -> str:
    run = subprocess.run([str(python), "-m", "pip", "install",
                          "--disable-pip-version-check", *args],
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    return run.stdout + run.stderr


def _source_copy(into: Path) -> Path:
    """The files a wheel is built from, copied so the build leaves the tree untouched."""
    src = into / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for package in ("solver", "models"):
        shutil.copytree(ROOT / package, src / package,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return src


@pytest.fixture(scope="module")
def core_venv(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
              ) -> Path:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    build = project["build-system"]["requires"]
    key = hashlib.sha256(repr((sys.version_info[:2], project["project"]["dependencies"],
                               build)).encode()).hexdigest()[:12]
    venv = Path(request.config.cache.mkdir(f"core-venv-{key}")) / "venv"
    python = venv / "bin" / "python"
    src = _source_copy(tmp_path_factory.mktemp("core-install"))
    if not (venv / ".ready").exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        _pip(python, "-q", *build, str(src))  # the core deps, from pip's configured index
        (venv / ".ready").touch()
    log = _pip(python, "-v", "--no-deps", "--no-build-isolation", "--force-reinstall", str(src))
    (venv / "build.log").write_text(log)
    return venv


def test_packaging_builds_without_warnings(core_venv: Path) -> None:
    log = (core_venv / "build.log").read_text()
    assert "SetuptoolsDeprecationWarning" not in log
    assert "SetuptoolsWarning" not in log


def _leadroute(venv: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([str(venv / "bin" / "leadroute"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_the_core_install_has_no_extra(core_venv: Path) -> None:
    code = ("import importlib.util as u; print([m for m in ('matplotlib', 'sqlalchemy', "
            "'fastapi', 'pyspark') if u.find_spec(m)])")
    run = subprocess.run([str(core_venv / "bin" / "python"), "-c", code],
                         capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


def test_core_jobs_run_on_the_core_install(core_venv: Path, tmp_path: Path) -> None:
    steps = [
        ("data", "synthetic", "--out", "w", "--history-rows", "1500", "--leads", "40"),
        ("fit", "--history", "w/history.csv", "--reps", "w/reps.csv", "--out", "w/m.joblib",
         "--quiet"),
        ("route", "--leads", "w/leads.csv", "--reps", "w/reps.csv", "--model", "w/m.joblib",
         "--out", "w/routed.csv"),
        ("backtest", "--history", "w/history.csv", "--reps", "w/reps.csv", "--out", "w/bt",
         "--n-bootstrap", "10", "--folds", "2", "--batch", "W", "--time-limit", "0.5"),
    ]
    for args in steps:
        run = _leadroute(core_venv, tmp_path, *args)
        assert run.returncode == 0, f"{args[0]}: {run.stderr[-2000:]}"
    assert len((tmp_path / "w" / "routed.csv").read_text().splitlines()) == 41
    report = (tmp_path / "w" / "bt" / "report.html").read_text()
    assert "charts omitted: matplotlib is not installed" in report
    assert "(pip install 'leadroute[plots]')" in " ".join(run.stdout.split())


@pytest.mark.parametrize("command", ["serve", "run-batch", "worker", "load-reps"])
def test_service_commands_name_their_extra(core_venv: Path, tmp_path: Path,
                                           command: str) -> None:
    run = _leadroute(core_venv, tmp_path, command, "--db", "sqlite:///x.db")
    assert run.returncode == 2
    assert run.stderr.strip() == (f"error: `leadroute {command}` needs the service extra: "
                                  "pip install 'leadroute[service]'")
    assert not (tmp_path / "x.db").exists()
