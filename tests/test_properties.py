"""Property tests of the contract's invariants against a brute-force solver.

Random tiny problems (at most 7 leads × 4 reps, random eligibility, efforts uniform,
per rep, per lead or per pair, random capacities): the engines must match the exhaustive
optimum (maximal coverage first, then maximal total score) and keep every invariant.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solver import LeadStatus, RoutingProblem, SolveOptions, greedy_best_fit, solve

# Efforts and capacities on a half-unit grid: the engines' integer scaling is exact there,
# so the brute force and the engines agree on which loads fit.
EFFORTS = (0.5, 1.0, 1.5, 2.0, 3.0)
EFFORT_MODES = ("one", "per_rep", "per_lead", "per_pair")


def approx(value: float) -> object:
    return pytest.approx(value, abs=1e-9)


@dataclass(frozen=True)
class Case:
    score: npt.NDArray[np.float64]  # n × m
    eligible: npt.NDArray[np.bool_]  # n × m
    effort: npt.NDArray[np.float64]  # n × m
    capacity: npt.NDArray[np.float64]  # m
    mode: str

    def problem(self) -> RoutingProblem:
        return RoutingProblem.from_dense(
            self.score, self.capacity, effort=self.effort, eligible=self.eligible
        )


@st.composite
def cases(draw: st.DrawFn) -> Case:
    n = draw(st.integers(1, 7))
    m = draw(st.integers(1, 4))
    eligible = np.array(draw(st.lists(st.booleans(), min_size=n * m, max_size=n * m)),
                        dtype=bool).reshape(n, m)
    score_grid = draw(st.sampled_from(["coarse", "fine"]))
    if score_grid == "coarse":  # many ties
        values = draw(st.lists(st.integers(-3, 3), min_size=n * m, max_size=n * m))
        score = np.array(values, dtype=float).reshape(n, m)
    else:
        values = draw(st.lists(st.floats(-100, 100, allow_nan=False, width=32),
                               min_size=n * m, max_size=n * m))
        score = np.array(values, dtype=float).reshape(n, m)
    mode = draw(st.sampled_from(EFFORT_MODES))
    effort_of = st.sampled_from(EFFORTS)
    if mode == "one":
        effort = np.ones((n, m))
    elif mode == "per_rep":
        effort = np.tile(np.array(draw(st.lists(effort_of, min_size=m, max_size=m))), (n, 1))
    elif mode == "per_lead":
        lead = np.array(draw(st.lists(effort_of, min_size=n, max_size=n)))
        effort = np.tile(lead[:, None], (1, m))
    else:
        effort = np.array(draw(st.lists(effort_of, min_size=n * m, max_size=n * m)))
        effort = effort.reshape(n, m)
    capacity = np.array(draw(st.lists(st.integers(0, 12), min_size=m, max_size=m))) / 2.0
    return Case(score, eligible, effort, capacity, mode)


def brute_force(case: Case) -> tuple[int, float]:
    """(maximal coverage, best total score at that coverage) by full enumeration."""
    n, m = case.score.shape
    options = [[-1, *np.flatnonzero(case.eligible[i]).tolist()] for i in range(n)]
    choice = np.array(list(itertools.product(*options)), dtype=np.int64)  # K × n
    assigned = choice >= 0
    safe = np.maximum(choice, 0)
    leads = np.arange(n)
    effort = np.where(assigned, case.effort[leads, safe], 0.0)
    score = np.where(assigned, case.score[leads, safe], 0.0)
    feasible = np.ones(len(choice), dtype=bool)
    for rep in range(m):
        load = np.where(choice == rep, effort, 0.0).sum(axis=1)
        feasible &= load <= case.capacity[rep] + 1e-9
    coverage = np.where(feasible, assigned.sum(axis=1), -1)
    best_coverage = int(coverage.max())
    best_score = float(score.sum(axis=1)[coverage == best_coverage].max())
    return best_coverage, best_score


def _check_invariants(case: Case, problem: RoutingProblem, rep_index: npt.NDArray[np.int64],
                      objective: float) -> None:
    n, m = case.score.shape
    assert rep_index.shape == (n,)
    assigned = rep_index >= 0
    leads = np.flatnonzero(assigned)
    reps = rep_index[leads]
    assert np.all(reps < m)
    assert np.all(case.eligible[leads, reps]), "an ineligible pair was used"
    loads = np.bincount(reps, weights=case.effort[leads, reps], minlength=m)
    assert np.all(loads <= case.capacity + 1e-9), "a rep was over-filled"
    assert objective == approx(float(case.score[leads, reps].sum()))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cases())
def test_engines_match_brute_force_and_keep_the_invariants(case: Case) -> None:
    problem = case.problem()
    options = SolveOptions(time_limit_s=20.0, seed=3)
    result = solve(problem, options=options)

    # no lead lost or duplicated; every lead has a status and a reason
    table = result.assignments(problem)
    assert table["lead_id"].tolist() == problem.lead_ids.tolist()
    assert table["lead_id"].is_unique
    assert len(result.reasons) == problem.n_leads
    assert all(result.reasons)
    assert [s is LeadStatus.ASSIGNED for s in result.lead_status] == (
        result.rep_index >= 0
    ).tolist()

    _check_invariants(case, problem, result.rep_index, result.objective)
    assert table["score"].fillna(0.0).sum() == approx(result.objective)

    # coverage maximal, then total score optimal
    coverage, best = brute_force(case)
    assert result.n_assigned == coverage
    tolerance = problem.n_leads / result.score_scale + 1e-9  # score rounding to the scale
    assert abs(result.objective - best) <= tolerance, (result.objective, best, case.mode)
    assert abs(result.objective_scaled / result.score_scale - result.objective) <= tolerance

    # same inputs and seed, same output
    again = solve(problem, options=options)
    np.testing.assert_array_equal(again.rep_index, result.rep_index)
    assert again.reasons == result.reasons


@settings(max_examples=100, deadline=None)
@given(case=cases())
def test_greedy_is_feasible_and_never_beats_the_optimum(case: Case) -> None:
    problem = case.problem()
    rep_index = greedy_best_fit(problem)
    leads = np.flatnonzero(rep_index >= 0)
    objective = float(case.score[leads, rep_index[leads]].sum())
    _check_invariants(case, problem, rep_index, objective)
    coverage, best = brute_force(case)
    assert len(leads) <= coverage
    if len(leads) == coverage:
        assert objective <= best + 1e-9
