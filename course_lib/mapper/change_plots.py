"""Figures of notebook 4.3 (the graph before and after fine-tuning, ablation and steering)."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure

from ..figures import MARKERS, marker, new_figure


__all__ = ["plot_fine_tune", "plot_graph_over_training", "plot_steering",
           "plot_judged_ablation", "plot_heldout_steering",
           "plot_purity_coverage"]


def plot_fine_tune(run: Any) -> Figure:
    """Training loss per step and held-out loss and accuracy at each checkpoint (log-scaled steps)."""
    fig = new_figure((8.6, 3.2))
    ax_loss, ax_acc = fig.subplots(1, 2)
    steps = np.arange(1, len(run.train_loss) + 1)
    ax_loss.plot(steps, run.train_loss, color="0.6", lw=1, label="training batch")
    ax_loss.plot(np.maximum(run.checkpoint_steps, 0.7), run.held_out_loss, "o-", color="C3",
                 label="held-out situations")
    ax_loss.set_xscale("log"); ax_loss.set_yscale("log")
    ax_loss.set_xlabel("step (0 plotted at 0.7)"); ax_loss.set_ylabel("cross-entropy")
    ax_loss.legend(fontsize=8); ax_loss.set_title("Loss", fontsize=9)
    x = np.maximum(run.checkpoint_steps, 0.7)
    ax_acc.plot(x, run.train_accuracy, "o-", color="0.4", label="training sentences")
    ax_acc.plot(x, run.held_out_accuracy, "o-", color="C3", label="held-out situations")
    ax_acc.axhline(0.25, color="0.5", ls=":", lw=1)
    ax_acc.set_xscale("log"); ax_acc.set_ylim(0, 1.02)
    ax_acc.set_xlabel("step"); ax_acc.set_ylabel("emotion accuracy (linear head)")
    ax_acc.legend(fontsize=8, loc="lower right"); ax_acc.set_title("Accuracy (dotted: chance)", fontsize=9)
    return fig


def plot_graph_over_training(steps: Sequence[int], rows: Sequence[Mapping[str, float]]) -> Figure:
    """Purity, coverage and entanglement, and the number of components, at each checkpoint."""
    fig = new_figure((8.6, 3.0))
    ax_rates, ax_parts = fig.subplots(1, 2)
    x = np.maximum(np.asarray(steps, dtype=float), 0.7)
    for (key, color), shape in zip((("purity", "C0"), ("coverage", "C2"), ("entanglement", "C3")), MARKERS):
        ax_rates.plot(x, [r[key] for r in rows], marker=shape, ls="-", color=color, label=key)
    ax_rates.set_xscale("log"); ax_rates.set_ylim(0, 1.02); ax_rates.set_xlabel("step")
    ax_rates.legend(fontsize=8); ax_rates.set_title("Layer-6 graph, emotion labels", fontsize=9)
    ax_parts.plot(x, [r["components"] for r in rows], "o-", color="0.3", label="components")
    ax_parts.plot(x, [r["cycles"] for r in rows], "s--", color="0.6", label="cycles")
    ax_parts.set_xscale("log"); ax_parts.set_xlabel("step"); ax_parts.legend(fontsize=8)
    ax_parts.set_title("Shape of the graph", fontsize=9)
    return fig


def plot_steering(table: Sequence[Mapping[str, Any]], target: str) -> Figure:
    """Share of steered sentences landing in a ``target``-dominated node, against the dose, one line
    per layer; dashed: the same dose of a random direction of equal length."""
    fig = new_figure((5.6, 3.4))
    ax = fig.subplots()
    layers = sorted({r["layer"] for r in table})
    for i, layer in enumerate(layers):
        rows = sorted((r for r in table if r["layer"] == layer), key=lambda r: r["dose"])
        ax.plot([r["dose"] for r in rows], [r["steered"] for r in rows], marker=marker(i), ls="-",
                color=f"C{i}", label=f"layer {layer}")
        ax.plot([r["dose"] for r in rows], [r["random"] for r in rows], "x--", color=f"C{i}", alpha=0.6)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("dose α (vector added = α × centroid difference)")
    ax.set_ylabel(f"share landing in a {target} node")
    ax.legend(fontsize=8, title="edit at", title_fontsize=8, loc="center right")
    ax.set_title("Steering by the difference of two neighbourhoods (dashed: random, same length)", fontsize=9)
    return fig


def plot_purity_coverage(curves: Mapping[str, Sequence[Mapping[str, float]]],
                         kmeans: Mapping[str, float] | None = None, key: str = "purity",
                         chance: float | None = None) -> Figure:
    """Purity against coverage as the clustering scale varies, one curve per model; each point is
    labelled with its scale. ``kmeans``: k-means purity per model (all points), drawn at coverage 1.
    ``key="cross"`` draws cross-situation purity instead (curves made with ``situations``); ``chance``
    adds its chance level as a dotted line."""
    fig = new_figure((5.8, 3.8))
    ax = fig.subplots()
    for i, (name, curve) in enumerate(curves.items()):
        pts = [c for c in curve if c["nodes"] and np.isfinite(c[key])]
        ax.plot([c["coverage"] for c in pts], [c[key] for c in pts], marker=marker(i), ls="-",
                color=f"C{i}", label=name)
        for c in pts:
            ax.annotate(f"{c['scale']:g}", (c["coverage"], c[key]), fontsize=7, color=f"C{i}",
                        xytext=(3, 3), textcoords="offset points")
        if kmeans and name in kmeans:
            ax.scatter([1.0], [kmeans[name]], marker="*", s=120, color=f"C{i}", edgecolors="k", lw=0.5)
    if chance is not None:
        ax.axhline(chance, color="0.5", ls=":", lw=1)
    ax.set_xlim(0, 1.05); ax.set_ylim((0.3 if key == "purity" else 0.0), 1.02)
    ax.set_xlabel("coverage (share of sentences in some node)")
    ax.set_ylabel("node purity (emotion)" if key == "purity" else "cross-situation purity (emotion)")
    ax.legend(fontsize=8, loc="lower left")
    note = " (★: k-means, k = 24)" if kmeans else " (labels: DBSCAN scale)"
    ax.set_title("Purity against coverage over the clustering scale" + note, fontsize=9)
    return fig


def plot_judged_ablation(rows: Mapping[str, Mapping[str, float]], coverage: str = "75%") -> Figure:
    """Each edit's emotion and topic purity at ``coverage`` (left) and probe accuracy on held-out
    situations (right); dotted lines: the intact model. ``rows``: :func:`~.judged.judged_ablation`'s."""
    fig = new_figure((9.0, 3.6))
    axes = fig.subplots(1, 2, sharey=True)
    names = [n for n in rows if n != "intact"]
    y = np.arange(len(names))[::-1]
    for ax, (what, title) in zip(axes, ((f"purity @{coverage}", f"Mapper purity at {coverage} coverage"),
                                        ("probe", "probe accuracy, held-out situations"))):
        for j, (label, color) in enumerate((("emotion", "C0"), ("topic", "C2"))):
            key = f"{label} {what}"
            ax.barh(y + (0.2 if j == 0 else -0.2), [rows[n][key] for n in names], 0.38, color=color,
                    label=label)
            ax.axvline(rows["intact"][key], color=color, ls=":", lw=1.2)
        ax.set_xlim(0.4, 1.0)
        ax.set_title(title + " (dotted: intact)", fontsize=9)
    axes[1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    axes[0].set_yticks(y, [f"{n}  ({rows[n]['variance removed']:.0%} var.)"
                           if np.isfinite(rows[n]["variance removed"]) else n for n in names], fontsize=8)
    return fig


def plot_heldout_steering(rows: Sequence[Mapping[str, Any]], readout: str = "graph") -> Figure:
    """Held-out steering: the share of sentences read as the target emotion against the dose, one panel
    per layer; the steering vector and its two controls of equal length, with Wilson intervals; the
    grey band is the unedited rate. ``rows``: :func:`~.judged.heldout_steering`'s ``rows``."""
    rows = [r for r in rows if r["readout"] == readout]
    layers = sorted({r["layer"] for r in rows if r["layer"] > 0})
    base = next(r for r in rows if r["arm"] == "none")
    fig = new_figure((3.0 * len(layers) + 0.6, 3.2))
    axes = np.atleast_1d(fig.subplots(1, len(layers), sharey=True))
    for ax, layer in zip(axes, layers):
        ax.axhspan(base["low"], base["high"], color="0.85", lw=0)
        for i, (arm, color) in enumerate((("steered", "C3"), ("same emotion", "C0"), ("random", "0.4"))):
            sel = sorted((r for r in rows if r["layer"] == layer and r["arm"] == arm), key=lambda r: r["dose"])
            d = np.array([r["dose"] for r in sel]) + (i - 1) * 0.04
            rate = np.array([r["rate"] for r in sel])
            err = np.array([[r["rate"] - r["low"], r["high"] - r["rate"]] for r in sel]).T
            ax.errorbar(d, rate, yerr=err, marker=marker(i), color=color, capsize=2, lw=1.2, label=arm)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("dose α")
        ax.set_title(f"edit at layer {layer}", fontsize=9)
    axes[0].set_ylabel("share read as the target emotion")
    axes[0].legend(fontsize=7, loc="upper left")
    fig.suptitle(f"Held-out sentences (n = {base['n']}), read-out: {readout}; 95 % Wilson intervals", fontsize=9)
    return fig
