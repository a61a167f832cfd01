"""Lenses, purity, coverage, entanglement, bridges vs boundaries and the offline kmapper page, on
constructed data whose answers are known."""

import json
import re

import networkx as nx
import numpy as np
import pytest

from course_lib.mapper import lenses as L
from course_lib.mapper import measures as M
from course_lib.mapper.graph import mapper_graph
from course_lib.mapper.page import describe_nodes, mapper_page, show_page
from mapper_tools import graph_of


# --- lenses ------------------------------------------------------------------------------------

def test_lenses_on_points_with_known_answers():
    x = np.array([[3.0, 4.0], [0.0, 1.0], [-3.0, -4.0]])
    assert np.allclose(L.l2_norm_lens(x), [5, 1, 5])
    line = np.c_[np.linspace(-1, 1, 9), np.zeros(9)] + np.array([5.0, 2.0])
    assert np.allclose(np.abs(L.pca_lens(line)), np.abs(np.linspace(-1, 1, 9)))
    assert L.pca_lens(line)[np.argmax(np.abs(L.pca_lens(line)))] > 0           # sign fixed
    labels = np.array(["a", "a", "b", "b"])
    pts = np.array([[1.0, 0], [3.0, 0], [0, 2.0], [0, 4.0]])
    u = L.concept_direction(pts, labels, "a", "b")
    assert np.allclose(u, np.array([2.0, -3.0]) / np.sqrt(13))
    assert np.allclose(L.concept_lens(pts, 5 * u), pts @ u)
    ring = np.c_[np.arange(10.0), np.zeros(10)]
    assert np.allclose(L.knn_distance_lens(ring, k=2)[3:7], 1) and L.knn_distance_lens(ring, k=2)[0] == 2
    assert L.stack_lenses(np.arange(3.0), np.ones(3)).shape == (3, 2)


@pytest.mark.parametrize("call, match", [
    (lambda: L.l2_norm_lens(np.zeros(3)), "2-D array"),
    (lambda: L.l2_norm_lens([[np.nan, 1.0]]), "NaN"),
    (lambda: L.pca_lens(np.ones((4, 2)), component=2), "component"),
    (lambda: L.concept_direction(np.eye(2), ["a", "b"], "a", "c"), "does not occur"),
    (lambda: L.concept_direction(np.ones((2, 2)), ["a", "b"], "a", "b"), "coincide"),
    (lambda: L.concept_lens(np.eye(3), np.zeros(3)), "non-zero"),
    (lambda: L.knn_distance_lens(np.eye(3), k=3), "fewer than the points"),
    (lambda: L.stack_lenses(np.ones(3)), "2 or 3"),
    (lambda: L.stack_lenses(np.ones(3), np.ones(4)), "same length"),
])
def test_lenses_refuse_bad_input_by_name(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --- purity, coverage, entanglement ------------------------------------------------------------

LABELS = np.array(["joy"] * 4 + ["fear"] * 4 + ["anger"] * 2)


def test_purity_is_membership_weighted_and_reported_with_coverage():
    g = graph_of({"a": [0, 1, 2, 3], "b": [3, 4, 5], "c": [5, 6, 7]}, [("a", "b"), ("b", "c")])
    p = M.graph_purity(g, LABELS)
    assert p.purity == pytest.approx((4 + 2 + 3) / 10)   # per membership: point 3 and 5 count twice
    assert p.coverage == pytest.approx(8 / 10) and p.nodes == 3
    assert M.dominant_labels(g, LABELS)["b"] == ("fear", pytest.approx(2 / 3))
    # a tiny, perfectly pure graph is pure and covers almost nothing
    tiny = M.graph_purity(graph_of({"a": [0, 1]}), LABELS)
    assert tiny.purity == 1 and tiny.coverage == pytest.approx(0.2)
    empty = M.graph_purity(nx.Graph(), LABELS)
    assert empty.nodes == 0 and empty.coverage == 0 and np.isnan(empty.purity)


def test_a_tie_goes_to_the_label_that_sorts_first():
    g = graph_of({"a": [3, 4]})                  # one joy, one fear
    assert M.dominant_labels(g, LABELS)["a"][0] == "fear"


def test_entanglement_counts_shared_points_between_labels():
    g = graph_of({"j1": [0, 1, 2], "j2": [2, 3], "f1": [3, 4, 5], "f2": [5, 6, 7], "x": [8, 9]},
                 [("j1", "j2"), ("j2", "f1"), ("f1", "f2")])
    matrix = M.entanglement_matrix(g, LABELS, ["joy", "fear", "anger"])
    assert matrix.tolist() == [[1, 1, 0], [1, 1, 0], [0, 0, 0]]
    assert M.entanglement(g, LABELS) == pytest.approx(1 / 3)
    g.add_edge("f1", "x")                       # no shared point: adds nothing
    assert M.entanglement(g, LABELS) == pytest.approx(1 / 3)
    assert M.entanglement(graph_of({"a": [0]}), LABELS) == 0
    with pytest.raises(ValueError, match="classes lacks"):
        M.entanglement_matrix(g, LABELS, ["joy"])


def test_measures_refuse_graphs_and_labels_that_do_not_fit():
    with pytest.raises(TypeError, match="networkx.Graph"):
        M.graph_purity({"a": [0]}, LABELS)
    g = nx.Graph(); g.add_node("a")
    with pytest.raises(ValueError, match="no 'members'"):
        M.graph_purity(g, LABELS)
    with pytest.raises(ValueError, match="outside"):
        M.graph_purity(graph_of({"a": [0, 12]}), LABELS)
    with pytest.raises(ValueError, match="non-empty group"):
        M.partition_purity([[]], LABELS)


def test_bridges_and_boundaries_on_two_blobs_with_mixtures_between():
    rng = np.random.default_rng(0)
    joy = rng.normal(size=(60, 2)) * 0.3 + [-2, 0]
    fear = rng.normal(size=(60, 2)) * 0.3 + [2, 0]
    mix = np.c_[rng.uniform(-0.6, 0.6, 20), rng.normal(size=20) * 0.2]
    x = np.concatenate([joy, fear, mix])
    primary = np.array(["joy"] * 60 + ["fear"] * 60 + ["joy"] * 10 + ["fear"] * 10)
    secondary = np.array([""] * 120 + ["fear"] * 10 + ["joy"] * 10)
    graph = mapper_graph(x, x[:, 0], n_cubes=6, overlap=0.4)
    out = M.bridges_vs_boundaries(x, graph, primary, secondary)
    assert out.points > 0 and 0 < out.kmeans_points <= out.points
    assert out.covered == 140 and out.base_mixed == 20
    # both methods find the mixtures far above their base rate of 1 in 7
    assert out.mapper_mixed / out.points > 0.5 and out.kmeans_mixed / out.kmeans_points > 0.5
    assert out.mapper_pair <= out.mapper_mixed and out.kmeans_pair <= out.kmeans_mixed
    # the unranked arm: all candidates, of which the ranked ones are the closest calls
    assert out.candidates >= out.kmeans_points and out.candidates_mixed >= out.kmeans_mixed
    assert out.candidates_mixed / out.candidates <= out.kmeans_mixed / out.kmeans_points + 1e-9


# --- the page ----------------------------------------------------------------------------------

def test_mapper_page_is_offline_and_labels_its_nodes():
    texts = ["storm siren wailing"] * 3 + ["sunny picnic garden"] * 3 + ["storm siren river"] * 2
    labels = np.array(["fear"] * 3 + ["joy"] * 3 + ["fear"] * 2)
    g = graph_of({"cube0_cluster0": [0, 1, 2, 6], "cube1_cluster0": [3, 4, 5], "cube1_cluster1": [6, 7]},
                 [("cube0_cluster0", "cube1_cluster1")])
    names = describe_nodes(g, texts, labels)
    assert names["cube1_cluster0"].startswith("joy 100% · ") and "picnic" in names["cube1_cluster0"]
    assert "storm" not in names["cube1_cluster0"] and names["cube0_cluster0"].startswith("fear 100%")
    page = mapper_page(g, texts, labels, title="test")
    assert "cdnjs" not in page and "jsdelivr" not in page and "googleapis" not in page and "imgur" not in page
    assert "https://d3js.org v6.1.1" in page and "saveAs" in page        # both scripts inlined
    assert "cube1_cluster0: joy 100%" in page and "sunny picnic garden" in page
    frame = show_page(page, height=400).data
    assert "<iframe srcdoc=" in frame and "&lt;html" in frame
    with pytest.raises(ValueError, match="no nodes"):
        mapper_page(nx.Graph(), texts, labels)
    with pytest.raises(ValueError, match="height"):
        show_page(page, height=10)


def test_mapper_page_uses_the_chapters_colours_fits_and_offers_full_screen():
    from matplotlib.colors import to_rgb

    from course_lib.mapper.activation_plots import LABEL_COLORS

    texts = ["storm siren wailing"] * 3 + ["sunny picnic garden"] * 3 + ["storm siren river"] * 2
    labels = np.array(["fear"] * 3 + ["joy"] * 3 + ["fear"] * 2)
    g = graph_of({"cube0_cluster0": [0, 1, 2, 6], "cube1_cluster0": [3, 4, 5], "cube1_cluster1": [6, 7]},
                 [("cube0_cluster0", "cube1_cluster1")])
    page = mapper_page(g, texts, labels, title="test", color_name="emotion")
    scale = json.loads(re.search(r"const colorscale = (\[.*?\]);", page).group(1))
    rgb = [tuple(int(v) for v in re.findall(r"\d+", c)) for _, c in scale]   # kmapper writes rgb(r, g, b)
    assert [pos for pos, _ in scale] == [0.0, 1.0]
    assert rgb == [tuple(round(255 * v) for v in to_rgb(LABEL_COLORS[e])) for e in ("fear", "joy")]
    nodes = {n["name"]: n["color"][0][0] for n in json.loads(re.search(r"const graph = (\{.*?\});\n", page, re.S).group(1))["nodes"]}
    assert nodes == {"cube0_cluster0": 0.0, "cube1_cluster0": 1.0, "cube1_cluster1": 0.0}   # dominant label, no blend
    assert 'id="course-key"' in page and "zoom.transform" in page
    frame = show_page(page).data
    assert "requestFullscreen" in frame and "Show full screen" in frame


def test_with_lens_appends_the_lens_at_the_asked_share_of_variance():
    from course_lib.mapper.study import with_lens

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 6)) * np.arange(1, 7)
    lens = np.c_[rng.normal(size=200) * 50, rng.uniform(size=200)]
    for weight in (0.25, 1.0, 3.0):
        out = with_lens(x, lens, weight)
        assert out.shape == (200, 8)
        np.testing.assert_array_equal(out[:, :6], x)
        # together the lens columns hold weight × the points' variance, split evenly
        np.testing.assert_allclose(out[:, 6:].var(axis=0), weight * x.var(axis=0).sum() / 2)
        # the order of the lens values is kept
        assert np.array_equal(np.argsort(out[:, 6]), np.argsort(lens[:, 0]))
    assert with_lens(x, lens[:, 0], 1.0).shape == (200, 7)
    with pytest.raises(ValueError, match="weight"):
        with_lens(x, lens, 0)
    with pytest.raises(ValueError, match="same n"):
        with_lens(x, lens[:10], 1.0)
    with pytest.raises(ValueError, match="vary"):
        with_lens(x, np.ones(200), 1.0)


def test_seed_spread_places_mapper_among_kmeans_seeds_and_refuses_bad_input():
    from course_lib.mapper.measures import PairPurity
    from course_lib.mapper.study import kmeans_seeds, seed_spread, seed_spread_table

    assert kmeans_seeds("quick") == tuple(range(10))
    assert kmeans_seeds("standard") == tuple(range(20))

    def q(v: float) -> PairPurity:
        return PairPurity(share=v, same=0, pairs=1, group_mean=v + 0.1, member_mean=v - 0.1)

    row = seed_spread(q(0.5), [q(0.3), q(0.6), q(0.7), q(0.4)])
    assert row["kmeans_seeds"] == 4 and row["mapper_pooled"] == 0.5
    assert (row["kmeans_pooled_min"], row["kmeans_pooled_max"]) == (0.3, 0.7)
    assert np.isclose(row["kmeans_pooled_median"], 0.5) and row["kmeans_pooled_below"] == 2
    assert np.isclose(row["mapper_group"], 0.6) and row["kmeans_group_below"] == 2
    assert np.isclose(row["kmeans_member_median"], 0.4)
    # a tie is not "below"
    assert seed_spread(q(0.5), [q(0.5)])["kmeans_pooled_below"] == 0
    empty = seed_spread(q(0.5), [])
    assert empty["kmeans_seeds"] == 0 and np.isnan(empty["kmeans_pooled_median"])
    assert empty["kmeans_member_below"] == -1
    with pytest.raises(TypeError, match="PairPurity"):
        seed_spread(0.5, [q(0.3)])
    with pytest.raises(TypeError, match="PairPurity"):
        seed_spread(q(0.5), [0.3])
    table = seed_spread_table([dict(row, method="m")], ["method"])
    assert table.shape == (3, 6) and table.loc[("m", "pooled"), "below"] == 2
    assert table.loc[("m", "group"), "seeds"] == 4
    with pytest.raises(ValueError, match="lack the columns"):
        seed_spread_table([dict(row)], ["method"])
    with pytest.raises(ValueError, match="index"):
        seed_spread_table([dict(row, method="m")], [])


def test_incidence_is_remembered_read_only_and_equal_for_any_form():
    from course_lib.mapper.measures import _incidence

    sits = (frozenset({"a"}), frozenset({"b"}), frozenset({"a", "c"}))
    first = _incidence(sits, 3)
    assert _incidence(list(sits), 3) is first and not first.flags.writeable
    unhashable = _incidence([{"a"}, {"b"}, {"a", "c"}], 3)   # sets: built each time
    assert unhashable.flags.writeable and np.array_equal(unhashable, first)
    assert np.array_equal(_incidence(np.array(["x", "y", "x"]), 3),
                          [[True, False], [False, True], [True, False]])
    with pytest.raises(ValueError, match="one entry per point"):
        _incidence(sits, 4)
