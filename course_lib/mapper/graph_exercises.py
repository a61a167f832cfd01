"""Exercise checkers for notebooks 4.1 and 4.2 (Mapper from the ground up; Mapper on activations).

``check_*`` runs cases against the reader's function; tests against subtle wrong answers live in
``tests/test_mapper_graph_exercises.py``."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..exercises import CheckResult, case, check, forbid

__all__ = ["solution_nerve", "check_nerve", "solution_intervals_per_point", "check_intervals_per_point",
           "solution_fitted_concept_lens", "check_fitted_concept_lens",
           "solution_cross_situation_purity", "check_cross_situation_purity",
           "solution_centroid_adjacency", "check_centroid_adjacency"]

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
    case("a chain", _case_chain, hint="an edge (i, j) wherever clusters i and j share at least one point"),
    case("one shared point", _case_one_point, hint="set(a) & set(b) is non-empty"),
    case("every pair", _case_not_adjacent, hint="loop over all pairs i < j"),
    case("a ring closes", _case_loop, hint="the last cluster can share points with the first"),
    case("no clusters", _case_empty, hint="return an empty set"),
    case("your own code", _case_own, hint="build the edges yourself, not with mapper_graph"),
]


def check_nerve(attempt: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``nerve(clusters) -> {(i, j), …}``: the edges of the nerve of a list of clusters."""
    return check("nerve", attempt, NERVE_CASES, quiet=quiet)


# --- Notebook 4.1: how many intervals hold each point (and where filled triangles come from) ----------

def solution_intervals_per_point(lens: np.ndarray, intervals: np.ndarray) -> np.ndarray:
    f = np.asarray(lens, dtype=float)
    iv = np.asarray(intervals, dtype=float)
    return ((f[:, None] >= iv[None, :, 0]) & (f[:, None] <= iv[None, :, 1])).sum(axis=1)


def _counts_out(out: Any, n: int) -> np.ndarray:
    values = np.asarray(out)
    assert values.shape == (n,), f"return one count per point, shape ({n},); got {values.shape}"
    assert np.all(np.isfinite(values.astype(float))), "the counts contain NaN or inf"
    assert np.allclose(values, np.round(values)), "counts are whole numbers"
    return np.round(values).astype(int)


def _case_counts_basic(attempt: Callable) -> None:
    intervals = np.array([[0.0, 0.4], [0.3, 0.7], [0.6, 1.0]])
    lens = np.array([0.1, 0.35, 0.5, 0.65, 0.9])
    got = _counts_out(attempt(lens, intervals), len(lens))
    assert got.tolist() == [1, 2, 1, 2, 1], f"expected [1, 2, 1, 2, 1] (0.35 and 0.65 sit in two intervals), got {got.tolist()}"


def _case_counts_three(attempt: Callable) -> None:
    intervals = np.array([[0.0, 0.5], [0.2, 0.7], [0.4, 0.9]])      # overlap above one half
    lens = np.array([0.45, 0.1, 0.8])
    got = _counts_out(attempt(lens, intervals), len(lens))
    assert got.tolist() == [3, 1, 1], (f"0.45 lies in all three intervals; expected [3, 1, 1], got "
                                       f"{got.tolist()}: count every interval, not just the first or two")


def _case_counts_closed(attempt: Callable) -> None:
    intervals = np.array([[0.0, 0.5], [0.5, 1.0]])
    lens = np.array([0.0, 0.5, 1.0])
    got = _counts_out(attempt(lens, intervals), len(lens))
    assert got.tolist() == [1, 2, 1], (f"kmapper's intervals are closed, [a, b]: 0.5 is in both and the "
                                       f"ends are in one; expected [1, 2, 1], got {got.tolist()}")


def _case_counts_order(attempt: Callable) -> None:
    intervals = np.array([[0.6, 1.0], [0.0, 0.4], [0.3, 0.7]])      # not sorted
    lens = np.array([0.35, 0.9, 0.5, 2.0])
    got = _counts_out(attempt(lens, intervals), len(lens))
    assert got.tolist() == [2, 1, 1, 0], (f"intervals can come in any order, and a value outside every "
                                          f"interval is in none; expected [2, 1, 1, 0], got {got.tolist()}")


def _case_counts_own(attempt: Callable) -> None:
    with forbid(["course_lib.mapper.graph:mapper_graph", "kmapper:Cover.transform_single"]):
        attempt(np.array([0.1, 0.2]), np.array([[0.0, 0.3]]))


INTERVALS_CASES = [
    case("two intervals overlap", _case_counts_basic, hint="for each point, count the intervals with a <= f <= b"),
    case("three at once", _case_counts_three, hint="sum over every interval, e.g. a boolean (points × intervals) table"),
    case("closed ends", _case_counts_closed, hint=">= and <=, not > and <"),
    case("any order, outside", _case_counts_order, hint="do not assume sorted intervals or that every point is covered"),
    case("your own code", _case_counts_own, hint="compare the lens with the interval ends yourself"),
]


def check_intervals_per_point(attempt: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``intervals_per_point(lens, intervals) -> (n,)``: how many cover intervals hold each point."""
    return check("intervals per point", attempt, INTERVALS_CASES, quiet=quiet)


# --- Notebook 4.2: a concept lens fitted without looking at the test sentences ----------------------

def solution_fitted_concept_lens(points: np.ndarray, labels: np.ndarray, fit: np.ndarray,
                                 positive: str, negative: str) -> np.ndarray:
    rows = np.asarray(fit, dtype=bool)
    x, y = np.asarray(points, dtype=float), np.asarray(labels)
    direction = x[rows & (y == positive)].mean(axis=0) - x[rows & (y == negative)].mean(axis=0)
    return x @ (direction / np.linalg.norm(direction))


def _lens_out(out: Any, n: int) -> np.ndarray:
    values = np.asarray(out, dtype=float)
    assert values.shape == (n,), f"return one lens value per point, shape ({n},); got {values.shape}"
    assert np.all(np.isfinite(values)), "the lens contains NaN or inf"
    return values


def _concept_data(seed: int = 0, n_pos: int = 40, n_neg: int = 40, n_other: int = 40):
    rng = np.random.default_rng(seed)
    d = 6
    pos = rng.normal(size=(n_pos, d)) * 0.3 + np.array([2.0, 1.0, 0, 0, 0, 0])
    neg = rng.normal(size=(n_neg, d)) * 0.3 + np.array([-1.0, 0.0, 1.5, 0, 0, 0])
    other = rng.normal(size=(n_other, d)) * 0.3 + np.array([0.0, -2.0, 0, 1.0, 0, 0])
    x = np.concatenate([pos, neg, other])
    y = np.array(["joy"] * n_pos + ["fear"] * n_neg + ["anger"] * n_other)
    return x, y


def _agrees(got: np.ndarray, want: np.ndarray) -> float:
    """Correlation of two lenses (Mapper's cover only sees a lens up to shift and positive scale)."""
    return float(np.corrcoef(got, want)[0, 1])


def _case_direction(attempt: Callable) -> None:
    x, y = _concept_data()
    fit = np.ones(len(x), dtype=bool)
    got = _lens_out(attempt(x, y, fit, "joy", "fear"), len(x))
    want = solution_fitted_concept_lens(x, y, fit, "joy", "fear")
    r = _agrees(got, want)
    assert r > -0.999, ("the lens is reversed: positive sentences should have the larger values "
                        "(u points from mean(negative) to mean(positive))")
    assert r > 0.999, (f"the lens should be each point's coordinate along mean(joy) − mean(fear); "
                       f"its correlation with that is {r:.3f}")


def _case_sign(attempt: Callable) -> None:
    x, y = _concept_data(1)
    fit = np.ones(len(x), dtype=bool)
    got = _lens_out(attempt(x, y, fit, "joy", "fear"), len(x))
    assert got[y == "joy"].mean() > got[y == "fear"].mean(), (
        "positive sentences should have the larger lens values: the direction points from the "
        "negative label's mean to the positive label's, not the other way")


def _case_means(attempt: Callable) -> None:
    x, y = _concept_data(2, n_pos=90, n_neg=10)
    fit = np.ones(len(x), dtype=bool)
    got = _lens_out(attempt(x, y, fit, "joy", "fear"), len(x))
    r = _agrees(got, solution_fitted_concept_lens(x, y, fit, "joy", "fear"))
    assert r > 0.999, (f"with 90 joy and 10 fear points the lens drifts (correlation {r:.3f}): use "
                       "the labels' means, not their sums")


def _case_no_leak(attempt: Callable) -> None:
    x, y = _concept_data(3)
    fit = np.zeros(len(x), dtype=bool)
    fit[::2] = True                                   # fit on even rows; odd rows are held out
    first = _lens_out(attempt(x, y.copy(), fit.copy(), "joy", "fear"), len(x))
    relabelled = y.copy()
    held_out = np.flatnonzero(~fit)
    relabelled[held_out] = np.random.default_rng(0).permutation(relabelled[held_out])
    second = _lens_out(attempt(x, relabelled, fit.copy(), "joy", "fear"), len(x))
    assert np.allclose(first, second), (
        "changing the labels of the held-out points (fit == False) changed the lens: the direction "
        "must be estimated from the fit rows only, or the test sentences leak into the lens")
    r = _agrees(first, solution_fitted_concept_lens(x, y, fit, "joy", "fear"))
    assert r > 0.999, ("the lens should be every point's coordinate (held-out ones too) along the "
                       f"direction fitted on the fit rows; correlation with that: {r:.3f}")


def _case_all_points(attempt: Callable) -> None:
    x, y = _concept_data(4)
    fit = np.zeros(len(x), dtype=bool)
    fit[:60] = True
    got = _lens_out(attempt(x, y, fit, "joy", "fear"), len(x))
    want = solution_fitted_concept_lens(x, y, fit, "joy", "fear")
    r = _agrees(got[~fit], want[~fit])
    assert r > 0.999, ("every point needs a lens value, held-out ones too (they are the ones Mapper "
                       f"is judged on); on the held-out rows the correlation is {r:.3f}")


def _case_unit(attempt: Callable) -> None:
    x, y = _concept_data(6)
    fit = np.ones(len(x), dtype=bool)
    got = _lens_out(attempt(x, y, fit, "joy", "fear"), len(x))
    want = solution_fitted_concept_lens(x, y, fit, "joy", "fear")
    assert np.allclose(got, want, atol=1e-6 * (1 + np.abs(want).max())), (
        "the values should be each point's coordinate x · u along the *unit* direction u (no rescaling, "
        f"no offset); e.g. point 0: expected {want[0]:.4f}, got {got[0]:.4f}")


def _case_own_lens(attempt: Callable) -> None:
    x, y = _concept_data(5)
    with forbid(["course_lib.mapper.lenses:concept_direction", "course_lib.mapper.lenses:concept_lens"]):
        attempt(x, y, np.ones(len(x), dtype=bool), "joy", "fear")


CONCEPT_LENS_CASES = [
    case("the direction", _case_direction, hint="x @ u with u = mean(positive) − mean(negative), unit length"),
    case("which way it points", _case_sign, hint="from the negative label's mean to the positive one's"),
    case("unequal classes", _case_means, hint="means, not sums: .mean(axis=0)"),
    case("no leak", _case_no_leak, hint="select rows with fit & (labels == positive)"),
    case("a value for every point", _case_all_points, hint="project all points, not only the fit rows"),
    case("unit length", _case_unit, hint="divide the direction by its norm; return x @ u as it is"),
    case("your own code", _case_own_lens, hint="compute the means yourself, not with concept_direction"),
]


def check_fitted_concept_lens(attempt: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``fitted_concept_lens(points, labels, fit, positive, negative) -> (n,)``."""
    return check("fitted concept lens", attempt, CONCEPT_LENS_CASES, quiet=quiet)


# --- Notebook 4.2: purity that ignores situations, and k-means' own graph ----------------------------

def solution_cross_situation_purity(groups: list, labels: np.ndarray, situations: list) -> float:
    same = pairs = 0
    for g in groups:
        g = list(g)
        for a in range(len(g)):
            for b in range(a + 1, len(g)):
                i, j = g[a], g[b]
                if set(situations[i]) & set(situations[j]):
                    continue                      # they share a situation: says nothing about emotion
                pairs += 1
                same += labels[i] == labels[j]
    return same / pairs if pairs else float("nan")


def _share_out(out: Any) -> float:
    try:
        value = float(out)
    except (TypeError, ValueError):
        raise AssertionError(f"return one number, the share of same-label pairs; got {type(out).__name__}")
    return value


def _situation_data():
    labels = np.array(["joy", "joy", "joy", "sad", "sad", "sad"])
    situations = [{"win"}, {"win"}, {"gift"}, {"loss"}, {"loss"}, {"gift", "loss"}]
    return labels, situations


def _case_cross_basic(attempt: Callable) -> None:
    labels, situations = _situation_data()
    got = _share_out(attempt([[0, 1, 2, 3]], labels, situations))
    # pairs from different situations: (0,2) joy-joy, (0,3), (1,2) joy-joy, (1,3), (2,3) → 2 of 5
    assert abs(got - 2 / 5) < 1e-9, (
        f"expected 2/5 = 0.4 (pair 0–1 shares the situation 'win' and is left out), got {got:.3f}" if abs(got - 3 / 6) > 1e-9
        else "got 0.5: the pair 0–1 shares its situation and must be left out, or purity rewards grouping by situation")


def _case_cross_groups(attempt: Callable) -> None:
    labels, situations = _situation_data()
    got = _share_out(attempt([[0, 2], [3, 4]], labels, situations))
    assert abs(got - 1.0) < 1e-9, (f"only pairs inside one group count (0–2 is the one cross-situation pair); "
                                   f"expected 1.0, got {got:.3f}")


def _case_cross_sets(attempt: Callable) -> None:
    labels, situations = _situation_data()
    got = _share_out(attempt([[2, 3, 5]], labels, situations))
    # 5 mentions 'gift' and 'loss': it shares a situation with 2 and with 3; only 2–3 is apart (joy–sad);
    # reading only one of 5's situations would count 3–5 (sad–sad) as apart and give 0.5
    assert abs(got - 0.0) < 1e-9, (f"expected 0.0: point 5 mixes 'gift' and 'loss', so it shares a situation "
                                   f"with both 2 and 3; a pair is apart only if their situations are disjoint; got {got:.3f}")


def _case_cross_overlap(attempt: Callable) -> None:
    labels, situations = _situation_data()
    got = _share_out(attempt([[0, 2, 3], [0, 2], [0, 2, 3]], labels, situations))
    # groups 1 and 3 (identical): (0,2) same, (0,3), (2,3) → 1 of 3 each; group 2: (0,2) same → 1 of 1;
    # together 3 of 7 (de-duplicating the identical groups gives 2/4, de-duplicating pairs 1/3)
    assert abs(got - 3 / 7) < 1e-9, (f"a pair held by two groups counts in each, and two identical groups "
                                     f"count twice (as purity counts each membership); expected 3/7 = "
                                     f"0.429, got {got:.3f}")


def _case_cross_partial(attempt: Callable) -> None:
    labels = np.array(["joy", "sad", "joy"])
    situations = [{"gift", "loss"}, {"loss", "win"}, {"party"}]
    got = _share_out(attempt([[0, 1, 2]], labels, situations))
    # 0 and 1 both mention 'loss' (neither set contains the other): left out; (0,2) same, (1,2) not → 1/2
    assert abs(got - 0.5) < 1e-9, (f"expected 1/2: sentences 0 ({{gift, loss}}) and 1 ({{loss, win}}) share "
                                   f"'loss', so their pair is left out although neither set contains the "
                                   f"other; skip a pair whenever the sets intersect; got {got:.3f}")


def _case_cross_either_order(attempt: Callable) -> None:
    labels = np.array(["joy", "sad", "sad"])
    situations = [{"x", "y"}, {"x"}, {"y"}]
    got = _share_out(attempt([[0, 1, 2]], labels, situations))
    # 0 shares 'x' with 1 and 'y' with 2: only 1–2 (sad–sad) is apart → 1/1. Reading one situation of
    # sentence 0 (whichever a set lists first) counts one of its pairs as apart and gives 1/2
    assert abs(got - 1.0) < 1e-9, (
        f"expected 1.0: sentence 0 ({{x, y}}) shares 'x' with sentence 1 and 'y' with sentence 2, so "
        f"only the pair 1–2 is apart; compare whole situation sets, not the first one a set lists "
        f"(a set's order is arbitrary); got {got:.3f}")


def _case_cross_empty(attempt: Callable) -> None:
    labels, situations = _situation_data()
    got = _share_out(attempt([[0, 1], [3]], labels, situations))
    assert np.isnan(got), f"no pair from different situations: return nan (no evidence either way), got {got}"


def _case_cross_own(attempt: Callable) -> None:
    labels, situations = _situation_data()
    with forbid(["course_lib.mapper.measures:cross_situation_purity"]):
        attempt([[0, 2, 3]], labels, situations)


CROSS_CASES = [
    case("leave same-situation pairs out", _case_cross_basic, hint="skip a pair whose situation sets intersect"),
    case("pairs inside a group", _case_cross_groups, hint="loop over groups, then over pairs of one group's members"),
    case("two situations in one sentence", _case_cross_sets, hint="disjoint sets: not (set(a) & set(b))"),
    case("two mixed sentences", _case_cross_partial, hint="skip when the sets intersect, not only when one contains the other"),
    case("a set's order", _case_cross_either_order, hint="set(a) & set(b) over whole sets, never list(s)[0]"),
    case("overlapping groups", _case_cross_overlap,
         hint="count per group; de-duplicate neither pairs nor identical groups"),
    case("nothing to count", _case_cross_empty, hint="return float('nan') when there is no such pair"),
    case("your own code", _case_cross_own, hint="count the pairs yourself"),
]


def check_cross_situation_purity(attempt: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``cross_situation_purity(groups, labels, situations) -> float``."""
    return check("cross-situation purity", attempt, CROSS_CASES, quiet=quiet)


def solution_centroid_adjacency(points: np.ndarray, centroids: np.ndarray) -> dict:
    x, c = np.asarray(points, dtype=float), np.asarray(centroids, dtype=float)
    distance = np.linalg.norm(x[:, None, :] - c[None, :, :], axis=2)
    nearest = np.argsort(distance, axis=1)[:, :2]
    edges: dict = {}
    for a, b in nearest:
        key = (int(min(a, b)), int(max(a, b)))
        edges[key] = edges.get(key, 0) + 1
    return edges


def _adjacency_out(out: Any) -> dict:
    assert isinstance(out, dict), f"return a dict {{(i, j): count}}, got {type(out).__name__}"
    edges = {}
    for key, count in out.items():
        assert isinstance(key, tuple) and len(key) == 2, f"keys are pairs (i, j), got {key!r}"
        i, j = (int(v) for v in key)
        assert i != j, f"({i}, {j}) is a loop: a point's two nearest centroids are two different clusters"
        assert i < j, f"write each edge once, as (i, j) with i < j; got ({i}, {j})"
        assert int(count) == count and count > 0, f"counts are positive whole numbers, got {count!r}"
        edges[(i, j)] = edges.get((i, j), 0) + int(count)
    return edges


def _case_adjacency_line(attempt: Callable) -> None:
    centroids = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0]])
    points = np.array([[0.4, 0.0], [0.6, 0.0], [1.4, 0.0], [1.6, 0.1], [1.9, 0.0]])
    got = _adjacency_out(attempt(points, centroids))
    assert got == {(0, 1): 2, (1, 2): 3}, (f"expected {{(0, 1): 2, (1, 2): 3}}: each point joins its nearest "
                                           f"and second-nearest centroids; got {got}")


def _case_adjacency_distance(attempt: Callable) -> None:
    centroids = np.array([[10.0, 0.0], [1.0, 0.0], [0.0, 1.0]])       # far away but aligned with x
    points = np.array([[0.9, 0.2], [0.8, 0.3]])
    got = _adjacency_out(attempt(points, centroids))
    assert got == {(1, 2): 2}, (f"nearest means smallest Euclidean distance, not largest dot product "
                                f"(centroid 0 is far but points the same way); expected {{(1, 2): 2}}, got {got}")


def _case_adjacency_second(attempt: Callable) -> None:
    centroids = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 0.0]])
    points = np.array([[4.9, 0.0], [0.1, 0.0]])
    got = _adjacency_out(attempt(points, centroids))
    assert got == {(1, 2): 1, (0, 1): 1}, (f"the second-nearest centroid, not the farthest: expected "
                                           f"{{(0, 1): 1, (1, 2): 1}}, got {got}")


def _case_adjacency_total(attempt: Callable) -> None:
    rng = np.random.default_rng(0)
    points, centroids = rng.normal(size=(50, 3)), rng.normal(size=(6, 3))
    got = _adjacency_out(attempt(points, centroids))
    assert sum(got.values()) == 50, f"every point adds to exactly one edge: the counts should sum to 50, got {sum(got.values())}"
    assert got == solution_centroid_adjacency(points, centroids), "some counts differ from each point's two nearest centroids"


def _case_adjacency_own(attempt: Callable) -> None:
    with forbid(["course_lib.mapper.measures:kmeans_adjacency_graph"]):
        attempt(np.zeros((2, 2)) + [[0.1, 0], [0.9, 0]], np.array([[0.0, 0.0], [1.0, 0.0]]))


ADJACENCY_CASES = [
    case("nearest and second nearest", _case_adjacency_line, hint="sort each point's distances to the centroids; take the first two"),
    case("distance, not alignment", _case_adjacency_distance, hint="np.linalg.norm(x[:, None] - c[None], axis=2)"),
    case("second, not last", _case_adjacency_second, hint="np.argsort(distance, axis=1)[:, :2]"),
    case("one edge per point", _case_adjacency_total, hint="count each point once, under the pair (min, max)"),
    case("your own code", _case_adjacency_own, hint="compute the distances yourself"),
]


def check_centroid_adjacency(attempt: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``centroid_adjacency(points, centroids) -> {(i, j): count}``."""
    return check("centroid adjacency", attempt, ADJACENCY_CASES, quiet=quiet)
