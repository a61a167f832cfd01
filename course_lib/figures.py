"""The figure kit every plot module of the course uses.

Figures are built as ``matplotlib.figure.Figure`` objects, never through ``pyplot``: a notebook
shows a returned figure exactly once (no second copy from pyplot's registry, so no ``;`` after a
plot call), nothing piles up when a slider renders frames in a loop, and any backend works.

* :func:`new_figure` — an empty figure (constrained layout unless asked otherwise);
* :func:`new_axes` — draw on the caller's axes, or on a fresh one-axes figure;
* :data:`MARKERS`, :func:`marker` — the shared marker cycle, so lines and groups differ in shape as
  well as in hue.
"""

from __future__ import annotations

from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = ["MARKERS", "marker", "new_figure", "new_axes"]

#: The marker cycle: series ``i`` gets ``MARKERS[i % len(MARKERS)]``.
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X", "*")


def marker(i: int) -> str:
    """The ``i``-th marker of the shared cycle (wraps round)."""
    return MARKERS[i % len(MARKERS)]


def new_figure(figsize: tuple[float, float], *, layout: str | None = "constrained") -> Figure:
    """A new ``Figure`` of ``figsize`` inches, not registered with pyplot."""
    return Figure(figsize=figsize, layout=layout)


def new_axes(ax: Axes | None, figsize: tuple[float, float], **kwargs: Any) -> tuple[Figure, Axes]:
    """``(ax.figure, ax)`` when the caller passes axes to draw on, else a new one-axes figure of
    ``figsize`` (``kwargs`` such as ``projection="3d"`` go to ``add_subplot``)."""
    if ax is not None:
        if not isinstance(ax, Axes):
            raise TypeError(f"ax must be a matplotlib Axes, got {type(ax).__name__}")
        return ax.figure, ax
    fig = new_figure(figsize)
    return fig, fig.add_subplot(**kwargs)
