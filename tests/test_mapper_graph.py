"""Mapper graphs (built with kmapper) on shapes of known topology, and degenerate input."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from course_lib.mapper import SHAPES, graph_invariants, mapper_graph, shape_points


@pytest.mark.parametrize("name", sorted(SHAPES))
@pytest.mark.parametrize("seed", [0, 1])
def test_mapper_recovers_components_and_cycles_of_known_shapes(name, seed):
    points = shape_points(name, 800, noise=0.04, seed=seed)
    graph = mapper_graph(points, points[:, 0], n_cubes=10, overlap=0.3)
    inv = graph_invariants(graph)
    assert (inv.components, inv.cycles) == SHAPES[name], inv


@pytest.mark.parametrize("lens_dims", [1, 2])
def test_indexed_nerve_gives_kmapper_s_links_in_kmapper_s_order(lens_dims):
    """The nerve through a point → clusters index is kmapper's pairwise GraphNerve, link for link."""
    import kmapper
    from kmapper.nerve import GraphNerve

    from course_lib.mapper.graph import _indexed_nerve, default_clusterer

    points = shape_points("two circles", 500, noise=0.05, seed=3)
    lens = points[:, :lens_dims]
    raw = kmapper.KeplerMapper(verbose=0).map(lens, points, clusterer=default_clusterer(points),
                                              cover=kmapper.Cover(n_cubes=7, perc_overlap=0.45))
    assert len(raw["nodes"]) >= 10
    nerve = _indexed_nerve()
    links, simplices = nerve.compute(raw["nodes"])
    expected_links, expected_simplices = GraphNerve().compute(raw["nodes"])
    assert list(links.items()) == list(expected_links.items()) and simplices == expected_simplices
    for (a, b), n in nerve.shared.items():
        assert n == len(set(raw["nodes"][a]) & set(raw["nodes"][b])) > 0
    # min_intersection is honoured as kmapper's is
    strict = _indexed_nerve()
    strict.min_intersection = 3
    assert (list(strict.compute(raw["nodes"])[0].items())
            == list(GraphNerve(min_intersection=3).compute(raw["nodes"])[0].items()))


@pytest.mark.parametrize("dims", [2, 3, 40, 384])
@pytest.mark.parametrize("min_samples", [1, 3, 5])
def test_dense_dbscan_labels_are_scikit_learn_s(dims, min_samples):
    """The same labels and core points as sklearn's DBSCAN, on clumps that touch (border points
    reachable from two clusters), chains, noise, duplicates and a single point."""
    from sklearn.cluster import DBSCAN

    from course_lib.mapper.graph import _dense_dbscan_class

    dense = _dense_dbscan_class()
    rng = np.random.default_rng(dims * 10 + min_samples)
    for trial in range(12):
        n = int(rng.integers(1, 90))
        centres = rng.normal(size=(int(rng.integers(1, 5)), dims))
        x = centres[rng.integers(0, len(centres), n)] + rng.normal(scale=0.4, size=(n, dims))
        if trial % 3 == 0 and n > 4:
            x[: n // 4] = x[0]                                   # duplicates
        if trial % 4 == 1:
            x = np.cumsum(rng.normal(scale=0.1, size=(n, dims)), axis=0)   # a chain
        distances = np.linalg.norm(x[:, None] - x[None], axis=2)
        positive = distances[distances > 0]
        if positive.size == 0:
            continue
        for q in (0.0, 0.05, 0.2, 0.5):
            # above the rounding of scikit-learn's |x|² − 2x·y + |y|² (which can put a point's
            # distance to itself or to its duplicate at 1e-7), as every eps of the chapter is
            eps = float(np.quantile(positive, q)) * 1.0001
            ours = dense(eps=eps, min_samples=min_samples).fit(x)
            ref = DBSCAN(eps=eps, min_samples=min_samples).fit(x)
            assert np.array_equal(ours.labels_, ref.labels_), (trial, q)
            assert np.array_equal(ours.core_sample_indices_, ref.core_sample_indices_)
            assert np.array_equal(ours.fit_predict(x), ref.labels_)


def test_dense_dbscan_hands_other_input_to_scikit_learn():
    from course_lib.mapper.graph import DENSE_DBSCAN_MAX_POINTS, _dense_dbscan_class

    dense = _dense_dbscan_class()
    x = np.random.default_rng(0).normal(size=(DENSE_DBSCAN_MAX_POINTS + 1, 2))
    assert len(dense(eps=0.2, min_samples=3).fit(x).labels_) == len(x)   # scikit-learn's path
    weighted = dense(eps=0.5, min_samples=3).fit(x[:50], sample_weight=np.full(50, 3.0))
    assert (weighted.labels_ >= 0).all()    # weight 3 ≥ min_samples: every point is core
    with pytest.raises(ValueError):
        dense(eps=-1.0, min_samples=3).fit(x[:300].astype(np.float32))   # sklearn's own check


def test_nodes_carry_their_members_and_edges_their_overlap():
    points = shape_points("circle", 600, seed=2)
    graph = mapper_graph(points, points[:, 1], n_cubes=8, overlap=0.4)
    assert isinstance(graph, nx.Graph) and graph.number_of_nodes() > 8
    covered = set()
    for _, data in graph.nodes(data=True):
        members = data["members"]
        assert members == sorted(members) and all(isinstance(m, int) for m in members)
        covered |= set(members)
    assert len(covered) > 0.9 * len(points)
    for a, b, data in graph.edges(data=True):
        shared = set(graph.nodes[a]["members"]) & set(graph.nodes[b]["members"])
        assert data["shared"] == len(shared) > 0
    # an edge exactly where two clusters share a point
    names = list(graph.nodes)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            overlap = set(graph.nodes[a]["members"]) & set(graph.nodes[b]["members"])
            assert graph.has_edge(a, b) == bool(overlap)


def test_k_means_style_partition_has_no_cycles_but_mapper_does():
    """The contrast the chapter draws: a partition of the circle into clusters has no edges at all;
    Mapper's overlapping cover joins them into the loop."""
    points = shape_points("circle", 800, seed=3)
    from sklearn.cluster import KMeans

    labels = KMeans(n_clusters=8, n_init=4, random_state=0).fit_predict(points)
    partition = nx.Graph()
    partition.add_nodes_from(range(8))
    assert graph_invariants(partition).cycles == 0 and len(np.unique(labels)) == 8
    assert graph_invariants(mapper_graph(points, points[:, 0])).cycles == 1


def test_two_lenses_at_once_and_tensor_input():
    torch = pytest.importorskip("torch")
    points = shape_points("two circles", 800, seed=4)
    graph = mapper_graph(torch.as_tensor(points), torch.as_tensor(points), n_cubes=5, overlap=0.3)
    assert graph_invariants(graph).components == 2


@pytest.mark.parametrize("points, lens, match", [
    (np.zeros(5), np.zeros(5), "2-D"),
    (np.zeros((0, 2)), np.zeros(0), "empty"),
    (np.full((10, 2), np.nan), np.zeros(10), "NaN"),
    (np.zeros((10, 2)), np.zeros(9), "lens must have shape"),
    (np.zeros((10, 2)), np.zeros((10, 4)), "lens must have shape"),
    (np.zeros((10, 2)), np.r_[np.zeros(9), np.inf], "lens contains"),
])
def test_bad_input_is_refused_by_name(points, lens, match):
    with pytest.raises(ValueError, match=match):
        mapper_graph(points, lens)


@pytest.mark.parametrize("kwargs, match", [(dict(n_cubes=0), "n_cubes"), (dict(overlap=1.0), "overlap"),
                                           (dict(overlap=0), "overlap"), (dict(clusterer=3), "clusterer")])
def test_bad_settings_are_refused_by_name(kwargs, match):
    points = shape_points("circle", 50)
    with pytest.raises((ValueError, TypeError), match=match):
        mapper_graph(points, points[:, 0], **kwargs)


def test_degenerate_clouds_give_small_graphs_not_crashes():
    one = mapper_graph(np.zeros((1, 3)), np.zeros(1))
    assert graph_invariants(one).nodes <= 1
    same = mapper_graph(np.ones((20, 3)), np.ones(20))                  # identical points, constant lens
    inv = graph_invariants(same)
    assert inv.components == 1 and inv.cycles == 0
    two = mapper_graph(np.array([[0.0, 0.0], [5.0, 5.0]]), np.array([0.0, 1.0]))  # fewer than min_samples
    assert graph_invariants(two).nodes <= 2


def test_shapes_are_seeded_and_validated():
    assert np.array_equal(shape_points("circle", 10, seed=1), shape_points("circle", 10, seed=1))
    with pytest.raises(ValueError, match="name"):
        shape_points("torus")
    with pytest.raises(ValueError, match="n must"):
        shape_points("circle", 1)


def test_recovery_counts_and_table():
    from course_lib.mapper.sweeps import recovery_counts, recovery_table

    right, total = recovery_counts("circle", n_points=800, seeds=[0], n_cubes=[8, 10], overlaps=[0.3])
    assert total == 2 and right == 2
    counts = {("line", 300): recovery_counts("line", n_points=300, seeds=[0], n_cubes=[6], overlaps=[0.3]),
              ("circle", 800): (right, total)}
    table = recovery_table(counts)
    assert list(table.index) == ["line", "circle"] and set(table.columns) == {"300 points", "800 points"}
    assert table.loc["circle", "800 points"].startswith("2/2 = 100%")
    with pytest.raises(ValueError, match="shape"):
        recovery_counts("torus", n_points=10, seeds=[0], n_cubes=[5], overlaps=[0.3])


def test_recovery_by_setting_and_spread_table():
    from course_lib.mapper.sweeps import recovery_by_setting, recovery_spread_table

    shares = recovery_by_setting("circle", n_points=800, seeds=[0, 1], n_cubes=[8, 10], overlaps=[0.3])
    assert set(shares) == {(8, 0.3), (10, 0.3)} and all(v in (0, 0.5, 1) for v in shares.values())
    table = recovery_spread_table({("circle", 800): shares, ("circle", 300): {(6, 0.2): 0.5, (8, 0.2): 1.0}})
    assert "1/2 all right; min 50%, median 75%" == table.loc["circle", "300 points"]
    with pytest.raises(ValueError, match="shape"):
        recovery_by_setting("torus", n_points=10, seeds=[0], n_cubes=[5], overlaps=[0.3])
