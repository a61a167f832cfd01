"""A token-level Mapper graph with Jaccard-weighted edges, TopoBERT's set-up (notebook 4.2).

TopoBERT (Rathore et al. 2023) builds Mapper graphs of *tokens*, not sentences: every token's hidden
state is a point, the lens is its L2 norm, the cover 50 intervals with 50 % overlap, and an edge is
weighted by the Jaccard overlap of its two nodes, ``|A ∩ B| / |A ∪ B|``. Here the tokens of a
stratified sample of the single-emotion sentences each carry three labels:

* ``word``    — the token itself (a WordPiece);
* ``role``    — what part of the sentence it is in: the *situation* clause, the *emotion word*, the
  *reaction*, or the *frame* (subject, "felt", "when", …);
* ``emotion`` — its sentence's emotion.

* :func:`token_activations` — the tokens' hidden states at some layers, with their labels (cached).
* :func:`jaccard_weights`   — each edge's Jaccard weight.
* :func:`token_graph_table` — per layer and cover: what the nodes group by (purity for each label,
  Mapper against k-means at the same mean cluster size on the same tokens), and what an edge's weight
  says: how many edges join two nodes with the *same* members (weight 1: one cluster seen through
  two overlapping intervals), and how often heavy and light edges join nodes of the same word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from .. import runtime
from ..cache import cached
from ..validation import check_int
from .lenses import l2_norm_lens, unit_rows
from .measures import covered_points, dominant_labels, node_members, partition_purity
from .sentences import EVENTS, REACTIONS, WORDS, load_sentences

__all__ = ["TOKEN_SETTINGS", "ROLES", "TokenActivations", "token_roles", "token_activations",
           "jaccard_weights", "token_graph_table"]

#: Per profile: sentences per emotion, layers, and the covers (n_cubes; overlap 50 %, DBSCAN scale 0.45).
TOKEN_SETTINGS = {
    "quick": dict(per_emotion=30, layers=(0, 6), n_cubes=(20, 50)),
    "standard": dict(per_emotion=60, layers=(0, 3, 6), n_cubes=(20, 50)),
    "full": dict(per_emotion=120, layers=(0, 2, 4, 6), n_cubes=(20, 35, 50)),
}

ROLES = ("situation", "emotion word", "reaction", "frame")
_VERSION = 1


@dataclass(frozen=True)
class TokenActivations:
    """Own tokens (no special tokens) of some sentences, at some layers."""

    sentences: np.ndarray   #: (s,) indices into the sentence set
    owner: np.ndarray       #: (t,) which of ``sentences`` each token belongs to (0 … s − 1)
    word: np.ndarray        #: (t,) the WordPiece token
    role: np.ndarray        #: (t,) one of :data:`ROLES`
    emotion: np.ndarray     #: (t,) the sentence's emotion
    layers: dict            #: layer → (t, dim) float32 raw hidden states

    def __len__(self) -> int:
        return len(self.word)


def token_roles(text: str, offsets: Sequence[tuple[int, int]]) -> list[str]:
    """The role (:data:`ROLES`) of each token of ``text`` given its character ``offsets``: inside an
    emotion word of :data:`~.sentences.WORDS`, a reaction, a situation clause, else the frame."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a string, got {type(text).__name__}")
    low = text.lower()
    spans = []
    for word in sorted({w for ws in WORDS.values() for w in ws}):
        spans += [(m.start(), m.end(), "emotion word") for m in re.finditer(rf"\b{re.escape(word)}\b", low)]
    for phrase, role in [(r, "reaction") for rs in REACTIONS.values() for r in rs] + \
                        [(e.lower(), "situation") for es in EVENTS.values() for e in es]:
        start = low.find(phrase)
        if start >= 0:
            spans.append((start, start + len(phrase), role))
    out = []
    for a, z in offsets:
        if not 0 <= a <= z <= len(text):
            raise ValueError(f"offset ({a}, {z}) lies outside the text of length {len(text)}")
        out.append(next((role for p, q, role in spans if p <= a and z <= q), "frame"))
    return out


def token_activations(profile: str | None = None, seed: int = 0, encoder: str = "minilm") -> TokenActivations:
    """The tokens of ``per_emotion`` single-emotion sentences per emotion (drawn with ``seed``), their
    raw hidden states at the profile's layers and their labels. Cached."""
    settings = runtime.by_profile(TOKEN_SETTINGS, profile)
    check_int(seed, "seed", min=0)
    s = load_sentences()
    kind, emotion = np.asarray(s.kind), np.asarray(s.emotion)
    rng = np.random.default_rng(seed)
    chosen = np.concatenate([
        np.sort(rng.choice(np.flatnonzero((kind != "mixed") & (emotion == e)), settings["per_emotion"],
                           replace=False))
        for e in sorted(set(emotion))])

    def compute() -> dict:
        import torch

        from .output_lens import text_encoder

        model = text_encoder(encoder)
        texts = [str(s.text[i]) for i in chosen]
        layers = {layer: [] for layer in settings["layers"]}
        owner, word, role = [], [], []
        with runtime.cpu_threads(), torch.no_grad():
            for start in range(0, len(texts), 64):
                batch = texts[start:start + 64]
                enc = model.tokenizer(batch, padding=True, return_tensors="pt",
                                      return_special_tokens_mask=True, return_offsets_mapping=True)
                hidden = model.model(input_ids=enc["input_ids"].to(model.device),
                                     attention_mask=enc["attention_mask"].to(model.device),
                                     output_hidden_states=True).hidden_states
                own = (enc["attention_mask"] * (1 - enc["special_tokens_mask"])).bool()
                for layer in layers:
                    layers[layer].append(hidden[layer][own.to(model.device)].float().cpu().numpy())
                for b, text in enumerate(batch):
                    rows = np.flatnonzero(own[b].numpy())
                    offsets = [tuple(enc["offset_mapping"][b, t].tolist()) for t in rows]
                    owner += [start + b] * len(rows)
                    word += model.tokenizer.convert_ids_to_tokens(enc["input_ids"][b, rows].tolist())
                    role += token_roles(text, offsets)
        return dict(owner=np.array(owner), word=np.array(word), role=np.array(role),
                    layers={k: np.concatenate(v) for k, v in layers.items()})

    config = dict(encoder=encoder, sentences=chosen.tolist(), layers=list(settings["layers"]),
                  version=_VERSION)
    out = cached("token-activations", config, compute)
    return TokenActivations(sentences=chosen, owner=out["owner"], word=out["word"], role=out["role"],
                            emotion=emotion[chosen][out["owner"]], layers=out["layers"])


def jaccard_weights(graph: Any) -> dict[tuple, float]:
    """``(a, b) → |A ∩ B| / |A ∪ B|`` for every edge (``A``, ``B``: the nodes' members)."""
    members = {n: set(np.asarray(m).tolist()) for n, m in node_members(graph).items()}
    out = {}
    for a, b in graph.edges():
        union = len(members[a] | members[b])
        out[(a, b)] = len(members[a] & members[b]) / union if union else 0.0
    return out


def token_graph_table(tokens: TokenActivations, n_cubes: Sequence[int] | None = None,
                      profile: str | None = None, seed: int = 0) -> list[dict[str, Any]]:
    """One row per (layer, ``n_cubes``): TopoBERT's cover (L2-norm lens of the raw states, 50 %
    overlap; the unit-length states clustered with 4.2's DBSCAN scale). ``purity_<label>`` for Mapper
    and ``kmeans_<label>`` for k-means at the graph's mean node size on the covered tokens;
    ``shuffled_<label>``: Mapper's purity with the label shuffled over the tokens (chance at this
    cover). ``duplicate_edges``: share of edges of Jaccard weight 1; ``heavy_edges``: share of weight
    ≥ 1/2; ``same_word_heavy`` / ``same_word_light``: share of heavy / light (< 1/2) edges that join
    nodes of the same dominant word (``nan`` where there are none)."""
    from .study import kmeans_groups, matched_k, recipe_graph

    if not isinstance(tokens, TokenActivations):
        raise TypeError("tokens must be a TokenActivations (see token_activations)")
    settings = runtime.by_profile(TOKEN_SETTINGS, profile)
    covers = tuple(settings["n_cubes"] if n_cubes is None else n_cubes)
    for n in covers:
        check_int(n, "n_cubes", min=1)
    labels = {"word": tokens.word, "role": tokens.role, "emotion": tokens.emotion}
    rows = []
    for layer, raw in tokens.layers.items():
        x = unit_rows(raw)
        lens = l2_norm_lens(raw)
        for n in covers:
            graph = recipe_graph(x, lens, n_cubes=n, overlap=0.5)
            covered = covered_points(graph)
            nodes = list(node_members(graph).values())
            groups = [covered[g] for g in kmeans_groups(x[covered], matched_k(graph), seed)]
            weights = jaccard_weights(graph)
            w = np.array([weights[e] for e in graph.edges()])
            word = dominant_labels(graph, tokens.word)
            same = np.array([word[a][0] == word[b][0] for a, b in graph.edges()])
            row = dict(layer=int(layer), n_cubes=int(n), tokens=len(x), nodes=graph.number_of_nodes(),
                       edges=graph.number_of_edges(), coverage=len(covered) / len(x))
            rng = np.random.default_rng(seed)
            for name, lab in labels.items():
                row[f"purity_{name}"] = partition_purity(nodes, lab)
                row[f"kmeans_{name}"] = partition_purity(groups, lab)
                row[f"shuffled_{name}"] = partition_purity(nodes, rng.permutation(lab))
            heavy, light = w >= 0.5, w < 0.5
            row.update(median_jaccard=float(np.median(w)) if len(w) else float("nan"),
                       duplicate_edges=float((w >= 1 - 1e-12).mean()) if len(w) else float("nan"),
                       heavy_edges=float(heavy.mean()) if len(w) else float("nan"),
                       same_word_heavy=float(same[heavy].mean()) if heavy.any() else float("nan"),
                       same_word_light=float(same[light].mean()) if light.any() else float("nan"))
            rows.append(row)
    return rows
