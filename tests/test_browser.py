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
