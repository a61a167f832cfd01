"""Code in the chapter notebooks fits the page: every line of every code cell is at most 88
characters (the book shows about 81-88 characters of a code cell at 1280 px before cutting it off).
Static and fast; the notebooks are not executed."""

import pytest
from nbtools import NOTEBOOKS, load, source

MAX_CODE_LINE = 88


def long_code_lines(nb: dict, width: int = MAX_CODE_LINE) -> list[str]:
    """'cell C line L (N chars): text' for each code-cell line longer than ``width``."""
    found = []
    for c, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        for n, line in enumerate(source(cell).split("\n"), 1):
            if len(line) > width:
                found.append(f"cell {c} line {n} ({len(line)} chars): {line.strip()[:60]}…")
    return found


def test_the_width_check_names_cell_and_line():
    nb = {"cells": [
        {"cell_type": "markdown", "source": ["x" * 200]},
        {"cell_type": "code", "source": ["short = 1\n", "y = " + "1 + " * 30 + "1\n", "z = 2"]},
    ]}
    found = long_code_lines(nb)
    assert len(found) == 1 and found[0].startswith("cell 1 line 2 (")
    assert long_code_lines({"cells": [{"cell_type": "code", "source": ["a" * 88]}]}) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_lines_fit_in_88_characters(path):
    found = long_code_lines(load(path))
    assert not found, (f"{path.parent.name}/{path.name}: {len(found)} code line(s) over "
                       f"{MAX_CODE_LINE} characters:\n" + "\n".join(found))
