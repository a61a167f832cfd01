#!/usr/bin/env python3
"""Offline link checker for the built book (standard library only).

    python book/check_links.py [HTML_DIR] [--external] [--base-url URL] [--timeout S]

Parses every ``.html`` file under HTML_DIR (default ``_build/html``) and checks every URL in the
``href``/``src``/``srcset`` attributes of ``a``, ``link``, ``script``, ``img``, ``source`` and
``iframe`` elements:

* relative and root-relative URLs (and absolute ones starting with ``--base-url``, the address the
  site is published at) must name a file inside HTML_DIR (a folder means its ``index.html``);
* a ``#fragment`` on a link to an HTML page must match an element ``id`` (or an ``<a name>``) in
  that page; ``#`` alone and an empty fragment mean the top of the page;
* ``data:``, ``mailto:``, ``javascript:`` (and ``tel:``) URLs are skipped; ``file:`` URLs are
  broken (they cannot work on a published site);
* a URL holding Jinja markup (``{{ ... }}``, ``{% ... %}``) sits in an unrendered template that a
  theme ships as a static file (pydata-sphinx-theme's ``_static/webpack-macros.html``); such links
  are not checked, and the pages holding them are named in the output;
* external ``http(s)://`` URLs are listed, not fetched: the build works offline. With
  ``--external`` each distinct one is requested (HEAD, then GET if HEAD fails) with a timeout;
  failures are reported and counted but do not change the exit status (the web is flaky; a
  deploy should not wait on someone else's server) unless ``--fail-on-external`` is given.

Prints a summary and every broken link as ``page: link (reason)``. ``main()`` returns the exit
status: 0 when no internal link is broken, 1 when one is, 2 when HTML_DIR has no HTML pages.
"""

from __future__ import annotations

import argparse
import os
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

# (tag, attribute) pairs whose value is a URL; srcset holds several.
LINK_ATTRIBUTES = {
    "a": ("href",),
    "link": ("href",),
    "script": ("src",),
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),
    "iframe": ("src",),
}
SKIPPED_SCHEMES = {"data", "mailto", "javascript", "tel"}
EXTERNAL_SCHEMES = {"http", "https"}
USER_AGENT = "course-book-link-check/1.0 (python urllib)"


@dataclass
class Link:
    page: str   # page path relative to the HTML folder, POSIX style
    tag: str
    attr: str
    url: str


@dataclass
class Page:
    links: list[Link] = field(default_factory=list)
    anchors: set[str] = field(default_factory=set)
    base: str | None = None


@dataclass
class Report:
    pages: int = 0
    internal_checked: int = 0
    skipped: int = 0
    template_links: dict[str, int] = field(default_factory=dict)   # page -> links with Jinja markup
    external: dict[str, list[str]] = field(default_factory=dict)   # url -> pages using it
    broken: list[tuple[Link, str]] = field(default_factory=list)
    external_failures: list[tuple[str, str]] = field(default_factory=list)
    external_fetched: bool = False


class _PageParser(HTMLParser):
    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.result = Page()

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if values.get("id"):
            self.result.anchors.add(values["id"])
        if tag == "a" and values.get("name"):
            self.result.anchors.add(values["name"])
        if tag == "base" and values.get("href") and self.result.base is None:
            self.result.base = values["href"].strip()
        for attr in LINK_ATTRIBUTES.get(tag, ()):
            value = values.get(attr)
            if value is None:
                continue
            urls = _srcset_urls(value) if attr == "srcset" else [value.strip()]
            for url in urls:
                self.result.links.append(Link(self.page, tag, attr, url))


def _srcset_urls(value: str) -> list[str]:
    """The URLs of a srcset attribute ("a.png 1x, b.png 2x")."""
    urls = []
    for candidate in value.split(","):
        parts = candidate.split()
        if parts:
            urls.append(parts[0])
    return urls


def parse_page(path: Path, html_dir: Path) -> Page:
    parser = _PageParser(path.relative_to(html_dir).as_posix())
    parser.feed(path.read_text(encoding="utf-8", errors="replace"))
    parser.close()
    return parser.result


def _target_file(html_dir: Path, site_path: str) -> Path:
    """The file a site path (POSIX, relative to the site root) is served from."""
    target = html_dir.joinpath(*[p for p in site_path.split("/") if p])
    if site_path.endswith("/") or target.is_dir():
        target = target / "index.html"
    return target


def _resolve(page: str, path: str) -> str | None:
    """The site path (relative to the site root) a URL path means on ``page``, or None when
    it climbs above the site root (which on a project site is someone else's site)."""
    if path == "":
        return page
    segments = [] if path.startswith("/") else page.split("/")[:-1]
    pieces = path.split("/")
    for piece in pieces:
        if piece in ("", "."):
            continue
        if piece == "..":
            if not segments:
                return None
            segments.pop()
        else:
            segments.append(unquote(piece))
    folder = pieces[-1] in ("", ".", "..")
    return "/".join(segments) + ("/" if folder and segments else "")


def _classify(link: Link, page_base: str | None, base_url: str | None):
    """('skip'|'external'|'broken'|'internal', detail) for one link.

    For 'internal' the detail is (site_path, fragment) with site_path relative to the site root.
    """
    url = link.url
    if base_url and url.startswith(base_url):
        url = "/" + url[len(base_url):].lstrip("/")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in SKIPPED_SCHEMES:
        return "skip", None
    if scheme in EXTERNAL_SCHEMES or (not scheme and url.startswith("//")):
        return "external", url if scheme else "https:" + url
    if scheme == "file":
        return "broken", "file: URL (cannot work on the published site)"
    if scheme:
        return "skip", None
    # Relative or root-relative: resolve against the page's own place in the site (or its <base>).
    page = link.page
    if page_base and not urlsplit(page_base).scheme and not page_base.startswith("//"):
        page = _resolve(page, urlsplit(page_base).path)
        if page is None:
            return "broken", "the page's <base href> points outside the site"
    site_path = _resolve(page, parts.path)
    if site_path is None:
        return "broken", "points outside the site"
    return "internal", (site_path, parts.fragment)


def check(html_dir: Path | str, *, base_url: str | None = None) -> Report:
    """Check every internal link under html_dir; collect (not fetch) the external ones."""
    html_dir = Path(html_dir).resolve()
    report = Report()
    pages: dict[str, Page] = {}
    for path in sorted(html_dir.rglob("*.html")):
        if path.is_file():
            pages[path.relative_to(html_dir).as_posix()] = parse_page(path, html_dir)
    report.pages = len(pages)

    for page in pages.values():
        for link in page.links:
            if "{{" in link.url or "{%" in link.url:
                # An unrendered Jinja template shipped as a static file (pydata-sphinx-theme's
                # _static/webpack-macros.html): not a page a reader opens. Counted and named.
                report.template_links[link.page] = report.template_links.get(link.page, 0) + 1
                continue
            kind, detail = _classify(link, page.base, base_url)
            if kind == "skip":
                report.skipped += 1
                continue
            if kind == "external":
                report.external.setdefault(detail, []).append(link.page)
                continue
            if kind == "broken":
                report.broken.append((link, detail))
                continue
            report.internal_checked += 1
            site_path, fragment = detail
            target = _target_file(html_dir, site_path)
            try:
                target.resolve().relative_to(html_dir)
            except ValueError:
                report.broken.append((link, "points outside the site"))
                continue
            if not target.is_file():
                report.broken.append((link, f"no such file: {target.relative_to(html_dir).as_posix()}"))
                continue
            if not fragment or target.suffix.lower() not in (".html", ".htm"):
                continue
            key = target.relative_to(html_dir).as_posix()
            target_page = pages.get(key) or parse_page(target, html_dir)
            pages.setdefault(key, target_page)
            if fragment not in target_page.anchors and unquote(fragment) not in target_page.anchors:
                report.broken.append((link, f"no element with id {unquote(fragment)!r} in {key}"))
    return report


def fetch_external(report: Report, *, timeout: float = 15.0) -> None:
    """Request every external URL once (HEAD, then GET); record failures in the report."""
    report.external_fetched = True
    for url in sorted(report.external):
        error = None
        for method in ("HEAD", "GET"):
            request = urllib.request.Request(url, method=method, headers={"User-Agent": USER_AGENT})
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    if method == "GET":
                        response.read(1024)
                error = None
                break
            except urllib.error.HTTPError as exc:
                error = f"HTTP {exc.code}"
            except (urllib.error.URLError, OSError, ValueError) as exc:
                error = f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}"
        if error is not None:
            report.external_failures.append((url, error))


def print_report(report: Report, html_dir: Path, *, list_external: bool = True, out=None) -> None:
    out = out or sys.stdout
    in_actions = os.environ.get("GITHUB_ACTIONS") == "true"
    if list_external and report.external:
        print(f"External links ({len(report.external)} distinct, "
              f"{'fetched' if report.external_fetched else 'not fetched'}):", file=out)
        for url in sorted(report.external):
            print(f"  {url}  ({len(report.external[url])} uses)", file=out)
    for url, error in report.external_failures:
        pages = sorted(set(report.external[url]))
        line = f"external link failed: {url} ({error}) on {', '.join(pages[:3])}{' ...' if len(pages) > 3 else ''}"
        print(f"::warning::{line}" if in_actions else line, file=out)
    for link, reason in report.broken:
        line = f"BROKEN {link.page}: <{link.tag} {link.attr}=\"{link.url}\"> ({reason})"
        print(f"::error file={link.page}::{line}" if in_actions else line, file=out)
    for page, count in sorted(report.template_links.items()):
        print(f"not checked: {count} links in {page} (an unrendered template: its URLs hold Jinja markup)",
              file=out)
    external_uses = sum(len(v) for v in report.external.values())
    summary = (f"{html_dir}: {report.pages} pages, {report.internal_checked} internal links checked, "
               f"{len(report.broken)} broken; {external_uses} external links "
               f"({len(report.external)} distinct, "
               + (f"fetched, {len(report.external_failures)} failed" if report.external_fetched
                  else "not fetched")
               + f"); {report.skipped} skipped (data:, mailto:, javascript:, ...)"
               + (f"; {sum(report.template_links.values())} in unrendered templates not checked"
                  if report.template_links else ""))
    print(summary, file=out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("html_dir", nargs="?", default="_build/html", help="built HTML folder (default _build/html)")
    parser.add_argument("--external", action="store_true", help="also request every external http(s) link")
    parser.add_argument("--fail-on-external", action="store_true",
                        help="with --external: a failed external link fails the check too")
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds per external request (default 15)")
    parser.add_argument("--base-url", default=None,
                        help="address the site is published at; absolute links under it count as internal")
    parser.add_argument("--quiet", action="store_true", help="do not list the external links")
    args = parser.parse_args(argv)

    html_dir = Path(args.html_dir)
    if not html_dir.is_dir() or not any(html_dir.rglob("*.html")):
        print(f"check_links: no HTML pages under {html_dir} (build the book first)", file=sys.stderr)
        return 2
    report = check(html_dir, base_url=args.base_url)
    if args.external:
        fetch_external(report, timeout=args.timeout)
    print_report(report, html_dir, list_external=not args.quiet)
    if report.broken:
        return 1
    if args.fail_on_external and report.external_failures:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
