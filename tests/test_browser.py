"""The built book in a real browser (Playwright driving Debian's chromium, headless).

Every page is served from 127.0.0.1 and opened; a page fails on any console error or uncaught
exception not in KNOWN_BENIGN, on any request that leaves the book (all are aborted and recorded),
on a local request that fails, and on a broken image. Chapter 1's static scrubbers must change their
picture when moved, and the Colab launch links must name notebooks that exist in this repository.

Screenshots land in _build/quick/screenshots/ (one per page, plus each scrubber after moving it).
Needs /usr/bin/chromium (`apt-get install chromium`); never `playwright install`.
"""

from __future__ import annotations

import functools
import http.server
import threading
from urllib.parse import urlsplit

import pytest

from browser_tools import WatchedPage

from course_lib.runtime import repository_url
from conftest import ROOT, built_pages, chapter1_docnames, notebook_docnames, toc_docnames

# Console errors / page errors that may appear without failing the test, each as a regular
# expression with the reason it is harmless. Keep it empty unless an entry can be justified.
KNOWN_BENIGN: list[tuple[str, str]] = []
# Pages the build writes besides the toc entries.
EXTRA_PAGES = ["index", "genindex", "search"]
SETTLE_MS = 400  # after "networkidle": let MathJax and the widget manager finish rendering

pytestmark = pytest.mark.slow


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output clean
        pass


@pytest.fixture(scope="module")
def server(built_book):
    """Serve the built HTML on a random free port of 127.0.0.1; yields its origin."""
    handler = functools.partial(_QuietHandler, directory=str(built_book))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class PageVisit(WatchedPage):
    """One page of the book opened in a fresh context, with everything that went wrong recorded."""

    def __init__(self, browser, origin: str, docname: str):
        super().__init__(browser, origin, known_benign=KNOWN_BENIGN)
        self.docname = docname

    def open(self):
        self.page.goto(f"{self.origin}/{self.docname}.html", wait_until="load")
        self.page.wait_for_load_state("networkidle")
        self.page.wait_for_timeout(SETTLE_MS)
        return self.page


@pytest.fixture
def visit(browser, server):
    visits = []

    def _open(docname: str) -> PageVisit:
        v = PageVisit(browser, server, docname)
        visits.append(v)
        v.open()
        return v

    yield _open
    for v in visits:
        v.close()


def _shot_name(docname: str) -> str:
    return docname.replace("/", "--")


BROKEN_IMAGES_JS = """async () => {
  const imgs = Array.from(document.images);
  imgs.forEach((img) => { if (img.loading === "lazy") img.loading = "eager"; });
  await Promise.all(imgs.map((img) => img.complete ? null :
      new Promise((resolve) => { img.addEventListener("load", resolve); img.addEventListener("error", resolve); })));
  return imgs.filter((img) => !(img.complete && img.naturalWidth > 0))
             .map((img) => (img.currentSrc || img.src).slice(0, 120));
}"""


# --------------------------------------------------------------------------- every page
@pytest.mark.parametrize("docname", toc_docnames() + EXTRA_PAGES, ids=lambda d: d.replace("/", ":"))
def test_page_loads_cleanly(visit, docname, built_book, screenshot_dir):
    assert (built_book / f"{docname}.html").is_file(), f"{docname}.html was not built"
    v = visit(docname)
    broken = v.page.evaluate(BROKEN_IMAGES_JS)
    v.page.screenshot(path=str(screenshot_dir / f"{_shot_name(docname)}.png"), full_page=True)
    assert not v.external, f"{docname}: requests outside the book (aborted): {v.external}"
    assert not v.failed, f"{docname}: failed requests: {v.failed}"
    assert not v.unexpected_errors(), f"{docname}: console errors: {v.unexpected_errors()}"
    assert not broken, f"{docname}: broken images: {broken}"


def test_every_built_page_is_visited(built_book):
    """The parametrised list above covers every HTML page the build wrote."""
    visited = {f"{d}.html" for d in toc_docnames() + EXTRA_PAGES}
    built = {str(p.relative_to(built_book)) for p in built_pages(built_book)}
    assert built <= visited, f"pages not opened by test_page_loads_cleanly: {sorted(built - visited)}"


# --------------------------------------------------------------------------- sliders
SCRUBBER_STATE_JS = """(root) => ({
  src: root.querySelector(".course-scrubber-frame").getAttribute("src"),
  label: root.querySelector(".course-scrubber-label").textContent,
  value: root.querySelector(".course-scrubber-range").value,
  max: root.querySelector(".course-scrubber-range").max,
})"""


@pytest.mark.parametrize("docname", chapter1_docnames(), ids=lambda d: d.replace("/", ":"))
def test_chapter1_scrubbers_change_the_picture(visit, docname, screenshot_dir):
    """Chapter 1's slider figures work in the static book: moving one swaps frame and label, ▶ plays."""
    v = visit(docname)
    scrubbers = v.page.locator(".course-scrubber")
    count = scrubbers.count()
    assert count >= 1, f"{docname}: no static scrubber (.course-scrubber) on the page; chapter 1 needs one"
    for i in range(count):
        root = scrubbers.nth(i)
        root.scroll_into_view_if_needed()
        before = root.evaluate(SCRUBBER_STATE_JS)
        assert int(before["max"]) >= 1, f"{docname} scrubber {i}: fewer than two frames"
        key = "Home" if before["value"] == before["max"] else "End"
        root.locator(".course-scrubber-range").focus()
        v.page.keyboard.press(key)
        after = root.evaluate(SCRUBBER_STATE_JS)
        assert after["value"] != before["value"], f"{docname} scrubber {i}: the range did not move ({key})"
        assert after["src"] != before["src"], f"{docname} scrubber {i}: the picture did not change"
        assert after["label"] != before["label"], f"{docname} scrubber {i}: the label did not change"
        assert after["src"].startswith("data:image/png;base64,")
        assert root.locator(".course-scrubber-frame").evaluate("img => img.complete && img.naturalWidth > 0")
        root.screenshot(path=str(screenshot_dir / f"{_shot_name(docname)}--scrubber-{i}.png"))

    # ▶ Play advances the first scrubber by itself (from frame 0), and pauses again on a second click.
    root = scrubbers.first
    root.locator(".course-scrubber-range").focus()
    v.page.keyboard.press("Home")
    start = root.evaluate(SCRUBBER_STATE_JS)
    play = root.locator(".course-scrubber-play")
    play.click()
    v.page.wait_for_function(
        "([root, label]) => root.querySelector('.course-scrubber-label').textContent !== label",
        arg=[root.element_handle(), start["label"]], timeout=5000)
    play.click()
    assert not v.unexpected_errors(), f"{docname}: console errors while scrubbing: {v.unexpected_errors()}"


# --------------------------------------------------------------------------- launch links
@pytest.mark.parametrize("docname", notebook_docnames(), ids=lambda d: d.replace("/", ":"))
def test_colab_links_point_at_notebooks_in_the_repository(visit, docname):
    v = visit(docname)
    hrefs = v.page.eval_on_selector_all('a[href*="colab.research.google.com"]', "as => as.map(a => a.href)")
    assert hrefs, f"{docname}: no Colab launch link"
    owner_repo = urlsplit(repository_url()).path.strip("/")
    prefix = f"https://colab.research.google.com/github/{owner_repo}/blob/main/"
    for href in hrefs:
        assert href.startswith(prefix), f"{docname}: Colab link {href} does not start with {prefix}"
        path = href[len(prefix):]
        assert path == f"{docname}.ipynb", f"{docname}: Colab link opens {path}"
        assert (ROOT / path).is_file(), f"{docname}: Colab link names {path}, which is not in the repository"


# --------------------------------------------------------------------------- phone, dark mode, 4.2's view
PHONE = (390, 844)


def test_landing_table_fits_a_phone(browser, server, screenshot_dir):
    """At 390 px the landing page's chapter table shows every column (rows become labelled cards):
    nothing sticks out of the page or of the table's own box."""
    v = WatchedPage(browser, server, known_benign=KNOWN_BENIGN, viewport=PHONE)
    try:
        v.page.goto(f"{server}/book/intro.html", wait_until="load")
        v.page.wait_for_timeout(SETTLE_MS)
        table = v.page.locator(".bd-article table").first
        table.scroll_into_view_if_needed()
        box = table.evaluate("t => [t.scrollWidth, t.clientWidth, t.getBoundingClientRect().right]")
        assert box[0] <= box[1] + 1 and box[2] <= PHONE[0], f"the table is cut at {PHONE[0]} px: {box}"
        labels = table.evaluate("t => Array.from(t.querySelectorAll('td[data-label]')).length")
        assert labels > 0, "course.js did not label the table's cells"
        table.screenshot(path=str(screenshot_dir / "intro--table-390.png"))
        assert not v.unexpected_errors(), v.unexpected_errors()
    finally:
        v.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_site_follows_the_systems_colour_scheme(browser, server, scheme, screenshot_dir):
    v = WatchedPage(browser, server, known_benign=KNOWN_BENIGN)
    try:
        v.page.emulate_media(color_scheme=scheme)
        v.page.goto(f"{server}/chapters/03-names-identity/03-grokking.html", wait_until="load")
        v.page.wait_for_timeout(SETTLE_MS)
        assert v.page.evaluate("document.documentElement.dataset.theme") == scheme
        # figures keep a white background (legible on the dark theme) and their true colours
        styles = v.page.eval_on_selector("div.cell_output img", "i => [getComputedStyle(i).backgroundColor, getComputedStyle(i).filter]")
        assert styles == ["rgb(255, 255, 255)", "none"] or scheme == "light", styles
        v.page.screenshot(path=str(screenshot_dir / f"grokking--{scheme}.png"))
        assert not v.unexpected_errors(), v.unexpected_errors()
    finally:
        v.close()


def test_solution_toggles_say_show_solution(visit):
    v = visit("chapters/03-names-identity/03-grokking")
    summaries = v.page.locator(".tag_solution summary, .tag_solution .toggle-button, .tag_solution button")
    text = " ".join(v.page.locator(".tag_solution").all_inner_texts())
    assert "Show solution" in text and "Show code cell source" not in text, text[:300]
    assert summaries.count() >= 1


def test_the_mapper_view_fits_its_frame_and_offers_full_screen(visit, screenshot_dir):
    """4.2's interactive Mapper graph: after the layout settles every node lies inside the frame,
    nodes take the chapter's emotion colours, and a button shows it full screen."""
    from course_lib.mapper.activation_plots import LABEL_COLORS

    v = visit("chapters/04-mapper-activations/02-mapper-on-activations")
    holder = v.page.locator("div.mapper-page").first
    holder.scroll_into_view_if_needed()
    assert holder.locator("button.mapper-page-fullscreen").count() == 1
    frame = next(f for f in v.page.frames if f != v.page.main_frame and f.url in ("about:srcdoc", ""))
    v.page.wait_for_timeout(6000)  # the force layout settles, then the view zooms to fit
    inside = frame.evaluate("""() => {
      const svg = document.querySelector('#canvas svg').getBoundingClientRect();
      const nodes = Array.from(document.querySelectorAll('g.node')).map(n => n.getBoundingClientRect());
      const out = nodes.filter(b => b.left < svg.left - 1 || b.right > svg.right + 1 ||
                                    b.top < svg.top - 1 || b.bottom > svg.bottom + 1).length;
      const fills = Array.from(new Set(Array.from(document.querySelectorAll('g.node path')).map(p => getComputedStyle(p).fill)));
      return {n: nodes.length, out: out, fills: fills};
    }""")
    assert inside["n"] > 20 and inside["out"] == 0, inside
    course = {"rgb({}, {}, {})".format(*(int(c[i:i + 2], 16) for i in (1, 3, 5))) for c in LABEL_COLORS.values()}
    assert set(inside["fills"]) <= course, (inside["fills"], course)
    holder.screenshot(path=str(screenshot_dir / "mapper-view.png"))
    assert not v.unexpected_errors(), v.unexpected_errors()
