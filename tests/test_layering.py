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


def _private_core_imports(path: Path) -> list[str]:
    """Imports of the core's private modules (``solver._x``, ``solver.policy._x``) or private
    names (``from solver import _x``); the app's own ``solver.app._x`` modules are its own."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        for module in modules:
            parts = module.split(".")
            if parts[0] == "solver" and parts[1:2] != ["app"] and any(
                    part.startswith("_") for part in parts[1:]):
                found.append(f"line {node.lineno}: {module}")
    return found


def _public_surface_users() -> list[Path]:
    return [*sorted((ROOT / "solver" / "app").rglob("*.py")),
            *sorted((ROOT / "notebooks").glob("*.py"))]


@pytest.mark.parametrize("path", _public_surface_users(), ids=lambda p: str(p.relative_to(ROOT)))
def test_app_and_notebooks_import_only_public_core_names(path: Path) -> None:
    assert _private_core_imports(path) == []


def test_the_private_import_check_catches_each_form(tmp_path: Path) -> None:
    path = tmp_path / "probe.py"
    path.write_text("import solver._flow\nfrom solver._build import problem_from_matrix\n"
                    "from solver.policy._route import PolicyInputs\nfrom solver import _flow\n"
                    "from solver import solve\nfrom solver.policy import Policy\n"
                    "from solver.app._io import write_csv_atomic\n")
    assert _private_core_imports(path) == [
        "line 1: solver._flow", "line 2: solver._build",
        "line 2: solver._build.problem_from_matrix",
        "line 3: solver.policy._route", "line 3: solver.policy._route.PolicyInputs",
        "line 4: solver._flow"]
