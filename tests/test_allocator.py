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
    """Minor page faults per iteration of a loop that allocates, fills and frees 24 MiB in 12 buffers.

    Each buffer is 2 MiB: numpy asks for huge pages only from 4 MiB on, so every page of a fresh buffer
    faults once (512 faults per buffer)."""

    def step():
        buffers = [np.ones(2**19, np.float32) for _ in range(12)]  # freed together at the end
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
    assert faults_per_iteration() < 50  # fresh pages for 24 MiB would cost ~6,000 faults (see below)


def transparent_huge_pages_always():
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            return "[always]" in f.read()
    except OSError:
        return False


@glibc
@pytest.mark.skipif(transparent_huge_pages_always(), reason="with huge pages everywhere a buffer faults a few times")
def test_with_glibcs_starting_thresholds_every_iteration_faults_its_pages_in_again():
    try:
        assert nk.allocator.configure(128 * 1024, 128 * 1024)
        assert faults_per_iteration() > 3000
    finally:
        nk.allocator.configure()


def test_configure_reports_whether_it_changed_anything():
    expected = sys.platform == "linux" and platform.libc_ver()[0] == "glibc"
    assert nk.allocator.configure() is expected
