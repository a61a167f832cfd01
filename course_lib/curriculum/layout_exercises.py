"""Notebook 2.1's checked prediction: what does the plain run's wheel look like, and where does it lie?

Before the sweep runs, the reader writes down three answers about the **plain run** (all data
from step 1, the curriculum's final loss weights throughout) at the end of training; after the
sweep, :func:`check_layout_prediction` compares them with :func:`layout_verdict`, which turns the
measurements into the same words:

* ``"layout"`` — does its bright ring lie in dims 0–1, where the curriculum's planarity term puts
  hue? ``"in dims 0–1"`` if the median share of the ring's variance there is at least
  :data:`IN_PLANE_SHARE`, else ``"elsewhere"`` (a ring in a random plane of 3-D scores 2/3 on average);
* ``"roundness"`` — its median roundness (second principal spread over the first):
  ``"round"`` above 0.65, ``"squashed"`` below 0.45, ``"in between"``;
* ``"crumpled"`` — how many of its seeds are crumpled (> 0.2) *in the ring's own plane* against the
  curriculum's: ``"fewer"`` or ``"more"`` only when a two-sided Fisher exact test rejects equal
  rates at :data:`ALPHA`, else ``"no detectable difference"``. The answer key says what the test
  can tell at this many seeds — never "as many", which no test of this size can show.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..exercises import CheckResult, check, prediction_answer, prediction_form
from ..stats import fisher_exact

__all__ = [
    "LAYOUTS",
    "SHAPES",
    "COMPARISONS",
    "IN_PLANE_SHARE",
    "ALPHA",
    "layout_verdict",
    "check_layout_prediction_form",
    "check_layout_prediction",
]

#: Where the ring lies: its median variance share in dims 0–1 at least :data:`IN_PLANE_SHARE`, or not.
LAYOUTS = ("in dims 0–1", "elsewhere")
#: The ring's median roundness: above 0.65, below 0.45, or between.
SHAPES = ("round", "squashed", "in between")
#: Crumpled seeds against the curriculum's, as a two-sided Fisher exact test at :data:`ALPHA` reads them.
COMPARISONS = ("fewer", "no detectable difference", "more")
IN_PLANE_SHARE = 0.8
ALPHA = 0.05
THRESHOLD = 0.2


def _shape(median: float) -> str:
    return "round" if median > 0.65 else "squashed" if median < 0.45 else "in between"


def _sample(x: Any, name: str) -> np.ndarray:
    v = np.asarray(x, dtype=np.float64).ravel()
    if not len(v):
        raise ValueError(f"{name} must hold at least one seed")
    if not np.isfinite(v).all():
        raise ValueError(f"{name} must be finite")
    return v


def layout_verdict(share: Any, roundness: Any, crumpling: Any, reference_crumpling: Any) -> dict[str, Any]:
    """What the sweep measured, in the prediction's words (see the module docstring), plus the
    numbers behind each word: ``share`` (per seed, the bright ring's variance share in dims 0–1),
    ``roundness`` (per seed) and ``crumpling`` (per seed, own plane) of the plain run;
    ``reference_crumpling`` the curriculum's (any n)."""
    s, r = _sample(share, "share"), _sample(roundness, "roundness")
    c, ref = _sample(crumpling, "crumpling"), _sample(reference_crumpling, "reference_crumpling")
    k, k_ref = int((c > THRESHOLD).sum()), int((ref > THRESHOLD).sum())
    p = fisher_exact(k, len(c), k_ref, len(ref))
    if p >= ALPHA:
        comparison = "no detectable difference"
    else:
        comparison = "more" if k / len(c) > k_ref / len(ref) else "fewer"
    return {"layout": "in dims 0–1" if np.median(s) >= IN_PLANE_SHARE else "elsewhere",
            "roundness": _shape(float(np.median(r))), "crumpled": comparison,
            "share": float(np.median(s)), "median_roundness": float(np.median(r)),
            "counts": (k, len(c), k_ref, len(ref)), "p": p}


#: The one form check, shared by the cell where the prediction is written and the final check.
_FORM_CASE = prediction_form({"layout": LAYOUTS, "roundness": SHAPES, "crumpled": COMPARISONS},
                             hint=f"layout: one of {list(LAYOUTS)}; roundness: one of {list(SHAPES)}; "
                                  f"crumpled: one of {list(COMPARISONS)}")


def check_layout_prediction_form(prediction: Mapping[str, str], *, quiet: bool = False) -> CheckResult:
    """Check that ``prediction`` is a complete answer before the sweep runs (the answer itself is
    checked against the measurements by :func:`check_layout_prediction`)."""
    return check("prediction, written down", prediction, [_FORM_CASE], quiet=quiet)


def check_layout_prediction(prediction: Mapping[str, str], share: Any, roundness: Any, crumpling: Any,
                            reference_crumpling: Any, *, quiet: bool = False) -> CheckResult:
    """Check ``prediction`` against :func:`layout_verdict` of the measurements. A wrong prediction
    is a result, not an error: the message says what was measured."""
    v = layout_verdict(share, roundness, crumpling, reference_crumpling)
    k, n, k_ref, n_ref = v["counts"]
    cases = [
        _FORM_CASE,
        prediction_answer("where the plain run's ring lies", "layout", v["layout"],
                          f"median share of its variance in dims 0–1: {v['share']:.2f}; 'in dims 0–1' means ≥ {IN_PLANE_SHARE}",
                          hint="which term of the loss, if any, tells the plain run which two of its three dimensions to use?"),
        prediction_answer("the plain run's roundness", "roundness", v["roundness"],
                          f"median roundness {v['median_roundness']:.2f}; round means > 0.65, squashed < 0.45",
                          hint="what squashed the old control's ring — and is that ingredient in the plain run?"),
        prediction_answer("its crumpled rings against the curriculum's (own plane)", "crumpled", v["crumpled"],
                          f"{k}/{n} against the curriculum's {k_ref}/{n_ref}, Fisher exact p = {v['p']:.2f}; "
                          f"'fewer' or 'more' needs p < {ALPHA}",
                          hint="with this many seeds, how large a difference in a rate could a test detect?"),
    ]
    return check("layout prediction", prediction, cases, quiet=quiet)
