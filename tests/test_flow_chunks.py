"""Chunked passes over the pairs (``lead_chunks``), the sortedness check and the
binary-search pair lookup: against the plain full-size numpy they replace."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from solver import RoutingProblem
from solver._problem import _strictly_increasing, lead_chunks
from solver._result import pair_index_of
from solver.errors import InputError


@st.composite
def sparse_problems(draw: st.DrawFn) -> RoutingProblem:
    n, m = draw(st.integers(0, 12)), draw(st.integers(1, 5))
    mask = np.array(draw(st.lists(st.booleans(), min_size=n * m, max_size=n * m)),
                    dtype=bool).reshape(n, m)
    score = np.arange(n * m, dtype=float).reshape(n, m) % 7
    return RoutingProblem.from_dense(score, np.full(m, 3.0), eligible=mask)


@settings(max_examples=150, deadline=None)
@given(problem=sparse_problems(), size=st.integers(1, 6))
def test_lead_chunks_cover_every_pair_once_at_lead_boundaries(problem: RoutingProblem,
                                                              size: int) -> None:
    starts = problem.lead_pair_bounds()
    chunks = lead_chunks(starts, size)
    covered = np.concatenate([np.arange(a, b) for _, _, a, b in chunks] or [np.zeros(0, int)])
    assert np.array_equal(covered, np.arange(problem.n_pairs))
    for lo, hi, a, b in chunks:
        assert starts[lo] == a and starts[hi] == b and a < b
        assert np.all((problem.pair_lead[a:b] >= lo) & (problem.pair_lead[a:b] < hi))


@settings(max_examples=150, deadline=None)
@given(problem=sparse_problems(), data=st.data())
def test_pair_index_of_finds_the_chosen_pair_or_refuses(problem: RoutingProblem,
                                                        data: st.DataObject) -> None:
    reps = np.array(data.draw(st.lists(st.integers(-1, problem.n_reps - 1),
                                       min_size=problem.n_leads, max_size=problem.n_leads)),
                    dtype=np.int64)
    eligible = {(int(i), int(j)): p for p, (i, j) in
                enumerate(zip(problem.pair_lead, problem.pair_rep, strict=True))}
    expected = [-1 if r < 0 else eligible.get((i, int(r))) for i, r in enumerate(reps)]
    if None in expected:
        with pytest.raises(ValueError, match="not among its candidates"):
            pair_index_of(problem, reps)
    else:
        assert pair_index_of(problem, reps).tolist() == expected


@pytest.mark.parametrize(("lead", "rep", "ok"), [
    ([0, 0, 1, 2], [0, 1, 0, 0], True),
    ([0, 0, 1], [1, 0, 0], False),      # reps out of order within a lead
    ([0, 1, 1], [0, 2, 2], False),      # a duplicate pair
    ([1, 0], [0, 0], False),            # leads out of order
    ([], [], True),
])
def test_sortedness_check_in_chunks_matches_the_rule(lead: list[int], rep: list[int],
                                                     ok: bool) -> None:
    pl, pr = np.array(lead, dtype=np.int64), np.array(rep, dtype=np.int64)
    for chunk in (1, 2, 100):  # chunk borders must not hide an inversion
        assert _strictly_increasing(pl, pr, 3, chunk=chunk) is ok
    if not ok:
        with pytest.raises(InputError, match="sorted by lead, rep and unique"):
            RoutingProblem(lead_ids=np.array(["a", "b", "c"], dtype=object),
                           rep_ids=np.array(["x", "y", "z"], dtype=object),
                           capacity=np.ones(3), pair_lead=pl, pair_rep=pr,
                           pair_score=np.zeros(len(pl)), pair_effort=np.ones(len(pl)))


def test_one_effort_everywhere_is_kept_as_one_broadcast_value() -> None:
    problem = RoutingProblem.from_pairs(
        lead_ids=["a", "b"], rep_ids=["x", "y"], capacity=[1.0, 1.0],
        pair_lead=[0, 0, 1], pair_rep=[0, 1, 1], pair_score=[0.5, 0.2, 0.7],
        pair_effort=2.0)
    assert problem.pair_effort.tolist() == [2.0, 2.0, 2.0]
    assert not problem.pair_effort.flags.writeable
    unit = problem.rep_unit_effort()
    assert unit is not None and unit.tolist() == [2.0, 2.0]
