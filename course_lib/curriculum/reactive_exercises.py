"""The checked prediction of notebook 2.2: what a reactive curriculum does, written down before the runs.

The reader predicts two things and :func:`check_reactive_prediction` compares them with the study:

* ``"plateau_fires"`` — on the fixed schedule's phase-1 loss of the shortest run, does the plateau rule
  (window 5, 10 % improvement) fire: ``"never"``, ``"in some seeds"`` or ``"in every seed"``? An
  exponential decay improves by the same fraction at every check, so the answer depends on how fast the
  loss still falls when the phase ends, not on whether the wheel has formed.
* ``"threshold_final"`` — does the threshold rule's final probe error beat the fixed schedule's, seed by
  seed: ``"reactive lower"`` or ``"fixed lower"`` when the 95 % Wilson interval of the fraction of seeds in
  which the reactive run is lower lies entirely above or below ½, else ``"no clear difference"``.

Tests against subtly wrong predictions live in ``tests/test_curriculum_reactive_exercises.py``.
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

from ..exercises import CheckResult, check, prediction_answer, prediction_form
from ..stats import wilson_interval

__all__ = ["FIRING", "OUTCOMES", "firing_verdict", "final_verdict", "check_reactive_form",
           "check_reactive_prediction"]

#: Allowed answers for ``"plateau_fires"``.
FIRING = ("never", "in some seeds", "in every seed")
#: Allowed answers for ``"threshold_final"``.
OUTCOMES = ("reactive lower", "fixed lower", "no clear difference")

_FORM = prediction_form({"plateau_fires": FIRING, "threshold_final": OUTCOMES},
                        hint=f"plateau_fires: one of {list(FIRING)}; threshold_final: one of {list(OUTCOMES)}")


def firing_verdict(fires: Sequence[Optional[int]]) -> str:
    """One of :data:`FIRING` from the check index at which the rule fired in each seed (None: never)."""
    fires = list(fires)
    if not fires:
        raise ValueError("fires must hold one entry per seed (an index or None), got none")
    n_fired = sum(f is not None for f in fires)
    return "never" if n_fired == 0 else "in every seed" if n_fired == len(fires) else "in some seeds"


def final_verdict(lower: int, n: int) -> str:
    """One of :data:`OUTCOMES` from ``lower`` of ``n`` seeds in which the reactive run ended lower."""
    if not isinstance(n, int) or n < 1 or not isinstance(lower, int) or not 0 <= lower <= n:
        raise ValueError(f"need 0 <= lower <= n and n >= 1 (integers), got lower={lower!r}, n={n!r}")
    lo, hi = wilson_interval(lower, n)
    return "reactive lower" if lo > 0.5 else "fixed lower" if hi < 0.5 else "no clear difference"


def check_reactive_form(prediction: Mapping[str, str], *, quiet: bool = False) -> CheckResult:
    """Check that the prediction is complete before the study runs."""
    return check("prediction, written down", prediction, [_FORM], quiet=quiet)


def check_reactive_prediction(prediction: Mapping[str, str], fires: Sequence[Optional[int]],
                              lower: tuple[int, int], *, quiet: bool = False) -> CheckResult:
    """Check ``prediction`` against the study: ``fires`` — the plateau rule's firing check per seed on the
    shortest run's phase 1 (None: never); ``lower`` — ``(k, n)``, the seeds of the shortest run in which
    the threshold rule's final error is below the fixed schedule's. A wrong prediction is a result, not
    an error: the message says what was measured."""
    k, n = (int(x) for x in lower)
    fired = sum(f is not None for f in fires)
    lo, hi = wilson_interval(k, n)
    cases = [
        _FORM,
        prediction_answer("the plateau rule in phase 1", "plateau_fires", firing_verdict(fires),
                          f"fired in {fired}/{len(fires)} seeds",
                          hint="a loss that falls by the same fraction every check never looks flat to a relative rule"),
        prediction_answer("the threshold rule's final error", "threshold_final", final_verdict(k, n),
                          f"reactive lower in {k}/{n} seeds, 95 % Wilson interval {lo:.0%}–{hi:.0%}",
                          hint="the fixed schedule also ends on the full data: how long does it have there?"),
    ]
    return check("reactive prediction", prediction, cases, quiet=quiet)
