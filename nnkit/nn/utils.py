"""Helpers for training loops: gradient clipping and flattening parameters into one vector.

Example::

    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()
"""

import numpy as np

from nnkit import dtypes
from nnkit.autograd.grad_mode import no_grad
from nnkit.ops.shape import cat, reshape
from nnkit.tensor import Tensor

__all__ = [
    "clip_grad_norm_", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_", "parameters_to_vector",
    "vector_to_parameters",
]


def _tensor_list(tensors):
    return [tensors] if isinstance(tensors, Tensor) else list(tensors)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The ``norm_type``-norm of all ``tensors`` together, as if concatenated into one vector (a 0-d tensor).

    ``norm_type`` may be ``float('inf')`` (the largest absolute value). Computed in float64 and returned in
    the tensors' dtype; ``foreach`` is accepted for PyTorch compatibility and ignored. An empty list gives 0.
    """
    tensors = [t for t in _tensor_list(tensors) if t is not None]
    norm_type = float(norm_type)
    if not tensors:
        return Tensor._make(np.array(0.0, dtype=dtypes.DEFAULT_FLOAT))
    norms = [np.linalg.norm(t._data.ravel().astype(np.float64), ord=norm_type) for t in tensors]
    total = np.linalg.norm(np.array(norms), ord=norm_type)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so it cannot be "
            "clipped. To disable this error and scale the gradients by the non-finite norm anyway, set "
            "`error_if_nonfinite=False`"
        )
    result_dtype = np.result_type(*[t._data.dtype for t in tensors])
    return Tensor._make(np.asarray(total, dtype=result_dtype))


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale the gradients of ``parameters`` in place by ``min(1, max_norm / (total_norm + 1e-6))``."""
    grads = [p.grad for p in _tensor_list(parameters) if p.grad is not None]
    if not grads:
        return
    total = float(total_norm.item() if isinstance(total_norm, Tensor) else total_norm)
    coef = min(float(max_norm) / (total + 1e-6), 1.0)
    with no_grad():
        for grad in grads:
            grad.mul_(coef)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Rescale gradients in place so that their total norm is at most ``max_norm``; returns the total norm.

    The total norm is taken over all gradients together, as if concatenated into one vector. When it
    exceeds ``max_norm`` every gradient is multiplied by ``max_norm / (total_norm + 1e-6)`` (PyTorch's rule),
    otherwise they are left as they are. Parameters without a gradient are skipped.

    Args:
        parameters: an iterable of tensors (``model.parameters()``) or a single tensor.
        max_norm: the largest allowed total norm.
        norm_type: the p of the p-norm; ``float('inf')`` for the largest absolute value.
        error_if_nonfinite: raise RuntimeError if the total norm is nan or inf (else the gradients are
            scaled by it anyway).
        foreach: accepted for PyTorch compatibility and ignored.

    Returns:
        The total norm of the gradients before clipping, a 0-d tensor.

    Example::

        total = nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    """
    parameters = _tensor_list(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    total_norm = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total_norm)
    return total_norm


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient of ``parameters`` in place to ``[-clip_value, clip_value]``.

    Args:
        parameters: an iterable of tensors or a single tensor; those without a gradient are skipped.
        clip_value: the largest allowed absolute value of a gradient element.
        foreach: accepted for PyTorch compatibility and ignored.
    """
    clip_value = float(clip_value)
    with no_grad():
        for p in _tensor_list(parameters):
            if p.grad is not None:
                p.grad.clamp_(-clip_value, clip_value)


def _zero_grads(tensors, set_to_none=True):
    """Reset the ``.grad`` of each tensor: to None, or (``set_to_none=False``) to zeros in place, detached.

    What ``Module.zero_grad`` and ``Optimizer.zero_grad`` do; tensors without a gradient are skipped.
    """
    for t in tensors:
        grad = t._grad
        if grad is None:
            continue
        if set_to_none:
            t._grad = None
            continue
        if grad.grad_fn is not None:
            grad.detach_()
        else:
            grad.requires_grad_(False)
        with no_grad():
            grad.zero_()


def parameters_to_vector(parameters):
    """Flatten and concatenate ``parameters`` into one 1-D tensor (differentiable, a copy).

    Example::

        vec = nn.utils.parameters_to_vector(model.parameters())   # shape (number of weights,)
    """
    return cat([reshape(p, (-1,)) for p in parameters])


def vector_to_parameters(vec, parameters):
    """Set the values of ``parameters`` from slices of the 1-D tensor ``vec`` (the inverse of
    :func:`parameters_to_vector`).

    As in PyTorch, each parameter's data becomes a view of ``vec``'s storage (the Parameter objects stay the
    same): changing ``vec`` in place later changes the parameters too.
    """
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected nnkit.Tensor, but got: {type(vec).__name__}")
    parameters = list(parameters)
    needed = sum(p.numel() for p in parameters)
    if vec.dim() != 1 or vec.numel() != needed:
        raise RuntimeError(
            f"vector_to_parameters: expected a 1-D vector of {needed} elements for {len(parameters)} "
            f"parameters, got shape {list(vec.shape)}"
        )
    pointer = 0
    for param in parameters:
        n = param.numel()
        param.data = vec[pointer:pointer + n].view_as(param)
        pointer += n
