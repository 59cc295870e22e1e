"""Custom differentiable operations: subclass :class:`Function`, as in PyTorch.

A subclass defines two static methods, ``forward(ctx, *args)`` (runs with grad mode off) and
``backward(ctx, *grad_outputs)`` (returns one gradient per forward argument), and is called through
``MyFn.apply(*args)``. Each subclass gets its own backward node class, ``f"{Name}Backward"``; the ``ctx``
passed to both methods IS that node, so attributes set on it in forward are there in backward, and
``out.grad_fn`` is the ctx. ``next_functions`` has one entry per Tensor argument, in order.

Saved tensors: ``ctx.save_for_backward`` keeps inputs as they are and outputs as ``saved_output`` records (no
reference cycle through ``grad_fn``); ``ctx.saved_tensors`` checks their versions against in-place changes and
raises once backward has freed them, like the built-in ops.
"""

import functools

import numpy as np

from nnkit.autograd.grad_mode import no_grad, recording
from nnkit.autograd.node import Node, saved_output
from nnkit.tensor import Tensor, _make, _view_of

__all__ = ["Function", "FunctionCtx", "BackwardCFunction", "once_differentiable"]


class FunctionCtx:
    """The ctx API; mixed into every custom Function's backward node (see :class:`BackwardCFunction`)."""

    __slots__ = ()

    def save_for_backward(self, *tensors):
        """Keep ``tensors`` (inputs, outputs, or None) for backward; read them with ``ctx.saved_tensors``.

        Call once, in ``forward`` (or ``setup_context``).
        """
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    f"save_for_backward can only save variables, but argument {i} is of type {type(t).__name__} "
                    "(keep non-tensor values as ctx attributes: ctx.k = k)"
                )
        self.to_save = tensors

    @property
    def saved_tensors(self):
        """The tensors given to ``save_for_backward``, checked against in-place changes since then."""
        return tuple(self.saved(tensors=True))

    def mark_non_differentiable(self, *tensors):
        """Declare outputs that have no gradient: they never require grad, and backward gets zeros for them."""
        self.non_differentiable = tuple(tensors)

    def mark_dirty(self, *tensors):
        """Declare the inputs that ``forward`` modified in place (they must also be returned as outputs)."""
        self.dirty_tensors = tuple(tensors)

    def set_materialize_grads(self, value):
        """With True (the default), gradients of outputs that got none arrive in backward as zeros, else None."""
        self.materialize_grads = bool(value)


class BackwardCFunction(FunctionCtx, Node):
    """Base of the per-Function backward node classes; it has a ``__dict__`` for user attributes on ctx."""

    _forward_cls = None
    materialize_grads = True
    to_save = ()
    non_differentiable = ()
    dirty_tensors = ()

    def __init__(self, inputs):
        Node.__init__(self, inputs)

    def apply(self, *grad_outputs):
        """Run the user's backward on ``grad_outputs`` (PyTorch's spelling of calling a node)."""
        return self.backward(*grad_outputs)

    def backward(self, *grad_outputs):
        if self.materialize_grads:
            grad_outputs = tuple(
                _make(np.zeros(*meta)) if g is None and meta is not None else g
                for g, meta in zip(grad_outputs, self.output_meta)
            )
        result = self._forward_cls.backward(self, *grad_outputs)
        if not isinstance(result, tuple):
            result = (result,)
        args = self.forward_args
        expected = len(args)
        if len(result) != expected:
            if len(result) > expected and all(g is None for g in result[expected:]):
                result = result[:expected]
            else:
                raise RuntimeError(
                    f"function {self.name()} returned an incorrect number of gradients (expected {expected}, got "
                    f"{len(result)}). (backward must return one value per argument of forward, None for "
                    "arguments that need no gradient.)"
                )
        grads = []
        for i, (g, meta) in enumerate(zip(result, args)):
            if meta is None:  # the forward argument was not a Tensor
                if g is not None:
                    raise RuntimeError(
                        f"function {self.name()} returned a gradient different than None at position {i + 1}, but "
                        "the corresponding forward input was not a Variable"
                    )
                continue
            if g is not None:
                g = self._check_grad(i, g, meta)
            grads.append(g)
        return tuple(grads)

    def _check_grad(self, i, g, meta):
        shape, dtype = meta
        if not isinstance(g, Tensor):
            raise TypeError(
                f"function {self.name()} returned a {type(g).__name__} as the gradient at index {i}; gradients "
                "must be Tensors (or None)"
            )
        gshape = g._data.shape
        if gshape != shape:
            try:
                fits = np.broadcast_shapes(shape, gshape) == gshape
            except ValueError:
                fits = False
            if not fits:
                raise RuntimeError(
                    f"Function {self.name()} returned an invalid gradient at index {i} - got {list(gshape)} but "
                    f"expected shape compatible with {list(shape)} (the gradient of forward argument {i} must have "
                    "that argument's shape)"
                )
            g = _reduce_to(g, shape)
        if g._data.dtype != dtype:
            g = g.to(dtype)
        return g


def _reduce_to(g, shape):
    """Sum a gradient over the dimensions that broadcasting ``shape`` to ``g.shape`` added or stretched."""
    lead = g._data.ndim - len(shape)
    if lead:
        g = g.sum(tuple(range(lead)))
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and g._data.shape[i] != 1)
    return g.sum(stretched, keepdim=True) if stretched else g


class Function:
    """Base class of custom differentiable operations.

    Example::

        class Exp(nk.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                result = x.exp()
                ctx.save_for_backward(result)
                return result

            @staticmethod
            def backward(ctx, grad):
                (result,) = ctx.saved_tensors
                return grad * result

        y = Exp.apply(x)         # y.grad_fn.name() == "ExpBackward"

    ``forward`` runs under ``no_grad``; it may return a Tensor or a tuple. ``backward`` gets one gradient per
    output and returns one per forward argument (None for non-Tensor arguments and inputs that need no
    gradient; ``ctx.needs_input_grad[i]`` says which are needed). Instead of taking ``ctx``, ``forward`` may
    take only the arguments when the class defines ``setup_context(ctx, inputs, output)``.
    """

    _backward_cls = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._backward_cls = type(
            f"{cls.__name__}Backward", (BackwardCFunction,), {"_forward_cls": cls, "__module__": cls.__module__}
        )

    def __init__(self, *args, **kwargs):
        raise RuntimeError(
            f"{type(self).__name__}: custom Functions are not instantiated; call {type(self).__name__}.apply(...) "
            "with static forward/backward methods"
        )

    @staticmethod
    def forward(ctx, *args, **kwargs):
        """Compute the outputs from the arguments (override; runs under no_grad)."""
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        """Optional: save what backward needs when ``forward`` does not take ``ctx``."""
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        """Return the gradient of each forward argument given each output's gradient (override)."""
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom autograd.Function to use it "
            "with backward mode AD."
        )

    @classmethod
    def apply(cls, *args, **kwargs):
        """Run ``forward`` on ``args`` and, if an input Tensor requires grad, record the node for backward."""
        if cls._backward_cls is None:
            raise RuntimeError("apply() must be called on a subclass of Function")
        tensors = [a for a in args if isinstance(a, Tensor)]
        ctx = cls._backward_cls(tensors)
        ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a._requires_grad for a in args)
        ctx.forward_args = tuple((a._data.shape, a._data.dtype) if isinstance(a, Tensor) else None for a in args)
        record = recording() and any(t._requires_grad for t in tensors)
        custom_setup = cls.setup_context is not Function.setup_context
        with no_grad():
            if custom_setup:
                output = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, output)
            else:
                output = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(output, tuple)
        outputs = (output,) if single else output
        outputs = _wrap_outputs(ctx, tensors, outputs, record)
        return outputs[0] if single else outputs


def _wrap_outputs(ctx, inputs, outputs, record):
    """Give the outputs their grad_fn (when recording) and store what backward needs; returns the outputs."""
    input_ids = {id(t) for t in inputs}
    dirty = {id(t) for t in ctx.dirty_tensors}
    non_diff = {id(t) for t in ctx.non_differentiable}
    result = []
    meta = []
    for i, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            result.append(out)
            meta.append(None)
            continue
        key = id(out)
        if key in input_ids and key not in dirty:
            # Returned unchanged: hand back a new Tensor over the same storage, keeping the input's own history.
            out = _view_of(out, out._data.view())
        differentiable = record and key not in non_diff and out._data.dtype.kind == "f"
        if differentiable:
            if key in dirty and out.grad_fn is None and out._requires_grad:
                raise RuntimeError(
                    "a leaf Variable that requires grad is being used in an in-place operation. (The custom "
                    f"Function {ctx.name()} marked a leaf input as dirty; pass a clone of it instead.)"
                )
            out._requires_grad = True
            out.grad_fn = ctx
            out._output_nr = i
        elif key in dirty and record:
            out._requires_grad = False
            out.grad_fn = None
        meta.append((out._data.shape, out._data.dtype))
        result.append(out)
    ctx.n_outputs = len(outputs)
    ctx.output_meta = tuple(meta)
    to_save = ctx.__dict__.pop("to_save", ())
    if record:
        # Outputs that carry this node are saved as saved_output records: no cycle through their grad_fn.
        own = {id(o) for o in result if isinstance(o, Tensor) and o.grad_fn is ctx}
        ctx.save(*(saved_output(t) if t is not None and id(t) in own else t for t in to_save))
    return tuple(result)


class DelayedError(Node):
    """Stands in for a backward that ran under ``once_differentiable``: differentiating it again raises."""

    def __init__(self, inputs, n_outputs):
        Node.__init__(self, inputs)
        self.n_outputs = n_outputs

    def backward(self, *grad_outputs):
        raise RuntimeError("trying to differentiate twice a function that was marked with @once_differentiable")


def once_differentiable(backward):
    """Decorate a Function's ``backward`` that is not itself differentiable (e.g. it uses numpy directly).

    The backward runs under ``no_grad``; if a graph is being recorded (``create_graph=True``), its results are
    connected to a node that raises when differentiated, instead of silently giving wrong second derivatives.
    """

    @functools.wraps(backward)
    def wrapper(ctx, *args):
        with no_grad():
            result = backward(ctx, *args)
        if not recording():
            return result
        grads = [a for a in args if isinstance(a, Tensor) and a._requires_grad]
        if not grads:
            return result
        single = not isinstance(result, tuple)
        results = (result,) if single else result
        node = DelayedError(grads, len(results))
        wrapped = []
        for i, r in enumerate(results):
            if isinstance(r, Tensor):
                r = _view_of(r, r._data.view())
                r._requires_grad = True
                r.grad_fn = node
                r._output_nr = i
            wrapped.append(r)
        return wrapped[0] if single else tuple(wrapped)

    return wrapper
