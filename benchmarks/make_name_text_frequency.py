"""Write name_text_frequency.csv: how often each first name occurs in English TEXT.

For every name with ≥ 1,000 US births 1880–2017 (the ``full`` profile's names, which contain the
other profiles'), the Zipf frequency of its lower-cased spelling in English text from the
``wordfreq`` package (Speer 2022, Zenodo, doi:10.5281/zenodo.7199437; its ``large`` English list):
Zipf = log10(occurrences per billion words), 0 when the word is not in the list. wordfreq pools
Wikipedia, subtitles, news, books, web text, Reddit and Twitter, so the number counts the string
in any use ("Will", "June", "Grace" as words too), not only as a first name.

wordfreq is NOT a course dependency. Run this once, offline afterwards, e.g.::

    python -m venv /tmp/wf && /tmp/wf/bin/pip install wordfreq==3.1.1
    PYTHONPATH=.:/tmp/wf/lib/python3.11/site-packages .venv/bin/python \\
        benchmarks/make_name_text_frequency.py

(the course's Python supplies the names; the scratch venv supplies wordfreq). It lives here, not in
``course_lib``, because the course library imports only its core dependencies.
"""

from __future__ import annotations

import csv
from importlib.metadata import version
from pathlib import Path

import wordfreq

from course_lib.identity.names import name_table

MIN_BIRTHS = 1000
OUT = Path(__file__).resolve().parents[1] / "course_lib" / "identity" / "data" / "name_text_frequency.csv"


def main() -> None:
    names = name_table(MIN_BIRTHS)["name"]
    with open(OUT, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["name", "zipf"])
        for name in names:
            zipf = wordfreq.zipf_frequency(str(name).lower(), "en", wordlist="large")
            w.writerow([name, f"{zipf:.2f}"])
    print(f"wrote {len(names):,} names to {OUT} (wordfreq {version('wordfreq')})")


if __name__ == "__main__":
    main()
