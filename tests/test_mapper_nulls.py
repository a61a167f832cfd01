"""Notebook 4.2's re-analysis tools: tie handling, the entanglement shuffle null, k-means' adjacency
graph, cross-situation purity, the planted data sets, filled triangles and the cycle census."""

import networkx as nx
import numpy as np
import pytest

from course_lib.mapper import measures as M
from course_lib.mapper import study as S
from course_lib.mapper.graph import filled_triangles, graph_invariants, mapper_graph
from course_lib.mapper.shapes import PLANTED_LABELS, labelled_ring, planted_mixing, shape_points
from mapper_tools import graph_of


LABELS = np.array(["joy"] * 4 + ["fear"] * 4 + ["anger"] * 2)


def test_a_tied_node_can_be_left_out_of_entanglement():
    # node t holds one anger and one fear: a tie. "first" sends it to anger; "skip" drops its edges.
    g = graph_of({"t": [7, 8], "f": [4, 5, 6, 7]}, [("t", "f")])
    first = M.entanglement_matrix(g, LABELS, ["joy", "fear", "anger"])
    assert first[1, 2] == 1 and M.entanglement(g, LABELS) == 1
    skipped = M.entanglement_matrix(g, LABELS, ["joy", "fear", "anger"], ties="skip")
    assert skipped.sum() == 0 and M.entanglement(g, LABELS, ties="skip") == 0
    with pytest.raises(ValueError, match="ties"):
        M.entanglement_matrix(g, LABELS, ties="random")


def test_an_edge_with_a_shared_attribute_counts_that_many_points():
    g = graph_of({"j": [0, 1], "f": [4, 5]})
    g.add_edge("j", "f", shared=7)                      # k-means' graph: no common members
    assert M.entanglement_matrix(g, LABELS, ["joy", "fear", "anger"])[0, 1] == 7


@pytest.mark.parametrize("ties", ["first", "skip"])
@pytest.mark.parametrize("block", [256, 3])      # shuffles scored in one block, or in three
def test_the_vectorised_null_equals_the_matrix_of_each_shuffle(ties, block, monkeypatch):
    monkeypatch.setattr(M, "_SHUFFLE_BLOCK", block)
    points = shape_points("two circles", 300, seed=1)
    labels = np.where(points[:, 0] > 1.5, "b", "a")
    labels[::7] = "c"
    graph = mapper_graph(points, points[:, 1], n_cubes=6, overlap=0.4)
    null = M.entanglement_null(graph, labels, n_shuffles=7, seed=3, ties=ties)
    rng = np.random.default_rng(3)
    for t in range(7):
        want = M.entanglement_matrix(graph, rng.permutation(labels), null.classes, ties=ties)
        assert np.allclose(null.null[t], want)
    assert null.share == pytest.approx(M.entanglement(graph, labels, ties=ties))
    rows = null.pairs()
    assert len(rows) == 3 and all(0 < r["p"] <= 1 and 0 < r["p_share"] <= 1 for r in rows)
    assert sum(r["share"] for r in rows) == pytest.approx(1.0) or sum(r["observed"] for r in rows) == 0


def test_entanglement_null_refuses_bad_input():
    g = graph_of({"a": [0, 1]})
    with pytest.raises(ValueError, match="n_shuffles"):
        M.entanglement_null(g, LABELS, n_shuffles=0)
    with pytest.raises(ValueError, match="ties"):
        M.entanglement_null(g, LABELS, ties="coin")


def test_kmeans_adjacency_graph_gives_every_point_one_edge():
    points, _ = planted_mixing(seed=1, n_blob=20, n_bridge=10)
    g = M.kmeans_adjacency_graph(points, 6)
    assert sorted(i for _, d in g.nodes(data=True) for i in d["members"]) == list(range(len(points)))
    assert sum(d["shared"] for *_, d in g.edges(data=True)) == len(points)
    assert g.graph["centroids"].shape == (6, points.shape[1])
    with pytest.raises(ValueError, match="k"):
        M.kmeans_adjacency_graph(points, 1)
    with pytest.raises(ValueError, match="NaN"):
        M.kmeans_adjacency_graph(np.full((5, 2), np.nan), 2)
    with pytest.raises(ValueError, match="2-D"):
        M.kmeans_adjacency_graph(np.zeros(5), 2)


def test_cross_situation_purity_leaves_same_situation_pairs_out():
    labels = np.array(["joy", "joy", "joy", "sad", "sad", "joy"])
    situations = [{"win"}, {"win"}, {"gift"}, {"loss"}, {"loss"}, {"gift", "loss"}]
    r = M.cross_situation_purity([[0, 1, 2, 3]], labels, situations)
    assert (r.same, r.pairs) == (2, 5) and r.share == pytest.approx(0.4)
    assert M.cross_situation_purity([[2, 3, 5]], labels, situations).pairs == 1      # 5 touches both
    assert M.cross_situation_purity([[0, 2, 3], [0, 2]], labels, situations).pairs == 4   # per group
    assert np.isnan(M.cross_situation_purity([[0, 1]], labels, situations).share)
    one_each = M.cross_situation_purity([[0, 1, 2]], labels, np.array(["w", "w", "g", "l", "l", "g"]))
    assert (one_each.same, one_each.pairs) == (2, 2)
    with pytest.raises(ValueError, match="one entry per point"):
        M.cross_situation_purity([[0, 1]], labels, situations[:3])
    with pytest.raises(ValueError, match="outside"):
        M.cross_situation_purity([[0, 9]], labels, situations)


def test_situations_of_the_sentences():
    from course_lib.mapper.sentences import load_sentences

    s = load_sentences()
    sets = S.situation_sets(s)
    sizes = np.array([len(v) for v in sets])
    assert np.all(sizes[s.kind == "mixed"] == 2) and np.all(sizes[s.kind != "mixed"] == 1)
    assert len(set().union(*sets)) == 120                  # 6 topics × 4 emotions × 5 situations


def test_matched_k_and_spread():
    g = graph_of({"a": [0, 1, 2, 3], "b": [3, 4, 5, 6], "c": [6, 7]})       # 10 memberships, 8 points
    assert S.matched_k(g) == round(8 * 3 / 10)
    with pytest.raises(ValueError, match="no nodes"):
        S.matched_k(nx.Graph())
    assert S.spread([3, 1, 2]) == dict(min=1.0, median=2.0, max=3.0)
    with pytest.raises(ValueError, match="finite"):
        S.spread([1.0, np.nan])
    with pytest.raises(ValueError, match="non-empty"):
        S.spread([])


def test_planted_data_sets():
    ring, labels = labelled_ring(400, seed=2)
    chain, chain_labels = labelled_ring(400, gap=True, seed=2)
    assert ring.shape == chain.shape == (400, 64)
    assert set(labels) == set(PLANTED_LABELS) and "d" not in set(chain_labels)
    points, labels = planted_mixing((1, 3), n_blob=10, n_bridge=6, dim=8)
    assert points.shape == (46, 8) and (labels == "b").sum() + (labels == "d").sum() == 26
    for call, match in [(lambda: labelled_ring(4), "n"), (lambda: planted_mixing((0, 0)), "different"),
                        (lambda: planted_mixing((0, 5)), "pair"), (lambda: planted_mixing(dim=3), "dim")]:
        with pytest.raises(ValueError, match=match):
            call()


def test_filled_triangles_appear_only_above_half_overlap():
    circle = shape_points("circle", 800, seed=0)
    assert filled_triangles(mapper_graph(circle, circle[:, 0], n_cubes=10, overlap=0.3)) == 0
    dense = mapper_graph(circle, circle[:, 0], n_cubes=10, overlap=0.7)
    assert filled_triangles(dense) > 0 and graph_invariants(dense).cycles > 1
    assert filled_triangles(graph_of({"a": [0], "b": [0], "c": [0, 1]})) == 1
    with pytest.raises(TypeError, match="networkx"):
        filled_triangles({"a": [0]})


def test_cycle_census_reads_a_diamond_and_a_triangle():
    # a diamond: cube0 splits into two nodes that rejoin in cube1 and cube2 (no common point)
    diamond = graph_of({"cube0_cluster0": [0, 1], "cube1_cluster0": [1, 2], "cube1_cluster1": [0, 3],
                        "cube2_cluster0": [2, 3]},
                       [("cube0_cluster0", "cube1_cluster0"), ("cube0_cluster0", "cube1_cluster1"),
                        ("cube1_cluster0", "cube2_cluster0"), ("cube1_cluster1", "cube2_cluster0")])
    labels = np.array(["joy", "joy", "sad", "sad"])
    situations = [frozenset({"x"})] * 4
    (row,) = S.cycle_census(diamond, situations, labels)
    assert row["length"] == 4 and row["intervals"] == 3 and not row["filled"]
    assert row["one_situation"] and not row["one_label"] and row["points"] == 4
    triangle = graph_of({"a": [0, 1], "b": [1, 2], "c": [1, 3]}, [("a", "b"), ("b", "c"), ("a", "c")])
    (row,) = S.cycle_census(triangle, [frozenset({i}) for i in range(4)], labels)
    assert row["filled"] and row["one_situation"]          # point 1 (and its situation) is in all three
    with pytest.raises(ValueError, match="one entry per label"):
        S.cycle_census(triangle, situations[:2], labels)


def test_kmeans_adjacency_margin_drops_clear_points_only():
    rng = np.random.default_rng(0)
    blobs = np.concatenate([rng.normal(size=(40, 2)) * 0.1 + c for c in ((0, 0), (5, 0), (10, 0))])
    bridge = np.column_stack([np.linspace(0.5, 4.5, 9), np.zeros(9)])
    points = np.concatenate([blobs, bridge])
    full = M.kmeans_adjacency_graph(points, 3)
    cut = M.kmeans_adjacency_graph(points, 3, max_ratio=1.5)
    assert sum(d["shared"] for *_, d in full.edges(data=True)) == len(points)
    assert sum(d["shared"] for *_, d in cut.edges(data=True)) < 15     # only points near the 0–5 midpoint
    centroids = cut.graph["centroids"][:, 0]
    for a, b in cut.edges:
        ends = sorted(centroids[[int(a[6:]), int(b[6:])]])
        assert ends[1] - ends[0] < 7, (ends, "a far blob pair was joined")
    with pytest.raises(ValueError):
        M.kmeans_adjacency_graph(points, 3, max_ratio=1.0)


def test_cross_situation_purity_per_group_mean_counts_every_group_once():
    labels = np.array(["a", "a", "b", "b", "a", "b", "a", "a"])
    situations = [0, 1, 2, 3, 4, 5, 6, 7]                 # every point its own situation
    big, small = [0, 1, 2, 3, 4, 5], [6, 7]                # big: 6 of 15 pairs agree; small: 1 of 1
    pp = M.cross_situation_purity([big, small, [2]], labels, situations)
    assert pp.pairs == 16 and pp.same == 7 and pp.share == pytest.approx(7 / 16)
    assert pp.group_pairs == (15, 1, 0)
    assert pp.group_mean == pytest.approx((6 / 15 + 1) / 2)   # not the pooled 7/16
    # per membership: the big group's share counts 6 times, the small one's twice (a group of
    # one holds no pair and counts for nothing)
    assert pp.member_mean == pytest.approx((6 * 6 / 15 + 2 * 1) / 8)
    assert np.isnan(M.cross_situation_purity([[0]], labels, situations).group_mean)
    assert np.isnan(M.cross_situation_purity([[0]], labels, situations).member_mean)
