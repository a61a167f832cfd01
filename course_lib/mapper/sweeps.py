"""How often Mapper recovers a shape's topology over cover settings and samples (notebook 4.1).

One lucky cover proves nothing: :func:`recovery_table` counts, for each shape, the (seed, n_cubes,
overlap) combinations whose graph has the shape's components *and* cycles, with a Wilson interval.
"""

from __future__ import annotations

from itertools import product
from typing import Any, Mapping, Sequence

from ..stats import format_rate
from .graph import graph_invariants, mapper_graph
from .shapes import SHAPES, shape_points

__all__ = ["RECOVERY_SETTINGS", "recovery_counts", "recovery_table", "recovery_by_setting", "recovery_spread_table"]

#: Per profile: the samples and cover settings of notebook 4.1's recovery table.
RECOVERY_SETTINGS = {
    "quick": dict(seeds=(0, 1), n_cubes=(6, 8, 10, 14), overlaps=(0.2, 0.3, 0.5)),
    "standard": dict(seeds=(0, 1, 2, 3, 4), n_cubes=(6, 8, 10, 14), overlaps=(0.2, 0.3, 0.5)),
    "full": dict(seeds=tuple(range(10)), n_cubes=(6, 8, 10, 14, 20), overlaps=(0.2, 0.3, 0.4, 0.5)),
}


def recovery_counts(shape: str, *, n_points: int, seeds: Sequence[int], n_cubes: Sequence[int],
                    overlaps: Sequence[float], noise: float = 0.04) -> tuple[int, int]:
    """``(right, total)``: graphs (lens = first coordinate) with the shape's components and cycles."""
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {sorted(SHAPES)}, got {shape!r}")
    right = total = 0
    for seed in seeds:
        points = shape_points(shape, n_points, noise=noise, seed=seed)
        for cubes, overlap in product(n_cubes, overlaps):
            inv = graph_invariants(mapper_graph(points, points[:, 0], n_cubes=cubes, overlap=overlap))
            right += (inv.components, inv.cycles) == SHAPES[shape]
            total += 1
    return right, total


def recovery_table(counts: Mapping[tuple[str, int], tuple[int, int]]) -> Any:
    """A pandas DataFrame of :func:`recovery_counts` results keyed by ``(shape, n_points)``: one row
    per shape, one column per number of points, each cell "k/n = % (95% CI …)"."""
    import pandas as pd

    rows: dict = {}
    for (shape, n_points), (right, total) in counts.items():
        rows.setdefault(shape, {})[f"{n_points} points"] = format_rate(right, total)
    return pd.DataFrame(rows).T


def recovery_by_setting(shape: str, *, n_points: int, seeds: Sequence[int], n_cubes: Sequence[int],
                        overlaps: Sequence[float], noise: float = 0.04) -> dict[tuple[int, float], float]:
    """For each cover setting ``(n_cubes, overlap)``, the share of ``seeds`` (samples) whose graph has
    the shape's components and cycles. The settings are a chosen grid, not a random sample of covers,
    so summarise them by their range (:func:`recovery_spread_table`), not by one pooled rate."""
    if shape not in SHAPES:
        raise ValueError(f"shape must be one of {sorted(SHAPES)}, got {shape!r}")
    if not seeds:
        raise ValueError("seeds must name at least one sample")
    out = {}
    for cubes, overlap in product(n_cubes, overlaps):
        right = 0
        for seed in seeds:
            points = shape_points(shape, n_points, noise=noise, seed=seed)
            inv = graph_invariants(mapper_graph(points, points[:, 0], n_cubes=cubes, overlap=overlap))
            right += (inv.components, inv.cycles) == SHAPES[shape]
        out[(int(cubes), float(overlap))] = right / len(seeds)
    return out


def recovery_spread_table(shares: Mapping[tuple[str, int], Mapping[tuple[int, float], float]]) -> Any:
    """A pandas DataFrame of :func:`recovery_by_setting` results keyed by ``(shape, n_points)``: one
    row per shape, one column per number of points, each cell "a/b all right; min …, median …": the
    settings where every seed is right, and the min and median over settings of the share of seeds right."""
    import numpy as np
    import pandas as pd

    rows: dict = {}
    for (shape, n_points), per_setting in shares.items():
        v = np.asarray(list(per_setting.values()), dtype=float)
        if v.size == 0:
            raise ValueError(f"no settings for {(shape, n_points)!r}")
        rows.setdefault(shape, {})[f"{n_points} points"] = (
            f"{int((v == 1).sum())}/{v.size} all right; min {v.min():.0%}, median {np.median(v):.0%}")
    return pd.DataFrame(rows).T
