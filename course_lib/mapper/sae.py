"""A small sparse autoencoder on one layer's token activations (notebook 4.4: SAE features as the
dimensions of Mapper's space).

The seed note: "cluster by SAE features and not just neuron activations". A sparse autoencoder
(as in Bricken et al. 2023) rewrites each token's hidden state ``x ∈ ℝᵈ`` as a sparse, non-negative
combination of ``m > d`` learned directions:

    f(x) = ReLU(W_e (x − b_d) + b_e) ∈ ℝᵐ,     x̂ = W_d f(x) + b_d,
    loss = ‖x − x̂‖²  +  λ ‖f(x)‖₁     (states scaled to mean length 1),

with every column of ``W_d`` kept at unit length (so λ cannot be dodged by shrinking ``f`` and
growing ``W_d``). It is trained on the tokens of the *training* sentences only (the situations 1–3 of
:func:`~.finetune.situation_split`, ≈ 9,000 tokens), so it can be scored on sentences it never saw; a
sentence's SAE vector is the mean of its tokens' features, the same pooling as its activations.

**Does the learning matter?** :func:`random_dictionary_codes` is the control: an *untrained* ReLU
encoder of the same width — random unit directions, one threshold — set to the same sparsity (the
SAE's mean L0 per token). Whatever the SAE's codes do that these also do comes from a wide, sparse,
non-negative re-coding of the layer, not from what the SAE learned (random-feature baselines as in
Cunningham et al. 2023's comparisons and the random-dictionary sanity checks of later SAE work).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch

from .. import runtime
from ..cache import cached, remembered
from ..widgets import progress
from .activations import load_encoder
from .sentences import SentenceSet, load_sentences
from ..validation import check_int

__all__ = ["SAE_SETTINGS", "SAE_SEEDS", "token_states", "SparseAutoencoder", "SAERun", "sae_run",
           "emotion_features", "random_dictionary_codes", "pool_tokens", "SPACE_SCALES", "SPACE_COVERAGES",
           "compare_spaces", "MATCHED_SCALES", "matched_size_comparison", "pca_codes"]

SAE_SETTINGS = {
    "quick": dict(layer=6, features=1536, l1=0.1, steps=1000, batch_size=256, lr=1e-3),
    "standard": dict(layer=6, features=1536, l1=0.1, steps=3000, batch_size=256, lr=1e-3),
    "full": dict(layer=6, features=3072, l1=0.1, steps=12000, batch_size=512, lr=1e-3),
}
#: Per profile: the seeds notebook 4.4 trains (results are reported over all of them).
SAE_SEEDS = {"quick": (0,), "standard": (0, 1, 2), "full": (0, 1, 2, 3, 4)}
_CACHE_VERSION = 3


@torch.no_grad()
def token_states(model: Any, texts: list[str], layer: int, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """``(states (tokens, dim) float32, sentence index of each token)``: every own token's hidden
    state at ``layer`` (special tokens and padding left out)."""
    check_int(layer, "layer", min=0, max=model.n_layers)
    states, owners = [], []
    with runtime.cpu_threads() as fit:
        fit(runtime.MANY_ROWS)
        for start in range(0, len(texts), batch_size):
            batch = model._batch(texts[start:start + batch_size])
            hidden = model.model(**batch["inputs"], output_hidden_states=True).hidden_states[layer]
            own = batch["own"].bool()
            states.append(hidden[own].float().cpu().numpy())
            owners.append((torch.nonzero(own)[:, 0] + start).cpu().numpy())
    return np.concatenate(states), np.concatenate(owners)


@remembered(maxsize=2)
def _float32_token_states(texts: tuple[str, ...], layer: int) -> tuple[np.ndarray, np.ndarray]:
    """:func:`token_states` of the float32 MiniLM, remembered: every SAE seed of a profile trains on
    the same states (standard trains three), so the encoder runs once."""
    return token_states(load_encoder(precision="float32"), list(texts), layer)


class SparseAutoencoder(torch.nn.Module):
    """``f = ReLU(W_e (x − b_d) + b_e)``, ``x̂ = W_d f + b_d``; unit-norm decoder columns."""

    def __init__(self, dim: int, features: int, generator: torch.Generator | None = None):
        super().__init__()
        decoder = torch.randn(dim, features, generator=generator)
        decoder = decoder / decoder.norm(dim=0, keepdim=True)
        self.W_d = torch.nn.Parameter(decoder)
        self.W_e = torch.nn.Parameter(decoder.T.clone())       # tied at initialisation only
        self.b_e = torch.nn.Parameter(torch.zeros(features))
        self.b_d = torch.nn.Parameter(torch.zeros(dim))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu((x - self.b_d) @ self.W_e.T + self.b_e)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.encode(x)
        return f @ self.W_d.T + self.b_d, f

    @torch.no_grad()
    def normalise_decoder(self) -> None:
        self.W_d /= self.W_d.norm(dim=0, keepdim=True).clamp_min(1e-8)


@dataclass(frozen=True)
class SAERun:
    settings: dict
    loss: np.ndarray               #: (steps,) training loss per batch
    explained: float               #: share of held-out tokens' variance the reconstruction keeps
    l0: float                      #: mean number of active features per (training) token
    dead: float                    #: share of features never active on any training token
    sentence_features: np.ndarray  #: (n, features) float32: each sentence's mean token features
    decoder: np.ndarray            #: (dim, features) float32, unit columns
    fit: np.ndarray                #: (n,) bool: the sentences whose tokens trained the SAE
    random_features: np.ndarray    #: (n, features) float32: the random-dictionary control, pooled
    random_l0: float               #: its mean number of active features per token (≈ ``l0``)

    def features_per_sentence(self) -> float:
        """Mean number of features active (> 0) in a sentence's pooled vector."""
        return float((self.sentence_features > 0).sum(axis=1).mean())


def pool_tokens(features: np.ndarray, owners: np.ndarray, n: int) -> np.ndarray:
    """``(n, features)`` float32: the mean of each sentence's token rows (``owners[t]``: token t's sentence)."""
    features, owners = np.asarray(features), np.asarray(owners)
    if features.ndim != 2 or owners.shape != (len(features),):
        raise ValueError("features must be (tokens, m) and owners one sentence index per token")
    counts = np.bincount(owners, minlength=n)
    if len(counts) > n or (counts == 0).any():
        raise ValueError(f"owners must index {n} sentences, each with at least one token")
    pooled = np.zeros((n, features.shape[1]), dtype=np.float32)
    np.add.at(pooled, owners, features)
    return pooled / counts[:, None]


@runtime.one_thread_for_small_fits()
def pca_codes(points: Any, fit: Any, components: int) -> np.ndarray:
    """``(n, components)``: every row of ``points`` centred on the ``fit`` rows' mean and projected on
    their top ``components`` principal axes. A linear compression with no learning and no sparsity:
    the control that asks whether an SAE's codes differ from *any* lossy low-rank code of the layer
    (the random dictionary is full-rank and cannot ask it)."""
    x = np.asarray(points, dtype=float)
    fit = np.asarray(fit, dtype=bool)
    if x.ndim != 2 or fit.shape != (len(x),):
        raise ValueError(f"points must be (n, d) and fit a boolean mask of length n; got {x.shape} and {fit.shape}")
    check_int(components, "components", min=1, max=min(int(fit.sum()), x.shape[1]))
    mean = x[fit].mean(axis=0)
    axes = np.linalg.svd(x[fit] - mean, full_matrices=False)[2][:components]
    return (x - mean) @ axes.T


def random_dictionary_codes(states: np.ndarray, features: int, l0: float, rng: np.random.Generator,
                            fit: np.ndarray | None = None) -> np.ndarray:
    """The untrained control of an SAE: ``ReLU(W (x − x̄) − θ)`` with ``features`` random unit rows
    ``W`` drawn from ``rng`` and one threshold ``θ`` set so that a token uses ``l0`` features on average
    (x̄ and θ from the ``fit`` rows, all rows by default). Returns (tokens, features) float32 codes."""
    x = np.asarray(states, dtype=np.float64)
    check_int(features, "features", min=1)
    if x.ndim != 2 or len(x) == 0 or not np.all(np.isfinite(x)):
        raise ValueError("states must be a finite, non-empty (tokens, dim) array")
    if not (isinstance(l0, (int, float)) and 0 < l0 < features):
        raise ValueError(f"l0 must be a number in (0, features={features}), got {l0!r}")
    fit = np.ones(len(x), dtype=bool) if fit is None else np.asarray(fit, dtype=bool)
    if fit.shape != (len(x),) or not fit.any():
        raise ValueError("fit must be a non-empty boolean mask over the states")
    w = rng.normal(size=(features, x.shape[1]))
    w /= np.linalg.norm(w, axis=1, keepdims=True)
    pre = ((x - x[fit].mean(axis=0)).astype(np.float32) @ w.T.astype(np.float32))
    theta = np.quantile(pre[fit], 1 - l0 / features)
    return np.maximum(pre - theta, 0).astype(np.float32)


def _train(settings: dict, seed: int, sentences: SentenceSet) -> dict:
    from .finetune import situation_split

    texts = list(sentences.text)
    fit_sentences = situation_split(sentences)[0]
    all_states, owners = _float32_token_states(tuple(texts), settings["layer"])
    fit_tokens = fit_sentences[owners]
    everything = torch.from_numpy(all_states)
    x = everything[torch.from_numpy(fit_tokens)]   # train on the training sentences' tokens only
    scale = float(x.norm(dim=1).mean())        # train on states of mean length 1 (λ is then portable)
    x = x / scale
    generator = runtime.seed_everything(seed)
    sae = SparseAutoencoder(x.shape[1], settings["features"], generator=generator)
    with torch.no_grad():
        sae.b_d.copy_(x.mean(dim=0))
    optimiser = torch.optim.Adam(sae.parameters(), lr=settings["lr"])
    losses = []
    with runtime.cpu_threads() as fit:
        fit(runtime.MANY_ROWS)
        for _ in progress(range(settings["steps"]), desc="training the sparse autoencoder"):
            rows = torch.randint(0, len(x), (settings["batch_size"],), generator=generator)
            batch = x[rows]
            recon, f = sae(batch)
            # ‖x − x̂‖² + λ ‖f‖₁, averaged over the batch (states have mean length 1)
            loss = ((recon - batch) ** 2).sum(dim=1).mean() + settings["l1"] * f.abs().sum(dim=1).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            sae.normalise_decoder()
            losses.append(loss.item())
        with torch.no_grad():
            scaled = everything / scale
            recon, f = sae(scaled)
    held = torch.from_numpy(~fit_tokens)           # variance explained on tokens the SAE never saw
    residual = ((recon - scaled)[held] ** 2).sum()
    total = ((scaled[held] - scaled[held].mean(dim=0)) ** 2).sum()
    features = f.numpy()
    l0 = float((features[fit_tokens] > 0).sum(axis=1).mean())
    rng = np.random.default_rng(seed)
    codes = random_dictionary_codes(scaled.numpy(), settings["features"], l0, rng, fit=fit_tokens)
    return dict(loss=np.array(losses), explained=float(1 - residual / total), l0=l0,
                dead=float((features[fit_tokens].max(axis=0) <= 0).mean()),
                sentence_features=pool_tokens(features, owners, len(texts)),
                decoder=sae.W_d.detach().numpy().astype(np.float32), fit=fit_sentences,
                random_features=pool_tokens(codes, owners, len(texts)),
                random_l0=float((codes[fit_tokens] > 0).sum(axis=1).mean()))


def sae_run(seed: int = 0, profile: str | None = None) -> SAERun:
    """The notebook-4.4 sparse autoencoder for ``profile`` (cached)."""
    settings = dict(runtime.by_profile(SAE_SETTINGS, profile))
    config = {"settings": settings, "seed": int(seed), "version": _CACHE_VERSION}
    payload = cached("mapper-sae", config, lambda: _train(settings, seed, load_sentences()))
    return SAERun(settings=settings, **payload)


def emotion_features(features: np.ndarray, labels: np.ndarray, fit: np.ndarray, test: np.ndarray,
                     classes: tuple[str, ...], by: str | Callable[..., Any] = "frequency",
                     floor: float = 0.05) -> dict[str, tuple[int, float]]:
    """For each class, the feature that best separates it from the others among the ``fit``
    sentences, and its selectivity on the ``test`` sentences (chosen without them):
    ``mean(class) / max(mean(others), floor × a typical activation)``, where the typical activation is
    the mean of the space's positive entries on the ``test`` rows — the floor keeps a feature that is
    nearly silent on the others from reading as hundreds of times selective on a denominator near 0.

    ``by="mean"`` picks the largest gap in mean activation — which favours a feature that fires
    strongly on a few sentences (one situation's words); ``by="frequency"`` the largest gap in how
    often it fires, ``P(f > 0 | class) − P(f > 0 | others)`` — a feature used across the class. A
    callable ``by(features, labels, fit, class) -> feature index`` picks instead (notebook 4.4 passes
    the reader's ``frequency_pick``); it sees the ``fit`` rows' labels only."""
    if not callable(by) and by not in ("mean", "frequency"):
        raise ValueError(f"by must be 'mean', 'frequency' or a function, got {by!r}")
    f = np.asarray(features, dtype=float)
    labels, fit, test = np.asarray(labels), np.asarray(fit, dtype=bool), np.asarray(test, dtype=bool)
    if (fit & test).any():
        raise ValueError("fit and test must not share sentences")
    positive = f[test][f[test] > 0]
    least = floor * (float(positive.mean()) if positive.size else 0.0)
    out = {}
    for c in classes:
        if callable(by):
            best = by(f, np.where(fit, labels, ""), fit, c)
            if isinstance(best, bool) or not isinstance(best, (int, np.integer)) or not (
                    0 <= best < f.shape[1]):
                raise ValueError(f"by must return a feature index in 0…{f.shape[1] - 1}, got {best!r}")
            best = int(best)
        else:
            g = f if by == "mean" else (f > 0).astype(float)
            gap = g[fit & (labels == c)].mean(axis=0) - g[fit & (labels != c)].mean(axis=0)
            best = int(np.argmax(gap))
        inside = f[test & (labels == c), best].mean()
        outside = f[test & (labels != c), best].mean()
        below = max(outside, least)
        out[c] = (best, float(inside / below) if below > 0 else float("inf"))
    return out


#: Clustering scales of notebook 4.4's purity–coverage curves (wider than 4.3's: SAE spaces reach
#: full coverage at other scales than the raw layer; fine steps where coverage climbs fastest, since
#: cross-situation purity changes quickly there).
SPACE_SCALES = (0.2, 0.25, 0.3, 0.325, 0.35, 0.375, 0.4, 0.425, 0.45, 0.475, 0.5, 0.55, 0.6, 0.7)
#: Coverages at which notebook 4.4 compares spaces.
SPACE_COVERAGES = (0.5, 0.6, 0.7, 0.8)


def compare_spaces(spaces: dict[str, np.ndarray], labels: Any, fit: Any, score: Any,
                   scales: tuple[float, ...] = SPACE_SCALES, coverages: tuple[float, ...] = SPACE_COVERAGES,
                   k: int | tuple[int, ...] = 24, seed: int = 0,
                   situations: Any = None, topics: Any = None,
                   min_pairs: int | None = None) -> tuple[Any, dict[str, list]]:
    """Each space (``name → (n, m)`` points) scored on the ``score`` rows only (sentences the SAE never
    trained on): Mapper purity at each of ``coverages`` (the recipe over ``scales``), k-means purity
    (``k`` clusters; several values of ``k`` give one column each), and the held-out accuracy of a probe
    trained on the ``fit`` rows. With ``situations`` (one per sentence), also the **cross-situation
    purity** of the Mapper nodes at each coverage (with its number of pairs, interpolated) and of the
    k-means clusters, and two graph-free neighbour measures (:func:`~.neighbours.neighbour_summary`): the
    share of a sentence's 1 and 5 nearest neighbours *from other situations* with its emotion, and the
    share of sentences whose nearest neighbour is of their own situation. A Mapper cross-situation purity
    on fewer than ``min_pairs`` pairs (default :data:`~.neighbours.MIN_PAIRS`) is reported as NaN: such
    pairs come from a handful of nodes and are not independent. Returns ``(table, curves)``: a pandas table (one row per space) and each space's
    purity–coverage curve (with ``cross`` and ``pairs`` when ``situations`` is given). With ``topics``
    (one per sentence), also the same graphs' **topic** purity at each coverage and a topic probe's
    held-out accuracy (``topic purity @…``, ``topic probe``)."""
    import pandas as pd

    from .change import purity_at_coverage, purity_coverage_curve
    from .judged import emotion_probe
    from .lenses import unit_rows
    from .measures import cross_situation_purity, partition_purity
    from .study import kmeans_groups

    from .neighbours import MIN_PAIRS, neighbour_summary

    min_pairs = MIN_PAIRS if min_pairs is None else check_int(min_pairs, "min_pairs", min=0)
    labels = np.asarray(labels)
    fit, score = np.asarray(fit, dtype=bool), np.asarray(score, dtype=bool)
    if (fit & score).any():
        raise ValueError("fit and score must not share sentences")
    if not spaces:
        raise ValueError("spaces must name at least one (n, m) array")
    ks = (k,) if isinstance(k, (int, np.integer)) else tuple(k)
    held_situations = None
    if situations is not None:
        situations = list(situations)
        if len(situations) != len(labels):
            raise ValueError(f"situations must have one entry per sentence ({len(labels)})")
        held_situations = [situations[i] for i in np.flatnonzero(score)]
    if topics is not None:
        topics = np.asarray(topics)
        if topics.shape != labels.shape:
            raise ValueError(f"topics must have one entry per sentence ({len(labels)})")
    rows, curves = {}, {}
    for name, points in spaces.items():
        x = np.asarray(points, dtype=float)
        if x.ndim != 2 or len(x) != len(labels) or not np.all(np.isfinite(x)):
            raise ValueError(f"space {name!r} must be a finite ({len(labels)}, m) array")
        also = None if topics is None else {"topic": topics[score]}
        curve = purity_coverage_curve(x[score], labels[score], scales, situations=held_situations, also=also)
        curves[name] = curve
        row = {f"purity @{c:.0%}": purity_at_coverage(curve, c) for c in coverages}
        if held_situations is not None:
            for c in coverages:
                pairs = purity_at_coverage(curve, c, "pairs")
                cross = purity_at_coverage(curve, c, "cross")
                row[f"cross-situation purity @{c:.0%}"] = cross if pairs >= min_pairs else float("nan")
                row[f"pairs @{c:.0%}"] = pairs
            row.update(neighbour_summary(x[score], labels[score], held_situations))
        for kk in ks:
            groups = kmeans_groups(unit_rows(x[score]), kk, seed)
            row[f"k-means purity (k={kk})"] = partition_purity(groups, labels[score])
            if held_situations is not None:
                row[f"k-means cross-situation purity (k={kk})"] = cross_situation_purity(
                    groups, labels[score], held_situations).share
        probe = emotion_probe(x, labels, fit)
        row["probe accuracy"] = float(np.mean(probe.predict(unit_rows(x[score])) == labels[score]))
        if topics is not None:
            for c in coverages:
                row[f"topic purity @{c:.0%}"] = purity_at_coverage(curve, c, "purity[topic]")
            probe = emotion_probe(x, topics, fit)
            row["topic probe"] = float(np.mean(probe.predict(unit_rows(x[score])) == topics[score]))
        rows[name] = row
    return pd.DataFrame(rows).T, curves


#: Clustering scales of :func:`matched_size_comparison` (the SAE graph's coverage runs from about 0.55
#: to 0.9 over these).
MATCHED_SCALES = (0.375, 0.4, 0.425)


def _pair_counts(groups: list[np.ndarray], labels: np.ndarray, situations: list) -> np.ndarray:
    """(same, pairs) of cross-situation pairs per group (rows), for a bootstrap over groups."""
    from .measures import cross_situation_purity

    out = [cross_situation_purity([g], labels, situations) for g in groups]
    return np.array([(p.same, p.pairs) for p in out], dtype=float).reshape(-1, 2)


def _group_bootstrap(counts: np.ndarray, draws: int, rng: np.random.Generator) -> tuple[float, float]:
    """95 % interval of sum(same) / sum(pairs) with the groups (nodes or clusters) resampled: pairs
    within one group are not independent, so the group is the unit that is drawn."""
    counts = counts[counts[:, 1] > 0]
    if len(counts) < 2:
        return float("nan"), float("nan")
    idx = rng.integers(0, len(counts), size=(draws, len(counts)))
    total = counts[idx].sum(axis=1)
    share = total[:, 0] / np.maximum(total[:, 1], 1)
    low, high = np.percentile(share, [2.5, 97.5])
    return float(low), float(high)


def matched_size_comparison(spaces: dict[str, np.ndarray], labels: Any, score: Any, situations: Any,
                            scales: tuple[float, ...] = MATCHED_SCALES,
                            seeds: tuple[int, ...] = (0, 1, 2), draws: int = 1000,
                            coverage: tuple[float, float] = (0.45, 0.92)) -> Any:
    """Notebook 4.2's fair test in each space: Mapper's cross-situation purity against k-means on the
    **same covered sentences at Mapper's mean node size** (:func:`~.study.matched_k`), over k-means
    ``seeds``, on the ``score`` rows only. Each number comes with its count of cross-situation pairs and
    a 95 % bootstrap interval over nodes (or clusters), since pairs inside one node are not independent.
    Only scales whose graph covers a share of the sentences inside ``coverage`` are kept. Returns a
    pandas table, one row per (space, scale)."""
    import pandas as pd

    from .lenses import pca_lens, unit_rows
    from .measures import covered_points, node_members
    from .study import kmeans_groups, matched_k, recipe_graph

    labels, score = np.asarray(labels), np.asarray(score, dtype=bool)
    if score.shape != labels.shape:
        raise ValueError(f"score must have one entry per sentence ({len(labels)})")
    situations = list(situations)
    if len(situations) != len(labels):
        raise ValueError(f"situations must have one entry per sentence ({len(labels)})")
    if not seeds:
        raise ValueError("seeds must name at least one k-means seed")
    check_int(draws, "draws", min=100)
    held = [situations[i] for i in np.flatnonzero(score)]
    lab = labels[score]
    rng = np.random.default_rng(0)
    rows = []
    for name, points in spaces.items():
        x = np.asarray(points, dtype=float)
        if x.ndim != 2 or len(x) != len(labels):
            raise ValueError(f"space {name!r} must be a ({len(labels)}, m) array")
        x = unit_rows(x[score])
        lens = pca_lens(x)
        for scale in scales:
            graph = recipe_graph(x, lens, scale=scale)
            if graph.number_of_nodes() < 2:
                continue
            cov = covered_points(graph)
            share = len(cov) / len(x)
            if not coverage[0] <= share <= coverage[1]:
                continue
            k = max(2, matched_k(graph))
            nodes = _pair_counts(list(node_members(graph).values()), lab, held)
            same, pairs = nodes[:, 0].sum(), nodes[:, 1].sum()
            row = dict(space=name, scale=scale, coverage=share,
                       nodes=graph.number_of_nodes(), k=k,
                       mapper_cross=same / max(pairs, 1),
                       mapper_pairs=int(pairs))
            row["mapper_low"], row["mapper_high"] = _group_bootstrap(nodes, draws, rng)
            kms = []
            for seed in seeds:
                groups = [cov[g] for g in kmeans_groups(x[cov], k, seed)]
                c = _pair_counts(groups, lab, held)
                low, high = _group_bootstrap(c, draws, rng)
                same, pairs = c[:, 0].sum(), c[:, 1].sum()
                kms.append((same / max(pairs, 1), int(pairs), low, high))
            kms = np.array(kms)
            row.update(kmeans_cross_min=kms[:, 0].min(),
                       kmeans_cross_median=float(np.median(kms[:, 0])),
                       kmeans_cross_max=kms[:, 0].max(),
                       kmeans_pairs_min=int(kms[:, 1].min()),
                       kmeans_pairs_max=int(kms[:, 1].max()),
                       kmeans_low=kms[:, 2].min(), kmeans_high=kms[:, 3].max())
            row["gap_min"] = row["mapper_cross"] - row["kmeans_cross_max"]
            row["gap_max"] = row["mapper_cross"] - row["kmeans_cross_min"]
            rows.append(row)
    return pd.DataFrame(rows).set_index(["space", "scale"])
