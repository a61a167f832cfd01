"""Sliders that work in a live kernel *and* in the static book.

:func:`frame_slider` renders one figure per slider position once, up front, and returns a
:class:`FrameSlider`. Displayed in a notebook it offers two views of the same frames:

* ``application/vnd.jupyter.widget-view+json`` — an ipywidgets panel (play button, slider, label,
  image). Jupyter and Colab show this one; moving the slider swaps pre-rendered PNG bytes, so an
  update costs well under the course's 50 ms budget. It works with ipywidgets 7 (what Colab
  preinstalls) and 8: the view is built from the panel's model id, and the play button drives the
  slider through a kernel-side ``widgets.link`` (``jslink`` has broken in Colab before). Inside
  Colab with ipywidgets 8, whose widgets Colab renders blank, the live view is left out and Colab
  shows the HTML scrubber instead.
* ``text/html`` — a self-contained HTML/JS scrubber (``<input type=range>`` swapping a data-URI
  ``<img>``). The built book, which has no kernel, is configured to show this one, so the slider
  really changes the picture on the published site, offline.

Notebooks never write their own slider code: they call :func:`frame_slider`. Long loops show a
bar from :func:`progress`, which hides itself in the book build and falls back to plain text where a
widget bar would render blank.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import uuid
from typing import Any, Callable, Iterable, Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from .figures import CSS_DPI, describe_figure, fit_for_display, png_size
from .runtime import BOOK_BUILD_ENV, in_colab
from .validation import check_int

WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"


def ipywidgets_major() -> int:
    """Major version of the installed ipywidgets (0 when it cannot be imported)."""
    try:
        import ipywidgets
    except ImportError:
        return 0
    return int(str(ipywidgets.__version__).split(".")[0])


def live_widgets_render() -> bool:
    """Whether a live ipywidgets view will show here: not in Colab with ipywidgets ≥ 8.

    Colab's front end renders ipywidgets 8 unreliably (blank widgets, vanished bars;
    googlecolab/colabtools#3020, #4525); it renders its preinstalled ipywidgets 7 fine.
    """
    major = ipywidgets_major()
    return major >= 7 and not (in_colab() and major >= 8)


def progress(
    iterable: Iterable[Any] | None = None,
    *,
    total: int | None = None,
    desc: str | None = None,
    disable: bool = False,
    leave: bool = True,
) -> Any:
    """A tqdm progress bar that shows where a reader can see it.

    A widget bar (``tqdm.auto``) in Jupyter; a plain-text bar where a widget bar would render blank
    (Colab with ipywidgets 8); no bar at all while the book is built (``COURSE_BOOK_BUILD`` set),
    where a finished bar would only leave an empty box on the published page.
    """
    if os.environ.get(BOOK_BUILD_ENV):
        disable = True
    if live_widgets_render():
        from tqdm.auto import tqdm
    else:
        from tqdm.std import tqdm
    return tqdm(iterable, total=total, desc=desc, disable=disable, leave=leave)


#: Resolution of slider frames: 1.5 image pixels per CSS pixel (sharp, yet a 30-frame slider stays
#: a few MB in the page).
FRAME_DPI = 144


def figure_to_png(fig: Figure, *, dpi: int = FRAME_DPI) -> bytes:
    """PNG bytes of a matplotlib figure (the figure is left open), fitted to the book's column first
    (:func:`course_lib.figures.fit_for_display`: no wider than the column, no text under 10 pt).

    No ``bbox_inches="tight"``: every frame keeps the figure's size, so the picture does not jump
    while the reader scrubs. The frame is meant to be shown at ``CSS_DPI`` (``dpi / CSS_DPI`` image
    pixels per CSS pixel).
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"render must return a matplotlib Figure, got {type(fig).__name__}")
    fit_for_display(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white")
    return buffer.getvalue()


class FrameSlider:
    """Pre-rendered frames with a live ipywidgets view and a static HTML scrubber.

    ``frames`` are PNG bytes, ``labels`` the text shown beside the slider for each frame, ``alts``
    the alternative text of each frame (what it shows, for screen readers; default: ``alt`` and the
    frame's label), ``width`` the frames' displayed width in CSS pixels (default: their pixel width).
    """

    def __init__(
        self,
        frames: Sequence[bytes],
        labels: Sequence[str],
        *,
        title: str = "frame",
        initial: int = 0,
        interval_ms: int = 200,
        alt: str = "",
        alts: Sequence[str] | None = None,
        width: int | None = None,
    ) -> None:
        if len(frames) == 0:
            raise ValueError("frames must not be empty")
        if len(labels) != len(frames):
            raise ValueError(f"labels must have one entry per frame ({len(frames)}), got {len(labels)}")
        if not all(isinstance(f, (bytes, bytearray)) and f[:8] == b"\x89PNG\r\n\x1a\n" for f in frames):
            raise TypeError("frames must be PNG bytes (use figure_to_png)")
        check_int(interval_ms, "interval_ms", min=1)
        self.frames = [bytes(f) for f in frames]
        self.labels = [str(label) for label in labels]
        self.title = str(title)
        self.interval_ms = interval_ms
        self.alt = alt or self.title
        if alts is None:
            alts = [f"{self.alt} ({label})" for label in self.labels]
        if len(alts) != len(frames):
            raise ValueError(f"alts must have one entry per frame ({len(frames)}), got {len(alts)}")
        self.alts = [str(a) for a in alts]
        if width is not None:
            check_int(width, "width", min=1)
        self.width = width if width is not None else png_size(self.frames[0])[0]
        self.index = self._check_index(initial, "initial")
        self._panel: Any = None

    def __len__(self) -> int:
        return len(self.frames)

    def _check_index(self, index: int, name: str) -> int:
        return check_int(index, name, min=0, max=len(self.frames) - 1)

    # -- live view ---------------------------------------------------------------------------
    def widget(self) -> Any:
        """The ipywidgets panel (built once): play button, slider, label and image."""
        if self._panel is None:
            import ipywidgets as w

            last = len(self.frames) - 1
            self._slider = w.IntSlider(
                value=self.index, min=0, max=last, step=1, readout=False,
                description=self.title, continuous_update=True,
                layout=w.Layout(width="55%"),
            )
            play = w.Play(value=self.index, min=0, max=last, step=1, interval=self.interval_ms)
            w.link((play, "value"), (self._slider, "value"))
            self._label = w.Label(self.labels[self.index])
            self._image = w.Image(value=self.frames[self.index], format="png", width=str(self.width))
            self._slider.observe(lambda change: self._show(change["new"]), names="value")
            self._panel = w.VBox([w.HBox([play, self._slider, self._label]), self._image])
        return self._panel

    def _show(self, index: int) -> None:
        self.index = index
        self._image.value = self.frames[index]
        self._label.value = self.labels[index]

    def set_index(self, index: int) -> None:
        """Move the slider (and the live view, if built) to frame ``index``."""
        index = self._check_index(index, "index")
        if self._panel is None:
            self.index = index
        else:
            self._slider.value = index  # the observer updates image and label

    # -- static view -------------------------------------------------------------------------
    def to_html(self) -> str:
        """A self-contained HTML/JS scrubber over the frames (no kernel, no network needed)."""
        uid = f"course-scrubber-{uuid.uuid4().hex[:12]}"
        data = [base64.b64encode(f).decode("ascii") for f in self.frames]
        last = len(self.frames) - 1
        esc = html.escape
        return f"""<div class="course-scrubber" id="{uid}" data-n-frames="{len(data)}">
<div class="course-scrubber-controls" style="display:flex;align-items:center;gap:0.6em;flex-wrap:wrap">
<button class="course-scrubber-play" type="button" style="min-width:5.5em">&#9654; Play</button>
<input class="course-scrubber-range" type="range" min="0" max="{last}" step="1" value="{self.index}" aria-label="{esc(self.title)}" style="flex:1;min-width:12em">
<span class="course-scrubber-label" style="font-family:monospace;white-space:nowrap">{esc(self.labels[self.index])}</span>
</div>
<img class="course-scrubber-frame" alt="{esc(self.alts[self.index])}" width="{self.width}" style="max-width:100%;height:auto" src="data:image/png;base64,{data[self.index]}">
</div>
<script>
(function () {{
  var root = document.getElementById("{uid}");
  var frames = {json.dumps(data)};
  var labels = {json.dumps(self.labels)};
  var alts = {json.dumps(self.alts)};
  var range = root.querySelector(".course-scrubber-range");
  var img = root.querySelector(".course-scrubber-frame");
  var label = root.querySelector(".course-scrubber-label");
  var button = root.querySelector(".course-scrubber-play");
  var timer = null;
  function show(i) {{
    img.src = "data:image/png;base64," + frames[i];
    img.alt = alts[i];
    label.textContent = labels[i];
    range.value = i;
  }}
  function stop() {{ clearInterval(timer); timer = null; button.innerHTML = "&#9654; Play"; }}
  range.addEventListener("input", function () {{ show(parseInt(range.value, 10)); }});
  button.addEventListener("click", function () {{
    if (timer) {{ stop(); return; }}
    if (parseInt(range.value, 10) >= frames.length - 1) show(0);
    button.innerHTML = "&#10073;&#10073; Pause";
    timer = setInterval(function () {{
      var i = parseInt(range.value, 10) + 1;
      if (i >= frames.length) {{ stop(); return; }}
      show(i);
    }}, {self.interval_ms});
  }});
}})();
</script>"""

    # -- display -----------------------------------------------------------------------------
    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        bundle: dict[str, Any] = {"text/plain": f"<FrameSlider '{self.title}': {len(self)} frames>"}
        if live_widgets_render():
            # The view a front end needs is just the model id; ipywidgets 7 has no
            # _repr_mimebundle_ (it displays through _ipython_display_), 8 does: build it ourselves.
            bundle[WIDGET_VIEW_MIME] = {"version_major": 2, "version_minor": 0,
                                        "model_id": self.widget().model_id}
        bundle["text/html"] = self.to_html()
        return bundle


_progress = progress  # frame_slider's own ``progress`` argument shadows the function


def frame_slider(
    render: Callable[[Any], Figure],
    values: Sequence[Any],
    *,
    title: str = "frame",
    format_value: Callable[[Any], str] | None = None,
    initial: int = 0,
    dpi: int = FRAME_DPI,
    interval_ms: int = 200,
    progress: bool = False,
    alt: str = "",
) -> FrameSlider:
    """Render ``render(v)`` for every ``v`` in ``values`` and return a :class:`FrameSlider`.

    ``render`` must return a new matplotlib Figure; it is closed after rendering.
    ``format_value(v)`` gives the label shown beside the slider (default ``"{title} = {v}"``).
    ``progress`` shows a bar while rendering; off by default because in the built book a finished
    bar is saved as an empty widget that leaves a gap above the scrubber.
    ``alt`` says what the frames show (for screen readers); each frame's alternative text is ``alt``
    (default: a description of the figure's panels, :func:`course_lib.figures.describe_figure`)
    followed by the frame's label. Frames are rendered at ``dpi`` and shown at 96 per inch.
    """
    if not callable(render):
        raise TypeError("render must be a callable returning a matplotlib Figure")
    values = list(values)
    if not values:
        raise ValueError("values must not be empty")
    if not 0 <= initial < len(values):
        raise ValueError(f"initial must be in [0, {len(values) - 1}], got {initial}")
    check_int(dpi, "dpi", min=20, max=300)
    fmt = format_value or (lambda v: f"{title} = {v}")
    labels = [fmt(v) for v in values]
    frames: list[bytes] = []
    alts: list[str] = []
    for value, label in zip(_progress(values, desc=f"rendering {title}", disable=not progress, leave=False),
                            labels):
        fig = render(value)
        try:
            frames.append(figure_to_png(fig, dpi=dpi))
            alts.append(f"{alt or describe_figure(fig)} ({label})")
        finally:
            plt.close(fig)
    width = round(png_size(frames[0])[0] * CSS_DPI / dpi)
    return FrameSlider(frames, labels, title=title, initial=initial, interval_ms=interval_ms, alt=alt,
                       alts=alts, width=width)
