import base64
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest

from course_lib.widgets import WIDGET_VIEW_MIME, FrameSlider, figure_to_png, frame_slider


def render(k):
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1], [0, k])
    ax.set_ylim(0, 5)
    return fig


@pytest.fixture(scope="module")
def slider():
    return frame_slider(render, [0, 1, 2, 3], title="epoch", progress=False)


def test_frames_are_distinct_pngs_of_equal_size(slider):
    assert len(slider) == 4
    assert len(set(slider.frames)) == 4
    sizes = {f[16:24] for f in slider.frames}  # PNG IHDR width+height
    assert len(sizes) == 1
    assert slider.labels == ["epoch = 0", "epoch = 1", "epoch = 2", "epoch = 3"]


def test_bundle_has_live_and_static_views(slider):
    bundle = slider._repr_mimebundle_()
    assert WIDGET_VIEW_MIME in bundle and "model_id" in bundle[WIDGET_VIEW_MIME]
    page = bundle["text/html"]
    for cls in ["course-scrubber", "course-scrubber-range", "course-scrubber-frame",
                "course-scrubber-label", "course-scrubber-play"]:
        assert f'class="{cls}"' in page
    assert 'max="3"' in page
    embedded = re.findall(r'"([A-Za-z0-9+/=]{100,})"', page)
    assert [base64.b64decode(e) for e in embedded] == slider.frames
    assert "http://" not in page and "https://" not in page  # self-contained, offline


def test_live_slider_swaps_image_and_label(slider):
    panel = slider.widget()
    slider.set_index(2)
    assert slider._image.value == slider.frames[2]
    assert slider._label.value == "epoch = 2"
    assert slider.widget() is panel  # built once


@pytest.mark.parametrize("index, err", [(-1, ValueError), (4, ValueError), (1.0, TypeError), (True, TypeError)])
def test_out_of_range_index_is_rejected(slider, index, err):
    with pytest.raises(err, match="index"):
        slider.set_index(index)


def test_bad_construction():
    png = figure_to_png(render(1))
    with pytest.raises(ValueError, match="frames"):
        FrameSlider([], [])
    with pytest.raises(ValueError, match="labels"):
        FrameSlider([png], ["a", "b"])
    with pytest.raises(TypeError, match="PNG"):
        FrameSlider([b"not png"], ["a"])
    with pytest.raises(ValueError, match="initial"):
        FrameSlider([png], ["a"], initial=3)
    with pytest.raises(ValueError, match="values"):
        frame_slider(render, [])
    with pytest.raises(TypeError, match="render"):
        frame_slider(lambda v: "not a figure", [1], progress=False)
    with pytest.raises(ValueError, match="dpi"):
        frame_slider(render, [1], dpi=5)


# --------------------------------------------------------------------------- ipywidgets 7 / 8, Colab
def test_live_view_is_built_from_the_model_id(slider):
    view = slider._repr_mimebundle_()[WIDGET_VIEW_MIME]
    assert view == {"version_major": 2, "version_minor": 0, "model_id": slider.widget().model_id}


def test_play_button_drives_the_slider_kernel_side(slider):
    panel = slider.widget()
    play = panel.children[0].children[0]
    play.value = 2  # widgets.link, not jslink: works without a front end (and in Colab)
    assert slider.index == 2 and slider._label.value == "epoch = 2"
    slider.set_index(0)


def test_colab_with_ipywidgets_8_gets_the_html_scrubber_only(slider, monkeypatch):
    import course_lib.widgets as widgets

    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab-test")
    monkeypatch.setattr(widgets, "ipywidgets_major", lambda: 8)
    bundle = slider._repr_mimebundle_()
    assert WIDGET_VIEW_MIME not in bundle and "course-scrubber" in bundle["text/html"]
    monkeypatch.setattr(widgets, "ipywidgets_major", lambda: 7)  # Colab's own 7.7 renders fine
    assert WIDGET_VIEW_MIME in slider._repr_mimebundle_()


def test_progress_hides_in_the_book_build_and_falls_back_to_text(monkeypatch):
    import tqdm.std

    import course_lib.widgets as widgets
    from course_lib.runtime import BOOK_BUILD_ENV

    monkeypatch.delenv(BOOK_BUILD_ENV, raising=False)
    assert not widgets.progress(range(3)).disable
    monkeypatch.setenv(BOOK_BUILD_ENV, "1")
    assert widgets.progress(range(3)).disable
    monkeypatch.delenv(BOOK_BUILD_ENV)
    monkeypatch.setenv("COLAB_RELEASE_TAG", "release-colab-test")
    monkeypatch.setattr(widgets, "ipywidgets_major", lambda: 8)
    bar = widgets.progress(range(3))
    assert type(bar) is tqdm.std.tqdm  # plain text, not a widget Colab would draw blank
    assert list(bar) == [0, 1, 2]


def test_frames_have_alt_text_and_a_css_width(slider):
    from course_lib.figures import png_size
    from course_lib.widgets import FRAME_DPI

    # each frame's alt text says what the figure shows, then which frame it is
    assert len(slider.alts) == len(slider) and slider.alts[2].endswith("(epoch = 2)")
    assert len(slider.alts[0].split()) >= 4
    assert slider.width == round(png_size(slider.frames[0])[0] * 96 / FRAME_DPI)
    page = slider.to_html()
    assert f'width="{slider.width}"' in page and "img.alt = alts[i]" in page
    assert f'alt="{slider.alts[0]}"' in page
    named = frame_slider(render, [0, 1], title="k", alt="A line rising with k", progress=False)
    assert named.alts == ["A line rising with k (k = 0)", "A line rising with k (k = 1)"]
