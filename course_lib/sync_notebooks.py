"""Write the Colab set-up block into every chapter notebook: ``python -m course_lib.sync_notebooks``.

The repository URL lives in one place, ``_config.yml`` (``repository: url:``). A fork edits it there
and runs this module, which rewrites the start of each notebook's first code cell (everything before
``from course_lib import runtime``) with :func:`course_lib.runtime.colab_setup_source` and tags the
cell ``remove-cell``: it runs in Jupyter, Colab and the book build, but the published page does not
show set-up machinery. It also labels the book's toggle over every solution cell (tag ``solution``)
"Show solution" / "Hide solution" instead of myst-nb's "Show code cell source", through the cell's
``mystnb`` metadata (:data:`SOLUTION_PROMPTS`). ``--check`` changes nothing and exits 1 if a notebook
is out of date.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .runtime import colab_setup_source

ROOT = Path(__file__).resolve().parents[1]
SETUP_END = "from course_lib import runtime"
SETUP_TAG = "remove-cell"
SOLUTION_TAG = "solution"
#: myst-nb's per-cell options for the toggle over a hidden solution (tags ``solution``, ``hide-input``).
SOLUTION_PROMPTS = {"code_prompt_show": "Show solution", "code_prompt_hide": "Hide solution"}


def chapter_notebooks(root: Path = ROOT) -> list[Path]:
    """Every chapter notebook, in reading order (``chapters/NN-slug/NN-title.ipynb``)."""
    return sorted((root / "chapters").glob("*/*.ipynb"))


def synced(notebook: dict, setup: str) -> dict:
    """``notebook`` (nbformat JSON) with its first code cell's set-up block replaced by ``setup``."""
    code = [c for c in notebook.get("cells", []) if c.get("cell_type") == "code"]
    if not code:
        raise ValueError("the notebook has no code cell to hold the set-up")
    cell = code[0]
    source = "".join(cell["source"])
    if SETUP_END not in source:
        raise ValueError(f"the first code cell must contain {SETUP_END!r} after the set-up block")
    rest = source[source.index(SETUP_END):]
    text = setup + "\n" + rest
    cell["source"] = text.splitlines(keepends=True)
    tags = cell.setdefault("metadata", {}).setdefault("tags", [])
    if SETUP_TAG not in tags:
        tags.append(SETUP_TAG)
    for cell in notebook["cells"]:
        if cell.get("cell_type") == "code" and SOLUTION_TAG in cell.get("metadata", {}).get("tags", []):
            cell["metadata"].setdefault("mystnb", {}).update(SOLUTION_PROMPTS)
    return notebook


def sync(paths: list[Path], *, check: bool = False) -> list[Path]:
    """Rewrite the set-up block of each notebook in ``paths``; return those that were (or would be) changed."""
    setup = colab_setup_source()
    changed = []
    for path in paths:
        before = path.read_text(encoding="utf8")
        after = json.dumps(synced(json.loads(before), setup), indent=1, ensure_ascii=False) + "\n"
        if after != before:
            changed.append(path)
            if not check:
                path.write_text(after, encoding="utf8")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter notebook")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if out of date")
    args = parser.parse_args(argv)
    paths = args.notebooks or chapter_notebooks()
    changed = sync(paths, check=args.check)
    for path in changed:
        print(f"{'out of date' if args.check else 'updated'}: {path}")
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":
    raise SystemExit(main())
