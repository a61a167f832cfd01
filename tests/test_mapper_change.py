"""Notebook 4.3's machinery: the situation split, the recorded top layers (they must reproduce the
full model), the edits (skip, project out, add), and the landing measures, on known answers."""

import networkx as nx
import numpy as np
import pytest

from course_lib.mapper import change as C
from course_lib.mapper import interventions as I
from course_lib.mapper.activations import load_encoder
from course_lib.mapper.finetune import TopLayers, situation_index, situation_split
from course_lib.mapper.sentences import load_sentences

TEXTS = ["The storm missed the town.", "When the plane landed on the island at sunset, we felt happy.",
         "Grandma passed away in the spring.", "I was furious when the taxi driver took the long way."]


@pytest.fixture(scope="module")
def minilm():
    return load_encoder(precision="float32")


def test_situation_split_matches_the_card():
    s = load_sentences()
    train, held = situation_split(s)
    index = situation_index(s)
    assert train.sum() == 578 and held.sum() == 358 and not (train & held).any()
    assert not (train | held)[s.kind == "mixed"].any() and (index[s.kind == "mixed"] == -1).all()
    # held-out situations never occur in training sentences
    for cell in {(t, e) for t, e in zip(s.topic, s.emotion)}:
        rows = (s.topic == cell[0]) & (s.emotion == cell[1])
        assert set(index[rows & train]) == {0, 1, 2} and set(index[rows & held]) == {3, 4}


def test_recorded_top_layers_reproduce_the_full_model(minilm):
    full = minilm.embed(TEXTS)[:, -1]
    for top in (1, 2, 6):
        again = TopLayers(minilm, TEXTS, top_layers=top, batch_size=3).embed_all(len(TEXTS))
        assert np.allclose(again, full, atol=1e-4), top
    with pytest.raises(ValueError, match="top_layers"):
        TopLayers(minilm, TEXTS, top_layers=7)


def test_first_rows_are_batched_like_their_own_recording(minilm):
    first = np.array([False, True, True, False])
    shared = TopLayers(minilm, TEXTS, top_layers=2, batch_size=1, first=first)
    alone = TopLayers(minilm, [t for t, f in zip(TEXTS, first) if f], top_layers=2, batch_size=1)
    assert shared.n_first == len(alone.rows) == 2
    for index in range(shared.n_first):     # the same training batches, the same recorded inputs
        assert np.flatnonzero(first)[alone.rows[index]].tolist() == shared.rows[index].tolist()
        assert np.allclose(shared.records[index][0], alone.records[index][0])
    full = minilm.embed(TEXTS)[:, -1]
    assert np.allclose(shared.embed_all(len(TEXTS)), full, atol=1e-4)
    with pytest.raises(ValueError, match="first"):
        TopLayers(minilm, TEXTS, top_layers=2, first=first[:3])


def test_gradients_reach_only_through_the_top_blocks(minilm):
    top = TopLayers(minilm, TEXTS, top_layers=2, batch_size=4)
    params = [p for block in top.blocks for p in block.parameters()]
    for p in params:
        p.requires_grad_(True)
    try:
        top.pooled(0).sum().backward()
        assert all(p.grad is not None for p in params)
        assert top.records[0][0].grad is None and not top.records[0][0].requires_grad
    finally:
        for p in params:
            p.requires_grad_(False)
            p.grad = None


def test_edits_do_what_they_say(minilm):
    plain = I.edited_activations(minilm, TEXTS, {})
    assert np.allclose(plain, minilm.embed(TEXTS), atol=1e-5)
    skipped = I.edited_activations(minilm, TEXTS, {3: I.skip_block()})
    assert np.allclose(skipped[:, 3], plain[:, 2], atol=1e-5)          # block 3 passes its input on
    assert np.allclose(skipped[:, :3], plain[:, :3], atol=1e-5)        # nothing below changes
    u = np.random.default_rng(0).normal(size=(2, 384))
    removed = I.edited_activations(minilm, TEXTS, {4: I.remove_directions(u)})
    q = I.orthonormal(u)
    assert np.abs(removed[:, 4] @ q.T).max() < 1e-4                     # pooled states too: linear
    assert np.allclose(I.edited_activations(minilm, TEXTS, {5: I.add_vector(np.zeros(384))}), plain, atol=1e-5)
    v = np.full(384, 0.5)
    moved = I.edited_activations(minilm, TEXTS, {6: I.add_vector(v)})
    assert np.allclose(moved[:, 6], plain[:, 6] + 0.5, atol=1e-4)


@pytest.mark.parametrize("edits, err, match", [
    ({0: I.skip_block()}, ValueError, "not the embedding 0"), ({7: I.skip_block()}, ValueError, r"\[1, 6\]"),
    ({2.0: I.skip_block()}, TypeError, "layer"),
    ({2: "skip"}, TypeError, "callable"), ({2: lambda o, i: o[:, :1]}, ValueError, "keep the shape"),
])
def test_bad_edits_are_refused(minilm, edits, err, match):
    with pytest.raises(err, match=match):
        I.edited_activations(minilm, TEXTS[:2], edits)
    # the hooks are removed even after an error
    assert np.allclose(I.edited_activations(minilm, TEXTS[:2], {}), minilm.embed(TEXTS[:2]), atol=1e-5)


def test_orthonormal_refuses_dependent_directions():
    with pytest.raises(ValueError, match="independent"):
        I.orthonormal(np.array([[1.0, 0.0], [2.0, 0.0]]))


def test_landing_measures_on_known_points():
    ref = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9], [0.0, 1.2]])
    labels = np.array(["joy", "joy", "fear", "fear", "fear"])
    g = nx.Graph()
    g.add_node("J", members=[0, 1]); g.add_node("F", members=[2, 3, 4])
    assert C.nearest_node(np.array([[2.0, 0.1], [0.1, 3.0]]), g, ref) == ["J", "F"]
    assert C.neighbour_labels(np.array([[1.0, 0.05]]), ref, labels, k=2).tolist() == ["joy"]
    # the point itself excluded: its nearest others decide
    assert C.neighbour_labels(ref[:1], ref, labels, k=1, exclude=np.array([0])).tolist() == ["joy"]
    assert C.largest_node(g, labels, "fear") == "F"
    with pytest.raises(ValueError, match="no node"):
        C.largest_node(g, labels, "anger")
    with pytest.raises(ValueError, match="dimensions"):
        C.nearest_node(np.ones((1, 3)), g, ref)


def test_purity_at_coverage_interpolates_inside_the_curve_only():
    curve = [dict(scale=0.3, coverage=0.2, purity=1.0, nodes=5), dict(scale=0.4, coverage=0.6, purity=0.8, nodes=9),
             dict(scale=0.5, coverage=1.0, purity=0.4, nodes=3), dict(scale=0.1, coverage=0.0, purity=float("nan"), nodes=0)]
    assert C.purity_at_coverage(curve, 0.4) == pytest.approx(0.9)
    assert C.purity_at_coverage(curve, 0.8) == pytest.approx(0.6)
    assert np.isnan(C.purity_at_coverage(curve, 0.1))


def test_purity_coverage_curve_scores_cross_situation_pairs_on_the_scored_points_only():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.array(["joy", "fear"]), 60)
    x = np.repeat(np.array([[1.0, 0, 0], [0, 1.0, 0]]), 60, axis=0) + rng.normal(size=(120, 3)) * 0.05
    situations = np.arange(120) % 6 + 6 * (labels == "fear")       # six situations per emotion
    curve = C.purity_coverage_curve(x, labels, (0.3, 0.5), situations=situations)
    assert all({"cross", "pairs"} <= set(r) for r in curve)
    full = [r for r in curve if r["nodes"]]
    assert full and all(r["cross"] == pytest.approx(1.0) and r["pairs"] > 0 for r in full)
    score = np.arange(120) % 2 == 0
    half = C.purity_coverage_curve(x, labels, (0.5,), situations=situations, score=score)[0]
    assert half["pairs"] < full[-1]["pairs"] and half["coverage"] <= 1
    assert C.purity_at_coverage(curve, full[-1]["coverage"], "pairs") == pytest.approx(full[-1]["pairs"])
    with pytest.raises(ValueError, match="score"):
        C.purity_coverage_curve(x, labels, (0.5,), score=score[:10])


def test_steering_pair_is_the_centroid_difference_and_an_equally_long_random_control():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 16)) + 3.0
    vector, control = C.steering_pair(x, np.arange(10), np.arange(10, 20), np.random.default_rng(1))
    assert np.allclose(vector, x[10:20].mean(0) - x[:10].mean(0))
    assert np.isclose(np.linalg.norm(control), np.linalg.norm(vector))
    again = C.steering_pair(x, np.arange(10), np.arange(10, 20), np.random.default_rng(1))[1]
    assert np.allclose(control, again) and abs(control @ vector) < np.linalg.norm(vector) ** 2
    with pytest.raises(ValueError, match="source and target"):
        C.steering_pair(x, np.arange(0), np.arange(10, 20), rng)


def test_checkpoint_steps_take_a_count_or_the_steps():
    from course_lib.checkpoints import log_spaced_steps
    from course_lib.mapper.finetune import FINETUNE_SETTINGS, checkpoint_steps

    assert checkpoint_steps(60, 6).tolist() == log_spaced_steps(60, 6).tolist()
    assert checkpoint_steps(60, (0, 3, 8, 22, 60)).tolist() == [0, 3, 8, 22, 60]
    for bad in ((0, 8, 3, 60), (1, 8, 60), (0, 8, 59), (0,)):
        with pytest.raises(ValueError, match="checkpoints"):
            checkpoint_steps(60, bad)
    for settings in FINETUNE_SETTINGS.values():
        assert checkpoint_steps(settings["steps"], settings["checkpoints"])[-1] == settings["steps"]


def test_graph_summary_leaves_tied_nodes_out_of_entanglement_as_4_2_does():
    from course_lib.mapper.change import graph_summary
    from course_lib.mapper.measures import entanglement
    from mapper_tools import graph_of

    labels = np.array(["joy"] * 4 + ["fear"] * 4 + ["anger"] * 2)
    g = graph_of({"t": [7, 8], "f": [4, 5, 6, 7]}, [("t", "f")])   # t ties anger/fear
    row = graph_summary(np.zeros((10, 2)), g, labels)
    assert row["entanglement"] == entanglement(g, labels, ties="skip") == 0
    assert entanglement(g, labels) == 1          # a plain argmax would call the edge mixed
