"""Higher-level derivatives of a whole function: ``vjp``, ``jvp``, ``jacobian``, ``hessian``, ``hvp``, ``vhp``.

The API and the structure of the results follow ``torch.autograd.functional``: ``inputs`` is a Tensor or a
tuple of Tensors, ``func`` returns a Tensor or a tuple of Tensors, and each result is a single Tensor or a
tuple to match. Everything is reverse mode: ``jvp`` and ``hvp`` use the double-backward trick (a
vector-Jacobian product is linear in its vector, so differentiating it with respect to that vector gives
the Jacobian-vector product). The Jacobian is built one row per output element.

With ``create_graph=False`` (the default) the results are detached; with True they stay in the graph, so
they can be differentiated again. ``strict=True`` raises instead of returning zeros when an output does not
depend on an input.
"""

import numpy as np

from nnkit.autograd.engine import grad as _grad
from nnkit.autograd.function import Function
from nnkit.autograd.grad_mode import enable_grad, recording, set_grad_enabled
from nnkit.tensor import Tensor, _make

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


# -- helpers (PyTorch's private helpers of the same names) -----------------------------------------------------
def _as_tuple(inp, arg_name, fn_name):
    is_tuple = isinstance(inp, tuple)
    items = inp if is_tuple else (inp,)
    for i, el in enumerate(items):
        if not isinstance(el, Tensor):
            if is_tuple:
                raise TypeError(
                    f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but the "
                    f"value at index {i} has type {type(el)}."
                )
            raise TypeError(
                f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but the given "
                f"{arg_name} has type {type(el)}."
            )
    return is_tuple, items


def _tuple_postprocess(res, to_unpack):
    if isinstance(to_unpack, tuple):
        if not to_unpack[1]:
            res = tuple(el[0] for el in res)
        if not to_unpack[0]:
            res = res[0]
    elif not to_unpack:
        res = res[0]
    return res


def _grad_preprocess(inputs, create_graph, need_graph):
    # create_graph: keep the caller's graph (a view, so later in-place changes by func do not touch it);
    # otherwise differentiate fresh leaves that share the inputs' storage.
    out = []
    for inp in inputs:
        if create_graph and inp.requires_grad:
            out.append(inp.view_as(inp))
        else:
            out.append(inp.detach().requires_grad_(need_graph))
    return tuple(out)


def _grad_postprocess(inputs, create_graph):
    if not inputs:
        return inputs
    if isinstance(inputs[0], Tensor):
        return inputs if create_graph else tuple(inp.detach() for inp in inputs)
    return tuple(_grad_postprocess(inp, create_graph) for inp in inputs)


def _validate_v(v, other, is_other_tuple):
    if len(other) != len(v):
        if is_other_tuple:
            raise RuntimeError(f"v is a tuple of invalid length: should be {len(other)} but got {len(v)}.")
        raise RuntimeError("The given v should contain a single Tensor.")
    for idx, (el_v, el_other) in enumerate(zip(v, other)):
        if el_v.shape != el_other.shape:
            prepend = f"Entry {idx} in " if is_other_tuple else ""
            raise RuntimeError(
                f"{prepend}v has invalid size: should be {list(el_other.shape)} but got {list(el_v.shape)}."
            )


def _check_requires_grad(inputs, input_type, strict):
    if not strict:
        return
    for i, inp in enumerate(inputs):
        if inp is None:
            raise RuntimeError(
                f"The output of the user-provided function is independent of input {i}. This is not allowed in "
                "strict mode."
            )
        if not inp.requires_grad:
            if input_type == "hessian":
                raise RuntimeError(
                    f"The hessian of the user-provided function with respect to input {i} is independent of the "
                    "input. This is not allowed in strict mode. You should ensure that your function is thrice "
                    "differentiable and that the hessian depends on the inputs."
                )
            if input_type == "jacobian":
                raise RuntimeError(
                    "While computing the hessian, found that the jacobian of the user-provided function with "
                    f"respect to input {i} is independent of the input. This is not allowed in strict mode. You "
                    "should ensure that your function is twice differentiable and that the jacobian depends on "
                    "the inputs (this would be violated by a linear function for example)."
                )
            if input_type == "grad_inputs":
                raise RuntimeError(
                    f"The gradient with respect to input {i} is independent of the inputs of the user-provided "
                    "function. This is not allowed in strict mode."
                )
            raise RuntimeError(
                f"Output {i} of the user-provided function does not require gradients. The outputs must be "
                "computed in a differentiable manner from the input when running in strict mode."
            )


def _autograd_grad(outputs, inputs, grad_outputs=None, create_graph=False, retain_graph=None):
    """``grad`` over the outputs that require grad only; all None when none does."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    kept = [(o, g) for o, g in zip(outputs, grad_outputs) if o is not None and o.requires_grad]
    if not kept:
        return (None,) * len(inputs)
    return _grad(
        [o for o, _ in kept], inputs, [g for _, g in kept], retain_graph=retain_graph, create_graph=create_graph,
        allow_unused=True,
    )


_INDEPENDENT = {
    "back": "The output of the user-provided function is independent of input {i}. This is not allowed in strict "
            "mode.",
    "back_trick": "The gradient with respect to the input is independent of entry {i} in the grad_outputs when "
                  "using the double backward trick to compute forward mode gradients. This is not allowed in "
                  "strict mode.",
    "double_back": "The jacobian of the user-provided function is independent of input {i}. This is not allowed "
                   "in strict mode.",
    "double_back_trick": "The hessian of the user-provided function is independent of entry {i} in the "
                         "grad_jacobian. This is not allowed in strict mode as it prevents from using the double "
                         "backward trick to replace forward mode AD.",
}


def _fill_in_zeros(grads, refs, strict, stage):
    res = []
    for i, (g, ref) in enumerate(zip(grads, refs)):
        if g is None:
            if strict:
                raise RuntimeError(_INDEPENDENT[stage].format(i=i))
            g = _zeros_like(ref)
        res.append(g)
    return tuple(res)


def _zeros_like(t, requires_grad=False):
    return _make(np.zeros(t._data.shape, dtype=t._data.dtype), requires_grad)


class _StackRows(Function):
    """Stack equally shaped gradients into one Jacobian block of shape ``out_shape + in_shape``, differentiably."""

    @staticmethod
    def forward(ctx, shape, *rows):
        ctx.row_shape = rows[0]._data.shape
        return _make(np.stack([r._data for r in rows]).reshape(shape))

    @staticmethod
    def backward(ctx, grad):
        return (None,) + tuple(grad.reshape((-1,) + ctx.row_shape).unbind(0))


def _unit(out, k):
    data = np.zeros(out._data.size, dtype=out._data.dtype)
    data[k] = 1
    return _make(data.reshape(out._data.shape))


# -- public functions ------------------------------------------------------------------------------------------
def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """The vector-Jacobian product ``v^T J`` of ``func`` at ``inputs``.

    Args:
        func: takes Tensors, returns a Tensor or tuple of Tensors.
        inputs: a Tensor or tuple of Tensors.
        v: one Tensor per output, shaped like it (may be omitted when the output has a single element).
        create_graph: keep the results differentiable.
        strict: raise if an output does not depend on an input, instead of returning zeros.

    Returns:
        ``(func_output, vjp)``, ``vjp`` shaped like ``inputs`` (a Tensor or a tuple).

    Example::

        out, g = vjp(lambda x: x ** 2, nk.tensor([1.0, 2.0]), nk.tensor([1.0, 1.0]))   # g = [2., 4.]
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "vjp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "vjp")
        _check_requires_grad(outputs, "outputs", strict=strict)
        if v is not None:
            _, v = _as_tuple(v, "v", "vjp")
            v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
            _validate_v(v, outputs, is_outputs_tuple)
        elif len(outputs) != 1 or outputs[0].numel() != 1:
            raise RuntimeError(
                "The vector v can only be None if the user-provided function returns a single Tensor with a "
                f"single element. (It returned shapes {[list(o.shape) for o in outputs]}.)"
            )
    with set_grad_enabled(True if create_graph else recording()):
        grad_res = _autograd_grad(outputs, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, "back")
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return _tuple_postprocess(outputs, is_outputs_tuple), _tuple_postprocess(result, is_inputs_tuple)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """The Jacobian-vector product ``J v`` of ``func`` at ``inputs`` (by the double-backward trick).

    Args:
        v: one Tensor per input, shaped like it (may be omitted for a single one-element input).
        Others as for :func:`vjp`.

    Returns:
        ``(func_output, jvp)``, ``jvp`` shaped like the outputs.
    """
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jvp")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        if v is not None:
            _, v = _as_tuple(v, "v", "jvp")
            v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
            _validate_v(v, inputs, is_inputs_tuple)
        elif len(inputs) != 1 or inputs[0].numel() != 1:
            raise RuntimeError(
                "The vector v can only be None if the input to the user-provided function is a single Tensor "
                "with a single element."
            )
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "jvp")
        _check_requires_grad(outputs, "outputs", strict=strict)
        # The vjp is linear in its vector, so any finite value works here: it drops out of the derivative.
        grad_outputs = tuple(_zeros_like(out, requires_grad=True) for out in outputs)
        grad_inputs = _autograd_grad(outputs, inputs, grad_outputs, create_graph=True)
        _check_requires_grad(grad_inputs, "grad_inputs", strict=strict)
    with set_grad_enabled(True if create_graph else recording()):
        grad_res = _autograd_grad(grad_inputs, grad_outputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, outputs, strict, "back_trick")
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return _tuple_postprocess(outputs, is_outputs_tuple), _tuple_postprocess(result, is_outputs_tuple)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """The Jacobian of ``func`` at ``inputs``.

    Args:
        func: takes Tensors, returns a Tensor or tuple of Tensors.
        inputs: a Tensor or tuple of Tensors.
        create_graph: keep the Jacobian differentiable (for Hessians).
        strict: raise if an output does not depend on an input, instead of giving zeros.
        vectorize: accepted for PyTorch compatibility; rows are always computed one backward at a time.
        strategy: only ``"reverse-mode"`` (nnkit has no forward-mode AD).

    Returns:
        For output ``i`` and input ``j`` a Tensor of shape ``output_i.shape + input_j.shape``; a single Tensor
        for one input and one output, a tuple over inputs (or outputs), or a tuple of tuples
        ``result[i][j]`` when both are tuples.

    Example::

        jacobian(lambda x: x ** 3, nk.tensor([1.0, 2.0]))    # diag(3x^2) = [[3., 0.], [0., 12.]]
    """
    if strategy != "reverse-mode":
        raise ValueError(
            f'Expected strategy to be "reverse-mode", got {strategy!r} (nnkit has no forward-mode AD)'
        )
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "jacobian")
        _check_requires_grad(outputs, "outputs", strict=strict)
        result = []
        for i, out in enumerate(outputs):
            rows = [[] for _ in inputs]
            for k in range(out.numel()):
                vj = _autograd_grad((out,), inputs, (_unit(out, k),), retain_graph=True, create_graph=create_graph)
                for j, (g, inp) in enumerate(zip(vj, inputs)):
                    if g is None:
                        if strict:
                            raise RuntimeError(
                                f"Output {i} of the user-provided function is independent of input {j}. This is "
                                "not allowed in strict mode."
                            )
                        g = _zeros_like(inp)
                    elif strict and create_graph and not g.requires_grad:
                        raise RuntimeError(
                            f"The jacobian of the user-provided function is independent of input {j}. This is "
                            "not allowed in strict mode when create_graph=True."
                        )
                    rows[j].append(g)
            result.append(tuple(_block(out, inp, r) for inp, r in zip(inputs, rows)))
        result = _grad_postprocess(tuple(result), create_graph)
        return _tuple_postprocess(result, (is_outputs_tuple, is_inputs_tuple))


def _block(out, inp, rows):
    shape = out._data.shape + inp._data.shape
    if not rows:
        return _make(np.zeros(shape, dtype=inp._data.dtype))
    return _StackRows.apply(shape, *rows)


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    """The Hessian of the scalar function ``func`` at ``inputs``.

    Returns:
        For one input a Tensor of shape ``input.shape + input.shape``; for a tuple of inputs a tuple of
        tuples with ``result[i][j]`` of shape ``inputs[i].shape + inputs[j].shape``.

    Example::

        hessian(lambda x: (x ** 3).sum(), nk.tensor([1.0, 2.0]))    # diag(6x) = [[6., 0.], [0., 12.]]
    """
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def ensure_single_output_function(*inp):
        out = func(*inp)
        is_out_tuple, t_out = _as_tuple(out, "outputs of the user-provided function", "hessian")
        _check_requires_grad(t_out, "outputs", strict=strict)
        if is_out_tuple or not isinstance(out, Tensor):
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.numel() != 1:
            raise RuntimeError(
                "The Tensor returned by the function given to hessian should contain a single element "
                f"(it has shape {list(out.shape)}; reduce it, e.g. with .sum())"
            )
        return out.squeeze()

    def jac_func(*inp):
        jac = jacobian(ensure_single_output_function, inp, create_graph=True)
        _check_requires_grad(jac, "jacobian", strict=strict)
        return jac

    res = jacobian(jac_func, inputs, create_graph=create_graph, strict=strict, vectorize=vectorize,
                   strategy=outer_jacobian_strategy)
    return _tuple_postprocess(res, (is_inputs_tuple, is_inputs_tuple))


def _scalar_function_derivatives(func, inputs, v, create_graph, strict, name):
    """Shared start of vhp/hvp: (is_inputs_tuple, inputs, v, is_outputs_tuple, outputs, jacobian)."""
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", name)
    inputs = _grad_preprocess(inputs, create_graph=create_graph, need_graph=True)
    if v is not None:
        _, v = _as_tuple(v, "v", name)
        v = _grad_preprocess(v, create_graph=create_graph, need_graph=False)
        _validate_v(v, inputs, is_inputs_tuple)
    elif len(inputs) != 1 or inputs[0].numel() != 1:
        raise RuntimeError(
            "The vector v can only be None if the input to the user-provided function is a single Tensor with a "
            "single element."
        )
    outputs = func(*inputs)
    is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", name)
    _check_requires_grad(outputs, "outputs", strict=strict)
    if is_outputs_tuple or not isinstance(outputs[0], Tensor):
        raise RuntimeError(f"The function given to {name} should return a single Tensor")
    if outputs[0].numel() != 1:
        raise RuntimeError(f"The Tensor returned by the function given to {name} should contain a single element")
    jac = _autograd_grad(outputs, inputs, create_graph=True)
    _check_requires_grad(jac, "jacobian", strict=strict)
    return is_inputs_tuple, inputs, v, is_outputs_tuple, outputs, jac


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """The vector-Hessian product ``v^T H`` of the scalar function ``func`` at ``inputs``.

    Returns:
        ``(func_output, vhp)``, ``vhp`` shaped like ``inputs``.
    """
    with enable_grad():
        is_inputs_tuple, inputs, v, is_outputs_tuple, outputs, jac = _scalar_function_derivatives(
            func, inputs, v, create_graph, strict, "vhp"
        )
    with set_grad_enabled(True if create_graph else recording()):
        grad_res = _autograd_grad(jac, inputs, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, "double_back")
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return _tuple_postprocess(outputs, is_outputs_tuple), _tuple_postprocess(result, is_inputs_tuple)


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """The Hessian-vector product ``H v`` of the scalar function ``func`` at ``inputs`` (double-backward trick).

    Returns:
        ``(func_output, hvp)``, ``hvp`` shaped like ``inputs``.
    """
    with enable_grad():
        is_inputs_tuple, inputs, v, is_outputs_tuple, outputs, jac = _scalar_function_derivatives(
            func, inputs, v, create_graph, strict, "hvp"
        )
        grad_jac = tuple(_zeros_like(inp, requires_grad=True) for inp in inputs)
        double_back = _autograd_grad(jac, inputs, grad_jac, create_graph=True)
        _check_requires_grad(jac, "hessian", strict=strict)
    with set_grad_enabled(True if create_graph else recording()):
        grad_res = _autograd_grad(double_back, grad_jac, v, create_graph=create_graph)
        result = _fill_in_zeros(grad_res, inputs, strict, "double_back_trick")
    outputs = _grad_postprocess(outputs, create_graph)
    result = _grad_postprocess(result, create_graph)
    return _tuple_postprocess(outputs, is_outputs_tuple), _tuple_postprocess(result, is_inputs_tuple)
