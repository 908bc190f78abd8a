"""Fit and validate the affinity model on the Maven CRM export; print the metrics.

Run: .venv/bin/python benchmarks/bench_affinity_maven.py  (LEADROUTE_DATA=... optional)
Skips with a message when the maven-crm folder is not found.
"""

from __future__ import annotations

import time

from models import AffinityModel, validate
from models.maven import find_maven_dir, load_maven_crm


def main() -> None:
    src = find_maven_dir()
    if src is None:
        print("SKIPPED: maven-crm data not found (set LEADROUTE_DATA to the shared data "
              "folder, or place it at ../shared/data/maven-crm next to the repository)")
        return
    tables = load_maven_crm(src)
    print(f"{src}: {len(tables.history)} closed deals, {tables.history['rep_id'].nunique()} "
          f"agents with deals, {len(tables.reps)} reps; won rate "
          f"{tables.history['converted'].mean():.3f}")
    for name, estimator in (("logistic (default)", AffinityModel()),
                            ("logistic, every block, C=0.1 (previous default)",
                             AffinityModel(C=0.1, blocks="all"))):
        start = time.perf_counter()
        report = validate(estimator, tables.history, tables.reps)
        seconds = time.perf_counter() - start
        print(f"\n[{name}] split: {report.split}; train {report.n_train}, "
              f"test {report.n_test} ({seconds:.1f} s)")
        print(f"{'':20s} {'log loss':>9s} {'Brier':>7s} {'AUC':>6s} {'ECE':>6s}")
        for label, m in (("model", report.model), ("lead-only baseline", report.baseline)):
            print(f"{label:20s} {m.log_loss:9.4f} {m.brier:7.4f} {m.auc:6.3f} {m.ece:6.3f}")
        print(f"{'constant rate':20s} {report.prior_log_loss:9.4f}")
        print(report.verdict)


if __name__ == "__main__":
    main()
