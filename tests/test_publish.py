"""The publish path: the GitHub Pages workflow, and the offline link checker (book/check_links.py).

Fast tests read the workflow file and run the checker on small synthetic sites; the slow test runs
the checker on the quick-profile book (``built_book`` fixture, conftest.py).
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import sys

import pytest
import yaml

from conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"
README = ROOT / "README.md"


def _load_checker():
    spec = importlib.util.spec_from_file_location("check_links", ROOT / "book" / "check_links.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


check_links = _load_checker()


# --------------------------------------------------------------------------- the workflow
@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf8"))


def _triggers(workflow: dict) -> dict:
    # YAML 1.1 reads the bare key `on` as the boolean True.
    triggers = workflow.get("on", workflow.get(True))
    assert triggers is not None, "the workflow has no `on:` triggers"
    return {name: None for name in triggers} if isinstance(triggers, list) else triggers


def _run_commands(job: dict) -> list[str]:
    """Every shell command of a job's run steps, split at newlines and `&&`."""
    commands = []
    for step in job["steps"]:
        for line in str(step.get("run", "")).splitlines():
            commands += [part.strip() for part in line.split("&&") if part.strip()]
    return commands


def _uses(job: dict) -> list[str]:
    return [step["uses"] for step in job["steps"] if "uses" in step]


def _readme_commands() -> tuple[str, str]:
    """The README's book and test commands, read from its "two commands" code block."""
    text = README.read_text(encoding="utf8")
    block = re.search(r"## The two commands\n.*?```bash\n(.*?)```", text, re.S)
    assert block, "README.md has no '## The two commands' section with a bash block"
    commands = [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]
    book = [c for c in commands if c.endswith("book")]
    test = [c for c in commands if c.endswith("test")]
    assert len(book) == 1 and len(test) == 1, commands
    return book[0], test[0]


def test_workflow_triggers(workflow):
    triggers = _triggers(workflow)
    assert set(triggers) == {"push", "pull_request", "workflow_dispatch"}
    assert triggers["push"]["branches"] == ["main"]


def test_workflow_has_a_test_a_build_and_a_deploy_job(workflow):
    assert set(workflow["jobs"]) == {"test", "build", "deploy"}


def _install_step(commands: list[str]) -> list[str]:
    install = [i for i, c in enumerate(commands) if c.startswith("apt-get install")]
    assert len(install) == 1 and install[0] > 0 and commands[install[0] - 1] == "apt-get update", commands
    return commands[install[0]].split()


def test_test_job_runs_the_readme_test_command_only(workflow):
    """`make test` in a job of its own, beside the build, with an hour's limit (about 30 min here)."""
    _, test_cmd = _readme_commands()
    job = workflow["jobs"]["test"]
    commands = _run_commands(job)
    assert [c for c in commands if c.split()[0] == "make"] == [test_cmd], commands
    # Debian's chromium (and python, make), installed before the tests that drive it
    assert commands.index(test_cmd) > next(i for i, c in enumerate(commands) if c.startswith("apt-get install"))
    assert {"chromium", "python3-venv", "make", "fonts-dejavu-core"} <= set(_install_step(commands))
    assert job["container"] == "debian:bookworm"
    assert job["timeout-minutes"] <= 60
    assert "needs" not in job, "the tests and the build run side by side"


def test_build_job_runs_the_readme_book_command_then_the_link_check(workflow):
    book_cmd, test_cmd = _readme_commands()
    assert (book_cmd, test_cmd) == ("make book", "make test")
    job = workflow["jobs"]["build"]
    commands = _run_commands(job)
    assert [c for c in commands if c.split()[0] == "make"] == [book_cmd], "the build job runs no other make target"
    assert {"python3-venv", "make"} <= set(_install_step(commands))
    assert "needs" not in job
    # the link check runs on the standard build after it
    checks = [i for i, c in enumerate(commands) if "book/check_links.py" in c]
    assert len(checks) == 1, commands
    assert checks[0] > commands.index(book_cmd)
    assert "_build/html" in shlex.split(commands[checks[0]])


def test_build_job_caches_executions_and_models_before_building(workflow):
    """Executed notebooks and trained models are restored before `make book`; the cached executions
    are never stale because `make book` drops them when course_lib changed (Makefile)."""
    job = workflow["jobs"]["build"]
    steps = job["steps"]
    cache = [i for i, s in enumerate(steps) if s.get("uses", "").startswith("actions/cache@")]
    book = next(i for i, s in enumerate(steps) if s.get("run", "").strip() == "make book")
    assert len(cache) == 1 and cache[0] < book
    spec = steps[cache[0]]["with"]
    paths = spec["path"].split()
    assert {"_build/.jupyter_cache", "_build/.jupyter_cache.lib", "_build/models"} <= set(paths)
    for part in ("course_lib/", "pyproject.toml", "chapters/"):
        assert part in spec["key"], spec["key"]
    assert "COURSE_CACHE_DIR=$PWD/_build/models" in "".join(_run_commands(job))
    makefile = (ROOT / "Makefile").read_text(encoding="utf8")
    assert ".jupyter_cache.lib" in makefile, "make book must drop executions made with another course_lib"


def test_readme_test_command_appears_in_the_workflow():
    _, test_cmd = _readme_commands()
    assert f"run: {test_cmd}" in WORKFLOW.read_text(encoding="utf8")


def test_build_job_runs_on_debian_and_uploads_the_site(workflow):
    job = workflow["jobs"]["build"]
    uses = _uses(job)
    assert any(u.startswith("actions/checkout@") for u in uses)
    # the distribution of the course's machines (python3 3.11, a real chromium package)
    assert job["container"] == "debian:bookworm"
    upload = [s for s in job["steps"] if s.get("uses", "").startswith("actions/upload-pages-artifact@")]
    assert len(upload) == 1 and upload[0]["uses"] == "actions/upload-pages-artifact@v3"
    assert upload[0]["with"]["path"] == "_build/html"
    # the upload is the last step: nothing uploads a site that failed its link check
    assert job["steps"][-1] is upload[0]


def test_deploy_job_needs_tests_and_build_and_has_pages_permissions(workflow):
    job = workflow["jobs"]["deploy"]
    needs = job["needs"] if isinstance(job["needs"], list) else [job["needs"]]
    assert sorted(needs) == ["build", "test"], "nothing is published unless every test passed"
    assert job["permissions"] == {"pages": "write", "id-token": "write"}
    env = job["environment"]
    assert (env["name"] if isinstance(env, dict) else env) == "github-pages"
    assert "actions/deploy-pages@v4" in _uses(job)
    # deploys only from main, on push or by hand; never for a pull request
    condition = job["if"]
    assert "refs/heads/main" in condition and "pull_request" not in condition
    assert "'push'" in condition and "'workflow_dispatch'" in condition


def test_pages_deploys_never_overlap(workflow):
    concurrency = workflow["jobs"]["deploy"]["concurrency"]
    assert concurrency["group"] == "pages" and concurrency["cancel-in-progress"] is False
    assert "concurrency" in workflow  # runs of one branch are serialised too


def test_readme_documents_publishing_and_forking():
    text = README.read_text(encoding="utf8")
    section = re.search(r"## Publishing the book and forking\n(.*?)\n## ", text, re.S)
    assert section, "README.md lacks the 'Publishing the book and forking' section"
    body = section.group(1)
    for needle in ("GitHub Actions", "_config.yml", "repository:", "url:",
                   ".venv/bin/python -m course_lib.sync_notebooks", ".github/workflows/book.yml"):
        assert needle in body, needle
    assert text.index("## Publishing the book and forking") < text.index("## Licence")


# --------------------------------------------------------------------------- the link checker
def _site(tmp_path, pages: dict[str, str]):
    for name, body in pages.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf8")
    return tmp_path


def _broken(report) -> set[tuple[str, str]]:
    return {(link.page, link.url) for link, _ in report.broken}


GOOD_SITE = {
    "index.html": """<html><head>
        <link rel="stylesheet" href="_static/style.css?v=123">
        <script src="_static/app.js"></script>
        <link rel="preconnect" href="https://fonts.example.org">
        </head><body>
        <a href="#top">top</a><a href="#">self</a><a href="">self</a>
        <h1 id="top">Top</h1>
        <a href="chapters/one.html#sec-1">one</a>
        <a href="chapters/one.html#caf%C3%A9">accented</a>
        <a href="chapters/">folder index</a>
        <a href="genindex.html">index</a>
        <img src="_images/fig%201.png" srcset="_images/fig%201.png 1x, _images/fig2.png 2x">
        <a href="https://example.org/paper">paper</a>
        <script src="//cdn.example.com/lib.js"></script>
        <img src="data:image/png;base64,iVBORw0KGgo=">
        <a href="mailto:someone@example.org">mail</a>
        <a href="javascript:void(0)">js</a>
        </body></html>""",
    "genindex.html": "<html><body><a href='index.html#top'>home</a></body></html>",
    "chapters/one.html": """<html><body><section id="sec-1"><a name="old-anchor"></a></section>
        <span id="café"></span><a href="../index.html">home</a><a href="index.html#old">x</a>
        <a href="one.html#old-anchor">legacy anchor</a></body></html>""",
    "chapters/index.html": "<html><body><p id='old'>chapters</p></body></html>",
    "_static/style.css": "body {}",
    "_static/app.js": "",
    "_images/fig 1.png": "png",
    "_images/fig2.png": "png",
}


def test_checker_accepts_a_good_site_and_lists_external_links(tmp_path):
    report = check_links.check(_site(tmp_path, GOOD_SITE))
    assert report.broken == []
    assert report.pages == 4
    assert set(report.external) == {"https://fonts.example.org", "https://example.org/paper",
                                    "https://cdn.example.com/lib.js"}
    assert report.skipped == 3  # data:, mailto:, javascript:
    assert report.internal_checked == 16


def test_checker_finds_a_missing_file(tmp_path):
    site = _site(tmp_path, dict(GOOD_SITE, **{
        "chapters/two.html": "<html><body><a href='three.html'>next</a><img src='../_images/gone.png'>"
                             "<script src='/_static/missing.js'></script></body></html>"}))
    report = check_links.check(site)
    assert _broken(report) == {("chapters/two.html", "three.html"),
                               ("chapters/two.html", "../_images/gone.png"),
                               ("chapters/two.html", "/_static/missing.js")}
    reasons = " ".join(reason for _, reason in report.broken)
    assert "chapters/three.html" in reasons and "_images/gone.png" in reasons


def test_checker_finds_a_broken_fragment(tmp_path):
    site = _site(tmp_path, dict(GOOD_SITE, **{
        "chapters/two.html": "<html><body><h2 id='here'>x</h2><a href='#here'>ok</a><a href='#nowhere'>bad</a>"
                             "<a href='one.html#sec-2'>bad</a><a href='one.html#sec-1'>ok</a></body></html>"}))
    report = check_links.check(site)
    assert _broken(report) == {("chapters/two.html", "#nowhere"), ("chapters/two.html", "one.html#sec-2")}
    assert any("'sec-2'" in reason and "chapters/one.html" in reason for _, reason in report.broken)


def test_checker_rejects_links_leaving_the_site_and_file_urls(tmp_path):
    (tmp_path / "outside.html").write_text("exists, but outside the site")
    site = _site(tmp_path / "site", {"index.html": "<a href='../outside.html'>up</a>"
                                                   "<a href='file:///etc/passwd'>f</a>"})
    report = check_links.check(site)
    assert _broken(report) == {("index.html", "../outside.html"), ("index.html", "file:///etc/passwd")}


def test_checker_treats_the_published_address_as_internal(tmp_path):
    base = "https://someone.github.io/course/"
    site = _site(tmp_path, {"index.html": f"<a href='{base}a.html'>ok</a><a href='{base}b.html'>bad</a>",
                            "a.html": ""})
    report = check_links.check(site, base_url=base)
    assert _broken(report) == {("index.html", f"{base}b.html")}
    assert report.external == {}


def test_checker_names_but_does_not_check_unrendered_templates(tmp_path, capsys):
    """pydata-sphinx-theme ships _static/webpack-macros.html, a Jinja template, as a static file."""
    site = _site(tmp_path, {"index.html": "<a href='nowhere.html'>bad</a>",
                            "_static/macros.html": "<script src=\"{{ pathto('_static/x.js', 1) }}\"></script>"})
    report = check_links.check(site)
    assert _broken(report) == {("index.html", "nowhere.html")}
    assert report.template_links == {"_static/macros.html": 1}
    check_links.print_report(report, site)
    assert "not checked: 1 links in _static/macros.html" in capsys.readouterr().out


def test_main_exit_status_and_summary(tmp_path, capsys):
    good = _site(tmp_path / "good", GOOD_SITE)
    assert check_links.main([str(good)]) == 0
    out = capsys.readouterr().out
    assert "4 pages, 16 internal links checked, 0 broken" in out
    assert "https://example.org/paper" in out and "not fetched" in out

    bad = _site(tmp_path / "bad", dict(GOOD_SITE, **{"index.html": "<a id='top' href='chapters/one.html#gone'>x</a>"}))
    assert check_links.main([str(bad)]) == 1
    out = capsys.readouterr().out
    assert "index.html" in out and "chapters/one.html#gone" in out and "1 broken" in out

    assert check_links.main([str(tmp_path / "empty")]) == 2


def test_external_fetch_counts_failures_without_failing(tmp_path, monkeypatch, capsys):
    """--external requests each distinct URL (HEAD, then GET); failures are counted, not fatal."""
    import urllib.error

    calls = []

    def fake_urlopen(request, timeout):
        calls.append((request.get_method(), request.full_url, timeout))
        if "down" in request.full_url or request.get_method() == "HEAD":
            raise urllib.error.HTTPError(request.full_url, 405 if "up" in request.full_url else 404,
                                         "no", {}, None)

        class Response:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                return False

            def read(self, n):
                return b""
        return Response()

    monkeypatch.setattr(check_links.urllib.request, "urlopen", fake_urlopen)
    site = _site(tmp_path, {"index.html": "<a href='https://up.example/'>a</a><a href='https://up.example/'>b</a>"
                                          "<a href='https://down.example/x'>c</a>"})
    assert check_links.main([str(site), "--external", "--timeout", "3"]) == 0
    assert [c[:2] for c in calls] == [("HEAD", "https://down.example/x"), ("GET", "https://down.example/x"),
                                      ("HEAD", "https://up.example/"), ("GET", "https://up.example/")]
    assert all(c[2] == 3 for c in calls)
    out = capsys.readouterr().out
    assert "https://down.example/x (HTTP 404)" in out and "1 failed" in out
    assert check_links.main([str(site), "--external", "--fail-on-external"]) == 1


# --------------------------------------------------------------------------- the built book
@pytest.mark.slow
def test_built_book_has_no_broken_internal_links(built_book, capsys):
    report = check_links.check(built_book)
    check_links.print_report(report, built_book, list_external=False)
    print(capsys.readouterr().out)
    assert report.pages > 0 and report.internal_checked > 0
    # only theme templates shipped as static files may go unchecked, never a page of the book
    assert all(page.startswith("_static/") for page in report.template_links), report.template_links
    assert report.broken == [], "\n".join(
        f"{link.page}: {link.url} ({reason})" for link, reason in report.broken)
