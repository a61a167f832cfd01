"""Draw the README's picture of the colour wheel forming, from a real training run.

Usage: .venv/bin/python book/figures/make_wheel_figure.py   (writes wheel-forming.png beside it)
"""

from pathlib import Path

import numpy as np

from course_lib import color
from course_lib.color import wheel_plots
from course_lib.figures import new_figure


def main() -> None:
    run = color.train_bottleneck(normalize=True, epochs=500, n_snapshots=51, seed=0, progress=False)
    probe = color.probe_wheel()
    wanted = [0, 100, 160, 500]
    fig = new_figure((12, 3.4))
    for ax, epoch in zip(fig.subplots(1, len(wanted)), wanted):
        k = int(np.argmin(np.abs(run.checkpoint_steps - epoch)))
        z = run.probe_latents[k]
        wheel_plots.plot_latents(z, probe.rgb, held_out=probe.held_out, ax=ax,
                                 title=f"epoch {run.checkpoint_steps[k]} · hue order {color.hue_order_score(probe.hue, z):.2f}")
    out = Path(__file__).with_name("wheel-forming.png")
    fig.savefig(out, dpi=90)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
