"""Static checks of the committed notebooks (nbval executes them separately, see the Makefile)."""

import json
from pathlib import Path

import pytest

from course_lib.runtime import colab_setup_source

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*/*.ipynb"))


def _cells(path):
    return json.loads(path.read_text())["cells"]


def test_there_are_chapter_notebooks():
    assert len(NOTEBOOKS) >= 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    for i, cell in enumerate(_cells(path)):
        if cell["cell_type"] == "code":
            assert cell.get("outputs", []) == [], f"{path.name} cell {i} has outputs: clear them"
            assert cell.get("execution_count") is None, f"{path.name} cell {i} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_is_the_setup_and_describe(path):
    code = [c for c in _cells(path) if c["cell_type"] == "code"]
    first = "".join(code[0]["source"])
    assert first.startswith(colab_setup_source()), f"{path.name}: first code cell must start with the Colab set-up"
    assert "runtime.describe(" in first and "print(" in first


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_has_objectives_summary_and_hidden_assertions(path):
    cells = _cells(path)
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert "Learning objectives" in text and "Summary" in text
    hidden = [c for c in cells if "remove-cell" in c.get("metadata", {}).get("tags", [])]
    assert hidden and all("assert" in "".join(c["source"]) for c in hidden)
    assert "{cite" in text, f"{path.name} cites nothing from references.bib"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_filename_is_ordered(path):
    assert path.name[:2].isdigit() and path.parent.name[:2].isdigit()
