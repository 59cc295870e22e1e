"""Timing helpers: warm-up with batch calibration, and interleaved samples.

Each sample times a batch of calls with ``time.perf_counter`` and divides by the batch size. Frameworks take
turns sample by sample (the first one rotates), so slow drift of a noisy machine hits them all alike. The
garbage collector stays on, as in real use, but is run before each batch so a batch starts clean (the worker
freezes the objects made by imports and setup, so collections only see what the timed code allocates).
"""

import gc
import math
import time

__all__ = ["time_batch", "warm_up", "interleaved_samples"]


def time_batch(fn, number):
    """Seconds per call of ``fn()``, averaged over ``number`` consecutive calls."""
    gc.collect()
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def warm_up(fn, calls, sample_seconds):
    """Call ``fn`` ``calls`` times (at least once) and return how many calls make a sample of ``sample_seconds``."""
    per_call = time_batch(fn, max(1, calls))
    if per_call <= 0:
        return 1
    return max(1, math.ceil(sample_seconds / per_call))


def interleaved_samples(fns, numbers, repeat, offset=0):
    """``repeat`` samples (seconds per call) of each function in ``fns``, taking turns.

    Args:
        fns: name -> zero-argument callable.
        numbers: name -> calls per sample.
        repeat: samples per function.
        offset: rotates the order of the first turn (e.g. the round number).

    Returns:
        name -> list of ``repeat`` samples.
    """
    names = list(fns)
    samples = {name: [] for name in names}
    for i in range(repeat):
        k = (i + offset) % len(names)
        for name in names[k:] + names[:k]:
            samples[name].append(time_batch(fns[name], numbers[name]))
    return samples
