"""Notebook 4.3's interventions judged fairly: rates on held-out sentences, controls of the same size,
and read-outs that do not depend on the Mapper graph.

* :func:`emotion_probe`      — a logistic-regression read-out trained on the training situations;
* :func:`steering_nodes`     — every node of a graph pure enough (≥ 80 %) to steer from or to;
* :func:`heldout_steering`   — every held-out sentence steered from one pure node of its emotion toward a
  pure node of another emotion, with two controls of the same length (toward another node of its *own*
  emotion, and a random direction), read by the graph and by the probe; rates with Wilson intervals;
* :func:`variance_removed`   — the share of a layer's variance that projecting out directions removes;
* :func:`judged_ablation`    — ablations judged at equal coverage and by probe accuracy, against
  controls that remove as much variance (topic directions, top principal components) and random ones.

Both studies are cached (:func:`course_lib.cache.cached`) and rerun only the blocks above an edit
(:class:`~.rerun.LayerRecording`).
"""

from __future__ import annotations

import hashlib
from typing import Any, Callable

import numpy as np

from .. import runtime
from ..cache import cached
from ..stats import wilson_interval
from ..validation import check_fraction, check_int
from .change import nearest_node
from .measures import _dominant
from .change_exercises import solution_same_emotion_control
from .finetune import situation_split
from .lenses import concept_direction, pca_lens
from .lenses import unit_rows as unit
from .measures import dominant_labels, graph_purity, node_members
from .sentences import EMOTIONS

__all__ = ["emotion_probe", "steering_nodes", "STEER_SETTINGS", "heldout_steering", "steering_table",
           "steering_by_target",
           "variance_removed", "ABLATION_SETTINGS", "judged_ablation", "ablation_table",
           "COVERAGES", "solution_same_emotion_control", "same_layer_probe",
           "cross_fitted_probe", "held_out_halves"]

#: Coverages at which purity is compared (interpolated along the clustering scale).
COVERAGES = (0.6, 0.75)


@runtime.one_thread_for_small_fits()
def emotion_probe(points: Any, labels: Any, fit: Any, C: float = 1.0):
    """A multinomial logistic regression on the unit-length ``points[fit]`` → ``labels[fit]`` (a
    read-out of the layer that knows nothing of any graph). Returns the fitted scikit-learn model;
    call ``.predict(unit_rows(x))`` on other points."""
    from sklearn.linear_model import LogisticRegression

    x = unit(points)
    labels, fit = np.asarray(labels), np.asarray(fit, dtype=bool)
    if fit.shape != (len(x),) or labels.shape != (len(x),):
        raise ValueError(f"labels and fit must have one entry per point ({len(x)})")
    if len(set(labels[fit])) < 2:
        raise ValueError("the fit rows must hold at least two labels")
    return LogisticRegression(C=C, max_iter=2000).fit(x[fit], labels[fit])


def cross_fitted_probe(points: Any, labels: Any, first: Any, second: Any) -> tuple[int, int]:
    """A probe (:func:`emotion_probe`) trained on ``points[first]`` and scored on ``points[second]``,
    and one trained on ``second`` and scored on ``first``: ``(correct, n)`` summed over both ways
    (n = the rows of both masks). With masks that hold no row an edit's directions were fitted on, it
    measures what stays readable where the edit was *not* fitted, which a probe trained on the fitting
    rows cannot: projecting out class-mean differences makes those rows' class means equal."""
    labels = np.asarray(labels)
    first, second = np.asarray(first, dtype=bool), np.asarray(second, dtype=bool)
    if first.shape != second.shape:
        raise ValueError(f"first and second must have the same shape, got {first.shape} "
                         f"and {second.shape}")
    if (first & second).any():
        raise ValueError("first and second must not share a row")
    if not first.any() or not second.any():
        raise ValueError("first and second must each hold at least one row")
    correct = n = 0
    for fit, test in ((first, second), (second, first)):
        probe = emotion_probe(points, labels, fit)
        correct += int(np.sum(probe.predict(unit(np.asarray(points)[test])) == labels[test]))
        n += int(test.sum())
    return correct, n


def held_out_halves(sentences: Any) -> tuple[np.ndarray, np.ndarray]:
    """The two held-out situations (4th and 5th of each cell; :func:`~.finetune.situation_split`)
    as separate masks, for :func:`cross_fitted_probe`."""
    from .finetune import situation_index

    index = situation_index(sentences)
    return index == 3, index == 4


def steering_nodes(graph: Any, labels: Any, fit: Any, min_purity: float = 0.8,
                   min_members: int = 5) -> dict[str, str]:
    """``{node: its emotion}`` for every node whose dominant label holds ≥ ``min_purity`` of its members
    and which has ≥ ``min_members`` members among the ``fit`` rows (its centroid is taken over those)."""
    check_fraction(min_purity, "min_purity")
    check_int(min_members, "min_members", min=1)
    fit = np.asarray(fit, dtype=bool)
    members = node_members(graph)
    return {n: lab for n, (lab, share) in dominant_labels(graph, labels).items()
            if share >= min_purity and fit[members[n]].sum() >= min_members}


#: Per profile: layers and doses steered, held-out sentences per emotion (None: all), node filters.
STEER_SETTINGS = {
    "quick": dict(layers=(2, 4, 6), doses=(1.0, 2.0), per_emotion=40, min_purity=0.8, min_members=5),
    "standard": dict(layers=(2, 4, 6), doses=(0.5, 1.0, 2.0, 3.0), per_emotion=None, min_purity=0.8,
                     min_members=5),
    "full": dict(layers=(1, 2, 3, 4, 5, 6), doses=(0.5, 1.0, 1.5, 2.0, 3.0, 4.0), per_emotion=None,
                 min_purity=0.8, min_members=5),
}
_VERSION = 4
_ABLATION_VERSION = 6     # 4: held-out purity, cross-situation purity; 5: graph-free neighbours;
#                          6: probes trained on held-out situations (4 ↔ 5)
#: The edits: the node-pair vector, two controls of its length, and a graph-free baseline of its length
#: (the topic-balanced difference of the two emotions' means over the training sentences).
ARMS = ("steered", "same emotion", "random", "class mean")


def _fingerprint(*arrays: Any) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


def _model_key(model: Any) -> str:
    first = next(model.model.parameters())
    return f"{getattr(model, 'name', type(model).__name__)}/{first.dtype}/{first.flatten()[:8].tolist()}"


def _rate(hits: np.ndarray) -> dict[str, float]:
    k, n = int(np.sum(hits)), int(len(hits))
    low, high = wilson_interval(k, n)
    return dict(k=k, n=n, rate=k / n, low=low, high=high)


def heldout_steering(model: Any, acts: Any, graph: Any, profile: str | None = None, seed: int = 0,
                     same_emotion: Callable = solution_same_emotion_control) -> dict[str, Any]:
    """Steering as a rate on held-out sentences.

    Nodes: :func:`steering_nodes` of ``graph`` (built on ``acts``' last layer), centroids over their
    members in the training situations. Test sentences: single-emotion sentences of the held-out
    situations (``per_emotion`` of each emotion, drawn with ``seed``). Each test sentence gets one pair
    (source node of its own emotion, target node of another), drawn uniformly from all such pairs; at
    each layer ℓ and dose α it is edited by α × (target − source centroid) at layer ℓ, or by a vector of
    the same length toward another node of its own emotion (``same_emotion(layer points, source rows,
    target rows, other rows)``), or along a random direction. Read-outs of the last layer: does it land
    in a node dominated by the target's emotion (nearest centroid, as in :func:`~.change.nearest_node`),
    and does a probe trained on the training situations (:func:`emotion_probe`) call it the target
    emotion? A topic probe (trained the same way) asks whether the sentence keeps its own topic
    (``kept topic (probe)``) or takes the target node's (``target topic (probe)``: the topic of the node the edit
    points to — the target node, or for the same-emotion arm the other node — over the test sentences
    whose node has another topic than their own). The ``class mean`` arm needs no graph: the difference of the
    target and source emotions' means over the training sentences (each the mean of its per-topic means),
    scaled to the steering vector's length. Returns ``dict(rows=[...], n_nodes, n_pairs, probe_accuracy,
    ...)`` (cached)."""
    settings = dict(runtime.by_profile(STEER_SETTINGS, profile))
    s = acts.sentences
    labels = np.asarray(s.emotion)
    train, held = situation_split(s)
    nodes = steering_nodes(graph, labels, train, settings["min_purity"], settings["min_members"])
    members = node_members(graph)
    config = dict(settings=settings, seed=int(seed), version=_VERSION,
                  data=_fingerprint(acts.layers[:, -1], labels.astype("U")),
                  nodes=_fingerprint(np.array(sorted(nodes), dtype="U"),
                                     *(members[n] for n in sorted(nodes))),
                  model=_model_key(model))
    by_emotion = {e: sorted(n for n, lab in nodes.items() if lab == e) for e in EMOTIONS}
    steerable = [e for e in EMOTIONS if len(by_emotion[e]) >= 2]
    if len(steerable) < 2:
        raise ValueError("the graph needs ≥ 2 pure nodes in each of ≥ 2 emotions to steer with controls")

    def compute() -> dict[str, Any]:
        from .rerun import LayerRecording

        rng = np.random.default_rng(seed)
        tests = []
        for e in steerable:
            rows = np.flatnonzero(held & (labels == e))
            if settings["per_emotion"] is not None and len(rows) > settings["per_emotion"]:
                rows = np.sort(rng.choice(rows, settings["per_emotion"], replace=False))
            tests.extend(rows.tolist())
        tests = np.array(tests)
        source, target, other = [], [], []
        for i in tests:
            e = labels[i]
            s_node = by_emotion[e][rng.integers(len(by_emotion[e]))]
            targets = [n for f in steerable if f != e for n in by_emotion[f]]
            target.append(targets[rng.integers(len(targets))])
            others = [n for n in by_emotion[e] if n != s_node]
            other.append(others[rng.integers(len(others))])
            source.append(s_node)
        want = np.array([nodes[t] for t in target])
        reference = unit(acts.layers[:, -1].astype(float))
        dominant = {n: lab for n, (lab, _) in dominant_labels(graph, labels).items()}
        probe = emotion_probe(reference, labels, train)
        topics = np.asarray(s.topic)
        topic_probe = emotion_probe(reference, topics, train)
        node_topic = {n: _dominant(topics[members[n]])[0] for n in nodes}
        want_topic = np.array([node_topic[t] for t in target])
        control_topic = np.array([node_topic[c] for c in other])    # where the same-emotion push points
        fit_rows = {n: members[n][train[members[n]]] for n in nodes}
        texts = [s.text[i] for i in tests]
        recording = LayerRecording(model, texts, layers=settings["layers"])

        def read(last: np.ndarray, arm: str = "steered") -> dict[str, np.ndarray]:
            landed = nearest_node(last, graph, reference)
            said = probe.predict(unit(last))
            topic = topic_probe.predict(unit(last))
            aim = control_topic if arm == "same emotion" else want_topic
            return {"graph": np.array([dominant[n] for n in landed]) == want, "probe": said == want,
                    "kept emotion (probe)": said == labels[tests],
                    "kept topic (probe)": topic == topics[tests],
                    "target topic (probe)": (topic == aim)[aim != topics[tests]]}

        rows, by_target = [], []
        base = read(recording.intact())
        for readout, hits in base.items():
            rows.append(dict(layer=0, dose=0.0, arm="none", readout=readout, **_rate(hits)))
        lengths = {}
        for layer in settings["layers"]:
            x = acts.layers[:, layer].astype(float)
            class_mean = {e: np.mean([x[train & (labels == e) & (topics == tp)].mean(axis=0)
                                      for tp in np.unique(topics)], axis=0) for e in steerable}
            vectors = {arm: np.zeros((len(tests), x.shape[1])) for arm in ARMS}
            for j, (a, b, c) in enumerate(zip(source, target, other)):
                v = x[fit_rows[b]].mean(axis=0) - x[fit_rows[a]].mean(axis=0)
                vectors["steered"][j] = v
                vectors["same emotion"][j] = same_emotion(x, fit_rows[a], fit_rows[b], fit_rows[c])
                r = rng.normal(size=v.shape)
                vectors["random"][j] = r * np.linalg.norm(v) / np.linalg.norm(r)
                m = class_mean[nodes[b]] - class_mean[nodes[a]]
                vectors["class mean"][j] = m * np.linalg.norm(v) / np.linalg.norm(m)
            lengths[layer] = dict(vector=float(np.median(np.linalg.norm(vectors["steered"], axis=1))),
                                  state=float(np.median(np.linalg.norm(x[tests], axis=1))))
            for dose in settings["doses"]:
                for arm in ARMS:
                    out = read(recording.last_layer(layer, add=dose * vectors[arm]), arm)
                    for readout, hits in out.items():
                        rows.append(dict(layer=layer, dose=float(dose), arm=arm, readout=readout, **_rate(hits)))
                    for readout in ("graph", "probe"):   # the pooled rate, split by target emotion
                        for e in steerable:
                            if (want == e).any():
                                by_target.append(dict(layer=layer, dose=float(dose), arm=arm,
                                                      readout=readout, target=e,
                                                      **_rate(out[readout][want == e])))
        held_acc = float(np.mean(probe.predict(reference[held]) == labels[held]))
        return dict(rows=rows, by_target=by_target, n_nodes=len(nodes), nodes_per_emotion={e: len(by_emotion[e]) for e in EMOTIONS},
                    n_pairs=sum(len(by_emotion[e]) * sum(len(by_emotion[f]) for f in steerable if f != e)
                                for e in steerable),
                    n_tests=len(tests), tests=tests, target_emotion=want, lengths=lengths,
                    n_other_topic=int((want_topic != topics[tests]).sum()),
                    probe_accuracy=held_acc)

    if same_emotion is not solution_same_emotion_control:   # a reader's own control: never cached
        return compute()
    return cached("mapper-heldout-steering", config, compute)


def _layer_dose_table(rows: list[dict[str, Any]], column: str, cell: Callable[[dict], str]):
    """Rows (layer, dose) × one column per value of ``column``, each cell ``cell(row)``; "" where a
    (layer, dose) has no row for that column."""
    import pandas as pd

    table: dict = {}
    for r in rows:
        table.setdefault((r["layer"], r["dose"]), {})[r[column]] = cell(r)
    frame = pd.DataFrame(table).T.fillna("")
    frame.index.names = ["layer", "dose"]
    return frame


def steering_by_target(study: dict[str, Any], readout: str = "graph", arm: str = "steered"):
    """A pandas table of one arm and read-out split by the target emotion: rows (layer, dose), columns
    target → "k/n = rate" (the pooled rate of :func:`steering_table` mixes targets in the proportions
    the test sentences drew them)."""
    rows = [r for r in study.get("by_target", []) if r["readout"] == readout and r["arm"] == arm]
    if not rows:
        raise ValueError(f"no rows for read-out {readout!r} and arm {arm!r} (arms: {list(ARMS)}; "
                         "read-outs: 'graph', 'probe')")
    return _layer_dose_table(rows, "target", lambda r: f"{r['k']}/{r['n']} = {r['rate']:.0%}")


def steering_table(study: dict[str, Any], readout: str = "graph"):
    """A pandas table of one read-out: rows (layer, dose), columns arm → "rate [low–high]"."""
    rows = [r for r in study["rows"] if r["readout"] == readout]
    if not rows:
        raise ValueError(f"no read-out {readout!r}; have {sorted({r['readout'] for r in study['rows']})}")
    return _layer_dose_table(rows, "arm", lambda r: f"{r['rate']:.0%} [{r['low']:.0%}–{r['high']:.0%}]")


# --- ablation judged fairly ------------------------------------------------------------------------

def variance_removed(points: Any, directions: Any) -> float:
    """Share of the centred variance of ``points`` (n, d) in the span of ``directions`` (k, d): what
    projecting them out removes. ``k`` random directions remove about ``k / d`` of an isotropic cloud."""
    from .interventions import orthonormal

    x = np.asarray(points, dtype=float)
    if x.ndim != 2 or len(x) < 2 or not np.all(np.isfinite(x)):
        raise ValueError("points must be a finite (n ≥ 2, d) array")
    u = orthonormal(directions)
    if u.shape[1] != x.shape[1]:
        raise ValueError(f"directions have {u.shape[1]} dimensions, points {x.shape[1]}")
    c = x - x.mean(axis=0)
    return float(((c @ u.T) ** 2).sum() / (c ** 2).sum())


#: Per profile: the blocks skipped, random draws, clustering scales of the purity–coverage curves.
ABLATION_SETTINGS = {
    "quick": dict(layer=3, skip_blocks=(4, 6), random_draws=1, scales=(0.35, 0.4, 0.45, 0.5)),
    "standard": dict(layer=3, skip_blocks=(1, 2, 3, 4, 5, 6), random_draws=5,
                     scales=(0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55)),
    "full": dict(layer=3, skip_blocks=(1, 2, 3, 4, 5, 6), random_draws=10,
                 scales=(0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6)),
}

EMOTION_CONTRASTS = (("joy", "sadness"), ("fear", "anger"), ("joy", "anger"))
TOPIC_CONTRASTS = (("work", "family"), ("travel", "food"), ("weather", "sport"))


@runtime.one_thread_for_small_fits()
def _judge(last: np.ndarray, emotion: np.ndarray, topic: np.ndarray, train: np.ndarray,
           held: np.ndarray, scales: tuple[float, ...], situations: Any = None,
           halves: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, float]:
    """One edited model's last layer, judged: emotion and topic purity at equal coverage (all
    sentences); emotion purity of the held-out situations' sentences only, at equal coverage *of those
    sentences* (the emotion directions were fitted on the training ones); with ``situations``, the
    cross-situation purity of all sentences (and its number of pairs); probes on held-out situations
    (with ``halves``, also probes trained on one held-out situation and scored on the other, both
    ways: :func:`cross_fitted_probe`)."""
    from .change import purity_at_coverage
    from .measures import cross_situation_purity
    from .study import recipe_graph

    x = unit(last)
    lens = pca_lens(x)
    curves: dict[str, list] = {"emotion": [], "topic": [], "held": []}
    for scale in scales:
        graph = recipe_graph(x, lens, scale=scale)
        for name, labels in (("emotion", emotion), ("topic", topic)):
            pure = graph_purity(graph, labels)
            row = dict(scale=scale, coverage=pure.coverage, nodes=pure.nodes,
                       purity=pure.purity if pure.nodes else float("nan"))
            if name == "emotion" and situations is not None:
                pp = cross_situation_purity(list(node_members(graph).values()), emotion, situations)
                row.update(cross=pp.share, pairs=pp.pairs)
            curves[name].append(row)
        members = [m[held[m]] for m in node_members(graph).values()]
        members = [m for m in members if len(m)]
        covered = np.zeros(len(x), dtype=bool)
        for m in members:
            covered[m] = True
        curves["held"].append(dict(scale=scale, coverage=float(covered[held].mean()), nodes=len(members),
                                   purity=float(sum(_dominant(emotion[m])[1] for m in members)
                                                / sum(len(m) for m in members)) if members else float("nan")))
    row: dict[str, float] = {}
    for name, labels in (("emotion", emotion), ("topic", topic)):
        for c in COVERAGES:
            row[f"{name} purity @{c:.0%}"] = purity_at_coverage(curves[name], c)
        probe = emotion_probe(x, labels, train)
        row[f"{name} probe"] = float(np.mean(probe.predict(x[held]) == labels[held]))
        if halves is not None:
            correct, n = cross_fitted_probe(x, labels, *halves)
            row[f"{name} probe, held-out trained"] = correct / n
    for c in COVERAGES:
        row[f"emotion purity @{c:.0%}, held-out situations"] = purity_at_coverage(curves["held"], c)
        if situations is not None:
            row[f"cross-situation purity @{c:.0%}"] = purity_at_coverage(curves["emotion"], c, "cross")
            row[f"pairs @{c:.0%}"] = purity_at_coverage(curves["emotion"], c, "pairs")
    if situations is not None:
        row.update(_neighbour_columns(x, emotion, held, situations))
    return row


def _neighbour_columns(x: np.ndarray, emotion: np.ndarray, held: np.ndarray,
                       situations: Any) -> dict[str, float]:
    """Graph-free columns (:func:`~.neighbours.cross_situation_agreement`): among a sentence's k
    nearest neighbours from situations it does not share, the share with its emotion (k = 1, 5), over
    all sentences and over the held-out situations' sentences only (neighbours among those)."""
    from .neighbours import cross_situation_agreement

    situations = list(situations)
    held_sits = [situations[i] for i in np.flatnonzero(held)]
    out = {}
    for k in (1, 5):
        out[f"same emotion, {k}-NN other situations"] = cross_situation_agreement(
            x, emotion, situations, k)
        out[f"same emotion, {k}-NN other situations, held-out"] = cross_situation_agreement(
            x[held], emotion[held], held_sits, k)
    return out


@runtime.one_thread_for_small_fits()
def same_layer_probe(acts: Any, study: dict[str, Any], shuffled_draws: int = 3) -> Any:
    """Emotion and topic probes on the **edited layer itself** (``study["layer"]``; sentence means with
    each direction set of :func:`judged_ablation` projected out — the projection is linear, so this is
    the same as projecting every token and then pooling), in two columns each:

    * ``… probe, layer L``: trained on the training situations — the sentences the directions were
      fitted on, whose class means the projection makes equal, so near chance **by construction** —
      and scored on the held-out ones;
    * ``… probe, layer L, held-out trained``: trained on one held-out situation and scored on the other,
      both ways (:func:`cross_fitted_probe`; no row the directions saw), the fair read-out.

    Control rows ``shuffled-label directions out (d)``: the emotion contrasts of a labelling shuffled
    over the training sentences (``numpy`` generator seeded ``d``, ``d < shuffled_draws``), projected
    out the same way. Returns a pandas table (one row per edit); ``.attrs["held_out_n"]`` is n of the
    held-out-trained columns."""
    import pandas as pd

    from .interventions import orthonormal

    check_int(shuffled_draws, "shuffled_draws", min=0)
    s = acts.sentences
    emotion, topic = np.asarray(s.emotion), np.asarray(s.topic)
    train, held = situation_split(s)
    halves = held_out_halves(s)
    layer = study["layer"]
    x = acts.layers[:, layer].astype(float)
    edits = [("intact", None)] + [(f"{n} out", d) for n, d in study["directions"].items()]
    for draw in range(shuffled_draws):
        fake = emotion.copy()
        fake[train] = np.random.default_rng(draw).permutation(emotion[train])
        edits.append((f"shuffled-label directions out ({draw})", np.stack(
            [concept_direction(x[train], fake[train], a, b) for a, b in EMOTION_CONTRASTS])))
    rows, n = {}, 0
    for name, d in edits:
        if d is None:
            edited = x
        else:
            u = orthonormal(d)
            edited = x - (x @ u.T) @ u
        row = {}
        for what, labels in (("emotion", emotion), ("topic", topic)):
            probe = emotion_probe(edited, labels, train)
            row[f"{what} probe, layer {layer}"] = float(np.mean(probe.predict(unit(edited[held]))
                                                               == labels[held]))
            correct, n = cross_fitted_probe(edited, labels, *halves)
            row[f"{what} probe, layer {layer}, held-out trained"] = correct / n
        rows[name] = row
    table = pd.DataFrame(rows).T
    table.attrs["held_out_n"] = n
    return table


def judged_ablation(model: Any, acts: Any, profile: str | None = None, seed: int = 0) -> dict[str, Any]:
    """Ablations of MiniLM judged fairly (cached): for the intact model, each block of the profile
    skipped, and three directions projected out at ``layer`` — the emotion contrasts, the topic
    contrasts, the top three principal components, and random directions (``random_draws`` times) —
    the last layer's emotion and topic purity at equal coverage (:data:`COVERAGES`, over the clustering
    ``scales``) and a probe's accuracy on held-out situations (retrained on each edited model's training
    sentences); for the direction edits also the share of the layer's variance removed."""
    settings = dict(runtime.by_profile(ABLATION_SETTINGS, profile))
    s = acts.sentences
    emotion, topic = np.asarray(s.emotion), np.asarray(s.topic)
    train, held = situation_split(s)
    layer = settings["layer"]
    config = dict(settings=settings, seed=int(seed), version=_ABLATION_VERSION,
                  data=_fingerprint(acts.layers[:, [layer, -1]], emotion.astype("U")),
                  model=_model_key(model))

    def compute() -> dict[str, Any]:
        from .interventions import remove_directions, skip_block
        from .rerun import LayerRecording

        x = acts.layers[:, layer].astype(float)
        centred = x[train] - x[train].mean(axis=0)
        directions = {
            "emotion directions": np.stack([concept_direction(x[train], emotion[train], a, b)
                                            for a, b in EMOTION_CONTRASTS]),
            "topic directions": np.stack([concept_direction(x[train], topic[train], a, b)
                                          for a, b in TOPIC_CONTRASTS]),
            "top 3 principal components": np.linalg.svd(centred, full_matrices=False)[2][:3],
        }
        rng = np.random.default_rng(seed)
        for i in range(settings["random_draws"]):
            directions[f"random directions ({i + 1})"] = rng.normal(size=(3, x.shape[1]))
        from .study import situation_sets

        situations = situation_sets(s)
        needed = {layer} | {b - 1 for b in settings["skip_blocks"]} | set(settings["skip_blocks"])
        recording = LayerRecording(model, list(s.text), layers=sorted(needed))
        scales = tuple(settings["scales"])
        halves = held_out_halves(s)
        rows = {"intact": _judge(recording.intact(), emotion, topic, train, held, scales, situations,
                                 halves)}
        rows["intact"]["variance removed"] = 0.0
        for b in settings["skip_blocks"]:
            rows[f"skip block {b}"] = _judge(recording.last_layer(b, skip_block()), emotion, topic,
                                             train, held, scales, situations, halves)
            rows[f"skip block {b}"]["variance removed"] = float("nan")
        for name, d in directions.items():
            row = _judge(recording.last_layer(layer, remove_directions(d)), emotion, topic, train,
                         held, scales, situations, halves)
            row["variance removed"] = variance_removed(x[train], d)
            rows[f"{name} out"] = row
        return dict(rows=rows, layer=layer, directions=directions)

    return cached("mapper-judged-ablation", config, compute)


def ablation_table(study: dict[str, Any]):
    """The study's rows as a pandas table (one row per edit)."""
    import pandas as pd

    return pd.DataFrame(study["rows"]).T
