# %% [markdown]
# # Tune the routing policy
#
# The trade-off between expected conversions and evenness (the fairness band and ramp-up),
# the price of each constraint, and the shadow price of each rep's capacity.

# %%
import numpy as np
import pandas as pd

from models import AffinityModel
from models.synthetic import SyntheticWorld, WorldConfig
from solver import SolveOptions, load_leads, load_reps, problem_from_matrix
from solver.policy import PolicyOutcome, parse_policy, route_with_policy

# %%
world = SyntheticWorld(WorldConfig(seed=0, n_history=5_000, n_reps=20))
model = AffinityModel().fit(world.history(), world.reps)
leads = load_leads(world.leads(150, seed=1).assign(effort=1.0))
reps = world.reps.copy()
reps["capacity"] = 10.0
reps = load_reps(reps)
problem = problem_from_matrix(leads, reps, model.score_matrix(leads, reps))
truth = world.true_probability(leads, reps)
options = SolveOptions(time_limit_s=5)


def run(policy: dict[str, object]) -> tuple[PolicyOutcome, float, float]:
    """Route the batch under ``policy``: the outcome, its true expected conversions and the
    largest share deviation among reps with a target."""
    out = route_with_policy(problem, leads, reps, parse_policy(policy), options=options)
    routed = out.rep_index >= 0
    conversions = float(truth[np.flatnonzero(routed), out.rep_index[routed]].sum())
    summary = out.rep_summary
    deviation = float(summary.loc[summary["target"] > 0, "share_deviation"].abs().max())
    return out, conversions, deviation


# %% [markdown]
# ## Pareto curve: conversions against the fairness band

# %%
rows = []
for band in (0.0, 0.05, 0.1, 0.2, 0.4, None):
    policy: dict[str, object] = {"accounts": {"keep_together": "off"}}
    if band is not None:
        policy["fairness"] = {"band": band}
    _, conversions, deviation = run(policy)
    rows.append({"band": "none" if band is None else band,
                 "true expected conversions": conversions,
                 "largest share deviation": deviation})
pareto = pd.DataFrame(rows)
pareto.plot(x="largest share deviation", y="true expected conversions", marker="o",
            title="price of evenness")
pareto

# %% [markdown]
# ## The price of each constraint

# %%
base: dict[str, object] = {"accounts": {"keep_together": "off"}}
territory = [{"kind": "equals", "lead": "region", "rep": "region"}]
variants: dict[str, dict[str, object]] = {
    "scores only": base,
    "+ territory rule": {**base, "rules": territory},
    "+ account groups": {},
    "+ ramp-up": {**base, "ramp": {"schedule": [[0, 0.5], [90, 1.0]]}},
    "+ fairness ±10%": {**base, "fairness": {"band": 0.1}},
}
prices = pd.DataFrame([{"policy": name, "true expected conversions": run(p)[1]}
                       for name, p in variants.items()])
converted = prices["true expected conversions"]
prices["price"] = converted.iloc[0] - converted
prices

# %% [markdown]
# ## Capacity shadow prices
#
# What one more unit of capacity would add to the objective for each rep (LP duals: a
# marginal value, not unique when degenerate).

# %%
out = run(base)[0]
out.rep_summary.set_index("rep_id")["shadow_price"].plot.bar(title="capacity shadow price");
