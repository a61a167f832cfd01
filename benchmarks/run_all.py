"""Run every benchmark and print its table (``make benchmarks``)."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for script, args in [("slider_latency.py", []), ("name_embedding_speed.py", []), ("grokking_speed.py", []), ("concurrent_runs.py", []), ("identity_world_speed.py", []), ("llc_speed.py", []), ("observables_speed.py", []), ("susceptibility_devinterp.py", []), ("sentence_activation_speed.py", []), ("notebook_times.py", []), ("book_build.py", ["--profile", "quick"])]:
    print(f"\n=== {script} {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, str(HERE / script), *args], check=True, cwd=HERE)
