"""Every notebook where readers run it, beyond this repository's own venv.

``make test`` builds two more environments (see the Makefile) and registers a Jupyter kernel in each:

* ``course-core`` (.venv-core): ``pip install .`` — the core dependencies only, newest versions. nbval
  executes every notebook in it (``--nbval-kernel-name=course-core``), exercises unsolved.
* ``course-colab`` (.venv-colab): Colab's preinstalled versions (envs/colab-versions.txt: ipywidgets
  7.7.1, ipykernel 6.17.1, ipython 7.34 …) with the course added the way the set-up cell adds it.
  This file executes every notebook there **with every exercise replaced by its solution**, so one
  execution checks both "runs with Colab's versions" and "solving an exercise never breaks Run all",
  and checks that each slider's output carries what Colab renders (an ipywidgets-7 view and the HTML
  scrubber). The kernel runs with ``COLAB_RELEASE_TAG`` set, so course_lib takes its Colab code paths.

Executed notebooks and the versions found are written to _build/reader-envs/ for inspection.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import nbformat
import pytest
from conftest import require_kernel
from nbclient import NotebookClient
from nbtools import NOTEBOOKS, ROOT, code_cells, exercise_pairs, load, source, with_solutions
from packaging.requirements import Requirement

from course_lib.exercises import FAIL_MARK, PASS_MARK
from course_lib.widgets import WIDGET_VIEW_MIME

COLAB_KERNEL = "course-colab"
COLAB_VERSIONS = ROOT / "envs" / "colab-versions.txt"
OUT = ROOT / "_build" / "reader-envs"
CELL_TIMEOUT_S = 300


def colab_pins() -> dict[str, str]:
    pins = {}
    for line in COLAB_VERSIONS.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.lower()] = version
    return pins


@pytest.fixture(scope="module")
def colab_kernel() -> str:
    return require_kernel(COLAB_KERNEL, ".venv-colab")


def run_in(kernel: str, nb: dict, cwd: Path) -> nbformat.NotebookNode:
    """Execute ``nb`` in ``kernel`` as if in Colab; raises CellExecutionError on the first error."""
    node = nbformat.reads(json.dumps(nb), as_version=4)  # multi-line sources as strings, as nbclient expects
    client = NotebookClient(node, kernel_name=kernel, timeout=CELL_TIMEOUT_S,
                            resources={"metadata": {"path": str(cwd)}})
    client.execute(env=dict(os.environ, COLAB_RELEASE_TAG="course-colab-like-test"))
    return node


def test_colab_versions_satisfy_the_dependency_ranges():
    """pip must never want to replace what Colab preinstalled."""
    requirements = [Requirement(r) for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]]
    pins = colab_pins()
    for requirement in requirements:
        if requirement.name.lower() in pins:
            assert requirement.specifier.contains(pins[requirement.name.lower()]), (requirement, pins)
    assert {"ipywidgets", "ipykernel", "ipython"} <= set(pins)


def test_colab_kernel_has_colabs_versions(colab_kernel):
    probe = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import json, sys\nfrom importlib import metadata\n"
        f"names = {sorted(colab_pins()) + ['torch', 'course-lib']!r}\n"
        "print(json.dumps({'python': sys.version.split()[0], **{n: metadata.version(n) for n in names}}))"
    )])
    out = run_in(colab_kernel, probe, ROOT)
    found = json.loads(out.cells[0].outputs[0]["text"])
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "colab-versions-found.json").write_text(json.dumps(found, indent=1))
    for name, version in colab_pins().items():
        assert found[name] == version, f"{name}: {found[name]} in the Colab-like env, Colab has {version}"


def _text(output: dict) -> str:
    if "text" in output:
        return output["text"]
    data = output.get("data", {})
    return data.get("text/plain", "") + data.get("text/html", "")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_with_colab_versions_and_every_exercise_solved(path, colab_kernel):
    solved = with_solutions(load(path))
    executed = run_in(colab_kernel, solved, path.parent)
    OUT.mkdir(parents=True, exist_ok=True)
    nbformat.write(executed, str(OUT / f"colab-solved-{path.name}"))
    cells = code_cells(executed)

    errors = [(i, o.get("ename")) for i, c in enumerate(cells) for o in c.outputs if o["output_type"] == "error"]
    assert not errors, f"{path.name}: error outputs {errors}"
    for i, _ in exercise_pairs(solved):
        shown = "".join(_text(o) for o in cells[i].outputs)
        assert PASS_MARK in shown and FAIL_MARK not in shown, (
            f"{path.name}: exercise cell {i} with its solution does not pass its checker: {shown[:300]!r}")

    # Each frame_slider output: an ipywidgets-7 view (what Colab renders) plus the HTML scrubber.
    sliders = [o for c in cells for o in c.outputs
               if "course-scrubber" in o.get("data", {}).get("text/html", "")]
    calls = sum(source(c).count("frame_slider(") for c in cells)
    assert len(sliders) >= calls, f"{path.name}: {calls} frame_slider calls but {len(sliders)} sliders shown"
    for output in sliders:
        view = output["data"].get(WIDGET_VIEW_MIME)
        assert view and view["version_major"] == 2 and view.get("model_id"), (
            f"{path.name}: a slider's live view is missing or malformed under ipywidgets 7: {view}")
