"""A small on-disk cache for things the course trains or computes once.

An entry is keyed by a hash of (name, config, package version, compute kind), so changing a
hyperparameter or upgrading ``course_lib`` computes afresh. The compute kind is torch's version and
the CPU kernels it dispatches to (``AVX512``, ``AVX2``, ...): the same training run gives results
that differ in the last bits between them, and a chaotic run's verdict can follow those bits, so a
cache written under one kind is never read back under another. Writes are atomic (temp file + ``os.replace``), each entry
carries a SHA-256 of its payload, and an entry that is corrupt or half-written is recomputed with a
warning — a broken cache never crashes a notebook.

File format: one header line ``COURSECACHE1 <sha256 hex>\\n`` followed by the pickled payload.

:func:`remembered` is the in-memory companion for fits a notebook repeats on the same data within
one kernel (k-means at the same k and seed, DBSCAN's scale): results keyed by the *contents* of the
arguments, kept for the life of the process, never written to disk.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import io
import json
import os
import tempfile
import warnings
from pathlib import Path
from collections import OrderedDict
from typing import Any, Callable, Mapping, TypeVar

import numpy as np

import torch

from . import __version__

T = TypeVar("T")
CACHE_ENV = "COURSE_CACHE_DIR"
_MAGIC = b"COURSECACHE1"


class CacheWarning(UserWarning):
    """A cache entry could not be used and was recomputed."""


def cache_dir() -> Path:
    """The cache folder: ``$COURSE_CACHE_DIR``, else ``~/.cache/course_lib``."""
    root = os.environ.get(CACHE_ENV)
    return Path(root).expanduser() if root else Path.home() / ".cache" / "course_lib"


def compute_kind() -> str:
    """torch's version and the CPU kernel family it uses here, e.g. ``"2.13.0+cpu/AVX512"``."""
    return f"{torch.__version__}/{torch.backends.cpu.get_cpu_capability()}"


def config_key(name: str, config: Mapping[str, Any]) -> str:
    """Hex digest identifying (name, config, package version, compute kind).

    ``config`` must be JSON-serialisable (numbers, strings, lists, dicts); keys are sorted so the
    order in which a config was written does not matter.
    """
    if not isinstance(name, str) or not name or any(c in name for c in "/\\"):
        raise ValueError(f"name must be a non-empty string without slashes, got {name!r}")
    if not isinstance(config, Mapping):
        raise TypeError(f"config must be a mapping, got {type(config).__name__}")
    try:
        blob = json.dumps(
            {
                "name": name,
                "config": config,
                "version": __version__,
                "compute": compute_kind(),
            },
            sort_keys=True,
        )
    except TypeError as err:
        raise TypeError(f"config must be JSON-serialisable: {err}") from None
    return hashlib.sha256(blob.encode()).hexdigest()


def entry_path(name: str, config: Mapping[str, Any]) -> Path:
    """Where the entry for (name, config) lives."""
    return cache_dir() / f"{name}-{config_key(name, config)[:24]}.pt"


def save(path: Path, value: Any) -> None:
    """Write ``value`` atomically with a checksum header."""
    buffer = io.BytesIO()
    torch.save(value, buffer)
    payload = buffer.getvalue()
    header = _MAGIC + b" " + hashlib.sha256(payload).hexdigest().encode() + b"\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(header)
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: Path) -> Any:
    """Read an entry written by :func:`save`; ``ValueError`` if it is corrupt or truncated."""
    data = path.read_bytes()
    newline = data.find(b"\n")
    header = data[:newline].split(b" ") if newline > 0 else []
    if len(header) != 2 or header[0] != _MAGIC:
        raise ValueError(f"{path.name}: missing or malformed header")
    payload = data[newline + 1 :]
    if hashlib.sha256(payload).hexdigest().encode() != header[1]:
        raise ValueError(f"{path.name}: checksum mismatch (corrupt or partial write)")
    return torch.load(io.BytesIO(payload), weights_only=False)


def cached(name: str, config: Mapping[str, Any], compute: Callable[[], T]) -> T:
    """Return the cached value for (name, config), computing and storing it if needed.

    >>> run = cached("bottleneck", {"seed": 0, "epochs": 500}, lambda: train(...))  # doctest: +SKIP
    """
    if not callable(compute):
        raise TypeError("compute must be a zero-argument callable")
    path = entry_path(name, config)
    if path.exists():
        try:
            return load(path)
        except Exception as err:  # corrupt, truncated, unpicklable: recompute
            warnings.warn(f"cache entry {path} unusable ({err}); recomputing", CacheWarning, stacklevel=2)
    value = compute()
    try:
        save(path, value)
    except OSError as err:  # read-only or full disk: still give the reader the result
        warnings.warn(f"could not write cache entry {path}: {err}", CacheWarning, stacklevel=2)
    return value


def clear(name: str | None = None) -> int:
    """Delete cached entries (all, or those of ``name``); return how many were removed."""
    root = cache_dir()
    if not root.is_dir():
        return 0
    pattern = f"{name}-*.pt" if name else "*.pt"
    removed = 0
    for path in root.glob(pattern):
        path.unlink(missing_ok=True)
        removed += 1
    return removed


def content_key(*args: Any, **kwargs: Any) -> str:
    """SHA-256 of the arguments' contents: arrays and tensors by dtype, shape and bytes (two arrays
    with equal values give the same key, one array edited in place a new one), everything else by
    ``repr``."""
    h = hashlib.sha256()

    def feed(value: Any) -> None:
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
        if isinstance(value, np.ndarray):
            h.update(f"array {value.dtype.str} {value.shape}|".encode())
            h.update(np.ascontiguousarray(value).tobytes())
        elif isinstance(value, (list, tuple)):
            h.update(f"{type(value).__name__} {len(value)}|".encode())
            for item in value:
                feed(item)
        else:
            h.update(f"{type(value).__name__} {value!r}|".encode())

    for value in args:
        feed(value)
    for name in sorted(kwargs):
        h.update(f"kw {name}=".encode())
        feed(kwargs[name])
    return h.hexdigest()


def remembered(maxsize: int = 256) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Decorator for a pure function: remember its last ``maxsize`` results in this process, keyed by
    :func:`content_key` of the arguments; each call returns a deep copy, so a caller that edits a
    result cannot change a later one. ``f.forget()`` empties the memory; ``f.hits`` counts reuses."""
    if isinstance(maxsize, bool) or not isinstance(maxsize, int) or maxsize < 1:
        raise ValueError(f"maxsize must be a positive integer, got {maxsize!r}")

    def decorate(function: Callable[..., T]) -> Callable[..., T]:
        memory: OrderedDict[str, Any] = OrderedDict()

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> T:
            key = content_key(function.__qualname__, *args, **kwargs)
            if key in memory:
                memory.move_to_end(key)
                wrapper.hits += 1
            else:
                memory[key] = function(*args, **kwargs)
                if len(memory) > maxsize:
                    memory.popitem(last=False)
            return copy.deepcopy(memory[key])

        wrapper.hits = 0
        wrapper.forget = memory.clear
        return wrapper

    return decorate
