"""Shared fixtures of the optimizer tests: starting points, a gradient field, and trajectory runners.

The gradient at each step depends on the current parameter values (``grad_at``), so a wrong update changes
every later gradient and the trajectories diverge visibly instead of differing by a constant offset.
"""

import numpy as np

import nnkit as nk

SHAPES = [(3, 4), (5,)]
STEPS = 10


def start_points(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape).astype(dtype) for shape in SHAPES]


def grad_at(p, t, k):
    """The gradient of parameter ``k`` at step ``t``: a smooth field that changes sign along the run."""
    return (np.sin(p + k) * (0.5 + 0.1 * t) + 0.05 * (t - 4)).astype(p.dtype)


def _trajectory(params, opt, to_tensor, steps):
    """Parameter values after each of ``steps`` steps: a list (per step) of lists (per parameter) of arrays."""
    trajectory = []
    for t in range(steps):
        for k, p in enumerate(params):
            p.grad = to_tensor(grad_at(p.detach().numpy(), t, k))
        opt.step()
        trajectory.append([p.detach().numpy().copy() for p in params])
    return trajectory


def run_nnkit(opt_cls, kwargs, starts, steps=STEPS):
    """The trajectory of ``opt_cls(params, **kwargs)`` from ``starts`` (see ``_trajectory``)."""
    params = [nk.tensor(s.copy(), requires_grad=True) for s in starts]
    return _trajectory(params, opt_cls(params, **kwargs), nk.tensor, steps)


def run_torch(torch, opt_name, kwargs, starts, steps=STEPS):
    """The same run with ``torch.optim.<opt_name>`` (single-tensor CPU implementation)."""
    params = [torch.tensor(s.copy(), requires_grad=True) for s in starts]
    return _trajectory(params, getattr(torch.optim, opt_name)(params, foreach=False, **kwargs), torch.tensor, steps)


def assert_trajectories_close(actual, expected, rtol, atol):
    for t, (row_a, row_e) in enumerate(zip(actual, expected)):
        for k, (a, e) in enumerate(zip(row_a, row_e)):
            np.testing.assert_allclose(a, e, rtol=rtol, atol=atol, err_msg=f"step {t + 1}, parameter {k}")
