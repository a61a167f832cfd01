"""Notebook 4.2's additions: tied nodes reported, the output (unembedding) lens, the written-down
prediction about cross-situation purity and its checker against subtle wrong answers."""

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
