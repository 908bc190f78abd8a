"""Lead-to-account matching on the labelled set of ``match_set.py``: precision and recall
per kind, false matches on leads that must stay unmatched, duplicates found and false
duplicates, then the time for a large run (100,000 leads × 100,000 accounts by default).

The speed baseline, measured in the same process: the same leads' company names compared
with every account name (rapidfuzz ``extractOne``, no blocking) on a sample, extrapolated.

    .venv/bin/python benchmarks/bench_matching.py [--accounts 3000] [--leads 6000]
        [--big 100000x100000] [--seed 0] [--min-confidence 0.8]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd
from match_set import MATCHABLE, generate
from rapidfuzz import fuzz, process

from models.matching import AccountMatcher, match_leads, name_key, parse_host

THRESHOLD = [0.8]  # --min-confidence


def quality(leads: pd.DataFrame, accounts: pd.DataFrame, truth: pd.DataFrame) -> None:
    started = time.perf_counter()
    table = match_leads(leads, accounts, min_confidence=THRESHOLD[0])
    print(f"{len(leads)} leads × {len(accounts)} accounts matched in "
          f"{time.perf_counter() - started:.1f} s\n")
    report(table, truth)


def report(table: pd.DataFrame, truth: pd.DataFrame, *, per_kind: bool = True) -> None:
    found = table.set_index("lead_id").loc[truth["lead_id"]]
    got = found["account_id"].fillna("").to_numpy()
    want = truth["account_id"].to_numpy()
    kind = truth["kind"].to_numpy()
    is_dup = truth["duplicate_of"].to_numpy() != ""
    print(f"{'kind':<22}{'leads':>7}{'precision':>11}{'recall':>8}{'false matches':>15}")
    for name in sorted(set(kind), key=lambda k: (k not in MATCHABLE, k)) if per_kind else ():
        rows = (kind == name) & ~is_dup
        _line(name, got[rows], want[rows])
    if per_kind:
        _line("duplicates (all kinds)", got[is_dup], want[is_dup])
        print("-" * 63)
    matchable = want != ""
    _line("must stay unmatched", got[~matchable], want[~matchable])
    _line("matchable, overall", got[matchable], want[matchable])
    _line("all leads, overall", got, want)
    predicted = found["duplicate_of"].fillna("").to_numpy()
    true_dup = truth["duplicate_of"].to_numpy()
    hits = int(((predicted == true_dup) & is_dup).sum())
    false_dups = int(((predicted != "") & (predicted != true_dup)).sum())
    print(f"\nduplicates found {hits}/{int(is_dup.sum())} = {hits / max(is_dup.sum(), 1):.3f};"
          f" false duplicates {false_dups}")


def _line(name: str, got: np.ndarray, want: np.ndarray) -> None:
    predicted = got != ""
    correct = predicted & (got == want)
    matchable = want != ""
    precision = correct.sum() / predicted.sum() if predicted.sum() else float("nan")
    recall = correct.sum() / matchable.sum() if matchable.sum() else float("nan")
    false = int((predicted & ~matchable).sum() + (predicted & matchable & (got != want)).sum())
    print(f"{name:<22}{len(got):>7}{precision:>11.3f}{recall:>8.3f}{false:>15}")


def speed(n_leads: int, n_accounts: int, seed: int) -> None:
    t0 = time.perf_counter()
    accounts, leads, truth = generate(n_accounts, n_leads, seed=seed + 1)
    print(f"\ngenerated {n_leads} leads × {n_accounts} accounts in "
          f"{time.perf_counter() - t0:.1f} s")
    name_key.cache_clear()  # cold: nothing normalised by an earlier run in this process
    parse_host.cache_clear()
    t0 = time.perf_counter()
    matcher = AccountMatcher(min_confidence=THRESHOLD[0]).fit(accounts)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    matcher.match(leads)
    match_s = time.perf_counter() - t0
    name_key.cache_clear()
    parse_host.cache_clear()
    t0 = time.perf_counter()
    table = match_leads(leads, accounts, min_confidence=THRESHOLD[0])
    total_s = time.perf_counter() - t0
    print(f"cold: fit (validate + index accounts) {fit_s:.1f} s, match {match_s:.1f} s; "
          f"match_leads (fit + match + dedupe, cold) {total_s:.1f} s = {total_s / 60:.2f} min;"
          f" matched {int(table['account_id'].notna().sum())}, duplicates "
          f"{int(table['duplicate_of'].notna().sum())}")
    report(table, truth)
    sample = [c for c in leads["company"] if c][:200]
    names = [k.text for k in (name_key(n) for n in accounts["name"]) if k]
    t0 = time.perf_counter()
    for company in sample:
        key = name_key(company)
        if key is not None:
            process.extractOne(key.text, names, scorer=fuzz.ratio)
    per_lead = (time.perf_counter() - t0) / max(len(sample), 1)
    unblocked = per_lead * int((leads["company"] != "").sum())
    print(f"baseline without blocking (names only, every account): {per_lead * 1e3:.1f} ms "
          f"per lead → ~{unblocked / 60:.1f} min for the names alone; "
          f"blocked matching is {unblocked / total_s:.1f}× faster end to end")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=3000)
    parser.add_argument("--leads", type=int, default=6000)
    parser.add_argument("--big", default="100000x100000", help="LEADSxACCOUNTS, or 'none'")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--min-confidence", type=float, default=0.8)
    args = parser.parse_args()
    THRESHOLD[0] = args.min_confidence
    print(f"min_confidence {args.min_confidence:g}; machine: {os.cpu_count()} cores, "
          f"shared with other engineers; load average "
          f"{os.getloadavg()[0]:.1f}\n")
    accounts, leads, truth = generate(args.accounts, args.leads, seed=args.seed)
    quality(leads, accounts, truth)
    if args.big != "none":
        n_leads, n_accounts = (int(x) for x in args.big.split("x"))
        speed(n_leads, n_accounts, args.seed)


if __name__ == "__main__":
    main()
