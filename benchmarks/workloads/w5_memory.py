"""W5: peak memory above imports of 20 training steps of W2's MLP at batch 1024, in MiB.

Each framework runs in a fresh process (``benchmarks/peak_memory.py``): imports, ``setup`` (the shared inputs
and a two-step warm-up on a tiny MLP that loads lazily initialised code), then the baseline; the case then
builds the model and optimizer from the shared weights and runs 20 steps, and the peak resident memory above
the baseline is the result. The input batch and the initial weights are numpy arrays made before the baseline
and shared without a copy (``from_numpy``), so they count for no framework; the parameters, gradients,
momentum buffers, activations and every temporary do. The check compares the 20 losses with the floor's.
"""

import functools

import numpy as np

from . import FRAMEWORKS, Case, Target, Workload, mlp
from .training import initial_state, make_batch, make_step

BATCH = 1024
STEPS = 20
TINY_SIZES = (8, 4, 3)


@functools.cache
def _inputs(sizes=mlp.SIZES, batch=BATCH):
    x, y = make_batch((batch, sizes[0]), sizes[-1], seed=5)
    return x, y, initial_state(mlp.layers(sizes), seed=5)


def _step(name, torch, sizes=mlp.SIZES, batch=BATCH):
    """The training step of framework ``name`` on the shared inputs for ``sizes`` and ``batch``."""
    return make_step(name, torch, _inputs(sizes, batch), mlp.NumpyMLP, functools.partial(mlp.model, sizes=sizes))


def setup(name, torch):
    """Before the baseline: make the shared inputs and run two steps of a tiny MLP in framework ``name``."""
    _inputs()
    step = _step(name, torch, TINY_SIZES, 4)
    step()
    step()


def _builder(name):
    def build(torch):
        step = _step(name, torch)
        return Case(lambda: np.array([step().item() for _ in range(STEPS)]))

    build.__doc__ = f"Build {name}'s model and optimizer; run() does {STEPS} steps and returns their losses."
    return build


WORKLOAD = Workload(
    key="W5",
    title=f"peak memory above imports, {STEPS} steps of W2's MLP at batch {BATCH}",
    unit="MiB",
    ops=STEPS,
    scale=1.0,
    builders={name: _builder(name) for name in FRAMEWORKS},
    targets=(Target("issue 5", 1.3, "ratio", threads=1),),
    checked=f"losses of {STEPS} steps",
    rtol=2e-5,
    atol=1e-6,
    measure="memory",
    setup=setup,
)
