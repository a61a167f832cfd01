"""The figure kit every plot module of the course uses.

Figures are built as ``matplotlib.figure.Figure`` objects, never through ``pyplot``: a notebook
shows a returned figure exactly once (no second copy from pyplot's registry, so no ``;`` after a
plot call), nothing piles up when a slider renders frames in a loop, and any backend works.

* :func:`new_figure` — an empty figure (constrained layout unless asked otherwise);
* :func:`new_axes` — draw on the caller's axes, or on a fresh one-axes figure;
* :data:`MARKERS`, :func:`marker` — the shared marker cycle, so lines and groups differ in shape as
  well as in hue;
* :func:`fit_for_display`, :func:`figure_png` — how every figure is shown: sized for the book's
  content column (:data:`COLUMN_WIDTH_IN`), no text under :data:`MIN_FONT_PT` at the displayed size,
  rendered at :data:`PIXEL_RATIO` times the screen's resolution so it stays sharp.

Why at display time: the plot modules (and the few figures a notebook draws itself) choose sizes in
inches for a wide screen; the book shows them in a column 688 CSS px wide (7.2 in at the web's 96 px
per inch). Squeezing a 15-inch figure into it would print 8-pt labels 4 px high. Instead, in IPython
(Jupyter, Colab, the book build) a matplotlib figure is displayed through :func:`figure_png`, which
narrows it to the column first (a row of four or more panels is folded into two rows instead of
being squeezed) and raises every smaller font to the minimum; constrained layout then reflows the
panels, and the PNG's metadata tells the front end its width in CSS pixels. Slider frames
(:mod:`course_lib.widgets`) go through the same :func:`fit_for_display`.
"""

from __future__ import annotations

import io
import struct
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.text import Text

__all__ = ["MARKERS", "marker", "new_figure", "new_axes", "fit_for_display", "figure_png", "describe_figure",
           "COLUMN_WIDTH_IN", "CSS_DPI", "MIN_FONT_PT", "PIXEL_RATIO"]

#: Width a displayed figure may take, in inches: the book's content column is 688 CSS px at 1280 px
#: (7.2 in at :data:`CSS_DPI`); 7.0 leaves room for the margin a tight crop keeps.
COLUMN_WIDTH_IN: float = 7.0
#: CSS pixels per inch: a figure of ``w`` inches is shown ``w * CSS_DPI`` CSS pixels wide.
CSS_DPI: int = 96
#: The smallest text a displayed figure may carry, in points at its displayed size.
MIN_FONT_PT: float = 10.0
#: Image pixels per CSS pixel of a displayed figure (2: sharp on high-density screens).
PIXEL_RATIO: int = 2

#: The marker cycle: series ``i`` gets ``MARKERS[i % len(MARKERS)]``.
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X", "*")


def marker(i: int) -> str:
    """The ``i``-th marker of the shared cycle (wraps round)."""
    return MARKERS[i % len(MARKERS)]


def new_figure(figsize: tuple[float, float], *, layout: str | None = "constrained") -> Figure:
    """A new ``Figure`` of ``figsize`` inches, not registered with pyplot (displayed through
    :func:`figure_png`, which fits it to the book's column)."""
    show_figures_for_the_column()
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


def fit_for_display(fig: Figure, *, width_in: float = COLUMN_WIDTH_IN,
                    min_font_pt: float = MIN_FONT_PT) -> Figure:
    """Make ``fig`` legible at ``width_in`` inches (in place; returns ``fig``).

    A wider figure is narrowed to ``width_in`` and its height scaled by the *square root* of that
    factor, so multi-panel rows get taller panels rather than flatter ones; then every text smaller
    than ``min_font_pt`` (titles, labels, tick labels, legends, annotations) grows to it. Shown at
    :data:`CSS_DPI`, ``min_font_pt`` points are what the reader sees. Constrained layout reflows the
    panels at the next draw; a figure without a layout engine keeps its subplot positions.
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    if not width_in > 0 or not min_font_pt > 0:
        raise ValueError(f"width_in and min_font_pt must be positive, got {width_in}, {min_font_pt}")
    w, h = fig.get_size_inches()
    if w > width_in and not _two_rows(fig, width_in):
        fig.set_size_inches(width_in, h * (width_in / w) ** 0.5)
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis, getattr(ax, "zaxis", None)):
            if axis is None:
                continue
            for which, ticks in (("major", axis.get_major_ticks()), ("minor", axis.get_minor_ticks())):
                # ticks made at draw time copy the first tick's properties and the axis's tick kwargs
                if ticks and ticks[0].label1.get_fontsize() < min_font_pt:
                    axis.set_tick_params(which=which, labelsize=min_font_pt)
    for text in fig.findobj(Text):
        if text.get_fontsize() < min_font_pt:
            text.set_fontsize(min_font_pt)
    _fold_wide_legends(fig)
    return fig


#: A row of this many panels or more is folded into two rows when it would otherwise be narrowed
#: below :data:`MIN_PANEL_IN` inches a panel.
MIN_PANEL_IN: float = 2.3


def _two_rows(fig: Figure, width_in: float) -> bool:
    """Fold a single row of panels that would be squeezed below :data:`MIN_PANEL_IN` each into two
    rows at ``width_in`` (each panel keeps its aspect). Only plain grids are folded: every axes in one
    cell of the same one-row grid (colour bars of constrained layout follow their axes). Returns
    whether it folded."""
    from matplotlib.gridspec import GridSpec

    axes = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
    specs = [ax.get_subplotspec() for ax in axes]
    if len(axes) < 2 or any(spec is None for spec in specs):
        return False
    grid = specs[0].get_gridspec()
    n = grid.ncols
    if (grid.nrows != 1 or any(spec.get_gridspec() is not grid for spec in specs)
            or sorted(spec.colspan.start for spec in specs) != list(range(n))
            or any(len(spec.colspan) != 1 for spec in specs) or width_in / n >= MIN_PANEL_IN):
        return False
    w, h = fig.get_size_inches()
    cols = -(-n // 2)
    panel_h = h * (width_in / cols) / (w / n)
    fig.set_size_inches(width_in, 2 * panel_h)
    folded = GridSpec(2, cols, figure=fig)
    for ax, spec in zip(axes, specs):
        i = spec.colspan.start
        ax.set_subplotspec(folded[i // cols, i % cols])
        ax.set_position(folded[i // cols, i % cols].get_position(fig))
    return True


def _fold_wide_legends(fig: Figure, rounds: int = 3) -> None:
    """Legends laid out in one long row (``ncols``) can outgrow a narrowed figure once their text
    is larger: halve their columns until each fits the figure's width."""
    legends = [leg for leg in fig.findobj(Legend) if getattr(leg, "_ncols", 1) > 1]
    for _ in range(rounds if legends else 0):
        fig.draw_without_rendering()
        wide = [leg for leg in legends if leg.get_window_extent().width > fig.bbox.width * 0.98 and leg._ncols > 1]
        if not wide:
            return
        for leg in wide:
            leg.set_ncols(max(1, -(-leg._ncols // 2)))


def describe_figure(fig: Figure) -> str:
    """A plain-words account of ``fig`` for alternative text: its title and, per panel, the panel's
    title and what it plots against what (from the axis labels). Colour bars are left out."""
    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")

    def clean(text: str) -> str:
        return " ".join(text.replace("$", "").replace("\\", "").split())

    panels = []
    for ax in fig.axes:
        if ax.get_label() == "<colorbar>" or not ax.get_visible():
            continue
        title = clean(ax.get_title() or ax.get_title("left") or ax.get_title("right"))
        x, y = clean(ax.get_xlabel()), clean(ax.get_ylabel())
        what = f"{y} against {x}" if x and y else (y or x)
        panels.append(f"{title}: {what}" if title and what else (title or what))
    panels = [p for p in panels if p]
    suptitle = getattr(fig, "_suptitle", None)
    head = clean(suptitle.get_text()) if suptitle is not None else ""
    n = len([ax for ax in fig.axes if ax.get_label() != "<colorbar>"])
    body = "; ".join(panels)
    if not body:
        return head or f"A figure with {n} panel{'s' if n != 1 else ''}"
    intro = f"{head}. " if head else ""
    return f"{intro}{'Panels' if len(panels) > 1 else 'Plot'}: {body}"


def png_size(png: bytes) -> tuple[int, int]:
    """``(width, height)`` in pixels of PNG bytes (read from the IHDR header)."""
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("png must be PNG bytes")
    return struct.unpack(">II", png[16:24])


def figure_png(fig: Figure, *, tight: bool = True, pixel_ratio: int = PIXEL_RATIO,
               fit: bool = True) -> tuple[bytes, dict[str, int]]:
    """``(png, {"width": w})``: ``fig`` (fitted with :func:`fit_for_display` unless ``fit`` is
    false) rendered at ``pixel_ratio * CSS_DPI`` dpi, and its width in CSS pixels.

    The size is what a front end shows (Jupyter and myst-nb read it from the output's metadata), so
    the picture keeps the figure's size in CSS pixels and is ``pixel_ratio`` times sharper. The
    background is the figure's own (white), so a figure stays legible on the book's dark theme.
    ``tight`` crops to the drawn content (as Jupyter's inline backend does); sliders turn it off so
    that every frame keeps the same size.
    """
    if fit:
        fit_for_display(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=CSS_DPI * pixel_ratio, bbox_inches="tight" if tight else None,
                facecolor="white")
    png = buffer.getvalue()
    width, _ = png_size(png)
    # the width only: a front end then keeps the aspect ratio when it narrows the image (a phone)
    return png, {"width": round(width / pixel_ratio)}


def _display_png(fig: Figure) -> tuple[bytes, dict[str, int]] | None:
    if not fig.axes and not fig.texts and not fig.images:
        return None  # an empty figure shows nothing, as in Jupyter's inline backend
    return figure_png(fig)


def show_figures_for_the_column() -> bool:
    """Display matplotlib figures through :func:`figure_png` in this IPython session (Jupyter, Colab,
    the book build). Returns whether an IPython shell was found; does nothing outside one.

    Called on import and by :func:`new_figure`, so it also wins over a ``%matplotlib inline`` that
    registered the inline backend's own PNG printer earlier.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    formatters = getattr(getattr(shell, "display_formatter", None), "formatters", None)
    if not formatters or "image/png" not in formatters:
        return False
    png = formatters["image/png"]
    if png.type_printers.get(Figure) is not _display_png:
        png.for_type(Figure, _display_png)
    return True


show_figures_for_the_column()
