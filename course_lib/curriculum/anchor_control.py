"""The unanchored control of notebooks 2.3 and 2.4, and what it takes to compare the two arms fairly.

The **unanchored arm** is :mod:`.anchoring`'s recipe with exactly one factor changed: the anchor
term's weight is 0 (same seeds, so the same initial weights; same data, schedule, separation term,
learning rate and steps). Its red direction is not known in advance, so it is **found after
training**: :func:`posthoc_direction` — the mean code of the red colours, normalised, with "red
colours" weighted by the same soft label the anchor uses (``redness^100`` over the 3,600-colour
training grid, so in practice pure red): the exact counterpart of the anchor, which is where the
anchored arm's red code sits. ``centre=True`` subtracts the mean code of all colours first (the
difference of means of the steering-vector literature), which tilts the direction away from red's
code on a sphere whose codes do not average to zero.

Measurements shared by both arms:

* :func:`attractor_cosines` — the seed note's second mechanism ("an anchored direction attracts
  similar concepts and keeps unrelated ones out"): the cosine of each colour's code with red's
  direction, for the hue circle by hue distance, for *similar* colours (darker and paler reds),
  *neutral* ones (black and greys) and *unrelated* ones (white, far hues); :func:`attractor_closeness`
  — the same as a rank among all training colours, which two arms can be compared on;
* :func:`attractor_by_hue` — the specificity control of the attractor test: the same closeness
  measure with *every* hue of the training grid (every 10°) in red's place — each hue's own code
  direction, its own darker and paler versions as "similar" and white plus the hues 120–240° away as
  "unrelated". An anchor effect on red's neighbourhood is red's arm difference *in excess of* the
  other hues' (which share every other difference between the arms);
* :func:`mute_outcomes` — the reference and gated edits along a direction: red's, orange's,
  black's and red's neighbours' (:func:`neighbours`) ΔMSE per model, and whether the issue's goal
  (pure red) and the note's fuller goal (red *and colours close to red*) were met;
* :func:`random_directions` — matched random directions (uniform on the sphere, one per seed) for
  the same edit; they cannot meet the goal (no random direction of the code mutes red), so they only
  show that the edit is not trivially selective. :func:`neighbour_directions` is the control that
  *can* fail: the code direction of a hue a few degrees from red, in each model — does a direction
  merely *near* red's mute red as well? :func:`neighbourhood_directions` is the mean code of red's
  neighbourhood, found after training in either arm: the same kind of direction for both.
* :func:`detection_trace` — over checkpoints, the AUC with which a direction's lean picks out a
  set of colours (red) among the 3,600 grid colours: a monitor on unlabelled inputs. The direction
  is fixed (the anchor; or the final post-hoc one) or re-read at each checkpoint (``"running"``).
* :func:`direction_trace` — over checkpoints, the cosine of red's code with a fixed direction (the
  anchor, known at step 0) and the cosine of the post-hoc direction at each checkpoint with the final
  one (known only after training);
* :func:`tune_gate` — the gate's sharpness and strength chosen on :data:`TUNING_SEEDS`, seeds no
  claim uses, for either goal, and optionally at a rate matched between arms (:func:`match_gates`:
  every arm at the highest rate all reach; :func:`on_grid_edge` flags a choice at the grid's limit).
  The neighbourhood goal's hue radius (:func:`neighbours`) is a setting: notebook 2.4 reports two.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

import numpy as np
import torch

from ..color.model import ColorAutoencoder
from ..color.spaces import hsv_to_rgb
from ..validation import check_float, check_int, check_seed
from . import anchoring
from .intervention import damage, gated_suppress, suppress
from .regularisers import redness
from .runs import CurriculumSweep
from .train import cached_sweep

__all__ = [
    "TUNING_SEEDS",
    "GATE_GRID",
    "GOAL_RATIO",
    "NEIGHBOURS",
    "HUE_RADIUS",
    "HUE_RADII",
    "neighbours",
    "match_gates",
    "on_grid_edge",
    "NEAR_FRACTION",
    "NEAR_BARS",
    "bar_sensitivity",
    "GOALS",
    "SIMILAR",
    "UNRELATED",
    "unanchored_sweep",
    "tuning_sweep",
    "grid_rgb",
    "posthoc_direction",
    "random_directions",
    "neighbour_directions",
    "neighbourhood_directions",
    "attractor_cosines",
    "attractor_closeness",
    "attractor_study",
    "attractor_by_hue",
    "NEUTRAL",
    "GROUPS",
    "training_colours",
    "mute_outcomes",
    "direction_trace",
    "detection_trace",
    "POSTHOC_MODES",
    "tune_gate",
    "posthoc_directions",
    "anchor_directions",
]

#: Seeds used only to choose the gate (no claim of notebooks 2.3–2.5 uses them).
TUNING_SEEDS: tuple[int, ...] = tuple(range(1000, 1012))
#: The gates :func:`tune_gate` tries: (sharpness p, strength s). Wide enough on both sides that
#: each arm's chosen gate, for either hue radius, lies inside it (notebook 2.4 asserts that).
GATE_GRID: tuple[tuple[float, float], ...] = tuple(
    (p, s) for p in (0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 12.0, 16.0, 24.0, 48.0)
    for s in (1.0, 1.5, 2.0, 3.0, 4.0, 6.0))
#: The goal (issue 8): orange's ΔMSE at most this fraction of red's, red at least the reference's.
GOAL_RATIO = 0.2
#: How far in hue "close to red" reaches (degrees either side): the default, and the radii notebook
#: 2.4 reports (the conclusion differs between them).
HUE_RADIUS = 5.0
HUE_RADII: tuple[float, ...] = (5.0, 10.0)


def neighbours(hue_radius: float = HUE_RADIUS) -> dict[str, tuple[float, float, float]]:
    """"Colours close to red" (the note's goal) as HSV: the darker saturated reds (V 0.75, 0.5) and
    the saturated hues ``hue_radius`` degrees either side of red, in that order. The neighbourhood
    goal asks each to lose at least :data:`NEAR_FRACTION` of red's gated ΔMSE."""
    r = check_float(hue_radius, "hue_radius", min=0.0, max=90.0, inclusive="neither")
    return {"dark red (V 0.75)": (0.0, 1.0, 0.75), "darker red (V 0.5)": (0.0, 1.0, 0.5),
            f"hue {r:g}°": (r / 360, 1.0, 1.0), f"hue {360 - r:g}°": ((360 - r) / 360, 1.0, 1.0)}


#: :func:`neighbours` at the default radius (hues 5° either side).
NEIGHBOURS: dict[str, tuple[float, float, float]] = neighbours()
NEAR_FRACTION = 0.1
#: The bars notebook 2.4 re-tunes and re-scores the ±5° comparison at (the conclusion's sensitivity
#: to that choice).
NEAR_BARS: tuple[float, ...] = (0.05, 0.1, 0.2, 0.3)
#: The two goals :func:`mute_outcomes` scores and :func:`tune_gate` can tune for.
GOALS = ("red", "neighbourhood")
#: Colours similar to red (darker and paler reds, RGB distance 0.25–0.5 from red), as HSV; unrelated
#: ones (white and the far hues, RGB distance 1.4–1.7); and the neutrals in between (black and greys,
#: 0.8–1.1: black is as far from dark red as red is, so it is neither similar nor clearly unrelated).
SIMILAR: dict[str, tuple[float, float, float]] = {
    "dark red (V 0.75)": (0.0, 1.0, 0.75), "darker red (V 0.5)": (0.0, 1.0, 0.5),
    "pale red (S 0.75)": (0.0, 0.75, 1.0), "paler red (S 0.5)": (0.0, 0.5, 1.0)}
UNRELATED: dict[str, tuple[float, float, float]] = {
    "white": (0.0, 0.0, 1.0), "green": (1 / 3, 1.0, 1.0), "cyan": (0.5, 1.0, 1.0),
    "azure": (7 / 12, 1.0, 1.0), "blue": (2 / 3, 1.0, 1.0)}
NEUTRAL: dict[str, tuple[float, float, float]] = {
    "black": (0.0, 0.0, 0.0), "dark grey": (0.0, 0.0, 0.25), "grey": (0.0, 0.0, 0.5),
    "light grey": (0.0, 0.0, 0.75)}
#: The three groups in the order figures and tables show them.
GROUPS: dict[str, dict[str, tuple[float, float, float]]] = {
    "similar": SIMILAR, "neutral": NEUTRAL, "unrelated": UNRELATED}
_RED, _ORANGE = (0.0, 1.0, 1.0), (30 / 360, 1.0, 1.0)


def _rgb(hsv: Sequence[Sequence[float]]) -> torch.Tensor:
    return torch.tensor(hsv_to_rgb(np.asarray(hsv, dtype=float)), dtype=torch.float32)


def unanchored_sweep(seeds: Optional[Sequence[int]] = None, profile: Optional[str] = None,
                     schedule: str = "smooth") -> CurriculumSweep:
    """:func:`.anchoring.anchored_sweep` with the anchor term's weight set to 0 and nothing else
    changed (cached). Default seeds ``range(settings(profile)["seeds"])``, as the anchored sweep's."""
    anchoring._check_kind(schedule)
    cfg = anchoring.settings(profile)
    seeds = list(range(cfg["seeds"])) if seeds is None else list(seeds)
    return cached_sweep("anchored_sweep", anchoring._key(schedule, 0.0), seeds,
                        **anchoring._train_kwargs(cfg["steps"], schedule, 0.0))


def tuning_sweep(profile: Optional[str] = None, schedule: str = "smooth", *,
                 anchored: bool = True) -> CurriculumSweep:
    """The anchored recipe (``anchored=False``: the unanchored one) on :data:`TUNING_SEEDS`
    (cached): the models each arm's gate is chosen on."""
    if not isinstance(anchored, bool):
        raise TypeError(f"anchored must be a bool, got {type(anchored).__name__}")
    if not anchored:
        return unanchored_sweep(seeds=TUNING_SEEDS, profile=profile, schedule=schedule)
    return anchoring.anchored_sweep(seeds=TUNING_SEEDS, profile=profile, schedule=schedule)


def grid_rgb() -> torch.Tensor:
    """The full training grid (3,600 colours: hue every 10°, 10 saturations × 10 values) as RGB."""
    return anchoring._data_at_level(anchoring._SPREAD_LEVELS - 1)


def posthoc_direction(encode: Callable[[torch.Tensor], torch.Tensor],
                      rgb: Optional[torch.Tensor] = None, *, k: float = 100.0, centre: bool = False) -> torch.Tensor:
    """Red's direction found after training: ``normalise(Σ rᵢ zᵢ / Σ rᵢ)``, or with ``centre``
    ``normalise(Σ rᵢ zᵢ / Σ rᵢ − mean zᵢ)``, where ``rᵢ = redness(rgbᵢ)^k`` (the anchor's own label)
    and ``zᵢ = encode(rgbᵢ)`` over ``rgb`` (default: :func:`grid_rgb`). Returns a unit tensor (d,)."""
    if not callable(encode):
        raise TypeError(f"encode must be callable, got {type(encode).__name__}")
    x = grid_rgb() if rgb is None else rgb
    if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[1] != 3 or len(x) < 2:
        raise ValueError("rgb must be a tensor of shape (n, 3) with n ≥ 2")
    k = check_float(k, "k", min=0.0, inclusive="neither")
    if not isinstance(centre, (bool, np.bool_)):
        raise TypeError(f"centre must be True or False, got {centre!r}")
    with torch.no_grad():
        z = encode(x.float()).double()
        w = redness(x.float(), k).double()
    if not float(w.sum()) > 0:
        raise ValueError("no colour in rgb has any redness: cannot find red's direction")
    v = (w[:, None] * z).sum(0) / w.sum() - (z.mean(0) if centre else 0.0)
    norm = torch.linalg.vector_norm(v)
    if not float(norm) > 1e-9:
        raise ValueError("red's mean code is zero (or, centred, equals the overall mean code): no direction")
    return (v / norm).float()


def random_directions(n: int, d: int, seed: int = 0) -> torch.Tensor:
    """``n`` independent unit directions in ``d`` dims, uniform on the sphere (normalised Gaussians),
    reproducible from ``seed`` → (n, d)."""
    n, d = check_int(n, "n", min=1), check_int(d, "d", min=1)
    g = torch.Generator().manual_seed(check_seed(seed))
    v = torch.randn(n, d, generator=g, dtype=torch.float64)
    return (v / torch.linalg.vector_norm(v, dim=1, keepdim=True)).float()


def neighbour_directions(models: Sequence[ColorAutoencoder], hue_deg: float = 5.0) -> torch.Tensor:
    """The code direction of the saturated hue ``hue_deg`` degrees from red (S = V = 1) in each model,
    normalised → (n, d): a neighbour-hue control for an edit along red's direction."""
    hue = check_float(hue_deg, "hue_deg", min=-180.0, max=180.0)
    if len(models) == 0:
        raise ValueError("models is empty")
    x = _rgb([((hue / 360.0) % 1.0, 1.0, 1.0)])
    with torch.no_grad():
        z = torch.cat([m.encode(x).double() for m in models])
    return (z / torch.linalg.vector_norm(z, dim=1, keepdim=True).clamp_min(1e-12)).float()


def neighbourhood_directions(models: Sequence[ColorAutoencoder], hue_radius: float = HUE_RADIUS
                             ) -> torch.Tensor:
    """The direction of red's whole neighbourhood in each model, found after training: the mean code
    of pure red and its :func:`neighbours` at ``hue_radius``, normalised → (n, d). It needs no anchor,
    so both arms can be edited along the same kind of direction (a one-factor comparison of their
    geometry)."""
    if len(models) == 0:
        raise ValueError("models is empty")
    x = _rgb([_RED, *neighbours(hue_radius).values()])
    with torch.no_grad():
        v = torch.stack([m.encode(x).double().mean(0) for m in models])
    norm = torch.linalg.vector_norm(v, dim=1, keepdim=True)
    if not bool((norm > 1e-9).all()):
        raise ValueError("the mean code of red's neighbourhood is zero in some model: no direction")
    return (v / norm).float()


def _cos(z: torch.Tensor, a: torch.Tensor) -> np.ndarray:
    a = a / torch.linalg.vector_norm(a)
    return ((z @ a) / torch.linalg.vector_norm(z, dim=1).clamp_min(1e-12)).numpy()


def attractor_cosines(encode: Callable[[torch.Tensor], torch.Tensor], direction: torch.Tensor
                      ) -> dict[str, np.ndarray]:
    """Cosine of codes with ``direction`` (d,): ``"hue"`` (181,) — mean of the two hues at each hue
    distance 0°…180° from red (S = V = 1, 1° steps); then one entry per group of :data:`GROUPS`
    (``"similar"``, ``"neutral"``, ``"unrelated"``), one value per colour in the group's order."""
    if not isinstance(direction, torch.Tensor) or direction.ndim != 1:
        raise ValueError("direction must be a 1-D tensor")
    hues = np.arange(360) / 360
    wheel = _rgb(np.stack([hues, np.ones(360), np.ones(360)], axis=1))
    with torch.no_grad():
        cw = _cos(encode(wheel), direction)
        groups = {name: _cos(encode(_rgb(list(colours.values()))), direction) for name, colours in GROUPS.items()}
    dist = np.array([(cw[h] + cw[-h % 360]) / 2 for h in range(181)])
    return {"hue": dist, **groups}


def training_colours() -> torch.Tensor:
    """Every colour the anchored recipe trains on once its data have widened fully (the HSV grid,
    RGB (N, 3)): the reference set that :func:`attractor_closeness` ranks against."""
    return anchoring._data_at_level(anchoring._SPREAD_LEVELS - 1).clone()


def attractor_closeness(encode: Callable[[torch.Tensor], torch.Tensor], direction: torch.Tensor,
                        reference: torch.Tensor) -> dict[str, np.ndarray]:
    """:func:`attractor_cosines` as ranks: for each probe colour, the share of the ``reference``
    colours (N, 3) whose codes lean *less* towards ``direction`` than its own code does (1 = the
    colour is red's nearest neighbour among them, 0 = the farthest). Unlike a raw cosine, a rank
    does not depend on how an arm spreads its codes over the sphere, so it compares two arms'
    neighbourhoods of red; the raw cosine is what an alignment-gated edit sees."""
    if not isinstance(reference, torch.Tensor) or reference.ndim != 2 or reference.shape[1] != 3 or len(reference) < 2:
        raise ValueError("reference must be an RGB tensor of shape (N, 3) with N >= 2")
    raw = attractor_cosines(encode, direction)
    with torch.no_grad():
        ref = np.sort(_cos(encode(reference.float()), direction))
    return {key: np.searchsorted(ref, vals, side="left") / len(ref) for key, vals in raw.items()}


def attractor_study(models: Mapping[str, Sequence[ColorAutoencoder]],
                    directions: Mapping[str, Sequence[torch.Tensor] | torch.Tensor]
                    ) -> dict[str, dict[str, dict[str, np.ndarray]]]:
    """Both attractor measures for every arm: ``out[measure][key][arm]`` with ``measure`` ``"cosine"``
    (:func:`attractor_cosines`) or ``"closeness"`` (:func:`attractor_closeness` against
    :func:`training_colours`), ``key`` ``"hue"`` (seeds × 181) or a group of :data:`GROUPS`
    (seeds × colours). ``models[arm]`` and ``directions[arm]`` hold one entry per seed."""
    if set(models) != set(directions):
        raise ValueError(f"models and directions must have the same arms, got {sorted(models)} and {sorted(directions)}")
    reference = training_colours()
    out: dict[str, dict[str, dict[str, np.ndarray]]] = {"cosine": {}, "closeness": {}}
    for arm, ms in models.items():
        if len(ms) == 0 or len(ms) != len(directions[arm]):
            raise ValueError(f"arm {arm!r}: need one direction per model, got {len(ms)} models and "
                             f"{len(directions[arm])} directions")
        per = {"cosine": [attractor_cosines(m.encode, v) for m, v in zip(ms, directions[arm])],
               "closeness": [attractor_closeness(m.encode, v, reference) for m, v in zip(ms, directions[arm])]}
        for measure, rows in per.items():
            for key in rows[0]:
                out[measure].setdefault(key, {})[arm] = np.stack([r[key] for r in rows])
    return out


#: Offsets (degrees) of the "unrelated" hues from the hue under test in :func:`attractor_by_hue`
#: (for red: green, cyan, azure, blue — :data:`UNRELATED`'s hues).
UNRELATED_OFFSETS: tuple[float, ...] = (120.0, 180.0, 210.0, 240.0)


def attractor_by_hue(models: Sequence[ColorAutoencoder], hues_deg: Sequence[float] = tuple(range(0, 360, 10)),
                     reference: Optional[torch.Tensor] = None) -> dict[str, np.ndarray]:
    """For each model and each hue ``h`` in ``hues_deg``: the closeness (as :func:`attractor_closeness`,
    ranked among ``reference``, default :func:`training_colours`) to the direction of hue h's own code
    (S = V = 1, normalised) of ``"similar"`` (n_models, H, 4): h at V 0.75, V 0.5, S 0.75, S 0.5 (the
    order of :data:`SIMILAR`), and of ``"unrelated"`` (n_models, H, 5): white and the hues h + 120°,
    180°, 210°, 240° (:data:`UNRELATED`'s order for h = 0). For red (h = 0) the direction is pure red's
    code, which in an anchored model is the anchor (cos > 0.999) and in an unanchored one red's post-hoc
    direction (its label, redness¹⁰⁰, weights pure red alone)."""
    if len(models) == 0:
        raise ValueError("models is empty")
    h = np.asarray(list(hues_deg), dtype=float)
    if h.ndim != 1 or h.size == 0 or not np.all(np.isfinite(h)):
        raise ValueError("hues_deg must be a non-empty sequence of finite hues in degrees")
    ref = training_colours() if reference is None else reference
    if not isinstance(ref, torch.Tensor) or ref.ndim != 2 or ref.shape[1] != 3 or len(ref) < 2:
        raise ValueError("reference must be an RGB tensor of shape (N, 3) with N >= 2")
    t = (h / 360.0) % 1.0
    ones = np.ones_like(t)
    pure = _rgb(np.stack([t, ones, ones], 1))
    sim = _rgb(np.concatenate([np.stack([t, ones, ones * v], 1) for v in (0.75, 0.5)]
                              + [np.stack([t, ones * s_, ones], 1) for s_ in (0.75, 0.5)]))
    unrel = _rgb(np.concatenate([np.stack([t, ones * 0.0, ones], 1)]
                                + [np.stack([(t + o / 360.0) % 1.0, ones, ones], 1) for o in UNRELATED_OFFSETS]))
    H = len(t)
    out = {"similar": [], "unrelated": []}
    with torch.no_grad():
        for m in models:
            zr = m.encode(ref.float())
            zr = zr / torch.linalg.vector_norm(zr, dim=1, keepdim=True).clamp_min(1e-12)
            u = m.encode(pure)
            u = u / torch.linalg.vector_norm(u, dim=1, keepdim=True).clamp_min(1e-12)      # (H, d)
            lean_ref = np.sort((zr @ u.T).numpy(), axis=0)                                   # (N, H)
            for key, x, k in (("similar", sim, 4), ("unrelated", unrel, 5)):
                z = m.encode(x)
                z = z / torch.linalg.vector_norm(z, dim=1, keepdim=True).clamp_min(1e-12)
                c = (z.reshape(k, H, -1) * u[None]).sum(-1).numpy()                          # (k, H)
                rank = np.stack([np.searchsorted(lean_ref[:, j], c[:, j], side="left") for j in range(H)], 1)
                out[key].append((rank / len(ref)).T)                                         # (H, k)
    return {key: np.stack(v) for key, v in out.items()}


def mute_outcomes(models: Sequence[ColorAutoencoder], directions: Sequence[torch.Tensor] | torch.Tensor,
                  sharpness: float, strength: float, *, reference_red: Optional[np.ndarray] = None,
                  hue_radius: float = HUE_RADIUS, near_fraction: float = NEAR_FRACTION
                  ) -> dict[str, np.ndarray]:
    """Per model, the reference edit and the gated edit along that model's direction: ΔMSE of red,
    orange and black under each (``"ref_red"``, ``"gate_red"``, ``"gate_orange"``, ``"gate_black"``,
    …), ``"ratio"`` (gated orange / gated red) and ``"goal"`` (ratio ≤ :data:`GOAL_RATIO` and gated
    red ≥ the red ΔMSE to beat), each an array (n_models,). The red ΔMSE to beat is
    ``reference_red`` (n_models,) when given — for a random direction, the reference edit along
    red's real direction — else the reference edit along the same direction. Red's neighbourhood
    (:func:`neighbours` at ``hue_radius``, in that order): ``"ref_near"`` and ``"gate_near"``
    (n_models, 4) and ``"near_goal"`` — ``"goal"`` and every neighbour's gated ΔMSE ≥
    ``near_fraction`` (default :data:`NEAR_FRACTION`) × red's."""
    if len(models) == 0 or len(models) != len(directions):
        raise ValueError(f"need one direction per model, got {len(models)} models and {len(directions)} directions")
    if reference_red is not None:
        reference_red = np.asarray(reference_red, dtype=float)
        if reference_red.shape != (len(models),) or not np.isfinite(reference_red).all():
            raise ValueError(f"reference_red must hold one finite ΔMSE per model, shape ({len(models)},)")
    check_float(sharpness, "sharpness", min=0.0, inclusive="neither")
    check_float(strength, "strength", min=0.0, inclusive="neither")
    check_float(near_fraction, "near_fraction", min=0.0, max=1.0)
    ref, gated = _gate_damages(models, directions, [(sharpness, strength)], neighbours(hue_radius))
    return _outcomes(ref, gated[0], reference_red, near_fraction)


def _gate_damages(models: Sequence[ColorAutoencoder], directions: Sequence[torch.Tensor] | torch.Tensor,
                  gates: Sequence[tuple[float, float]],
                  near: Mapping[str, tuple[float, float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """ΔMSE (:func:`.intervention.damage`) of red, orange, black and the ``near`` colours under the
    reference edit, (n_models, 7), and under each gate (sharpness, strength) of ``gates``,
    (n_gates, n_models, 7) — every gate's edited codes decoded in one batch per model."""
    rgb = _rgb([_RED, _ORANGE, (0.0, 0.0, 0.0), *near.values()])
    refs, gated = [], []
    with torch.no_grad():
        for m, a in zip(models, directions):
            z = m.encode(rgb)
            err = lambda codes: ((m.decode(codes) - rgb.repeat(len(codes) // len(rgb), 1)) ** 2).mean(dim=1)
            before = err(z)
            refs.append((err(suppress(z, a)) - before).numpy())
            edited = torch.cat([gated_suppress(z, a, sharpness=p, strength=st) for p, st in gates])
            gated.append((err(edited).reshape(len(gates), -1) - before).numpy())
    return np.stack(refs).astype(float), np.stack(gated, axis=1).astype(float)


def _outcomes(ref: np.ndarray, gate: np.ndarray, reference_red: Optional[np.ndarray],
              near_fraction: float = NEAR_FRACTION) -> dict[str, np.ndarray]:
    """:func:`mute_outcomes`'s dictionary from the reference and gated ΔMSE, each (n_models, 7)."""
    res: dict[str, np.ndarray] = {}
    for name, vals in (("ref", ref), ("gate", gate)):
        for i, col in enumerate(("red", "orange", "black")):
            res[f"{name}_{col}"] = vals[:, i].copy()
        res[f"{name}_near"] = vals[:, 3:].copy()
    red = res["gate_red"]
    res["ratio"] = np.where(red > 0, res["gate_orange"] / np.where(red > 0, red, 1.0), np.inf)
    beat = res["ref_red"] if reference_red is None else reference_red
    res["goal"] = (res["ratio"] <= GOAL_RATIO) & (red >= beat)
    res["near_goal"] = res["goal"] & (res["gate_near"] >= near_fraction * red[:, None]).all(axis=1)
    return res


def direction_trace(sweep: CurriculumSweep, seed: int, direction: Optional[torch.Tensor] = None
                    ) -> np.ndarray:
    """Over ``sweep``'s checkpoints, for one seed: with a fixed ``direction`` (the anchor), the cosine
    of pure red's code with it; without one, the cosine of the post-hoc direction found at each
    checkpoint with the one found at the end. → (K,)."""
    if not isinstance(sweep, CurriculumSweep):
        raise TypeError(f"sweep must be a CurriculumSweep, got {type(sweep).__name__}")
    steps = [int(s) for s in sweep.checkpoint_steps]
    if direction is not None:
        d = sweep.probe_latents.shape[-1]
        if not isinstance(direction, torch.Tensor) or direction.shape != (d,):
            raise ValueError(f"direction must be a tensor of shape ({d},)")
        s = sweep._seed_index(seed)
        z = torch.as_tensor(np.asarray(sweep.probe_latents)[:, s, 0, :], dtype=torch.float32)  # pure red is probe 0
        return _cos(z, direction.float())
    dirs = torch.stack([posthoc_direction(sweep.model_at(t, seed).encode) for t in steps])
    return _cos(dirs, dirs[-1])


#: How :func:`detection_trace` finds the unanchored arm's direction without a fixed one.
POSTHOC_MODES = ("final", "running")


def detection_trace(sweep: CurriculumSweep, seed: int, labels: object,
                    direction: Optional[torch.Tensor] = None,
                    steps: Optional[Sequence[int]] = None, *, posthoc: str = "final") -> np.ndarray:
    """Is a direction a red *detector* during training? Over ``steps`` (default: every checkpoint of
    ``sweep``), for one seed: the AUC with which the lean ``z·u`` of each :func:`grid_rgb` colour's
    code separates the colours marked by ``labels`` (bool, one per grid colour; or ``(m, N)`` for m
    label sets at once) from the rest. ``u`` is ``direction`` (the anchor, fixed before training) or,
    without one, a post-hoc direction (:func:`posthoc_direction`): ``posthoc="final"`` — the *final*
    model's, held fixed at the earlier steps (what a monitor that learnt its direction at the end
    would have read); ``posthoc="running"`` — re-found at each step from that checkpoint's own codes
    (one forward pass of the labelled red, the input the anchor loss itself uses: a monitor that
    re-reads red's code as it goes). → (len(steps),), or (len(steps), m) for m label sets."""
    from .mixing_layers import separation_auc
    if not isinstance(sweep, CurriculumSweep):
        raise TypeError(f"sweep must be a CurriculumSweep, got {type(sweep).__name__}")
    if posthoc not in POSTHOC_MODES:
        raise ValueError(f"posthoc must be one of {POSTHOC_MODES}, got {posthoc!r}")
    if direction is not None and posthoc != "final":
        raise ValueError("posthoc applies only without a fixed direction")
    x = grid_rgb()
    y = np.asarray(labels)
    if y.dtype != bool or y.ndim not in (1, 2) or y.shape[-1] != len(x):
        raise ValueError(f"labels must be a boolean array of shape ({len(x)},) or (m, {len(x)})")
    ys = y.reshape(-1, len(x))
    known = [int(t) for t in sweep.checkpoint_steps]
    steps = known if steps is None else [int(t) for t in steps]
    if not steps or any(t not in known for t in steps):
        raise ValueError(f"steps must be non-empty checkpoint steps of the sweep, got {steps}")
    if direction is None:
        u = posthoc_direction(sweep.model_at(known[-1], seed).encode)
    else:
        d = sweep.probe_latents.shape[-1]
        if not isinstance(direction, torch.Tensor) or direction.shape != (d,):
            raise ValueError(f"direction must be a tensor of shape ({d},)")
        u = direction
    out = []
    with torch.no_grad():
        for t in steps:
            model = sweep.model_at(t, seed)
            if direction is None and posthoc == "running":
                u = posthoc_direction(model.encode)
            lean = (model.encode(x.float()).double() @ u.double()).numpy()
            out.append([separation_auc(lean, row) for row in ys])
    out = np.array(out)
    return out if y.ndim == 2 else out[:, 0]


def tune_gate(models: Sequence[ColorAutoencoder], directions: Sequence[torch.Tensor] | torch.Tensor,
              grid: Iterable[tuple[float, float]] = GATE_GRID, *, goal: str = "red",
              min_rate: Optional[float] = None, hue_radius: float = HUE_RADIUS,
              near_fraction: float = NEAR_FRACTION) -> tuple[dict[str, float], list[dict[str, float]]]:
    """Choose (sharpness, strength) on tuning models for one of :data:`GOALS` (``"red"``: the
    ``"goal"`` of :func:`mute_outcomes`; ``"neighbourhood"``: its ``"near_goal"``). Without
    ``min_rate``: the most seeds meeting the goal, then the smallest median gated ΔMSE of black (the
    collateral the chapter found). With ``min_rate`` (a fraction of the models): the smallest median
    black ΔMSE among the gates meeting the goal in at least that fraction — two arms held to the same
    rate are compared at matched muting. Returns the best as ``{"sharpness", "strength"}`` and one
    row per gate tried (``rate`` for the chosen goal, ``rate_red``, ``rate_near``, the medians
    ``red``, ``black`` and ``near`` (4,), one per :func:`neighbours` at ``hue_radius``)."""
    if goal not in GOALS:
        raise ValueError(f"goal must be one of {GOALS}, got {goal!r}")
    if min_rate is not None:
        check_float(min_rate, "min_rate", min=0.0, max=1.0)
    check_float(near_fraction, "near_fraction", min=0.0, max=1.0)
    if len(models) == 0 or len(models) != len(directions):
        raise ValueError(f"need one direction per model, got {len(models)} models and {len(directions)} directions")
    grid = [(check_float(p, "sharpness", min=0.0, inclusive="neither"),
             check_float(s, "strength", min=0.0, inclusive="neither")) for p, s in grid]
    ref, gated = _gate_damages(models, directions, grid, neighbours(hue_radius)) if grid else (None, [])
    rows = []
    for (p, s), gate in zip(grid, gated):
        r = _outcomes(ref, gate, None, near_fraction)
        met = r["goal"] if goal == "red" else r["near_goal"]
        rows.append({"sharpness": float(p), "strength": float(s), "rate": float(met.mean()),
                     "rate_red": float(r["goal"].mean()), "rate_near": float(r["near_goal"].mean()),
                     "black": float(np.median(r["gate_black"])), "red": float(np.median(r["gate_red"])),
                     "near": np.median(r["gate_near"], axis=0)})
    if not rows:
        raise ValueError("grid is empty")
    return _best_gate(rows, goal, min_rate), rows


def _best_gate(rows: Sequence[Mapping[str, Any]], goal: str, min_rate: Optional[float]) -> dict[str, float]:
    """:func:`tune_gate`'s choice among its scored ``rows`` (``"rate"`` for ``goal``)."""
    if min_rate is None:
        best = max(rows, key=lambda r: (r["rate"], -r["black"]))
    else:
        ok = [r for r in rows if r["rate"] >= min_rate - 1e-9]
        if not ok:
            top = max(r["rate"] for r in rows)
            raise ValueError(f"no gate meets the {goal} goal in {min_rate:.0%} of the models (best {top:.0%})")
        best = min(ok, key=lambda r: r["black"])
    return {"sharpness": best["sharpness"], "strength": best["strength"]}


def posthoc_directions(models: Sequence[ColorAutoencoder], *, centre: bool = False) -> torch.Tensor:
    """:func:`posthoc_direction` of each model → (n, d)."""
    return torch.stack([posthoc_direction(m.encode, centre=centre) for m in models])


def anchor_directions(models: Sequence[ColorAutoencoder]) -> torch.Tensor:
    """The anchor, once per model → (n, d)."""
    a = torch.tensor(anchoring.ANCHOR, dtype=torch.float32)
    return a.expand(len(models), -1).clone()


def on_grid_edge(gate: Mapping[str, float], grid: Iterable[tuple[float, float]] = GATE_GRID) -> bool:
    """Whether ``gate`` (``{"sharpness", "strength"}``) takes the smallest or largest sharpness or
    strength of ``grid``: a choice there may only be the grid's limit, not an optimum."""
    pts = list(grid)
    if not pts:
        raise ValueError("grid is empty")
    if set(gate) != {"sharpness", "strength"}:
        raise ValueError(f"gate must have the keys 'sharpness' and 'strength', got {sorted(gate)}")
    ps, ss = [p for p, _ in pts], [s for _, s in pts]
    p, s = float(gate["sharpness"]), float(gate["strength"])
    return p in (min(ps), max(ps)) or s in (min(ss), max(ss))


def match_gates(models: Mapping[str, Sequence[ColorAutoencoder]],
                directions: Mapping[str, Sequence[torch.Tensor] | torch.Tensor], *,
                hue_radius: float = HUE_RADIUS, grid: Iterable[tuple[float, float]] = GATE_GRID,
                near_fraction: float = NEAR_FRACTION
                ) -> tuple[float, dict[str, dict[str, float]], dict[str, list[dict[str, float]]]]:
    """Each arm's gate for the neighbourhood goal at ``hue_radius`` at a **matched rate**: the
    highest rate every arm reaches on its tuning ``models`` (the lowest of the arms' best rates);
    each arm then gets the gate with the least median black damage among those meeting it
    (:func:`tune_gate` with ``min_rate``). Returns the matched rate, ``{arm: gate}`` and
    ``{arm: rows}`` (every gate of ``grid`` scored, as :func:`tune_gate` returns them)."""
    if not models or set(models) != set(directions):
        raise ValueError(f"models and directions must have the same, non-empty arms, got "
                         f"{sorted(models)} and {sorted(directions)}")
    grid = list(grid)
    rows = {arm: tune_gate(models[arm], directions[arm], grid, goal="neighbourhood",
                           hue_radius=hue_radius, near_fraction=near_fraction)[1] for arm in models}
    matched = min(max(r["rate_near"] for r in rs) for rs in rows.values())
    if not matched > 0:
        raise ValueError(f"some arm never meets the neighbourhood goal at ±{hue_radius:g}°")
    # chosen from the rows already scored (tune_gate with min_rate would score the grid again)
    gates = {arm: _best_gate(rows[arm], "neighbourhood", matched) for arm in models}
    return matched, gates, rows


def bar_sensitivity(tune_models: Mapping[str, Sequence[ColorAutoencoder]],
                    tune_directions: Mapping[str, Sequence[torch.Tensor] | torch.Tensor],
                    models: Mapping[str, Sequence[ColorAutoencoder]],
                    directions: Mapping[str, Sequence[torch.Tensor] | torch.Tensor], *,
                    bars: Iterable[float] = NEAR_BARS, hue_radius: float = HUE_RADIUS,
                    grid: Iterable[tuple[float, float]] = GATE_GRID) -> list[dict[str, Any]]:
    """The matched-muting comparison redone at each neighbour bar of ``bars`` (the fraction of red's
    gated ΔMSE every neighbour must lose): each arm's gate re-tuned on ``tune_models`` at that bar
    (:func:`match_gates`), then scored on ``models``. One row per bar: ``"bar"``, ``"matched"``,
    ``"gates"`` ``{arm: gate}``, ``"near_goal"`` ``{arm: seeds meeting the goal}``, ``"black"``
    ``{arm: black's median gated ΔMSE}`` and ``"black_more"`` — the seed pairs where the second arm
    (in ``models``' order) hurts black more than the first."""
    arms = list(models)
    if len(arms) != 2 or set(arms) != set(directions) or set(arms) != set(tune_models):
        raise ValueError(f"need the same two arms in every mapping, got {arms}, {sorted(directions)}"
                         f" and {sorted(tune_models)}")
    if len({len(models[a]) for a in arms}) != 1:
        raise ValueError("the two arms' models must be paired: the same number of seeds")
    bars = [check_float(b, "bar", min=0.0, max=1.0) for b in bars]
    if not bars:
        raise ValueError("bars is empty")
    grid = list(grid)
    out = []
    for bar in bars:
        matched, gates, _ = match_gates(tune_models, tune_directions, hue_radius=hue_radius, grid=grid,
                                        near_fraction=bar)
        res = {a: mute_outcomes(models[a], directions[a], **gates[a], hue_radius=hue_radius,
                                near_fraction=bar) for a in arms}
        out.append({"bar": bar, "matched": matched, "gates": gates,
                    "near_goal": {a: int(res[a]["near_goal"].sum()) for a in arms},
                    "black": {a: float(np.median(res[a]["gate_black"])) for a in arms},
                    "black_more": int((res[arms[1]]["gate_black"] > res[arms[0]]["gate_black"]).sum())})
    return out
