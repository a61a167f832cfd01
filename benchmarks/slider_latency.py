"""Slider update latency: the course's pre-rendered FrameSlider vs re-drawing the figure per move.

A user's natural alternative is an ``ipywidgets.interact`` callback that redraws the matplotlib figure
on every slider move; the course pre-renders frames once and swaps PNG bytes. Both are measured here
in one run, over 100 updates, on the chapter-1 training-frame figure. Budget: ≤ 50 ms per update.
"""

from __future__ import annotations

import statistics
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from _common import print_table  # noqa: E402
from course_lib import color  # noqa: E402
from course_lib.color import wheel_plots  # noqa: E402
from course_lib.widgets import figure_to_png, frame_slider  # noqa: E402

N_UPDATES = 100


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    run = color.train_bottleneck(epochs=200, n_snapshots=21, seed=0, progress=False)
    n = len(run.checkpoint_steps)
    start = time.perf_counter()
    slider = frame_slider(lambda k: wheel_plots.plot_training_frame(run, k), range(n), progress=False)
    render_all = time.perf_counter() - start
    slider.widget()

    swap = []
    for i in range(N_UPDATES):
        t = time.perf_counter()
        slider.set_index((i * 7) % n)
        swap.append((time.perf_counter() - t) * 1e3)

    redraw = []
    for i in range(N_UPDATES):
        t = time.perf_counter()
        fig = wheel_plots.plot_training_frame(run, (i * 7) % n)
        figure_to_png(fig)
        plt.close(fig)
        redraw.append((time.perf_counter() - t) * 1e3)

    rows = [
        ["FrameSlider (pre-rendered swap)", statistics.median(swap), percentile(swap, 0.95)],
        ["redraw figure per move", statistics.median(redraw), percentile(redraw, 0.95)],
    ]
    print_table(f"Slider update latency over {N_UPDATES} updates (ms); budget 50 ms",
                ["method", "median ms", "p95 ms"], rows)
    print(f"ratio (redraw / swap, medians): {statistics.median(redraw) / statistics.median(swap):.0f}x")
    print(f"one-off cost of pre-rendering {n} frames: {render_all:.2f} s")


if __name__ == "__main__":
    main()
