"""Where am I running, and how much should I compute?

One place for the device (cuda → mps → cpu), the seed, the profile and Colab detection. Every
notebook's first cell prints :func:`describe`.

Profiles (``COURSE_PROFILE``):

* ``quick``    — CI and nbval: each notebook in ≤ 60 s on 2 CPU cores.
* ``standard`` — the default: the book build and a local CPU run, ≤ 5 min per notebook.
* ``full``     — paper scale, for a GPU such as Colab's; only when asked for.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import shlex
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping, Optional, Sequence, TypeVar

import numpy as np
import torch

from .validation import check_seed

PROFILES: tuple[str, ...] = ("quick", "standard", "full")
DEFAULT_PROFILE = "standard"
PROFILE_ENV = "COURSE_PROFILE"
#: Set (to anything non-empty) while the book is built: progress bars hide themselves, since a
#: finished bar would only leave an empty box on the published page.
BOOK_BUILD_ENV = "COURSE_BOOK_BUILD"

T = TypeVar("T")


def get_profile() -> str:
    """The active profile, read from ``COURSE_PROFILE`` (default ``standard``)."""
    value = os.environ.get(PROFILE_ENV, "").strip().lower() or DEFAULT_PROFILE
    if value not in PROFILES:
        raise ValueError(
            f"{PROFILE_ENV}={value!r} is not a profile; expected one of {', '.join(PROFILES)}"
        )
    return value


def by_profile(settings: Mapping[str, T], profile: str | None = None) -> T:
    """Pick the entry of ``settings`` (keyed by profile name) for the active profile.

    Each chapter module keeps its per-profile settings in one such mapping.
    """
    profile = get_profile() if profile is None else profile
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    missing = [p for p in PROFILES if p not in settings]
    if missing:
        raise ValueError(f"settings must have an entry for every profile; missing {missing}")
    return settings[profile]


def get_device(prefer: str | None = None) -> torch.device:
    """The best available device: cuda, then Apple's mps, then cpu.

    ``prefer`` forces one (``"cpu"``, ``"cuda"``, ``"mps"``); asking for one that is not there
    is an error rather than a silent fallback.
    """
    if prefer is not None:
        if prefer not in ("cpu", "cuda", "mps"):
            raise ValueError(f"prefer must be 'cpu', 'cuda' or 'mps', got {prefer!r}")
        if prefer == "cuda" and not torch.cuda.is_available():
            raise ValueError("prefer='cuda' but no CUDA device is available")
        if prefer == "mps" and not _mps_available():
            raise ValueError("prefer='mps' but Apple's MPS backend is not available")
        return torch.device(prefer)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


#: Held while the process-wide random state is seeded and drawn from (:func:`seeded`), so that jobs
#: run at once (:func:`run_concurrently`) cannot re-seed it or draw from it in between; code that
#: draws from the global generator without seeding it (a module's default initialisation) holds it too.
GLOBAL_RNG_LOCK = threading.RLock()


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (all devices); return a torch CPU generator seeded alike.

    The returned generator is what course code passes on (``torch.randn(..., generator=g)``) so
    that a result depends on its own seed, not on what ran before it. Code that draws from the
    *global* state after seeding it (e.g. ``nn.Linear``'s default initialisation) does so inside
    :func:`seeded`, which keeps other threads out until it is done.
    """
    seed = check_seed(seed)
    with GLOBAL_RNG_LOCK:
        random.seed(seed)
        np.random.seed(seed)
        torch.manual_seed(seed)  # seeds every device
    return torch.Generator().manual_seed(seed)


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[torch.Generator]:
    """:func:`seed_everything` then the block, with no other thread seeding or drawing from the
    global random state in between (a re-entrant lock that :func:`seed_everything` also takes): the
    block's global draws are exactly those after ``seed_everything(seed)``, whatever runs beside it."""
    with GLOBAL_RNG_LOCK:
        yield seed_everything(seed)


def check_seeds(seeds: Iterable[int]) -> list[int]:
    """A list of distinct int seeds from ``seeds`` (e.g. ``range(16)``), or a clear error."""
    if isinstance(seeds, (int, np.integer, str, bytes)) or not hasattr(seeds, "__iter__"):
        raise TypeError("seeds must be a sequence of ints, e.g. range(16)")
    out = list(seeds)
    if not out:
        raise ValueError("seeds must not be empty")
    for s in out:
        check_seed(s, "every seed")
    if len(set(int(s) for s in out)) != len(out):
        raise ValueError("seeds must be distinct")
    return [int(s) for s in out]


#: A training step with at least this many rows (models × samples) may use every CPU thread.
MANY_ROWS = 16_384


@contextlib.contextmanager
def cpu_threads() -> Iterator[Callable[[int], None]]:
    """Run torch on one CPU thread; yield ``fit(rows)``, which widens to every thread for a step of
    at least :data:`MANY_ROWS` rows and narrows back for smaller ones. Restores the setting on exit.

    The course's models are tiny: on a small step extra threads only synchronise (on a busy 2-core
    machine two threads made training 3–5× slower than one). A batched sweep over thousands of
    colours is large enough to share: measured on 2 cores, 12 seeds × 3,600 colours trained 1.4×
    faster on two threads (23 s against 33 s for 1,200 steps).
    """
    before = torch.get_num_threads()
    current = [1]
    torch.set_num_threads(1)

    def fit(rows: int) -> None:
        want = before if rows >= MANY_ROWS else 1
        if want != current[0]:
            torch.set_num_threads(want)
            current[0] = want

    try:
        yield fit
    finally:
        torch.set_num_threads(before)


def _running_elsewhere() -> Optional[int]:
    """How many threads of *other* processes are running right now (Linux: ``/proc``), None
    where that cannot be read."""
    try:
        with open("/proc/loadavg") as f:
            running = int(f.read().split()[3].split("/")[0])
        mine = 0
        for task in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{task}/stat") as f:
                    mine += f.read().rsplit(")", 1)[1].split()[0] == "R"
            except OSError:  # the thread ended meanwhile
                pass
    except (OSError, ValueError, IndexError):
        return None
    return max(running - mine, 0)


def cores_to_spare(samples: int = 5) -> bool:
    """Whether every core but one is free of other processes' work (the median of ``samples``
    looks at the running threads, 10 ms apart; True where that cannot be read).

    Sharing a step between threads pays only when every thread gets a core. Measured on the
    course's 2-core machine with other jobs running (load ≈ 5): notebook 2.3's 12-seed sweep
    took 236 s on two threads against 53 s on one (the threads wait for each other's time
    slices). The results do not depend on the thread count (bit-identical here).
    """
    seen = []
    for i in range(samples):
        n = _running_elsewhere()
        if n is None:
            return True
        seen.append(n)
        if i + 1 < samples:
            time.sleep(0.01)
    return sorted(seen)[len(seen) // 2] <= (os.cpu_count() or 1) - 2


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity where the OS reports it)."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except (AttributeError, OSError):
        return max(os.cpu_count() or 1, 1)


def run_concurrently(jobs: Sequence[Callable[[], T]], *, workers: Optional[int] = None,
                     desc: str = "runs", progress: bool = True) -> list[T]:
    """Run the zero-argument ``jobs`` on ``workers`` Python threads at once (default: one per usable
    core, at most one per job) with torch on **one thread per job**; return their results in order.

    Why it is safe and why it pays: with one torch thread every operation runs on the thread that
    calls it, so each job does exactly the arithmetic it would do alone on one thread (bit-identical
    results), and torch releases Python's lock inside its kernels, so two jobs keep two cores busy.
    The alternative, two threads *inside* each of the course's tiny steps, only synchronises (see
    :func:`cpu_threads`). Jobs start in the order given: put the longest first. Jobs must draw from
    the global random state only inside :func:`seeded` (the course's code otherwise passes
    generators) and must not change torch's thread count to anything but one. Off the CPU (a GPU)
    the jobs run one after another. The first failing job's exception is raised once every started
    job has ended.
    """
    from concurrent.futures import ThreadPoolExecutor, as_completed

    from .widgets import progress as progress_bar

    jobs = list(jobs)
    if not all(callable(job) for job in jobs):
        raise TypeError("jobs must be zero-argument callables")
    if workers is None:
        workers = usable_cores() if get_device().type == "cpu" else 1
    elif isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive int, got {workers!r}")
    workers = max(1, min(workers, len(jobs)))
    before = torch.get_num_threads()
    torch.set_num_threads(1)

    def one_thread(job: Callable[[], T]) -> T:
        torch.set_num_threads(1)      # this thread's own OpenMP setting
        return job()

    try:
        bar = progress_bar(total=len(jobs), desc=desc, disable=not progress or not jobs)
        with bar, ThreadPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(one_thread, job) for job in jobs]
            for _ in as_completed(futures):   # errors are raised below, in job order
                bar.update(1)
        return [future.result() for future in futures]
    finally:
        torch.set_num_threads(before)


@contextlib.contextmanager
def one_thread_for_small_fits() -> Iterator[None]:
    """Run BLAS and OpenMP on one thread inside the block (also usable as a decorator), then restore.

    For scikit-learn's fits on chapter 4's few thousand points (k-means, DBSCAN's neighbour search),
    a second thread only synchronises: k-means++ seeding is thousands of tiny distance products.
    Measured on a busy 2-core machine: k-means (k = 150, 3 restarts) on 1,100 × 384 points took
    0.6 s on one thread against 5–7 s on two, with the same clusters. ``threadpoolctl`` ships with
    scikit-learn.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def describe(expected: Mapping[str, str] | None = None) -> str:
    """A line or two for the top of a notebook: device, profile and expected run time.

    ``expected`` maps profile names to a human time ("40 s", "3 min"), e.g.
    ``describe({"quick": "20 s", "standard": "2 min", "full": "5 min on a GPU"})``. The parts are
    packed into lines of at most 88 characters, the width the book shows without cutting.
    """
    profile = get_profile()
    device = get_device()
    parts = [f"device: {device.type}", f"profile: {profile}"]
    if expected is not None:
        if not isinstance(expected, Mapping):
            raise TypeError("expected must be a mapping from profile name to a run time string")
        unknown = set(expected) - set(PROFILES)
        if unknown:
            raise ValueError(f"expected has unknown profiles {sorted(unknown)}; use {PROFILES}")
        if profile in expected:
            parts.append(f"expected run time: {expected[profile]}")
    if in_colab():
        parts.append("running in Colab")
    if profile != "full":
        parts.append(f"(set {PROFILE_ENV}=full for paper scale)")
    lines = [parts[0]]
    for part in parts[1:]:
        if len(lines[-1]) + len(" · ") + len(part) <= DESCRIBE_WIDTH:
            lines[-1] += " · " + part
        else:
            lines.append(part)
    return "\n".join(lines)


#: The widest line :func:`describe` prints (the book shows about 88 characters of output).
DESCRIBE_WIDTH = 88


#: The book's configuration, where the repository URL lives (``repository: url:``): the one place a
#: fork edits. Only a checkout has it; an installed ``course_lib`` never needs the URL at run time.
BOOK_CONFIG = Path(__file__).resolve().parents[1] / "_config.yml"


def repository_url(config: str | Path | None = None) -> str:
    """The course repository's URL, read from ``repository: url:`` in the book's ``_config.yml``.

    Read with a small parser rather than a YAML library, which is not a core dependency.
    """
    path = Path(BOOK_CONFIG if config is None else config)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: the repository URL is read from a checkout's _config.yml")
    in_repository = False
    for line in path.read_text(encoding="utf8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            in_repository = line.split("#")[0].strip() == "repository:"
            continue
        match = re.match(r"\s+url:\s*(\S+)", line)
        if in_repository and match:
            url = match.group(1).strip("'\"")
            if not re.match(r"https://[^/]+/[^/]+/[^/]+$", url):
                raise ValueError(f"{path}: repository url must look like https://host/owner/name, got {url!r}")
            return url
    raise ValueError(f"{path} has no 'url:' under 'repository:'")


def missing_requirements() -> list[str]:
    """``course-lib``'s core requirements whose package is not installed at all, shell-quoted.

    The Colab set-up cell installs the course with ``--no-deps`` (keeping every package Colab
    already has, at Colab's version) and then only these. Presence is what counts, not the version:
    replacing a package Colab has already imported would need a restart.
    """
    from importlib import metadata

    missing = []
    for requirement in metadata.requires("course-lib") or []:
        spec, _, marker = requirement.partition(";")
        if "extra" in marker:
            continue  # the book and test extras are for maintainers, not readers
        name = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", spec.strip()).group(0)
        try:
            metadata.version(name)
        except metadata.PackageNotFoundError:
            missing.append(shlex.quote(spec.strip().replace(" ", "")))
    return missing


def colab_setup_source(url: str | None = None) -> str:
    """The guarded set-up block that opens every notebook's first code cell.

    In Colab it installs this repository's ``course_lib`` with ``--no-deps``, so nothing Colab has
    already imported (torch, numpy, matplotlib, ipywidgets, ipykernel) is replaced and no restart is
    needed, then installs only the requirements Colab lacks altogether. Re-running it does nothing;
    anywhere else it does nothing. ``%pip`` (not ``subprocess``) so that Colab sees the install.
    The URL defaults to :func:`repository_url`; ``python -m course_lib.sync_notebooks`` writes this
    block into every notebook and a test checks they carry exactly it.
    """
    url = repository_url() if url is None else url
    return (
        "# Colab set-up: installs the course library once, and only what Colab lacks;\n"
        "# does nothing elsewhere.\n"
        "import importlib, importlib.util, sys\n"
        "IN_COLAB = 'google.colab' in sys.modules\n"
        "if IN_COLAB and importlib.util.find_spec('course_lib') is None:\n"
        "    # --no-deps keeps Colab's own torch, numpy, matplotlib and ipywidgets:\n"
        "    # no restart needed.\n"
        f"    COURSE_URL = \"{url}\"\n"
        "    %pip install --no-deps \"course-lib @ git+{COURSE_URL}\"\n"
        "    importlib.invalidate_caches()\n"
        "    from course_lib.runtime import missing_requirements\n"
        "    if missing_requirements():  # packages Colab lacks altogether (none imported yet)\n"
        "        %pip install {' '.join(missing_requirements())}\n"
    )
