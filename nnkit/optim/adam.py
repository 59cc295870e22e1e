"""Adam and AdamW (Adam with decoupled weight decay), with AMSGrad and maximize."""

import numpy as np

from nnkit.optim.optimizer import Optimizer
from nnkit.tensor import Tensor

__all__ = ["Adam", "AdamW", "adam"]


class Adam(Optimizer):
    """Adam, PyTorch's exact rule (see :func:`adam`), optionally AMSGrad or with decoupled weight decay.

    Args:
        params: an iterable of Tensors or of parameter-group dicts (see :class:`Optimizer`).
        lr (float): learning rate (default 1e-3).
        betas (tuple[float, float]): decay rates of the running averages of the gradient and of its square
            (default (0.9, 0.999)).
        eps (float): added to the denominator for numerical stability (default 1e-8).
        weight_decay (float): L2 penalty added to the gradient (default 0), or with
            ``decoupled_weight_decay`` a decay of the parameter itself (AdamW).
        amsgrad (bool): use the AMSGrad variant, normalizing by the maximum of the second moments so far.
        maximize (bool): maximize the objective instead of minimizing it.
        decoupled_weight_decay (bool): decay the parameter directly, ``p *= 1 - lr * weight_decay``, instead of
            adding ``weight_decay * p`` to the gradient; this is :class:`AdamW`.

    State per parameter, created on its first step with a gradient: ``'step'`` (a float32 0-d tensor, as in
    PyTorch), ``'exp_avg'``, ``'exp_avg_sq'`` and, with amsgrad, ``'max_exp_avg_sq'``. Parameters whose
    ``.grad`` is None are skipped (their step count does not advance).

    Example::

        opt = nk.optim.Adam(model.parameters(), lr=1e-3)
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 maximize=False, decoupled_weight_decay=False):
        defaults = {
            "lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
            "maximize": maximize, "decoupled_weight_decay": decoupled_weight_decay,
        }
        super().__init__(params, defaults)

    def _check_options(self, options):
        betas = options["betas"]
        if not 0.0 <= options["lr"]:
            raise ValueError(f"Invalid learning rate: {options['lr']}")
        if not 0.0 <= options["eps"]:
            raise ValueError(f"Invalid epsilon value: {options['eps']}")
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        if not 0.0 <= betas[0] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
        if not 0.0 <= betas[1] < 1.0:
            raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
        if not 0.0 <= options["weight_decay"]:
            raise ValueError(f"Invalid weight_decay value: {options['weight_decay']}")

    def step(self, closure=None):
        """Perform one Adam step on every parameter that has a gradient; return ``closure()``'s loss if given."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            amsgrad = group["amsgrad"]
            with_grad, params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps = [], [], [], [], [], [], []
            for p in group["params"]:
                if p._grad is None:
                    continue
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = Tensor._make(np.zeros((), dtype=np.float32))
                    state["exp_avg"] = Tensor._make(np.zeros_like(p._data))
                    state["exp_avg_sq"] = Tensor._make(np.zeros_like(p._data))
                    if amsgrad:
                        state["max_exp_avg_sq"] = Tensor._make(np.zeros_like(p._data))
                with_grad.append(p)
                params.append(p._data)
                grads.append(p._grad._data)
                exp_avgs.append(state["exp_avg"]._data)
                exp_avg_sqs.append(state["exp_avg_sq"]._data)
                if amsgrad:
                    max_exp_avg_sqs.append(state["max_exp_avg_sq"]._data)
                steps.append(state["step"]._data)
            beta1, beta2 = group["betas"]
            adam(
                params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, steps, amsgrad=amsgrad, beta1=beta1,
                beta2=beta2, lr=group["lr"], weight_decay=group["weight_decay"], eps=group["eps"],
                maximize=group["maximize"], decoupled_weight_decay=group["decoupled_weight_decay"],
            )
            for p in with_grad:
                self._bump_version(p)
        return loss


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay, ``p *= 1 - lr * weight_decay`` before the Adam update.

    The decay acts on the parameter directly instead of entering the running averages through the gradient
    (Loshchilov & Hutter, "Decoupled Weight Decay Regularization"). Arguments as :class:`Adam`, with
    ``weight_decay`` defaulting to 1e-2; the rule is :func:`adam` with ``decoupled_weight_decay=True``.

    Example::

        opt = nk.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)

    def load_state_dict(self, state_dict):
        """Load a state saved by ``state_dict()`` (see :meth:`Optimizer.load_state_dict`); the decay stays
        decoupled whatever the saved groups say."""
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True


def _lerp_(start, end, weight, scratch):
    """``start += weight * (end - start)`` in place, evaluated as PyTorch's lerp (exact at weight 0 and 1).

    ``scratch``: an array of ``start``'s shape for the difference.
    """
    diff = np.subtract(end, start, out=scratch)
    if abs(weight) < 0.5:
        diff *= weight
        start += diff
    else:
        diff *= 1 - start.dtype.type(weight)
        np.subtract(end, diff, out=start)


def adam(params, grads, exp_avgs, exp_avg_sqs, max_exp_avg_sqs, state_steps, *, amsgrad, beta1, beta2, lr,
         weight_decay, eps, maximize, decoupled_weight_decay=False):
    """The Adam / AdamW update on numpy arrays, in place: PyTorch's ``torch.optim.Adam`` rule.

    For each parameter p with gradient ∇, first and second moments m and v (zero at first), at step t::

        t = t + 1
        g = -∇ if maximize else ∇
        if weight_decay != 0:
            p = p * (1 - lr * weight_decay)   if decoupled_weight_decay (AdamW)
            g = g + weight_decay * p          otherwise
        m = beta1 * m + (1 - beta1) * g       (computed as lerp(m, g, 1 - beta1))
        v = beta2 * v + (1 - beta2) * g * g
        if amsgrad:  v_max = max(v_max, v);  v̂ = v_max
        else:        v̂ = v
        p = p - lr / (1 - beta1**t) * m / (sqrt(v̂) / sqrt(1 - beta2**t) + eps)

    Args:
        params: list of parameter arrays, updated in place.
        grads: list of gradient arrays (never modified).
        exp_avgs, exp_avg_sqs: lists of m and v arrays, updated in place.
        max_exp_avg_sqs: list of v_max arrays (amsgrad only; may be empty otherwise), updated in place.
        state_steps: list of 0-d float arrays holding t, incremented in place.
        amsgrad, beta1, beta2, lr, weight_decay, eps, maximize, decoupled_weight_decay: the options above.
    """
    for i, (p, grad) in enumerate(zip(params, grads)):
        m, v, step_t = exp_avgs[i], exp_avg_sqs[i], state_steps[i]
        step_t += 1
        step = float(step_t)
        if weight_decay != 0 and not decoupled_weight_decay:
            g = p * weight_decay  # then +-grad: exactly g + weight_decay * p, in one new array
            g = np.subtract(g, grad, out=g) if maximize else np.add(g, grad, out=g)
        else:
            g = -grad if maximize else grad  # g may alias the gradient: never written in place below
            if weight_decay != 0:
                p *= 1 - lr * weight_decay
        scratch = np.empty_like(p)  # the one temporary: each stage below reuses it
        _lerp_(m, g, 1 - beta1, scratch)
        v *= beta2
        sq = np.multiply(g, 1 - beta2, out=scratch)
        sq *= g
        v += sq
        bias_correction1 = 1 - beta1**step
        bias_correction2_sqrt = (1 - beta2**step) ** 0.5
        if amsgrad:
            np.maximum(max_exp_avg_sqs[i], v, out=max_exp_avg_sqs[i])
            v = max_exp_avg_sqs[i]
        denom = np.sqrt(v, out=scratch)
        denom /= bias_correction2_sqrt
        denom += eps
        np.divide(m, denom, out=denom)
        denom *= -(lr / bias_correction1)
        p += denom
