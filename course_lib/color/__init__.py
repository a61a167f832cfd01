"""Chapter 1 — colour embeddings: does a tiny autoencoder discover the colour wheel?

* :mod:`.spaces`  — RGB ↔ HSV (numpy or torch), named hues
* :mod:`.data`    — hue wheels, HSV grids, RGB cubes, the bottleneck data set with a held-out band
* :mod:`.model`   — the bottleneck autoencoder, its L2-normalising layer, and the stacked
  many-seed version of it (:class:`StackedColorAutoencoder`)
* :mod:`.trainer` — the family's one training loop (:func:`~.trainer.fit`: Adam, checkpoint
  callbacks), used by :mod:`.train` here and by Chapter 2's :mod:`course_lib.curriculum.train`
* :mod:`.train`   — Chapter 1's runs: the watched run with checkpoints (:class:`TrainingRun`,
  cached), the batched seed sweep (:class:`SweepHistory`), profiles
* :mod:`.metrics` — hue-order score, winding number, the held-out band's gap
* :mod:`.wheel_plots` — figures: colour spaces and the latent wheel as it forms (each returns a
  matplotlib Figure)
* :mod:`.exercises` — checkers for notebook 1.1's exercises (import it explicitly)
* :mod:`.training_exercises` — checkers for notebook 1.2's exercises (import it explicitly)
"""

from .data import (
    HELD_OUT_BAND,
    ColorData,
    bottleneck_dataset,
    hsv_grid,
    hue_wheel,
    in_band,
    probe_wheel,
    rgb_cube,
)
from .metrics import (
    arc_sweep,
    band_gap,
    transition_epoch,
    transition_epochs,
    transition_summary,
    format_transitions,
    wheel_report,
    hue_order_score,
    is_wheel,
    latent_angles,
    winding_number,
    wrap_angle,
)
from .model import ColorAutoencoder, L2Normalize, StackedColorAutoencoder
from .wheel_plots import (
    plot_hsv_cylinder,
    plot_hsv_slice,
    plot_hue_wheel,
    plot_latents,
    plot_rgb_cube,
    plot_training_frame,
)
from .spaces import HUE_NAMES, NAMED_HUES, hsv_to_rgb, rgb_to_hsv
from .train import (
    PROFILE_SETTINGS,
    SweepHistory,
    TrainingRun,
    cached_bottleneck,
    cached_training_sweep,
    default_checkpoints,
    training_sweep,
    settings,
    train_bottleneck,
)

__all__ = [
    "SweepHistory",
    "arc_sweep",
    "cached_training_sweep",
    "default_checkpoints",
    "training_sweep",
    "transition_epoch",
    "transition_epochs",
    "transition_summary",
    "format_transitions",
    "wheel_report",
    "HELD_OUT_BAND",
    "HUE_NAMES",
    "NAMED_HUES",
    "PROFILE_SETTINGS",
    "ColorAutoencoder",
    "ColorData",
    "L2Normalize",
    "StackedColorAutoencoder",
    "TrainingRun",
    "band_gap",
    "bottleneck_dataset",
    "cached_bottleneck",
    "hsv_grid",
    "hsv_to_rgb",
    "hue_order_score",
    "hue_wheel",
    "in_band",
    "is_wheel",
    "latent_angles",
    "plot_hsv_cylinder",
    "plot_hsv_slice",
    "plot_hue_wheel",
    "plot_latents",
    "plot_rgb_cube",
    "plot_training_frame",
    "probe_wheel",
    "rgb_cube",
    "rgb_to_hsv",
    "settings",
    "train_bottleneck",
    "winding_number",
    "wrap_angle",
]
