"""The chapter 4 checkers: the solution passes, subtle wrong answers fail."""

from course_lib.mapper import exercises as X
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

    for wrong, word in ((leaks, "leak"), (backwards, "larger"), (sums, "sums"),
                        (fit_rows_only, "held-out"), (first_coordinate, "mean(joy)"),
                        (by_library, "own code")):
        result = X.check_fitted_concept_lens(wrong, quiet=True)
        assert not result.passed and word in (result.message + result.hint), (wrong.__name__, result)


def test_steering_solution_passes():
    assert X.check_steering_pair(X.solution_steering_pair, quiet=True).passed


def test_steering_wrong_answers_fail():
    import numpy as np

    def backwards(x, source, target, rng):
        v, c = X.solution_steering_pair(x, source, target, rng)
        return -v, c

    def on_unit_points(x, source, target, rng):
        u = x / np.linalg.norm(x, axis=1, keepdims=True)
        return X.solution_steering_pair(u, source, target, rng)

    def unit_control(x, source, target, rng):
        v, c = X.solution_steering_pair(x, source, target, rng)
        return v, c / np.linalg.norm(c)

    def raw_normal_control(x, source, target, rng):
        v, _ = X.solution_steering_pair(x, source, target, rng)
        return v, rng.normal(size=v.shape)

    def scaled_copy(x, source, target, rng):
        v, _ = X.solution_steering_pair(x, source, target, rng)
        return v, v.copy()

    def global_rng(x, source, target, rng):
        v, _ = X.solution_steering_pair(x, source, target, rng)
        c = np.random.normal(size=v.shape)
        return v, c * np.linalg.norm(v) / np.linalg.norm(c)

    for wrong, word in ((backwards, "backwards"), (on_unit_points, "normalise"), (unit_control, "long"),
                        (raw_normal_control, "long"), (scaled_copy, "aligned"), (global_rng, "rng")):
        result = X.check_steering_pair(wrong, quiet=True)
        assert not result.passed and word in (result.message + result.hint), (wrong.__name__, result)
