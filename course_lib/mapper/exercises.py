"""Exercise checkers for chapter 4. ``check_*`` runs cases against the reader's function; tests
against subtle wrong answers live in ``tests/test_mapper_exercises.py``."""

from __future__ import annotations

from typing import Any, Callable

from ..exercises import Case, CheckResult, check, forbid

__all__ = ["solution_nerve", "check_nerve"]


def solution_nerve(clusters: list) -> set:
    sets = [set(c) for c in clusters]
    return {(i, j) for i in range(len(sets)) for j in range(i + 1, len(sets)) if sets[i] & sets[j]}


def _edges(out: Any) -> set:
    assert isinstance(out, (set, frozenset, list, tuple)), f"return a set of (i, j) pairs, got {type(out).__name__}"
    edges = set()
    for e in out:
        assert len(e) == 2, f"an edge is a pair (i, j), got {e!r}"
        i, j = (int(v) for v in e)
        assert i != j, f"({i}, {j}) is a loop: a cluster always shares its points with itself, it is not an edge"
        assert i < j, f"write each edge once, as (i, j) with i < j; got ({i}, {j})"
        edges.add((i, j))
    assert len(edges) == len(out), "an edge appears twice"
    return edges


def _case_chain(attempt: Callable) -> None:
    clusters = [[0, 1, 2], [2, 3, 4], [4, 5], [6, 7]]
    got = _edges(attempt(clusters))
    assert got == {(0, 1), (1, 2)}, f"expected {{(0, 1), (1, 2)}} (clusters 0–1 share 2, 1–2 share 4), got {got}"


def _case_one_point(attempt: Callable) -> None:
    got = _edges(attempt([[10, 11, 12, 13], [13, 20, 21]]))
    assert got == {(0, 1)}, f"one shared point (13) is enough for an edge, got {got}"


def _case_not_adjacent(attempt: Callable) -> None:
    clusters = [[0, 1], [5, 6], [1, 9], [6, 7]]                 # 0–2 and 1–3 share points, out of order
    got = _edges(attempt(clusters))
    assert got == {(0, 2), (1, 3)}, (
        f"expected {{(0, 2), (1, 3)}}, got {got}: compare every pair of clusters, not only neighbours in "
        "the list (clusters of the same interval come one after another, and two intervals can each hold "
        "several)")


def _case_loop(attempt: Callable) -> None:
    ring = [[0, 1], [1, 2], [2, 3], [3, 0]]
    got = _edges(attempt(ring))
    assert got == {(0, 1), (1, 2), (2, 3), (0, 3)}, f"four clusters in a ring make four edges, got {got}"


def _case_empty(attempt: Callable) -> None:
    got = _edges(attempt([]))
    assert got == set(), f"no clusters, no edges; got {got}"
    assert _edges(attempt([[1, 2, 3]])) == set(), "a single cluster has no edges"


def _case_own(attempt: Callable) -> None:
    with forbid(["course_lib.mapper.graph:mapper_graph"]):
        attempt([[0, 1], [1, 2]])


NERVE_CASES = [
    Case("a chain", _case_chain, "an edge (i, j) wherever clusters i and j share at least one point"),
    Case("one shared point", _case_one_point, "set(a) & set(b) is non-empty"),
    Case("every pair", _case_not_adjacent, "loop over all pairs i < j"),
    Case("a ring closes", _case_loop, "the last cluster can share points with the first"),
    Case("no clusters", _case_empty, "return an empty set"),
    Case("your own code", _case_own, "build the edges yourself, not with mapper_graph"),
]


def check_nerve(attempt: Callable, quiet: bool = False) -> CheckResult:
    """Check ``nerve(clusters) -> {(i, j), …}``: the edges of the nerve of a list of clusters."""
    return check("nerve", attempt, NERVE_CASES, quiet=quiet)
