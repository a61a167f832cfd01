"""Exercise checkers for notebooks 2.3 (anchoring) and 2.4 (muting red); 2.5's are in :mod:`.deletion_exercises`.

Each ``check_*`` runs :class:`~course_lib.exercises.Case` s against the reader's function and
prints what is wrong; reference solutions are the ``solution_*`` functions (the notebooks' hidden
solution cells are written out in full, not calls to these). Tests against subtle wrong answers
live in ``tests/test_curriculum_anchoring_exercises.py``.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np
import torch

from ..exercises import (CheckResult, as_number, assert_close, case, check, forbid, prediction_answer,
                         prediction_form)
from ..stats import t_interval, wilson_interval

__all__ = [
    "solution_hue_evenness",
    "check_hue_evenness",
    "solution_red_direction",
    "check_red_direction",
    "ARMS",
    "RATES",
    "DIRECTIONS",
    "paired_verdict",
    "mean_difference_verdict",
    "rate_verdict",
    "TILTS",
    "tilt_band",
    "check_tilt_form",
    "check_tilt_prediction",
    "check_attractor_form",
    "check_attractor_prediction",
    "check_muting_form",
    "check_muting_prediction",
    "solution_random_directions",
    "check_random_directions",
]

D = torch.float64
_OWN_EVENNESS = ("course_lib.curriculum.anchoring:hue_evenness",)


# --------------------------------------------------------------------------- reference solutions
def solution_hue_evenness(z: np.ndarray) -> float:
    u = z / np.linalg.norm(z, axis=1, keepdims=True)
    angles = np.arccos(np.clip(np.sum(u * np.roll(u, -1, axis=0), axis=1), -1, 1))
    return float(angles.min() / angles.mean())


# --------------------------------------------------------------------------- hue evenness
def _ring(deg: Any, radius: Any = 1.0) -> np.ndarray:
    t = np.radians(np.asarray(deg, dtype=float))
    r = np.broadcast_to(np.asarray(radius, dtype=float), t.shape)[:, None]
    return r * np.stack([np.cos(t), np.sin(t), 0 * t, 0 * t], axis=1)


def _evenness(attempt: Callable, z: np.ndarray) -> float:
    return as_number(attempt(z.copy()), "evenness")


def _even_case_regular(attempt: Callable) -> None:
    assert_close(_evenness(attempt, _ring(np.arange(0, 360, 30))), 1.0, "twelve hues 30° apart")


def _even_case_crowded(attempt: Callable) -> None:
    deg = np.arange(0, 360, 30.0)
    deg[4] = deg[3] + 3
    want = 3.0 / 30.0
    assert_close(_evenness(attempt, _ring(deg)), want, "two neighbours 3° apart (mean step 30°)")


def _even_case_wrap(attempt: Callable) -> None:
    deg = np.array([0.0, 40, 80, 120, 160, 200, 240, 280, 320, 355])    # last → first: only 5°
    want = 5.0 / 36.0
    assert_close(_evenness(attempt, _ring(deg)), want,
           "hues 0°, 40°, …, 320°, 355°: the loop closes from the last hue back to the first (a 5° step)")


def _even_case_lengths(attempt: Callable) -> None:
    deg = np.arange(0, 360, 30.0)
    deg[4] = deg[3] + 10
    radius = np.linspace(0.5, 2.0, 12)
    assert_close(_evenness(attempt, _ring(deg, radius)), 10.0 / 30.0,
           "the same loop with latents of different lengths: measure angles between directions, not distances")


def _even_case_arc_not_chord(attempt: Callable) -> None:
    deg = np.array([0.0, 10.0, 180.0])          # steps 10°, 170°, 180°
    assert_close(_evenness(attempt, _ring(deg)), 10.0 / 120.0,
           "steps of 10°, 170° and 180°: use the angle (arccos), not the chord length")


def _even_case_own(attempt: Callable) -> None:
    with forbid(_OWN_EVENNESS):
        attempt(_ring(np.arange(0, 360, 30)))


EVENNESS_CASES = [
    case("a regular ring", _even_case_regular, hint="every step equal: smallest / mean = 1"),
    case("a crowded pair", _even_case_crowded, hint="smallest step divided by the mean step"),
    case("the loop closes", _even_case_wrap, hint="include the step from the last hue to the first (np.roll)"),
    case("lengths do not matter", _even_case_lengths, hint="normalise each row first"),
    case("angles, not chords", _even_case_arc_not_chord, hint="np.arccos of the clipped cosine"),
    case("your own code", _even_case_own, hint="write it with numpy operations"),
]


def check_hue_evenness(attempt: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``hue_evenness(z)``: smallest / mean angle between neighbouring hues of a closed loop."""
    return check("hue_evenness", attempt, EVENNESS_CASES, quiet=quiet)


# --------------------------------------------------------------------------- 2.3: red's direction, found after training
_OWN_DIRECTION = ("course_lib.curriculum.anchor_control:posthoc_direction",)


def solution_red_direction(z: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    red_mean = (weights[:, None] * z).sum(dim=0) / weights.sum()
    v = red_mean - z.mean(dim=0)
    return v / v.norm()


def _dir(attempt: Callable, z: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    out = attempt(z.clone(), w.clone())
    out = torch.as_tensor(out)
    assert out.shape == (z.shape[1],), f"return one direction of shape ({z.shape[1]},), got {tuple(out.shape)}"
    return out.detach().to(D)


def _dir_case_unit(attempt: Callable) -> None:
    g = torch.Generator().manual_seed(1)
    z, w = torch.randn(30, 4, generator=g, dtype=D), torch.rand(30, generator=g, dtype=D)
    got = _dir(attempt, z, w)
    assert_close(got.norm(), 1.0, "the direction's length (normalise it)")


def _dir_case_centred(attempt: Callable) -> None:
    # every code shares a large offset along dim 1; red differs from the rest along dim 0 only
    z = torch.tensor([[1.0, 5.0, 0.0], [0.0, 5.0, 1.0], [0.0, 5.0, -1.0], [-1.0, 5.0, 0.0]], dtype=D)
    w = torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=D)
    assert_close(_dir(attempt, z, w), [1.0, 0.0, 0.0],
                 "codes sharing an offset (0, 5, 0), red's code (1, 5, 0): subtract the mean code of *all* colours "
                 "before normalising — red's own code mostly points where every code points")


def _dir_case_weighted(attempt: Callable) -> None:
    z = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]], dtype=D)
    w = torch.tensor([3.0, 1.0, 0.0, 0.0], dtype=D)
    # weighted red mean (0.75, 0.25); overall mean 0
    want = torch.tensor([0.75, 0.25], dtype=D)
    assert_close(_dir(attempt, z, w), want / want.norm(),
                 "weights (3, 1, 0, 0): red's mean code is the *weighted average* Σ wᵢ zᵢ / Σ wᵢ")


def _dir_case_scale(attempt: Callable) -> None:
    g = torch.Generator().manual_seed(2)
    z, w = torch.randn(20, 4, generator=g, dtype=D), torch.rand(20, generator=g, dtype=D)
    a, b = _dir(attempt, z, w), _dir(attempt, z, 1000 * w)
    assert_close(b, a, "the same weights times 1,000 must give the same direction (divide by Σ w, not by n)")


def _dir_case_random(attempt: Callable) -> None:
    g = torch.Generator().manual_seed(3)
    z, w = torch.randn(50, 5, generator=g, dtype=D), torch.rand(50, generator=g, dtype=D) ** 4
    assert_close(_dir(attempt, z, w), solution_red_direction(z, w), "random codes and weights")


def _dir_case_own(attempt: Callable) -> None:
    with forbid(_OWN_DIRECTION):
        attempt(torch.eye(3, dtype=D), torch.tensor([1.0, 0, 0], dtype=D))


DIRECTION_CASES = [
    case("a unit direction", _dir_case_unit, hint="divide the vector by its norm"),
    case("centred on all colours", _dir_case_centred, hint="red's mean code minus the mean code of every colour"),
    case("a weighted average", _dir_case_weighted, hint="(w[:, None] * z).sum(0) / w.sum()"),
    case("weights' scale does not matter", _dir_case_scale, hint="divide by the sum of the weights"),
    case("random codes", _dir_case_random, hint="normalise(Σ wᵢ zᵢ / Σ wᵢ − mean zᵢ)"),
    case("your own code", _dir_case_own, hint="write it with torch operations"),
]


def check_red_direction(attempt: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``red_direction(z, weights)`` = normalise(Σ wᵢ zᵢ / Σ wᵢ − mean zᵢ)."""
    return check("red_direction", attempt, DIRECTION_CASES, quiet=quiet)


# --------------------------------------------------------------------------- predictions (2.3 and 2.4)
#: Answers to "in which arm is it larger?": judged per seed (same seed, both arms) by whether the
#: 95 % Wilson interval of the fraction of seeds where the anchored arm's value is larger lies
#: above ½ ("anchored"), below ½ ("unanchored") or covers ½ ("neither").
ARMS = ("anchored", "unanchored", "neither")
#: Answers to "how does the unanchored arm's goal rate compare with the anchored arm's?": "as many"
#: when the two 95 % Wilson intervals overlap.
RATES = ("fewer", "as many", "more")
#: Answers to "along which direction does the gated edit hurt red more?" (2.4): red's own (the anchor)
#: or the code direction of the hue 5° from red — judged per seed like :data:`ARMS`.
DIRECTIONS = ("red's own", "hue 5°'s", "neither")


def paired_verdict(anchored: Any, unanchored: Any) -> str:
    """One of :data:`ARMS`: in which arm the per-seed values are larger (see :data:`ARMS`)."""
    a = np.asarray(anchored, dtype=np.float64).ravel()
    u = np.asarray(unanchored, dtype=np.float64).ravel()
    if len(a) == 0 or a.shape != u.shape:
        raise ValueError(f"anchored and unanchored must hold one value per seed each, got {a.shape} and {u.shape}")
    if not (np.isfinite(a).all() and np.isfinite(u).all()):
        raise ValueError("values must be finite")
    lo, hi = wilson_interval(int((a > u).sum()), len(a))
    return "anchored" if lo > 0.5 else "unanchored" if hi < 0.5 else "neither"


def mean_difference_verdict(anchored: Any, unanchored: Any, level: float = 0.95) -> str:
    """One of :data:`ARMS` from the per-seed differences ``anchored − unanchored``: the arm whose values
    are larger when the Student-t interval (``level``) of the mean difference excludes 0, else
    ``"neither"``. Unlike :func:`paired_verdict` (a count of wins), near-ties count for what they are."""
    a = np.asarray(anchored, dtype=np.float64).ravel()
    u = np.asarray(unanchored, dtype=np.float64).ravel()
    if len(a) < 2 or a.shape != u.shape:
        raise ValueError(f"anchored and unanchored must hold one value per seed each (at least 2), got {a.shape} and {u.shape}")
    if not (np.isfinite(a).all() and np.isfinite(u).all()):
        raise ValueError("values must be finite")
    lo, hi = t_interval(a - u, level)
    return "anchored" if lo > 0 else "unanchored" if hi < 0 else "neither"


def rate_verdict(unanchored_goal: Any, anchored_goal: Any) -> str:
    """One of :data:`RATES`: the unanchored arm's goal rate against the anchored arm's."""
    u = np.asarray(unanchored_goal, dtype=bool).ravel()
    a = np.asarray(anchored_goal, dtype=bool).ravel()
    if len(u) == 0 or len(a) == 0:
        raise ValueError("each arm needs at least one seed")
    lo, hi = wilson_interval(int(u.sum()), len(u))
    lo_a, hi_a = wilson_interval(int(a.sum()), len(a))
    return "more" if lo > hi_a else "fewer" if hi < lo_a else "as many"


#: Answers to "how close is the difference of means to red's own code?" (2.3): the band of the
#: median over seeds of cos(red's code, v̂).
TILTS = ("above 0.99", "0.6 to 0.99", "below 0.6")


def tilt_band(cosines: Any) -> str:
    """One of :data:`TILTS`: the band of the median of ``cosines`` (one per seed)."""
    c = np.asarray(cosines, dtype=np.float64).ravel()
    if len(c) == 0 or not np.isfinite(c).all() or (np.abs(c) > 1 + 1e-6).any():
        raise ValueError(f"cosines must be finite values in [-1, 1], one per seed, got {c}")
    med = float(np.median(c))
    return TILTS[0] if med > 0.99 else TILTS[1] if med >= 0.6 else TILTS[2]


_TILT_FORM = prediction_form({"anchored": TILTS, "unanchored": TILTS},
                             hint=f"anchored and unanchored: each one of {list(TILTS)}")


def check_tilt_form(prediction: Mapping[str, str], *, quiet: bool = False) -> CheckResult:
    """Check that the tilt prediction is complete before the measurement runs."""
    return check("prediction, written down", prediction, [_TILT_FORM], quiet=quiet)


def check_tilt_prediction(prediction: Mapping[str, str], red_cos: Mapping[str, Any], *,
                          quiet: bool = False) -> CheckResult:
    """Check ``{"anchored": band, "unanchored": band}`` — the median over seeds of the cosine of pure
    red's code with the difference of means v̂, as one of :data:`TILTS` — against ``red_cos =
    {"anchored": (S,), "unanchored": (S,)}``, the measured cosines."""
    cases = [_TILT_FORM]
    for arm in ("anchored", "unanchored"):
        c = np.asarray(red_cos[arm], dtype=np.float64)
        cases.append(prediction_answer(
            f"the {arm} arm's tilt", arm, tilt_band(c),
            f"median cos(red's code, v̂) {np.median(c):.3f} over {len(c)} seeds (range {c.min():.3f} … {c.max():.3f})",
            hint="do codes on a sphere average to zero? what does subtracting their mean do to the direction?"))
    return check("tilt prediction", prediction, cases, quiet=quiet)


_ATTRACTOR_FORM = prediction_form({"similar": ARMS, "unrelated": ARMS},
                                  hint=f"similar and unrelated: each one of {list(ARMS)}")
_MUTING_FORM = prediction_form({"neighbour": DIRECTIONS, "black": ARMS},
                               hint=f"neighbour: one of {list(DIRECTIONS)}; black: one of {list(ARMS)}")


def check_attractor_form(prediction: Mapping[str, str], *, quiet: bool = False) -> CheckResult:
    """Check that the attractor prediction is complete before the measurement runs."""
    return check("prediction, written down", prediction, [_ATTRACTOR_FORM], quiet=quiet)


def check_attractor_prediction(prediction: Mapping[str, str], similar: Mapping[str, Any],
                               unrelated: Mapping[str, Any], *, quiet: bool = False) -> CheckResult:
    """Check ``{"similar": arm, "unrelated": arm}`` — in which arm the similar colours (darker and paler
    reds) and the unrelated ones (white, far hues) sit closer to red's direction — against per-seed
    group means of a closeness (larger = closer; e.g. :func:`~.anchor_control.attractor_closeness`):
    ``similar = {"anchored": (S,), "unanchored": (S,)}`` and the same for ``unrelated``. The verdict
    is :func:`mean_difference_verdict` (95 % t-interval of the mean per-seed difference)."""
    cases = [_ATTRACTOR_FORM]
    for key, values in (("similar", similar), ("unrelated", unrelated)):
        a, u = np.asarray(values["anchored"]), np.asarray(values["unanchored"])
        verdict = mean_difference_verdict(a, u)
        lo, hi = t_interval(a - u, 0.95)
        detail = (f"anchored − unanchored closeness {np.mean(a - u):+.3f}, 95 % t-interval [{lo:+.3f}, {hi:+.3f}] "
                  f"over {len(a)} seeds")
        cases.append(prediction_answer(f"the {key} colours", key, verdict, detail,
                                       hint="the anchor term pulls only red; the separation term pushes the pure hues apart"))
    return check("attractor prediction", prediction, cases, quiet=quiet)


def check_muting_form(prediction: Mapping[str, str], *, quiet: bool = False) -> CheckResult:
    """Check that the muting prediction is complete before the measurement runs."""
    return check("prediction, written down", prediction, [_MUTING_FORM], quiet=quiet)


def _black_answer(prediction: Mapping[str, str], ba: np.ndarray, bu: np.ndarray) -> None:
    """Black's arm, judged by :func:`paired_verdict`. Where the win count's interval holds ½ (a dozen
    seeds cannot do better than 9 of 12), the measurement refutes only the minority's arm: "neither"
    and the majority's arm are both accepted, and a printed note says that the majority's arm is
    accepted, not confirmed."""
    wins, n = int((ba > bu).sum()), len(ba)
    measured = paired_verdict(ba, bu)
    detail = (f"black's ΔMSE larger in the anchored arm in {wins}/{n} seeds; median "
              f"{np.median(ba):.2f} anchored, {np.median(bu):.2f} unanchored")
    accepted = {measured}
    if measured == "neither" and 2 * wins != n:   # a majority, not established at this n
        accepted.add("anchored" if 2 * wins > n else "unanchored")
        detail += (f"; {n} seeds cannot establish a {wins}/{n} majority (its Wilson interval holds ½), "
                   f"so only the minority's arm is refuted")
    assert prediction["black"] in accepted, (
        f"you predicted {prediction['black']!r}; measured {measured!r} ({detail})")
    if prediction["black"] != measured:
        print(f"black: {prediction['black']!r} is accepted, not confirmed ({detail})")


def check_muting_prediction(prediction: Mapping[str, str], neighbour_red: Any, own_red: Any,
                            black: Mapping[str, Any], *, quiet: bool = False) -> CheckResult:
    """Check ``{"neighbour": direction, "black": arm}`` against per-seed results: ``own_red`` (S,) red's
    ΔMSE under the gated edit along red's own direction (the anchor) and ``neighbour_red`` (S,) along
    the code direction of the hue 5° from red, in the same anchored models ("neighbour": along which
    red is hurt more, one of :data:`DIRECTIONS`, judged by :func:`paired_verdict`); ``black =
    {"anchored": (S,), "unanchored": (S,)}`` (black's ΔMSE under the gated edit; "black": in which arm
    black is hurt more)."""
    own, nb = np.asarray(own_red, dtype=np.float64), np.asarray(neighbour_red, dtype=np.float64)
    ba, bu = np.asarray(black["anchored"]), np.asarray(black["unanchored"])
    verdict = dict(zip(ARMS, DIRECTIONS))[paired_verdict(own, nb)]
    cases = [
        _MUTING_FORM,
        prediction_answer("the direction that hurts red more", "neighbour", verdict,
             f"red hurt more along its own direction in {int((own > nb).sum())}/{len(own)} seeds; median ΔMSE "
             f"{np.median(own):.2f} (own) and {np.median(nb):.2f} (hue 5°'s)",
             hint="the gate is sharp: how much of red's code does a direction 5° off still catch?"),
        case("where black is hurt more", _black_answer, ba, bu,
             hint="where did each arm put black's code relative to red's?"),
    ]
    return check("muting prediction", prediction, cases, quiet=quiet)


# --------------------------------------------------------------------------- 2.4: a matched random direction
_OWN_RANDOM = ("course_lib.curriculum.anchor_control:random_directions",)


def solution_random_directions(n: int, d: int, generator: torch.Generator) -> torch.Tensor:
    v = torch.randn(n, d, generator=generator, dtype=torch.float64)
    return v / v.norm(dim=1, keepdim=True)


def _rand(attempt: Callable, n: int, d: int, seed: int) -> torch.Tensor:
    out = attempt(n, d, torch.Generator().manual_seed(seed))
    assert isinstance(out, torch.Tensor) and out.shape == (n, d), \
        f"return a tensor of shape ({n}, {d}), got {getattr(out, 'shape', type(out).__name__)}"
    assert bool(torch.isfinite(out).all()), "the directions contain NaN or inf"
    return out.detach().to(D)


def _rand_case_unit(attempt: Callable) -> None:
    v = _rand(attempt, 50, 4, 0)
    assert_close(v.norm(dim=1), torch.ones(50, dtype=D), "each direction's length", atol=1e-5)


def _rand_case_reproducible(attempt: Callable) -> None:
    a, b = _rand(attempt, 5, 4, 7), _rand(attempt, 5, 4, 7)
    c = _rand(attempt, 5, 4, 8)
    assert torch.allclose(a, b), "the same generator seed must give the same directions: draw from `generator`"
    assert not torch.allclose(a, c), "different generator seeds gave the same directions: draw from `generator`"
    assert not torch.allclose(a[0], a[1]), "the n directions must differ from each other"


def _rand_case_signs(attempt: Callable) -> None:
    v = _rand(attempt, 4000, 4, 1)
    frac = float((v > 0).double().mean())
    assert 0.45 < frac < 0.55, (f"{frac:.0%} of the coordinates are positive: a direction on the sphere is "
                                "as likely to point one way as the other (torch.rand draws only positive numbers)")


def _rand_case_isotropic(attempt: Callable) -> None:
    v = _rand(attempt, 40000, 2, 2)
    angle = torch.rad2deg(torch.atan2(v[:, 1], v[:, 0])) % 90          # fold into one quadrant
    near_axis = float(((angle < 10) | (angle > 80)).double().mean())
    near_diag = float(((angle > 35) & (angle < 55)).double().mean())
    assert abs(near_diag / near_axis - 1) < 0.1, (
        f"in 2-D, {near_diag:.1%} of directions lie within 10° of a diagonal and {near_axis:.1%} within 10° of an "
        "axis: uniform on the circle would give the same share — normalising a point drawn uniformly from a "
        "*cube* favours the corners; normalise a Gaussian draw instead")


def _rand_case_axes_alike(attempt: Callable) -> None:
    # uniform on the sphere in d dimensions: every coordinate's mean square is 1/d (a stretched
    # Gaussian fails here; a cube passes here and fails the quadrant test above)
    d = 4
    v = _rand(attempt, 40000, d, 3)
    share = (v.double() ** 2).mean(dim=0)
    assert float((share - 1 / d).abs().max()) < 0.01, (
        f"in {d}-D the mean square of each coordinate should be 1/{d} = {1 / d:.3f}; got "
        + ", ".join(f"{x:.3f}" for x in share.tolist())
        + " — some axes are favoured: draw every coordinate from the same symmetric distribution")


def _rand_case_own(attempt: Callable) -> None:
    with forbid(_OWN_RANDOM):
        attempt(3, 4, torch.Generator().manual_seed(0))


RANDOM_CASES = [
    case("unit length", _rand_case_unit, hint="divide each row by its norm"),
    case("reproducible", _rand_case_reproducible, hint="pass generator= to the random function"),
    case("both signs", _rand_case_signs, hint="use a distribution symmetric about 0"),
    case("no preferred direction", _rand_case_isotropic, hint="normalised torch.randn is uniform on the sphere"),
    case("no preferred axis", _rand_case_axes_alike, hint="scale every coordinate alike: plain torch.randn"),
    case("your own code", _rand_case_own, hint="write it with torch operations"),
]


def check_random_directions(attempt: Callable, *, quiet: bool = False) -> CheckResult:
    """Check ``random_directions(n, d, generator)`` → (n, d) unit directions, uniform on the sphere."""
    return check("random_directions", attempt, RANDOM_CASES, quiet=quiet)
