"""Write the notebooks from the cell sources below (outputs stripped, reviewable diffs).

    .venv/bin/python notebooks/build_notebooks.py

Every plot comes from ``models.plotting``; cells only call the project's API.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

FIT_AFFINITY = [
    ("md", "# Fit the affinity model\n\nP(convert | lead, rep) learned from logged history: "
           "a seeded synthetic world (where the truth is known) and, when the shared data "
           "folder is present, the real CRM export."),
    ("code", "import numpy as np\nimport pandas as pd\n\n"
             "from models import AffinityModel, validate\n"
             "from models.calibration import reliability_table\n"
             "from models.plotting import reliability_figure\n"
             "from models.synthetic import SyntheticWorld, WorldConfig"),
    ("code", "world = SyntheticWorld(WorldConfig(seed=0, n_history=6_000))\n"
             "history, reps = world.history(), world.reps\n"
             "report = validate(AffinityModel(), history, reps, truth=world.true_probability)\n"
             "print(report.split)\nprint(report.verdict)\n"
             "pd.DataFrame({'model': vars(report.model), 'lead-only': vars(report.baseline)})"),
    ("md", "## Within-lead ranking and routed value\n\nA router only uses how the model "
           "orders reps *for one lead*; pooled log loss and AUC barely show it. Within-lead "
           "AUC is 0.5 for a model with no within-lead order; the routed value is the "
           "off-policy (SNIPS) estimate of the conversion rate of the model's own "
           "assignment of the held-out period, next to a uniformly random rep; the rank "
           "correlation with the truth is known here because the world is synthetic."),
    ("code", "pd.Series(vars(report.routing))"),
    ("md", "## Calibration\n\nThe optimiser multiplies probabilities by deal value, so they "
           "must be calibrated: predicted rates should match observed rates out of time."),
    ("code", "table = pd.DataFrame([vars(b) for b in report.reliability])\n"
             "reliability_figure(table, 'Out-of-time calibration');"),
    ("md", "## The interaction blocks the data chose\n\nCandidate blocks come from the "
           "tables' columns (rep identity × each lead column, each rep attribute × each lead "
           "column, each detected match); a block enters only when it lowers out-of-fold "
           "log loss by more than one standard error of that gain, each with its own "
           "penalty; C is then chosen by cross-validation."),
    ("code", "model = AffinityModel().fit(history, reps)\n"
             "print('\\n'.join(model.describe_fit()))\n"
             "pd.DataFrame([vars(s) for s in model.block_scores_]).sort_values("
             "['stage', 'gain'], ascending=[False, False]).head(12)"),
    ("md", "## Per-rep strengths against the truth\n\nEach rep's mean predicted conversion "
           "on a fresh batch, against the world's true mean for that rep."),
    ("code", "leads = world.leads(500, seed=3)\n"
             "estimated = model.score_matrix(leads, reps).mean(axis=0)\n"
             "true = world.true_probability(leads, reps).mean(axis=0)\n"
             "strengths = pd.DataFrame({'rep_id': reps['rep_id'], 'estimated': estimated, "
             "'true': true,\n"
             "                          'history_rows': reps['rep_id'].map("
             "history['rep_id'].value_counts()).fillna(0).astype(int)})\n"
             "print('correlation with the truth:', round(np.corrcoef(estimated, true)[0, 1], 3))\n"
             "strengths.plot.scatter(x='true', y='estimated', title='per-rep strength');"),
    ("md", "## Cold-start reps\n\nReps hired after the history window have no rows; their "
           "estimates come from reps like them and the global rate, never wild values."),
    ("code", "strengths[strengths['history_rows'] == 0]"),
    ("md", "## The real CRM export (skipped when the shared data folder is absent)"),
    ("code", "from models.maven import find_maven_dir, load_maven_crm\n\n"
             "source = find_maven_dir()\n"
             "if source is None:\n"
             "    print('maven-crm data not found: set LEADROUTE_DATA to run this part')\n"
             "else:\n"
             "    crm = load_maven_crm(source)\n"
             "    crm_report = validate(AffinityModel(), crm.history, crm.reps)\n"
             "    print(crm_report.verdict)"),
]

TUNE_POLICY = [
    ("md", "# Tune the routing policy\n\nThe trade-off between expected conversions and "
           "evenness (the fairness band and ramp-up), the price of each constraint, and the "
           "shadow price of each rep's capacity."),
    ("code", "import numpy as np\nimport pandas as pd\n\n"
             "from models import AffinityModel\n"
             "from models.synthetic import SyntheticWorld, WorldConfig\n"
             "from solver import SolveOptions\n"
             "from solver._build import problem_from_matrix\n"
             "from solver._tables import load_leads, load_reps\n"
             "from solver.policy import parse_policy, route_with_policy"),
    ("code", "world = SyntheticWorld(WorldConfig(seed=0, n_history=5_000, n_reps=20))\n"
             "model = AffinityModel().fit(world.history(), world.reps)\n"
             "leads = load_leads(world.leads(150, seed=1).assign(effort=1.0))\n"
             "reps = world.reps.copy()\nreps['capacity'] = 10.0\nreps = load_reps(reps)\n"
             "problem = problem_from_matrix(leads, reps, model.score_matrix(leads, reps))\n"
             "truth = world.true_probability(leads, reps)\n"
             "options = SolveOptions(time_limit_s=5)\n\n"
             "def run(policy):\n"
             "    out = route_with_policy(problem, leads, reps, parse_policy(policy), "
             "options=options)\n"
             "    routed = out.rep_index >= 0\n"
             "    conversions = truth[np.flatnonzero(routed), out.rep_index[routed]].sum()\n"
             "    deviation = out.rep_summary.loc[out.rep_summary['target'] > 0, "
             "'share_deviation'].abs().max()\n"
             "    return out, conversions, deviation"),
    ("md", "## Pareto curve: conversions against the fairness band"),
    ("code", "rows = []\nfor band in (0.0, 0.05, 0.1, 0.2, 0.4, None):\n"
             "    policy = {'accounts': {'keep_together': 'off'}}\n"
             "    if band is not None:\n"
             "        policy['fairness'] = {'band': band}\n"
             "    _, conversions, deviation = run(policy)\n"
             "    rows.append({'band': 'none' if band is None else band, "
             "'true expected conversions': conversions, 'largest share deviation': deviation})\n"
             "pareto = pd.DataFrame(rows)\n"
             "ax = pareto.plot(x='largest share deviation', y='true expected conversions', "
             "marker='o', title='price of evenness')\n"
             "pareto"),
    ("md", "## The price of each constraint"),
    ("code", "base = {'accounts': {'keep_together': 'off'}}\n"
             "variants = {\n"
             "    'scores only': base,\n"
             "    '+ territory rule': {**base, 'rules': [{'kind': 'equals', 'lead': 'region', "
             "'rep': 'region'}]},\n"
             "    '+ account groups': {},\n"
             "    '+ ramp-up': {**base, 'ramp': {'schedule': [[0, 0.5], [90, 1.0]]}},\n"
             "    '+ fairness ±10%': {**base, 'fairness': {'band': 0.1}},\n"
             "}\n"
             "prices = pd.DataFrame([{'policy': name, 'true expected conversions': run(p)[1]}\n"
             "                       for name, p in variants.items()])\n"
             "prices['price'] = prices['true expected conversions'].iloc[0] - "
             "prices['true expected conversions']\nprices"),
    ("md", "## Capacity shadow prices\n\nWhat one more unit of capacity would add to the "
           "objective for each rep (LP duals: a marginal value, not unique when degenerate)."),
    ("code", "out, _, _ = run(base)\n"
             "out.rep_summary.set_index('rep_id')['shadow_price'].plot.bar("
             "title='capacity shadow price');"),
]

BACKTEST = [
    ("md", "# Backtest strategies against history\n\nWould another strategy have converted "
           "more than what was done? Off-policy estimators on the logged history, with "
           "cross-fitted scores so the model never grades itself."),
    ("code", "from models.plotting import estimates_figure, loads_figure\n"
             "from models.synthetic import SyntheticWorld, WorldConfig\n"
             "from solver.app.backtest import BacktestConfig, run_backtest\n"
             "from solver.app.report import conclusions"),
    ("code", "world = SyntheticWorld(WorldConfig(seed=0, n_history=1_500, n_reps=8, "
             "n_new_reps=0, history_days=10, explore=0.5))\n"
             "history, reps = world.history(), world.reps.copy()\n"
             "reps['capacity'] = 30.0  # per daily batch\n"
             "result = run_backtest(history, reps, BacktestConfig(\n"
             "    strategies=('round_robin', 'load_balancing', 'greedy', 'optimal'), "
             "n_folds=3, n_bootstrap=200))\n"
             "estimates_figure(result.estimates);"),
    ("code", "result.lift.round(4)"),
    ("code", "loads_figure(result.loads);\nresult.fairness.round(3)"),
    ("code", "for line in conclusions(result.lift):\n    print(line)"),
    ("md", "## What to conclude, and what not\n\n"
           "- A lift whose interval excludes 0 under the doubly robust estimator is a real "
           "difference *if* the logged propensities are right; with estimated propensities "
           "it rests on that model.\n"
           "- The direct method's interval is narrow because it trusts the reward model; "
           "use it as a cross-check, not as the verdict.\n"
           "- Replay is unbiased only for uniform logging; here logging favoured home-region "
           "reps, so replay is biased.\n"
           "- Few effective samples (`n_effective`) mean heavy importance weights: intervals "
           "then under-cover. Prefer a pilot A/B test (`models.policy_eval.compare_conversions`, "
           "`required_sample_size`) before switching."),
]


def build(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    notebook = new_notebook()
    notebook.cells = [new_markdown_cell(text) if kind == "md" else new_code_cell(text)
                      for kind, text in cells]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    return notebook


NOTEBOOKS = {
    "01_fit_affinity.ipynb": FIT_AFFINITY,
    "02_tune_policy.ipynb": TUNE_POLICY,
    "03_backtest.ipynb": BACKTEST,
}


def main() -> None:
    for name, cells in NOTEBOOKS.items():
        nbformat.write(build(cells), HERE / name)


if __name__ == "__main__":
    main()
