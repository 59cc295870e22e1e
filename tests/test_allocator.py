"""nnkit.allocator: with the thresholds nnkit sets at import, a training-like loop that allocates and frees
megabyte buffers reuses them from the heap instead of faulting fresh pages in on every iteration."""

import platform
import resource
import sys

import numpy as np
import pytest

import nnkit as nk

glibc = pytest.mark.skipif(
    sys.platform != "linux" or platform.libc_ver()[0] != "glibc", reason="the thresholds are glibc's"
)


def faults_per_iteration(iterations=20):
    """Minor page faults per iteration of a loop that allocates, fills and frees 24 MiB in 3 buffers."""

    def step():
        buffers = [np.ones(2**21, np.float32) for _ in range(3)]  # 8 MiB each, freed together at the end
        return sum(float(b[-1]) for b in buffers)

    for _ in range(3):
        step()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(iterations):
        step()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / iterations


@glibc
def test_buffers_freed_by_a_step_are_reused_by_the_next():
    assert nk.allocator.configure()  # what importing nnkit did
    assert faults_per_iteration() < 50  # fresh pages for 24 MiB would cost ~1,000 faults (see below)


@glibc
def test_with_glibcs_starting_thresholds_every_iteration_faults_its_pages_in_again():
    try:
        assert nk.allocator.configure(128 * 1024, 128 * 1024)
        assert faults_per_iteration() > 500  # measured ~1,000 here (the kernel maps several pages per fault)
    finally:
        nk.allocator.configure()


def test_configure_reports_whether_it_changed_anything():
    expected = sys.platform == "linux" and platform.libc_ver()[0] == "glibc"
    assert nk.allocator.configure() is expected
