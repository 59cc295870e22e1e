"""W1: per-op overhead of a 200-op elementwise chain on 16 float32 values, forward + backward of the sum.

The work per op is tiny, so the time is almost all framework overhead: creating tensors and graph nodes,
dispatch, and the backward engine. Reported in µs per op (the total over the 200 ops; the final ``sum`` and
the whole backward are included in the total).
"""

import nnkit as nk

from . import Case, Target, Workload
from .chain import CYCLE_OPS, grad_case, make_input, numpy_grad

N_ELEMENTS = 16
N_CYCLES = 20
N_OPS = N_CYCLES * CYCLE_OPS


def numpy_case(torch):
    """Hand-written forward storing what backward needs, and hand-written backward."""
    x = make_input(N_ELEMENTS)
    return Case(lambda: numpy_grad(x, N_CYCLES)[1])


def nnkit_case(torch):
    """The chain on an nnkit leaf that requires grad."""
    return grad_case(nk.tensor(make_input(N_ELEMENTS), requires_grad=True), N_CYCLES)


def torch_case(torch):
    """The chain on a torch leaf that requires grad."""
    return grad_case(torch.tensor(make_input(N_ELEMENTS), requires_grad=True), N_CYCLES)


WORKLOAD = Workload(
    key="W1",
    title=f"{N_OPS}-op elementwise chain, {N_ELEMENTS}×f32, forward + backward",
    unit="µs/op",
    ops=N_OPS,
    scale=1e6 / N_OPS,
    builders={"numpy": numpy_case, "nnkit": nnkit_case, "torch": torch_case},
    targets=(
        Target("issue 2", 4.0, "value", threads=1),
        Target("issue 5", 3.5, "value", threads=1),
        Target("issue 5", 3.0, "ratio", threads=1),
        Target("issue 5", 1.0, "torch", threads=2),
    ),
    checked="gradient",
)
