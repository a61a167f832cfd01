"""Every notebook in a real JupyterLab on a reader's core install, with live ipywidgets sliders
(Playwright driving Debian's chromium, headless).

This is the first of the two executions of each notebook in ``make test`` (tests/executions.py): its
saved notebooks become the quick book's outputs, so it runs before the book's tests.

The chapters' notebooks (every ``chapters/*/*.ipynb`` found at run time) are copied into a temporary
folder with their kernel set to ``course-core`` (.venv-core: ``pip install .``, the core dependencies
only), a JupyterLab server is started there (127.0.0.1, a free port, a random token, the quick
profile, the session's ``COURSE_CACHE_DIR``, and the book build's ``COURSE_BOOK_BUILD``, which only
hides progress bars), and each notebook is opened in the browser and run with "Run All Cells". Then:

* every code cell has an execution count and no cell shows an error (neither an ``error`` output in
  the notebook model nor a rendered traceback), and the saved notebook agrees;
* the notebook shows exactly as many live ``frame_slider`` panels (VBox of HBox(Play, IntSlider,
  Label) and Image) as its code cells contain ``frame_slider(`` calls, so a slider that fails to
  render fails the test;
* each slider is moved with the keyboard (to the other end with Home/End, then one step with the
  arrow keys), and after every move both the label text and the picture (the image's ``src`` and
  the bytes behind it) change — the round trip through the kernel really happened;
* the page logs no console error and no uncaught exception (except KNOWN_BENIGN), and requests
  nothing from outside the server (such requests are aborted and fail the test);
* the notebook JupyterLab saved right after "Run All" (widget state included) is recorded for the
  book build (tests/executions.py).

Screenshots: ``_build/quick/screenshots/lab-<notebook>.png`` after "Run All" (scrolled to the first
slider) and ``lab-<notebook>-slider<i>.png`` of each slider after moving it.

Each slider is also played: its Play button (linked to the slider in the kernel) must advance it.

Needs /usr/bin/chromium (``apt-get install chromium``); never ``playwright install``.
Measured on the 2-core development machine shared with other jobs (chapter 1, two notebooks; the
module prints its own timing line at the end with ``-s``): 30-61 s with a fresh ``COURSE_CACHE_DIR``
(the bottleneck notebook trains its models; the spread is the other jobs' load and a first, cold
JupyterLab start), about 34 s with a warm cache (the training is only seconds in the quick profile).
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import tokenize
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from browser_tools import WatchedPage
from conftest import require_kernel
from executions import CORE_KERNEL, record_execution

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
SCREENSHOTS = ROOT / "_build" / "quick" / "screenshots"
# Console errors / page errors that may appear without failing the test: (regular expression,
# why it is harmless). Keep it empty unless an entry can be justified.
KNOWN_BENIGN: list[tuple[str, str]] = []

SERVER_START_TIMEOUT_S = 90
APP_READY_TIMEOUT_S = 90  # JupyterLab loaded, notebook open, kernel idle
RUN_ALL_TIMEOUT_S = 600  # per notebook: a hang guard (the quick budget is 60 s; a busy machine doubles it)
CORE_KERNELSPEC = {"name": CORE_KERNEL, "display_name": "course (core install)", "language": "python"}
SLIDER_UPDATE_TIMEOUT_S = 15  # one slider move: browser -> kernel -> browser

pytestmark = pytest.mark.slow

_TIMINGS: dict[str, float] = {}


# --------------------------------------------------------------------------- the notebooks
def chapter_notebooks() -> list[Path]:
    """Every chapter notebook in the working tree, relative to the repository root."""
    return sorted(p.relative_to(ROOT) for p in CHAPTERS.glob("*/*.ipynb")
                  if ".ipynb_checkpoints" not in p.parts)


def count_frame_slider_calls(notebook: Path) -> int:
    """How many ``frame_slider(`` calls the notebook's code cells contain (comments and strings
    excluded; IPython magics and shell lines skipped). Each one should render one live slider."""
    nb = json.loads(notebook.read_text(encoding="utf8"))
    count = 0
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        lines = [("" if line.lstrip().startswith(("%", "!")) else line) for line in source.splitlines()]
        try:
            tokens = list(tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline))
        except (tokenize.TokenError, SyntaxError):  # not plain Python: count textually
            count += len(re.findall(r"(?<![\w])(?<!def )frame_slider\s*\(", "\n".join(lines)))
            continue
        significant = [t for t in tokens if t.type in (tokenize.NAME, tokenize.OP)]
        for before, tok, after in zip([None] + significant, significant, significant[1:] + [None]):
            if (tok.type == tokenize.NAME and tok.string == "frame_slider" and after is not None
                    and after.string == "(" and not (before is not None and before.string == "def")):
                count += 1
    return count


# --------------------------------------------------------------------------- the server
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _descendants(pid: int) -> list[int]:
    """Pids of every process below ``pid`` (kernels run in their own sessions, so killpg on the
    server's group does not reach them)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class LabServer:
    """A JupyterLab server over a copy of the chapters, started in its own process group."""

    def __init__(self, base: Path, cache_dir: str):
        self.base = base
        self.root_dir = base / "work"
        self.token = secrets.token_hex(16)
        self.port = _free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.log_path = base / "jupyterlab.log"
        # Copy every chapter folder (its notebooks and whatever they read beside them).
        shutil.copytree(CHAPTERS, self.root_dir / "chapters",
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
        for notebook in chapter_notebooks():  # run in the core install's kernel
            copy = self.root_dir / notebook
            nb = json.loads(copy.read_text(encoding="utf8"))
            nb["metadata"]["kernelspec"] = dict(CORE_KERNELSPEC)
            copy.write_text(json.dumps(nb, indent=1), encoding="utf8")
        # Own settings, workspaces, runtime and config folders: nothing from the user's JupyterLab,
        # nothing shared with other servers running on this machine.
        settings = base / "lab-settings"
        self._write_setting(settings, "@jupyterlab/notebook-extension", "tracker",
                            {"windowingMode": "none"})  # every cell in the DOM, not virtualised
        self._write_setting(settings, "@jupyterlab/apputils-extension", "notification",
                            {"fetchNews": "false", "checkForUpdates": False})  # no news prompt
        self._write_setting(settings, "@jupyter-widgets/jupyterlab-manager", "plugin",
                            {"saveState": True})  # widget state in the saved notebook, as the book needs
        for sub in ("lab-workspaces", "runtime", "config"):
            (base / sub).mkdir()
        # news_url must be None (not ""), which the command line cannot say: no announcement fetch.
        (base / "config" / "jupyter_lab_config.json").write_text(json.dumps({"LabApp": {"news_url": None}}))
        env = dict(os.environ)
        env.update(
            COURSE_PROFILE="quick",
            COURSE_CACHE_DIR=cache_dir,
            COURSE_BOOK_BUILD="1",  # the saved notebooks become the book's outputs: no progress bars
            JUPYTERLAB_SETTINGS_DIR=str(settings),
            JUPYTERLAB_WORKSPACES_DIR=str(base / "lab-workspaces"),
            JUPYTER_RUNTIME_DIR=str(base / "runtime"),
            JUPYTER_CONFIG_DIR=str(base / "config"),
            PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        )
        env.pop("COLAB_RELEASE_TAG", None)
        cmd = [
            sys.executable, "-m", "jupyter", "lab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root_dir}",
            "--ServerApp.open_browser=False", "--ServerApp.terminals_enabled=False",
            "--LabApp.extension_manager=readonly",  # never asks PyPI about extensions
            "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: run commands, read the model
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")  # containers and CI often run as root
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, cwd=self.root_dir, env=env, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    @staticmethod
    def _write_setting(settings: Path, package: str, plugin: str, values: dict) -> None:
        folder = settings / package
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{plugin}.jupyterlab-settings").write_text(json.dumps(values))

    def log_tail(self, lines: int = 40) -> str:
        self._log.flush()
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def api(self, path: str, method: str = "GET", timeout: float = 5):
        request = urllib.request.Request(f"{self.origin}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def wait_ready(self) -> float:
        start = time.monotonic()
        last_error = "no attempt"
        while time.monotonic() - start < SERVER_START_TIMEOUT_S:
            if self.proc.poll() is not None:
                pytest.fail(f"JupyterLab exited with code {self.proc.returncode} before it was ready; "
                            f"log {self.log_path} (tail):\n{self.log_tail()}", pytrace=False)
            try:
                self.api("/api/status", timeout=2)
                return time.monotonic() - start
            except (urllib.error.URLError, ConnectionError, OSError, ValueError) as exc:
                last_error = repr(exc)
            time.sleep(0.5)
        pytest.fail(f"JupyterLab did not answer /api/status within {SERVER_START_TIMEOUT_S} s "
                    f"(last error: {last_error}); log {self.log_path} (tail):\n{self.log_tail()}",
                    pytrace=False)

    def shutdown_kernels(self) -> None:
        """Shut down every kernel (between notebooks: an idle kernel still holds memory)."""
        if self.proc.poll() is not None:
            return
        try:
            for kernel in self.api("/api/kernels") or []:
                self.api(f"/api/kernels/{kernel['id']}", method="DELETE", timeout=15)
        except (urllib.error.URLError, ConnectionError, OSError, ValueError):
            pass

    def stop(self) -> None:
        """Shut the kernels down through the API, then end the server's process group, then any
        process the server started that is still alive (by pid)."""
        self.shutdown_kernels()
        leftovers = _descendants(self.proc.pid)
        for sig, wait_s in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            if self.proc.poll() is not None:
                break
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=wait_s)
            except subprocess.TimeoutExpired:
                pass
        for pid in leftovers:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self._log.close()


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def core_kernel() -> str:
    return require_kernel(CORE_KERNEL, ".venv-core")


@pytest.fixture(scope="module")
def lab(tmp_path_factory, chromium_path, core_kernel):
    start = time.monotonic()
    cache_dir = os.environ.get("COURSE_CACHE_DIR") or str(tmp_path_factory.mktemp("course-cache"))
    server = LabServer(tmp_path_factory.mktemp("jupyterlab"), cache_dir)
    try:
        server.wait_ready()
        _TIMINGS["server start"] = time.monotonic() - start
        yield server
    finally:
        server.stop()
        if _TIMINGS:
            total = time.monotonic() - start
            parts = ", ".join(f"{k} {v:.1f} s" for k, v in _TIMINGS.items())
            print(f"\n[test_jupyterlab] {total:.1f} s in all ({parts}); cache {cache_dir}")


@pytest.fixture(scope="module")
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


# --------------------------------------------------------------------------- in the page
# The current notebook panel, as JupyterLab's own objects see it (needs expose_app_in_browser).
STATE_JS = """() => {
  const app = window.jupyterapp;
  if (!app || !app.shell) return {phase: 'app'};
  const panel = app.shell.currentWidget;
  if (!panel || !panel.content || !panel.sessionContext) return {phase: 'panel'};
  const session = panel.sessionContext.session;
  const kernel = session && session.kernel;
  const code = panel.content.widgets.filter(c => c.model.type === 'code');
  const errors = [];
  let missing = 0, busyPrompts = 0;
  code.forEach((cell, i) => {
    if (cell.model.executionCount === null) missing++;
    const prompt = cell.node.querySelector('.jp-InputPrompt');
    if (prompt && prompt.textContent.includes('*')) busyPrompts++;
    for (const out of cell.model.outputs.toJSON()) {
      if (out.output_type === 'error') errors.push(`code cell ${i + 1}: ${out.ename}: ${out.evalue}`);
    }
  });
  const rendered = [...panel.content.node.querySelectorAll(
      '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
    .filter(n => n.textContent.includes('Traceback'))
    .map(n => n.textContent.slice(0, 300));
  return {phase: 'ready', path: panel.context.path, ready: panel.sessionContext.isReady,
          kernel: kernel ? kernel.status : null, cells: code.length, missing, busyPrompts,
          errors, rendered};
}"""

# Every live frame_slider panel in the current notebook: VBox > [HBox > [Play, IntSlider, Label], Image].
PANELS_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const boxes = [...panel.content.node.querySelectorAll('.widget-vbox')].filter(box =>
    box.querySelector(':scope > .widget-hbox > .widget-play') &&
    box.querySelector(':scope > .widget-hbox > .widget-slider .noUi-handle') &&
    box.querySelector(':scope > .widget-hbox > .widget-label') &&
    box.querySelector(':scope > img.widget-image'));
  boxes.forEach((box, i) => box.setAttribute('data-course-lab-slider', String(i)));
  return boxes.length;
}"""

# What a panel shows now: label text, slider position, image src and a digest of its bytes.
PANEL_STATE_JS = """async (box) => {
  const img = box.querySelector(':scope > img.widget-image');
  const label = box.querySelector(':scope > .widget-hbox > .widget-label');
  const handle = box.querySelector('.noUi-handle');
  let digest = null;
  try {
    const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
    let h = 2166136261 >>> 0;
    for (let i = 0; i < bytes.length; i++) { h ^= bytes[i]; h = Math.imul(h, 16777619) >>> 0; }
    digest = `${bytes.length}:${h.toString(16)}`;
  } catch (e) { digest = `unreadable: ${e}`; }
  return {label: label.textContent.trim(), src: img.src, digest,
          value: Number(handle.getAttribute('aria-valuenow')),
          min: Number(handle.getAttribute('aria-valuemin')),
          max: Number(handle.getAttribute('aria-valuemax')),
          width: img.naturalWidth};
}"""


class LabPage(WatchedPage):
    """One notebook opened in JupyterLab in a fresh browser context, with what went wrong recorded."""

    def __init__(self, browser, server: LabServer):
        super().__init__(browser, server.origin, known_benign=KNOWN_BENIGN, viewport=(1400, 1000))
        self.server = server

    def state(self) -> dict:
        return self.page.evaluate(STATE_JS)

    def wait_for(self, what: str, done, timeout_s: float) -> dict:
        start = time.monotonic()
        state = {}
        while time.monotonic() - start < timeout_s:
            state = self.state()
            if done(state):
                return state
            self.page.wait_for_timeout(250)
        pytest.fail(f"{what}: not done after {timeout_s} s; last state {state}; page errors "
                    f"{self.errors}\nserver log (tail):\n{self.server.log_tail()}", pytrace=False)

    def close(self):
        self.context.close()


def _shot(page, path: Path) -> None:
    page.screenshot(path=str(path))


# --------------------------------------------------------------------------- the test
@pytest.mark.parametrize("notebook", chapter_notebooks(), ids=lambda p: p.stem)
def test_live_sliders_in_jupyterlab(notebook: Path, lab: LabServer, browser, screenshot_dir):
    expected = count_frame_slider_calls(ROOT / notebook)
    visit = LabPage(browser, lab)
    page = visit.page
    start = time.monotonic()
    try:
        # A workspace of its own, reset: only this notebook open, no tab restored from an earlier one.
        url = (f"{lab.origin}/lab/workspaces/{quote(notebook.stem)}/tree/{quote(notebook.as_posix())}"
               f"?reset&token={lab.token}")
        page.goto(url, wait_until="load")
        visit.wait_for("JupyterLab opens the notebook and its kernel becomes idle",
                       lambda s: s.get("phase") == "ready" and s["path"] == notebook.as_posix()
                       and s["ready"] and s["kernel"] == "idle", APP_READY_TIMEOUT_S)
        opened = time.monotonic()

        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        # Done when the kernel is idle, no prompt shows [*] and every cell ran, or a cell failed
        # (JupyterLab then skips the remaining cells). Idle twice in a row: between two cells the
        # kernel may look idle for a moment.
        settled = {"n": 0}

        def finished(s):
            quiet = s.get("phase") == "ready" and s["kernel"] == "idle" and s["busyPrompts"] == 0 \
                and (s["missing"] == 0 or s["errors"] or s["rendered"])
            settled["n"] = settled["n"] + 1 if quiet else 0
            return settled["n"] >= 2

        state = visit.wait_for(f"Run All Cells in {notebook}", finished, RUN_ALL_TIMEOUT_S)
        ran = time.monotonic()
        assert not state["errors"] and not state["rendered"], \
            f"{notebook}: cells failed in JupyterLab:\n" + "\n".join(state["errors"] + state["rendered"])
        assert state["missing"] == 0, f"{notebook}: {state['missing']} code cells have no execution count"

        # The saved notebook agrees: every code cell ran, none has an error output.
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        saved_path = lab.root_dir / notebook
        deadline = time.monotonic() + 20
        while True:
            saved = json.loads(saved_path.read_text(encoding="utf8"))
            code = [c for c in saved["cells"] if c["cell_type"] == "code"]
            if all(c.get("execution_count") is not None for c in code) or time.monotonic() > deadline:
                break
            page.wait_for_timeout(250)
        assert all(c.get("execution_count") is not None for c in code), f"{notebook}: saved without counts"
        saved_errors = [f"{o.get('ename')}: {o.get('evalue')}" for c in code for o in c.get("outputs", [])
                        if o.get("output_type") == "error"]
        assert not saved_errors, f"{notebook}: error outputs in the saved notebook: {saved_errors}"
        assert saved["metadata"]["kernelspec"]["name"] == CORE_KERNEL, saved["metadata"]["kernelspec"]
        assert not expected or saved["metadata"].get("widgets"), f"{notebook}: saved without widget state"
        record_execution(notebook.with_suffix("").as_posix(), saved, ran - opened)

        # Every frame_slider call rendered one live panel.
        found = page.evaluate(PANELS_JS)
        assert found == expected, (f"{notebook}: {expected} frame_slider( calls but {found} live slider "
                                   f"panels rendered in JupyterLab")
        moves = []
        for i in range(found):
            box = page.locator(f'[data-course-lab-slider="{i}"]')
            box.scroll_into_view_if_needed()
            handle = box.locator(".noUi-handle")
            before = box.evaluate(PANEL_STATE_JS)
            assert before["width"] > 0, f"{notebook} slider {i}: the image is not displayed ({before['src'][:60]})"
            if i == 0:
                _shot(page, screenshot_dir / f"lab-{notebook.stem}.png")
            assert before["max"] > before["min"], f"{notebook} slider {i}: only one frame ({before})"
            # To the other end, then one step back towards the middle.
            first_key, step_key = ("Home", "ArrowRight") if before["value"] == before["max"] else ("End", "ArrowLeft")
            current = before
            for key in (first_key, step_key):
                handle.focus()
                t0 = time.monotonic()
                page.keyboard.press(key)
                deadline = t0 + SLIDER_UPDATE_TIMEOUT_S
                while True:
                    after = box.evaluate(PANEL_STATE_JS)
                    if (after["label"] != current["label"] and after["digest"] != current["digest"]
                            and after["src"] != current["src"]) or time.monotonic() > deadline:
                        break
                    page.wait_for_timeout(50)
                latency = time.monotonic() - t0
                assert after["value"] != current["value"], \
                    f"{notebook} slider {i}: {key} did not move the slider ({current['value']})"
                assert after["label"] != current["label"], \
                    f"{notebook} slider {i}: label stayed {current['label']!r} after {key}"
                assert after["src"] != current["src"] and after["digest"] != current["digest"], \
                    f"{notebook} slider {i}: the picture did not change after {key}"
                assert after["width"] > 0, f"{notebook} slider {i}: the new picture does not display"
                moves.append(f"slider {i} {key}: {current['value']}->{after['value']} "
                             f"{current['label']!r}->{after['label']!r} ({latency * 1000:.0f} ms)")
                current = after
            box.screenshot(path=str(screenshot_dir / f"lab-{notebook.stem}-slider{i}.png"))
            # The play button drives the slider (through the kernel-side link): it advances.
            if current["value"] < current["max"]:
                buttons = box.locator(".widget-play button")
                buttons.first.click()
                deadline = time.monotonic() + SLIDER_UPDATE_TIMEOUT_S
                while True:
                    played = box.evaluate(PANEL_STATE_JS)
                    if (played["value"] > current["value"] and played["label"] != current["label"]) \
                            or time.monotonic() > deadline:
                        break
                    page.wait_for_timeout(50)
                buttons.nth(1).click()  # stop
                assert played["value"] > current["value"] and played["label"] != current["label"], \
                    f"{notebook} slider {i}: Play did not advance the slider ({current} -> {played})"
                moves.append(f"slider {i} Play: {current['value']}->{played['value']}")

        page.wait_for_timeout(300)  # let late console messages arrive
        assert not visit.external, f"{notebook}: requests that would leave the server: {visit.external}"
        errors = visit.unexpected_errors()
        assert not errors, f"{notebook}: console errors in JupyterLab:\n" + "\n".join(errors)
        _TIMINGS[notebook.stem] = time.monotonic() - start
        print(f"\n[test_jupyterlab] {notebook}: opened {opened - start:.1f} s, ran {ran - opened:.1f} s, "
              f"{found} sliders; " + "; ".join(moves))
    except BaseException:
        try:
            _shot(page, screenshot_dir / f"lab-{notebook.stem}-failure.png")
        except Exception:
            pass
        raise
    finally:
        visit.close()
        lab.shutdown_kernels()
