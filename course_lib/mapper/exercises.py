"""Exercise checkers for chapter 4. ``check_*`` runs cases against the reader's function; tests
against subtle wrong answers live in ``tests/test_mapper_exercises.py``."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from ..exercises import CheckResult, case, check, forbid

__all__ = ["solution_nerve", "check_nerve", "solution_intervals_per_point", "check_intervals_per_point",
           "solution_fitted_concept_lens", "check_fitted_concept_lens",
           "solution_cross_situation_purity", "check_cross_situation_purity",
           "solution_centroid_adjacency", "check_centroid_adjacency",
           "solution_steering_pair", "check_steering_pair"]


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
    got = _share_out(attempt([[0, 2, 3], [0, 2]], labels, situations))
    # group 1: (0,2) same, (0,3), (2,3) → 1 of 3; group 2: (0,2) same → 1 of 1; together 2 of 4
    assert abs(got - 0.5) < 1e-9, (f"a pair held by two groups counts in each (as purity counts each "
                                   f"membership); expected 2/4 = 0.5, got {got:.3f}")


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
    case("overlapping groups", _case_cross_overlap, hint="count per group; do not de-duplicate pairs across groups"),
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


# --- Notebook 4.3: a steering vector and its control -------------------------------------------------

def solution_steering_pair(layer_points: np.ndarray, source: np.ndarray, target: np.ndarray,
                           rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(layer_points, dtype=float)
    vector = x[target].mean(axis=0) - x[source].mean(axis=0)
    control = rng.normal(size=vector.shape)
    return vector, control * np.linalg.norm(vector) / np.linalg.norm(control)


def _steering_data(seed: int = 0, d: int = 48):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(60, d)) * 0.5 + 3.0              # raw activations: far from unit length
    x[:20] += np.linspace(0, 4, d)                          # "source" neighbourhood
    x[20:40] -= np.linspace(0, 4, d)[::-1]                  # "target" neighbourhood
    return x, np.arange(20), np.arange(20, 40)


def _steering_out(out: Any, d: int) -> tuple[np.ndarray, np.ndarray]:
    assert isinstance(out, tuple) and len(out) == 2, "return a pair (vector, control)"
    vector, control = (np.asarray(v, dtype=float) for v in out)
    assert vector.shape == control.shape == (d,), (
        f"both must be 1-D vectors of the activations' dimension ({d},); got {vector.shape}, {control.shape}")
    return vector, control


def _case_vector(attempt: Callable) -> None:
    x, source, target = _steering_data()
    vector, _ = _steering_out(attempt(x, source, target, np.random.default_rng(0)), x.shape[1])
    want = x[target].mean(0) - x[source].mean(0)
    if np.allclose(vector, -want):
        raise AssertionError("the vector points backwards: it should move a source sentence toward "
                             "the target, mean(target) − mean(source)")
    assert np.allclose(vector, want), (
        "the vector should be mean(target rows) − mean(source rows) of the raw layer activations, "
        "with its length: it is added to hidden states of that size (do not normalise the points or "
        "the vector)")


def _case_control_length(attempt: Callable) -> None:
    x, source, target = _steering_data(1)
    vector, control = _steering_out(attempt(x, source, target, np.random.default_rng(1)), x.shape[1])
    ratio = np.linalg.norm(control) / np.linalg.norm(vector)
    assert abs(ratio - 1) < 1e-6, (f"the control must be exactly as long as the vector (it is {ratio:.3f}× "
                                   "as long): a control differs from the intervention in direction only")


def _case_control_direction(attempt: Callable) -> None:
    x, source, target = _steering_data(2, d=384)
    vector, control = _steering_out(attempt(x, source, target, np.random.default_rng(2)), 384)
    cos = abs(vector @ control) / np.linalg.norm(vector) / np.linalg.norm(control)
    assert cos < 0.3, (f"the control is aligned with the vector (|cos| = {cos:.2f}): draw a random "
                       "direction, e.g. rng.normal(size=dim), then rescale it")
    signs = np.sign(control)
    assert 0.3 < (signs > 0).mean() < 0.7, "the control should point in a random direction (mixed signs)"


def _case_rng(attempt: Callable) -> None:
    x, source, target = _steering_data(3)
    _, a = _steering_out(attempt(x, source, target, np.random.default_rng(7)), x.shape[1])
    _, b = _steering_out(attempt(x, source, target, np.random.default_rng(7)), x.shape[1])
    _, c = _steering_out(attempt(x, source, target, np.random.default_rng(8)), x.shape[1])
    assert np.allclose(a, b), ("the same rng seed must give the same control: draw it from the rng "
                               "argument, not from np.random or torch")
    assert not np.allclose(a, c), "different rng seeds must give different controls"


STEERING_CASES = [
    case("the steering vector", _case_vector, hint="x[target].mean(axis=0) - x[source].mean(axis=0)"),
    case("control: same length", _case_control_length, hint="rescale: control * |vector| / |control|"),
    case("control: random direction", _case_control_direction, hint="rng.normal(size=vector.shape)"),
    case("control: reproducible", _case_rng, hint="use the rng you are given"),
]


def check_steering_pair(attempt: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``steering_pair(layer_points, source, target, rng) -> (vector, control)``."""
    return check("steering vector and control", attempt, STEERING_CASES, quiet=quiet)


# --- Notebook 4.3: the same-emotion control of a steering vector ---------------------------------------
# (4.3 and 4.4 exercises below; their names join __all__ at the end of the file.)

def solution_same_emotion_control(layer_points: np.ndarray, source: np.ndarray, target: np.ndarray,
                                  other: np.ndarray) -> np.ndarray:
    x = np.asarray(layer_points, dtype=float)
    vector = x[target].mean(axis=0) - x[source].mean(axis=0)
    toward = x[other].mean(axis=0) - x[source].mean(axis=0)
    return toward * np.linalg.norm(vector) / np.linalg.norm(toward)


def _control_data(seed: int = 0, d: int = 32):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(60, d)) * 0.3 + 2.0                  # raw activations, far from unit length
    x[:20, 0] += 3.0                                          # source node (sadness)
    x[20:40, 1] += 6.0                                        # target node (joy): far away
    x[40:, 0] += 3.0
    x[40:, 2] += 1.5                                          # another sadness node: close by
    return x, np.arange(20), np.arange(20, 40), np.arange(40, 60)


def _control_out(out: Any, d: int) -> np.ndarray:
    v = np.asarray(out, dtype=float) if out is not None else None
    assert v is not None and v.shape == (d,), (
        f"return one vector of the activations' dimension ({d},), got "
        f"{'None' if v is None else v.shape}")
    assert np.all(np.isfinite(v)), "the control has NaN or infinite entries"
    return v


def _case_control_towards_other(attempt: Callable) -> None:
    x, source, target, other = _control_data()
    got = _control_out(attempt(x, source, target, other), x.shape[1])
    toward = x[other].mean(0) - x[source].mean(0)
    to_target = x[target].mean(0) - x[source].mean(0)
    cos = got @ toward / np.linalg.norm(got) / np.linalg.norm(toward)
    if abs(got @ to_target) / np.linalg.norm(got) / np.linalg.norm(to_target) > 0.99:
        raise AssertionError("this is the steering vector itself (toward the target): the control points "
                             "from the source toward the *other* node of the source's own emotion")
    if cos < -0.99:
        raise AssertionError("the control points backwards: mean(other) − mean(source)")
    assert cos > 0.999, (f"the control should point along mean(other rows) − mean(source rows) of the raw "
                         f"activations (cosine {cos:.3f}); do not normalise the points")


def _case_control_same_length(attempt: Callable) -> None:
    x, source, target, other = _control_data(1)
    got = _control_out(attempt(x, source, target, other), x.shape[1])
    want = np.linalg.norm(x[target].mean(0) - x[source].mean(0))
    ratio = np.linalg.norm(got) / want
    assert abs(ratio - 1) < 1e-6, (
        f"the control is {ratio:.3f}× as long as the steering vector: rescale it to exactly the vector's "
        "length, so that the two arms differ in where they point and in nothing else")


def _case_control_other_data(attempt: Callable) -> None:
    x, source, target, other = _control_data(2, d=8)
    x = x * 10.0 - 7.0
    got = _control_out(attempt(x, source, target, other), 8)
    assert np.allclose(got, solution_same_emotion_control(x, source, target, other), atol=1e-8), (
        "on other activations (scaled and shifted) the control is wrong: use the rows you are given, "
        "means over rows (axis=0)")


SAME_EMOTION_CASES = [
    case("toward the other node", _case_control_towards_other,
         hint="x[other].mean(axis=0) - x[source].mean(axis=0)"),
    case("as long as the steering vector", _case_control_same_length,
         hint="toward * |mean(target) − mean(source)| / |toward|"),
    case("other activations", _case_control_other_data, hint="work on the raw rows given, no constants"),
]


def check_same_emotion_control(attempt: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``same_emotion_control(layer_points, source, target, other) -> vector``."""
    return check("same-emotion control", attempt, SAME_EMOTION_CASES, quiet=quiet)


# --- Notebook 4.3: how much of a layer an ablation removes -------------------------------------------

def solution_variance_removed(points: np.ndarray, directions: np.ndarray) -> float:
    x = np.asarray(points, dtype=float)
    q, _ = np.linalg.qr(np.atleast_2d(np.asarray(directions, dtype=float)).T)
    centred = x - x.mean(axis=0)
    return float(((centred @ q) ** 2).sum() / (centred ** 2).sum())


def _share(out: Any) -> float:
    from ..exercises import as_number

    value = as_number(out, "the share of variance", finite=True)
    assert -1e-9 <= value <= 1 + 1e-9, (
        f"a share of the variance lies in [0, 1] (not a percentage), got {value:.4g}"
        + ("; above 1 means some variance was counted twice — orthonormalise the directions"
           if 1 < value <= 10 else ""))
    return value


def _case_var_axis(attempt: Callable) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 4)) * np.array([3.0, 1.0, 1.0, 1.0])
    got = _share(attempt(x, np.array([[1.0, 0, 0, 0]])))
    want = solution_variance_removed(x, np.array([[1.0, 0, 0, 0]]))
    assert abs(got - want) < 1e-9, f"one axis holding ≈ 9 of 12 units of variance: expected {want:.4f}, got {got:.4f}"


def _case_var_length(attempt: Callable) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 5))
    d = np.array([[0.0, 5.0, 0, 0, 0]])
    got = _share(attempt(x, d))
    want = solution_variance_removed(x, d)
    assert abs(got - want) < 1e-9, (f"expected {want:.4f}, got {got:.4f}: a direction given with length 5 "
                                     "removes the same variance as its unit vector — normalise it")


def _case_var_centred(attempt: Callable) -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(400, 5)) + np.array([0.0, 0, 10.0, 0, 0])
    d = np.array([[0.0, 0, 1.0, 0, 0]])
    got = _share(attempt(x, d))
    want = solution_variance_removed(x, d)
    assert abs(got - want) < 1e-9, (f"expected {want:.4f}, got {got:.4f}: variance is measured around the "
                                     "mean — centre the points (a large mean along the direction is not variance)")


def _case_var_overlap(attempt: Callable) -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(600, 6)) * np.array([4.0, 1, 1, 1, 1, 1])
    d = np.array([[1.0, 0, 0, 0, 0, 0], [1.0, 0.2, 0, 0, 0, 0]])     # nearly the same direction twice
    got = _share(attempt(x, d))
    want = solution_variance_removed(x, d)
    assert abs(got - want) < 1e-9, (
        f"expected {want:.4f}, got {got:.4f}: two nearly parallel directions span a plane; summing their "
        "projections counts the shared part twice — orthonormalise them first (np.linalg.qr)")


def _case_var_full(attempt: Callable) -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(100, 3))
    got = _share(attempt(x, rng.normal(size=(3, 3))))
    assert abs(got - 1) < 1e-9, f"three independent directions in 3-D span everything: expected 1, got {got:.4f}"


def _case_var_own(attempt: Callable) -> None:
    with forbid(["course_lib.mapper.judged:variance_removed"]):
        attempt(np.random.default_rng(5).normal(size=(20, 3)), np.array([[1.0, 0, 0]]))


VARIANCE_CASES = [
    case("one axis", _case_var_axis, hint="centre, project on the unit direction, square, sum, divide by the total"),
    case("a long direction", _case_var_length, hint="normalise the directions"),
    case("points with a mean", _case_var_centred, hint="x - x.mean(axis=0)"),
    case("overlapping directions", _case_var_overlap, hint="q, _ = np.linalg.qr(directions.T); use q's columns"),
    case("a full basis", _case_var_full, hint="d independent directions remove everything"),
    case("your own code", _case_var_own, hint="write it yourself, not with judged.variance_removed"),
]


def check_variance_removed(attempt: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``variance_removed(points, directions) -> share in [0, 1]``."""
    return check("variance removed", attempt, VARIANCE_CASES, quiet=quiet)


# --- Notebook 4.4: pick a feature by how often it fires --------------------------------------------------

def solution_frequency_pick(features: np.ndarray, labels: np.ndarray, fit: np.ndarray, emotion: str) -> int:
    fires = np.asarray(features) > 0
    labels, fit = np.asarray(labels), np.asarray(fit, dtype=bool)
    gap = fires[fit & (labels == emotion)].mean(axis=0) - fires[fit & (labels != emotion)].mean(axis=0)
    return int(np.argmax(gap))


def _pick_data(seed: int = 0):
    """Features: 0 a broad joy feature (fires on 60 % of joy); 1 fires hard on 3 training joy rows;
    2 fires on everything but joy (a big negative gap); 3 looks best only if held-out rows count;
    4 is larger (not more frequent) on joy."""
    rng = np.random.default_rng(seed)
    n = 240
    labels = np.array(["joy", "anger", "fear", "sadness"] * (n // 4))
    fit = np.arange(n) < 160
    joy = labels == "joy"
    f = np.zeros((n, 6))
    fit_joy, held_joy = np.flatnonzero(joy & fit), np.flatnonzero(joy & ~fit)
    broad = np.concatenate([fit_joy[np.arange(len(fit_joy)) % 5 < 3], held_joy[np.arange(len(held_joy)) % 5 < 3]])
    f[broad, 0] = rng.uniform(0.1, 0.3, len(broad))             # 60 % of joy, fit and held alike
    f[fit_joy[:3], 1] = 80.0
    f[:, 2] = (~joy) * rng.uniform(0.5, 1.0, n)
    f[fit_joy[:18], 3] = 1.0                                     # 45 % of fit joy …
    f[held_joy, 3] = 1.0                                         # … but every held-out joy row
    f[:, 4] = 0.5 + joy * 3.0 + rng.uniform(0, 0.1, n)
    f[:, 5] = rng.uniform(size=n) < 0.3
    return f, labels, fit


def _pick_out(out: Any, m: int) -> int:
    assert isinstance(out, (int, np.integer)) and not isinstance(out, bool), (
        f"return one feature index (an int), got {type(out).__name__}")
    assert 0 <= int(out) < m, f"feature index {int(out)} is outside 0…{m - 1}"
    return int(out)


def _case_pick_broad(attempt: Callable) -> None:
    f, labels, fit = _pick_data()
    got = _pick_out(attempt(f, labels, fit, "joy"), f.shape[1])
    if got == 1:
        raise AssertionError("you picked the feature that fires hard on three sentences: that is the "
                             "largest gap in mean activation, not in how often it fires (f > 0)")
    if got == 2:
        raise AssertionError("you picked a feature that fires on everything *except* joy: take the largest "
                             "signed gap P(fires | joy) − P(fires | others), not its absolute value")
    if got == 3:
        raise AssertionError("feature 3 is best only when held-out rows are counted: use the fit rows only")
    if got == 4:
        raise AssertionError("feature 4 is on for every sentence (only larger on joy): count how often a "
                             "feature is > 0, not how large it is")
    assert got == 0, f"expected feature 0 (fires on 60 % of joy, never elsewhere), got {got}"


def _case_pick_other_emotion(attempt: Callable) -> None:
    f, labels, fit = _pick_data(1)
    g = np.zeros((len(labels), 3))
    fear = np.flatnonzero(labels == "fear")
    g[fear[np.arange(len(fear)) % 4 != 0], 0] = 1.0                     # fires on 3/4 of fear
    g[:, 1] = (labels == "fear") | (labels == "anger")                   # fear and anger alike
    g[:, 2] = labels != "joy"
    got = _pick_out(attempt(g, labels, fit, "fear"), 3)
    assert got == 0, (f"for 'fear' expected feature 0, got {got}: 'the others' are every sentence not of "
                      "the emotion (all three other emotions together)")


PICK_CASES = [
    case("a broad feature wins", _case_pick_broad, hint="gap = (f > 0)[fit & joy].mean(0) − (f > 0)[fit & ~joy].mean(0)"),
    case("another emotion", _case_pick_other_emotion, hint="others: labels != emotion, among the fit rows"),
]


def check_frequency_pick(attempt: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``frequency_pick(features, labels, fit, emotion) -> feature index``."""
    return check("frequency pick", attempt, PICK_CASES, quiet=quiet)


# --- Notebook 4.4: the random-dictionary control ------------------------------------------------------------

def solution_random_dictionary(states: np.ndarray, features: int, l0: float,
                               rng: np.random.Generator) -> np.ndarray:
    x = np.asarray(states, dtype=float)
    w = rng.normal(size=(features, x.shape[1]))
    w /= np.linalg.norm(w, axis=1, keepdims=True)
    pre = (x - x.mean(axis=0)) @ w.T
    theta = np.quantile(pre, 1 - l0 / features)
    return np.maximum(pre - theta, 0)


def _codes(out: Any, shape: tuple[int, int]) -> np.ndarray:
    c = np.asarray(out, dtype=float) if out is not None else None
    assert c is not None and c.shape == shape, (
        f"return codes of shape (tokens, features) = {shape}, got {'None' if c is None else c.shape}")
    assert np.all(np.isfinite(c)), "the codes hold NaN or infinite entries"
    assert (c >= 0).all(), "codes are ReLU outputs: never negative"
    return c


def _dict_states(seed: int, n: int = 400, d: int = 24, offset: float = 0.0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)) * np.linspace(0.5, 2.0, d) + offset


def _case_dict_sparsity(attempt: Callable) -> None:
    x = _dict_states(0)
    for l0 in (3, 12.5):
        c = _codes(attempt(x, 96, l0, np.random.default_rng(0)), (400, 96))
        got = (c > 0).sum(axis=1).mean()
        assert abs(got - l0) < 0.05 * l0 + 0.2, (
            f"asked for {l0} active features per token on average, got {got:.2f}: choose the threshold "
            "as the (1 − l0 / features) quantile of all the pre-activations")


def _case_dict_rng(attempt: Callable) -> None:
    x = _dict_states(1)
    a = _codes(attempt(x, 64, 5, np.random.default_rng(3)), (400, 64))
    b = _codes(attempt(x, 64, 5, np.random.default_rng(3)), (400, 64))
    c = _codes(attempt(x, 64, 5, np.random.default_rng(4)), (400, 64))
    assert np.allclose(a, b), "the same rng seed must give the same dictionary: draw it from the rng given"
    assert not np.allclose(a, c), "a different rng seed must give a different dictionary"


def _case_dict_centred(attempt: Callable) -> None:
    x = _dict_states(2, offset=np.linspace(-30, 30, 24))
    c = _codes(attempt(x, 80, 8, np.random.default_rng(5)), (400, 80))
    active = c > 0
    used = active.any(axis=0).mean()
    together = (active[:200] & active[200:]).sum(axis=1).mean() / 8
    assert used > 0.5 and together < 0.5, (
        f"the tokens all use the same few features ({used:.0%} of features ever fire; two tokens share "
        f"{together:.0%} of their features): centre the states first, or the mean decides the code")


def _case_dict_random(attempt: Callable) -> None:
    x = _dict_states(3, d=16)
    c = _codes(attempt(x, 200, 10, np.random.default_rng(6)), (400, 200))
    # a learned or hand-made code (e.g. the states' own coordinates) would not fill 200 features
    assert (c > 0).any(axis=0).mean() > 0.8, "most of the random directions should fire on some token"


def _case_dict_own(attempt: Callable) -> None:
    with forbid(["course_lib.mapper.sae:random_dictionary_codes"]):
        attempt(_dict_states(4, n=50, d=8), 16, 2, np.random.default_rng(0))


DICTIONARY_CASES = [
    case("the same sparsity", _case_dict_sparsity, hint="theta = np.quantile(pre, 1 - l0 / features)"),
    case("reproducible", _case_dict_rng, hint="w = rng.normal(size=(features, dim)), rows scaled to length 1"),
    case("centred states", _case_dict_centred, hint="pre = (x - x.mean(axis=0)) @ w.T"),
    case("random directions", _case_dict_random, hint="one random direction per feature"),
    case("your own code", _case_dict_own, hint="write it yourself, not with sae.random_dictionary_codes"),
]


def check_random_dictionary(attempt: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``random_dictionary(states, features, l0, rng) -> codes (tokens, features)``."""
    return check("random dictionary", attempt, DICTIONARY_CASES, quiet=quiet)


__all__ += ["solution_same_emotion_control", "check_same_emotion_control", "solution_variance_removed",
            "check_variance_removed", "solution_frequency_pick", "check_frequency_pick",
            "solution_random_dictionary", "check_random_dictionary"]
