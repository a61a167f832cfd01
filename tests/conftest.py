"""Shared fixtures for the book tests: the quick-profile book, built once per test session.

``built_book`` runs

    COURSE_PROFILE=quick jupyter-book build . --path-output _build/quick --all -W -n --keep-going

and returns the HTML folder, ``_build/quick/_build/html`` (jupyter-book appends ``_build/html`` to
``--path-output``). Notebook executions are cached by jupyter-cache next to it, in
``_build/quick/_build/.jupyter_cache``, while ``make book`` (standard profile) uses
``_build/.jupyter_cache``: the two profiles never reuse each other's executions.

jupyter-cache keys an execution on the notebook's code only, so a change to ``course_lib`` would
otherwise leave stale outputs in the book: the fixture drops the quick cache whenever the library's
source changed since the last build. ``--all`` re-reads every page, so warnings are reported (and
fail the build) on every run, not only on the run that first met them.

Tests that need the build (minutes) are marked ``@pytest.mark.slow``. Pages to test are
parametrised from ``_toc.yml`` at collection time (``pytest_generate_tests`` below).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
QUICK_OUT = ROOT / "_build" / "quick"
HTML_DIR = QUICK_OUT / "_build" / "html"
EXEC_CACHE = QUICK_OUT / "_build" / ".jupyter_cache"
BUILD_LOG = QUICK_OUT / "build.log"
LIB_STAMP = QUICK_OUT / "course_lib.sha256"
SCREENSHOTS = QUICK_OUT / "screenshots"
BUILD_TIMEOUT_S = 30 * 60
PRIMED: list[str] = []  # the docnames whose outputs the book build took from the JupyterLab run
TIMINGS_DIR = ROOT / "_build" / "timings"


# --------------------------------------------------------------------------- the table of contents
def toc_docnames() -> list[str]:
    """Every document in _toc.yml (root first, then in reading order), without suffix."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf8"))
    names = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                names.append(entry["file"])
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key))

    walk(toc.get("parts"))
    walk(toc.get("chapters"))
    return [str(Path(n).with_suffix("")) if Path(n).suffix in (".md", ".ipynb") else n for n in names]


def source_of(docname: str) -> Path:
    """The source file of a toc entry (.ipynb or .md)."""
    for suffix in (".ipynb", ".md"):
        path = ROOT / f"{docname}{suffix}"
        if path.exists():
            return path
    raise FileNotFoundError(f"_toc.yml lists {docname!r} but neither {docname}.ipynb nor .md exists")


def notebook_docnames() -> list[str]:
    return [d for d in toc_docnames() if (ROOT / f"{d}.ipynb").exists()]


def chapter1_docnames() -> list[str]:
    return [d for d in toc_docnames() if d.startswith("chapters/01-")]


def built_pages(html_dir: Path) -> list[Path]:
    """Every HTML page of the build (not the copied sources, static files or error reports)."""
    skip = {"_static", "_sources", "_images", "reports"}
    return sorted(p for p in html_dir.rglob("*.html") if not skip & set(p.relative_to(html_dir).parts))


def executed_notebook(docname: str) -> dict:
    """The notebook as the quick build executed it (from its jupyter-cache), as a plain dict.

    Not _build/quick/_build/jupyter_execute/*.ipynb: myst-nb writes the executed notebook there
    only when it ran it, and the outputless source when it took the outputs from the cache.
    """
    import nbformat
    from jupyter_cache import get_cache

    source = nbformat.read(str(ROOT / f"{docname}.ipynb"), as_version=4)
    try:
        _, merged = get_cache(str(EXEC_CACHE)).merge_match_into_notebook(source)
    except KeyError:
        pytest.fail(f"{docname}: no execution of the current notebook in {EXEC_CACHE}")
    return json.loads(nbformat.writes(merged))


# Live JupyterLab executes the notebooks whose outputs the book build reuses (tests/executions.py),
# so its tests run before every test that needs the built book; everything else keeps its order.
def _run_order(item) -> int:
    if Path(str(item.fspath)).name == "test_jupyterlab.py":
        return 1
    return 2 if "built_book" in getattr(item, "fixturenames", ()) else 0


def pytest_collection_modifyitems(config, items):
    items.sort(key=_run_order)


def pytest_generate_tests(metafunc):
    """Parametrise ``book_page``, ``notebook_page`` and ``chapter1_page`` from _toc.yml."""
    for name, pages in (
        ("book_page", toc_docnames),
        ("notebook_page", notebook_docnames),
        ("chapter1_page", chapter1_docnames),
    ):
        if name in metafunc.fixturenames:
            metafunc.parametrize(name, pages(), ids=lambda d: d.replace("/", ":"))


# --------------------------------------------------------------------------- building the book
def _library_digest() -> str:
    """Hash of everything that changes what the notebooks compute besides their own code."""
    digest = hashlib.sha256()
    files = sorted((ROOT / "course_lib").rglob("*.py")) + [ROOT / "pyproject.toml"]
    for path in files:
        if "__pycache__" in path.parts:
            continue
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _jupyter_book() -> str:
    for candidate in (Path(sys.executable).parent / "jupyter-book", ROOT / ".venv" / "bin" / "jupyter-book"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("jupyter-book")
    if found is None:
        pytest.fail("jupyter-book is not installed: run `make venv` (it installs the [book] extra)")
    return found


def _failure_report(log: str, returncode: int) -> str:
    lines = log.splitlines()
    warnings = [line for line in lines if ("WARNING" in line or "ERROR" in line)
                and not line.startswith("[IPKernelApp]")]  # kernel start-up chatter, not Sphinx
    report = [f"jupyter-book build failed (exit {returncode}); full log: {BUILD_LOG}"]
    if warnings:
        report += ["", "warnings and errors:"] + warnings[-40:]
    for err in sorted((HTML_DIR / "reports").rglob("*.err.log")) if (HTML_DIR / "reports").exists() else []:
        report += ["", f"notebook traceback {err.relative_to(ROOT)} (tail):"]
        report += err.read_text(errors="replace").splitlines()[-25:]
    report += ["", "log tail:"] + lines[-60:]
    return "\n".join(report)


@pytest.fixture(scope="session")
def built_book() -> Path:
    """Build the book once per session (quick profile) and return its HTML folder.

    The notebooks' outputs are the ones live JupyterLab saved on the core install (test_jupyterlab.py
    runs before the book's tests; its executions are put into the build's jupyter-cache first), so
    the build executes only what that run did not (everything, when JupyterLab was not run)."""
    QUICK_OUT.mkdir(parents=True, exist_ok=True)
    digest = _library_digest()
    stamp = LIB_STAMP.read_text().strip() if LIB_STAMP.exists() else None
    if stamp != digest and EXEC_CACHE.exists():
        shutil.rmtree(EXEC_CACHE)  # course_lib changed (or unknown): cached executions may be stale
    LIB_STAMP.write_text(digest)  # the library the cache's executions will come from
    from executions import prime_book_cache

    PRIMED.extend(prime_book_cache(EXEC_CACHE))
    reports = HTML_DIR / "reports"
    if reports.exists():
        shutil.rmtree(reports)  # tracebacks of an earlier failed build would be misleading

    env = dict(os.environ, COURSE_PROFILE="quick", COURSE_BOOK_BUILD="1")  # as `make book` builds it
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    cmd = [_jupyter_book(), "build", ".", "--path-output", str(QUICK_OUT.relative_to(ROOT)),
           "--all", "-W", "-n", "--keep-going"]
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=BUILD_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        BUILD_LOG.write_text(out)
        pytest.fail(f"jupyter-book build took longer than {BUILD_TIMEOUT_S} s\n" + "\n".join(out.splitlines()[-60:]))
    elapsed = time.monotonic() - start
    record_stage("book build (quick; outputs from the JupyterLab run)", elapsed)
    BUILD_LOG.write_text(f"$ {' '.join(cmd)}\n# {elapsed:.1f} s, exit {proc.returncode}\n{proc.stdout}")
    if proc.returncode != 0:
        pytest.fail(_failure_report(proc.stdout, proc.returncode), pytrace=False)
    if not (HTML_DIR / "index.html").exists():
        pytest.fail(f"the build succeeded but wrote no {HTML_DIR / 'index.html'}; log: {BUILD_LOG}")
    return HTML_DIR


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


# --------------------------------------------------------------------------- the readers' kernels
def require_kernel(name: str, venv: str) -> str:
    """The Jupyter kernel ``name`` that `make reader-envs` registers in ``venv``: a skip locally where it
    is missing, a failure in CI."""
    from executions import kernel_available

    if not kernel_available(name):
        message = (f"no Jupyter kernel {name!r}: run `make reader-envs` and put {ROOT}/{venv}/share/jupyter "
                   f"on JUPYTER_PATH (`make test` does both)")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return name


# --------------------------------------------------------------------------- the browser
@pytest.fixture(scope="module")
def chromium_path() -> str:
    """Debian's chromium: a skip locally where it is missing, a failure in CI."""
    from browser_tools import CHROMIUM

    if not CHROMIUM.exists():
        message = f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return str(CHROMIUM)


@pytest.fixture(scope="module")
def browser(chromium_path):
    """A headless chromium per test module (each page gets a fresh context). Module scope, so that
    Playwright's event loop is gone before tests that run their own (nbclient, nbval)."""
    from playwright.sync_api import sync_playwright

    from browser_tools import CHROMIUM_ARGS

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        b.close()


# --------------------------------------------------------------------------- the per-stage timing table
# Printed at the end of every run (so a slow stage shows itself in every CI log) and written to
# _build/timings/stages.json. A fixture that does a stage's work inside some test's set-up (the book
# build) records its own time, which is moved out of that test file's total.
STAGE_SECONDS: dict[str, float] = {}
_STAGE_FILES: dict[str, dict[str, float]] = {}  # stage -> {test file it ran in: seconds}
_FILE_SECONDS: dict[str, float] = {}
_RUN = {"start": time.monotonic(), "file": ""}
_FILE_STAGES = {  # test file -> stage (everything else: unit and static tests)
    "test_jupyterlab.py": "execution 1: live JupyterLab on the core install (feeds the book)",
    "test_reader_environments.py": "execution 2: Colab's versions, every exercise solved",
    "test_book.py": "book: HTML checks",
    "test_browser.py": "book: browser test",
}


def record_stage(name: str, seconds: float) -> None:
    STAGE_SECONDS[name] = STAGE_SECONDS.get(name, 0.0) + seconds
    hosts = _STAGE_FILES.setdefault(name, {})
    hosts[_RUN["file"]] = hosts.get(_RUN["file"], 0.0) + seconds


def pytest_runtest_setup(item):
    _RUN["file"] = Path(str(item.fspath)).name


def pytest_runtest_logreport(report):
    name = Path(report.fspath).name if report.fspath else report.nodeid.split("::")[0]
    _FILE_SECONDS[name] = _FILE_SECONDS.get(name, 0.0) + report.duration


def stage_table() -> list[tuple[str, float]]:
    """(stage, seconds) rows: the environments (from make), the fixtures' stages, then test files
    grouped by stage with the fixtures' time taken out of the file it ran in."""
    rows: list[tuple[str, float]] = []
    envs = TIMINGS_DIR / "environments.txt"
    if envs.exists():
        rows.append(("environments (make venv reader-envs)", float(envs.read_text().split()[0])))
    files = dict(_FILE_SECONDS)
    for name, seconds in STAGE_SECONDS.items():
        rows.append((name, seconds))
        for host, inside in _STAGE_FILES.get(name, {}).items():
            if host in files:
                files[host] = max(0.0, files[host] - inside)
    grouped: dict[str, float] = {}
    for file, seconds in files.items():
        stage = _FILE_STAGES.get(file, "unit and static tests")
        grouped[stage] = grouped.get(stage, 0.0) + seconds
    order = ["unit and static tests", *_FILE_STAGES.values()]
    rows += [(stage, grouped[stage]) for stage in order if stage in grouped]
    return rows


def pytest_terminal_summary(terminalreporter):
    rows = stage_table()
    if not rows:
        return
    wall = time.monotonic() - _RUN["start"]
    width = max(len(r[0]) for r in rows) + 2
    terminalreporter.section("time per stage")
    for name, seconds in rows:
        terminalreporter.write_line(f"{name:<{width}} {seconds / 60:6.1f} min  ({seconds:7.1f} s)")
    terminalreporter.write_line(f"{'pytest wall time':<{width}} {wall / 60:6.1f} min  ({wall:7.1f} s)")
    TIMINGS_DIR.mkdir(parents=True, exist_ok=True)
    (TIMINGS_DIR / "stages.json").write_text(json.dumps(
        {"stages": [[n, round(s, 1)] for n, s in rows], "pytest_wall_s": round(wall, 1)}, indent=1))
