"""Book build time, cold (empty output and execution cache) and warm (everything cached).

Usage: python benchmarks/book_build.py [--profile quick]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import ROOT, print_table


def build(out: Path, profile: str, cache_dir: str) -> float:
    env = dict(os.environ, COURSE_PROFILE=profile, COURSE_CACHE_DIR=cache_dir)
    jb = Path(sys.executable).parent / "jupyter-book"
    start = time.perf_counter()
    subprocess.run([str(jb), "build", str(ROOT), "--path-output", str(out), "-W", "-n", "--keep-going"],
                   check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--profile", default="quick", choices=["quick", "standard", "full"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out, cache_dir = Path(tmp) / "book", str(Path(tmp) / "cache")
        cold = build(out, args.profile, cache_dir)
        warm = build(out, args.profile, cache_dir)
    print_table(f"Book build ({args.profile} profile), seconds", ["build", "seconds"],
                [["cold (nothing cached)", cold], ["warm (all cached)", warm], ["ratio cold/warm", cold / warm]])


if __name__ == "__main__":
    main()
