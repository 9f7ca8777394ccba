"""Resident memory of this process and its children, and its peak over a block.

Used by :func:`recsys_helpers.evaluation.compare` for each model's ``fit_mb``
and by the benchmarks. Resident memory (RSS) is what the operating system has
given the process and not taken back: the figure a laptop runs out of.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import gc
import sys
import threading
from collections.abc import Callable

import psutil

_MB = 2**20


def _processes() -> list[psutil.Process]:
    """This process and its children (a Spark driver's Java process, say)."""
    me = psutil.Process()
    with contextlib.suppress(psutil.Error):
        return [me, *me.children(recursive=True)]
    return [me]


def _rss_mb(processes: list[psutil.Process]) -> float:
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.Error):
            total += process.memory_info().rss
    return total / _MB


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """The C library's ``malloc_trim`` (glibc), looked up once; else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:  # the symbols already loaded into this process, the C library's among them
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, say)
        return None


def release_free_memory() -> None:
    """Collect garbage, then hand the C allocator's free pages back to the OS.

    Memory freed by earlier work (an earlier model's arrays, say) stays in the
    allocator's free lists and is reused without a change of resident size;
    after this call it has left the process, so a later peak counts it again.
    The second step is glibc's ``malloc_trim(0)`` on Linux; elsewhere only the
    garbage is collected.
    """
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def tree_rss_mb() -> float:
    """Resident memory of this process and all its children, in MB."""
    return _rss_mb(_processes())


class PeakMemory:
    """The largest resident memory of the process tree while a block runs.

    A thread samples :func:`tree_rss_mb` every ``every`` seconds (the list of
    child processes is refreshed every second, so sampling stays cheap):

    .. code-block:: python

        with PeakMemory() as memory:
            model.fit(train)
        memory.extra_mb  # what the fit needed on top of what was held before

    On entering, :func:`release_free_memory` returns what earlier work freed
    to the operating system (with ``release=True``), so that memory the block
    reuses is counted. A peak shorter than the sampling interval can still be
    missed, and so can memory reused from free lists this does not empty
    (Python's own small-object pools, other allocators'): ``extra_mb`` is a
    lower bound of what the block needs.

    Args:
        every: Seconds between samples (> 0).
        release: Call :func:`release_free_memory` before the first reading.

    Attributes:
        start_mb: Resident MB when the block began.
        peak_mb: The largest resident MB seen, ``>= start_mb``.
    """

    def __init__(self, every: float = 0.01, release: bool = True) -> None:
        if not every > 0:
            raise ValueError(f"every must be > 0 seconds, got {every!r}")
        self.every = every
        self.release = release
        self.start_mb = 0.0
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def extra_mb(self) -> float:
        """``peak_mb - start_mb``: memory the block took beyond what was held."""
        return self.peak_mb - self.start_mb

    def _sample(self) -> None:
        processes, samples = _processes(), 0
        refresh = max(1, round(1.0 / self.every))
        while not self._stop.wait(self.every):
            samples += 1
            if samples % refresh == 0:
                processes = _processes()
            self.peak_mb = max(self.peak_mb, _rss_mb(processes))

    def __enter__(self) -> PeakMemory:
        if self.release:
            release_free_memory()
        self.start_mb = self.peak_mb = tree_rss_mb()
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.peak_mb = max(self.peak_mb, tree_rss_mb())
