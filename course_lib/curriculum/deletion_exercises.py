"""Checkers (and reference solutions) for the exercises of notebook 2.5 (deleting red).

* :func:`check_removal_prediction` — the prediction, written down before the relearning runs, of which
  removal red is slowest to come back from, whether unlearned red comes back without red in the data,
  and what deleting dim 0 does to a routed model trained with the keep-out term; checked against the
  studies (:func:`removal_verdict`).
* :func:`check_lost_seed_recovery` — steps to recover over the seeds where red was lost, censored
  seeds kept.

As in :mod:`.exercises`, each checker runs :class:`~course_lib.exercises.Case` s and reports the first
failure with a hint; it never raises because of the attempt, and while the attempt runs the course's
own implementation of the same thing refuses to answer.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Optional

import numpy as np

from ..exercises import CheckResult, case, check, forbid, prediction_answer, prediction_form

__all__ = ["REMOVAL_PREDICTION_KEYS", "COMES_BACK", "KEEP_OUT_OUTCOMES", "KEEP_OUT_PREDICTED",
           "removal_verdict", "check_removal_prediction_form", "check_removal_prediction",
           "check_lost_seed_recovery", "solution_lost_seed_recovery"]


#: The questions of 2.5's prediction: which removal is slowest for red to come back from a few red
#: examples, whether unlearned red comes back when fine-tuning never shows red, and what deleting dim 0
#: does to a routed model trained with the keep-out term at weight :data:`KEEP_OUT_PREDICTED`.
REMOVAL_PREDICTION_KEYS = ("slowest", "unlearned, red-free data", "routing with keep-out")
COMES_BACK = ("comes back", "stays lost")
KEEP_OUT_OUTCOMES = ("red alone lost", "every colour damaged", "red not lost")
KEEP_OUT_PREDICTED = 1.0
#: Damage to the other colours (median over seeds of their mean ΔMSE) above which a deletion counts
#: as having damaged every colour.
OTHERS_DAMAGED = 0.02


def removal_verdict(study: Any, keep_out_study: Any, margin: Optional[tuple] = None) -> dict[str, str]:
    """What the studies measured, in the prediction's words (:data:`REMOVAL_PREDICTION_KEYS`).

    ``slowest``: among the removals that lost red in at least one seed, the one whose lost seeds
    recovered least often on the "few red" data at ``margin`` (default ``+0.01``), ties broken by the
    larger median steps; ``"unlearned, red-free data"``: ``"comes back"`` when more than half of the
    unlearned model's lost seeds recover on red-free data within the budget, else ``"stays lost"``;
    ``"routing with keep-out"`` (``keep_out_study``, weight :data:`KEEP_OUT_PREDICTED`): ``"red not lost"``
    when red was lost in at most half of the seeds, else ``"every colour damaged"`` when the other colours'
    median damage exceeds :data:`OTHERS_DAMAGED`, else ``"red alone lost"``."""
    from .deletion import MARGINS, REMOVALS
    margin = MARGINS[1] if margin is None else margin
    ranked = []
    for method in REMOVALS:
        r = study.recovery(method, "few red", margin)
        if r.lost:
            med = r.median if np.isfinite(r.median) else np.inf
            ranked.append((r.recovered / r.lost, -med, method))
    if not ranked:
        raise ValueError("no removal lost red in any seed: nothing is slowest")
    slowest = min(ranked)[2]
    u = study.recovery("unlearning", "red-free", margin)
    back = "comes back" if u.lost and u.recovered > u.lost / 2 else "stays lost"
    lost = keep_out_study.lost(KEEP_OUT_PREDICTED)
    if lost.sum() <= lost.size / 2:
        ko = "red not lost"
    elif float(np.median(keep_out_study.damage_others[KEEP_OUT_PREDICTED])) > OTHERS_DAMAGED:
        ko = "every colour damaged"
    else:
        ko = "red alone lost"
    return {"slowest": slowest, "unlearned, red-free data": back, "routing with keep-out": ko}


def _removal_form() -> Any:
    from .deletion import REMOVALS
    return prediction_form({"slowest": REMOVALS, "unlearned, red-free data": COMES_BACK,
                            "routing with keep-out": KEEP_OUT_OUTCOMES},
                           hint="slowest: one of the four removals' names (deletion.REMOVALS); "
                                f"'unlearned, red-free data': one of {list(COMES_BACK)}; "
                                f"'routing with keep-out': one of {list(KEEP_OUT_OUTCOMES)}")


def check_removal_prediction_form(prediction: Mapping[str, str], *, quiet: bool = False) -> CheckResult:
    """Check that ``prediction`` is a complete answer before the relearning runs (the answer itself is
    checked against the measurements by :func:`check_removal_prediction`)."""
    return check("prediction, written down", prediction, [_removal_form()], quiet=quiet)


def check_removal_prediction(prediction: Mapping[str, str], study: Any, keep_out_study: Any, *,
                             quiet: bool = False) -> CheckResult:
    """Check ``prediction`` against what ``study`` (a :class:`~.deletion.RemovalStudy`) and
    ``keep_out_study`` (a :class:`~.deletion.KeepOutStudy`) measured (:func:`removal_verdict`). A wrong
    prediction is a result, not an error: the message says what was measured."""
    verdict = removal_verdict(study, keep_out_study)
    cases = [
        _removal_form(),
        prediction_answer("the slowest removal to relearn from a few reds", "slowest", verdict["slowest"],
                          "fewest lost seeds back within the budget at +0.01, then the larger median",
                          hint="which removal damaged more than red — so that relearning red means relearning the model?"),
        prediction_answer("unlearned red on red-free data", "unlearned, red-free data",
                          verdict["unlearned, red-free data"],
                          "more than half of the lost seeds back within the budget counts as 'comes back'",
                          hint="did unlearning remove what encodes red, or only the last step that reads it out?"),
        prediction_answer("deleting dim 0 after routing with keep-out", "routing with keep-out",
                          verdict["routing with keep-out"],
                          f"keep_out = {KEEP_OUT_PREDICTED:g}; lost in more than half of the seeds, then the other "
                          f"colours' median ΔMSE above {OTHERS_DAMAGED}",
                          hint="if nothing but red may use dim 0 and the rest of the network can rebuild red "
                               "from its neighbours, does red need dim 0 at all?"),
    ]
    return check("removal prediction", prediction, cases, quiet=quiet)


# --------------------------------------------------------------------------- recovery of the lost seeds
_LOST_FORBID = ["course_lib.curriculum.deletion:recovery_steps",
                "course_lib.curriculum.deletion:RemovalStudy.recovery",
                "course_lib.curriculum.deletion_exercises:solution_lost_seed_recovery"]
LOST_MARGIN = 0.01


def solution_lost_seed_recovery(steps: Any, error: Any, intact: Any, margin: tuple[str, float]) -> np.ndarray:
    """Steps to recover for the seeds where red was lost: one entry per seed whose error right after
    removal (``error[:, 0]``) exceeds ``intact`` by more than 0.01; the first snapshot step from which
    the error *stays* at or below the target (``intact + v`` for ``("abs", v)``, ``intact + f·(error[:, 0]
    − intact)`` for ``("rel", f)``), ``np.inf`` if it is above the target at the last snapshot."""
    from .deletion import recovery_step
    steps = np.asarray(steps)
    error = np.asarray(error, dtype=float)
    intact = np.asarray(intact, dtype=float)
    kind, value = margin
    out = []
    for e, base in zip(error, intact):
        if e[0] - base <= LOST_MARGIN:
            continue                                       # never lost: nothing to recover
        target = base + value if kind == "abs" else base + value * (e[0] - base)
        r = recovery_step(steps, e, target)
        out.append(np.inf if r is None else float(r))
    return np.asarray(out, dtype=float)


def _lsr(attempt, steps, error, intact, margin):
    with forbid(_LOST_FORBID):
        got = attempt(np.asarray(steps), np.asarray(error, dtype=float), np.asarray(intact, dtype=float), margin)
    got = np.asarray(got, dtype=float).ravel() if got is not None else None
    assert got is not None, "return an array (one entry per lost seed), not None"
    return got


def _lsr_expect(attempt, steps, error, intact, margin, want, what):
    got = _lsr(attempt, steps, error, intact, margin)
    want = np.asarray(want, dtype=float)
    assert got.shape == want.shape, f"{what}: expected {len(want)} entries (one per lost seed), got {got.shape}"
    assert not np.isnan(got).any(), f"{what}: use np.inf, not NaN, for a seed that never recovers"
    assert np.array_equal(got, want), f"{what}: expected {want.tolist()}, got {got.tolist()}"


_S = [0, 10, 20, 30, 40]
_LSR_CASES = [
    ("two lost seeds, absolute margin", [[0.2, 0.1, 0.01, 0.005, 0.004], [0.3, 0.2, 0.1, 0.004, 0.003]],
     [0.002, 0.002], ("abs", 0.01), [20, 30],
     "the target is the intact error plus the margin; report the snapshot *step*, not its index"),
    ("a seed that was never lost is left out", [[0.2, 0.1, 0.01, 0.005, 0.004], [0.009, 0.005, 0.004, 0.004, 0.004]],
     [0.002, 0.002], ("abs", 0.01), [20],
     "condition on the seeds where red was lost: excess right after removal above 0.01 — "
     "a seed that starts within the target would count as 'recovered at step 0'"),
    ("a seed not back by the end is censored, not dropped", [[0.2, 0.1, 0.01, 0.005, 0.004], [0.3, 0.2, 0.2, 0.2, 0.1]],
     [0.002, 0.002], ("abs", 0.01), [20, np.inf],
     "keep censored seeds as np.inf: dropping them makes the slow removal look fast"),
    ("a dip below the target that does not last", [[0.2, 0.005, 0.05, 0.005, 0.004]],
     [0.002], ("abs", 0.01), [30], "recovered means: from that snapshot on, the error *stays* at or below the target"),
    ("a relative margin counts from the intact error", [[0.5, 0.3, 0.08, 0.07, 0.06]],
     [0.04], ("rel", 0.1), [20], "target = intact + f × (initial − intact): 0.04 + 0.1 × 0.46 = 0.086 here"),
    ("exactly at the target counts", [[0.2, 0.1, 0.01, 0.01, 0.01]],
     [0.0], ("abs", 0.01), [20], "at or below the target: use <="),
]


def check_lost_seed_recovery(attempt: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``lost_seed_recovery(steps, error, intact, margin)`` (see :func:`solution_lost_seed_recovery`)."""
    cases = [case(what, _lsr_expect, _S, err, intact, margin, want, what, hint=hint)
             for what, err, intact, margin, want, hint in _LSR_CASES]
    return check("lost_seed_recovery", attempt, cases, quiet=quiet)
