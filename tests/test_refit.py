"""``leadroute refit``: a candidate fitted before the holdout window replaces the current
model only when it is not worse there; the previous model is kept next to it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from models import AffinityModel, save_model
from models.propensity_weights import Weighting
from models.synthetic import SyntheticWorld, WorldConfig
from solver.app.cli import app
from solver.app.refit import keep_previous, refit_model
from solver.errors import InputError

WORLD = SyntheticWorld(WorldConfig(n_reps=12, n_new_reps=0, n_history=4000, seed=5))


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    return WORLD.history()


def _files(tmp_path: Path, history: pd.DataFrame) -> tuple[Path, Path]:
    h, r = tmp_path / "history.csv", tmp_path / "reps.csv"
    history.to_csv(h, index=False)
    WORLD.reps.to_csv(r, index=False)
    return h, r


def _model(tmp_path: Path, rows: pd.DataFrame) -> Path:
    path = tmp_path / "current.joblib"
    save_model(AffinityModel(random_state=0).fit(rows, WORLD.reps), path)
    return path


def _refit(h: Path, r: Path, model: Path) -> str:
    done = CliRunner().invoke(app, ["refit", "--history", str(h), "--reps", str(r),
                                    "--model", str(model), "--holdout-days", "30"])
    assert done.exit_code == 0, done.output
    return done.output


def test_a_better_candidate_is_promoted_and_the_old_model_kept(
        tmp_path: Path, history: pd.DataFrame) -> None:
    model = _model(tmp_path, history.iloc[:150])  # the current model saw little data
    before = model.read_bytes()
    output = _refit(*_files(tmp_path, history), model)
    assert "promoted" in output and "not promoted" not in output
    # the synthetic history logs propensities: refit weighs the candidate as fit does
    assert "fit weighted by inverse propensity" in " ".join(output.split())
    kept = tmp_path / "current.v1.joblib"
    assert kept.read_bytes() == before and model.read_bytes() != before


def test_a_worse_candidate_is_not_promoted(tmp_path: Path, history: pd.DataFrame) -> None:
    stamps = pd.to_datetime(history["assigned_at"])
    cutoff = stamps.max() - pd.Timedelta(days=30)
    early, late = history[stamps <= cutoff], history[stamps > cutoff]
    model = _model(tmp_path, early)  # the current model saw all the early data
    before = model.read_bytes()
    # the candidate only gets the last 100 rows before the window: it is worse there
    output = _refit(*_files(tmp_path, pd.concat([early.iloc[-100:], late])), model)
    assert "not promoted" in output
    assert model.read_bytes() == before
    assert not list(tmp_path.glob("current.v*.joblib"))


def test_versions_never_overwrite_each_other(tmp_path: Path) -> None:
    model = tmp_path / "m.joblib"
    for content in (b"one", b"two"):
        model.write_bytes(content)
        keep_previous(model)
    assert (tmp_path / "m.v1.joblib").read_bytes() == b"one"
    assert (tmp_path / "m.v2.joblib").read_bytes() == b"two"


@pytest.mark.parametrize(("change", "match"), [
    (lambda h: h.drop(columns="assigned_at"), r"column 'assigned_at'.*refit holds out"),
    (lambda h: h.assign(assigned_at=[""] + list(h["assigned_at"].iloc[1:])),
     r"row 1, column 'assigned_at'"),
    (lambda h: h.iloc[-5:], r"no rows before the holdout"),
])
def test_refit_refuses_history_it_cannot_split_by_time(
        tmp_path: Path, history: pd.DataFrame, change: Callable[[pd.DataFrame], pd.DataFrame],
        match: str) -> None:
    h, r = _files(tmp_path, change(history.iloc[:400]))
    with pytest.raises(InputError, match=match):
        refit_model(h, r, tmp_path / "current.joblib", holdout_days=30)
    assert not (tmp_path / "current.joblib").exists()


def test_without_a_current_model_the_candidate_becomes_the_first(
        tmp_path: Path, history: pd.DataFrame) -> None:
    h, r = _files(tmp_path, history.iloc[:1500])
    result = refit_model(h, r, tmp_path / "current.joblib", holdout_days=30)
    assert result.promoted and result.current is None and result.kept_as is None
    assert (tmp_path / "current.joblib").is_file()


def test_refit_weighs_like_fit(tmp_path: Path, history: pd.DataFrame) -> None:
    h, r = _files(tmp_path, history)
    plain = refit_model(h, r, tmp_path / "a.joblib", holdout_days=30,
                        weighting=Weighting(mode="none"))
    weighted = refit_model(h, r, tmp_path / "b.joblib", holdout_days=30,
                           weighting=Weighting(clip=5.0))
    assert plain.notes[0] == "fit unweighted (--weights none)"
    assert "clipped at 5" in weighted.notes[0]
    assert plain.candidate.log_loss != weighted.candidate.log_loss
