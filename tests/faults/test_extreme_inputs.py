"""Extreme numbers, out-of-range timestamps and byte-order marks at the CSV entry points:
refused with file, row and column, or routed without ever breaking a cap."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from solver._scaling import EFFORT_SCALE, scale_efforts, whole_slots
from solver.contract_tables import load_leads, load_reps
from solver.errors import InputError, SolverError


@pytest.mark.parametrize(("column", "value", "match"), [
    ("effort", "1e16", "row 1, column 'effort': must be <= 1e\\+09"),
    ("value", "1e300", "row 1, column 'value': must be <= 1e\\+12"),
    ("created_at", "3000-01-01", "row 1, column 'created_at': .* outside the supported range"),
    ("created_at", "0001-01-01T00:00:00", "column 'created_at': .* outside the supported"),
])
def test_unrepresentable_lead_cells_are_refused(tmp_path: Path, column: str, value: str,
                                                match: str) -> None:
    path = tmp_path / "leads.csv"
    path.write_text(f"lead_id,{column}\nL1,{value}\n")
    with pytest.raises(InputError, match=match):
        load_leads(path)


@pytest.mark.parametrize(("column", "value", "match"), [
    ("capacity", "1e308", "row 1, column 'capacity': must be <= 1e\\+12"),
    ("capacity", "9.3e18", "column 'capacity': must be <="),
    ("weight", "1e300", "column 'weight': must be <= 1e\\+06"),
])
def test_unrepresentable_rep_cells_are_refused(column: str, value: str, match: str) -> None:
    frame = pd.DataFrame({"rep_id": ["R1"], "capacity": ["2"]}).assign(**{column: [value]})
    with pytest.raises(InputError, match=match):
        load_reps(frame)


def test_a_bom_does_not_hide_a_repeated_first_column(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("lead_id,lead_id\nA,B\n", encoding="utf-8-sig")
    with pytest.raises(InputError, match="column 'lead_id': column appears twice"):
        load_leads(path)


def test_a_bom_file_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("lead_id,effort\nA,2\n", encoding="utf-8-sig")
    assert list(load_leads(path)["lead_id"]) == ["A"]


def test_huge_effort_never_fits_a_small_capacity() -> None:
    """Before the fix 1e16 x 1000 wrapped to a negative int64, clamped to 1: it fit."""
    effort, capacity = scale_efforts(np.array([1e16, 1.0]), np.array([2.0]))
    assert effort[0] > capacity[0]
    assert effort[1] == EFFORT_SCALE


def test_huge_capacity_never_binds_and_never_wraps() -> None:
    for cap in (1e18, 9.3e18, 1e308):
        effort, capacity = scale_efforts(np.array([1.0, 2.0]), np.array([cap, 1.0]))
        assert capacity[0] >= effort.sum() and capacity[1] == EFFORT_SCALE


def test_efforts_beyond_int64_are_refused_by_name() -> None:
    with pytest.raises(SolverError, match="overflow 64-bit integer scaling"):
        scale_efforts(np.full(20, 1e15), np.full(20, 1e15))


def test_flow_slots_never_wrap() -> None:
    slots = whole_slots(np.array([1e308, 9.3e18, 2.5, 0.0]), np.ones(4), 1e-9, most=7)
    assert slots.tolist() == [7, 7, 2, 0]


def _solve(efforts: list[float], capacities: list[float]) -> pd.DataFrame:
    """The engines on frames that skipped the loaders (as a library caller may pass)."""
    from solver._build import problem_from_matrix
    from solver._solve import SolveOptions, solve

    leads = pd.DataFrame({"lead_id": [f"L{i}" for i in range(len(efforts))],
                          "account_id": None, "value": 1.0, "effort": efforts,
                          "created_at": pd.NaT})
    reps = pd.DataFrame({"rep_id": [f"R{j}" for j in range(len(capacities))],
                         "capacity": capacities, "active": True, "weight": 1.0,
                         "start_date": pd.NaT})
    problem = problem_from_matrix(leads, reps, np.ones((len(leads), len(reps))))
    result = solve(problem, options=SolveOptions(time_limit_s=5))
    return result.assignments(problem)


def test_engine_never_assigns_an_effort_beyond_the_cap() -> None:
    out = _solve([1e16, 1.0], [2.0]).set_index("lead_id")
    assert out.loc["L0", "status"] != "assigned"
    assert out.loc["L1", "status"] == "assigned"


@pytest.mark.parametrize("capacity", [1e18, 9.3e18, 1e308])
def test_whole_unit_capacities_never_wrap(capacity: float) -> None:
    from solver._build import problem_from_matrix
    from solver._gap_lp import effort_units

    leads = pd.DataFrame({"lead_id": ["L0", "L1", "L2"], "account_id": None, "value": 1.0,
                          "effort": [1.0, 2.0, 3.0], "created_at": pd.NaT})
    reps = pd.DataFrame({"rep_id": ["R0", "R1"], "capacity": [capacity, 2.0],
                         "active": True, "weight": 1.0, "start_date": pd.NaT})
    problem = problem_from_matrix(leads, reps, np.ones((3, 2)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflowing cast warns before it wraps
        units, whole = effort_units(problem)
    assert units is not None
    assert whole.tolist() == [6, 2]  # R0: all it could ever take; R1: its own capacity


@pytest.mark.parametrize("capacity", [1e18, 9.3e18, 1e308])
@pytest.mark.parametrize("efforts", [[1.0, 1.0, 1.0], [1.0, 2.0, 3.0]], ids=["flow", "cpsat"])
def test_engine_routes_everything_under_a_huge_capacity(capacity: float,
                                                        efforts: list[float]) -> None:
    out = _solve(efforts, [capacity, 1.0])
    assert (out["status"] == "assigned").all()
