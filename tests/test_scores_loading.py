"""The vectorised scores loader: same tables and same located errors as row-by-row code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import solver._columns as columns_module
from solver import InputError, load_scores

LEAD_IDS = pd.Series(["L1", "L2", "L3"])
REP_IDS = pd.Series(["R1", "R2"])


@pytest.fixture(autouse=True, params=[True, False], ids=["pyarrow", "pandas only"])
def _arrow(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test twice: with pyarrow, and as on a core install without it."""
    if request.param and not columns_module.HAVE_ARROW:
        pytest.skip("pyarrow is not installed (the spark extra)")
    monkeypatch.setattr(columns_module, "HAVE_ARROW", request.param)


def _load(tmp_path: Path, text: str) -> pd.DataFrame:
    path = tmp_path / "scores.csv"
    path.write_text(text)
    return load_scores(path, lead_ids=LEAD_IDS, rep_ids=REP_IDS)


def test_padded_quoted_and_python_spelled_numbers_load(tmp_path: Path) -> None:
    text = ('lead_id,rep_id,score,effort\n'
            ' L1 , R2 , 0.25 ,\n'
            '"L2",R1,1_000,2\n'  # Python's float reads 1_000; pyarrow does not
            'L3,R1,-1e-3, 1.5\n')
    scores = _load(tmp_path, text)
    assert scores["lead_id"].tolist() == ["L1", "L2", "L3"]
    assert scores["rep_id"].tolist() == ["R2", "R1", "R1"]
    assert scores["score"].tolist() == [0.25, 1000.0, -0.001]
    assert np.isnan(scores["effort"].iloc[0]) and scores["effort"].tolist()[1:] == [2.0, 1.5]


def test_unsorted_file_and_dataframe_give_the_same_table(tmp_path: Path) -> None:
    text = "lead_id,rep_id,score\nL3,R2,0.3\nL1,R1,0.1\nL1,R2,0.2\n"
    from_csv = _load(tmp_path, text)
    frame = pd.DataFrame({"lead_id": ["L3", "L1", "L1"], "rep_id": ["R2", "R1", "R2"],
                          "score": [0.3, 0.1, 0.2]})
    from_frame = load_scores(frame, lead_ids=LEAD_IDS, rep_ids=REP_IDS)
    pd.testing.assert_frame_equal(from_csv, from_frame)


@pytest.mark.parametrize(
    ("frame", "row", "column", "fragment"),
    [
        ({"lead_id": ["L1", None], "rep_id": ["R1", "R1"], "score": [1.0, 1.0]}, 2,
         "lead_id", "empty id"),
        ({"lead_id": ["L1", "L2"], "rep_id": ["R1", "R1"], "score": [1.0, np.nan]}, 2,
         "score", "missing value"),
        ({"lead_id": ["L1", "L2"], "rep_id": ["R1", "R1"], "score": [True, 1.0]}, 1,
         "score", "expected a number, got True"),
        ({"lead_id": [1, 2], "rep_id": ["R1", "R1"], "score": [1.0, 1.0]}, 1,
         "lead_id", "unknown lead '1'"),
        ({"lead_id": ["L1", "L2"], "rep_id": ["R1", "R1"], "score": ["0.5", "inf"]}, 2,
         "score", "finite number"),
    ],
    ids=["none id", "nan score", "bool score", "numeric unknown id", "text inf"],
)
def test_dataframe_errors_are_located(frame: dict[str, list[object]], row: int,
                                      column: str, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment) as exc:
        load_scores(pd.DataFrame(frame), lead_ids=LEAD_IDS, rep_ids=REP_IDS)
    assert (exc.value.source, exc.value.row, exc.value.column) == ("scores table", row, column)


@pytest.mark.parametrize(
    ("body", "row", "column", "fragment"),
    [
        ("L1,R1,0.5\nL2,R1,nan\nL3,R1,oops\n", 2, "score", "finite number"),
        ("L1,R1,0.5\nL2,R1,oops\nL3,R1,nan\n", 2, "score", "expected a number, got 'oops'"),
        ("L1,R1,0.5\nL2,R9,x\n", 2, "rep_id", "unknown rep 'R9'"),
        ("L1,R1,0.5\nL2,R1,0.5\nL1,R1,0.5\nL2,R1,0.5\n", 3, "rep_id", "listed twice"),
        ("L1,R1,0.5\nL2,R1,0.5,7\n", None, None, "not a readable CSV"),
    ],
    ids=["first of two bad numbers", "first of two bad numbers (other order)",
         "unknown rep", "first repeat", "ragged row"],
)
def test_first_bad_row_is_named(tmp_path: Path, body: str, row: int | None,
                                column: str | None, fragment: str) -> None:
    with pytest.raises(InputError, match=fragment) as exc:
        _load(tmp_path, "lead_id,rep_id,score\n" + body)
    assert (exc.value.row, exc.value.column) == (row, column)
