"""The plain scipy baseline of bench_route_e2e: read the CSVs, solve, write assignments.

What a data scientist would write without leadroute: pandas reads the same leads, reps
and scores CSVs, the score matrix is filled by category codes, each rep's column is
repeated once per unit of capacity, ``linear_sum_assignment`` maximises the total score.

    python benchmarks/_scipy_route.py FOLDER   # reads FOLDER/{leads,reps,scores}.csv
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import linear_sum_assignment


def main(folder: Path) -> None:
    leads = pd.read_csv(folder / "leads.csv", dtype={"lead_id": str})
    reps = pd.read_csv(folder / "reps.csv", dtype={"rep_id": str})
    scores = pd.read_csv(folder / "scores.csv", dtype={"lead_id": str, "rep_id": str})
    lead = pd.Categorical(scores["lead_id"], categories=leads["lead_id"]).codes
    rep = pd.Categorical(scores["rep_id"], categories=reps["rep_id"]).codes
    matrix = np.zeros((len(leads), len(reps)))
    matrix[lead, rep] = scores["score"].to_numpy()
    slots = np.minimum(reps["capacity"].to_numpy(dtype=int), len(leads))
    columns = np.repeat(np.arange(len(reps)), slots)
    rows, cols = linear_sum_assignment(matrix[:, columns], maximize=True)
    chosen = np.full(len(leads), -1)
    chosen[rows] = columns[cols]
    out = pd.DataFrame({
        "lead_id": leads["lead_id"],
        "rep_id": np.where(chosen >= 0, reps["rep_id"].to_numpy()[np.maximum(chosen, 0)], ""),
        "score": np.where(chosen >= 0, matrix[np.arange(len(leads)), np.maximum(chosen, 0)],
                          np.nan),
    })
    out.to_csv(folder / "scipy.csv", index=False)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
