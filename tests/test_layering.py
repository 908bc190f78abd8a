"""The dependency direction of the brief: models never imports the app layer (it may use
the optimisation core's loaders and errors); the optimisation core never imports models."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def _imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _core_files() -> list[Path]:
    return [p for p in (ROOT / "solver").rglob("*.py") if "app" not in p.relative_to(ROOT).parts]


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_solver_core_does_not_import_models(path: Path) -> None:
    assert "models" not in _imported_roots(path)


@pytest.mark.parametrize(
    "path", sorted((ROOT / "models").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_models_do_not_import_the_app_layer(path: Path) -> None:
    assert not any(m == "solver.app" or m.startswith("solver.app.") for m in _imported(path))


def test_importing_the_core_loads_neither_models_nor_the_app() -> None:
    code = (
        "import sys, solver; "
        "bad = [m for m in sys.modules if m == 'models' or m.startswith('solver.app')]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
