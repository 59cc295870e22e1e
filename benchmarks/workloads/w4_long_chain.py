"""W4: a 20,000-op elementwise chain on 4 float32 values, forward + backward of the sum.

Checks that a deep graph runs without recursion limits or crashes (in backward and when the graph is freed),
and what a long graph costs. Reported in seconds per forward + backward.
"""

import nnkit as nk

from . import Case, Target, Workload
from .chain import CYCLE_OPS, grad_case, make_input, numpy_grad

N_ELEMENTS = 4
N_CYCLES = 2000
N_OPS = N_CYCLES * CYCLE_OPS


def numpy_case(torch):
    """Hand-written forward storing what backward needs, and hand-written backward."""
    x = make_input(N_ELEMENTS, seed=4)
    return Case(lambda: numpy_grad(x, N_CYCLES)[1])


def nnkit_case(torch):
    """The chain on an nnkit leaf that requires grad."""
    return grad_case(nk.tensor(make_input(N_ELEMENTS, seed=4), requires_grad=True), N_CYCLES)


def torch_case(torch):
    """The chain on a torch leaf that requires grad."""
    return grad_case(torch.tensor(make_input(N_ELEMENTS, seed=4), requires_grad=True), N_CYCLES)


WORKLOAD = Workload(
    key="W4",
    title=f"{N_OPS:,}-op elementwise chain, {N_ELEMENTS}×f32, forward + backward",
    unit="s",
    ops=N_OPS,
    scale=1.0,
    builders={"numpy": numpy_case, "nnkit": nnkit_case, "torch": torch_case},
    targets=(Target("issue 5", 4.0, "ratio", threads=1), Target("issue 5", 1.0, "torch", threads=2)),
    checked="gradient",
    sample_seconds=0.0,
    repeat=5,
    warmup=1,
)
