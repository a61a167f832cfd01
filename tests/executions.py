"""Each notebook is executed twice per ``make test``, and each execution proves several things.

1. **Live JupyterLab on the core install** (``test_jupyterlab.py``): kernel ``course-core``
   (.venv-core: ``pip install .``, no extras), quick profile, exercises unsolved, with the book
   build's setting (``COURSE_BOOK_BUILD``: no progress bars). It proves that every notebook runs on a
   reader's core install (what ``pytest --nbval-lax`` checks: no cell raises) and that every live
   slider renders and answers in JupyterLab. The notebook JupyterLab saves is recorded here and put
   into the quick book's jupyter-cache, so the strict book build, its HTML checks and the browser
   test of the book use these outputs instead of executing every notebook again.
2. **Colab's versions with every exercise solved** (``test_reader_environments.py``, kernel
   ``course-colab``): Colab's preinstalled versions, "solving an exercise never breaks Run all", and
   the ipywidgets-7 view every slider must carry.

(Why not the Colab kernel in JupyterLab: JupyterLab 4's widget manager renders ipywidgets 8 only —
"Module @jupyter-widgets/controls, version ^1.5.0 is not registered" — and Colab's front end is not
JupyterLab anyway.)

jupyter-cache matches a notebook on its code cells (source and cell metadata) and its kernelspec, so
an executed copy gets the committed notebook's metadata back before it is cached; ``prime_book_cache``
checks that the book build will find each one.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
CORE_KERNEL = "course-core"
EXECUTED_DIR = ROOT / "_build" / "executed"  # the recorded executions, for inspection
TIMINGS_FILE = ROOT / "_build" / "timings" / "notebook-executions.json"

#: docname -> the executed notebook (source metadata restored) and its run time, filled by the
#: JupyterLab test and read by the book build.
EXECUTED: dict[str, tuple[nbformat.NotebookNode, float]] = {}


def kernel_available(name: str) -> bool:
    from jupyter_client.kernelspec import KernelSpecManager

    return name in KernelSpecManager().find_kernel_specs()


def record_execution(docname: str, executed: dict, seconds: float) -> nbformat.NotebookNode:
    """Keep ``executed`` (a saved notebook, as JSON) for the book build, with the committed
    notebook's kernelspec and cell metadata back in place (jupyter-cache hashes both)."""
    source = nbformat.read(str(ROOT / f"{docname}.ipynb"), as_version=4)
    nb = nbformat.reads(json.dumps(executed), as_version=4)
    code_src = [c for c in source.cells if c.cell_type == "code"]
    code_run = [c for c in nb.cells if c.cell_type == "code"]
    if [c.source for c in code_src] != [c.source for c in code_run]:
        raise ValueError(f"{docname}: the executed notebook's code differs from the committed one")
    nb.metadata["kernelspec"] = copy.deepcopy(source.metadata.get("kernelspec", {}))
    if len(nb.cells) != len(source.cells):
        raise ValueError(f"{docname}: {len(nb.cells)} cells executed, {len(source.cells)} committed")
    for executed_cell, original in zip(nb.cells, source.cells):
        executed_cell.metadata = copy.deepcopy(original.metadata)
    EXECUTED[docname] = (nb, seconds)
    out = EXECUTED_DIR / f"{docname}.ipynb"
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(out))
    TIMINGS_FILE.parent.mkdir(parents=True, exist_ok=True)
    TIMINGS_FILE.write_text(json.dumps({d: round(s, 1) for d, (_, s) in EXECUTED.items()}, indent=1))
    return nb


def prime_book_cache(cache_path: Path) -> list[str]:
    """Put every recorded execution into the jupyter-cache at ``cache_path`` (what myst-nb reads with
    ``execute_notebooks: cache``). Returns the docnames the cache now matches; the build executes the
    others itself."""
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    cache = get_cache(str(cache_path))
    primed = []
    for docname, (nb, seconds) in EXECUTED.items():
        uri = str(ROOT / f"{docname}.ipynb")
        cache.cache_notebook_bundle(CacheBundleIn(nb, uri, data={"execution_seconds": seconds}),
                                    check_validity=False, overwrite=True)
        cache.match_cache_notebook(nbformat.read(uri, as_version=4))  # KeyError: the build would re-run it
        primed.append(docname)
    return primed
