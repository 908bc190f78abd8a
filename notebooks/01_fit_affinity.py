# %% [markdown]
# # Fit the affinity model
#
# P(convert | lead, rep) learned from logged history: a seeded synthetic world (where the
# truth is known) and, when the shared data folder is present, the real CRM export.

# %%
import numpy as np
import pandas as pd

from models import AffinityModel, validate
from models.maven import find_maven_dir, load_maven_crm
from models.plotting import reliability_figure
from models.synthetic import SyntheticWorld, WorldConfig

# %%
world = SyntheticWorld(WorldConfig(seed=0, n_history=6_000))
history, reps = world.history(), world.reps
report = validate(AffinityModel(), history, reps, truth=world.true_probability)
print(report.split)
print(report.verdict)
pd.DataFrame({"model": vars(report.model), "lead-only": vars(report.baseline)})

# %% [markdown]
# ## Within-lead ranking and routed value
#
# A router only uses how the model orders reps *for one lead*; pooled log loss and AUC
# barely show it. Within-lead AUC is 0.5 for a model with no within-lead order; the routed
# value is the off-policy (SNIPS) estimate of the conversion rate of the model's own
# assignment of the held-out period, next to a uniformly random rep; the rank correlation
# with the truth is known here because the world is synthetic.

# %%
pd.Series(vars(report.routing))

# %% [markdown]
# ## Calibration
#
# The optimiser multiplies probabilities by deal value, so they must be calibrated:
# predicted rates should match observed rates out of time.

# %%
table = pd.DataFrame([vars(b) for b in report.reliability])
reliability_figure(table, "Out-of-time calibration");

# %% [markdown]
# ## The interaction blocks the data chose
#
# Candidate blocks come from the tables' columns (rep identity × each lead column, each rep
# attribute × each lead column, each detected match); a block enters on its own, with its
# own penalty, only when it lowers out-of-fold log loss by more than one standard error of
# that gain; the other blocks enter together under one shared heavy penalty (dropped if
# the group makes out-of-fold log loss worse by more than two standard errors). C is then
# chosen by cross-validation.

# %%
model = AffinityModel().fit(history, reps)
print("\n".join(model.describe_fit()))
blocks = pd.DataFrame([vars(s) for s in model.block_scores_])
blocks.sort_values(["stage", "gain"], ascending=[False, False]).head(12)

# %% [markdown]
# ## Per-rep strengths against the truth
#
# Each rep's mean predicted conversion on a fresh batch, against the world's true mean for
# that rep.

# %%
leads = world.leads(500, seed=3)
estimated = model.score_matrix(leads, reps).mean(axis=0)
true = world.true_probability(leads, reps).mean(axis=0)
history_rows = reps["rep_id"].map(history["rep_id"].value_counts()).fillna(0).astype(int)
strengths = pd.DataFrame({"rep_id": reps["rep_id"], "estimated": estimated, "true": true,
                          "history_rows": history_rows})
print("correlation with the truth:", round(np.corrcoef(estimated, true)[0, 1], 3))
strengths.plot.scatter(x="true", y="estimated", title="per-rep strength");

# %% [markdown]
# ## Cold-start reps
#
# Reps hired after the history window have no rows; their estimates come from reps like
# them and the global rate, never wild values.

# %%
strengths[strengths["history_rows"] == 0]

# %% [markdown]
# ## The real CRM export (skipped when the shared data folder is absent)

# %%
source = find_maven_dir()
if source is None:
    print("maven-crm data not found: set LEADROUTE_DATA to run this part")
else:
    crm = load_maven_crm(source)
    crm_report = validate(AffinityModel(), crm.history, crm.reps)
    print(crm_report.verdict)
