"""Validated loaders: every bad input is an InputError naming the file, row and column."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from solver import InputError, load_leads, load_reps, load_scores

LEADS_OK = "lead_id,value,effort,created_at\nL1,10,1,2024-01-02T09:00:00\nL2,5,2,\nL3,,,\n"
REPS_OK = "rep_id,capacity,active,weight,start_date\nR1,3,true,1,2023-05-01\nR2,2,false,2,\n"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _location(source: str, row: int | None, column: str | None) -> str:
    """The message prefix InputError promises, as a regular expression."""
    parts = [re.escape(source)]
    if row is not None:
        parts.append(f"row {row}")
    if column is not None:
        parts.append(re.escape(f"column '{column}'"))
    return "^" + ", ".join(parts) + ": "


def _check(exc: pytest.ExceptionInfo[InputError], source: str, row: int | None,
           column: str | None) -> None:
    assert (exc.value.source, exc.value.row, exc.value.column) == (source, row, column)
    assert "\n" not in str(exc.value)  # one line a user can act on


# (csv text, expected row, expected column, message fragment)
BAD_LEADS: list[object] = [
    ("duplicate id", "lead_id\nL1\nL2\nL1\n", 3, "lead_id", "duplicate id 'L1'"),
    ("missing lead_id column", "id,value\nL1,1\n", None, "lead_id", "required column is missing"),
    ("empty id", "lead_id,value\nL1,1\n,2\n", 2, "lead_id", "empty id"),
    ("NaN effort", "lead_id,effort\nL1,1\nL2,NaN\n", 2, "effort", "finite number"),
    ("inf effort", "lead_id,effort\nL1,inf\n", 1, "effort", "finite number"),
    ("-inf effort", "lead_id,effort\nL1,1\nL2,2\nL3,-inf\n", 3, "effort", "finite number"),
    ("negative effort", "lead_id,effort\nL1,-1\n", 1, "effort", "must be > 0"),
    ("zero effort", "lead_id,effort\nL1,1\nL2,0\n", 2, "effort", "must be > 0"),
    ("text effort", "lead_id,effort\nL1,heavy\n", 1, "effort", "expected a number, got 'heavy'"),
    ("negative value", "lead_id,value\nL1,3\nL2,-0.5\n", 2, "value", "must be >= 0"),
    ("text value", "lead_id,value\nL1,1k\n", 1, "value", "expected a number"),
    ("bad timestamp", "lead_id,created_at\nL1,2024-01-01\nL2,not-a-date\n", 2, "created_at",
     "expected an ISO timestamp"),
    ("impossible date", "lead_id,created_at\nL1,2024-13-45\n", 1, "created_at",
     "expected an ISO timestamp"),
    ("duplicate header", "lead_id,value,value\nL1,1,2\n", None, "value", "column appears twice"),
]

BAD_REPS: list[tuple[str, str, int | None, str | None, str]] = [
    ("duplicate id", "rep_id,capacity\nR1,1\nR1,2\n", 2, "rep_id", "duplicate id 'R1'"),
    ("missing rep_id column", "name,capacity\nR1,1\n", None, "rep_id",
     "required column is missing"),
    ("missing capacity column", "rep_id,active\nR1,true\n", None, "capacity",
     "required column is missing"),
    ("blank capacity", "rep_id,capacity\nR1,1\nR2,\n", 2, "capacity", "missing value"),
    ("NaN capacity", "rep_id,capacity\nR1,nan\n", 1, "capacity", "finite number"),
    ("inf capacity", "rep_id,capacity\nR1,2\nR2,Infinity\n", 2, "capacity", "finite number"),
    ("negative capacity", "rep_id,capacity\nR1,-3\n", 1, "capacity", "must be >= 0"),
    ("text capacity", "rep_id,capacity\nR1,lots\n", 1, "capacity",
     "expected a number, got 'lots'"),
    ("bad boolean", "rep_id,capacity,active\nR1,1,yes\nR2,1,maybe\n", 2, "active",
     "expected true/false, got 'maybe'"),
    ("zero weight", "rep_id,capacity,weight\nR1,1,0\n", 1, "weight", "must be > 0"),
    ("bad start date", "rep_id,capacity,start_date\nR1,1,soon\n", 1, "start_date",
     "expected an ISO date"),
]

SCORES_HEAD = "lead_id,rep_id,score"
BAD_SCORES: list[tuple[str, str, int | None, str | None, str]] = [
    ("unknown lead", f"{SCORES_HEAD}\nL1,R1,1\nL9,R1,1\n", 2, "lead_id", "unknown lead 'L9'"),
    ("unknown rep", f"{SCORES_HEAD}\nL1,R7,1\n", 1, "rep_id", "unknown rep 'R7'"),
    ("pair twice", f"{SCORES_HEAD}\nL1,R1,1\nL2,R1,1\nL1,R1,2\n", 3, "rep_id",
     r"pair \(L1, R1\) listed twice"),
    ("missing score column", "lead_id,rep_id\nL1,R1\n", None, "score",
     "required column is missing"),
    ("missing rep_id column", "lead_id,score\nL1,1\n", None, "rep_id",
     "required column is missing"),
    ("blank score", f"{SCORES_HEAD}\nL1,R1,\n", 1, "score", "missing value"),
    ("NaN score", f"{SCORES_HEAD}\nL1,R1,0.5\nL2,R1,NaN\n", 2, "score", "finite number"),
    ("text score", f"{SCORES_HEAD}\nL1,R1,high\n", 1, "score", "expected a number"),
    ("zero pair effort", f"{SCORES_HEAD},effort\nL1,R1,1,\nL2,R1,1,0\n", 2, "effort",
     "must be > 0"),
    ("negative pair effort", f"{SCORES_HEAD},effort\nL1,R1,1,-2\n", 1, "effort",
     "must be > 0"),
    ("inf pair effort", f"{SCORES_HEAD},effort\nL1,R1,1,inf\n", 1, "effort", "finite number"),
    ("empty lead id", f"{SCORES_HEAD}\n,R1,1\n", 1, "lead_id", "empty id"),
]


@pytest.mark.parametrize(("case", "text", "row", "column", "fragment"), BAD_LEADS,
                         ids=[c[0] if isinstance(c, tuple) else None for c in BAD_LEADS])
def test_bad_leads_name_file_row_and_column(
    tmp_path: Path, case: str, text: str, row: int | None, column: str | None, fragment: str
) -> None:
    path = _write(tmp_path, "leads.csv", text)
    with pytest.raises(InputError, match=_location(str(path), row, column) + ".*" + fragment):
        load_leads(path)


@pytest.mark.parametrize(("case", "text", "row", "column", "fragment"), BAD_REPS,
                         ids=[c[0] for c in BAD_REPS])
def test_bad_reps_name_file_row_and_column(
    tmp_path: Path, case: str, text: str, row: int | None, column: str | None, fragment: str
) -> None:
    path = _write(tmp_path, "reps.csv", text)
    with pytest.raises(InputError, match=_location(str(path), row, column) + ".*" + fragment):
        load_reps(path)


@pytest.mark.parametrize(("case", "text", "row", "column", "fragment"), BAD_SCORES,
                         ids=[c[0] for c in BAD_SCORES])
def test_bad_scores_name_file_row_and_column(
    tmp_path: Path, case: str, text: str, row: int | None, column: str | None, fragment: str
) -> None:
    leads = load_leads(_write(tmp_path, "leads.csv", LEADS_OK))
    reps = load_reps(_write(tmp_path, "reps.csv", REPS_OK))
    path = _write(tmp_path, "scores.csv", text)
    with pytest.raises(InputError, match=_location(str(path), row, column) + ".*" + fragment) \
            as exc:
        load_scores(path, lead_ids=leads["lead_id"], rep_ids=reps["rep_id"])
    _check(exc, str(path), row, column)


@pytest.mark.parametrize(
    ("loader", "text", "fragment"),
    [(load_leads, "", "file is empty"), (load_leads, "\n", "file is empty"),
     (load_reps, "", "file is empty"), (load_reps, "\n", "file is empty"),
     (load_reps, "lead_id,rep_id,capacity\n", "no data rows")],
    ids=["leads zero bytes", "leads blank line", "reps zero bytes", "reps blank line",
         "reps header only"],
)
def test_empty_and_header_only_files(tmp_path: Path, loader: object, text: str,
                                     fragment: str) -> None:
    path = _write(tmp_path, "table.csv", text)
    with pytest.raises(InputError, match=_location(str(path), None, None) + fragment) as exc:
        loader(path)  # type: ignore[operator]
    _check(exc, str(path), None, None)


def test_header_only_leads_are_an_empty_batch(tmp_path: Path) -> None:
    """The contract: a batch with no leads is valid (a scheduled run with nothing new)."""
    leads = load_leads(_write(tmp_path, "leads.csv", "lead_id,value\n"))
    assert leads.empty and {"lead_id", "value", "effort"} <= set(leads.columns)
    reps = load_reps(_write(tmp_path, "reps.csv", REPS_OK))
    scores = load_scores(_write(tmp_path, "scores.csv", f"{SCORES_HEAD}\n"),
                         lead_ids=leads["lead_id"], rep_ids=reps["rep_id"])
    assert scores.empty


def test_empty_scores_file(tmp_path: Path) -> None:
    leads = load_leads(_write(tmp_path, "leads.csv", LEADS_OK))
    reps = load_reps(_write(tmp_path, "reps.csv", REPS_OK))
    path = _write(tmp_path, "scores.csv", f"{SCORES_HEAD}\n")
    with pytest.raises(InputError, match=_location(str(path), None, None) + "no data rows"):
        load_scores(path, lead_ids=leads["lead_id"], rep_ids=reps["rep_id"])


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.csv"
    with pytest.raises(InputError, match=_location(str(path), None, None) + "file not found"):
        load_leads(path)


def test_not_utf8_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_bytes(b"lead_id,name\nL1,\xff\xfe\xfa\n")
    with pytest.raises(InputError, match="not a UTF-8 text file"):
        load_leads(path)


# -- DataFrame input: same rules, "<name> table" as the source --------------------------
@pytest.mark.parametrize(
    ("frame", "row", "column", "fragment"),
    [
        (pd.DataFrame({"rep_id": ["R1", "R2"], "capacity": [1.0, np.nan]}), 2, "capacity",
         "missing value"),
        (pd.DataFrame({"rep_id": ["R1"], "capacity": [np.inf]}), 1, "capacity", "finite"),
        (pd.DataFrame({"rep_id": ["R1"], "capacity": [-1]}), 1, "capacity", "must be >= 0"),
        (pd.DataFrame({"rep_id": ["R1"], "capacity": [True]}), 1, "capacity",
         "expected a number, got True"),
        (pd.DataFrame({"rep_id": ["R1"], "capacity": [[2]]}), 1, "capacity",
         "expected a number"),
        (pd.DataFrame({"rep_id": ["R1"], "capacity": [2], "active": ["perhaps"]}), 1, "active",
         "expected true/false"),
        (pd.DataFrame({"rep_id": ["R1", "R1"], "capacity": [1, 1]}), 2, "rep_id", "duplicate"),
        (pd.DataFrame({"rep_id": ["R1", None], "capacity": [1, 1]}), 2, "rep_id", "empty id"),
        (pd.DataFrame({"rep_id": ["R1"]}), None, "capacity", "required column is missing"),
        (pd.DataFrame({"rep_id": [], "capacity": []}), None, None, "no data rows"),
    ],
    ids=["nan", "inf", "negative", "bool", "list", "bad bool", "duplicate", "none id",
         "missing column", "no rows"],
)
def test_bad_dataframes_are_located_too(frame: pd.DataFrame, row: int | None,
                                        column: str | None, fragment: str) -> None:
    with pytest.raises(InputError, match=_location("reps table", row, column) + ".*" + fragment) \
            as exc:
        load_reps(frame)
    _check(exc, "reps table", row, column)


def test_dataframe_input_gives_the_same_tables_as_csv(tmp_path: Path) -> None:
    from_csv = load_reps(_write(tmp_path, "reps.csv", REPS_OK))
    frame = pd.DataFrame(
        {"rep_id": ["R1", "R2"], "capacity": [3, 2], "active": [True, False], "weight": [1, 2],
         "start_date": ["2023-05-01", None]}
    )
    from_frame = load_reps(frame)
    pd.testing.assert_frame_equal(from_csv, from_frame)
    assert frame["capacity"].tolist() == [3, 2]  # the caller's frame is not modified


def test_defaults_and_types(tmp_path: Path) -> None:
    leads = load_leads(_write(tmp_path, "leads.csv", LEADS_OK))
    assert leads["lead_id"].tolist() == ["L1", "L2", "L3"]
    assert leads["value"].tolist() == [10.0, 5.0, 1.0]
    assert leads["effort"].tolist() == [1.0, 2.0, 1.0]
    assert leads["created_at"].iloc[0] == pd.Timestamp("2024-01-02 09:00")
    assert leads["created_at"].isna().tolist() == [False, True, True]
    reps = load_reps(_write(tmp_path, "reps.csv", "rep_id,capacity\nR1,2.5\n"))
    assert reps.loc[0, ["capacity", "active", "weight"]].tolist() == [2.5, True, 1.0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("true", True), ("TRUE", True), ("1", True), ("yes", True), ("Y", True), ("t", True),
     ("false", False), ("False", False), ("0", False), ("no", False), ("N", False),
     ("f", False), ("", True)],
)
def test_boolean_spellings(tmp_path: Path, text: str, expected: bool) -> None:
    reps = load_reps(_write(tmp_path, "reps.csv", f"rep_id,capacity,active\nR1,1,{text}\n"))
    assert bool(reps["active"].iloc[0]) is expected


def test_unknown_columns_are_kept_as_attributes(tmp_path: Path) -> None:
    text = ("lead_id,region,skills,employees,score_hint\n"
            "L1,EMEA,de;fr,120,0.5\nL2,APAC,en,,0.25\n")
    leads = load_leads(_write(tmp_path, "leads.csv", text))
    assert leads["region"].tolist() == ["EMEA", "APAC"]
    assert leads["skills"].tolist() == ["de;fr", "en"]
    assert leads["employees"].iloc[0] == 120.0 and np.isnan(leads["employees"].iloc[1])
    assert leads["score_hint"].tolist() == [0.5, 0.25]
    reps = load_reps(pd.DataFrame({"rep_id": ["R1"], "capacity": [1], "team": ["north"]}))
    assert reps["team"].tolist() == ["north"]


def test_ids_are_strings_and_stripped(tmp_path: Path) -> None:
    leads = load_leads(_write(tmp_path, "leads.csv", "lead_id, value\n 7 , 2\n8,3\n"))
    assert leads["lead_id"].tolist() == ["7", "8"]
    assert leads["value"].tolist() == [2.0, 3.0]
    numeric = load_leads(pd.DataFrame({"lead_id": [1, 2]}))
    assert numeric["lead_id"].tolist() == ["1", "2"]


def test_scores_pair_effort_overrides_and_blank_means_lead_effort(tmp_path: Path) -> None:
    leads = load_leads(_write(tmp_path, "leads.csv", LEADS_OK))
    reps = load_reps(_write(tmp_path, "reps.csv", REPS_OK))
    text = f"{SCORES_HEAD},effort\nL1,R1,0.5,3\nL2,R1,-1.5,\n"
    scores = load_scores(_write(tmp_path, "scores.csv", text), lead_ids=leads["lead_id"],
                         rep_ids=reps["rep_id"])
    assert scores["score"].tolist() == [0.5, -1.5]  # a negative score (a cost) is fine
    assert scores["effort"].iloc[0] == 3.0 and np.isnan(scores["effort"].iloc[1])


def test_dataframe_with_missing_dates_and_values_loads() -> None:
    import pandas as pd

    from solver import load_leads, load_reps

    reps = load_reps(pd.DataFrame({"rep_id": ["a", "b"], "capacity": [1.0, 2.0],
                                   "start_date": [pd.Timestamp("2024-01-01"), pd.NaT]}))
    assert reps["start_date"].isna().tolist() == [False, True]
    leads = load_leads(pd.DataFrame({"lead_id": ["x", "y"], "value": [3.0, float("nan")]}))
    assert leads["value"].tolist() == [3.0, 1.0]  # blank value takes the default
