"""Static checks of the committed notebooks (they are executed by nbval on the core install, by
tests/test_reader_environments.py with Colab's versions, by the book build and in JupyterLab)."""

import ast

import pytest
from nbtools import (
    NOTEBOOKS, SOLUTION, ROOT, as_python, code_cells, defined_names, exercise_pairs,
    imported_modules, load, non_core_imports, source, tags, with_solutions,
)

from course_lib.runtime import colab_setup_source


def _cells(path):
    return load(path)["cells"]


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
    assert "remove-cell" in tags(code[0]), f"{path.name}: the set-up cell is machinery; tag it remove-cell"


# --------------------------------------------------------------------------- what a reader's install has
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_imports_only_core_dependencies(path):
    """A reader's install (Colab's first cell, `pip install course-lib`) has the core dependencies
    only: a notebook importing myst_nb, pytest or any other extra breaks there."""
    modules = set()
    for cell in code_cells(load(path)):
        modules |= imported_modules(as_python(source(cell)))
    assert not (bad := non_core_imports(modules)), (
        f"{path.name} imports what a core install lacks (module: its distributions): {bad}")


LIBRARY = sorted(p for p in (ROOT / "course_lib").rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", LIBRARY, ids=lambda p: str(p.relative_to(ROOT)))
def test_course_lib_imports_only_core_dependencies(path):
    modules = imported_modules(ast.parse(path.read_text(encoding="utf8")))
    assert not (bad := non_core_imports(modules)), f"{path.relative_to(ROOT)} imports non-core {bad}"


def test_the_import_check_catches_an_extra():
    assert set(non_core_imports({"myst_nb", "pytest", "yaml", "numpy", "os", "course_lib"})) == {
        "myst_nb", "pytest", "yaml"}


# --------------------------------------------------------------------------- exercises and solutions
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_exercise_has_a_solution_that_can_stand_in_its_place(path):
    nb = load(path)
    cells = code_cells(nb)
    with_solutions(nb)  # raises if an exercise lacks the solution right after it
    for i, j in exercise_pairs(nb):
        solution = cells[j]
        assert {"hide-input"} <= set(tags(solution)), f"{path.name}: hide the solution (tag hide-input)"
        missing = defined_names(as_python(source(cells[i]))) - defined_names(as_python(source(solution)))
        assert not missing, f"{path.name}: the solution after exercise cell {i} does not define {missing}"
    stray = [i for i, c in enumerate(cells) if SOLUTION in tags(c) and (i - 1, i) not in exercise_pairs(nb)]
    assert not stray, f"{path.name}: code cells {stray} are tagged solution but follow no exercise"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_hidden_cells_assert_nothing_about_the_readers_stub(path):
    """Names only the reader's stub defines must not appear in hidden cells: after a correct answer
    an `assert not check(my_answer)` would stop "Run all"."""
    nb = load(path)
    cells = code_cells(nb)
    stub_only = set()
    for i, j in exercise_pairs(nb):
        stub_only |= defined_names(as_python(source(cells[i])))
    for k, cell in enumerate(cells):
        if "remove-cell" in tags(cell) and k > 0:
            used = {n.id for n in ast.walk(as_python(source(cell))) if isinstance(n, ast.Name)}
            assert not used & stub_only, f"{path.name}: hidden cell {k} uses the reader's {used & stub_only}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_has_objectives_summary_and_hidden_assertions(path):
    cells = _cells(path)
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    assert "Learning objectives" in text and "Summary" in text
    setup = code_cells({"cells": cells})[0]  # hidden too, but it is machinery, not a claim
    hidden = [c for c in cells if "remove-cell" in tags(c) and c is not setup]
    assert hidden and all("assert" in source(c) for c in hidden), f"{path.name}: a hidden cell asserts nothing"
    assert "{cite" in text, f"{path.name} cites nothing from references.bib"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_filename_is_ordered(path):
    assert path.name[:2].isdigit() and path.parent.name[:2].isdigit()
