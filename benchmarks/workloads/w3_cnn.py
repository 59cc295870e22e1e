"""W3: one training step of a small CNN on a 64×1×28×28 batch, cross entropy, SGD momentum 0.9.

The model (``cnn.model``): two blocks of conv3x3 (padding 1), ReLU, 2×2 max pool (1→16, 16→32 channels), then
Flatten and Linear(32·7·7, 10). nnkit and PyTorch run the same user code with ``nn.Conv2d`` and
``nn.MaxPool2d``; the floor is ``cnn.NumpyCNN`` (im2col + matmul). All start from the same weights; the check
compares the losses of 21 steps. Reported in ms per step.
"""

import functools

from . import Target, Workload, cnn
from .training import initial_state, make_batch, step_builders

BATCH = 64


@functools.cache
def _inputs():
    x, y = make_batch((BATCH, cnn.CHANNELS[0], cnn.SIZE, cnn.SIZE), cnn.N_CLASSES, seed=3)
    return x, y, initial_state(cnn.layers(), seed=3)


WORKLOAD = Workload(
    key="W3",
    title=f"CNN 2×(conv3x3, ReLU, maxpool2) + linear, batch {BATCH}×1×28×28, cross entropy, SGD momentum: one step",
    unit="ms/step",
    ops=1,
    scale=1e3,
    builders=step_builders(_inputs, cnn.NumpyCNN, cnn.model),
    targets=(
        Target("issue 3", 1.5, "ratio"),
        Target("issue 5", 1.0, "torch", threads=1),
    ),
    checked="losses of 21 steps",
    rtol=1e-4,
    atol=1e-6,
    sample_seconds=0.1,
    repeat=11,
    warmup=3,
)
