"""An output lens: a direction read off the model's own vocabulary instead of fitted on labels (4.2).

BERT-style encoders score a masked word ``w`` by ``⟨T(h), e_w⟩ + b_w``: the decoder of the
masked-language head is tied to the token-embedding table ``E`` (rows ``e_w``), after a small
transform ``T`` (dense, GELU, LayerNorm). The "logit lens" reads an intermediate layer through that
decoder. The sentence-transformers MiniLM ships without ``T``'s weights, so here the unembedding is
``E`` alone, and a lens asks how much more a sentence's hidden state would score the words of one
emotion than another's:

    lens(h) = ⟨h, ē_pos − ē_neg⟩ / ‖ē_pos − ē_neg‖,   ē = mean of the emotion's word rows of E.

That is a concept lens whose direction comes from the model's vocabulary — **no labelled sentence
enters it**. The words (:data:`OUTPUT_WORDS`) are single tokens that occur in no sentence of the set
(checked), so a high score is not "the sentence contains this word".

* :func:`unembedding_rows`   — the mean row of ``E`` for each emotion's words (cached).
* :func:`output_lens`        — the lens above for one pair of emotions.
* :func:`output_lens_grid`   — the output lens against k-means over layers and covers (a grid, not
  one lucky setting).
* :func:`random_word_sets`   — word sets shaped like :data:`OUTPUT_WORDS` but drawn at random from
  the vocabulary (the same frequency band): the output lens's control.
* :func:`lens_null`          — Mapper's purities under many random 2-D lenses and random-word
  lenses on the output lens's cover: where the output lens ranks among lenses that know nothing.
* :func:`lens_null_table`    — :func:`lens_null` at several layers, with the output lens's own rank
  against each family (layer 0, the embedding table, is the lexical baseline).
* :func:`lens_comparison`    — at one layer: PCA 1, the 2-D output lens and the 2-D concept lens
  fitted on labelled sentences, each with purity, coverage, cross-situation purity, and k-means at
  the graph's mean node size on the same covered sentences as the control.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Mapping, Sequence

import numpy as np

from .. import runtime
from ..cache import cached
from .lenses import concept_direction, concept_lens, pca_lens, stack_lenses
from .measures import covered_points, cross_situation_purity, graph_purity, node_members
from .sentences import SentenceSet
from ..validation import check_int

__all__ = ["OUTPUT_WORDS", "PAIRS", "OUTPUT_COVERS", "LENS_NULL_DRAWS", "text_encoder", "unembedding_rows",
           "words_in_sentences", "output_lens", "output_lens_2d", "random_word_sets", "lens_null", "lens_null_table",
           "lens_comparison",
           "output_lens_grid"]

#: Emotion words no sentence of the set uses (single WordPiece tokens of MiniLM's vocabulary).
OUTPUT_WORDS = {
    "joy": ("joy", "cheerful", "happiness", "cheer", "pleased"),
    "anger": ("anger", "rage", "mad", "irritated", "fury"),
    "fear": ("fear", "panic", "dread", "nervous", "worried"),
    "sadness": ("sadness", "sorrow", "grief", "unhappy", "despair"),
}

#: The two directions stacked into a 2-D cover, as for 4.2's fitted concept lens.
PAIRS = (("joy", "sadness"), ("fear", "anger"))

#: (n_cubes per axis, DBSCAN scale) of :func:`output_lens_grid`; overlap 50 %. The first is 4.2's recipe.
OUTPUT_COVERS = ((10, 0.45), (6, 0.45), (10, 0.5), (15, 0.45))


@lru_cache(maxsize=2)
def text_encoder(encoder: str = "minilm") -> Any:
    """The encoder, loaded once per session (the output lens and the token graph both need it, and only
    when their cache is cold)."""
    from ..encoders import load_text_encoder

    return load_text_encoder(encoder)


def _check_words(words: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    if not isinstance(words, Mapping) or not words:
        raise ValueError("words must be a non-empty dict emotion → list of words")
    out = {}
    for emotion, ws in words.items():
        ws = tuple(ws)
        if not ws or not all(isinstance(w, str) and w.strip() for w in ws):
            raise ValueError(f"words[{emotion!r}] must be a non-empty list of words, got {ws!r}")
        out[str(emotion)] = ws
    return out


def unembedding_rows(words: Mapping[str, Sequence[str]] = OUTPUT_WORDS,
                     encoder: str = "minilm") -> dict[str, np.ndarray]:
    """``emotion → (dim,)``: the mean token-embedding row (the tied unembedding) of its ``words``.
    Every word must be one token of the encoder's vocabulary (else ``ValueError``)."""
    words = _check_words(words)

    def compute() -> dict:
        model = text_encoder(encoder)
        table = model.model.get_input_embeddings().weight.detach().float().cpu().numpy()
        rows = {}
        for emotion, ws in words.items():
            ids = []
            for w in ws:
                pieces = model.tokenizer(w, add_special_tokens=False)["input_ids"]
                if len(pieces) != 1:
                    raise ValueError(f"{w!r} is {len(pieces)} tokens of {encoder}'s vocabulary, not one")
                ids.append(pieces[0])
            rows[emotion] = table[ids].mean(axis=0)
        return rows

    return cached("unembedding-rows", {"encoder": encoder, "words": {k: list(v) for k, v in words.items()}},
                  compute)


def _sentence_words(sentences: SentenceSet) -> set[str]:
    """Every lower-case word of every sentence."""
    return {w for text in sentences.text for w in re.findall(r"[a-z]+", str(text).lower())}


def _random_plane(points: np.ndarray, seed: int) -> np.ndarray:
    """``points`` projected on two orthonormal Gaussian random directions (a lens that knows nothing)."""
    q = np.linalg.qr(np.random.default_rng(seed).normal(size=(points.shape[1], 2)))[0]
    return points @ q


def words_in_sentences(words: Mapping[str, Sequence[str]], sentences: SentenceSet) -> list[str]:
    """The words of ``words`` that occur in some sentence (should be none)."""
    seen = _sentence_words(sentences)
    return sorted(w for ws in _check_words(words).values() for w in ws if w.lower() in seen)


def output_lens(points: Any, rows: Mapping[str, np.ndarray], positive: str, negative: str) -> np.ndarray:
    """Each point's coordinate along ``rows[positive] − rows[negative]`` (unit length): how much more
    its hidden state scores ``positive``'s words than ``negative``'s through the unembedding."""
    for name, value in (("positive", positive), ("negative", negative)):
        if value not in rows:
            raise ValueError(f"{name} emotion {value!r} has no row; rows has {sorted(rows)}")
    if positive == negative:
        raise ValueError("positive and negative must be different emotions")
    return concept_lens(points, np.asarray(rows[positive]) - np.asarray(rows[negative]))


def output_lens_2d(points: Any, rows: Mapping[str, np.ndarray]) -> np.ndarray:
    """The 2-D output lens: :func:`output_lens` along each pair of :data:`PAIRS`, one axis each."""
    return stack_lenses(*(output_lens(points, rows, a, b) for a, b in PAIRS))


def _mapper_scores(graph: Any, labels: np.ndarray, situations: Sequence[frozenset]) -> dict[str, Any]:
    """A graph's ``nodes``, ``coverage``, ``purity`` and ``mapper_cross`` (cross-situation purity)."""
    pure = graph_purity(graph, labels)
    return dict(nodes=graph.number_of_nodes(), coverage=pure.coverage, purity=pure.purity,
                mapper_cross=cross_situation_purity(list(node_members(graph).values()), labels,
                                                    situations).share)


def _row(name: str, graph: Any, points: np.ndarray, labels: np.ndarray, situations: Sequence[frozenset],
         seed: int, kmeans_seeds: Sequence[int] = ()) -> dict[str, Any]:
    from .study import kmeans_groups, matched_k, seed_spread

    pure = graph_purity(graph, labels)
    covered = covered_points(graph)
    nodes = list(node_members(graph).values())
    k = matched_k(graph)

    def kmeans_cross(s: int) -> Any:   # kmeans_groups is remembered: seeds shared across tables
        groups = [covered[g] for g in kmeans_groups(points[covered], k, s)]
        return cross_situation_purity(groups, labels, situations)

    mapper = cross_situation_purity(nodes, labels, situations)
    row = dict(lens=name, nodes=graph.number_of_nodes(), coverage=pure.coverage, purity=pure.purity,
               mapper_cross=mapper.share, kmeans_cross=kmeans_cross(seed).share,
               cross_chance=cross_situation_purity([covered], labels, situations).share, k_matched=k)
    if kmeans_seeds:
        row.update(seed_spread(mapper, [kmeans_cross(s) for s in kmeans_seeds]))
    return row
#: Random 2-D lenses per profile, and whether their k-means rows get the seeds too (time).
LENS_RANDOM = {"quick": (2, False), "standard": (3, True), "full": (5, True)}


@runtime.one_thread_for_small_fits()
def lens_comparison(acts: Any, layer: int, *, seed: int = 0,
                    words: Mapping[str, Sequence[str]] = OUTPUT_WORDS, n_random: int | None = None,
                    profile: str | None = None) -> list[dict[str, Any]]:
    """Lenses of layer ``layer`` under 4.2's recipe (:func:`~.study.recipe_graph`): ``PCA 1``
    (no labels), ``output 2-D`` (:data:`PAIRS` read through the unembedding: no labelled sentence),
    ``concept 2-D`` (the same pairs fitted on the labels of the single-emotion sentences), and two
    label-free controls on the same 2-D cover: ``PCA 2-D`` and ``n_random`` ``random 2-D`` lenses
    (orthonormal random directions, seeds 0, 1, …; ``None``: :data:`LENS_RANDOM`'s count). Each row: nodes, coverage, purity,
    cross-situation purity of Mapper's nodes and of k-means at the graph's mean node size on the same
    covered sentences (seed ``seed``; over :func:`~.study.kmeans_seeds` of the profile, the columns of
    :func:`~.study.seed_spread` for the three weightings), and chance."""
    from .study import kmeans_seeds as profile_seeds
    from .study import recipe_graph, situation_sets

    check_int(layer, "layer", min=0, max=acts.n_layers)
    n_default, random_seeds = runtime.by_profile(LENS_RANDOM, profile)
    n_random = n_default if n_random is None else check_int(n_random, "n_random", min=0)
    s = acts.sentences
    used = words_in_sentences(words, s)
    if used:
        raise ValueError(f"the output lens's words must occur in no sentence; these do: {used}")
    points = acts.layer(layer)
    labels = np.asarray(s.emotion)
    situations = situation_sets(s)
    rows = unembedding_rows(words)
    fit = np.asarray(s.kind) != "mixed"
    centred = points - points.mean(axis=0)
    top2 = np.linalg.svd(centred, full_matrices=False)[2][:2]
    lenses = {
        "PCA 1": pca_lens(points),
        "output 2-D": output_lens_2d(points, rows),
        "concept 2-D": stack_lenses(*(concept_lens(points, concept_direction(points[fit], labels[fit], a, b))
                                      for a, b in PAIRS)),
        "PCA 2-D": centred @ top2.T,
    }
    for r in range(n_random):
        lenses[f"random 2-D ({r})"] = _random_plane(points, r)
    kmeans_seeds = profile_seeds(profile)
    return [_row(name, recipe_graph(points, lens), points, labels, situations, seed,
                 kmeans_seeds if random_seeds or not name.startswith("random") else ())
            for name, lens in lenses.items()]


@runtime.one_thread_for_small_fits()
def output_lens_grid(acts: Any, layers: Sequence[int] = (4, 6),
                     covers: Sequence[tuple[int, float]] = OUTPUT_COVERS, *, seed: int = 0,
                     words: Mapping[str, Sequence[str]] = OUTPUT_WORDS) -> list[dict[str, Any]]:
    """One row per (layer, cover): the 2-D output lens's graph (``n_cubes`` per axis, 50 % overlap,
    DBSCAN ``scale``) with the columns of :func:`lens_comparison` and ``gap`` = k-means − Mapper
    cross-situation purity at the graph's mean node size."""
    from .study import recipe_graph, situation_sets

    if not covers:
        raise ValueError("covers must name at least one (n_cubes, scale)")
    s = acts.sentences
    rows_e = unembedding_rows(words)
    labels = np.asarray(s.emotion)
    situations = situation_sets(s)
    out = []
    for layer in layers:
        check_int(layer, "layer", min=0, max=acts.n_layers)
        points = acts.layer(layer)
        lens = output_lens_2d(points, rows_e)
        for n_cubes, scale in covers:
            row = _row("output 2-D", recipe_graph(points, lens, n_cubes=n_cubes, scale=scale), points,
                       labels, situations, seed)
            row.update(layer=int(layer), n_cubes=int(n_cubes), scale=float(scale),
                       gap=row["kmeans_cross"] - row["mapper_cross"])
            out.append(row)
    return out


#: Draws of each null family (random 2-D projections; random-word lenses) per profile.
LENS_NULL_DRAWS = {"quick": 16, "standard": 32, "full": 64}


def _whole_words(encoder: str) -> list[tuple[str, int]]:
    """``(word, id)`` for every vocabulary entry that is a whole lower-case word of ≥ 3 letters (no
    ``##`` piece, no digit), in id order (cached: the vocabulary never changes)."""

    def compute() -> list:
        vocab = text_encoder(encoder).tokenizer.get_vocab()
        return sorted(((w, int(i)) for w, i in vocab.items() if re.fullmatch(r"[a-z]{3,}", w)),
                      key=lambda wi: wi[1])

    return cached("vocabulary-whole-words", {"encoder": encoder}, compute)


def random_word_sets(n_sets: int, sentences: SentenceSet, words: Mapping[str, Sequence[str]] = OUTPUT_WORDS,
                     *, encoder: str = "minilm", seed: int = 0) -> list[dict[str, tuple[str, ...]]]:
    """``n_sets`` word sets shaped like ``words`` (the same keys, as many words each), every word a
    whole single token drawn without replacement from the vocabulary entries whose ids lie between the
    smallest and largest id of ``words``' own tokens — BERT's WordPiece vocabulary lists words roughly
    from common to rare, so the draws match the emotion words' frequency band roughly — leaving out
    ``words`` themselves and every word of a sentence. Set ``j`` uses ``numpy``'s generator seeded
    ``(seed, j)``: the same sets on every machine."""
    check_int(n_sets, "n_sets", min=1)
    words = _check_words(words)
    listed = _whole_words(encoder)
    ids = dict(listed)
    missing = [w for ws in words.values() for w in ws if w not in ids]
    if missing:
        raise ValueError(f"words must be whole single tokens of {encoder}'s vocabulary; not: {missing}")
    own = [ids[w] for ws in words.values() for w in ws]
    seen = _sentence_words(sentences)
    taken = {w for ws in words.values() for w in ws}
    pool = [w for w, i in listed if min(own) <= i <= max(own) and w not in seen and w not in taken]
    sizes = [len(ws) for ws in words.values()]
    if sum(sizes) > len(pool):
        raise ValueError(f"only {len(pool)} vocabulary words to draw {sum(sizes)} from")
    out = []
    for j in range(n_sets):
        drawn = np.random.default_rng([seed, j]).choice(len(pool), size=sum(sizes), replace=False)
        parts = np.split(drawn, np.cumsum(sizes)[:-1])
        out.append({key: tuple(pool[i] for i in part) for key, part in zip(words, parts)})
    return out


@runtime.one_thread_for_small_fits()
def lens_null(acts: Any, layer: int, *, n_draws: int | None = None, profile: str | None = None,
              words: Mapping[str, Sequence[str]] = OUTPUT_WORDS) -> list[dict[str, Any]]:
    """Mapper under lenses that know nothing about emotion, on the output lens's cover (4.2's
    recipe, 10 × 10): ``n_draws`` random 2-D projections (orthonormal Gaussian directions, seeds 0, 1,
    …) and ``n_draws`` random-word lenses (:func:`output_lens` built from :func:`random_word_sets`
    instead of emotion words; ``None``: :data:`LENS_NULL_DRAWS` of the profile). One row per lens:
    ``family``, ``draw``, ``nodes``, ``coverage``, ``purity`` and ``mapper_cross`` (cross-situation
    purity of Mapper's nodes). The output lens's rank among them says whether its words matter."""
    from .study import recipe_graph, situation_sets

    check_int(layer, "layer", min=0, max=acts.n_layers)
    n = runtime.by_profile(LENS_NULL_DRAWS, profile) if n_draws is None else check_int(
        n_draws, "n_draws", min=1)
    absent = sorted({e for pair in PAIRS for e in pair} - set(words))
    if absent:
        raise ValueError(f"words must have a set for every emotion of PAIRS; missing {absent}")
    s = acts.sentences
    points = acts.layer(layer)
    labels = np.asarray(s.emotion)
    situations = situation_sets(s)
    lenses = [("random 2-D", r, _random_plane(points, r)) for r in range(n)]
    for r, drawn in enumerate(random_word_sets(n, s, words)):
        lenses.append(("random words", r, output_lens_2d(points, unembedding_rows(drawn))))
    return [dict(family=family, draw=draw,
                 **_mapper_scores(recipe_graph(points, lens), labels, situations))
            for family, draw, lens in lenses]


@runtime.one_thread_for_small_fits()
def lens_null_table(acts: Any, layers: Sequence[int], *, profile: str | None = None,
                    words: Mapping[str, Sequence[str]] = OUTPUT_WORDS
                    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """:func:`lens_null` at each of ``layers`` (layer 0 is the token embeddings, before any block),
    and where the output lens of ``words`` ranks among the null lenses there. Returns ``(rows,
    table)``: ``rows`` are :func:`lens_null`'s rows with a ``layer`` key; ``table`` has one row per
    (layer, family): ``draws``, the null's ``purity_max``, ``cross_median`` and ``cross_max``, the
    output lens's own ``output_purity`` and ``output_cross`` on the same cover, ``at_or_above`` (null
    draws whose cross-situation purity reaches the output lens's) and the one-sided ``p`` = (1 +
    at_or_above) / (1 + draws)."""
    from .study import recipe_graph, situation_sets

    layers = [check_int(layer, "layer", min=0, max=acts.n_layers) for layer in layers]
    if not layers:
        raise ValueError("layers must name at least one layer")
    s = acts.sentences
    labels = np.asarray(s.emotion)
    situations = situation_sets(s)
    own_rows = unembedding_rows(words)
    rows: list[dict[str, Any]] = []
    table: list[dict[str, Any]] = []
    for layer in layers:
        points = acts.layer(layer)
        own = _mapper_scores(recipe_graph(points, output_lens_2d(points, own_rows)), labels, situations)
        null = [dict(r, layer=layer) for r in lens_null(acts, layer, profile=profile, words=words)]
        rows += null
        for family in ("random 2-D", "random words"):
            cross = np.array([r["mapper_cross"] for r in null if r["family"] == family])
            above = int((cross >= own["mapper_cross"]).sum())
            table.append(dict(
                layer=layer, family=family, draws=len(cross),
                purity_max=max(r["purity"] for r in null if r["family"] == family),
                cross_median=float(np.median(cross)), cross_max=float(cross.max()),
                output_purity=own["purity"], output_cross=own["mapper_cross"],
                at_or_above=above, p=(1 + above) / (1 + len(cross))))
    return rows, table
