# %% [markdown]
# # Backtest strategies against history
#
# Would another strategy have converted more than what was done? Off-policy estimators on
# the logged history, with cross-fitted scores so the model never grades itself.

# %%
from models.plotting import estimates_figure, loads_figure
from models.synthetic import SyntheticWorld, WorldConfig
from solver.app.backtest import BacktestConfig, run_backtest
from solver.app.report import conclusions

# %%
world = SyntheticWorld(WorldConfig(seed=0, n_history=1_500, n_reps=8, n_new_reps=0,
                                   history_days=10, explore=0.5))
history, reps = world.history(), world.reps.copy()
reps["capacity"] = 30.0  # per daily batch
result = run_backtest(history, reps, BacktestConfig(
    strategies=("round_robin", "load_balancing", "greedy", "optimal"), n_folds=3,
    n_bootstrap=200))
estimates_figure(result.estimates);

# %%
result.lift.round(4)

# %%
loads_figure(result.loads);
result.fairness.round(3)

# %%
for line in conclusions(result.lift):
    print(line)

# %% [markdown]
# ## What to conclude, and what not
#
# - A lift whose interval excludes 0 under the doubly robust estimator is a real
#   difference *if* the logged propensities are right; with estimated propensities it
#   rests on that model.
# - The direct method's interval is narrow because it trusts the reward model; use it as a
#   cross-check, not as the verdict.
# - Replay is unbiased only for uniform logging; here logging favoured home-region reps, so
#   replay is biased.
# - Few effective samples (`n_effective`) mean heavy importance weights: intervals then
#   under-cover. Prefer a pilot A/B test (`models.policy_eval.compare_conversions`,
#   `required_sample_size`) before switching.
