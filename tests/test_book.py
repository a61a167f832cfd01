"""The book: configuration checks (fast) and checks of the built HTML (slow: builds the book once).

The build itself is the ``built_book`` fixture in conftest.py (quick profile, warnings as errors).
"""

from __future__ import annotations

import hashlib
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

from course_lib.runtime import repository_url
from conftest import ROOT, built_pages, executed_notebook, source_of, toc_docnames

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf8"))
VENDOR_SRC = ROOT / "book" / "static" / "vendor"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
CDN_PATTERNS = ("cdn.jsdelivr", "cdnjs", "unpkg", "fonts.googleapis")


class _Resources(HTMLParser):
    """Collects the URLs a page loads by itself: scripts, stylesheets, preloads, images, iframes."""

    def __init__(self):
        super().__init__()
        self.urls: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "img", "iframe", "source", "audio", "video") and a.get("src"):
            self.urls.append((tag, a["src"]))
        elif tag == "link" and a.get("href") and (a.get("rel") or "") in ("stylesheet", "preload", "icon",
                                                                          "modulepreload", "prefetch"):
            self.urls.append((tag, a["href"]))


def page_resources(page: Path) -> list[tuple[str, str]]:
    parser = _Resources()
    parser.feed(page.read_text(encoding="utf8"))
    return parser.urls


# --------------------------------------------------------------------------- fast: configuration
def test_config_repository_is_the_one_the_notebooks_install_from():
    # _config.yml is the one place the URL lives; runtime.repository_url reads it without a YAML library
    assert CONFIG["repository"]["url"] == repository_url()
    assert CONFIG["repository"]["branch"] == "main"
    # launch links must point at chapters/... at the repository root
    assert CONFIG["repository"]["path_to_book"] == ""
    assert CONFIG["launch_buttons"]["colab_url"] == "https://colab.research.google.com"


def test_config_builds_strictly_and_only_the_toc():
    assert CONFIG["only_build_toc_files"] is True
    execute = CONFIG["execute"]
    assert execute["execute_notebooks"] == "cache" and execute["allow_errors"] is False
    # an empty cache path keeps each --path-output's executions apart (quick vs standard)
    assert not execute.get("cache")
    for pattern in (".venv", "_build", "README.md", "tests", "benchmarks"):
        assert pattern in CONFIG["exclude_patterns"]


def test_every_chapter_notebook_is_in_the_toc():
    listed = set(toc_docnames())
    notebooks = [p for p in (ROOT / "chapters").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts]
    missing = [str(p.relative_to(ROOT)) for p in notebooks if str(p.relative_to(ROOT).with_suffix("")) not in listed]
    assert not missing, f"notebooks missing from _toc.yml: {missing}"


def test_every_toc_entry_has_a_source():
    for docname in toc_docnames():
        source_of(docname)  # raises with a clear message


def test_static_book_prefers_the_html_scrubber_over_the_widget_view():
    """course_lib.widgets emits both; myst-nb renders the mime type with the lowest priority number."""
    from myst_nb.core.render import get_mime_priority

    overrides = [tuple(o) for o in CONFIG["sphinx"]["config"]["nb_mime_priority_overrides"]]
    for builder in ("html", "dirhtml", "singlehtml"):
        order = get_mime_priority(builder, overrides)
        assert order.index("text/html") < order.index(WIDGET_VIEW), builder
        # a plain ipywidget (no HTML alternative) still renders as a widget, not as text
        assert order.index(WIDGET_VIEW) < order.index("image/png") < order.index("text/plain"), builder


def test_widget_and_math_javascript_is_local():
    sphinx = CONFIG["sphinx"]["config"]
    for path, attrs in sphinx["nb_ipywidgets_js"].items():
        assert "://" not in path and (ROOT / "book" / "static" / path).is_file(), path
        for value in attrs.values():
            assert "://" not in value, f"{path}: {attrs}"
    assert "data-jupyter-widgets-cdn" in sphinx["nb_ipywidgets_js"]["vendor/embed-amd.js"]
    assert (ROOT / "book" / "static" / sphinx["mathjax_path"]).is_file()
    assert "sphinx_thebe" not in sphinx["extensions"]  # it writes an unpkg.com URL into every page
    assert not (ROOT / "_static").exists(), "a root _static/ makes jupyter-book inject its .js into every page"


def test_vendored_files_are_listed_in_licenses():
    licenses = (VENDOR_SRC / "LICENSES.txt").read_text()
    for name in ("require.js", "embed-amd.js", "mathjax/tex-chtml-full.js"):
        digest = hashlib.sha256((VENDOR_SRC / name).read_bytes()).hexdigest()
        assert f"{digest}  {name}" in licenses, f"{name} changed without book/vendor/update_widget_js.sh"
    assert "BSD-3-Clause" in licenses and "MIT" in licenses and "Apache-2.0" in licenses


# --------------------------------------------------------------------------- slow: the built book
@pytest.mark.slow
def test_build_succeeds_with_warnings_as_errors(built_book):
    assert (built_book / "index.html").is_file()
    assert not (built_book / "reports").exists(), "notebook execution reports exist: a notebook failed"


@pytest.mark.slow
def test_the_book_used_the_jupyterlab_executions(built_book):
    """Each notebook is executed once for JupyterLab and the book together (tests/executions.py): the
    build found every JupyterLab execution in its cache and ran none of those notebooks again."""
    import os

    import nbformat
    from conftest import EXEC_CACHE, PRIMED, notebook_docnames
    from executions import EXECUTED
    from jupyter_cache import get_cache

    if not EXECUTED and not os.environ.get("CI"):
        pytest.skip("JupyterLab did not run in this session (test_jupyterlab.py): the build executed the notebooks")
    assert sorted(PRIMED) == sorted(notebook_docnames()), "notebooks the JupyterLab run did not hand to the book"
    cache = get_cache(str(EXEC_CACHE))
    for docname in notebook_docnames():
        record = cache.match_cache_notebook(nbformat.read(str(ROOT / f"{docname}.ipynb"), as_version=4))
        assert record.data.get("execution_seconds") == pytest.approx(EXECUTED[docname][1], abs=1e-6), (
            f"{docname}: the book build executed the notebook itself instead of using JupyterLab's run")


@pytest.mark.slow
def test_every_toc_entry_produced_a_page(built_book, book_page):
    page = built_book / f"{book_page}.html"
    assert page.is_file(), f"no HTML page for toc entry {book_page}"
    assert "<h1" in page.read_text(encoding="utf8"), f"{page} has no title"


@pytest.mark.slow
def test_every_notebook_page_has_executed_outputs(built_book, notebook_page):
    text = (built_book / f"{notebook_page}.html").read_text(encoding="utf8")
    outputs = len(re.findall(r'<div class="cell_output', text))
    assert outputs >= 1, f"{notebook_page}: no executed outputs in the page"
    assert "Traceback (most recent call last)" not in text, f"{notebook_page}: a cell shows a traceback"


def _shows_a_picture(output: dict) -> bool:
    data = output.get("data", {})
    if "image/png" in data or "image/svg+xml" in data or "image/jpeg" in data:
        return True
    html = data.get("text/html", "")
    html = html if isinstance(html, str) else "".join(html)
    # an embedded interactive page (kmapper's graph view in notebook 4.2) is a picture too
    return "<img" in html or "<iframe srcdoc=" in html


@pytest.mark.slow
def test_every_promised_figure_is_shown(built_book, notebook_page):
    """Notebooks say "What you should see" before each figure: the next code cell must show one.

    Catches figures that never display, e.g. a function returning a matplotlib Figure built
    without pyplot, called with a trailing `;` (which suppresses the display of the return value).
    """
    cells = executed_notebook(notebook_page)["cells"]
    missing = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "markdown" or "what you should see" not in "".join(cell["source"]).lower():
            continue
        following = [c for c in cells[i + 1:] if c["cell_type"] == "code"
                     and "remove-cell" not in c.get("metadata", {}).get("tags", [])]
        if not following or not any(_shows_a_picture(o) for o in following[0].get("outputs", [])):
            source = "".join(following[0]["source"]).strip().splitlines()[-1] if following else "(none)"
            missing.append(f"cell {i + 1}: the figure promised here is not shown by the next code cell "
                           f"(last line: {source!r})")
    assert not missing, f"{notebook_page}:\n" + "\n".join(missing)


@pytest.mark.slow
def test_slider_outputs_render_as_scrubbers_not_widget_views(built_book, notebook_page):
    """An output offering both a widget view and HTML (course_lib.widgets) shows the HTML scrubber."""
    cells = executed_notebook(notebook_page)["cells"]
    page = (built_book / f"{notebook_page}.html").read_text(encoding="utf8")
    for cell in cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW not in data or "text/html" not in data:
                continue
            model_id = data[WIDGET_VIEW]["model_id"]
            assert f'"model_id": "{model_id}"' not in page, f"{notebook_page}: widget view {model_id} rendered"
            html = data["text/html"] if isinstance(data["text/html"], str) else "".join(data["text/html"])
            scrubber = re.search(r'id="(course-scrubber-[0-9a-f]+)"', html)
            if scrubber:
                assert f'id="{scrubber.group(1)}"' in page, f"{notebook_page}: scrubber {scrubber.group(1)} missing"


@pytest.mark.slow
def test_no_page_references_a_cdn(built_book):
    offenders = {}
    for page in built_pages(built_book):
        text = page.read_text(encoding="utf8")
        found = [p for p in CDN_PATTERNS if p in text]
        if found:
            offenders[str(page.relative_to(built_book))] = found
    assert not offenders, f"CDN references in the built HTML: {offenders}"


@pytest.mark.slow
def test_pages_load_nothing_from_outside_the_book(built_book):
    """Every script, stylesheet and image a page loads is a file of the build (relative URL)."""
    problems = []
    for page in built_pages(built_book):
        for tag, url in page_resources(page):
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob"):
                continue
            if parts.scheme or parts.netloc:
                problems.append(f"{page.relative_to(built_book)}: <{tag}> loads {url}")
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            if not target.is_file():
                problems.append(f"{page.relative_to(built_book)}: <{tag}> {url} -> missing {target}")
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_vendored_javascript_is_in_the_build(built_book):
    static = built_book / "_static"
    for src in sorted(p for p in VENDOR_SRC.rglob("*") if p.is_file()):
        built = static / "vendor" / src.relative_to(VENDOR_SRC)
        assert built.is_file(), f"{built} is missing from the build"
        assert built.read_bytes() == src.read_bytes(), f"{built} differs from {src}"
    assert (static / "widgets-config.js").is_file()
    # jupyter-book must not have injected the bundle into every page (that happens with a root _static/)
    intro = (built_book / "book" / "intro.html").read_text(encoding="utf8")
    assert "embed-amd.js" not in intro and "require.js" not in intro


@pytest.mark.slow
def test_pages_with_widget_state_load_the_vendored_manager_in_order(built_book):
    for page in built_pages(built_book):
        text = page.read_text(encoding="utf8")
        if "application/vnd.jupyter.widget-state+json" not in text:
            continue
        scripts = [url for tag, url in page_resources(page) if tag == "script"]
        order = [next((i for i, u in enumerate(scripts) if name in u), -1)
                 for name in ("vendor/require.js", "widgets-config.js", "vendor/embed-amd.js")]
        assert -1 not in order and order == sorted(order), f"{page}: widget scripts missing or out of order"
        assert 'data-jupyter-widgets-cdn="widget-modules/"' in text


# What the published page must not show a reader: set-up machinery and progress bars (kept in live
# notebooks, hidden in the book), and helpers that exist only for the book build.
MACHINERY = ["google.colab", "%pip install", "missing_requirements", "myst_nb", "glue(", "COURSE_BOOK_BUILD"]


@pytest.mark.slow
def test_pages_show_no_setup_machinery_or_progress_bars(built_book, notebook_page):
    page = (built_book / f"{notebook_page}.html").read_text(encoding="utf8")
    shown = [m for m in MACHINERY if m in page]
    assert not shown, f"{notebook_page}: the page shows book machinery {shown}"
    # a tqdm bar, as text on stderr or as a widget's text/plain, ends with its rate: "…, 12.3it/s]"
    bars = [o for c in executed_notebook(notebook_page)["cells"] for o in c.get("outputs", [])
            if re.search(r"(it/s|s/it)\]", json.dumps(o))]
    assert not bars, f"{notebook_page}: {len(bars)} progress-bar outputs in the book: {json.dumps(bars[0])[:300]}"


# --------------------------------------------------------------------------- fast: how pages read
def _notebooks() -> list[Path]:
    from course_lib.sync_notebooks import chapter_notebooks

    return chapter_notebooks(ROOT)


def _tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def test_solution_toggles_read_show_solution():
    """The book's toggle over a hidden solution says "Show solution", not myst-nb's "Show code cell
    source" (course_lib.sync_notebooks writes the cell's mystnb prompts)."""
    from course_lib.sync_notebooks import SOLUTION_PROMPTS

    wrong = []
    for path in _notebooks():
        for i, cell in enumerate(json.loads(path.read_text(encoding="utf8"))["cells"]):
            if cell["cell_type"] != "code" or "solution" not in _tags(cell):
                continue
            prompts = cell.get("metadata", {}).get("mystnb", {})
            if any(prompts.get(k) != v for k, v in SOLUTION_PROMPTS.items()):
                wrong.append(f"{path.relative_to(ROOT)} cell {i + 1}")
    assert not wrong, ("solution cells without the 'Show solution' prompts (run "
                       "`python -m course_lib.sync_notebooks`):\n" + "\n".join(wrong))


# A figure's alternative text says what it shows: a sentence, not a file name, path or variable.
PATHLIKE_ALT = re.compile(r"(^|/)_images/|\.(png|jpe?g|svg|gif)\b|^[\w./-]+$")


def alt_problem(alt: str | None) -> str | None:
    """Why ``alt`` is not alternative text a reader can use (None when it is)."""
    if alt is None or not alt.strip():
        return "no alt text"
    if PATHLIKE_ALT.search(alt.strip()):
        return f"alt text is a path or a bare word: {alt[:60]!r}"
    if len(alt.split()) < 4:
        return f"alt text too short to say what the figure shows: {alt!r}"
    return None


def _image_outputs_expected(cell: dict, executed: dict | None) -> bool:
    """A code cell shows a static image: it is followed by "What you should see" in the text, or its
    execution (when known) has an image output."""
    if executed is not None:
        return any("image/png" in o.get("data", {}) or "image/svg+xml" in o.get("data", {})
                   for o in executed.get("outputs", []))
    return False


def test_alt_text_problems_are_recognised():
    assert alt_problem(None) and alt_problem("") and alt_problem("../../_images/2c2f69cdb9.png")
    assert alt_problem("year") and alt_problem("step")
    assert alt_problem("Loss curves of the three runs over training steps") is None


def test_every_figure_cell_has_alt_text():
    """Each code cell whose recorded execution (_build/executed, from the JupyterLab run) shows an
    image carries ``mystnb: {image: {alt: ...}}``: myst-nb writes it as the image's alt text instead
    of the file path. Code cells are matched in order and only where the recorded source is the
    committed one, so a stale recording never blames the wrong cell (the slow test over the built
    HTML checks every image regardless)."""
    executed_dir = ROOT / "_build" / "executed"
    if not executed_dir.exists():
        pytest.skip("no recorded executions in _build/executed (test_jupyterlab.py writes them)")
    problems = []
    for path in _notebooks():
        record = executed_dir / path.relative_to(ROOT)
        if not record.exists():
            continue
        ran = iter([c for c in json.loads(record.read_text(encoding="utf8"))["cells"] if c["cell_type"] == "code"])
        for i, cell in enumerate(json.loads(path.read_text(encoding="utf8"))["cells"]):
            if cell["cell_type"] != "code":
                continue
            recorded = next(ran, None)
            if recorded is None or "".join(recorded["source"]) != "".join(cell["source"]):
                continue
            if "remove-cell" in _tags(cell) or "remove-output" in _tags(cell):
                continue
            if not _image_outputs_expected(cell, recorded):
                continue
            alt = cell.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt")
            why = alt_problem(alt)
            if why:
                problems.append(f"{path.relative_to(ROOT)} cell {i + 1} ({cell.get('id')}): {why}")
    assert not problems, "figure cells need mystnb.image.alt metadata:\n" + "\n".join(problems)


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.alts: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            a = dict(attrs)
            self.alts.append((a.get("src", "")[:60], a.get("alt")))


@pytest.mark.slow
def test_every_image_in_the_book_has_alt_text(built_book):
    """Every <img> of every page (figures, slider frames, logos) has alt text that says what it
    shows: not missing, not a path, not a bare word."""
    problems = []
    for page in built_pages(built_book):
        parser = _Images()
        parser.feed(page.read_text(encoding="utf8"))
        for src, alt in parser.alts:
            why = alt_problem(alt)
            if why and alt not in ("Colab logo", "Logo image"):
                problems.append(f"{page.relative_to(built_book)}: <img src={src!r}…> {why}")
    assert not problems, "\n".join(problems[:60]) + f"\n({len(problems)} images)"


@pytest.mark.slow
def test_solution_toggles_in_the_book_say_show_solution(built_book, notebook_page):
    text = (built_book / f"{notebook_page}.html").read_text(encoding="utf8")
    solutions = len(re.findall(r'class="cell docutils container[^"]*tag_solution', text))
    assert text.count("Show solution") >= solutions, f"{notebook_page}: a solution toggle is not labelled"
