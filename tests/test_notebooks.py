"""The notebooks run top to bottom (so they never go stale), are stored without outputs, and
each ``.ipynb`` holds exactly the cells of its jupytext source ``notebooks/NAME.py`` (the file
that is edited, linted and type-checked), so neither side can be edited alone."""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SYNC = ".venv/bin/jupytext --sync notebooks/*.py"


def _cells(notebook: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


def test_there_are_notebooks() -> None:
    assert [p.name for p in NOTEBOOKS] == [
        "01_fit_affinity.ipynb", "02_tune_policy.ipynb", "03_backtest.ipynb"]


def test_every_notebook_and_source_are_paired() -> None:
    sources = sorted(p.stem for p in (ROOT / "notebooks").glob("*.py"))
    assert sources == [p.stem for p in NOTEBOOKS]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_matches_its_source(path: Path) -> None:
    source = jupytext.read(path.with_suffix(".py"), fmt="py:percent")
    stored = nbformat.read(path, as_version=4)
    assert _cells(stored) == _cells(source), f"{path.name} is out of sync: run `{SYNC}`"


def test_an_edit_to_one_side_is_seen() -> None:
    text = (ROOT / "notebooks" / "02_tune_policy.py").read_text(encoding="utf-8")
    edited = jupytext.reads(text.replace("n_reps=20", "n_reps=21"), fmt="py:percent")
    stored = nbformat.read(ROOT / "notebooks" / "02_tune_policy.ipynb", as_version=4)
    assert _cells(edited) != _cells(stored)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_top_to_bottom(path: Path) -> None:
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT)}})
    client.execute()  # raises CellExecutionError naming the failing cell
