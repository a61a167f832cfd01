"""Notebook 4.3's fair studies and 4.4's controls: the recorded rerun reproduces the hooked model, the
pieces of the studies on known answers, and bad input refused with a clear message."""

import networkx as nx
import numpy as np
import pytest

from course_lib.mapper import interventions as I
from course_lib.mapper import judged as J
from course_lib.mapper import sae as S
from course_lib.mapper.activations import load_encoder
from course_lib.mapper.rerun import LayerRecording

TEXTS = ["The storm missed the town.", "When the plane landed on the island at sunset, we felt happy.",
         "Grandma passed away in the spring.", "I was furious when the taxi driver took the long way.",
         "We were terrified when the lights went out."]


@pytest.fixture(scope="module")
def minilm():
    return load_encoder(precision="float32")


@pytest.fixture(scope="module")
def recording(minilm):
    return LayerRecording(minilm, TEXTS, layers=(1, 2, 3, 4), batch_size=2)


def test_recording_reproduces_the_hooked_model(minilm, recording):
    full = minilm.embed(TEXTS)[:, -1]
    assert np.allclose(recording.intact(), full, atol=1e-4)
    rng = np.random.default_rng(0)
    v, u = rng.normal(size=384), rng.normal(size=(2, 384))
    for layer, edit, hooked in ((2, None, I.add_vector(v)), (3, I.remove_directions(u), I.remove_directions(u)),
                                (4, I.skip_block(), I.skip_block())):
        add = np.tile(v, (len(TEXTS), 1)) if edit is None else None
        again = recording.last_layer(layer, edit, add=add)
        want = I.edited_activations(minilm, TEXTS, {layer: hooked})[:, -1]
        assert np.allclose(again, want, atol=1e-4), layer
    # one vector per sentence: each row as if edited alone
    per_row = rng.normal(size=(len(TEXTS), 384))
    got = recording.last_layer(2, add=per_row)
    for i in (0, 3):
        alone = I.edited_activations(minilm, [TEXTS[i]], {2: I.add_vector(per_row[i])})[0, -1]
        assert np.allclose(got[i], alone, atol=1e-4), i
    # an edit at the last layer runs no block: pooled + v exactly
    assert np.allclose(recording.last_layer(6, add=np.tile(v, (5, 1))), full + v, atol=1e-4)


def test_recording_refuses_bad_input(minilm, recording):
    with pytest.raises(ValueError, match="not recorded"):
        recording.last_layer(5)
    with pytest.raises(ValueError, match="layer"):
        recording.last_layer(0)
    with pytest.raises(ValueError, match="add must be"):
        recording.last_layer(2, add=np.zeros((2, 384)))
    with pytest.raises(ValueError, match="add must be"):
        recording.last_layer(2, add=np.full((5, 384), np.nan))
    with pytest.raises(TypeError, match="callable"):
        recording.last_layer(2, "skip")
    with pytest.raises(ValueError, match="shape"):
        recording.last_layer(2, lambda out, below: out[:, :1])
    with pytest.raises(ValueError, match="a recorded layer"):
        LayerRecording(minilm, TEXTS, layers=(9,))
    with pytest.raises(TypeError):
        LayerRecording(minilm, "one string", layers=(1,))


def _toy_graph():
    g = nx.Graph()
    g.add_node("a", members=[0, 1, 2, 3, 4, 5])      # joy, pure
    g.add_node("b", members=[6, 7, 8, 9, 10, 11])    # sadness, 5/6 pure
    g.add_node("c", members=[12, 13, 14])            # joy, too few fit members
    g.add_node("d", members=[0, 6, 12, 15])          # mixed
    return g


def test_steering_nodes_filter_by_purity_and_fit_members():
    labels = np.array(["joy"] * 6 + ["sadness"] * 5 + ["joy"] + ["joy"] * 3 + ["fear"])
    fit = np.ones(16, bool)
    fit[12:15] = False
    assert J.steering_nodes(_toy_graph(), labels, fit, 0.8, 5) == {"a": "joy", "b": "sadness"}
    assert J.steering_nodes(_toy_graph(), labels, fit, 0.9, 5) == {"a": "joy"}
    assert "c" in J.steering_nodes(_toy_graph(), labels, np.ones(16, bool), 0.8, 3)
    with pytest.raises(ValueError, match="min_purity"):
        J.steering_nodes(_toy_graph(), labels, fit, 1.5)
    with pytest.raises(ValueError, match="min_members"):
        J.steering_nodes(_toy_graph(), labels, fit, 0.8, 0)


def test_probe_reads_labels_and_refuses_bad_input():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 5))
    labels = np.where(x[:, 0] > 0, "joy", "fear")
    fit = np.arange(200) < 150
    probe = J.emotion_probe(x, labels, fit)
    assert np.mean(probe.predict(x[~fit] / np.linalg.norm(x[~fit], axis=1, keepdims=True)) == labels[~fit]) > 0.85
    with pytest.raises(ValueError, match="one entry per point"):
        J.emotion_probe(x, labels[:10], fit)
    with pytest.raises(ValueError, match="two labels"):
        J.emotion_probe(x, np.full(200, "joy"), fit)


def test_rate_rows_carry_wilson_intervals():
    r = J._rate(np.array([True] * 5 + [False] * 5))
    assert (r["k"], r["n"], r["rate"]) == (5, 10, 0.5)
    assert r["low"] == pytest.approx(0.2366, abs=1e-4) and r["high"] == pytest.approx(0.7634, abs=1e-4)


def test_random_dictionary_matches_sparsity_and_refuses_bad_input():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 16)) + 5.0
    fit = np.arange(500) < 300
    codes = S.random_dictionary_codes(x, 64, 6.0, np.random.default_rng(1), fit=fit)
    assert codes.shape == (500, 64) and codes.dtype == np.float32 and (codes >= 0).all()
    assert (codes[fit] > 0).sum(1).mean() == pytest.approx(6.0, rel=0.02)
    assert np.array_equal(codes, S.random_dictionary_codes(x, 64, 6.0, np.random.default_rng(1), fit=fit))
    for bad, match in (((x, 64, 0, None), "l0"), ((x, 64, 64, None), "l0"), ((x[:0], 64, 3, None), "states"),
                       ((x, 64, 3, np.zeros(500, bool)), "fit"), ((x, 0, 3, None), "features")):
        with pytest.raises(ValueError, match=match):
            S.random_dictionary_codes(bad[0], bad[1], bad[2], np.random.default_rng(0), fit=bad[3])


def test_pool_tokens_means_each_sentence():
    f = np.array([[1.0, 0], [3.0, 2], [5.0, 4]])
    assert np.allclose(S.pool_tokens(f, np.array([0, 0, 1]), 2), [[2.0, 1.0], [5.0, 4.0]])
    with pytest.raises(ValueError, match="at least one token"):
        S.pool_tokens(f, np.array([0, 0, 2]), 3)
    with pytest.raises(ValueError, match="owners"):
        S.pool_tokens(f, np.array([0, 1]), 2)


def test_compare_spaces_scores_held_out_rows_and_refuses_overlap():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.array(["joy", "anger", "fear", "sadness"]), 60)
    centres = rng.normal(size=(4, 12)) * 3
    x = centres[np.repeat(np.arange(4), 60)] + rng.normal(size=(240, 12))
    fit = np.tile(np.arange(60) < 30, 4)
    table, curves = S.compare_spaces({"clean": x, "noise": rng.normal(size=(240, 12))}, labels, fit, ~fit, k=4)
    assert table.loc["clean", "probe accuracy"] > 0.9 > table.loc["noise", "probe accuracy"]
    assert table.loc["clean", "k-means purity (k=4)"] > table.loc["noise", "k-means purity (k=4)"]
    assert set(curves) == {"clean", "noise"}
    situations = np.arange(240) % 10 + 10 * np.repeat(np.arange(4), 60)   # ten situations per label
    table, curves = S.compare_spaces({"clean": x, "noise": rng.normal(size=(240, 12))}, labels, fit, ~fit,
                                     k=(4, 8), situations=situations)
    assert {"cross-situation purity @70%", "pairs @70%", "k-means cross-situation purity (k=8)"} <= set(table)
    assert table.loc["clean", "k-means cross-situation purity (k=4)"] > 0.9
    assert table.loc["noise", "k-means cross-situation purity (k=4)"] < 0.5
    assert all("cross" in r for r in curves["clean"])
    with pytest.raises(ValueError, match="situations"):
        S.compare_spaces({"clean": x}, labels, fit, ~fit, situations=situations[:5])
    with pytest.raises(ValueError, match="share"):
        S.compare_spaces({"clean": x}, labels, fit, fit)
    with pytest.raises(ValueError, match="finite"):
        S.compare_spaces({"bad": x[:10]}, labels, fit, ~fit)
    with pytest.raises(ValueError, match="at least one"):
        S.compare_spaces({}, labels, fit, ~fit)


def test_compare_spaces_topics_match_a_separate_topic_comparison():
    rng = np.random.default_rng(1)
    labels = np.repeat(np.array(["joy", "anger", "fear", "sadness"]), 60)
    topics = np.tile(np.array(["work", "food", "sport"]), 80)
    x = rng.normal(size=(4, 12))[np.repeat(np.arange(4), 60)] * 3 + rng.normal(size=(3, 12))[np.arange(240) % 3] * 2
    x += rng.normal(size=(240, 12))
    fit = np.tile(np.arange(60) < 30, 4)
    spaces = {"a": x, "b": rng.normal(size=(240, 12))}
    both, _ = S.compare_spaces(spaces, labels, fit, ~fit, topics=topics)
    alone, _ = S.compare_spaces(spaces, topics, fit, ~fit)
    for c in ("50%", "70%", "80%"):
        assert np.allclose(both[f"topic purity @{c}"].astype(float), alone[f"purity @{c}"].astype(float),
                           equal_nan=True), c
    assert np.allclose(both["topic probe"].astype(float), alone["probe accuracy"].astype(float))
    with pytest.raises(ValueError, match="topics"):
        S.compare_spaces(spaces, labels, fit, ~fit, topics=topics[:5])


def test_neighbour_measures_on_known_answers():
    from course_lib.mapper import neighbours as N

    # four situations; label = situation // 2; points: label direction + a strong situation offset
    rng = np.random.default_rng(2)
    sit = np.repeat(np.arange(4), 20)
    labels = sit // 2
    label_dir, sit_dir = rng.normal(size=(2, 16)) * 3, rng.normal(size=(4, 16))
    situational = label_dir[labels] + sit_dir[sit] + rng.normal(size=(80, 16)) * 0.1
    # nearest neighbours are situation twins; across situations the label agrees
    assert N.own_situation_nearest(situational, sit) == 1.0
    assert N.cross_situation_agreement(situational, labels, sit, k=1) == 1.0
    # the same points without the situation offset: neighbours no longer follow the situation
    plain = label_dir[labels] + rng.normal(size=(80, 16)) * 0.3
    assert N.own_situation_nearest(plain, sit) < 0.8
    assert N.cross_situation_agreement(plain, labels, sit, k=5) == 1.0
    # random labels: agreement near chance (0.5)
    shuffled = rng.permutation(labels)
    assert abs(N.cross_situation_agreement(rng.normal(size=(80, 16)), shuffled, sit, k=5) - 0.5) < 0.15
    # sets of situations: a point in two situations shares with both
    sets = [frozenset({s}) for s in sit]
    assert N.cross_situation_agreement(situational, labels, sets, k=1) == 1.0
    summary = N.neighbour_summary(situational, labels, sit)
    assert set(summary) == {"same emotion, 1-NN of other situations", "same emotion, 5-NN of other situations",
                            "nearest neighbour of its own situation"}
    with pytest.raises(ValueError, match="k must"):
        N.cross_situation_agreement(plain, labels, sit, k=0)
    with pytest.raises(ValueError, match="labels"):
        N.cross_situation_agreement(plain, labels[:5], sit)
    with pytest.raises(ValueError, match="other situations"):
        N.cross_situation_agreement(plain, labels, np.zeros(80, int), k=1)
    with pytest.raises(ValueError, match="finite"):
        N.own_situation_nearest(np.full((5, 3), np.nan), np.arange(5))


def test_compare_spaces_hides_cross_situation_purity_on_few_pairs():
    rng = np.random.default_rng(3)
    labels = np.repeat(np.array(["joy", "anger", "fear", "sadness"]), 60)
    x = rng.normal(size=(4, 12))[np.repeat(np.arange(4), 60)] * 3 + rng.normal(size=(240, 12))
    fit = np.tile(np.arange(60) < 30, 4)
    situations = np.arange(240) % 10 + 10 * np.repeat(np.arange(4), 60)
    spaces = {"clean": x}
    shown, _ = S.compare_spaces(spaces, labels, fit, ~fit, k=4, situations=situations, min_pairs=0)
    hidden, _ = S.compare_spaces(spaces, labels, fit, ~fit, k=4, situations=situations, min_pairs=10 ** 9)
    for c in ("60%", "70%"):
        if np.isfinite(shown.loc["clean", f"cross-situation purity @{c}"]):
            assert np.isnan(hidden.loc["clean", f"cross-situation purity @{c}"])
        assert shown.loc["clean", f"pairs @{c}"] == hidden.loc["clean", f"pairs @{c}"]
    assert shown.loc["clean", "same emotion, 1-NN of other situations"] > 0.9
    with pytest.raises(ValueError, match="min_pairs"):
        S.compare_spaces(spaces, labels, fit, ~fit, k=4, situations=situations, min_pairs=-1)


def test_judge_reports_held_out_and_cross_situation_purity():
    rng = np.random.default_rng(4)
    emotion = np.repeat(np.array(["joy", "anger", "fear", "sadness"]), 60)
    topic = np.tile(np.array(["work", "food"]), 120)
    situations = np.arange(240) % 6 + 6 * np.repeat(np.arange(4), 60)
    x = rng.normal(size=(4, 12))[np.repeat(np.arange(4), 60)] * 3 + rng.normal(size=(240, 12))
    train = situations % 6 < 3
    row = J._judge(x, emotion, topic, train, ~train, (0.3, 0.4, 0.5, 0.6, 0.8), [{s} for s in situations])
    for key in ("emotion purity @75%, held-out situations", "cross-situation purity @75%", "pairs @75%",
                "emotion probe", "topic probe"):
        assert key in row, key
    assert row["emotion probe"] > 0.9
    for key in ("same emotion, 1-NN other situations", "same emotion, 5-NN other situations, held-out"):
        assert 0.9 < row[key] <= 1.0, (key, row[key])  # well-separated emotions agree across situations
    without = J._judge(x, emotion, topic, train, ~train, (0.3, 0.4, 0.5, 0.6, 0.8))
    assert "cross-situation purity @75%" not in without and "emotion purity @75%, held-out situations" in without


def test_matched_size_comparison_reports_pairs_intervals_and_seed_range():
    rng = np.random.default_rng(5)
    labels = np.repeat(np.array(["joy", "anger", "fear", "sadness"]), 60)
    situations = np.arange(240) % 6 + 6 * np.repeat(np.arange(4), 60)
    centres = rng.normal(size=(4, 12))[np.repeat(np.arange(4), 60)] * 3
    spaces = {"clean": centres + rng.normal(size=(240, 12))}
    score = np.ones(240, dtype=bool)
    table = S.matched_size_comparison(spaces, labels, score, [{s} for s in situations],
                                      scales=(0.3, 0.4, 0.5, 0.6), seeds=(0, 1), draws=200,
                                      coverage=(0.0, 1.0))
    assert len(table) >= 1 and set(table.index.get_level_values("space")) == {"clean"}
    for _, row in table.iterrows():
        assert row.mapper_low <= row.mapper_cross <= row.mapper_high
        assert row.kmeans_cross_min <= row.kmeans_cross_median <= row.kmeans_cross_max
        assert row.kmeans_low <= row.kmeans_cross_min and row.kmeans_cross_max <= row.kmeans_high
        assert np.isclose(row.gap_min, row.mapper_cross - row.kmeans_cross_max)
        assert row.mapper_pairs > 0 and row.kmeans_pairs_min > 0
    with pytest.raises(ValueError, match="situations"):
        S.matched_size_comparison(spaces, labels, score, [{0}] * 10)
    with pytest.raises(ValueError, match="seeds"):
        S.matched_size_comparison(spaces, labels, score, [{s} for s in situations], seeds=())
    with pytest.raises(ValueError, match="score"):
        S.matched_size_comparison(spaces, labels, score[:5], [{s} for s in situations])


def test_steering_by_target_splits_the_pooled_rate():
    from course_lib.mapper.judged import steering_by_target

    study = {"by_target": [
        dict(layer=2, dose=2.0, arm="steered", readout="graph", target="anger", k=3, n=4, rate=0.75),
        dict(layer=2, dose=2.0, arm="steered", readout="graph", target="joy", k=0, n=2, rate=0.0),
        dict(layer=2, dose=2.0, arm="random", readout="graph", target="joy", k=1, n=2, rate=0.5),
    ]}
    table = steering_by_target(study)
    assert table.loc[(2, 2.0), "anger"] == "3/4 = 75%" and table.loc[(2, 2.0), "joy"] == "0/2 = 0%"
    assert steering_by_target(study, arm="random").loc[(2, 2.0), "joy"] == "1/2 = 50%"
    with pytest.raises(ValueError, match="probe"):
        steering_by_target(study, readout="probe")
    with pytest.raises(ValueError, match="arm"):
        steering_by_target({"rows": []})


def test_cross_fitted_probe_sums_both_ways_and_refuses_bad_input():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(120, 4))
    labels = np.where(x[:, 0] > 0, "joy", "fear")
    first, second = np.arange(120) < 50, np.arange(120) >= 70
    correct, n = J.cross_fitted_probe(x, labels, first, second)
    assert n == 50 + 50 and correct > 0.85 * n
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    by_hand = sum(int(np.sum(J.emotion_probe(x, labels, a).predict(unit[b]) == labels[b]))
                  for a, b in ((first, second), (second, first)))
    assert correct == by_hand
    # labels unrelated to the points: near chance
    noise = rng.permutation(np.repeat(["joy", "fear"], 60))
    c, m = J.cross_fitted_probe(x, noise, first, second)
    assert 0.3 < c / m < 0.7
    with pytest.raises(ValueError, match="share a row"):
        J.cross_fitted_probe(x, labels, first, first)
    with pytest.raises(ValueError, match="same shape"):
        J.cross_fitted_probe(x, labels, first, second[:100])
    with pytest.raises(ValueError, match="at least one row"):
        J.cross_fitted_probe(x, labels, first, np.zeros(120, dtype=bool))


def test_projecting_fitted_class_means_is_chance_only_in_sample():
    """The artefact the held-out-trained probe avoids: class-mean differences fitted on some rows,
    projected out, leave a probe trained on those rows at chance while other rows stay readable."""
    from course_lib.mapper.interventions import orthonormal
    from course_lib.mapper.lenses import concept_direction

    rng = np.random.default_rng(2)
    n = 400
    labels = np.array(["joy", "fear", "anger", "sadness"] * (n // 4))
    group = np.repeat([0, 1, 2, 3], n // 4)   # four "situations"
    emotion = np.searchsorted(["anger", "fear", "joy", "sadness"], labels)
    # situations 0-1 code emotion along some directions, 2-3 along others
    codes = rng.normal(size=(2, 4, 30)) * 2
    x = codes[(group >= 2).astype(int), emotion] + rng.normal(size=(n, 30))
    fit, a, b = group <= 1, group == 2, group == 3
    d = np.stack([concept_direction(x[fit], labels[fit], p, q)
                  for p, q in (("joy", "sadness"), ("fear", "anger"), ("joy", "anger"))])
    u = orthonormal(d)
    edited = x - (x @ u.T) @ u
    in_sample = np.mean(J.emotion_probe(edited, labels, fit).predict(
        edited[a | b] / np.linalg.norm(edited[a | b], axis=1, keepdims=True)) == labels[a | b])
    held_correct, held_n = J.cross_fitted_probe(edited, labels, a, b)
    assert in_sample < 0.4 and held_correct / held_n > 0.8


def test_held_out_halves_split_the_held_out_situations():
    from course_lib.mapper.finetune import situation_split
    from course_lib.mapper.sentences import load_sentences

    s = load_sentences()
    first, second = J.held_out_halves(s)
    _, held = situation_split(s)
    assert not (first & second).any() and np.array_equal(first | second, held)
    assert first.sum() > 0 and second.sum() > 0
