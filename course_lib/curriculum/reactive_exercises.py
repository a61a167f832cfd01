"""The checked prediction of notebook 2.2: what a reactive curriculum does, written down before the runs.

The reader predicts three things and :func:`check_reactive_prediction` compares them with the study:

* ``"plateau_fires"`` — on the fixed schedule's phase-1 loss of the shortest run, does the plateau rule
  (window 5, 10 % improvement) fire: ``"never"``, ``"in some seeds"`` or ``"in every seed"``? An
  exponential decay improves by the same fraction at every check, so the answer depends on how fast the
  loss still falls when the phase ends, not on whether the wheel has formed.
* ``"threshold_final"`` — does the threshold rule's final probe error beat the fixed schedule's, seed by
  seed: ``"reactive lower"`` or ``"fixed lower"`` when a two-sided paired t-test on the log ratio of the two
  final errors (same seed) rejects "no difference" at :data:`ALPHA`, on that side; else ``"no clear
  difference"``. Unlike a count of seeds won, the test uses how much each seed wins by, and its verdict
  is not fixed in advance by the number of seeds (with 4 seeds a Wilson interval of wins could never
  exclude ½ in 14 of 16 outcomes); :func:`~course_lib.stats.detectable_ratio` says what it can see.
* ``"threshold_vs_plain"`` — the same test against the *plain run* (all data and the last phase's
  weights from step 1, notebook 2.1's baseline, same seeds): ``"reactive lower"``, ``"plain lower"``
  or ``"no clear difference"``. Beating the fixed schedule is not beating no curriculum: the fixed
  schedule itself ends worse than the plain run.

Tests against subtly wrong predictions live in ``tests/test_curriculum_reactive_exercises.py``.
"""

from __future__ import annotations

from typing import Mapping, Optional, Sequence

from ..exercises import CheckResult, check, prediction_answer, prediction_form
import numpy as np

from ..stats import detectable_ratio, paired_ratio

__all__ = ["FIRING", "OUTCOMES", "PLAIN_OUTCOMES", "ALPHA", "firing_verdict", "final_verdict", "check_reactive_form",
           "check_reactive_prediction"]

#: Two-sided level of the paired t-test behind ``"threshold_final"``.
ALPHA = 0.05

#: Allowed answers for ``"plateau_fires"``.
FIRING = ("never", "in some seeds", "in every seed")
#: Allowed answers for ``"threshold_final"``.
OUTCOMES = ("reactive lower", "fixed lower", "no clear difference")
#: Allowed answers for ``"threshold_vs_plain"``.
PLAIN_OUTCOMES = ("reactive lower", "plain lower", "no clear difference")

_FORM = prediction_form({"plateau_fires": FIRING, "threshold_final": OUTCOMES,
                         "threshold_vs_plain": PLAIN_OUTCOMES},
                        hint=f"plateau_fires: one of {list(FIRING)}; threshold_final: one of {list(OUTCOMES)}; "
                             f"threshold_vs_plain: one of {list(PLAIN_OUTCOMES)}")


def firing_verdict(fires: Sequence[Optional[int]]) -> str:
    """One of :data:`FIRING` from the check index at which the rule fired in each seed (None: never)."""
    fires = list(fires)
    if not fires:
        raise ValueError("fires must hold one entry per seed (an index or None), got none")
    n_fired = sum(f is not None for f in fires)
    return "never" if n_fired == 0 else "in every seed" if n_fired == len(fires) else "in some seeds"


def final_verdict(final_reactive: Sequence[float], final_fixed: Sequence[float], *,
                  other: str = "fixed") -> str:
    """One of :data:`OUTCOMES` from the final errors of the reactive and the fixed run of each seed
    (same order): a two-sided paired t-test on ln(reactive / fixed) at :data:`ALPHA`. With
    ``other="plain"`` the second run is the plain one (:data:`PLAIN_OUTCOMES`)."""
    if other not in ("fixed", "plain"):
        raise ValueError(f"other must be 'fixed' or 'plain', got {other!r}")
    r = paired_ratio(final_reactive, final_fixed)
    if r["p"] >= ALPHA:
        return "no clear difference"
    return "reactive lower" if r["ratio"] < 1 else f"{other} lower"


def check_reactive_form(prediction: Mapping[str, str], *, quiet: bool = False) -> CheckResult:
    """Check that the prediction is complete before the study runs."""
    return check("prediction, written down", prediction, [_FORM], quiet=quiet)


def _measured(final_reactive: Sequence[float], other: Sequence[float], name: str) -> str:
    """The paired comparison as the checker prints it: ratio, interval, p, wins and power."""
    r = paired_ratio(final_reactive, other)
    sd = float(np.std(np.log(np.asarray(final_reactive, float) / np.asarray(other, float)), ddof=1))
    seen = detectable_ratio(sd, r["n"])
    return (f"reactive / {name} final error {r['ratio']:.2f} (95 % CI {r['lo']:.2f}–{r['hi']:.2f}, "
            f"paired t p = {r['p']:.2g}, {r['n']} seeds; reactive lower in {r['wins_a']}); this test "
            f"finds a ratio of {1 / seen:.2f} or {seen:.2f} with 80 % power")


def check_reactive_prediction(prediction: Mapping[str, str], fires: Sequence[Optional[int]],
                              final_reactive: Sequence[float], final_fixed: Sequence[float],
                              final_plain: Sequence[float], *, quiet: bool = False) -> CheckResult:
    """Check ``prediction`` against the study: ``fires`` — the plateau rule's firing check per seed on the
    shortest run's phase 1 (None: never); ``final_reactive``, ``final_fixed``, ``final_plain`` — each
    seed's final probe error with the threshold rule, the fixed schedule and the plain run (shortest
    run, same seeds). A wrong prediction is a result, not an error: the message says what was
    measured."""
    if len(final_plain) != len(final_reactive):
        raise ValueError(f"final_plain must hold one error per seed ({len(final_reactive)}), "
                         f"got {len(final_plain)}")
    fired = sum(f is not None for f in fires)
    cases = [
        _FORM,
        prediction_answer("the plateau rule in phase 1", "plateau_fires", firing_verdict(fires),
                          f"fired in {fired}/{len(fires)} seeds",
                          hint="a loss that falls by the same fraction every check never looks flat to a relative rule"),
        prediction_answer("the threshold rule's final error", "threshold_final",
                          final_verdict(final_reactive, final_fixed),
                          _measured(final_reactive, final_fixed, "fixed"),
                          hint="the fixed schedule also ends on the full data: how long does it have there?"),
        prediction_answer("the threshold rule against the plain run", "threshold_vs_plain",
                          final_verdict(final_reactive, final_plain, other="plain"),
                          _measured(final_reactive, final_plain, "plain"),
                          hint="the plain run is on the full data for all of its steps; the reactive "
                               "run for all but its first few hundred"),
    ]
    return check("reactive prediction", prediction, cases, quiet=quiet)
