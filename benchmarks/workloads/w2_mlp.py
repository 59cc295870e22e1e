"""W2: one training step of the MLP 784-512-256-10 (ReLU) on a batch of 128, cross entropy, SGD momentum 0.9.

A step is what a training loop does per batch: zero_grad, forward, loss, backward, optimizer step. nnkit and
PyTorch run the same user code (``training.framework_step``) on ``nn.Sequential`` of ``Linear``/``ReLU``; the
floor is ``mlp.NumpyMLP``. All start from the same weights; the check compares the losses of 21 steps (the last
one after 20 updates). Reported in ms per step.
"""

import functools

from . import Target, Workload, mlp
from .training import initial_state, make_batch, step_builders

BATCH = 128


@functools.cache
def _inputs():
    x, y = make_batch((BATCH, mlp.SIZES[0]), mlp.SIZES[-1], seed=2)
    return x, y, initial_state(mlp.layers(), seed=2)


WORKLOAD = Workload(
    key="W2",
    title=f"MLP {'-'.join(map(str, mlp.SIZES))} (ReLU), batch {BATCH}, cross entropy, SGD momentum: one step",
    unit="ms/step",
    ops=1,
    scale=1e3,
    builders=step_builders(_inputs, mlp.NumpyMLP, mlp.model),
    targets=(
        Target("issue 3", 1.15, "ratio"),
        Target("issue 5", 1.08, "ratio", threads=1),
        Target("issue 5", 1.0, "torch", threads=2),
    ),
    checked="losses of 21 steps",
    rtol=2e-5,
    atol=1e-6,
    sample_seconds=0.05,
    repeat=15,
    warmup=5,
)
