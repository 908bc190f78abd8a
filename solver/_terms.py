"""Named objective terms: what each part of the routing objective is worth, in the
objective's own units (expected conversions, or revenue with ``expected_revenue``).

A result carries ``terms: Mapping[TermName, float]``, each value the term's contribution
to the objective (costs are negative). Which terms exist, per engine:

=================  ==============  ==================  ===============  ====================
term               min-cost flow   GAP engine          CP-SAT model     in ``SolveResult``
=================  ==============  ==================  ===============  ====================
``COVERAGE``       lexicographic   by construction     weighted term    no (not conversions)
``FAIRNESS_BAND``  lexicographic   hard (band kept)    weighted term    fit given up vs. the
                                                                        unbanded reference
``ACCOUNT_SPLIT``  (never routed   (never routed       weighted term    −penalty × extra reps
                   here)           here)
``FIT``            cost            score               weighted term    total score
=================  ==============  ==================  ===============  ====================

Coverage and the band come before the score (a lexicographic order written as weights), so
their model weights are no prices: a band's cost in conversions is only known against a
solve without it (``band_cost``), which the fairness policy always makes. ``FIT`` and
``ACCOUNT_SPLIT`` sum to what the engines maximise; ``FAIRNESS_BAND`` says how much of
that the band took away (it is already inside them, not a further cost).

Ramp-up, nurture and expiry are no objective terms: they change the inputs (capacity and
share, which leads are routed, the scores) before any engine runs, so no engine can price
them; their effects show in the rep summary (``ramp_factor``) and in each lead's reason.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping

import numpy as np
import numpy.typing as npt

from solver._cpsat_types import SplitPenalty
from solver._problem import RoutingProblem

IntArray = npt.NDArray[np.int64]


class TermName(enum.Enum):
    COVERAGE = "coverage"  # routed leads: always first
    FAIRNESS_BAND = "fairness band"  # load outside each rep's share band
    ACCOUNT_SPLIT = "account split"  # extra reps a soft account group is spread over
    FIT = "fit"  # total score of the assigned pairs


TermValues = Mapping[TermName, float]


def assignment_terms(problem: RoutingProblem, rep_index: IntArray, chosen: IntArray,
                     split: SplitPenalty | None = None) -> dict[TermName, float]:
    """The priced terms of an assignment (any engine's; ``chosen``: its pairs): ``FIT``,
    and with ``split``, ``ACCOUNT_SPLIT`` = −penalty × (reps each group's routed leads
    use, minus one)."""
    terms = {TermName.FIT: float(problem.pair_score[chosen].sum())}
    if split is not None:
        extra = sum(count - 1 for count in split.splits(rep_index).values())
        terms[TermName.ACCOUNT_SPLIT] = -split.penalty * extra
    return terms


def band_cost(banded: TermValues, free: TermValues) -> float:
    """``FAIRNESS_BAND``'s contribution: the priced objective the band gave up against
    the solve without it (never positive: a reference that stopped short of its optimum
    can score below the banded solve, which does not make the band a gain)."""
    return min(priced_total(banded) - priced_total(free), 0.0)


def priced_total(terms: TermValues) -> float:
    """What the engines traded off: fit minus the split penalty."""
    return sum(terms.get(name, 0.0) for name in (TermName.FIT, TermName.ACCOUNT_SPLIT))


def add_terms(parts: Iterable[TermValues]) -> dict[TermName, float]:
    """Sum term by term (the parts of a batch are separable); a term is present when any
    part has it."""
    total: dict[TermName, float] = {}
    for part in parts:
        for name, value in part.items():
            total[name] = total.get(name, 0.0) + value
    return total


def describe_costs(terms: TermValues, unit: str = "conversions") -> list[str]:
    """The costs (negative terms) in words, largest first, e.g. ``"fairness band cost
    0.8 conversions"``; terms that cost nothing are left out."""
    costs = [(name, -value) for name, value in terms.items()
             if name is not TermName.FIT and value < 0]
    costs.sort(key=lambda item: -item[1])
    return [f"{name.value} cost {cost:.4g} {unit}" for name, cost in costs]

