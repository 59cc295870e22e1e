"""Stochastic gradient descent, with momentum, dampening, Nesterov momentum, weight decay and maximize."""

import numpy as np

from nnkit.ops.elementwise import _scalar_array
from nnkit.optim.optimizer import Optimizer
from nnkit.tensor import Tensor

__all__ = ["SGD", "sgd"]

_BLOCK_BYTES = 256 * 1024  # fits the L2 cache of current CPUs with room to spare


class SGD(Optimizer):
    """Stochastic gradient descent (optionally with momentum), PyTorch's exact rule (see :func:`sgd`).

    Args:
        params: an iterable of Tensors or of parameter-group dicts (see :class:`Optimizer`).
        lr (float): learning rate (default 1e-3).
        momentum (float): momentum factor (default 0).
        dampening (float): dampening of the gradient's contribution to momentum (default 0); it does not
            apply on the first step, where the momentum buffer is the gradient itself.
        weight_decay (float): L2 penalty added to the gradient (default 0).
        nesterov (bool): use Nesterov momentum (needs momentum > 0 and zero dampening).
        maximize (bool): maximize the objective instead of minimizing it.

    State per parameter: ``'momentum_buffer'`` (when momentum is nonzero), created on the parameter's first
    step with a gradient. Parameters whose ``.grad`` is None are skipped.

    Example::

        opt = nk.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False):
        defaults = {
            "lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
            "nesterov": nesterov, "maximize": maximize,
        }
        super().__init__(params, defaults)

    def _check_options(self, options):
        if options["lr"] < 0.0:
            raise ValueError(f"Invalid learning rate: {options['lr']}")
        if options["momentum"] < 0.0:
            raise ValueError(f"Invalid momentum value: {options['momentum']}")
        if options["weight_decay"] < 0.0:
            raise ValueError(f"Invalid weight_decay value: {options['weight_decay']}")
        if options["nesterov"] and (options["momentum"] <= 0 or options["dampening"] != 0):
            raise ValueError(
                "Nesterov momentum requires a momentum and zero dampening (got momentum="
                f"{options['momentum']}, dampening={options['dampening']})"
            )

    def step(self, closure=None):
        """Perform one SGD step on every parameter that has a gradient; return ``closure()``'s loss if given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            use_momentum = group["momentum"] != 0
            with_grad, params, grads, buffers, states = [], [], [], [], []
            for p in group["params"]:
                if p._grad is None:
                    continue
                with_grad.append(p)
                params.append(p._data)
                grads.append(p._grad._data)
                if use_momentum:
                    state = self.state[p]
                    states.append(state)
                    buf = state.get("momentum_buffer")
                    buffers.append(None if buf is None else buf._data)
            sgd(
                params, grads, buffers, lr=group["lr"], momentum=group["momentum"], dampening=group["dampening"],
                weight_decay=group["weight_decay"], nesterov=group["nesterov"], maximize=group["maximize"],
            )
            for state, buf in zip(states, buffers):
                if "momentum_buffer" not in state:
                    state["momentum_buffer"] = Tensor._make(buf)
            for p in with_grad:
                self._bump_version(p)
        return loss


def sgd(params, grads, momentum_buffers, *, lr, momentum, dampening, weight_decay, nesterov, maximize):
    """The SGD update on numpy arrays, in place: PyTorch's ``torch.optim.SGD`` rule.

    For each parameter p with gradient ∇, momentum buffer b, at step t = 1, 2, ...::

        g = -∇ if maximize else ∇
        if weight_decay != 0:  g = g + weight_decay * p
        if momentum != 0:
            b = g                                   if t == 1 (no dampening on the first step)
            b = momentum * b + (1 - dampening) * g  otherwise
            g = g + momentum * b  if nesterov  else  b
        p = p - lr * g

    Args:
        params: list of parameter arrays, updated in place.
        grads: list of gradient arrays (never modified).
        momentum_buffers: list of buffer arrays or None (first step), one per parameter when momentum is
            nonzero (ignored otherwise). Buffers are updated in place; None entries are replaced by new arrays.
        lr, momentum, dampening, weight_decay, nesterov, maximize: the options above.
    """
    for i, (p, grad) in enumerate(zip(params, grads)):
        # The numbers as 0-d arrays of the parameter's dtype: the same results (numpy casts a Python number to the
        # array's dtype) without converting them on every call, which costs as much as an update of a bias.
        dtype = p.dtype
        lr_, momentum_ = _scalar_array(lr, dtype), _scalar_array(momentum, dtype)
        if weight_decay != 0:
            d = p * _scalar_array(weight_decay, dtype)
            if maximize:
                d -= grad
            else:
                d += grad
        else:
            d = -grad if maximize else grad  # d may alias the gradient: never written in place below
        if momentum != 0:
            buf = momentum_buffers[i]
            if buf is None:
                buf = d.copy() if d is grad else d
                momentum_buffers[i] = buf
            else:
                buf *= momentum_
                if dampening == 0:
                    buf += d
                else:
                    buf += _scalar_array(1 - dampening, dtype) * d
            d = d + momentum_ * buf if nesterov else buf
        _sub_scaled_(p, lr_, d)


def _sub_scaled_(p, alpha, d):
    """``p -= alpha * d`` in place, with the same result.

    A large parameter is updated block by block through one block-sized scratch array, which is still in the
    cache when it is read back. A parameter-sized temporary would be written to memory and fetched again: with
    the 1.6 MB weight of a 784x512 layer the blocks make the SGD step of the W2 benchmark 5-8% faster.
    """
    if d.nbytes <= _BLOCK_BYTES or not (p.flags.c_contiguous and d.flags.c_contiguous):
        p -= alpha * d
        return
    dtype = np.result_type(alpha, d)  # the dtype of alpha * d
    block = _BLOCK_BYTES // dtype.itemsize
    flat_p, flat_d = p.reshape(-1), d.reshape(-1)  # views: both are contiguous
    scratch = np.empty(block, dtype)
    for start in range(0, p.size, block):
        part = np.multiply(flat_d[start:start + block], alpha, out=scratch[:min(block, p.size - start)])
        flat_p[start:start + block] -= part
