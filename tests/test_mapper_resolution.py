"""Both resolution knobs on the planted shapes (4.2) and the one-factor clusterer controls."""

import networkx as nx
import pytest

from course_lib.mapper.resolution import SHAPES, read_shape, resolution_sweep


def test_read_shape_counts_cycles_and_leaves():
    assert read_shape(nx.cycle_graph(8), "ring") == (1, 1, True)
    assert read_shape(nx.cycle_graph(8), "chain")[2] is False
    assert read_shape(nx.path_graph(8), "chain") == (0, 1, True)
    assert read_shape(nx.path_graph(8), "line") == (2, 1, True)
    star = nx.star_graph(3)
    assert read_shape(star, "star") == (3, 1, True)
    assert read_shape(star, "line")[2] is False
    two_pieces = nx.disjoint_union(nx.cycle_graph(5), nx.path_graph(2))   # a cycle, but not in one piece
    assert read_shape(two_pieces, "ring") == (1, 2, False)


def test_read_shape_rejects_unknown_shape():
    with pytest.raises(ValueError, match="shape"):
        read_shape(nx.path_graph(3), "spiral")


def test_sweep_quick_has_both_knobs_and_the_bands():
    rows = resolution_sweep("quick")
    methods = {r["method"] for r in rows}
    assert methods == {"Mapper", "k-means", "k-means matched"}
    assert {r["shape"] for r in rows} == set(SHAPES)
    mapper_default = [r for r in rows if r["method"] == "Mapper" and r["scale"] == 1.0]
    assert mapper_default and all(r["right"] for r in mapper_default)
    coarse = [r for r in rows if r["method"] == "k-means" and r["k"] in (6, 12)]
    fine = [r for r in rows if r["method"] == "k-means" and r["k"] >= 50]
    assert all(r["right"] for r in coarse) and sum(r["right"] for r in fine) <= len(fine) / 4
