"""The demo's table fits 80 columns without cutting a name or a number, and a legend
says what each column means and that no fairness band was asked for."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from solver.app.commands.demo import COLUMNS, demo_table, print_legend
from solver.app.demo import DemoReport, StrategyRow
from solver.strategies import STRATEGIES


def _report() -> DemoReport:
    rows = tuple(StrategyRow(name, 40_000, 12_345.6 - i, 1.0, 0.123, 123.456)
                 for i, name in enumerate(STRATEGIES))
    return DemoReport(rows=rows, files=(Path("x"),), n_leads=40_000, n_reps=1_000,
                      validation="")


def test_table_fits_80_columns_without_cutting_anything() -> None:
    console = Console(width=80, record=True, color_system=None)
    console.print(demo_table(_report()))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "…" not in text
    for name in STRATEGIES:
        assert f"\n{name} " in text
    assert "12345.6" in text and "100.0%" in text and "123.456" in text


def test_legend_names_every_column_and_the_missing_band() -> None:
    console = Console(width=80, record=True, color_system=None)
    print_legend(console)
    text = " ".join(console.export_text().split())
    for _header, name, _meaning in COLUMNS[1:]:
        assert f"{name}: " in text
    assert "100% means some rep got no lead" in text
    assert "No fairness band was asked for" in text and "[fairness] band = 0.1" in text
