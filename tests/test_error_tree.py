"""One exception hierarchy: every error class is defined in ``solver/errors.py``, and the
tree its docstring draws (copied into ARCHITECTURE.md) is the real one."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from solver import errors

ROOT = Path(__file__).resolve().parents[1]
# HTTP control flow, never seen by a caller (see the docstring of solver/errors.py)
OUTSIDE_THE_TREE = {"RepeatedId", "NotSignedIn"}
_BRANCH = re.compile(r"^(?P<indent>[ │]*)(?:├── |└── )(?P<name>\w+)")


def _drawn_parents(text: str) -> dict[str, str]:
    """Each class of a box-drawing tree mapped to its parent (4 columns a level)."""
    parents: dict[str, str] = {}
    stack = ["LeadrouteError"]
    for line in text.splitlines():
        match = _BRANCH.match(line.strip("\n").removeprefix("    "))
        if match is None:
            continue
        depth = len(match["indent"]) // 4
        del stack[depth + 1:]
        parents[match["name"]] = stack[depth]
        stack.append(match["name"])
    return parents


def _real_parents() -> dict[str, str]:
    ours = {name: getattr(errors, name) for name in errors.__all__}
    return {name: next(base.__name__ for base in cls.__bases__ if base.__name__ in ours)
            for name, cls in ours.items() if name != "LeadrouteError"}


def test_the_docstring_draws_the_real_tree() -> None:
    assert _drawn_parents(errors.__doc__ or "") == _real_parents()


def test_architecture_draws_the_same_tree() -> None:
    text = (ROOT / "ARCHITECTURE.md").read_text()
    block = text.split("```\nLeadrouteError\n", 1)[1].split("```", 1)[0]
    assert _drawn_parents("\n".join("    " + line for line in block.splitlines())) == (
        _real_parents())


def test_the_tree_reader_sees_nesting() -> None:
    drawn = "    LeadrouteError\n    ├── A\n    │   └── B\n    └── C\n        └── D\n"
    assert _drawn_parents(drawn) == {"A": "LeadrouteError", "B": "A", "C": "LeadrouteError",
                                     "D": "C"}


def _exception_classes(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            bases = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "")
                     for b in node.bases}
            if bases & {*errors.__all__, "Exception", "HTTPException"} or any(
                    base.endswith(("Error", "Exception")) for base in bases):
                names.append(node.name)
    return names


@pytest.mark.parametrize(
    "path", [p for top in ("solver", "models") for p in sorted((ROOT / top).rglob("*.py"))
             if p != ROOT / "solver" / "errors.py"],
    ids=lambda p: str(p.relative_to(ROOT)))
def test_no_exception_class_outside_solver_errors(path: Path) -> None:
    assert set(_exception_classes(path)) <= OUTSIDE_THE_TREE
