"""Check analytical gradients against finite differences: ``gradcheck`` and ``gradgradcheck``.

Same semantics as ``torch.autograd.gradcheck``. The numerical Jacobian comes from central differences
``(f(x + eps) - f(x - eps)) / (2 eps)``, perturbing one element of one differentiable input at a time in place
(the array itself is written, so no graph or version change is recorded) and restoring it exactly. The
analytical Jacobian is built row by row with :func:`nnkit.autograd.grad`, one unit ``grad_output`` per output
element. Entries must satisfy ``|analytical - numerical| <= atol + rtol * |numerical|``.

Jacobians are laid out as PyTorch prints them: one per (differentiable output ``i``, differentiable input
``j``), of shape ``(input_j.numel(), output_i.numel())``. Inputs that require grad should be float64;
float32 inputs make ``eps=1e-6`` differences meaningless (a warning says so).
"""

import warnings

import numpy as np

from nnkit.autograd.engine import grad as _grad
from nnkit.tensor import Tensor, _make

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck``/``gradgradcheck`` when the analytical and numerical gradients disagree."""


FAST_FAIL_SLOW_OK_MSG = (
    "\nFast gradcheck failed but element-wise differences are small. This means that the test might've "
    "passed in slow_mode! If you are adding a new operator, run gradcheck with fast_mode=False to see the "
    "element-wise Jacobian comparison."
)


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _diff_outputs(outputs):
    return tuple(o for o in outputs if isinstance(o, Tensor) and o._requires_grad)


def _fmt(array):
    return "tensor(" + np.array2string(array, separator=", ", prefix="tensor(", precision=4) + ")"


def _shape(t):
    return list(t._data.shape)


def _check_inputs(inputs):
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t._requires_grad]
    if not diff:
        raise ValueError(
            "gradcheck expects at least one input tensor to require gradient, but none of the them have "
            "requires_grad=True. (Create the inputs with requires_grad=True, in float64.)"
        )
    for i in diff:
        data = inputs[i]._data
        if data.dtype != np.float64:
            warnings.warn(
                f"Input #{i} requires gradient and is not a double precision floating point or complex. This "
                f"check will likely fail if all the inputs are not of double precision floating point or "
                f"complex. (Input #{i} is {data.dtype} of shape {list(data.shape)}; create it with "
                "dtype=nnkit.float64 or call .double().)",
                UserWarning,
                stacklevel=3,
            )
        if any(s == 0 and n > 1 for s, n in zip(data.strides, data.shape)):
            raise RuntimeError(
                f"The {i}th input has a dimension with stride 0. gradcheck only supports inputs that are "
                "non-overlapping to be able to compute the numerical gradients correctly. You should call "
                ".contiguous on the input before passing it to gradcheck."
            )
    return diff


def _evaluate(func, inputs):
    """The outputs of ``func`` as float64 array copies (an output may alias an input being perturbed)."""
    return [
        o._data.astype(np.float64) if isinstance(o, Tensor) and o._data.dtype.kind == "f" else None
        for o in _as_tuple(func(*inputs))
    ]


def _numerical_jacobians(func, inputs, diff, eps):
    """For every differentiable input, a list (one per output) of (input numel, output numel) arrays."""
    base = _evaluate(func, inputs)
    result = []
    for j in diff:
        data = inputs[j]._data
        per_output = [None if b is None else np.zeros((data.size, b.size)) for b in base]
        for k, idx in enumerate(np.ndindex(data.shape)):
            orig = data[idx].copy()
            data[idx] = orig - eps
            minus = _evaluate(func, inputs)
            data[idx] = orig + eps
            plus = _evaluate(func, inputs)
            data[idx] = orig
            for jac, p, m in zip(per_output, plus, minus):
                if jac is not None:
                    jac[k] = ((p - m) / (2 * eps)).ravel()
        result.append(per_output)
    return result


def _vjp(output, diff_inputs, grad_output):
    return _grad(output, diff_inputs, grad_outputs=(grad_output,), retain_graph=True, allow_unused=True)


def _analytical_jacobian(output, diff_inputs, nondet_tol):
    """Jacobians of one output w.r.t. each differentiable input, plus (sizes_ok, reentrant, dtypes_ok)."""
    out_data = output._data
    jacobians = [np.zeros((t._data.size, out_data.size)) for t in diff_inputs]
    sizes_ok = reentrant = dtypes_ok = True
    for k, idx in enumerate(np.ndindex(out_data.shape)):
        unit = np.zeros(out_data.shape, dtype=out_data.dtype)
        unit[idx] = 1
        first = _vjp(output, diff_inputs, _make(unit))
        second = _vjp(output, diff_inputs, _make(unit.copy()))
        for j, (t, g1, g2) in enumerate(zip(diff_inputs, first, second)):
            if g1 is None:
                continue
            if g1._data.shape != t._data.shape:
                sizes_ok = False
                continue
            if g1._data.dtype != t._data.dtype:
                dtypes_ok = False
            if g2 is None or np.abs(g1._data - g2._data).max(initial=0.0) > nondet_tol:
                reentrant = False
            jacobians[j][:, k] = g1._data.ravel()
    return jacobians, sizes_ok, reentrant, dtypes_ok


def _mismatch_message(analytical, numerical, i, j, output, inp, atol, rtol):
    diff = np.abs(analytical - numerical)
    allowed = atol + rtol * np.abs(numerical)
    worst = np.unravel_index(np.argmax(diff - allowed), diff.shape)
    return (
        f"Jacobian mismatch for output {i} with respect to input {j},\n"
        f"numerical:{_fmt(numerical)}\nanalytical:{_fmt(analytical)}\n"
        f"(output {i} has shape {_shape(output)}, differentiable input {j} has shape {_shape(inp)} "
        f"[{inp._data.dtype}]; the worst entry is [input element {worst[0]}, output element {worst[1]}]: "
        f"numerical {numerical[worst]:.6g}, analytical {analytical[worst]:.6g}, |difference| "
        f"{diff[worst]:.3g} > atol + rtol * |numerical| = {allowed[worst]:.3g} with atol={atol}, rtol={rtol}. "
        "Check that op's backward formula for this input.)"
    )


def _fail(message, raise_exception):
    if raise_exception:
        raise GradcheckError(message)
    return False


def _slow_check(func, inputs, diff, outputs, eps, atol, rtol, nondet_tol, raise_exception):
    diff_inputs = [inputs[j] for j in diff]
    numerical = _numerical_jacobians(func, inputs, diff, eps)
    diff_outputs = [(i, o) for i, o in enumerate(outputs) if isinstance(o, Tensor) and o._requires_grad]
    if not diff_outputs:
        for per_input in numerical:
            for n in per_input:
                if n is not None and not np.allclose(n, 0.0, rtol=rtol, atol=atol):
                    return _fail(
                        "Numerical gradient for function expected to be zero (no output requires grad, yet "
                        "the outputs change when the inputs do: an op dropped the graph, e.g. through "
                        ".detach(), .numpy() or no_grad)",
                        raise_exception,
                    )
        return True
    for i, (pos, output) in enumerate(diff_outputs):
        analytical, sizes_ok, reentrant, _ = _analytical_jacobian(output, diff_inputs, nondet_tol)
        if not sizes_ok:
            return _fail(
                f"Analytical gradient has incorrect size (output {i} of shape {_shape(output)}: some backward "
                "returned a gradient whose shape differs from its input's)",
                raise_exception,
            )
        for j, (a, inp) in enumerate(zip(analytical, diff_inputs)):
            n = numerical[j][pos]
            if not np.allclose(a, n, rtol=rtol, atol=atol, equal_nan=False):
                return _fail(_mismatch_message(a, n, i, j, output, inp, atol, rtol), raise_exception)
        if not reentrant:
            return _fail(
                "Backward is not reentrant, i.e., running backward with same input and grad_output multiple "
                "times gives different values, although analytical gradient matches numerical gradient. The "
                f"tolerance for nondeterminism was {nondet_tol}. (Output {i} of shape {_shape(output)}.)",
                raise_exception,
            )
    # backward must scale by grad_output: a zero grad_output gives zero (or no) gradients.
    for i, (_, output) in enumerate(diff_outputs):
        zeros = _make(np.zeros(output._data.shape, dtype=output._data.dtype))
        for g in _vjp(output, diff_inputs, zeros):
            if g is not None and np.any(g._data != 0):
                return _fail(
                    f"backward not multiplied by grad_output (output {i} of shape {_shape(output)}: a zero "
                    "grad_output gave a nonzero gradient)",
                    raise_exception,
                )
    return True


def _fast_check(func, inputs, diff, outputs, eps, atol, rtol, nondet_tol, raise_exception):
    """PyTorch's fast mode: compare u^T J v for random unit vectors instead of the whole Jacobian."""
    rng = np.random.default_rng(0)
    diff_outputs = [(pos, o) for pos, o in enumerate(outputs) if isinstance(o, Tensor) and o._requires_grad]
    if not diff_outputs:
        return _slow_check(func, inputs, diff, outputs, eps, atol, rtol, nondet_tol, raise_exception)
    diff_inputs = [inputs[j] for j in diff]
    vs = [_unit(rng, t._data.shape) for t in diff_inputs]
    us = [_unit(rng, o._data.shape) for _, o in diff_outputs]
    for j, (t, v) in enumerate(zip(diff_inputs, vs)):
        data = t._data
        orig = data.copy()
        data[...] = orig - eps * v
        minus = _evaluate(func, inputs)
        data[...] = orig + eps * v
        plus = _evaluate(func, inputs)
        data[...] = orig
        for i, ((pos, output), u) in enumerate(zip(diff_outputs, us)):
            numerical = float(np.sum((plus[pos] - minus[pos]) / (2 * eps) * u))
            g = _vjp(output, diff_inputs, _make(u.astype(output._data.dtype)))[j]
            analytical = 0.0 if g is None else float(np.sum(g._data * v))
            tol = atol * float(u.sum()) * float(v.sum()) + rtol * abs(numerical)
            if not abs(analytical - numerical) <= tol:
                if _slow_check(func, inputs, diff, outputs, eps, atol, rtol, nondet_tol, False):
                    note = FAST_FAIL_SLOW_OK_MSG
                else:
                    try:
                        _slow_check(func, inputs, diff, outputs, eps, atol, rtol, nondet_tol, True)
                    except GradcheckError as err:
                        note = "\nThe slow-mode comparison gives:\n" + str(err)
                return _fail(
                    f"Jacobian mismatch for output {i} with respect to input {j},\n"
                    f"numerical:tensor({numerical:.6g})\nanalytical:tensor({analytical:.6g})\n\n"
                    "The above quantities relating the numerical and analytical jacobians are computed in fast "
                    "mode (u^T J v for random unit vectors u, v)." + note,
                    raise_exception,
                )
    return True


def _unit(rng, shape):
    v = rng.random(shape)
    norm = np.linalg.norm(v)
    return v / norm if norm > 0 else v


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, fast_mode=False):
    """Check the gradients of ``func`` at ``inputs`` against central finite differences.

    Args:
        func: takes the inputs, returns a Tensor or a tuple of Tensors (only outputs that require grad are
            checked; non-Tensor outputs are ignored).
        inputs: a Tensor or tuple of arguments; Tensors with ``requires_grad=True`` (float64 recommended) are
            differentiated, everything else is passed through unchanged.
        eps: finite-difference step.
        atol, rtol: an entry passes when ``|analytical - numerical| <= atol + rtol * |numerical|``.
        raise_exception: raise :class:`GradcheckError` on failure (else return False).
        nondet_tol: how much two backward passes with the same inputs may differ.
        check_undefined_grad: accepted for PyTorch compatibility. nnkit's only undefined gradients are those
            of the unused outputs of a multi-output node, which the per-output Jacobian rows exercise.
        fast_mode: compare ``u^T J v`` for random vectors instead of whole Jacobians (on failure the full
            comparison runs to explain it).

    Returns:
        True if all checks pass.

    Example::

        x = nk.randn(3, dtype=nk.float64, requires_grad=True)
        gradcheck(lambda t: (t * t).sin(), (x,))      # True
    """
    inputs = _as_tuple(inputs)
    diff = _check_inputs(inputs)
    outputs = _as_tuple(func(*inputs))
    check = _fast_check if fast_mode else _slow_check
    return check(func, inputs, diff, outputs, eps, atol, rtol, nondet_tol, raise_exception)


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, fast_mode=False):
    """Check second derivatives: ``gradcheck`` of the function ``(inputs, v) -> vjp(func, inputs, v)``.

    The vector-Jacobian product is computed with ``create_graph=True``, so this checks the backward of each
    op's backward, with respect to both the inputs and the ``grad_outputs`` vectors.

    Args:
        func, inputs, eps, atol, rtol, raise_exception, nondet_tol, fast_mode: as for :func:`gradcheck`.
        grad_outputs: one vector per differentiable output (default: uniform in [-1, 1), float64, from a
            fixed-seed generator, requiring grad).
        gen_non_contig_grad_outputs: make the random ``grad_outputs`` non-contiguous.
    """
    inputs = _as_tuple(inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(
            _random_grad_output(rng, o, gen_non_contig_grad_outputs) for o in _diff_outputs(_as_tuple(func(*inputs)))
        )
    else:
        grad_outputs = _as_tuple(grad_outputs)
    n_grads = len(grad_outputs)
    diff = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x._requires_grad]

    def first_derivatives(*args):
        outputs = _diff_outputs(_as_tuple(func(*args[: len(args) - n_grads])))
        vectors = args[len(args) - n_grads:]
        grads = _grad(outputs, [args[i] for i in diff], vectors, create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_derivatives, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, nondet_tol=nondet_tol,
                     check_undefined_grad=check_undefined_grad, fast_mode=fast_mode)


def _random_grad_output(rng, output, non_contiguous):
    data = output._data
    dtype = data.dtype if data.dtype.kind == "f" else np.float64
    if non_contiguous and data.ndim:
        values = rng.uniform(-1.0, 1.0, data.shape[:-1] + (2 * data.shape[-1],)).astype(dtype)[..., ::2]
    else:
        values = rng.uniform(-1.0, 1.0, data.shape).astype(dtype)
    return _make(values, requires_grad=True)
