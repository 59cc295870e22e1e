"""NG: no-grad overhead: the 200-op chain of W1, forward only, on inputs that do not require grad.

nnkit runs under ``nk.no_grad()`` (torch under ``torch.no_grad()``) on a tensor with ``requires_grad=False``,
so no graph may be built; the floor is the same numpy calls with nothing kept. Reported in µs per op.
"""

import nnkit as nk

from . import Case, Target, Workload
from .chain import CYCLE_OPS, make_input, no_grad_case, numpy_forward

N_ELEMENTS = 16
N_CYCLES = 20
N_OPS = N_CYCLES * CYCLE_OPS


def numpy_case(torch):
    """The chain's numpy calls, keeping nothing."""
    x = make_input(N_ELEMENTS)
    return Case(lambda: numpy_forward(x, N_CYCLES))


def nnkit_case(torch):
    """The chain under ``nk.no_grad()`` on a tensor that does not require grad."""
    return no_grad_case(nk.tensor(make_input(N_ELEMENTS)), nk.no_grad, N_CYCLES)


def torch_case(torch):
    """The chain under ``torch.no_grad()`` on a tensor that does not require grad."""
    return no_grad_case(torch.tensor(make_input(N_ELEMENTS)), torch.no_grad, N_CYCLES)


WORKLOAD = Workload(
    key="NG",
    title=f"{N_OPS}-op elementwise chain, {N_ELEMENTS}×f32, forward only, no grad",
    unit="µs/op",
    ops=N_OPS,
    scale=1e6 / N_OPS,
    builders={"numpy": numpy_case, "nnkit": nnkit_case, "torch": torch_case},
    targets=(Target("issue 2", 1.3, "ratio"),),
    checked="output",
)
