"""The seed's headline, measured: do Stable Diffusion's portraits of a first name look as old, and
as female, as the people who carry the name (notebook 3.2, GPU only)?

The pipeline, for about 40 names × 8 noise seeds:

1. **Names** (:func:`face_names`): for each decade 1920–2010 and each sex, the most-given names whose
   births peaked in that decade and that CLIP's tokenizer keeps as **one token** (so the name reaches
   the text encoder as one learnt vector, the unit a NameBasis is built from) — a rule, not a hand
   pick, spread over eras; and the era test's stratum (:func:`gap_names`): revival names whose living
   are decades younger than their era, each beside a name of the same sex and living age from one era.
2. **Portraits** (:func:`render_faces`): ``"a portrait photo of {name}"`` through
   :func:`~.faces.portraits`, one image per (name, seed), every name under the same seeds; plus the
   same prompt with "a person" in place of the name, the no-name control.
3. **Scores** (:func:`score_images`): CLIP ViT-L/14 zero-shot (Radford et al., 2021). With image and
   prompt embeddings normalised and ``s`` CLIP's learnt logit scale, the probabilities over prompts
   are ``softmax(s · cos(image, prompt))``. Over the age prompts "a photo of a {a}-year-old person",
   a ∈ :data:`AGE_GRID`, the **rendered age** is the expected age ``Σ_a p(a) · a``; over "a photo of
   a man" / "a photo of a woman", the **female probability** is the second one's.
4. **Statistics** (:func:`face_study`): per name, the mean over seeds, correlated (Pearson, 95 %
   percentile bootstrap over names) with what the birth records say (:func:`name_targets`): the
   **mean age of the living** with the name, and its **female share**. The **era test** asks whether
   the living age predicts the rendered age better than the era the name was given in, the age
   ``reference year − mean birth year`` that ignores deaths (see :class:`FaceStudy`: the paired
   difference of the two correlations and the two partial correlations, each with a bootstrap
   interval over names).

:func:`measure_faces` runs it all, cached; it needs a GPU (Stable Diffusion 1.5 and CLIP ViT-L/14 from
the model hub). Tests run the same code on :func:`~.faces.tiny_pipeline` and :func:`tiny_face_scorer`
(random weights, built from configs): their numbers are noise and are never reported.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from .. import cache, runtime
from ..encoders import ENCODERS, check_texts, encoder_source, quiet_transformers
from ..stats import format_rate, pearson
from ..validation import check_int, check_seed
from .faces import SD_MODEL, portraits, write_tiny_clip_tokenizer
from .names import FIRST_YEAR, LAST_YEAR, REFERENCE_YEAR, _tables, name_stats

__all__ = ["CLIP_MODEL", "AGE_GRID", "SEX_PROMPTS", "PORTRAIT_TEMPLATE", "CONTROL_NAME", "FaceScorer",
           "load_face_scorer", "tiny_face_scorer", "tiny_face_models", "age_prompts", "score_images",
           "single_token_names", "face_names", "gap_names", "FaceScores", "render_faces", "NameTargets", "name_targets",
           "Correlation", "partial_correlation", "FaceStudy", "face_study", "measure_faces"]

#: The hub id of the scorer: CLIP ViT-L/14, whose text tower is also Stable Diffusion 1.5's text encoder
#: (the ``"clip"`` back-end of :mod:`course_lib.encoders`).
CLIP_MODEL = ENCODERS["clip"][0]
#: The ages the age prompts name (years): the rendered age is an expectation over these.
AGE_GRID: tuple[int, ...] = tuple(range(5, 95, 5))
#: "man" first, "woman" second: the female probability is the second prompt's.
SEX_PROMPTS: tuple[str, str] = ("a photo of a man", "a photo of a woman")
#: The portrait prompt; ``{name}`` is the first name.
PORTRAIT_TEMPLATE = "a portrait photo of {name}"
#: What stands in for the name in the no-name control prompt.
CONTROL_NAME = "a person"
_VERSION = "faces-v2"


# --------------------------------------------------------------------------- the scorer
@dataclass
class FaceScorer:
    """A CLIP model (image and text towers) with its processor (image preprocessing + tokenizer)."""

    source: str
    model: Any = field(repr=False)
    processor: Any = field(repr=False)
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def tokenizer(self) -> Any:
        return self.processor.tokenizer


def load_face_scorer(path: str | Path | None = None, device: str | torch.device | None = None) -> FaceScorer:
    """CLIP ViT-L/14 from where :func:`~course_lib.encoders.encoder_source` finds the ``"clip"``
    back-end (its hub id, :data:`CLIP_MODEL`, unless a package ships the weights), or any CLIP saved at
    ``path`` (``save_pretrained`` layout of a ``CLIPModel`` and a ``CLIPProcessor``), as a
    :class:`FaceScorer`.

    From the hub it needs a GPU: on a machine without CUDA it refuses with a clear message instead
    of starting a 1.7 GB download (the portraits it scores need a GPU anyway)."""
    device = runtime.get_device() if device is None else torch.device(device)
    source = encoder_source("clip") if path is None else str(path)
    local = Path(source).is_dir()
    if not local and path is None and device.type != "cuda":
        raise RuntimeError("scoring portraits with CLIP ViT-L/14 needs a GPU (in Colab: Runtime → Change "
                           "runtime type → GPU); on a CPU use tiny_face_scorer() to run the same code at toy size")
    if path is not None and not Path(path).is_dir():
        raise FileNotFoundError(f"path {str(path)!r} is not a folder with a saved CLIP model and processor")
    transformers = quiet_transformers()
    model = transformers.CLIPModel.from_pretrained(source, local_files_only=local)
    processor = transformers.CLIPProcessor.from_pretrained(source, local_files_only=local)
    return FaceScorer(source=source, model=model.eval().to(device), processor=processor, device=device)


def tiny_face_scorer(folder: str | Path | None = None, words: Sequence[str] = (), seed: int = 0) -> FaceScorer:
    """A CLIP of the real classes at toy size with random weights (2-layer towers, 32 × 32 images),
    saved to ``folder`` and loaded back through :func:`load_face_scorer` — the hub's loading code,
    offline. ``words`` become single tokens of its tokenizer (see :func:`~.faces.write_tiny_clip_tokenizer`)."""
    transformers = quiet_transformers()
    runtime.seed_everything(check_seed(seed))
    folder = Path(tempfile.mkdtemp(prefix="tiny-clip-")) if folder is None else Path(folder)
    vocab = write_tiny_clip_tokenizer(folder / "vocab", words)
    tokenizer = transformers.CLIPTokenizer.from_pretrained(str(vocab), model_max_length=32)
    config = transformers.CLIPConfig(
        text_config=dict(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, max_position_embeddings=32, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id),
        vision_config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                           image_size=32, patch_size=8),
        projection_dim=16)
    images = transformers.CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    saved = folder / "clip"
    transformers.CLIPModel(config).save_pretrained(saved)
    transformers.CLIPProcessor(image_processor=images, tokenizer=tokenizer).save_pretrained(saved)
    return load_face_scorer(path=saved, device="cpu")


def tiny_face_models(names: Sequence[str], seed: int = 0,
                     folder: str | Path | None = None) -> tuple[Any, FaceScorer]:
    """The tiny Stable Diffusion pipeline (:func:`~.faces.tiny_pipeline`) and the tiny CLIP scorer
    (:func:`tiny_face_scorer`), both with every one of ``names`` a single token of their tokenizer:
    the study's whole code path at toy size on a CPU, in about a second. Random weights: what they
    measure is noise, never a result."""
    from .faces import tiny_pipeline

    names = check_texts(names, "names")
    seed = check_seed(seed)
    words = sorted({n.lower() for n in names})
    bad = [w for w in words if not w.isascii() or not w.isalpha() or len(w) < 2]
    if bad:
        raise ValueError(f"names must be ASCII letters, at least 2 each, got {bad[:3]}")
    folder = Path(tempfile.mkdtemp(prefix="tiny-faces-")) if folder is None else Path(folder)
    pipe = tiny_pipeline(seed=seed, folder=folder / "sd", words=words)
    return pipe, tiny_face_scorer(folder / "scorer", words=words, seed=seed)


def age_prompts(age_grid: Sequence[int] = AGE_GRID) -> list[str]:
    """``"a photo of a {a}-year-old person"`` for each age of the grid."""
    grid = _check_grid(age_grid)
    return [f"a photo of a {a}-year-old person" for a in grid]


def _check_grid(age_grid: Sequence[int]) -> list[int]:
    if isinstance(age_grid, (str, bytes)) or not isinstance(age_grid, (Sequence, np.ndarray)):
        raise TypeError("age_grid must be a sequence of ages, e.g. (5, 10, …, 90)")
    grid = [check_int(a, "age_grid entry", min=0, max=120) for a in age_grid]
    if len(grid) < 2 or len(set(grid)) != len(grid):
        raise ValueError(f"age_grid must hold at least 2 distinct ages, got {list(age_grid)}")
    return grid


@torch.no_grad()
def score_images(scorer: FaceScorer, images: Sequence[Any], age_grid: Sequence[int] = AGE_GRID,
                 batch_size: int = 16) -> dict[str, np.ndarray]:
    """CLIP zero-shot scores of PIL ``images``: ``{"age": (n,), "female": (n,), "age_probs": (n, grid)}``.

    ``age_probs`` is the softmax of CLIP's logits (``s · cos``) over the age prompts, ``age`` its
    expectation over ``age_grid``; ``female`` is the softmax weight of "a woman" against "a man"."""
    if not isinstance(scorer, FaceScorer):
        raise TypeError(f"scorer must be a FaceScorer (load_face_scorer / tiny_face_scorer), got {type(scorer).__name__}")
    images = list(images)
    if not images:
        raise ValueError("images must not be empty")
    grid = _check_grid(age_grid)
    check_int(batch_size, "batch_size", min=1)
    prompts = age_prompts(grid) + list(SEX_PROMPTS)
    text = scorer.processor(text=prompts, padding=True, return_tensors="pt")
    text = {k: v.to(scorer.device) for k, v in text.items() if k in ("input_ids", "attention_mask")}
    logits = []
    # On a CPU (the tiny scorer), one thread, as in portraits(): on a busy 2-core machine two threads
    # scored 10 toy images in 1.2 s, one thread in 0.04 s. A GPU scorer is left alone.
    on_cpu = torch.device(scorer.device).type == "cpu"
    with runtime.cpu_threads() if on_cpu else contextlib.nullcontext():
        for start in range(0, len(images), batch_size):
            pixels = scorer.processor(images=images[start:start + batch_size], return_tensors="pt")["pixel_values"]
            out = scorer.model(**text, pixel_values=pixels.to(scorer.device, scorer.model.dtype))
            logits.append(out.logits_per_image.float().cpu())   # s · cos(image, prompt), (batch, prompts)
    logits = torch.cat(logits)
    age_probs = torch.softmax(logits[:, :len(grid)], dim=1).numpy().astype(np.float64)
    female = torch.softmax(logits[:, len(grid):], dim=1)[:, 1].numpy().astype(np.float64)
    return {"age": age_probs @ np.asarray(grid, dtype=np.float64), "female": female, "age_probs": age_probs}


# --------------------------------------------------------------------------- which names
def single_token_names(tokenizer: Any, names: Sequence[str]) -> list[str]:
    """The ``names`` that ``tokenizer`` (CLIP's: lower-cased byte-level BPE) keeps as one token."""
    names = check_texts(names, "names")
    return [n for n in names if len(tokenizer(n, add_special_tokens=False)["input_ids"]) == 1]


def face_names(tokenizer: Any | None, per_group: int = 2, decades: Sequence[int] = tuple(range(1920, 2020, 10)),
               min_share: float = 0.9, pool: int = 40, extra: Sequence[str] = ("Vicki",)) -> list[str]:
    """The face basis: for each decade and each sex, the ``per_group`` most-given names whose births
    peaked in that decade, that ``min_share`` or more of the babies given it share one recorded sex, and
    that ``tokenizer`` keeps as one token — ``2 × per_group × len(decades)`` names (fewer where a group
    runs out among its ``pool`` most-given candidates), ordered by decade, then female before male;
    then the ``extra`` names (the seed's own example, Vicki) that are one token and not yet chosen.
    ``tokenizer=None`` skips the token check: the candidates before CLIP's tokenizer has its say."""
    per_group = check_int(per_group, "per_group", min=1)
    pool = check_int(pool, "pool", min=per_group)
    decades = [check_int(d, "decades entry", min=FIRST_YEAR, max=LAST_YEAR) for d in decades]
    if not decades:
        raise ValueError("decades must not be empty")
    if not (0.5 <= float(min_share) <= 1.0):
        raise ValueError(f"min_share must be in [0.5, 1], got {min_share!r}")
    display = _tables()["display"]
    by_decade = np.stack([_births_in(d) for d in decades], axis=1)
    peak, female = _peak_decade_and_female_share()
    chosen: list[str] = []
    for j, decade in enumerate(decades):
        for is_female in (True, False):
            share = female if is_female else 1 - female
            candidates = np.flatnonzero((peak == decade) & (share >= min_share))
            candidates = candidates[np.argsort(-by_decade[candidates, j], kind="stable")][:pool]
            names = [str(display[i]) for i in candidates]
            kept = single_token_names(tokenizer, names) if (names and tokenizer is not None) else names
            chosen += [n for n in kept if n not in chosen][:per_group]
    if isinstance(extra, str):
        raise TypeError("extra must be a sequence of names, not one string")
    if extra:
        extra = check_texts(extra, "extra") if tokenizer is None else single_token_names(tokenizer, extra)
        chosen += [n for n in extra if n not in chosen]
    if not chosen:
        raise ValueError("no name passed: the tokenizer keeps none of the candidates as one token")
    return chosen


def gap_names(tokenizer: Any | None, per_side: int = 10, pool: int = 400, min_share: float = 0.9,
              small_gap: float = 5.0, exclude: Sequence[str] = ()) -> list[str]:
    """The era test's stratum: names for which the two predictors part. Among the ``pool`` most-given
    names (all years, both sexes) that ``min_share`` or more of their babies share one recorded sex and
    that ``tokenizer`` keeps as one token (``None``: no token check), and not in ``exclude``: the
    ``per_side`` names with the **largest** gap between the era age and the living age (names revived
    after their first bearers died: the living are decades younger than the era says), then, for each
    of them in that order, the not yet chosen name of the same majority sex with a gap below
    ``small_gap`` years that is **nearest in living age** (a name given in one era only). So the two sides share living ages and
    differ in era: over them, living age and era part, which the era-spread names of
    :func:`face_names` hardly do. Returns the large-gap names that found a partner, then their partners
    in the same order (fewer than ``per_side`` pairs where the candidates run out; none for a tokenizer
    that keeps no candidate as one token)."""
    per_side = check_int(per_side, "per_side", min=1)
    pool = check_int(pool, "pool", min=2 * per_side)
    if not (0.5 <= float(min_share) <= 1.0):
        raise ValueError(f"min_share must be in [0.5, 1], got {min_share!r}")
    if not (np.isfinite(small_gap) and small_gap > 0):
        raise ValueError(f"small_gap must be a positive number of years, got {small_gap!r}")
    if isinstance(exclude, str):
        raise TypeError("exclude must be a sequence of names, not one string")
    tables = _tables()
    counts = tables["counts"]
    _, female = _peak_decade_and_female_share()
    order = np.argsort(-counts.sum(axis=(1, 2)), kind="stable")[:pool]
    skip = {str(n).strip().lower() for n in exclude}
    names = [str(tables["display"][i]) for i in order
             if max(female[i], 1 - female[i]) >= min_share and str(tables["display"][i]).lower() not in skip]
    if tokenizer is not None and names:
        names = single_token_names(tokenizer, names)
    if len(names) < 2:
        return []
    targets = name_targets(names)
    gap, living = targets.gap, targets.living_age
    is_female = targets.female_share > 0.5
    large = [int(i) for i in np.argsort(-gap, kind="stable")[:per_side]]
    small_pool = [int(i) for i in np.flatnonzero(np.abs(gap) < small_gap) if i not in large]
    pairs: list[tuple[int, int]] = []
    for i in large:
        left = [j for j in small_pool if j not in {b for _, b in pairs} and is_female[j] == is_female[i]]
        if left:
            pairs.append((i, min(left, key=lambda j: (abs(living[j] - living[i]), j))))
    return [names[i] for i, _ in pairs] + [names[j] for _, j in pairs]


@functools.lru_cache(maxsize=None)
def _births_in(start: int) -> np.ndarray:
    """Births per name in the ten years from ``start`` (both sexes); computed once per process."""
    years = np.arange(FIRST_YEAR, LAST_YEAR + 1)
    return _tables()["counts"][:, (years >= start) & (years < start + 10)].sum(axis=(1, 2))


@functools.lru_cache(maxsize=1)
def _peak_decade_and_female_share() -> tuple[np.ndarray, np.ndarray]:
    """Per name: the calendar decade (1880, 1890, …) with the most births, and the female share."""
    counts = _tables()["counts"]
    starts = np.arange(FIRST_YEAR - FIRST_YEAR % 10, LAST_YEAR + 1, 10)
    peak = starts[np.argmax(np.stack([_births_in(int(d)) for d in starts], axis=1), axis=1)]
    female = counts[:, :, 0].sum(axis=1) / np.maximum(counts.sum(axis=(1, 2)), 1)
    return peak, female


# --------------------------------------------------------------------------- portraits → scores
@dataclass(frozen=True)
class FaceScores:
    """CLIP's scores of every (name, seed) portrait, and of the no-name control under the same seeds."""

    names: tuple[str, ...]
    seeds: tuple[int, ...]
    age: np.ndarray              #: (names, seeds) rendered age, years
    female: np.ndarray           #: (names, seeds) P("a woman")
    age_probs: np.ndarray        #: (names, seeds, grid)
    control_age: np.ndarray      #: (seeds,) the same scores for "a portrait photo of a person"
    control_female: np.ndarray   #: (seeds,)
    age_grid: tuple[int, ...]
    template: str
    settings: dict = field(default_factory=dict)   #: steps, guidance, size, the models' sources

    def __post_init__(self) -> None:
        n, s = len(self.names), len(self.seeds)
        for label, value, shape in (("age", self.age, (n, s)), ("female", self.female, (n, s)),
                                    ("age_probs", self.age_probs, (n, s, len(self.age_grid))),
                                    ("control_age", self.control_age, (s,)),
                                    ("control_female", self.control_female, (s,))):
            if np.shape(value) != shape:
                raise ValueError(f"{label} must have shape {shape}, got {np.shape(value)}")


def render_faces(pipe: Any, scorer: FaceScorer, names: Sequence[str], seeds: Sequence[int] = tuple(range(8)),
                 template: str = PORTRAIT_TEMPLATE, steps: int = 25, guidance: float = 7.5,
                 size: int | None = None, age_grid: Sequence[int] = AGE_GRID,
                 keep_images: bool = False) -> tuple[FaceScores, dict[str, list[Any]]]:
    """Render ``template`` for every name under every seed (and once per seed with :data:`CONTROL_NAME`),
    score every portrait with ``scorer``. Returns the :class:`FaceScores` and, when ``keep_images``,
    the images of the first seed by prompt name (for a figure); else an empty dict."""
    names = check_texts(names, "names")
    if len(set(names)) != len(names):
        raise ValueError("names must not repeat")
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, (Sequence, np.ndarray, range)):
        raise TypeError("seeds must be a sequence of integers, e.g. range(8)")
    seeds = tuple(check_seed(s, "seeds entry") for s in seeds)
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError("seeds must be non-empty and distinct")
    if not isinstance(template, str) or "{name}" not in template:
        raise ValueError(f"template must be a string containing '{{name}}', got {template!r}")
    grid = _check_grid(age_grid)
    prompts = [template.format(name=n) for n in names] + [template.format(name=CONTROL_NAME)]
    age = np.zeros((len(prompts), len(seeds)))
    female = np.zeros_like(age)
    probs = np.zeros((len(prompts), len(seeds), len(grid)))
    kept: dict[str, list[Any]] = {}
    for j, seed in enumerate(seeds):
        images = portraits(pipe, prompts, seed=seed, steps=steps, guidance=guidance, size=size)
        scores = score_images(scorer, images, grid)
        age[:, j], female[:, j], probs[:, j] = scores["age"], scores["female"], scores["age_probs"]
        if keep_images and j == 0:
            kept = {label: [im] for label, im in zip(names + [CONTROL_NAME], images)}
    settings = {"steps": steps, "guidance": guidance, "size": size,
                "pipeline": str(getattr(pipe, "name_or_path", "") or type(pipe).__name__), "scorer": scorer.source}
    scores = FaceScores(names=tuple(names), seeds=seeds, age=age[:-1], female=female[:-1], age_probs=probs[:-1],
                        control_age=age[-1], control_female=female[-1], age_grid=tuple(grid), template=template,
                        settings=settings)
    return scores, kept


# --------------------------------------------------------------------------- what the records say
@dataclass(frozen=True)
class NameTargets:
    """What the SSA records say about each name, aligned with :attr:`FaceScores.names`."""

    names: tuple[str, ...]
    living_age: np.ndarray       #: mean age of the people alive with the name in ``reference_year``
    era_age: np.ndarray          #: ``reference_year − mean birth year`` (the age if nobody had died)
    female_share: np.ndarray     #: share of the babies given the name recorded female
    reference_year: int = REFERENCE_YEAR

    def __post_init__(self) -> None:
        n = len(self.names)
        for label in ("living_age", "era_age", "female_share"):
            value = np.asarray(getattr(self, label), dtype=np.float64)
            if value.shape != (n,) or not np.isfinite(value).all():
                raise ValueError(f"{label} must be finite with shape ({n},), got shape {value.shape}")
            object.__setattr__(self, label, value)

    @property
    def gap(self) -> np.ndarray:
        """``era_age − living_age``: how much younger the living are than the era says (deaths)."""
        return self.era_age - self.living_age

    def table(self, rows: int | None = None) -> str:
        """The names with their records, as text; ``rows`` keeps the names with the widest gap."""
        order = np.arange(len(self.names)) if rows is None else np.argsort(-self.gap, kind="stable")[
            :check_int(rows, "rows", min=1)]
        lines = [f"{'name':<12}{'female share':>13}{'living age':>12}{f'{self.reference_year} − birth year':>22}"]
        lines += [f"{self.names[i]:<12}{self.female_share[i]:>13.2f}{self.living_age[i]:>12.1f}{self.era_age[i]:>22.1f}"
                  for i in order]
        return "\n".join(lines)


def name_targets(names: Sequence[str], reference_year: int = REFERENCE_YEAR) -> NameTargets:
    """:class:`NameTargets` from :func:`~.names.name_stats`: the mean age of the living is
    ``Σ_a a · alive(a) / Σ_a alive(a)`` over the cohort-life-table estimate of the living."""
    names = check_texts(names, "names")
    stats = [name_stats(n, reference_year) for n in names]
    living = [float((s.ages * s.alive_by_age).sum() / s.alive_by_age.sum()) for s in stats]
    return NameTargets(names=tuple(names), living_age=np.asarray(living),
                       era_age=np.asarray([s.reference_year - s.mean_birth_year for s in stats]),
                       female_share=np.asarray([s.female_fraction for s in stats]),
                       reference_year=stats[0].reference_year)


# --------------------------------------------------------------------------- statistics
@dataclass(frozen=True)
class Correlation:
    """A Pearson correlation over names with its 95 % percentile bootstrap interval (names resampled)."""

    r: float
    low: float
    high: float
    n: int

    def __str__(self) -> str:
        return f"r = {self.r:+.2f} (95% CI {self.low:+.2f} to {self.high:+.2f}, n = {self.n} names)"


def partial_correlation(y: object, x: object, z: object) -> float:
    """``r(y, x | z)``: the Pearson correlation of what is left of ``y`` and of ``x`` after each is
    regressed (least squares, with an intercept) on ``z`` — what ``x`` says about ``y`` that ``z``
    does not. Equal to ``(r_yx − r_yz r_xz) / √((1 − r_yz²)(1 − r_xz²))``; NaN when ``x`` or ``y`` is
    an exact linear function of ``z`` (nothing is left to correlate)."""
    y, x, z = (np.asarray(v, dtype=np.float64) for v in (y, x, z))
    if not (y.ndim == x.ndim == z.ndim == 1) or not (len(y) == len(x) == len(z)) or len(y) < 3:
        raise ValueError(f"y, x and z must be 1-D of the same length ≥ 3, got {y.shape}, {x.shape}, {z.shape}")
    if not (np.isfinite(y).all() and np.isfinite(x).all() and np.isfinite(z).all()):
        raise ValueError("y, x and z must be finite")
    y, x, z = y - y.mean(), x - x.mean(), z - z.mean()
    zz = float(z @ z)
    left = [v - (float(v @ z) / zz) * z if zz > 0 else v for v in (y, x)]
    if any(np.abs(r).max() <= 1e-9 * max(np.abs(v).max(), 1e-300) for r, v in zip(left, (y, x))):
        return float("nan")
    return pearson(left[0], left[1])


def _bootstrap(y: np.ndarray, pred: np.ndarray, metric: Any, draws: int, seed: int,
               confidence: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of ``metric(y, pred)``, names resampled with replacement (the
    resamples of :func:`~.probes.bootstrap_interval`, so seeds pair across statistics). A resample
    where the metric is undefined (NaN: e.g. every draw the same name, possible with a handful of
    names) is left out; when more than half are undefined the interval is (NaN, NaN)."""
    rng = np.random.default_rng(seed)
    n = len(y)
    values = np.array([metric(y[idx], pred[idx]) for idx in (rng.integers(0, n, n) for _ in range(draws))])
    kept = values[np.isfinite(values)]
    if len(kept) < draws / 2:
        return float("nan"), float("nan")
    lo, hi = np.quantile(kept, [(1 - confidence) / 2, (1 + confidence) / 2])
    return float(lo), float(hi)


def _correlation(y: np.ndarray, x: np.ndarray, draws: int, seed: int) -> Correlation:
    low, high = _bootstrap(y, x, metric=pearson, draws=draws, seed=seed)
    return Correlation(pearson(y, x), low, high, len(y))


def _gap(y: np.ndarray, both: np.ndarray) -> float:
    return pearson(y, both[:, 0]) - pearson(y, both[:, 1])


def _partial_living(y: np.ndarray, both: np.ndarray) -> float:
    return partial_correlation(y, both[:, 0], both[:, 1])


def _partial_era(y: np.ndarray, both: np.ndarray) -> float:
    return partial_correlation(y, both[:, 1], both[:, 0])


def _paired(y: np.ndarray, both: np.ndarray, metric: Any, draws: int, seed: int) -> Correlation:
    """``metric(y, both)`` with its percentile interval over the same name resamples as the era gap's."""
    low, high = _bootstrap(y, both, metric=metric, draws=draws, seed=seed)
    return Correlation(metric(y, both), low, high, len(y))


@dataclass(frozen=True)
class FaceStudy:
    """The measurement: rendered age and sex per name against the birth records.

    **The era test.** Over names, R is the rendered age (mean over seeds), L the mean age of the
    living with the name, E = reference year − mean birth year (a linear function of the mean birth
    year, so r(R, E) = −r(R, mean birth year)). Both predictors are ages; they differ by the deaths.
    The era test runs over every name, the era-spread names and the :func:`gap_names` stratum, whose
    living age and era part (over the era-spread names alone they correlate above 0.9); the other
    correlations use the era-spread names only (:attr:`main`). Three numbers, each with a 95 %
    percentile bootstrap interval over names, every one computed on the same resamples (paired):

    * ``era_gap``: Δ = r(R, L) − r(R, E), which predictor tracks the renderings more closely;
    * ``partial_living``: r(R, L | E), what the living age says about R beyond the birth year;
    * ``partial_era``: r(R, E | L), what the birth year says about R beyond the living age.

    The verdict (:attr:`era_verdict`): ``"living age"`` when Δ's interval and r(R, L | E)'s both lie
    above 0; ``"birth year"`` when Δ's lies below 0 and r(R, E | L)'s above 0; else
    ``"undecided"`` (these names cannot tell the two apart — likely, since L and E correlate above
    0.9 over them).
    """

    scores: FaceScores
    targets: NameTargets
    age_living: Correlation      #: rendered age ~ mean age of the living
    age_era: Correlation         #: rendered age ~ reference year − mean birth year
    era_gap: tuple[float, float, float]   #: r(living) − r(era), 95 % paired bootstrap interval
    sex: Correlation             #: female probability ~ female share
    sex_matched: int             #: names whose mean female probability is on their majority sex's side of ½
    partial_living: Correlation  #: r(rendered age, living age | era age)
    partial_era: Correlation     #: r(rendered age, era age | living age)
    #: Which names the main correlations (``age_living``, ``age_era``, ``sex``, ``sex_matched``) use: the
    #: era-spread names of :func:`face_names`; the era test uses every name (with :func:`gap_names`).
    main: np.ndarray | None = None
    living_era_r: float = float("nan")   #: r(living age, era age) over the era test's names

    @property
    def main_mask(self) -> np.ndarray:
        """Boolean per name: in the main correlations (all names when :attr:`main` is None)."""
        n = len(self.scores.names)
        return np.ones(n, dtype=bool) if self.main is None else np.asarray(self.main, dtype=bool)

    @property
    def rendered_age(self) -> np.ndarray:
        """(names,) the rendered age, mean over seeds."""
        return self.scores.age.mean(axis=1)

    @property
    def rendered_female(self) -> np.ndarray:
        return self.scores.female.mean(axis=1)

    @property
    def era_verdict(self) -> str:
        """``"living age"``, ``"birth year"`` or ``"undecided"``: the rule in the class docstring."""
        if self.era_gap[1] > 0 and self.partial_living.low > 0:
            return "living age"
        if self.era_gap[2] < 0 and self.partial_era.low > 0:
            return "birth year"
        return "undecided"

    @property
    def living_beats_era(self) -> bool:
        """The era test's verdict is the living age."""
        return self.era_verdict == "living age"

    @staticmethod
    def _short(c: Correlation) -> str:
        return f"{c.r:+.2f} (95% CI {c.low:+.2f} to {c.high:+.2f})"

    def __str__(self) -> str:
        s, n = self.scores, len(self.scores.names)
        gap, lo, hi = self.era_gap
        n_main = int(self.main_mask.sum())
        return "\n".join([
            f"{n} names × {len(s.seeds)} seeds, prompt {s.template!r}; {n_main} era-spread names in the"
            f" correlations, all {n} in the era test (r(living age, era age) = {self.living_era_r:.2f} over them)",
            f"rendered age ~ mean age of the living:     {self.age_living}",
            f"rendered age ~ {self.targets.reference_year} − mean birth year:   {self.age_era}",
            f"era test, r(living) − r(birth year):       {gap:+.2f} (95% CI {lo:+.2f} to {hi:+.2f})",
            f"  partial r(rendered, living | birth year): {self._short(self.partial_living)}",
            f"  partial r(rendered, birth year | living): {self._short(self.partial_era)}",
            f"  verdict: {self.era_verdict}",
            f"P(woman) ~ female share:                   {self.sex}",
            f"names rendered as their majority sex:      {format_rate(self.sex_matched, n_main)}",
            f"no-name control ('{s.template.format(name=CONTROL_NAME)}'): age {s.control_age.mean():.0f}, "
            f"P(woman) {s.control_female.mean():.2f}; names: age {self.rendered_age.mean():.0f}, "
            f"P(woman) {self.rendered_female.mean():.2f}",
        ])


def face_study(scores: FaceScores, targets: NameTargets, draws: int = 2000, seed: int = 0,
               main: Sequence[bool] | np.ndarray | None = None) -> FaceStudy:
    """Correlate the per-name means of ``scores`` with ``targets`` (the same names, in order), each
    with a percentile bootstrap over names; the era test (see :class:`FaceStudy`) computes its
    difference and both partial correlations on the same resamples (paired), over every name.
    ``main``: a boolean per name, the names of the other correlations (default: all). Needs at least
    5 names in each."""
    if not isinstance(scores, FaceScores) or not isinstance(targets, NameTargets):
        raise TypeError("scores must be a FaceScores and targets a NameTargets")
    if tuple(scores.names) != tuple(targets.names):
        raise ValueError("scores and targets must list the same names in the same order")
    if len(scores.names) < 5:
        raise ValueError(f"a correlation over names needs at least 5 names, got {len(scores.names)}")
    draws = check_int(draws, "draws", min=100)
    seed = check_seed(seed)
    n = len(scores.names)
    if main is None:
        keep = np.ones(n, dtype=bool)
    else:
        keep = np.asarray(main)
        if keep.shape != (n,) or keep.dtype != bool:
            raise ValueError(f"main must be a boolean per name ({n}), got shape {keep.shape} {keep.dtype}")
        if keep.sum() < 5:
            raise ValueError(f"main must keep at least 5 names, got {int(keep.sum())}")
    age, female = scores.age.mean(axis=1), scores.female.mean(axis=1)
    both = np.stack([targets.living_age, targets.era_age], axis=1)
    low, high = _bootstrap(age, both, metric=_gap, draws=draws, seed=seed)
    a, f, share = age[keep], female[keep], targets.female_share[keep]
    matched = int(((f > 0.5) == (share > 0.5)).sum())
    return FaceStudy(scores=scores, targets=targets,
                     age_living=_correlation(a, targets.living_age[keep], draws, seed),
                     age_era=_correlation(a, targets.era_age[keep], draws, seed),
                     era_gap=(_gap(age, both), low, high),
                     sex=_correlation(f, share, draws, seed), sex_matched=matched,
                     partial_living=_paired(age, both, _partial_living, draws, seed),
                     partial_era=_paired(age, both, _partial_era, draws, seed),
                     main=None if main is None else keep,
                     living_era_r=pearson(targets.living_age, targets.era_age))


def measure_faces(seeds: int = 8, per_group: int = 2, steps: int = 25, pipe: Any = None,
                  scorer: FaceScorer | None = None, size: int | None = None,
                  use_cache: bool = True, draws: int = 2000,
                  decades: Sequence[int] = tuple(range(1920, 2020, 10)), gap_per_side: int = 10,
                  gap_pool: int = 400) -> FaceStudy:
    """The whole measurement: :func:`face_names` (by Stable Diffusion's tokenizer, CLIP ViT-L/14's),
    ``seeds`` portraits each (:func:`render_faces`), :func:`face_study`. With no ``pipe``/``scorer`` it
    loads Stable Diffusion 1.5 and CLIP ViT-L/14 from the hub, which needs a GPU (about 6 GB to
    download; about 62 prompts × 8 seeds ≈ 500 portraits of 25 steps: about 7 minutes on a recent GPU,
    45 on Colab's T4); the scores are then cached, so a rerun is instant. Given ``pipe`` and ``scorer``
    (e.g. :func:`tiny_face_models`) nothing is cached. ``draws``: bootstrap resamples of the statistics;
    ``decades``: the eras the names are drawn from (:func:`face_names`); ``gap_per_side`` and
    ``gap_pool``: the era test's stratum (:func:`gap_names`; ``gap_per_side=0``: none), rendered and
    scored like the rest (20 more names)."""
    seeds = check_int(seeds, "seeds", min=1)
    draws = check_int(draws, "draws", min=100)
    per_group = check_int(per_group, "per_group", min=1)
    gap_per_side = check_int(gap_per_side, "gap_per_side", min=0)
    gap_pool = check_int(gap_pool, "gap_pool", min=2 * max(gap_per_side, 1))
    if (pipe is None) != (scorer is None):
        raise ValueError("give both pipe and scorer (e.g. the tiny ones), or neither (the real models)")
    if isinstance(decades, (str, bytes)) or not isinstance(decades, (Sequence, np.ndarray, range)):
        raise TypeError("decades must be a sequence of years, e.g. range(1920, 2020, 10)")
    decades = tuple(check_int(d, "decades entry", min=FIRST_YEAR, max=LAST_YEAR) for d in decades)
    real = pipe is None and scorer is None
    config = {"version": _VERSION, "seeds": seeds, "per_group": per_group, "steps": steps, "size": size,
              "pipeline": SD_MODEL, "scorer": CLIP_MODEL, "template": PORTRAIT_TEMPLATE, "grid": list(AGE_GRID),
              "decades": list(decades), "gap_per_side": gap_per_side, "gap_pool": gap_pool}

    def compute() -> FaceScores:
        nonlocal pipe, scorer
        if pipe is None:
            from .faces import load_portrait_pipeline
            pipe = load_portrait_pipeline()
        if scorer is None:
            scorer = load_face_scorer()
        # the tokenizer that reads the prompt
        names = face_names(pipe.tokenizer, per_group=per_group, decades=decades)
        spread = len(names)                 # the first names are the era-spread ones
        if gap_per_side:
            names += gap_names(pipe.tokenizer, per_side=gap_per_side, pool=gap_pool, exclude=names)
        scores = render_faces(pipe, scorer, names, seeds=range(seeds), steps=steps, size=size)[0]
        return dataclasses.replace(scores, settings={**scores.settings, "era_spread": spread})

    scores = cache.cached("face-scores", config, compute) if (real and use_cache) else compute()
    main = np.arange(len(scores.names)) < int(scores.settings.get("era_spread", len(scores.names)))
    return face_study(scores, name_targets(scores.names), draws=draws, main=main)
