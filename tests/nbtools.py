"""Reading chapter notebooks for the tests: code cells, tags, imports, exercises and solutions."""

from __future__ import annotations

import ast
import copy
import json
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from IPython.core.inputtransformer2 import TransformerManager

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "chapters").glob("*/*.ipynb"))
EXERCISE, SOLUTION = "exercise", "solution"


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf8"))


def source(cell: dict) -> str:
    return "".join(cell["source"])


def tags(cell: dict) -> list[str]:
    return cell.get("metadata", {}).get("tags", [])


def code_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "code"]


def as_python(cell_source: str) -> ast.Module:
    """A code cell parsed as Python, after IPython turns magics (``%pip``, ``%matplotlib``) into calls."""
    return ast.parse(TransformerManager().transform_cell(cell_source))


def imported_modules(tree: ast.AST) -> set[str]:
    """Top-level names of every absolute import anywhere in ``tree`` (guarded imports included)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def defined_names(tree: ast.Module) -> set[str]:
    """Names a cell binds at top level: functions, classes, assignments, imports."""
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def _normalise(dist: str) -> str:
    return dist.lower().replace("_", "-").replace(".", "-")


def core_distributions() -> set[str]:
    """The distributions ``pip install course-lib`` brings: pyproject's [project] dependencies."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = set()
    for requirement in project["dependencies"]:
        name = requirement.split(";")[0]
        for stop in "<>=!~[ ":
            name = name.split(stop)[0]
        names.add(_normalise(name))
    return names


def non_core_imports(modules: set[str]) -> dict[str, list[str]]:
    """Of ``modules`` (top-level import names), those a core install does not provide, with their
    distributions (empty list: not installed here at all)."""
    providers = metadata.packages_distributions()
    core = core_distributions()
    bad = {}
    for module in sorted(modules):
        if module in sys.stdlib_module_names or module in ("course_lib", "__future__"):
            continue
        dists = [_normalise(d) for d in providers.get(module, [])]
        if not core & set(dists):
            bad[module] = dists
    return bad


def exercise_pairs(nb: dict) -> list[tuple[int, int]]:
    """(exercise, solution) indices into ``code_cells(nb)``: each exercise and the next code cell."""
    cells = code_cells(nb)
    return [(i, i + 1) for i, cell in enumerate(cells) if EXERCISE in tags(cell)]


def with_solutions(nb: dict) -> dict:
    """A copy of ``nb`` in which every exercise cell's source is its solution's: a reader who solved
    every exercise. Raises ValueError where the convention is broken."""
    nb = copy.deepcopy(nb)
    cells = code_cells(nb)
    for i, j in exercise_pairs(nb):
        if j >= len(cells) or SOLUTION not in tags(cells[j]):
            raise ValueError(f"exercise cell {i} is not followed by a code cell tagged {SOLUTION!r}")
        cells[i]["source"] = list(cells[j]["source"])
    return nb
