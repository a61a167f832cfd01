"""Written-down predictions, checked: 4.2's cross-situation purity (Mapper against k-means) and
4.1's intervals per point and cycles at two overlaps (:func:`check_overlap_prediction`).

The reader answers two questions before the measurement (:func:`check_cross_prediction_form`);
after it, :func:`check_cross_prediction` compares the answers with :func:`cross_verdict` of what was
measured. A wrong prediction is a result, not an error. Tests against subtle wrong answers live in
``tests/test_mapper_graph_predictions.py``."""

from __future__ import annotations

import math
from typing import Any, Mapping

from ..exercises import CheckResult, check, prediction_answer, prediction_form

__all__ = ["DROP", "GAP", "CROSS_ANSWERS", "cross_verdict", "check_cross_prediction_form",
           "check_cross_prediction", "OVERLAP_ANSWERS", "overlap_verdict", "check_overlap_prediction_form",
           "check_overlap_prediction"]

DROP = "Mapper: cross-situation purity against its plain purity"
GAP = "k-means against Mapper, cross-situation purity at the same cluster size"

#: The questions and their allowed answers.
CROSS_ANSWERS = {
    DROP: ("about the same", "lower by 0.05 to 0.15", "lower by more than 0.15"),
    GAP: ("Mapper higher by more than 0.05", "within 0.05", "k-means higher by more than 0.05"),
}

_FORM = prediction_form(CROSS_ANSWERS)


def _number(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    if not 0 <= value <= 1:
        raise ValueError(f"{name} is a share, in [0, 1]; got {value!r}")
    return float(value)


def cross_verdict(mapper_purity: float, mapper_cross: float, kmeans_cross: float) -> dict[str, str]:
    """The measurement in the prediction's words. ``drop`` = plain − cross-situation purity of
    Mapper: under 0.05 "about the same", up to 0.15 inclusive "lower by 0.05 to 0.15", else
    "lower by more than 0.15"; ``gap`` = k-means − Mapper cross-situation purity: beyond ±0.05 one
    method is higher, within it (inclusive) "within 0.05"."""
    plain = _number(mapper_purity, "mapper_purity")
    mapper = _number(mapper_cross, "mapper_cross")
    kmeans = _number(kmeans_cross, "kmeans_cross")
    drop, gap = round(plain - mapper, 12), round(kmeans - mapper, 12)
    drop_answer = ("about the same" if drop < 0.05 else
                   "lower by 0.05 to 0.15" if drop <= 0.15 else "lower by more than 0.15")
    gap_answer = ("k-means higher by more than 0.05" if gap > 0.05 else
                  "Mapper higher by more than 0.05" if gap < -0.05 else "within 0.05")
    return {DROP: drop_answer, GAP: gap_answer}


def check_cross_prediction_form(prediction: Mapping[str, str], *, quiet: bool = False) -> CheckResult:
    """Check that ``prediction`` answers both questions (one of :data:`CROSS_ANSWERS` each)."""
    return check("prediction, written down", prediction, [_FORM], quiet=quiet)


def check_cross_prediction(prediction: Mapping[str, str], mapper_purity: float, mapper_cross: float,
                           kmeans_cross: float, *, quiet: bool = False) -> CheckResult:
    """Check ``prediction`` against the measured shares (see :func:`cross_verdict`)."""
    verdict = cross_verdict(mapper_purity, mapper_cross, kmeans_cross)
    cases = [
        _FORM,
        prediction_answer(DROP, DROP, verdict[DROP],
                          f"plain purity {mapper_purity:.2f}, cross-situation {mapper_cross:.2f}: pairs "
                          "that share a situation were doing much of the work"),
        prediction_answer(GAP, GAP, verdict[GAP],
                          f"k-means {kmeans_cross:.2f} against Mapper {mapper_cross:.2f} at the same mean "
                          "cluster size, on the same covered sentences"),
    ]
    return check("cross-situation purity, predicted", prediction, cases, quiet=quiet)


# --- Notebook 4.1: how many intervals hold a point, and how many cycles, at 30 % and 60 % overlap ---

#: 4.1's questions (circle, lens x, 10 intervals) and their allowed answers.
OVERLAP_ANSWERS = {
    f"{p}: most intervals holding one point": ("2", "3", "4 or more") for p in ("30 %", "60 %")
} | {f"{p}: independent cycles E − V + C": ("1", "2 to 5", "more than 5") for p in ("30 %", "60 %")}

_OVERLAP_FORM = prediction_form(OVERLAP_ANSWERS)


def overlap_verdict(measured: Mapping[float, Mapping[str, int]]) -> dict[str, str]:
    """The measurement in the prediction's words. ``measured`` maps the overlaps 0.3 and 0.6 to
    ``most_intervals`` (the largest number of intervals one point lies in) and ``cycles``."""
    out = {}
    for overlap, name in ((0.3, "30 %"), (0.6, "60 %")):
        if overlap not in measured:
            raise ValueError(f"measured must have an entry for overlap {overlap}; has {sorted(measured)}")
        most, cycles = measured[overlap]["most_intervals"], measured[overlap]["cycles"]
        for value, what in ((most, "most_intervals"), (cycles, "cycles")):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"measured[{overlap}][{what!r}] must be a non-negative int, got {value!r}")
        out[f"{name}: most intervals holding one point"] = "2" if most <= 2 else "3" if most == 3 else "4 or more"
        out[f"{name}: independent cycles E − V + C"] = ("1" if cycles <= 1 else "2 to 5" if cycles <= 5
                                                         else "more than 5")
    return out


def check_overlap_prediction_form(prediction: Mapping[str, str], *, quiet: bool = False) -> CheckResult:
    """Check that ``prediction`` answers all four questions (one of :data:`OVERLAP_ANSWERS` each)."""
    return check("prediction, written down", prediction, [_OVERLAP_FORM], quiet=quiet)


def check_overlap_prediction(prediction: Mapping[str, str], measured: Mapping[float, Mapping[str, int]], *,
                             quiet: bool = False) -> CheckResult:
    """Check ``prediction`` against what was measured (see :func:`overlap_verdict`)."""
    verdict = overlap_verdict(measured)
    cases = [_OVERLAP_FORM] + [
        prediction_answer(key, key, answer,
                          "each triple of overlapping intervals can close a triangle" if "60" in key
                          else "below 50 % an interval overlaps only its two neighbours")
        for key, answer in verdict.items()
    ]
    return check("overlap, predicted", prediction, cases, quiet=quiet)
