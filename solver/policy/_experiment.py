"""Holdout experiments: which leads the control strategy routes.

A unit (a lead, or a whole account with ``unit = "account"``) is in the control arm when
its keyed draw falls below ``share``. The draw hashes the experiment's name and the unit's
id, so a unit keeps its arm in every batch of the experiment. Leads bound to an account
group (``keep_together = "hard"``) always use the account as the unit: a group cannot be
split between two strategies.
"""

from __future__ import annotations

import enum

import numpy as np
import numpy.typing as npt

from solver.policy._draws import keyed_uniform
from solver.policy._model import Experiment

BoolArray = npt.NDArray[np.bool_]


class Arm(enum.Enum):
    TREATMENT = "treatment"  # routed by the batch's strategy (the optimiser)
    CONTROL = "control"  # routed by the experiment's control strategy


def in_control(experiment: Experiment, lead_ids: npt.NDArray[np.str_],
               account_of: npt.NDArray[np.object_], *, groups_hard: bool) -> BoolArray:
    """Per lead: True when its unit is in the control arm."""
    out = np.zeros(len(lead_ids), dtype=bool)
    for lead, lead_id in enumerate(lead_ids.tolist()):
        account = account_of[lead]
        by_account = account is not None and (experiment.unit == "account" or groups_hard)
        unit = ("account", str(account)) if by_account else ("lead", str(lead_id))
        out[lead] = keyed_uniform("experiment", experiment.name, *unit) < experiment.share
    return out
