"""Execution time of every chapter notebook per profile, with a cold cache (trains from scratch).

Usage: python benchmarks/notebook_times.py [--profiles quick standard]
Budgets: quick ≤ 60 s per notebook; standard ≤ 5 min per notebook.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import nbformat
from nbclient import NotebookClient

from _common import NOTEBOOKS, ROOT, print_table

BUDGET_S = {"quick": 60, "standard": 300, "full": None}


def time_notebook(path, profile: str, cache_dir: str) -> float:
    nb = nbformat.read(path, as_version=4)
    os.environ["COURSE_PROFILE"] = profile
    os.environ["COURSE_CACHE_DIR"] = cache_dir
    client = NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profiles", nargs="+", default=["quick", "standard"], choices=list(BUDGET_S))
    args = parser.parse_args()
    rows = []
    for profile in args.profiles:
        with tempfile.TemporaryDirectory() as cache_dir:
            for path in NOTEBOOKS:
                cold = time_notebook(path, profile, cache_dir)
                warm = time_notebook(path, profile, cache_dir)
                budget = BUDGET_S[profile]
                rows.append([profile, str(path.relative_to(ROOT)), cold, warm, budget or "-",
                             "ok" if budget is None or cold <= budget else "OVER"])
    print_table("Notebook execution time (s): cold = empty training cache, warm = cached",
                ["profile", "notebook", "cold s", "warm s", "budget s", "status"], rows)


if __name__ == "__main__":
    main()
