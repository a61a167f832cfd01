"""The figure kit (course_lib.figures) and the rules every plot module follows: named ``*_plots.py``,
built on the kit without pyplot, and no figure function defined twice within one chapter."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

import course_lib
from course_lib.figures import MARKERS, marker, new_axes, new_figure

ROOT = Path(course_lib.__file__).parent
CHAPTERS = sorted(p for p in ROOT.iterdir() if (p / "__init__.py").is_file())
PLOT_MODULES = sorted(ROOT.glob("*/*_plots.py"))


def test_new_figure_is_a_plain_figure():
    fig = new_figure((3, 2))
    assert isinstance(fig, Figure)
    assert tuple(fig.get_size_inches()) == (3, 2)
    assert fig.get_layout_engine() is not None            # constrained by default
    assert new_figure((3, 2), layout=None).get_layout_engine() is None


def test_new_axes_draws_on_the_callers_axes_or_a_new_figure():
    fig, ax = new_axes(None, (4, 3))
    assert isinstance(ax, Axes) and ax.figure is fig
    host = new_figure((4, 3)).add_subplot()
    assert new_axes(host, (9, 9)) == (host.figure, host)
    fig3d, ax3d = new_axes(None, (4, 3), projection="3d")
    assert ax3d.name == "3d"
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        new_axes("not axes", (4, 3))


def test_the_marker_cycle_wraps_and_starts_with_distinct_shapes():
    assert len(set(MARKERS)) == len(MARKERS)
    assert [marker(i) for i in range(3)] == ["o", "s", "^"]
    assert marker(len(MARKERS)) == MARKERS[0]


def test_every_chapter_has_plot_modules():
    assert {p.parent.name for p in PLOT_MODULES} == {p.name for p in CHAPTERS}


@pytest.mark.parametrize("path", PLOT_MODULES, ids=lambda p: f"{p.parent.name}.{p.stem}")
def test_plot_module_uses_the_kit_and_not_pyplot(path):
    tree = ast.parse(path.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add("." * node.level + (node.module or ""))
    assert "matplotlib.pyplot" not in imported, f"{path.name} imports pyplot; build figures with course_lib.figures"
    assert "..figures" in imported, f"{path.name} does not use the figure kit course_lib.figures"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.name)
def test_no_figure_function_is_defined_twice_in_a_chapter(chapter):
    names = Counter()
    for path in chapter.glob("*_plots.py"):
        names.update(n.name for n in ast.parse(path.read_text()).body
                     if isinstance(n, ast.FunctionDef) and not n.name.startswith("_"))
    twice = sorted(n for n, k in names.items() if k > 1)
    assert not twice, f"{chapter.name}: {twice} defined in more than one plot module"


def test_no_module_of_a_chapter_is_called_plain_plots():
    assert not list(ROOT.glob("*/plots.py")), "name a plot module after what it plots (e.g. wheel_plots.py)"


# --------------------------------------------------------------------------- how figures are shown
from matplotlib.text import Text  # noqa: E402

from course_lib.figures import (COLUMN_WIDTH_IN, CSS_DPI, MIN_FONT_PT, PIXEL_RATIO,  # noqa: E402
                                describe_figure, figure_png, fit_for_display, png_size)


def _wide_figure():
    fig = new_figure((15, 3.3))
    axes = fig.subplots(1, 3)   # 2.33 in a panel once narrowed: stays one row
    for i, ax in enumerate(axes):
        ax.plot([0, 1], [0, i], label=f"series {i}")
        ax.set_title(f"panel {i}", fontsize=7)
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        ax.tick_params(labelsize=6)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=8, fontsize=6)
    return fig


def test_fit_for_display_narrows_wide_figures_and_raises_small_text():
    fig = fit_for_display(_wide_figure())
    w, h = fig.get_size_inches()
    assert w == pytest.approx(COLUMN_WIDTH_IN)
    assert h == pytest.approx(3.3 * (COLUMN_WIDTH_IN / 15) ** 0.5)   # taller than a plain rescale
    fig.draw_without_rendering()
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_text()]
    assert min(sizes) >= MIN_FONT_PT
    # a narrow figure keeps its size
    small = fit_for_display(new_figure((4, 3)))
    assert tuple(small.get_size_inches()) == (4, 3)
    with pytest.raises(TypeError, match="fig"):
        fit_for_display("not a figure")


def test_figure_png_is_sharp_and_sized_for_the_column():
    png, meta = figure_png(_wide_figure())
    width, _ = png_size(png)
    assert meta == {"width": round(width / PIXEL_RATIO)}       # no height: narrowing keeps the aspect
    # a long one-row legend was folded so that the figure still fits the column
    assert meta["width"] <= COLUMN_WIDTH_IN * CSS_DPI * 1.05


def test_describe_figure_says_what_each_panel_plots():
    fig = new_figure((6, 3))
    left, right = fig.subplots(1, 2)
    left.set_title("training loss")
    left.set(xlabel="step", ylabel="loss")
    right.set(xlabel="epoch", ylabel="accuracy")
    fig.suptitle("A run")
    text = describe_figure(fig)
    assert text.startswith("A run.") and "training loss: loss against step" in text
    assert "accuracy against epoch" in text


def test_ipython_shows_figures_through_figure_png():
    from IPython.core.interactiveshell import InteractiveShell

    from course_lib import figures

    shell = InteractiveShell.instance()
    assert figures.show_figures_for_the_column()
    data, metadata = shell.display_formatter.format(new_figure((12, 3)).add_subplot().figure)
    assert "image/png" in data and metadata["image/png"]["width"] <= COLUMN_WIDTH_IN * CSS_DPI * 1.05


def test_a_long_row_of_panels_is_folded_into_two_rows():
    fig = new_figure((15, 3.9), layout="tight")
    axes = fig.subplots(1, 4)
    for ax in axes:
        ax.plot([0, 1], [0, 1])
    fit_for_display(fig)
    w, h = fig.get_size_inches()
    assert w == pytest.approx(COLUMN_WIDTH_IN) and h > 2 * 3.9 * 0.9     # two rows, panels keep their aspect
    rows = sorted({ax.get_subplotspec().rowspan.start for ax in axes})
    assert rows == [0, 1]
    three = new_figure((10, 3.6))
    three.subplots(1, 3)
    fit_for_display(three)
    assert {ax.get_subplotspec().rowspan.start for ax in three.axes} == {0}   # 2.3 in a panel: one row
