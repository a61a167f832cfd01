"""Chapter 4 — Mapper on activations.

* :mod:`.graph`       — :func:`mapper_graph` (built with kmapper) and :func:`graph_invariants`
* :mod:`.shapes`      — point clouds of known topology (circle, two circles, figure eight, line)
* :mod:`.sweeps`      — how often Mapper recovers a shape's topology over covers and samples
* :mod:`.graph_plots` — Mapper step by step; k-means beside Mapper; the graph drawing all figures use
* :mod:`.sentences`   — the course's labelled sentence set (emotion × topic, with mixed sentences)
* :mod:`.activations` — a transformer's activations of the sentences, every layer (MiniLM by default,
  through :mod:`course_lib.encoders`)
* :mod:`.lenses`      — L2 norm, PCA, concept direction, k-NN distance, several at once
* :mod:`.measures`    — purity and coverage, entanglement, Mapper's bridges vs k-means' boundaries
* :mod:`.kmeans`      — scikit-learn's k-means clustering, seeded from one Gram matrix (same clusters, faster)
* :mod:`.study`       — notebook 4.2's measurements
* :mod:`.output_lens` — a lens read through the model's unembedding (emotion words no sentence uses),
  compared with PCA 1, PCA 2-D, random 2-D lenses and a fitted concept lens against k-means at matched size,
  and against many random projections and random-word lenses (4.2)
* :mod:`.tokens`      — a token-level graph TopoBERT's way: L2-norm lens, Jaccard-weighted edges (4.2)
* :mod:`.flares`      — a planted star against a line: do Mapper's leaves count the arms better than k-means'?
* :mod:`.resolution`  — both methods' resolution knobs (Mapper's scale and intervals, k-means' k) swept on
  the planted shapes (4.2)
* :mod:`.controls`    — why Mapper loses: DBSCAN with no lens, and the same cover with Ward's clusterer (4.2)
* :mod:`.activation_plots` — notebook 4.2's figures (and the activation graph 4.3–4.4 reuse)
* :mod:`.page`        — kmapper's interactive page, offline, nodes labelled
* :mod:`.finetune`    — MiniLM's top layers fine-tuned on the emotion labels, every checkpoint (4.3)
* :mod:`.interventions` — edits of hidden states while the model runs: skip a block, remove or add a
  direction (4.3)
* :mod:`.rerun`       — record hidden states once, rerun only the blocks above an edit (4.3)
* :mod:`.change`      — notebook 4.3's measurements: the graph before and after fine-tuning; steering
  one pair in-sample
* :mod:`.judged`      — 4.3's interventions judged fairly: held-out steering rates with same-emotion and
  random controls, ablation at equal coverage with a probe and variance-matched controls
* :mod:`.change_plots` — notebook 4.3's figures (and 4.4's purity-coverage curves)
* :mod:`.neighbours`  — graph-free cross-situation neighbours: the share of a sentence's nearest neighbours from
  other situations that share its emotion, and how often its nearest neighbour is its own situation (4.3, 4.4)
* :mod:`.sae`         — a small sparse autoencoder on one layer's token activations, its random-dictionary
  control, and spaces compared on held-out sentences (4.4)
* :mod:`.graph_exercises`  — 4.1–4.2's checkers (nerve; intervals per point; fitted concept lens;
  cross-situation purity; centroid adjacency)
* :mod:`.graph_predictions` — 4.2's written-down prediction about cross-situation purity, checked
* :mod:`.change_exercises` — 4.3–4.4's checkers (steering pair; same-emotion control; variance removed;
  frequency pick; random dictionary)
"""

from .graph import GraphInvariants, default_clusterer, graph_invariants, mapper_graph
from .shapes import SHAPES, shape_points

__all__ = ["mapper_graph", "graph_invariants", "GraphInvariants", "default_clusterer", "SHAPES", "shape_points"]
