"""Backtest: replay history in its own batches under each strategy, and estimate what each
would have converted with off-policy estimators — never by the model grading itself.

No self-grading: batches are split into ``n_folds`` contiguous blocks of time. Rows of a
block are scored by affinity models trained on the *other* blocks only (cross-fitting):
the other blocks are split in two halves, one trains the model that drives the evaluated
strategies, the other the reward model inside the direct method and doubly robust
estimators, so the evaluation never reuses the noise the strategies selected on. IPS,
SNIPS and replay use only the logged outcomes and propensities.

Batches: one per ``batch`` period of ``assigned_at`` (default a day). Each batch routes
that period's leads with the reps active then (``active`` and ``start_date`` on or before
the period), each with a capacity *per batch*: by default its busiest logged batch (effort),
so no strategy is credited with loads the log never saw (``capacity="table"``: the reps'
``capacity`` column). A note warns, per strategy, when some rep's load in a batch goes
beyond anything it handled in the log. Rotation state carries across batches.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from models import AffinityModel
from models.policy_eval import (
    Estimate,
    LoggedBandit,
    TargetPolicy,
    estimator_from_name,
)
from solver import SolveOptions, gini, share_deviation
from solver.contract_tables import load_history, load_reps, table_label
from solver.errors import InputError
from solver.policy import Policy
from solver.replay import replay_batch
from solver.strategies import strategy_from_name

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Progress = Callable[[str, int, int], None]


CAPACITY_SOURCES = ("logged", "table")


@dataclass(frozen=True, kw_only=True)
class BacktestConfig:
    strategies: tuple[str, ...]
    estimators: tuple[str, ...] = ("replay", "ips", "snips", "dm", "dr")
    n_folds: int = 5
    n_bootstrap: int = 200
    alpha: float = 0.1
    seed: int = 0
    batch: str = "D"  # pandas offset alias of one replayed batch
    time_limit_s: float = 2.0  # per batch and strategy; tight GAP batches stop here
    policy: Policy | None = None
    # capacity per batch: "logged" = each rep's busiest logged batch (effort), so no
    # strategy is credited with loads the log never saw; "table" = the reps' column
    capacity: str = "logged"

    def __post_init__(self) -> None:
        if self.capacity not in CAPACITY_SOURCES:
            raise InputError(f"capacity must be one of {CAPACITY_SOURCES}, got "
                             f"{self.capacity!r}", source="capacity")


@dataclass(frozen=True, eq=False)
class BacktestResult:
    estimates: pd.DataFrame  # strategy, estimator, value, ci_low, ci_high, n_effective
    lift: pd.DataFrame  # strategy, estimator, lift, ci_low, ci_high
    assignments: dict[str, pd.DataFrame]  # strategy -> lead_id, rep_id
    fairness: pd.DataFrame  # strategy, share_deviation, gini
    loads: pd.DataFrame  # rep_id × strategy
    notes: tuple[str, ...]


def check_batch(freq: str, *, source: str = "batch") -> str:
    """``freq`` if pandas can cut timestamps into periods of it (D, W, M, Q, 2D, h, ...);
    otherwise a one-line InputError naming ``source`` (the CLI passes "--batch")."""
    probe = pd.Series(pd.to_datetime(["2023-01-01"]))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            probe.dt.to_period(freq)
    except (ValueError, TypeError, KeyError):
        raise InputError(f"{freq!r} is not a pandas period alias (use e.g. D, W, M)",
                         source=source) from None
    return freq


def _batches(history: pd.DataFrame, freq: str) -> tuple[IntArray, list[str]]:
    notes = []
    if "assigned_at" in history.columns and history["assigned_at"].notna().all():
        stamps = pd.to_datetime(history["assigned_at"])
    elif "created_at" in history.columns and history["created_at"].notna().all():
        stamps = pd.to_datetime(history["created_at"])
        notes.append("batches by created_at (no complete assigned_at column)")
    else:
        stamps = None
    if stamps is None:
        notes.append("no timestamps: batches of 100 rows in file order")
        return np.arange(len(history)) // 100, notes
    periods = stamps.dt.to_period(freq).dt.start_time  # "D", "W", "M" (calendar) all work
    return pd.factorize(periods, sort=True)[0].astype(np.int64), notes


def _cross_fitted_scores(
    history: pd.DataFrame, reps: pd.DataFrame, folds: IntArray, progress: Progress
) -> tuple[FloatArray, FloatArray]:
    """Out-of-fold scores for the strategies and, from disjoint training data, for the
    reward model of DM/DR.

    Rows of block k are scored by two models trained on the other blocks split in two
    halves: one drives the strategies, the other predicts rewards. If one model did both,
    the strategies would pick exactly the pairs whose predictions are too high by chance
    and the direct method would grade that luck as skill (winner's curse).
    """
    strategy_scores = np.zeros((len(history), len(reps)))
    reward_scores = np.zeros((len(history), len(reps)))
    blocks = sorted(set(folds.tolist()))
    for step, fold in enumerate(blocks):
        progress("cross-fitting the affinity model", step, len(blocks))
        held = folds == fold
        others = [b for b in blocks if b != fold]
        halves = (others[0::2], others[1::2]) if len(others) > 1 else (others, others)
        rows = history[held].reset_index(drop=True)
        for target, half in zip((strategy_scores, reward_scores), halves, strict=True):
            train = np.isin(folds, half)
            model = AffinityModel().fit(history[train].reset_index(drop=True), reps)
            target[held] = model.score_matrix(rows, reps)
    progress("cross-fitting the affinity model", len(blocks), len(blocks))
    return strategy_scores, reward_scores


# ids, the logged action and outcomes: never features of the logging policy
_NOT_FEATURES = frozenset({"lead_id", "rep_id", "account_id", "converted", "revenue",
                           "propensity", "value", "created_at", "assigned_at"})


def _propensities(history: pd.DataFrame, reps: pd.DataFrame, actions: IntArray
                  ) -> tuple[FloatArray, bool]:
    if "propensity" in history.columns and history["propensity"].notna().all():
        return history["propensity"].to_numpy(dtype=float), False
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import OneHotEncoder

    # text attributes of the lead: ``object`` or, under pandas 3, the ``str`` dtype
    columns = [c for c in history.columns if c not in _NOT_FEATURES
               and (history[c].dtype == object or pd.api.types.is_string_dtype(history[c]))
               and history[c].nunique() < 50]
    features = (OneHotEncoder(handle_unknown="ignore").fit_transform(history[columns])
                if columns else np.ones((len(history), 1)))
    model = LogisticRegression(max_iter=500).fit(features, actions)
    probabilities = model.predict_proba(features)
    column = np.searchsorted(model.classes_, actions)
    return np.clip(probabilities[np.arange(len(actions)), column], 1e-3, 1.0), True


def load_backtest_tables(history_source: object, reps_source: object, config: BacktestConfig
                         ) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Validated history and reps, each history rep known (else an error naming the
    file, row and column), strategy names and the batch alias checked before any work."""
    check_batch(config.batch)
    history = load_history(history_source)  # type: ignore[arg-type]
    reps = load_reps(reps_source)  # type: ignore[arg-type]
    rep_pos = pd.Series(np.arange(len(reps)), index=reps["rep_id"].to_numpy())
    unknown = ~history["rep_id"].isin(rep_pos.index)
    if unknown.any():
        row = int(np.flatnonzero(unknown.to_numpy())[0])
        raise InputError(f"rep '{history['rep_id'].iloc[row]}' is not in the reps table",
                         source=table_label(history_source, "history"),  # type: ignore[arg-type]
                         row=row + 1, column="rep_id")
    for name in config.strategies:
        strategy_from_name(name)  # unknown names fail before any work
    return history, reps, rep_pos


def batches_and_folds(history: pd.DataFrame, config: BacktestConfig
                      ) -> tuple[IntArray, IntArray, list[str]]:
    """Replay batch per row (``config.batch`` periods), cross-fitting fold per row
    (contiguous time blocks of batches), and notes; rows without a lead id get one."""
    if "lead_id" not in history.columns:
        history["lead_id"] = [f"row-{i + 1}" for i in range(len(history))]
    batch, notes = _batches(history, config.batch)
    n_batches = int(batch.max()) + 1
    folds = (batch * min(config.n_folds, n_batches) // n_batches).astype(np.int64)
    return batch, folds, notes


ESTIMATED_PROPENSITY_NOTE = ("no propensity column: propensities come from a logistic model "
                             "of the logging policy, so IPS/SNIPS/DR/replay rest on that model")
LOGGED_PROPENSITY_NOTE = ("propensities as logged by the routing policy (the propensity "
                          "column, e.g. from [explore] or a holdout): IPS/SNIPS/DR use them")
NO_OVERLAP_NOTE = ("the log is deterministic (every propensity is 1): IPS/SNIPS/replay see only "
                   "leads where a strategy picks the logged rep; route with [explore] to log "
                   "the overlap other strategies need")


def propensity_notes(data: LoggedBandit) -> list[str]:
    """Say where the propensities came from and whether the log can judge other policies."""
    if data.estimated_propensity:
        return [ESTIMATED_PROPENSITY_NOTE]
    if bool(np.all(data.propensities >= 1.0 - 1e-9)):
        return [LOGGED_PROPENSITY_NOTE, NO_OVERLAP_NOTE]
    return [LOGGED_PROPENSITY_NOTE]


def logged_bandit(history: pd.DataFrame, reps: pd.DataFrame, rep_pos: pd.Series,
                  config: BacktestConfig) -> LoggedBandit:
    """The logged decisions as bandit data: action = the logged rep, reward = converted
    (× revenue under a revenue objective), propensities from the column or estimated."""
    actions = rep_pos.loc[history["rep_id"].to_numpy()].to_numpy().astype(np.int64)
    propensities, estimated = _propensities(history, reps, actions)
    revenue = config.policy is not None and config.policy.objective == "expected_revenue"
    rewards = (history["revenue"].fillna(0.0).to_numpy(float) * history["converted"]
               if revenue and "revenue" in history.columns
               else history["converted"].to_numpy(float))
    return LoggedBandit(actions=actions, rewards=np.asarray(rewards, dtype=float),
                        propensities=propensities, n_actions=len(reps),
                        estimated_propensity=estimated)


def run_backtest(
    history_source: object, reps_source: object, config: BacktestConfig,
    progress: Progress | None = None,
) -> BacktestResult:
    progress = progress or (lambda text, done, total: None)
    history, reps, rep_pos = load_backtest_tables(history_source, reps_source, config)
    estimators = [estimator_from_name(name, n_bootstrap=config.n_bootstrap,
                                      alpha=config.alpha, seed=config.seed)
                  for name in config.estimators]

    batch, folds, notes = batches_and_folds(history, config)
    conditional = [e.name for e in estimators if e.conditional_on_model]
    if conditional:
        notes.append(f"{', '.join(conditional)}: the interval is conditional on the reward "
                     "model (it resamples the leads, not the model's error) and undercovers "
                     "when the model is biased; judge differences by the DR, IPS and SNIPS "
                     "intervals")
    n_batches = int(batch.max()) + 1
    scores, rewards_hat = _cross_fitted_scores(history, reps, folds, progress)
    data = logged_bandit(history, reps, rep_pos, config)
    notes.extend(propensity_notes(data))
    effort = history["effort"].to_numpy(float)
    busiest = busiest_logged_batch(data.actions, batch, effort, len(reps))
    reps = apply_capacity(reps, busiest, config, notes)

    start = history.get("assigned_at")
    estimate_rows: list[dict[str, object]] = []
    lift_rows: list[dict[str, object]] = []
    fairness_rows: list[dict[str, object]] = []
    assignments: dict[str, pd.DataFrame] = {}
    loads = pd.DataFrame(index=reps["rep_id"].astype(str))
    weights = _fairness_weights(reps, start)
    for name in config.strategies:
        def replay_progress(done: int, total: int, label: str = f"replaying {name}") -> None:
            progress(label, done, total)

        target = _replay(history, reps, scores, batch, name, config, start, replay_progress)
        progress(f"replaying {name}", n_batches, n_batches)
        policy = TargetPolicy.deterministic(target, len(reps))
        for estimator in estimators:
            estimate_rows.append(_row(name, estimator.name,
                                      estimator.estimate(data, policy, rewards_hat)))
            lift_rows.append(_lift_row(name, estimator.name,
                                       estimator.lift(data, policy, rewards_hat)))
        routed = target >= 0
        assignments[name] = pd.DataFrame({
            "lead_id": history["lead_id"].astype(str),
            "rep_id": np.where(routed, reps["rep_id"].to_numpy()[np.maximum(target, 0)], ""),
        })
        rep_load = np.bincount(target[routed], weights=effort[routed], minlength=len(reps))
        notes.extend(_extrapolation_note(name, target, batch, effort, busiest, reps))
        loads[name] = rep_load
        fairness_rows.append(_fairness_row(name, rep_load, weights))
    logged_load = np.bincount(data.actions, weights=effort, minlength=len(reps))
    loads["logged"] = logged_load
    fairness_rows.append(_fairness_row("logged", logged_load, weights))
    on_policy = _on_policy(data, config)
    # the logging policy's value is its own mean outcome; its rows come first, in the
    # estimators' order like every strategy's rows
    logged_rows = [_row("logged", estimator.name, on_policy) for estimator in estimators]
    return BacktestResult(
        estimates=pd.DataFrame(logged_rows + estimate_rows), lift=pd.DataFrame(lift_rows),
        assignments=assignments, fairness=pd.DataFrame(fairness_rows), loads=loads,
        notes=tuple(notes),
    )


def _fairness_weights(reps: pd.DataFrame, start: pd.Series | None) -> FloatArray:
    """Each rep's fair share weight, over the reps that could take leads at some point
    of the history (active, and started by its last assignment)."""
    last = pd.to_datetime(start).max() if start is not None else None
    started = pd.to_datetime(reps["start_date"])
    present = (started.isna() | (started <= last)).to_numpy() if last is not None else True
    weights: FloatArray = (reps["weight"].to_numpy(float) * reps["active"].to_numpy(bool)
                           * present)
    return weights


def _fairness_row(strategy: str, load: npt.NDArray[Any], weights: FloatArray
                  ) -> dict[str, object]:
    return {"strategy": strategy, "share_deviation": share_deviation(load, weights),
            "gini": gini(load[weights > 0])}


def _lift_row(strategy: str, estimator: str, lift: Estimate) -> dict[str, object]:
    return {"strategy": strategy, "estimator": estimator, "lift": lift.value,
            "ci_low": lift.ci_low, "ci_high": lift.ci_high}


def apply_capacity(reps: pd.DataFrame, busiest: FloatArray, config: BacktestConfig,
                   notes: list[str]) -> pd.DataFrame:
    """The reps with the capacity per batch the replay uses (``config.capacity``)."""
    if config.capacity != "logged":
        return reps
    notes.append("capacity per batch: each rep's busiest logged batch (reps absent from "
                 "the log: the median of the others); `--capacity table` uses the reps' "
                 "capacity column")
    return reps.assign(capacity=np.where(np.isnan(busiest), np.nanmedian(busiest), busiest))


def busiest_logged_batch(actions: IntArray, batch: IntArray, effort: FloatArray,
                         n_reps: int) -> FloatArray:
    """Per rep, the largest effort it was given in one logged batch (NaN: never logged)."""
    return _batch_max(actions, batch, effort, n_reps)


def _batch_max(target: IntArray, batch: IntArray, effort: FloatArray, n_reps: int
               ) -> FloatArray:
    routed = target >= 0
    loads = pd.DataFrame({"rep": target[routed], "batch": batch[routed],
                          "effort": effort[routed]}).groupby(["rep", "batch"])["effort"].sum()
    out = np.full(n_reps, np.nan)
    per_rep = loads.groupby(level="rep").max()
    out[per_rep.index.to_numpy(dtype=np.int64)] = per_rep.to_numpy(dtype=float)
    return out


def _extrapolation_note(name: str, target: IntArray, batch: IntArray, effort: FloatArray,
                        busiest: FloatArray, reps: pd.DataFrame) -> list[str]:
    """A warning when the strategy gives some rep, in one batch, more than that rep ever
    handled in one logged batch: its value there is extrapolated beyond the log."""
    mine = np.nan_to_num(_batch_max(target, batch, effort, len(reps)), nan=0.0)
    logged = np.nan_to_num(busiest, nan=0.0)
    over = np.flatnonzero(mine > logged + 1e-9)
    if len(over) == 0:
        return []
    worst = over[np.argmax(mine[over] - logged[over])]
    return [f"{name}: {len(over)} rep(s) get loads beyond anything logged - e.g. "
            f"{reps['rep_id'].iloc[worst]} takes {mine[worst]:g} in one batch, its busiest "
            f"logged batch was {logged[worst]:g}; the estimate there extrapolates"]


def _on_policy(data: LoggedBandit, config: BacktestConfig) -> Estimate:
    """The logged policy's value: the mean outcome, with the estimators' bootstrap."""
    rng = np.random.default_rng(config.seed)
    draws = rng.poisson(1.0, size=(config.n_bootstrap, data.n_rows)).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        samples = (draws @ data.rewards) / draws.sum(axis=1)
    low, high = np.quantile(samples, [config.alpha / 2, 1 - config.alpha / 2])
    return Estimate(float(data.rewards.mean()), float(low), float(high), float(data.n_rows))


def _row(strategy: str, estimator: str, value: Estimate) -> dict[str, object]:
    return {"strategy": strategy, "estimator": estimator, "value": value.value,
            "ci_low": value.ci_low, "ci_high": value.ci_high,
            "n_effective": value.n_effective}


def _replay(
    history: pd.DataFrame, reps: pd.DataFrame, scores: FloatArray, batch: IntArray,
    name: str, config: BacktestConfig, stamps: pd.Series | None,
    progress: Callable[[int, int], None],
) -> IntArray:
    """The strategy's rep (global index) for every history row, batch by batch."""
    target = np.full(len(history), -1, dtype=np.int64)
    options = SolveOptions(time_limit_s=config.time_limit_s, seed=config.seed)
    strategy = strategy_from_name(name, reps=reps, shared={"seed": config.seed,
                                                          "time_limit_s": config.time_limit_s})
    state = None
    start_dates = pd.to_datetime(reps["start_date"])
    n_batches = int(batch.max()) + 1
    for b in range(n_batches):
        rows = np.flatnonzero(batch == b)
        if len(rows) == 0:
            continue
        day = pd.Timestamp(stamps.iloc[rows[0]]) if stamps is not None else None
        target[rows], state = replay_batch(history, reps, start_dates, rows, day, scores,
                                           config.policy, strategy, state, options)
        if b % 10 == 0:
            progress(b, n_batches)
    return target
