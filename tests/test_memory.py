"""memory: resident memory of the process tree and its peak over a block."""

import subprocess
import sys
import time

import numpy as np
import pytest

from recsys_helpers.memory import PeakMemory, tree_rss_mb

MB = 2**20


def test_tree_rss_is_positive_and_counts_children():
    alone = tree_rss_mb()
    assert alone > 10  # a Python interpreter with numpy holds tens of MB
    code = "import numpy, time; a = numpy.ones(40 * 2**20 // 8); time.sleep(30)"
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 20
        while tree_rss_mb() < alone + 35 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert tree_rss_mb() >= alone + 35, "the child's 40 MB were not counted"
    finally:
        child.kill()
        child.wait()


def test_peak_memory_sees_memory_taken_and_freed_inside_the_block():
    with PeakMemory(every=0.005) as memory:
        block = np.ones(200 * MB // 8)  # written, so resident
        time.sleep(0.2)  # many samples while it is held
        del block
    assert memory.extra_mb >= 150
    assert memory.peak_mb >= memory.start_mb + memory.extra_mb - 1e-9


def test_peak_memory_counts_what_the_block_keeps():
    # the last reading is taken on leaving the block: no sampling luck needed
    with PeakMemory(every=10.0) as memory:
        kept = np.ones(100 * MB // 8)
    assert memory.extra_mb >= 80
    assert kept[0] == 1.0


def test_peak_memory_of_an_idle_block_is_small_and_never_negative():
    with PeakMemory() as memory:
        time.sleep(0.05)
    assert 0 <= memory.extra_mb < 50


@pytest.mark.parametrize("every", [0, -1.0])
def test_peak_memory_rejects_a_non_positive_interval(every):
    with pytest.raises(ValueError, match="every must be > 0"):
        PeakMemory(every=every)
