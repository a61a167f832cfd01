"""Chapter 2 — curriculum & anchoring: shape a latent space on purpose, then cut a concept out.

Notebooks 2.1–2.2 (curriculum and schedules):

* :mod:`.easings`      — easings (step, linear, cosine, minimum-jerk) and their derivatives
* :mod:`.schedules`    — the keyframe :class:`Dopesheet` and the retargetable :class:`Transition`
  (value, velocity and acceleration stay continuous)
* :mod:`.reactive`     — reactive phases (:class:`PlateauTrigger`, :class:`ThresholdTrigger`,
  :class:`ReactiveSchedule`)
* :mod:`.regularisers` — unitarity, planarity, separation, anchor and anti-anchor losses, and the
  soft labels redness and vibrancy
* :mod:`.crumpling`    — how crumpled a latent colour wheel is (total turning, Fenchel's theorem)
* :mod:`.data`         — the curriculum's data per phase (12 hues → 360 hues → widening values) and
  the phased schedule that drives it, reusing :mod:`course_lib.color.data`
* :mod:`.terms`        — named loss terms: :class:`StepInfo`, :func:`unitarity_term`,
  :func:`planarity_term`
* :mod:`.train`        — Chapter 2's scheduled-loss training of the colour autoencoders (notebooks
  2.1–2.5), built on Chapter 1's one loop (:func:`course_lib.color.trainer.fit`):
  :func:`train_run` (one model) and :func:`train_sweep` (many seeds at once, stacked weights) on
  data that may change with the step, on MSE + Σ scheduled weight × named loss term, with lr and
  weights from a dopesheet, a reactive schedule or constants; :func:`cached_run` /
  :func:`cached_sweep` through the course cache
* :mod:`.runs`         — what training leaves behind: :class:`CurriculumRun`,
  :class:`CurriculumSweep` (checkpoint protocol: ``checkpoint_steps``, ``model_at(step)``)
* :mod:`.experiments`  — notebooks 2.1 and 2.2's experiments (the seed sweeps of the curriculum
  and its three one-factor-away arms, fixed against reactive schedules), built on :mod:`.train` and :mod:`.data`
* :mod:`.curriculum_plots` — their figures (views of latents, schedules, easings, sweeps)
* :mod:`.exercises`    — the checkers of notebooks 2.1 and 2.2
* :mod:`.reactive_exercises` — notebook 2.2's checked prediction (the plateau and threshold rules)
* :mod:`.layout_exercises` — notebook 2.1's checked prediction (layout, roundness, own-plane crumpling)

Notebooks 2.3–2.5 (anchoring, muting and deleting red):

* :mod:`.anchoring`    — ``anchored_run(seed=0, profile=None)``, the cached 4-D anchored colour
  model (red pinned to (1, 0, 0, 0); ``encode``, ``decode``, ``anchor``, ``mute``, ``model_at``),
  :func:`anchored_sweep`, :func:`anchor_report`, :func:`hue_evenness` (notebook 2.3)
* :mod:`.anchor_control` — the unanchored control arm (same recipe, anchor weight 0), red's direction
  found after training, matched random directions, the attractor and muting measurements, and the
  gate's choice on held-out seeds (notebooks 2.3 and 2.4)
* :mod:`.intervention` — :func:`suppress` (the reference edit), :func:`gated_suppress` (mute red,
  spare orange), :func:`damage` (per-colour ΔMSE), :func:`alignment`, :func:`named_colours` (2.4)
* :mod:`.deletion`     — :func:`delete_dimension` (pruned), the anti-subspace term,
  :func:`recovery_step`, and the four-removal relearning study of notebook 2.5 (anchoring or
  routing + deletion, data filtering, unlearning: ``removal_study``), the routing keep-out sweep
  (``keep_out_study``) and matched-damage strata (``matched_damage``)
* :mod:`.routing`      — gradient routing: red's gradients reach only one latent dimension's
  parameters, the other colours' stop at it, optionally with a keep-out term (:func:`routed_sweep`,
  :func:`routed_sweeps`, notebook 2.5)
* :mod:`.deletion_exercises` — the checkers of notebook 2.5
* :mod:`.anchor_plots` — their figures
* :mod:`.anchoring_exercises` — the checkers of notebooks 2.3–2.4

Notebook 2.6 (the colour-mixing transformer):

* :mod:`.mixing`       — a tiny colour-mixing transformer (subtractive rule a ⊙ b) with an anchored
  red direction and its own trainer (``train_mixer``, cached as :func:`cached_mixer`;
  :func:`mixer_sweep` over seeds), muting and per-pair damage
* :mod:`.mixing_pooled` — the no-interaction baseline (pool the tokens, then read) and the error
  floor of any function of a + b
* :mod:`.mixing_layers` — red's direction layer by layer, post-hoc and random directions, edits
  compared at matched damage to red, median intervals over seeds
* :mod:`.mixing_plots` — its figures
* :mod:`.mixing_exercises` — its checkers
"""

from .anchoring import AnchoredRun, anchor_report, anchored_run, anchored_sweep, hue_evenness
from .deletion import away_from_subspace, delete_dimension, recovery_step
from .intervention import alignment, damage, gated_suppress, named_colours, suppress
from .crumpling import DEFAULT_THRESHOLD, crumpling, crumpling_report, total_turning
from .regularisers import (
    anchor_loss,
    anti_anchor,
    planarity,
    redness,
    separation,
    unitarity,
    vibrancy,
)
from .runs import CurriculumRun, CurriculumSweep
from .terms import StepInfo, planarity_term, unitarity_term
from .train import cached_run, cached_sweep, train_run, train_sweep
from .easings import EASINGS, cosine, get_easing, linear, minimum_jerk, step
from .schedules import Dopesheet, Keyframe, Transition
from .reactive import PlateauTrigger, ReactiveSchedule, ThresholdTrigger

__all__ = [
    "AnchoredRun",
    "alignment",
    "anchor_report",
    "anchored_run",
    "anchored_sweep",
    "away_from_subspace",
    "damage",
    "delete_dimension",
    "gated_suppress",
    "hue_evenness",
    "named_colours",
    "recovery_step",
    "suppress",
    "CurriculumRun",
    "CurriculumSweep",
    "StepInfo",
    "cached_run",
    "cached_sweep",
    "planarity_term",
    "train_run",
    "train_sweep",
    "unitarity_term",
    "DEFAULT_THRESHOLD",
    "EASINGS",
    "Dopesheet",
    "Keyframe",
    "PlateauTrigger",
    "ReactiveSchedule",
    "ThresholdTrigger",
    "Transition",
    "anchor_loss",
    "anti_anchor",
    "cosine",
    "crumpling",
    "crumpling_report",
    "get_easing",
    "linear",
    "minimum_jerk",
    "planarity",
    "redness",
    "separation",
    "step",
    "total_turning",
    "unitarity",
    "vibrancy",
]

# notebook 2.6: the colour-mixing transformer
from .mixing import MixingRun, MixingTransformer, cached_mixer, mix, mixer_sweep, pair_damage, suppressed_predict
from .mixing_pooled import PooledMixer, mean_pool_floor, pooled_sweep
from .mixing_layers import layer_comparison, matched_edit, red_layer_cosines

__all__ += ["MixingRun", "MixingTransformer", "cached_mixer", "mix", "mixer_sweep", "pair_damage",
            "suppressed_predict", "PooledMixer", "mean_pool_floor", "pooled_sweep", "layer_comparison",
            "matched_edit", "red_layer_cosines"]
