"""The learning loop on the synthetic world: what exploration costs, what it buys, and
whether a holdout's interval covers the true lift.

Part 1, a simulated month of service operation per exploration share (0, 5%, 10%): a
model fitted on a short bootstrap log routes daily batches with ``route_with_policy``
(``[explore] share``); outcomes are drawn from the world's true probabilities (the same
uniform per lead for every share: common random numbers); every 7 days the model is
refitted on the bootstrap log plus everything logged since. Printed per share:

- ``lost``: conversions lost to exploration = true expected conversions of the same day's
  routing without exploration (same model, same leads) minus those of the routing used;
- ``week k``: true expected conversions per lead of routing without exploration by the
  model in use that week (model quality as routing sees it; week 1 is the bootstrap
  model, the same for every share);
- ``final``: the same on five later days of leads with the model refitted on the month;
- ``IPS``/``DR``: the backtest's interval on the month's log for round robin (a strategy
  far from the logger), its width, and round robin's true value on those leads.

Part 2, holdout coverage: for many seeds, a fresh world and model, daily batches under
``[experiment] share = 0.5`` (control round robin); the true lift is the difference of the
arms' true expected conversion rates given the realised routing; printed is how often the
fixed-horizon 95% interval and the always-valid 95% interval covered it.

    .venv/bin/python benchmarks/bench_learning_loop.py                 # a few minutes
    .venv/bin/python benchmarks/bench_learning_loop.py --worlds 5 --days 56 --coverage-seeds 200

Timings are not the point here; the machine is shared (2 cores, up to 8 users).

Measured (2026-12-02, shared machine at load 6-14). Part 1 with ``--worlds 3
--coverage-seeds 0`` (456 s); conversions are true expected conversions, per lead for the
week columns; round robin's true value 0.29:

=====  ================  ======  ======  ======  ======  ======  ===============  ===============
share  lost/1000 leads   week 1  week 2  week 3  week 4  final   IPS 90% (width)  DR 90% (width)
=====  ================  ======  ======  ======  ======  ======  ===============  ===============
0      0                 0.3933  0.4153  0.4274  0.4297  0.4137  [0.027, 0.042]   [0.341, 0.357]
0.05   4.86              0.3933  0.4136  0.4292  0.4333  0.4120  [0.032, 0.313]   [0.322, 0.541]
0.10   11.49             0.3933  0.4098  0.4294  0.4276  0.4130  [0.042, 0.168]   [0.299, 0.420]
=====  ================  ======  ======  ======  ======  ======  ===============  ===============

Exploration costs about 5 (5%) and 11 (10%) expected conversions per 1,000 leads; in one
month of 1,400 leads it buys no measurable model quality (week 4 and final differ between
shares by less than their noise). What it buys is honest backtests: on the deterministic log
(share 0) IPS and DR give narrow intervals far from round robin's true 0.29 (no overlap:
IPS sees only the leads the optimiser happened to give round robin's rep, DR rests on its
reward model); with 5-10% exploration the intervals widen to their real uncertainty.
Part 2 with ``--coverage-seeds 40 --experiment-days 10`` (the first version's defaults;
mean true lift +0.081, sd 0.023): fixed-horizon 95% interval coverage 0.975 (±0.068 at
n=40), always-valid coverage 1.000 with mean width 0.31 (conservative at this size, as
always-valid intervals are).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from models import AffinityModel
from models.policy_eval import experiment_report
from models.synthetic import SyntheticWorld, WorldConfig
from solver._build import problem_from_matrix
from solver._solve import SolveOptions
from solver.app.backtest import BacktestConfig, run_backtest
from solver.contract_tables import load_leads, load_reps
from solver.policy import Policy, parse_policy, route_with_policy

OPTIONS = SolveOptions(time_limit_s=10.0, seed=0)


@dataclass
class Month:
    lost: float = 0.0
    routed_leads: int = 0
    weekly: list[float] = field(default_factory=list)  # per lead, no exploration
    final: float = float("nan")
    backtest: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    truth_rr: float = float("nan")


def world_for(seed: int, bootstrap_days: int, bootstrap_rows: int) -> SyntheticWorld:
    return SyntheticWorld(WorldConfig(seed=seed, n_reps=12, n_new_reps=0, n_teams=3,
                                      n_history=bootstrap_rows, history_days=bootstrap_days))


def day_reps(world: SyntheticWorld, capacity: float) -> pd.DataFrame:
    reps = world.reps.copy()
    reps["capacity"] = capacity
    return load_reps(reps)


def route(model: AffinityModel, leads: pd.DataFrame, reps: pd.DataFrame, policy: Policy
          ) -> pd.DataFrame:
    problem = problem_from_matrix(leads, reps, model.score_matrix(leads, reps))
    return route_with_policy(problem, leads, reps, policy, options=OPTIONS).assignments


def expected(world: SyntheticWorld, leads: pd.DataFrame, reps: pd.DataFrame,
             assignments: pd.DataFrame) -> npt.NDArray[np.float64]:
    """True P(convert) of each lead's assigned rep (0 when unassigned)."""
    truth = world.true_probability(leads, reps)
    column = pd.Series(np.arange(len(reps)), index=reps["rep_id"].astype(str))
    rep = assignments["rep_id"].astype(str)
    routed = (rep != "").to_numpy()
    out = np.zeros(len(leads))
    out[routed] = truth[np.flatnonzero(routed), column.loc[rep[routed]].to_numpy()]
    return out


def simulate_month(world: SyntheticWorld, share: float, args: argparse.Namespace) -> Month:
    reps = day_reps(world, args.capacity)
    bootstrap = world.history()
    policy = parse_policy({"explore": {"share": share, "seed": 1}} if share > 0 else {})
    exploit = parse_policy({})
    model = AffinityModel(random_state=0).fit(bootstrap, reps)
    start = pd.Timestamp(world.config.history_start) + pd.Timedelta(
        days=world.config.history_days)
    month = Month()
    logged: list[pd.DataFrame] = []
    week: list[float] = []
    for day in range(args.days):
        if day and day % 7 == 0:  # the weekly refit on everything logged so far
            month.weekly.append(float(np.mean(week)))
            week = []
            model = AffinityModel(random_state=0).fit(
                pd.concat([bootstrap, *logged], ignore_index=True), reps)
        leads = load_leads(world.leads(args.leads_per_day, seed=day,
                                       start=start + pd.Timedelta(days=day)))
        used = route(model, leads, reps, policy)
        p_used = expected(world, leads, reps, used)
        p_best = (p_used if share == 0 else
                  expected(world, leads, reps, route(model, leads, reps, exploit)))
        month.lost += float(p_best.sum() - p_used.sum())
        week.extend(p_best.tolist())
        u = np.random.default_rng([world.config.seed, 99, day]).uniform(size=len(leads))
        assigned = (used["rep_id"].astype(str) != "").to_numpy()
        rows = leads[assigned].assign(
            rep_id=used.loc[assigned, "rep_id"].to_numpy(),
            converted=(u[assigned] < p_used[assigned]).astype(int),
            assigned_at=pd.to_datetime(leads.loc[assigned, "created_at"]),
            propensity=used.loc[assigned, "propensity"].to_numpy()
            if "propensity" in used else 1.0)
        logged.append(rows)
        month.routed_leads += int(assigned.sum())
    month.weekly.append(float(np.mean(week)))
    model = AffinityModel(random_state=0).fit(
        pd.concat([bootstrap, *logged], ignore_index=True), reps)
    final: list[float] = []
    for day in range(args.days, args.days + 5):  # five later days, one batch each
        leads = load_leads(world.leads(args.leads_per_day, seed=10_000 + day,
                                       start=start + pd.Timedelta(days=day)))
        final.extend(expected(world, leads, reps, route(model, leads, reps, exploit)))
    month.final = float(np.mean(final))
    _backtest(world, pd.concat(logged, ignore_index=True), reps, month, args)
    return month


def _backtest(world: SyntheticWorld, log: pd.DataFrame, reps: pd.DataFrame, month: Month,
              args: argparse.Namespace) -> None:
    config = BacktestConfig(strategies=("round_robin",), estimators=("ips", "dr"),
                            n_folds=2, n_bootstrap=args.bootstrap, alpha=0.1, seed=0)
    result = run_backtest(log, reps, config)
    for row in result.estimates.itertuples():
        month.backtest[str(row.estimator)] = (float(row.value), float(row.ci_low),  # type: ignore[arg-type]
                                              float(row.ci_high))  # type: ignore[arg-type]
    assigned = result.assignments["round_robin"]
    truth = expected(world, log, reps, assigned.set_index("lead_id").loc[log["lead_id"]]
                     .reset_index())
    month.truth_rr = float(truth.sum() / len(log))


def part_one(args: argparse.Namespace) -> None:
    shares = [float(s) for s in args.shares.split(",")]
    results: dict[float, list[Month]] = {s: [] for s in shares}
    for seed in range(args.worlds):
        world = world_for(seed, args.bootstrap_days, args.bootstrap_rows)
        for share in shares:
            results[share].append(simulate_month(world, share, args))
    print(f"\n## a simulated month: {args.worlds} world(s), {args.days} days x "
          f"{args.leads_per_day} leads, 12 reps (capacity {args.capacity:g}/day), weekly "
          f"refits; bootstrap log {args.bootstrap_rows} rows; means over worlds")
    weeks = max(len(m.weekly) for ms in results.values() for m in ms)
    header = (f"{'share':>6} {'lost conv.':>10} {'lost/1000 leads':>15} "
              + " ".join(f"{f'week {k + 1}':>7}" for k in range(weeks))
              + f" {'final':>7}  {'IPS 90% interval (width)':>27}  "
              f"{'DR 90% interval (width)':>27}  {'RR truth':>8}")
    print(header)
    for share, months in results.items():
        lost = np.mean([m.lost for m in months])
        per = 1000 * np.mean([m.lost / max(m.routed_leads, 1) for m in months])
        weekly = np.mean([m.weekly for m in months], axis=0)
        cells = []
        for name in ("ips", "dr"):
            low = np.mean([m.backtest[name][1] for m in months])
            high = np.mean([m.backtest[name][2] for m in months])
            cells.append(f"[{low:.3f}, {high:.3f}] ({high - low:.3f})")
        print(f"{share:>6.2f} {lost:>10.2f} {per:>15.2f} "
              + " ".join(f"{w:>7.4f}" for w in weekly)
              + f" {np.mean([m.final for m in months]):>7.4f}  {cells[0]:>27}  "
              f"{cells[1]:>27}  {np.mean([m.truth_rr for m in months]):>8.4f}")


def part_two(args: argparse.Namespace) -> None:
    fixed = valid = 0
    lifts, widths = [], []
    for seed in range(args.coverage_seeds):
        world = world_for(1000 + seed, args.bootstrap_days, args.bootstrap_rows)
        reps = day_reps(world, args.capacity)
        model = AffinityModel(random_state=0).fit(world.history(), reps)
        policy = parse_policy({"experiment": {"name": f"holdout-{seed}", "share": 0.5,
                                              "control": "round_robin"}})
        start = pd.Timestamp(world.config.history_start) + pd.Timedelta(
            days=world.config.history_days)
        arms, truth, outcome = [], [], []
        rng = np.random.default_rng([seed, 7])
        for day in range(args.experiment_days):
            leads = load_leads(world.leads(args.leads_per_day, seed=day,
                                           start=start + pd.Timedelta(days=day)))
            table = route(model, leads, reps, policy)
            p = expected(world, leads, reps, table)
            arms.append((table["arm"] == "control").to_numpy())
            truth.append(p)
            outcome.append((rng.uniform(size=len(p)) < p).astype(float))
        control, p, y = np.concatenate(arms), np.concatenate(truth), np.concatenate(outcome)
        true_lift = p[~control].mean() - p[control].mean()
        report = experiment_report(control, y, control_share=0.5, alpha=0.05)
        fixed += report.conversion.ci_low <= true_lift <= report.conversion.ci_high
        valid += report.always_valid.low <= true_lift <= report.always_valid.high
        lifts.append(true_lift)
        widths.append(report.always_valid.high - report.always_valid.low)
    n = args.coverage_seeds
    print(f"\n## holdout coverage: {n} seeds, {args.experiment_days} days x "
          f"{args.leads_per_day} leads, share 0.5 (control round robin)")
    print(f"mean true lift {np.mean(lifts):+.4f} (sd {np.std(lifts):.4f}); nominal 95%")
    print(f"fixed-horizon interval coverage {fixed / n:.3f} (±{1.96 * np.sqrt(0.95 * 0.05 / n):.3f}"
          f" at n={n})")
    print(f"always-valid interval coverage  {valid / n:.3f}; mean width "
          f"{np.mean(widths):.4f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--worlds", type=int, default=1, help="worlds for part 1")
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--leads-per-day", type=int, default=50)
    parser.add_argument("--capacity", type=float, default=8.0)
    parser.add_argument("--shares", default="0,0.05,0.10")
    parser.add_argument("--bootstrap-rows", type=int, default=400)
    parser.add_argument("--bootstrap-days", type=int, default=14)
    parser.add_argument("--bootstrap", type=int, default=100,
                        help="bootstrap resamples of the backtest intervals")
    parser.add_argument("--coverage-seeds", type=int, default=20)
    parser.add_argument("--experiment-days", type=int, default=6)
    parser.add_argument("--skip-month", action="store_true")
    args = parser.parse_args()
    started = time.perf_counter()
    print("# bench_learning_loop (shared 2-core machine; figures, not timings, matter)")
    if not args.skip_month:
        part_one(args)
        print(f"# part 1: {time.perf_counter() - started:.0f} s")
    if args.coverage_seeds > 0:
        part_two(args)
    print(f"\n# {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
