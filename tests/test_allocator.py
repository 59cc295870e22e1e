"""nnkit.allocator: with the thresholds nnkit sets at import, a training-like loop that allocates and frees
megabyte buffers reuses them from the heap instead of faulting fresh pages in on every iteration.

Page faults depend on the state of the process's heap (a long test session leaves free space that serves
some requests without new pages), so each measurement runs in a fresh interpreter."""

import json
import platform
import subprocess
import sys
from pathlib import Path

import pytest

import nnkit as nk

REPO = Path(__file__).resolve().parent.parent

glibc = pytest.mark.skipif(
    sys.platform != "linux" or platform.libc_ver()[0] != "glibc", reason="the thresholds are glibc's"
)

# Minor page faults per iteration of a loop that allocates, fills and frees 24 MiB in 12 buffers of 2 MiB
# (numpy asks for huge pages only from 4 MiB on, so every page of a fresh buffer faults once: 512 per buffer).
MEASURE = """
import json, resource, sys
sys.path.insert(0, {repo!r})
import numpy as np
import nnkit as nk
if {thresholds!r} is not None:
    nk.allocator.configure(*{thresholds!r})

def step():
    buffers = [np.ones(2**19, np.float32) for _ in range(12)]  # freed together at the end
    return sum(float(b[-1]) for b in buffers)

for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    step()
print(json.dumps((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20))
"""


def faults_per_iteration(thresholds=None):
    """Faults per iteration in a fresh process: with nnkit's thresholds, or ``(mmap, trim)`` bytes."""
    code = MEASURE.format(repo=str(REPO), thresholds=thresholds)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def transparent_huge_pages_always():
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            return "[always]" in f.read()
    except OSError:
        return False


@glibc
def test_buffers_freed_by_a_step_are_reused_by_the_next():
    assert faults_per_iteration() < 50  # fresh pages for 24 MiB cost ~6,000 faults (see below)


@glibc
@pytest.mark.skipif(transparent_huge_pages_always(), reason="with huge pages everywhere a buffer faults a few times")
def test_with_glibcs_starting_thresholds_every_iteration_faults_its_pages_in_again():
    assert faults_per_iteration((128 * 1024, 128 * 1024)) > 3000


def test_configure_reports_whether_it_changed_anything():
    expected = sys.platform == "linux" and platform.libc_ver()[0] == "glibc"
    assert nk.allocator.configure() is expected
