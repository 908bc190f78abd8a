"""Backtest on the Maven CRM export, like for like: capacities the logged routing fitted in,
and a cross-fitted propensity model written into the history.

    .venv/bin/python benchmarks/bench_backtest_maven_like_for_like.py [--n-bootstrap 300]

Why a second Maven benchmark (``bench_backtest_maven.py`` is the plain run):

* Capacity. The loader's ``capacity`` is a rep's *average* monthly deal count, which the
  busy months exceed: replayed per month, every strategy leaves ~22% of the deals unrouted
  (an unrouted lead converts nothing), so each looks ~0.13 worse than the logged routing
  for a reason that has nothing to do with routing. Here a rep's monthly capacity is the
  most deals it had in any month of the export: the logged routing fits, so does every
  strategy, and the routed share is printed to show it.
* Propensities. The export has no ``propensity`` column. The runner's fallback model sees
  no feature under pandas 3 (text columns are the ``str`` dtype; see
  tests/test_backtest_known_issues.py), so this script estimates the logging policy
  itself: a multinomial logistic regression of the agent on the deal's text attributes
  (product, series, sector, office location, parent account: one-hot) and the month
  (agents join over time), out-of-fold over 5 folds, floored at 0.001. Every IPS, SNIPS,
  DR and replay figure below rests on that model.

Skips with a message when the data folder is absent ($LEADROUTE_DATA or ../shared/data).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.preprocessing import OneHotEncoder

from models.maven import find_maven_dir, load_maven_crm
from solver.app.backtest import BacktestConfig, run_backtest
from solver.app.report import conclusions
from solver.contract_tables import load_history

FLOOR = 1e-3


def peak_monthly_capacity(history: pd.DataFrame, reps: pd.DataFrame) -> pd.DataFrame:
    """Each rep's capacity per month = the most deals it had in one month (at least 1)."""
    month = pd.to_datetime(history["assigned_at"]).dt.to_period("M")
    peak = history.groupby([month, "rep_id"]).size().groupby("rep_id").max()
    out = reps.copy()
    out["capacity"] = out["rep_id"].map(peak).fillna(1.0).astype(float).clip(lower=1.0)
    return out


def cross_fitted_propensities(history: pd.DataFrame, seed: int = 0) -> np.ndarray:
    """P(logged agent | deal), each row predicted by a model that did not see it."""
    text = [c for c in history.columns
            if c not in ("lead_id", "rep_id", "account_id")
            and (pd.api.types.is_string_dtype(history[c]) or history[c].dtype == object)
            and history[c].nunique() < 50]
    features = history[text].astype(str).assign(
        month=pd.to_datetime(history["assigned_at"]).dt.to_period("M").astype(str))
    encoded = OneHotEncoder(handle_unknown="ignore").fit_transform(features)
    actions = history["rep_id"].astype(str).to_numpy()
    out = np.full(len(history), FLOOR)
    for train, test in KFold(5, shuffle=True, random_state=seed).split(encoded):
        model = LogisticRegression(max_iter=1000).fit(encoded[train], actions[train])
        column = {rep: j for j, rep in enumerate(model.classes_)}
        probabilities = model.predict_proba(encoded[test])
        known = np.array([rep in column for rep in actions[test]])
        columns = np.array([column.get(rep, 0) for rep in actions[test]])
        picked = probabilities[np.arange(len(test)), columns]
        out[test] = np.where(known, picked, FLOOR)  # an agent unseen in training: the floor
    return np.clip(out, FLOOR, 1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--strategies", default="round_robin,load_balancing,greedy,optimal")
    parser.add_argument("--n-bootstrap", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    source = find_maven_dir()
    if source is None:
        print("SKIPPED: maven-crm data not found (set LEADROUTE_DATA or place the shared "
              "data at ../shared/data next to the repository)")
        return
    started = time.perf_counter()
    tables = load_maven_crm(source)
    history = load_history(tables.history)
    reps = peak_monthly_capacity(history, tables.reps)
    history["propensity"] = cross_fitted_propensities(history, args.seed)
    config = BacktestConfig(strategies=tuple(args.strategies.split(",")), batch="M",
                            n_bootstrap=args.n_bootstrap, seed=args.seed)
    result = run_backtest(history, reps, config)
    months = pd.to_datetime(history["assigned_at"]).dt.to_period("M")
    print(f"# Maven CRM export, like for like: {len(history)} closed deals, {len(reps)} reps, "
          f"monthly batches ({months.nunique()}), {time.perf_counter() - started:.1f} s")
    print(f"# capacity per month = a rep's busiest logged month: total {reps['capacity'].sum():.0f}"
          f" vs the busiest month's {months.value_counts().max()} deals")
    p = history["propensity"]
    print(f"# propensity: cross-fitted multinomial logistic model (text attributes + month); "
          f"median {p.median():.3f}, 5%-95% [{p.quantile(0.05):.3f}, {p.quantile(0.95):.3f}],"
          f" uniform over the {history['rep_id'].nunique()} agents with deals would be "
          f"{1 / history['rep_id'].nunique():.3f}")
    for name, assigned in result.assignments.items():
        print(f"# {name}: routed share {(assigned['rep_id'] != '').mean():.3f}")
    print(result.estimates.round(4).to_string(index=False))
    print()
    print(result.lift.round(4).to_string(index=False))
    print()
    print(result.fairness.round(3).to_string(index=False))
    for line in conclusions(result.lift):
        print(line)
    print("note: every figure rests on the propensity model above (the export does not say "
          "how deals were given to agents)")


if __name__ == "__main__":
    main()
