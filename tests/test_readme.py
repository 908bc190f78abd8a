"""Every command in the README runs: bash blocks in a scratch folder, Python blocks in a
fresh interpreter. ``make test`` is the command running this very suite, so it is the one
line not re-run here (it would recurse)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```(bash|python)\n(.*?)```", README, flags=re.DOTALL)
NOT_RERUN = {"make test": "this is the command running the suite"}


def _bash_lines() -> list[str]:
    lines = []
    for language, body in BLOCKS:
        if language == "bash":
            lines += [line.strip() for line in body.splitlines() if line.strip()]
    return lines


def test_readme_has_the_two_commands() -> None:
    assert _bash_lines()[:2] == ["make demo", "make test"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder that looks like a checkout (links to the repo's files and its .venv)."""
    folder = tmp_path_factory.mktemp("readme")
    for name in (".venv", "solver", "models", "benchmarks"):
        (folder / name).symlink_to(ROOT / name)
    return folder


def test_readme_bash_commands_run(scratch: Path) -> None:
    if not (ROOT / ".venv" / "bin" / "leadroute").exists():
        pytest.skip("the README's commands use .venv/bin; run the suite with `make test`")
    servers: list[subprocess.Popen[bytes]] = []
    try:
        for line in _bash_lines():
            if line in NOT_RERUN:
                continue
            if " serve " in f" {line} ":
                servers.append(_start_server(line, scratch))
                continue
            # make targets run in the checkout itself: in a linked copy a stale stamp would
            # reinstall the environment with the copy's paths baked into its scripts
            where = ROOT if line.startswith("make ") else scratch
            run = subprocess.run(line, shell=True, cwd=where, capture_output=True, text=True,
                                 timeout=600, env={**os.environ, "PYTHONPATH": str(ROOT)})
            assert run.returncode == 0, f"{line}\n{run.stdout[-2000:]}\n{run.stderr[-2000:]}"
    finally:
        for server in servers:
            os.killpg(server.pid, signal.SIGTERM)  # the shell and the server under it
            server.wait(timeout=30)
    assert (ROOT / "demo-output" / "assignments.csv").exists()
    assert (scratch / "world" / "reps_summary.csv").exists()


def _start_server(line: str, where: Path) -> subprocess.Popen[bytes]:
    """A long-running README line (``leadroute serve``) runs in the background until the
    block's other lines are done; it must answer /health within a minute."""
    port = int(re.search(r"--port (\d+)", line).group(1))  # type: ignore[union-attr]
    server = subprocess.Popen(line, shell=True, cwd=where, start_new_session=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, f"{line} exited with {server.returncode}"
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return server
        except OSError:
            time.sleep(0.2)
    os.killpg(server.pid, signal.SIGTERM)
    raise AssertionError(f"{line}: no answer on port {port} within 60 s")


@pytest.mark.parametrize(
    "code", [body for language, body in BLOCKS if language == "python"],
    ids=lambda code: code.splitlines()[0][:40],
)
def test_readme_python_blocks_run(code: str) -> None:
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
