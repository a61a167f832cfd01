"""Notebook 4.2's additions: tied nodes reported, the output (unembedding) lens, the token graph, and
the written-down prediction about cross-situation purity with its checker against subtle wrong answers."""

import numpy as np
import pytest

from course_lib.mapper import measures as M
from course_lib.mapper import output_lens as O
from course_lib.mapper import graph_predictions as P
from course_lib.mapper.sentences import load_sentences
from mapper_tools import graph_of

LABELS = np.array(["joy"] * 4 + ["fear"] * 4 + ["anger"] * 2)


def test_tied_nodes_names_every_tied_label():
    g = graph_of({"t": [7, 8], "f": [4, 5, 6, 7], "three": [0, 4, 8], "j": [0, 1, 2]})
    tied = M.tied_nodes(g, LABELS)
    assert tied == {"t": ("anger", "fear"), "three": ("anger", "fear", "joy")}
    with pytest.raises(ValueError, match="labels"):
        M.tied_nodes(g, LABELS[:5])


def test_output_words_are_single_tokens_used_by_no_sentence():
    assert O.words_in_sentences(O.OUTPUT_WORDS, load_sentences()) == []
    assert O.words_in_sentences({"joy": ["happy"]}, load_sentences()) == ["happy"]
    with pytest.raises(ValueError, match="words"):
        O.words_in_sentences({"joy": []}, load_sentences())


def test_output_lens_is_the_coordinate_along_the_row_difference():
    rows = {"joy": np.array([1.0, 0.0, 0.0]), "sadness": np.array([0.0, 1.0, 0.0])}
    points = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    got = O.output_lens(points, rows, "joy", "sadness")
    assert np.allclose(got, [1 / np.sqrt(2), -1 / np.sqrt(2), 0])
    with pytest.raises(ValueError, match="positive"):
        O.output_lens(points, rows, "fear", "sadness")
    with pytest.raises(ValueError, match="different"):
        O.output_lens(points, rows, "joy", "joy")


RIGHT = {P.DROP: "lower by more than 0.15", P.GAP: "k-means higher by more than 0.05"}


def test_cross_verdict_boundaries():
    assert P.cross_verdict(0.77, 0.49, 0.68) == RIGHT
    assert P.cross_verdict(0.60, 0.45, 0.45)[P.DROP] == "lower by 0.05 to 0.15"   # 0.15 exactly
    assert P.cross_verdict(0.60, 0.55, 0.60)[P.DROP] == "lower by 0.05 to 0.15"   # 0.05 exactly
    assert P.cross_verdict(0.60, 0.56, 0.61)[P.GAP] == "within 0.05"              # +0.05 exactly
    assert P.cross_verdict(0.60, 0.56, 0.50)[P.GAP] == "Mapper higher by more than 0.05"
    assert P.cross_verdict(0.50, 0.52, 0.52)[P.DROP] == "about the same"          # cross above plain
    for bad in (True, float("nan"), 1.5, "0.5"):
        with pytest.raises(ValueError, match="mapper_purity"):
            P.cross_verdict(bad, 0.5, 0.5)


def test_cross_prediction_form_and_answer():
    assert P.check_cross_prediction_form(RIGHT, quiet=True).passed
    assert P.check_cross_prediction(RIGHT, 0.77, 0.49, 0.68, quiet=True).passed
    unfilled = {P.DROP: None, P.GAP: None}
    assert not P.check_cross_prediction_form(unfilled, quiet=True).passed
    subtle = [
        {P.DROP: "lower by more than 0.15"},                                    # a key missing
        {**RIGHT, "extra": "x"},                                                # an extra key
        {P.DROP: "lower by more than 0.15", P.GAP: "k-means higher"},           # not an allowed answer
        {P.DROP: True, P.GAP: "k-means higher by more than 0.05"},             # a bool, not an answer
    ]
    for wrong in subtle:
        assert not P.check_cross_prediction_form(wrong, quiet=True).passed, wrong
    # well-formed but wrong: fails against the measurement and says what was measured
    for wrong in ({**RIGHT, P.DROP: "lower by 0.05 to 0.15"}, {**RIGHT, P.GAP: "within 0.05"}):
        result = P.check_cross_prediction(wrong, 0.77, 0.49, 0.68, quiet=True)
        assert not result.passed and "measured" in result.message, result
    # the same answers are wrong when the measurement is close: 0.15 drop and a 0.05 gap
    result = P.check_cross_prediction(RIGHT, 0.65, 0.50, 0.55, quiet=True)
    assert not result.passed


def test_token_roles_from_offsets():
    from course_lib.mapper.tokens import token_roles

    text = "She felt furious when the manager took credit for the report."
    words = [(0, 3), (4, 8), (9, 16), (17, 21), (22, 25), (26, 33), (60, 61)]
    assert token_roles(text, words) == ["frame", "frame", "emotion word", "frame", "situation", "situation",
                                        "frame"]
    # a word inside another word is not the emotion word ("sad" in "saddle")
    assert token_roles("The saddle broke.", [(4, 10)]) == ["frame"]
    with pytest.raises(ValueError, match="offset"):
        token_roles(text, [(0, 99)])


def test_jaccard_weights():
    from course_lib.mapper.tokens import jaccard_weights

    g = graph_of({"a": [0, 1, 2, 3], "b": [2, 3, 4, 5], "c": [0, 1, 2, 3]}, [("a", "b"), ("a", "c")])
    w = jaccard_weights(g)
    assert w[("a", "b")] == pytest.approx(2 / 6) and w[("a", "c")] == 1.0


def test_token_graph_table_on_a_small_token_set():
    from course_lib.mapper.tokens import TokenActivations, token_graph_table

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 16)) * 4
    which = np.repeat(np.arange(3), 60)
    states = centres[which] + rng.normal(size=(180, 16))
    tokens = TokenActivations(sentences=np.arange(30), owner=np.repeat(np.arange(30), 6),
                              word=np.array(["a", "b", "c"])[which], role=np.array(["frame"] * 180),
                              emotion=np.array(["joy", "fear", "joy"])[which], layers={0: states})
    (row,) = token_graph_table(tokens, n_cubes=(5,))
    assert row["purity_word"] > 0.9 and row["kmeans_word"] > 0.9 and row["shuffled_word"] < 0.7
    assert row["purity_role"] == 1.0 and 0 <= row["heavy_edges"] <= 1
    with pytest.raises(TypeError, match="tokens"):
        token_graph_table(states)


def test_output_lens_grid_needs_a_cover():
    with pytest.raises(ValueError, match="covers"):
        O.output_lens_grid(None, covers=())


def test_labelled_star_and_flare_count():
    import networkx as nx
    from course_lib.mapper.flares import flare_count, labelled_star

    points, arm = labelled_star(3, n=90, dim=8, seed=1)
    assert points.shape == (90, 8) and set(arm.tolist()) == {0, 1, 2}
    with pytest.raises(ValueError, match="arms"):
        labelled_star(1)
    y = nx.Graph([(0, 1), (1, 2), (1, 3), (3, 4)])
    y.add_edge(10, 11)                                   # a second, smaller component
    assert flare_count(y) == dict(leaves=3, branches=1, components=2)
    assert flare_count(nx.cycle_graph(5)) == dict(leaves=0, branches=0, components=1)
    assert flare_count(nx.Graph()) == dict(leaves=0, branches=0, components=0)
    with pytest.raises(TypeError, match="graph"):
        flare_count([(0, 1)])


MEASURED_41 = {0.3: dict(most_intervals=2, cycles=1), 0.6: dict(most_intervals=3, cycles=9)}
RIGHT_41 = {"30 %: most intervals holding one point": "2", "30 %: independent cycles E − V + C": "1",
            "60 %: most intervals holding one point": "3", "60 %: independent cycles E − V + C": "more than 5"}


def test_overlap_prediction_accepts_the_measurement_and_rejects_near_misses():
    assert P.check_overlap_prediction_form(RIGHT_41, quiet=True).passed
    assert P.check_overlap_prediction(RIGHT_41, MEASURED_41, quiet=True).passed
    unfilled = {k: None for k in RIGHT_41}
    assert not P.check_overlap_prediction_form(unfilled, quiet=True).passed
    assert not P.check_overlap_prediction_form({**RIGHT_41, "60 %: most intervals holding one point": 3},
                                               quiet=True).passed          # a number, not one of the answers
    near_misses = [
        {**RIGHT_41, "60 %: most intervals holding one point": "2"},       # 2 intervals at 60 %
        {**RIGHT_41, "60 %: independent cycles E − V + C": "1"},           # "1 cycle": triangles forgotten
        {**RIGHT_41, "60 %: independent cycles E − V + C": "2 to 5"},
        {**RIGHT_41, "30 %: most intervals holding one point": "3"},
    ]
    for wrong in near_misses:
        assert not P.check_overlap_prediction(wrong, MEASURED_41, quiet=True).passed, wrong
    assert P.overlap_verdict({0.3: dict(most_intervals=2, cycles=1), 0.6: dict(most_intervals=3, cycles=5)})[
        "60 %: independent cycles E − V + C"] == "2 to 5"


def _fake_vocabulary(monkeypatch):
    made_up = [f"q{a}{b}x" for a in "abcdefg" for b in "hijklm"]          # 42 words no sentence has
    listed = [(w, 1005 + 20 * i) for i, w in enumerate(made_up)]
    band = [w for ws in O.OUTPUT_WORDS.values() for w in ws]
    listed += [(w, 1000 + 40 * i) for i, w in enumerate(band)]             # ids 1000 … 1760
    listed += [("zebra", 5000), ("aardvark", 10)]   # outside the emotion words' id band
    monkeypatch.setattr(O, "_whole_words", lambda encoder: sorted(listed, key=lambda wi: wi[1]))
    return listed


def test_random_word_sets_match_the_shape_band_and_exclusions(monkeypatch):
    _fake_vocabulary(monkeypatch)
    s = load_sentences()
    sets = O.random_word_sets(5, s)
    assert sets == O.random_word_sets(5, s)          # the same draws every time
    assert len({str(x) for x in sets}) == 5          # different sets
    band = [w for ws in O.OUTPUT_WORDS.values() for w in ws]
    for drawn in sets:
        assert list(drawn) == list(O.OUTPUT_WORDS)
        assert [len(v) for v in drawn.values()] == [len(v) for v in O.OUTPUT_WORDS.values()]
        words = [w for ws in drawn.values() for w in ws]
        assert len(set(words)) == len(words)              # without replacement
        assert not set(words) & set(band)                 # no emotion word
        assert not {"zebra", "aardvark"} & set(words)     # inside the id band only
        assert O.words_in_sentences(drawn, s) == []       # in no sentence
    with pytest.raises(ValueError, match="n_sets"):
        O.random_word_sets(0, s)
    with pytest.raises(ValueError, match="single tokens"):
        O.random_word_sets(1, s, {"joy": ["notaword"], "anger": ["rage"]})


class _FakeActs:
    def __init__(self):
        self.sentences = load_sentences()
        rng = np.random.default_rng(0)
        emotions = np.asarray(self.sentences.emotion)
        centres = {e: rng.normal(size=12) for e in np.unique(emotions)}
        x = np.stack([centres[e] for e in emotions]) * 0.6 + rng.normal(size=(len(emotions), 12))
        self.points = x / np.linalg.norm(x, axis=1, keepdims=True)
        self.n_layers = 1

    def layer(self, layer):
        return self.points


def test_lens_null_rows_for_both_families(monkeypatch):
    _fake_vocabulary(monkeypatch)
    rng = np.random.default_rng(1)
    monkeypatch.setattr(O, "unembedding_rows", lambda words: {e: rng.normal(size=12) for e in words})
    rows = O.lens_null(_FakeActs(), 1, n_draws=3)
    assert [(r["family"], r["draw"]) for r in rows] == (
        [("random 2-D", d) for d in range(3)] + [("random words", d) for d in range(3)])
    for r in rows:
        assert 0 < r["coverage"] <= 1 and 0 <= r["purity"] <= 1 and 0 <= r["mapper_cross"] <= 1
    with pytest.raises(ValueError, match="n_draws"):
        O.lens_null(_FakeActs(), 1, n_draws=0)
    with pytest.raises(ValueError, match="layer"):
        O.lens_null(_FakeActs(), 2, n_draws=1)
    with pytest.raises(ValueError, match="PAIRS"):
        O.lens_null(_FakeActs(), 1, n_draws=1, words={"joy": ["alpha"], "sadness": ["bravo"]})


def test_lens_null_table_ranks_the_output_lens_per_layer(monkeypatch):
    _fake_vocabulary(monkeypatch)
    rng = np.random.default_rng(1)
    monkeypatch.setattr(O, "unembedding_rows", lambda words: {e: rng.normal(size=12) for e in words})
    rows, table = O.lens_null_table(_FakeActs(), (0, 1), profile="quick")
    assert {r["layer"] for r in rows} == {0, 1}
    assert [(t["layer"], t["family"]) for t in table] == [
        (0, "random 2-D"), (0, "random words"), (1, "random 2-D"), (1, "random words")]
    for t in table:
        cross = [r["mapper_cross"] for r in rows
                 if r["layer"] == t["layer"] and r["family"] == t["family"]]
        assert t["draws"] == len(cross) == O.LENS_NULL_DRAWS["quick"]
        assert t["at_or_above"] == sum(c >= t["output_cross"] for c in cross)
        assert t["p"] == (1 + t["at_or_above"]) / (1 + t["draws"])
        assert t["cross_max"] == max(cross)
    with pytest.raises(ValueError, match="layer"):
        O.lens_null_table(_FakeActs(), (2,))
    with pytest.raises(ValueError, match="at least one"):
        O.lens_null_table(_FakeActs(), ())
