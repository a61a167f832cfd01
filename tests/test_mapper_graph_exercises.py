"""Notebooks 4.1–4.2's checkers: the solution passes, subtle wrong answers fail."""

from course_lib.mapper import graph_exercises as X
from course_lib.mapper.graph import mapper_graph


def test_nerve_solution_passes():
    assert X.check_nerve(X.solution_nerve, quiet=True).passed


def test_nerve_wrong_answers_fail():
    def neighbours_only(clusters):
        return {(i, i + 1) for i in range(len(clusters) - 1) if set(clusters[i]) & set(clusters[i + 1])}

    def with_loops(clusters):
        return {(i, j) for i in range(len(clusters)) for j in range(i, len(clusters))
                if set(clusters[i]) & set(clusters[j])}

    def both_directions(clusters):
        return [(i, j) for i in range(len(clusters)) for j in range(len(clusters))
                if i != j and set(clusters[i]) & set(clusters[j])]

    def two_shared(clusters):
        return {(i, j) for i in range(len(clusters)) for j in range(i + 1, len(clusters))
                if len(set(clusters[i]) & set(clusters[j])) >= 2}

    def by_library(clusters):
        import numpy as np
        mapper_graph(np.zeros((3, 2)), np.arange(3.0))
        return X.solution_nerve(clusters)

    for wrong, word in ((neighbours_only, "every pair"), (with_loops, "loop"), (both_directions, "once"),
                        (two_shared, "one point"), (by_library, "own code")):
        result = X.check_nerve(wrong, quiet=True)
        assert not result.passed and word in (result.message + result.hint), (wrong.__name__, result)


def test_nerve_matches_mapper_graph_edges():
    from course_lib.mapper import shape_points

    points = shape_points("circle", 500, seed=5)
    graph = mapper_graph(points, points[:, 0])
    names = list(graph.nodes)
    edges = X.solution_nerve([graph.nodes[n]["members"] for n in names])
    assert {frozenset((names[i], names[j])) for i, j in edges} == {frozenset(e) for e in graph.edges}


def test_concept_lens_solution_passes():
    assert X.check_fitted_concept_lens(X.solution_fitted_concept_lens, quiet=True).passed


def test_concept_lens_wrong_answers_fail():
    import numpy as np

    def leaks(points, labels, fit, positive, negative):          # ignores fit: test labels leak in
        return X.solution_fitted_concept_lens(points, labels, np.ones(len(points), bool), positive, negative)

    def backwards(points, labels, fit, positive, negative):
        return -X.solution_fitted_concept_lens(points, labels, fit, positive, negative)

    def sums(points, labels, fit, positive, negative):
        rows = np.asarray(fit, bool)
        d = points[rows & (labels == positive)].sum(0) - points[rows & (labels == negative)].sum(0)
        return points @ d

    def fit_rows_only(points, labels, fit, positive, negative):   # lens only for the fit rows
        full = X.solution_fitted_concept_lens(points, labels, fit, positive, negative)
        return np.where(fit, full, 0.0)

    def first_coordinate(points, labels, fit, positive, negative):
        return points[:, 0]

    def by_library(points, labels, fit, positive, negative):
        from course_lib.mapper.lenses import concept_direction, concept_lens
        rows = np.asarray(fit, bool)
        return concept_lens(points, concept_direction(points[rows], labels[rows], positive, negative))

    def scaled(points, labels, fit, positive, negative):           # right direction, not unit
        return 37 * X.solution_fitted_concept_lens(points, labels, fit, positive, negative)

    def shifted(points, labels, fit, positive, negative):
        return X.solution_fitted_concept_lens(points, labels, fit, positive, negative) + 5

    for wrong, word in ((leaks, "leak"), (backwards, "larger"), (sums, "sums"),
                        (fit_rows_only, "held-out"), (first_coordinate, "mean(joy)"),
                        (by_library, "own code"), (scaled, "unit"), (shifted, "offset")):
        result = X.check_fitted_concept_lens(wrong, quiet=True)
        assert not result.passed and word in (result.message + result.hint), (wrong.__name__, result)


def test_intervals_per_point_solution_passes_and_matches_kmapper_cover():
    import numpy as np

    from course_lib.mapper import shape_points
    from course_lib.mapper.graph_plots import cover_intervals

    assert X.check_intervals_per_point(X.solution_intervals_per_point, quiet=True).passed
    circle = shape_points("circle", 400, seed=0)
    for overlap in (0.3, 0.7):
        counts = X.solution_intervals_per_point(circle[:, 0], cover_intervals(circle[:, 0], 10, overlap))
        assert counts.min() >= 1 and (counts.max() <= 2) == (overlap < 0.5)
        # the very intervals kmapper uses: every point in as many of its cubes as the drawn cover says
        import kmapper

        cover = kmapper.Cover(n_cubes=10, perc_overlap=overlap)
        data = np.c_[np.arange(len(circle)), circle[:, 0]]
        cubes = cover.transform(data, cover.fit(data))
        in_cubes = np.zeros(len(circle), dtype=int)
        for cube in cubes:
            in_cubes[cube[:, 0].astype(int)] += 1
        assert np.array_equal(in_cubes, counts), overlap


def test_intervals_per_point_wrong_answers_fail():
    import numpy as np

    def strict(lens, intervals):
        iv = np.asarray(intervals)
        return ((lens[:, None] > iv[:, 0]) & (lens[:, None] < iv[:, 1])).sum(1)

    def at_most_two(lens, intervals):
        return np.minimum(X.solution_intervals_per_point(lens, intervals), 2)

    def first_only(lens, intervals):
        iv = np.asarray(intervals)
        return ((lens[:, None] >= iv[:, 0]) & (lens[:, None] <= iv[:, 1])).any(1).astype(int)

    def sorted_neighbours(lens, intervals):          # assumes sorted intervals, each point in ≥ 1
        iv = np.asarray(intervals)
        return np.maximum(X.solution_intervals_per_point(lens, iv[np.argsort(iv[:, 0])][:2]), 1)

    def by_library(lens, intervals):
        mapper_graph(np.c_[lens, lens], lens, n_cubes=2)
        return X.solution_intervals_per_point(lens, intervals)

    for wrong, word in ((strict, "closed"), (at_most_two, "every interval"), (first_only, "two"),
                        (sorted_neighbours, "expected"), (by_library, "own code")):
        result = X.check_intervals_per_point(wrong, quiet=True)
        assert not result.passed and word in (result.message + result.hint), (wrong.__name__, result)


def test_cross_situation_purity_solution_passes():
    assert X.check_cross_situation_purity(X.solution_cross_situation_purity, quiet=True).passed


def test_cross_situation_purity_matches_the_vectorised_measure():
    import numpy as np

    from course_lib.mapper.measures import cross_situation_purity

    rng = np.random.default_rng(0)
    labels = rng.choice(["a", "b", "c"], 60)
    situations = [frozenset(rng.choice(8, rng.integers(1, 3), replace=False).tolist()) for _ in range(60)]
    groups = [rng.choice(60, 12, replace=False) for _ in range(5)]
    assert X.solution_cross_situation_purity(groups, labels, situations) == \
        cross_situation_purity(groups, labels, situations).share


def test_cross_situation_purity_wrong_answers_fail():
    import numpy as np

    def plain_pairs(groups, labels, situations):          # keeps same-situation pairs
        same = pairs = 0
        for g in groups:
            for a in range(len(g)):
                for b in range(a + 1, len(g)):
                    pairs += 1
                    same += labels[g[a]] == labels[g[b]]
        return same / pairs if pairs else float("nan")

    def first_situation_only(groups, labels, situations):
        firsts = [{sorted(s)[0]} for s in situations]
        return X.solution_cross_situation_purity(groups, labels, firsts)

    def all_pairs(groups, labels, situations):            # ignores the groups
        return X.solution_cross_situation_purity([sorted({i for g in groups for i in g})], labels, situations)

    def unique_pairs(groups, labels, situations):         # a pair in two groups counted once
        seen, same = set(), 0
        for g in groups:
            for a in range(len(g)):
                for b in range(a + 1, len(g)):
                    i, j = sorted((g[a], g[b]))
                    if (i, j) in seen or set(situations[i]) & set(situations[j]):
                        continue
                    seen.add((i, j))
                    same += labels[i] == labels[j]
        return same / len(seen) if seen else float("nan")

    def zero_when_empty(groups, labels, situations):
        value = X.solution_cross_situation_purity(groups, labels, situations)
        return 0.0 if np.isnan(value) else value

    def with_self_pairs(groups, labels, situations):
        same = pairs = 0
        for g in groups:
            for i in g:
                for j in g:
                    if i != j and set(situations[i]) & set(situations[j]):
                        continue
                    pairs += 1
                    same += labels[i] == labels[j]
        return same / pairs if pairs else float("nan")

    def by_library(groups, labels, situations):
        from course_lib.mapper.measures import cross_situation_purity
        return cross_situation_purity(groups, labels, situations).share

    def nested_only(groups, labels, situations):         # skips a pair only if one set holds the other
        same = pairs = 0
        for g in groups:
            for a in range(len(g)):
                for b in range(a + 1, len(g)):
                    i, j = g[a], g[b]
                    si, sj = set(situations[i]), set(situations[j])
                    if si <= sj or sj <= si:
                        continue
                    pairs += 1
                    same += labels[i] == labels[j]
        return same / pairs if pairs else float("nan")

    def unique_groups(groups, labels, situations):       # identical groups counted once
        distinct = list(dict.fromkeys(tuple(sorted(g)) for g in groups))
        return X.solution_cross_situation_purity([list(g) for g in distinct], labels, situations)

    for wrong, word in ((plain_pairs, "left out"), (first_situation_only, "disjoint"),
                        (all_pairs, "inside one group"), (unique_pairs, "counts in each"),
                        (zero_when_empty, "nan"), (with_self_pairs, "0.4"), (by_library, "own code"),
                        (nested_only, "neither set contains"), (unique_groups, "identical groups")):
        result = X.check_cross_situation_purity(wrong, quiet=True)
        assert not result.passed and word in (result.message + result.hint), (wrong.__name__, result)


def test_centroid_adjacency_solution_passes_and_matches_the_graph():
    import numpy as np

    from course_lib.mapper.measures import kmeans_adjacency_graph

    assert X.check_centroid_adjacency(X.solution_centroid_adjacency, quiet=True).passed
    points = np.random.default_rng(1).normal(size=(80, 5))
    g = kmeans_adjacency_graph(points, 7)
    got = X.solution_centroid_adjacency(points, g.graph["centroids"])
    want = {tuple(sorted(int(n[6:]) for n in e)): d["shared"] for *e, d in
            ((a, b, d) for a, b, d in g.edges(data=True))}
    assert got == want


def test_centroid_adjacency_wrong_answers_fail():
    import numpy as np

    def by_dot(points, centroids):
        order = np.argsort(-(points @ centroids.T), axis=1)[:, :2]
        return {tuple(sorted(map(int, p))): int(c) for p, c in zip(*np.unique(np.sort(order, 1), axis=0,
                                                                                 return_counts=True))}

    def farthest(points, centroids):
        d = np.linalg.norm(points[:, None] - centroids[None], axis=2)
        order = np.argsort(d, axis=1)[:, [0, -1]]
        out = {}
        for a, b in order:
            key = (int(min(a, b)), int(max(a, b)))
            out[key] = out.get(key, 0) + 1
        return out

    def unordered(points, centroids):
        d = np.linalg.norm(points[:, None] - centroids[None], axis=2)
        out = {}
        for a, b in np.argsort(d, axis=1)[:, :2]:
            out[(int(a), int(b))] = out.get((int(a), int(b)), 0) + 1
        return out

    def squared_by_library(points, centroids):
        from course_lib.mapper.measures import kmeans_adjacency_graph
        kmeans_adjacency_graph(points, 2)
        return X.solution_centroid_adjacency(points, centroids)

    for wrong, word in ((by_dot, "nearest"), (farthest, "second-nearest"), (unordered, "i < j"),
                        (squared_by_library, "own code")):
        result = X.check_centroid_adjacency(wrong, quiet=True)
        assert not result.passed and word in (result.message + result.hint), (wrong.__name__, result)


def test_cross_situation_purity_catches_a_first_listed_situation_in_either_order():
    import itertools

    import pytest

    def first_listed(pick):            # skip a pair only when the sets' "first" situations are equal
        def attempt(groups, labels, situations):
            same = pairs = 0
            for g in groups:
                for i, j in itertools.combinations(list(g), 2):
                    if pick(situations[i]) == pick(situations[j]):
                        continue
                    pairs += 1
                    same += labels[i] == labels[j]
            return same / pairs if pairs else float("nan")
        return attempt

    for pick in (lambda s: sorted(s)[0], lambda s: sorted(s)[-1]):   # both orders a set may list
        with pytest.raises(AssertionError, match="first one a set lists"):
            X._case_cross_either_order(first_listed(pick))
        assert not X.check_cross_situation_purity(first_listed(pick), quiet=True).passed
    X._case_cross_either_order(X.solution_cross_situation_purity)
