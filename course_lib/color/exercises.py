"""Checkers (and reference solutions) for the colour chapter's exercises.

* :func:`check_hsv_to_rgb` — write HSV → RGB for an (N, 3) numpy array, loop-free.
* :func:`check_winding_number` — count how often latents go round the origin as hue goes round once.
* :func:`check_hue_order_score` — the fraction of hue-consecutive steps that turn the dominant way.
* :func:`check_predictions` — predict both numbers for the curves of :func:`planted_curves`.

Each checker runs a list of :class:`course_lib.exercises.Case` against the reader's attempt and
reports the first failure with a hint; it never raises because of the attempt.

Two wrong answers look right on every value, so the checkers also watch *how* the attempt computes,
with :func:`course_lib.exercises.forbid` (the course's own implementation refuses to answer while
the attempt runs) and :func:`course_lib.exercises.assert_no_python_loop` (a loop over samples runs
more Python lines on a bigger input; vectorised code runs the same number).
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
import torch

from ..exercises import Case, CheckResult, assert_no_python_loop, case, check, forbid
from ..validation import check_int

__all__ = [
    "PREDICTION_CURVES",
    "PlantedCurve",
    "check_hsv_to_rgb",
    "check_hue_order_score",
    "check_predictions",
    "check_winding_number",
    "planted_curves",
    "plot_planted_curves",
    "solution_hsv_to_rgb",
    "solution_hue_order_score",
    "solution_winding_number",
]


# --------------------------------------------------------------------------- reference solutions


def solution_hsv_to_rgb(hsv: np.ndarray) -> np.ndarray:
    """HSV (N, 3) → RGB (N, 3) with the "k formula": no cases, no loops.

    For each channel n = 5 (red), 3 (green), 1 (blue):
    k = (n + 6h) mod 6 and channel = v − v·s·clip(min(k, 4 − k), 0, 1).
    """
    h, s, v = hsv[:, 0], hsv[:, 1], hsv[:, 2]

    def channel(n: float) -> np.ndarray:
        k = (n + 6 * h) % 6  # the "% 6" makes hue 1.0 the same as hue 0.0 (red)
        return v - v * s * np.clip(np.minimum(k, 4 - k), 0, 1)

    return np.stack([channel(5), channel(3), channel(1)], axis=1)


def _hue_steps(hue: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Latent-angle steps between hue-consecutive samples, around the whole cycle, wrapped."""
    order = np.argsort(hue, kind="stable")  # walk the samples in hue order
    angle = np.arctan2(z[order, 1], z[order, 0])  # each latent's angle around the origin
    steps = np.diff(angle, append=angle[:1])  # ... including the closing step, last → first
    return (steps + np.pi) % (2 * np.pi) - np.pi  # the short way round: each step in [−π, π)


def solution_winding_number(hue: np.ndarray, z: np.ndarray) -> int:
    """How many times the latents ``z`` (N, 2) go round the origin as ``hue`` (N,) goes round once.

    Sort by hue, take the angle step between neighbours all the way round (last → first too),
    wrap each step the short way round, add them up and count full turns.
    """
    return int(np.rint(_hue_steps(hue, z).sum() / (2 * np.pi)))


def solution_hue_order_score(hue: np.ndarray, z: np.ndarray) -> float:
    """Fraction of the N hue-consecutive steps (closing step included) that turn the majority way."""
    steps = _hue_steps(hue, z)
    return max(int(np.sum(steps > 0)), int(np.sum(steps < 0))) / len(steps)


# --------------------------------------------------------------------------- hsv_to_rgb checker


_HSV_OWN = ("course_lib.color.spaces:hsv_to_rgb", "matplotlib.colors:hsv_to_rgb")


def _rgb_of(attempt: Callable, hsv: np.ndarray) -> np.ndarray:
    with forbid(_HSV_OWN):
        out = attempt(hsv.copy())
    assert out is not None, "your function returned None — did you forget `return`?"
    if isinstance(out, torch.Tensor):
        out = out.detach().cpu().numpy()
    out = np.asarray(out, dtype=np.float64)
    assert out.shape == hsv.shape, f"expected shape {hsv.shape}, got {out.shape}"
    return out


def _show(hsv_row: np.ndarray) -> str:
    return "(" + ", ".join(f"{x:.3g}" for x in hsv_row) + ")"


def _case_shape(attempt: Callable) -> None:
    hsv = np.array([[0.0, 1.0, 1.0], [0.5, 0.5, 0.5], [0.9, 0.2, 0.7], [0.25, 1.0, 0.3],
                    [0.6, 0.0, 1.0]])
    _rgb_of(attempt, hsv)
    _rgb_of(attempt, hsv[:1])


def _case_primaries(attempt: Callable) -> None:
    hsv = np.array([[0.0, 1.0, 1.0], [1 / 3, 1.0, 1.0], [2 / 3, 1.0, 1.0]])
    want = np.eye(3)
    got = _rgb_of(attempt, hsv)
    for name, g, w in zip(("red", "green", "blue"), got, want):
        assert np.allclose(g, w, atol=1e-6), f"{name} should be {tuple(w)}, got {tuple(np.round(g, 3))}"


def _case_greys(attempt: Callable) -> None:
    values = np.array([0.0, 0.25, 0.5, 1.0])
    hsv = np.stack([np.array([0.0, 0.3, 0.6, 0.9]), np.zeros(4), values], axis=1)
    got = _rgb_of(attempt, hsv)
    for row, g in zip(hsv, got):
        want = np.full(3, row[2])
        assert np.allclose(g, want, atol=1e-6), (
            f"saturation 0 is grey: HSV {_show(row)} should give {tuple(want)}, got {tuple(np.round(g, 3))}"
        )


def _case_random(attempt: Callable) -> None:
    rng = np.random.default_rng(2024)
    hsv = rng.random((200, 3))
    want = np.array([colorsys.hsv_to_rgb(*row) for row in hsv])
    got = _rgb_of(attempt, hsv)
    err = np.abs(got - want).max(axis=1)
    i = int(np.argmax(err))
    assert err[i] < 1e-6, (
        f"HSV {_show(hsv[i])} should give {tuple(np.round(want[i], 3))}, got {tuple(np.round(got[i], 3))}"
    )


def _case_wrap(attempt: Callable) -> None:
    hsv = np.array([[1.0, 1.0, 1.0], [1.0, 0.5, 0.8]])
    want = np.array([colorsys.hsv_to_rgb(0.0, 1.0, 1.0), colorsys.hsv_to_rgb(0.0, 0.5, 0.8)])
    got = _rgb_of(attempt, hsv)
    assert np.allclose(got, want, atol=1e-6), (
        f"hue 1.0 is a full turn, the same as hue 0 (red): HSV (1, 1, 1) should give (1, 0, 0), "
        f"got {tuple(np.round(got[0], 3))}"
    )


def _case_hsv_no_loop(attempt: Callable) -> None:
    rng = np.random.default_rng(5)
    with forbid(_HSV_OWN):
        assert_no_python_loop(attempt, lambda n: (rng.random((n, 3)),))


HSV_TO_RGB_CASES: list[Case] = [
    case("returns an (N, 3) array", _case_shape,
         hint="take an (N, 3) array and return an (N, 3) array — stack the three channels on axis 1"),
    case("primary colours", _case_primaries,
         hint="red is hue 0, green 1/3, blue 2/3; check the channel order is (r, g, b)"),
    case("greys", _case_greys, hint="with saturation 0 every channel equals the value v"),
    case("matches colorsys on 200 random colours", _case_random,
         hint="compare one colour by hand with colorsys.hsv_to_rgb(h, s, v)"),
    case("hue wraps around", _case_wrap,
         hint="hue is an angle: take it modulo 1 (or k modulo 6) so hue 1.0 is red again"),
    case("no Python loop over colours", _case_hsv_no_loop,
         hint="work on whole columns: h = hsv[:, 0] is all the hues at once, and numpy broadcasts"),
]


def check_hsv_to_rgb(attempt: Callable[[np.ndarray], np.ndarray], *, quiet: bool = False) -> CheckResult:
    """Check a reader's ``hsv_to_rgb(hsv: (N, 3) array) -> (N, 3) array``."""
    return check("hsv_to_rgb", attempt, HSV_TO_RGB_CASES, quiet=quiet)


# --------------------------------------------------------------------------- planted curves


@dataclass(frozen=True)
class PlantedCurve:
    """Latents ``z`` (N, 2) planted for hues ``hue`` (N,), with the numbers they should get."""

    hue: np.ndarray
    z: np.ndarray
    winding: int
    score: float
    description: str


def _on_circle(angle: np.ndarray, radius: Any = 1.0, center: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    return np.column_stack([center[0] + radius * np.cos(angle), center[1] + radius * np.sin(angle)])


def planted_curves(n: int = 36, seed: int = 0) -> dict[str, PlantedCurve]:
    """Curves with known winding numbers and hue-order scores, for ``n`` evenly spaced hues.

    ``n`` must be a multiple of 4, at least 8. Hue ``i`` is ``i / n``; the latents are in hue order
    (the checkers shuffle them). ``seed`` sets the noise of ``"noisy wheel"``.
    """
    n = check_int(n, "n", min=8)
    if n % 4:
        raise ValueError(f"n must be a multiple of 4, at least 8, got {n!r}")
    hue = np.arange(n) / n
    turn = 2 * np.pi * hue
    rng = np.random.default_rng(seed)
    pairs = np.arange(n) ^ 1  # 1, 0, 3, 2, 5, 4, …: neighbours swapped in pairs
    one_swap = np.arange(n)
    one_swap[[1, 2]] = [2, 1]
    fold = np.radians(150) * (1 - np.abs(2 * hue - 1))  # out to 150° and back
    shapes = {
        "wheel": (_on_circle(turn), "the ideal wheel: latent angle = hue"),
        "reversed wheel": (_on_circle(-turn), "the same wheel, clockwise"),
        "double wrap": (_on_circle(2 * turn), "goes round twice as hue goes round once"),
        "short arc": (_on_circle(turn / 3), "hue squeezed onto a third of the circle, in order"),
        "fold": (_on_circle(fold), "out along an arc and back again"),
        "zig-zag wheel": (_on_circle(turn[pairs]), "a wheel with every neighbouring pair swapped"),
        "swapped pair": (_on_circle(turn[one_swap]), "a wheel with two neighbouring hues swapped"),
        "off-centre wheel": (_on_circle(turn, 1.0, (0.35, -0.25)), "a wheel whose centre is not 0"),
        "loop beside the origin": (_on_circle(turn, 1.0, (2.5, 0.0)), "a wheel that misses the origin"),
        "noisy wheel": (
            _on_circle(turn + rng.normal(0, 0.25 * 2 * np.pi / n, n), 1 + rng.normal(0, 0.05, n)),
            "a wheel with jitter in angle and radius",
        ),
    }
    return {
        name: PlantedCurve(hue.copy(), z, solution_winding_number(hue, z),
                           solution_hue_order_score(hue, z), text)
        for name, (z, text) in shapes.items()
    }


#: The curves whose numbers the reader predicts (with ``planted_curves(12)``).
PREDICTION_CURVES: tuple[str, ...] = ("double wrap", "short arc", "zig-zag wheel", "fold")


def plot_planted_curves(curves: Mapping[str, PlantedCurve], names: Any = PREDICTION_CURVES) -> Any:
    """One panel per curve: latents coloured by hue, joined in hue order, labelled in degrees."""
    from ..figures import new_figure

    from .wheel_plots import plot_latents
    from .spaces import hsv_to_rgb as _hsv_to_rgb

    names = list(names)
    ncols = min(2, len(names))  # two per row: the degree labels stay legible at the book's width
    nrows = -(-len(names) // ncols)
    fig = new_figure((3.6 * ncols, 3.6 * nrows))
    axes = np.atleast_1d(fig.subplots(nrows, ncols)).ravel()
    for ax in axes[len(names):]:
        ax.axis("off")
    for ax, name in zip(axes, names):
        c = curves[name]
        rgb = _hsv_to_rgb(np.column_stack([c.hue, np.ones_like(c.hue), np.ones_like(c.hue)]))
        path = np.vstack([c.z, c.z[:1]])
        ax.plot(path[:, 0], path[:, 1], color="0.55", lw=0.8, zorder=1)
        plot_latents(c.z, rgb, ax=ax, title=name, lim=1.6)
        labels: dict[tuple[float, float], list[str]] = {}  # hues that share a point share a label
        for h, p in zip(c.hue, c.z):
            labels.setdefault((round(p[0], 6), round(p[1], 6)), []).append(f"{round(h * 360)}")
        for (x, y), texts in labels.items():
            r = max(np.hypot(x, y), 1e-9)
            ax.text(x / r * (r + 0.25), y / r * (r + 0.25), "/".join(texts), ha="center", va="center",
                    fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel("")
        ax.set_ylabel("")
    return fig


# --------------------------------------------------------------------------- winding number and hue-order score checkers


def _metric_own(name: str) -> tuple[str, ...]:
    """The course's functions that compute metric ``name`` (or its steps) for the reader."""
    return tuple(f"course_lib.color.metrics:{f}" for f in (name, "_ordered_steps", "is_wheel"))


def _measure(attempt: Callable, curve: PlantedCurve, name: str, *, shuffle: bool = True) -> Any:
    """The attempt's answer on ``curve``, its rows shuffled (hue and z together)."""
    order = np.random.default_rng(len(curve.hue)).permutation(len(curve.hue)) if shuffle else slice(None)
    with forbid(_metric_own(name)):
        out = attempt(curve.hue[order].copy(), curve.z[order].copy())
    assert out is not None, "your function returned None — did you forget `return`?"
    return out


def _scalar(out: Any) -> Any:
    """A one-element numpy array or torch tensor, or a numpy scalar, as a Python number."""
    if isinstance(out, torch.Tensor) and out.numel() == 1:
        return out.item()
    if isinstance(out, (np.ndarray, np.generic)) and out.size == 1:
        return out.item()
    return out


def _as_whole_number(out: Any) -> int:
    out = _scalar(out)
    assert isinstance(out, (int, float, np.integer, np.floating)) and not isinstance(out, bool), (
        f"return a number, got {type(out).__name__}"
    )
    assert float(out).is_integer(), (
        f"you returned {out!r}: the winding number is a whole number of turns — round the sum"
    )
    return int(out)


def _winding_test(attempt: Callable, *names: str, n: int = 36, shuffle: bool = True) -> None:
    curves = planted_curves(n)
    for name in names:
        c = curves[name]
        got = _as_whole_number(_measure(attempt, c, "winding_number", shuffle=shuffle))
        assert got == c.winding, f"{name} ({c.description}) winds {c.winding:+d}; you said {got:+d}"


def _noisy_wheel_args(n: int) -> tuple[np.ndarray, np.ndarray]:
    curve = planted_curves(n)["noisy wheel"]
    return curve.hue, curve.z


def _case_winding_no_loop(attempt: Callable) -> None:
    with forbid(_metric_own("winding_number")):
        assert_no_python_loop(attempt, _noisy_wheel_args)


def _case_winding_float_error(attempt: Callable) -> None:
    # a sum of wrapped steps is a whole number of turns only up to float error (here just under
    # −1 turn and just under +2): int() truncates towards zero, rounding does not
    for seed in (3, 12):
        c = planted_curves(360, seed=seed)["noisy wheel"]
        for z, want in ((c.z * [1, -1], -1), (_on_circle(2 * np.arctan2(c.z[:, 1], c.z[:, 0])), 2)):
            curve = PlantedCurve(c.hue, z, want, 1.0, "")
            got = _as_whole_number(_measure(attempt, curve, "winding_number"))
            assert got == want, (
                f"a noisy curve that winds {want:+d} gave {got:+d}: the sum of steps / 2π is "
                f"{want} only up to rounding error"
            )


WINDING_CASES: list[Case] = [
    case("the ideal wheel winds +1", _winding_test, "wheel", shuffle=False,
         hint="sort by hue, then add up the angle steps between neighbours: counter-clockwise is positive"),
    case("a reversed wheel winds −1", _winding_test, "reversed wheel", shuffle=False,
         hint="a clockwise wheel turns the other way: its steps are negative"),
    case("input in any order", _winding_test, "wheel", "reversed wheel",
         hint="the rows arrive in any order: walk them in hue order (np.argsort(hue))"),
    case("a double wrap winds +2", _winding_test, "double wrap",
         hint="count every full turn, not just whether there is one"),
    case("a wheel not centred on the origin", _winding_test, "off-centre wheel", "loop beside the origin",
         hint="take angles around the origin, arctan2(z[:, 1], z[:, 0]) — a loop beside the origin winds 0"),
    case("a curve folded back onto an arc winds 0", _winding_test, "fold", "short arc",
         hint="include the closing step from the last hue back to the first"),
    case("noise and float error", _winding_test, "noisy wheel", "zig-zag wheel", "swapped pair", n=360,
         hint="wrap each step to the short way round: (step + π) mod 2π − π"),
    case("rounds, not truncates", _case_winding_float_error,
         hint="int(x) truncates 0.9999999999999998 to 0: use round(x) or int(np.rint(x))"),
    case("no Python loop over samples", _case_winding_no_loop,
         hint="np.argsort, np.arctan2, np.diff(..., append=...) and % work on whole arrays"),
]


def check_winding_number(attempt: Callable[[np.ndarray, np.ndarray], int], *, quiet: bool = False) -> CheckResult:
    """Check a reader's ``winding_number(hue (N,), z (N, 2)) -> int``."""
    return check("winding number", attempt, WINDING_CASES, quiet=quiet)


def _score_test(attempt: Callable, *names: str, n: int = 36, shuffle: bool = True) -> None:
    curves = planted_curves(n)
    for name in names:
        c = curves[name]
        out = _scalar(_measure(attempt, c, "hue_order_score", shuffle=shuffle))
        assert isinstance(out, (int, float, np.integer, np.floating)) and not isinstance(out, bool), (
            f"return a number, got {type(out).__name__}"
        )
        got = float(out)
        assert abs(got - c.score) < 1e-9, (
            f"{name} ({c.description}, {n} hues) scores {c.score:.4f}; you said {got:.4f}"
        )


def _case_score_no_loop(attempt: Callable) -> None:
    with forbid(_metric_own("hue_order_score")):
        assert_no_python_loop(attempt, _noisy_wheel_args)


SCORE_CASES: list[Case] = [
    case("the ideal wheel scores 1", _score_test, "wheel", shuffle=False,
         hint="count the steps that turn counter-clockwise, divide by the number of steps"),
    case("a reversed wheel scores 1 too", _score_test, "reversed wheel", shuffle=False,
         hint="order either way round is order: count the majority direction, max(positive, negative)"),
    case("input in any order", _score_test, "wheel", "reversed wheel",
         hint="the rows arrive in any order: walk them in hue order (np.argsort(hue))"),
    case("the closing step counts", _score_test, "short arc", n=12,
         hint="there are N steps, not N − 1: include the step from the last hue back to the first"),
    case("a fold scores 1/2", _score_test, "fold", n=12,
         hint="a step that turns back counts against the order, however short it is"),
    case("one swapped pair costs one step", _score_test, "swapped pair", n=12,
         hint="of N steps exactly one turns back: wrap each step the short way round, (step + π) mod 2π − π"),
    case("double wraps, off-centre wheels, noise", _score_test, "double wrap", "off-centre wheel",
         "noisy wheel", "zig-zag wheel", n=360,
         hint="angles around the origin, steps wrapped, N steps, majority direction"),
    case("no Python loop over samples", _case_score_no_loop, hint="np.sum(steps > 0) counts without a loop"),
]


def check_hue_order_score(attempt: Callable[[np.ndarray, np.ndarray], float], *,
                          quiet: bool = False) -> CheckResult:
    """Check a reader's ``hue_order_score(hue (N,), z (N, 2)) -> float``."""
    return check("hue-order score", attempt, SCORE_CASES, quiet=quiet)


# --------------------------------------------------------------------------- predictions


#: How far a predicted score may be from the measured one.
SCORE_TOLERANCE = 0.03


def _case_prediction_table(predictions: Any) -> None:
    assert isinstance(predictions, Mapping), f"predictions must be a dict, got {type(predictions).__name__}"
    missing = [n for n in PREDICTION_CURVES if n not in predictions]
    assert not missing, f"no prediction for {missing}"
    for name in PREDICTION_CURVES:
        value = predictions[name]
        ok = isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in value
        )
        assert ok, f"predictions[{name!r}] must be a pair (winding, score) of numbers, got {value!r}"


def _prediction_test(predictions: Any, name: str) -> None:
    c = planted_curves(12)[name]
    winding, score = predictions[name]
    assert winding == c.winding, f"you predicted winding {winding}; it is {c.winding}"
    assert abs(score - c.score) <= SCORE_TOLERANCE, (
        f"you predicted score {score:.2f}; it is {c.score:.3f} ({round(c.score * 12)} of 12 steps)"
    )


_PREDICTION_HINTS = {
    "double wrap": "follow the labels 0, 30, 60, … and count how often you pass the start",
    "short arc": "count the steps, all twelve — the one from 330 back to 0 included",
    "zig-zag wheel": "follow the labels: which steps go forward and which go back?",
    "fold": "the path goes out and comes back the same way: how many times round, how many steps each way?",
}

PREDICTION_CASES: list[Case] = [
    case("a (winding, score) pair for every curve", _case_prediction_table,
         hint="fill in every None in the dict"),
    *[case(name, _prediction_test, name, hint=_PREDICTION_HINTS[name]) for name in PREDICTION_CURVES],
]


def check_predictions(predictions: Mapping[str, tuple[int, float]], *, quiet: bool = False) -> CheckResult:
    """Check predicted ``{curve: (winding number, hue-order score)}`` for ``planted_curves(12)``."""
    return check("predictions", predictions, PREDICTION_CASES, quiet=quiet)
