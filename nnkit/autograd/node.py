"""Backward graph nodes: ``Node``, ``AccumulateGrad``, saved tensors and version checks.

Every op that records itself creates one ``Node`` subclass instance named as in PyTorch (``MulBackward0``).
A node knows its inputs' producers through ``next_functions`` — ``((node, output_nr), ...)``, ``(None, 0)``
for an input that does not require grad, and an ``AccumulateGrad`` node for a leaf that does. Its
``backward(*grad_outputs)`` returns one gradient per entry of ``next_functions`` (None where not needed),
computed with Tensor ops so that ``create_graph=True`` records the backward pass itself.

Backward formulas run in one of two modes. Without ``create_graph`` (the common case) nodes whose class sets
``array_backward = True`` receive and return numpy arrays and ``saved()`` gives arrays: no Tensor is made per
backward op. With ``create_graph=True`` every node receives Tensors and records its own graph. A formula
serves both modes when written with operators and nnkit op functions, which accept arrays as well as Tensors.

Saved tensors: a saved input is kept as the input object itself; a saved output is kept as its array and
version counter and unpacked into a new Tensor that shares its storage, so that a node never references the
tensor whose ``grad_fn`` it is (no reference cycle). Each saved tensor's version is recorded when saved and
checked when unpacked, which catches in-place changes made in between.
"""

import weakref

from nnkit.autograd import anomaly
from nnkit.autograd.grad_mode import recording

__all__ = ["Node", "AccumulateGrad", "RemovableHandle", "saved_output"]

FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they have "
    "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
    "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or if "
    "you need to access saved tensors after calling backward."
)


def saved_output(tensor):
    """The record under which an op saves its own output: ``(array, version counter, output_nr, version)``.

    Not the output Tensor, which points back at the node through its ``grad_fn`` (that would be a reference
    cycle); a plain tuple, because one is made per recorded op that keeps its result. The version is the
    counter's value now (None for an inference tensor, which cannot be saved).
    """
    counter = tensor._counter
    return tensor._data, counter, tensor._output_nr, None if counter is None else counter[0]


NOTHING_SAVED = (None, None)  # what a binary op saves when neither operand is needed: shared, never unpacked


class RemovableHandle:
    """Returned by ``register_hook``-style calls; ``remove()`` unregisters the hook."""

    __slots__ = ("_hooks", "_hook")

    def __init__(self, hooks, hook):
        self._hooks = hooks
        self._hook = hook

    def remove(self):
        """Unregister the hook (a no-op when already removed)."""
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


class Node:
    """A backward function in the graph. Subclasses define ``backward(*grad_outputs)``.

    Attributes:
        next_functions: ``((node, output_nr), ...)``, one per differentiable input of the forward op (a
            property over ``_next``, the producer nodes, and ``_nrs``, their output numbers).
    """

    __slots__ = ("_next", "_nrs", "_uses", "_saved", "_versions", "_extra", "__weakref__")
    saved_names = ()  # names under which saved tensors are readable: "self" gives node._saved_self
    n_outputs = 1
    array_backward = False  # True: backward also runs on numpy arrays (see the module docstring)
    double_backward = True  # False: backward runs on arrays only, so create_graph=True cannot pass through

    def __init__(self, inputs):
        # The edges are kept as two flat tuples, the producer nodes (None for an input that needs no gradient)
        # and their output numbers (nearly always all 0: one shared tuple), not as PyTorch's tuple of pairs,
        # which ``next_functions`` builds on demand: one object per recorded op instead of three, and every
        # object a recorded op keeps alive is one more for Python's garbage collector to scan.
        # Unrolled for the one or two inputs of nearly every op: this runs once per recorded op.
        n = len(inputs)
        if n == 1:
            a = inputs[0]
            self._next = (_producer(a),)
            self._nrs = _ZEROS1 if a is None or not a._output_nr else _output_nrs(inputs)
        elif n == 2:
            a, b = inputs
            if b is None:  # an op with a number operand (one producer lookup, one check less)
                self._next = (_producer(a), None)
                self._nrs = _ZEROS2 if a is None or not a._output_nr else _output_nrs(inputs)
            else:
                self._next = (_producer(a), _producer(b))
                if (a is None or not a._output_nr) and not b._output_nr:
                    self._nrs = _ZEROS2
                else:
                    self._nrs = _output_nrs(inputs)
        elif n == 3:  # linear's (bias, input, weight), addcmul, where
            a, b, c = inputs
            self._next = (_producer(a), _producer(b), _producer(c))
            if (a is None or not a._output_nr) and (b is None or not b._output_nr) and (c is None or not c._output_nr):
                self._nrs = _ZEROS3
            else:
                self._nrs = _output_nrs(inputs)
        else:
            self._next = tuple([_producer(t) for t in inputs])
            self._nrs = _output_nrs(inputs)
        self._uses = 0  # edges made to this node by later ops: how many gradients backward may bring it
        self._saved = ()
        self._versions = ()
        self._extra = None
        if anomaly.enabled:
            self._set_extra("trace", anomaly.forward_trace())

    @property
    def next_functions(self):
        """``((node, output_nr), ...)``, one per differentiable input of the forward op; ``(None, 0)`` for an
        input that needs no gradient, an ``AccumulateGrad`` node for a leaf that does."""
        return tuple(zip(self._next, self._nrs))

    # -- saved tensors ------------------------------------------------------------------------------------
    def save(self, *tensors):
        """Keep ``tensors`` for backward: inputs as they are, outputs as ``saved_output`` records, None for an
        operand that was a scalar or whose grad is not needed."""
        versions = ()  # of the saved inputs (records carry their own); a tuple of ints, which the GC drops
        for t in tensors:
            if t is None:
                continue
            record = type(t) is tuple
            counter = t[1] if record else t._counter
            if counter is None:
                raise RuntimeError(
                    "Inference tensors cannot be saved for backward. To work around you can make a clone to get "
                    f"a normal tensor and use it in autograd. ({self.name()} tried to save a tensor created "
                    "under nnkit.inference_mode(); create it outside inference_mode or call .clone() on it.)"
                )
            if not record:
                versions += (counter[0],)
        self._saved = tensors
        self._versions = versions

    def save_result(self, out):
        """``save(saved_output(out))`` in one step, for the many ops whose derivative is written in their own
        output (exp, tanh, sigmoid, ...): it runs once per such op recorded."""
        counter = out._counter
        if counter is None:
            self.save(saved_output(out))  # raises: an inference tensor
        self._saved = ((out._data, counter, out._output_nr, counter[0]),)

    def saved(self, tensors=False):
        """The saved values, checked against in-place changes; RuntimeError once freed by backward.

        Arrays when this node runs in array mode (see the module docstring), else Tensors; ``tensors=True``
        always gives Tensors.
        """
        items = self._saved
        if items is None:
            raise RuntimeError(FREED_MESSAGE)
        if items is NOTHING_SAVED:
            return items
        arrays = not tensors and self.array_backward and not recording()
        if arrays and len(items) == 1 and type(items[0]) is tuple:  # one saved output (exp, tanh, ...)
            data, counter, _, version = items[0]
            if counter[0] != version:
                raise self._modified_error(items[0], counter[0], version)
            return (data,)
        out = []
        i = 0
        for item in items:  # runs for every node in backward: kept to the fewest steps (no zip)
            if item is not None:
                if type(item) is tuple:  # a saved output
                    counter = item[1]
                    if counter[0] != item[3]:
                        raise self._modified_error(item, counter[0], item[3])
                    item = item[0] if arrays else self._unpack(item)
                else:
                    counter = item._counter
                    if counter[0] != self._versions[i]:
                        raise self._modified_error(item, counter[0], self._versions[i])
                    i += 1
                    if arrays:
                        item = item._data
            out.append(item)
        return out

    def _unpack(self, item):
        """A Tensor for a saved output record: its storage and version counter, with this node as grad_fn."""
        data, counter, output_nr, _ = item
        value = _make(data, True, self)
        value._counter = counter
        value._output_nr = output_nr
        return value

    def _modified_error(self, item, current, version):
        if type(item) is tuple:
            data, _, output_nr, _ = item
            dtype, shape, role = data.dtype, data.shape, f"output {output_nr} of {self.name()}"
        else:
            dtype, shape, role = item.dtype, item.shape, f"an input saved by {self.name()}"
        return RuntimeError(
            "one of the variables needed for gradient computation has been modified by an inplace operation: "
            f"[{dtype} {list(shape)}], which is {role}, is at version {current}; expected version {version} "
            f"instead. Hint: the tensor was changed in place after {self.name()} saved it; use an out-of-place "
            "op (y = y + 1 instead of y += 1) or modify a .clone() of it."
        )

    def release(self):
        """Free the saved tensors (after backward without ``retain_graph``)."""
        if self._saved:
            self._saved = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # PyTorch's ``_saved_<name>`` accessors: one read-only property per name in the class's saved_names.
        # Made here, not by a __getattr__ fallback, because a class with __getattr__ sends every attribute
        # read of its instances down CPython's slow generic path (about 5x slower), and the engine and the
        # ops read node attributes many times per op.
        for i, name in enumerate(cls.__dict__.get("saved_names", ())):
            if "_saved_" + name not in cls.__dict__:
                setattr(cls, "_saved_" + name, property(_saved_getter(i), doc=f"The saved tensor {name!r}."))

    # -- hooks and metadata -------------------------------------------------------------------------------
    def _set_extra(self, key, value):
        if self._extra is None:
            self._extra = {}
        self._extra[key] = value

    def _hook_list(self, key):
        if self._extra is None:
            self._extra = {}
        return self._extra.setdefault(key, [])

    def register_prehook(self, fn):
        """Call ``fn(grad_outputs)`` before this node runs; a returned tuple replaces the gradients."""
        hooks = self._hook_list("prehooks")
        hooks.append(fn)
        return RemovableHandle(hooks, fn)

    def register_hook(self, fn):
        """Call ``fn(grad_inputs, grad_outputs)`` after this node runs; a returned tuple replaces grad_inputs."""
        hooks = self._hook_list("hooks")
        hooks.append(fn)
        return RemovableHandle(hooks, fn)

    @property
    def metadata(self):
        """A dict for user annotations (and the forward trace under anomaly detection)."""
        if self._extra is None:
            self._extra = {}
        return self._extra.setdefault("metadata", {})

    def name(self):
        """The node's name, as PyTorch names it (``AddBackward0``)."""
        return type(self).__name__

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"

    def backward(self, *grad_outputs):
        raise RuntimeError(f"{self.name()} has no backward formula")


class AccumulateGrad(Node):
    """The graph's end for a leaf tensor that requires grad: its gradient is summed into ``variable.grad``."""

    __slots__ = ("variable",)

    def __init__(self, variable):
        self._next = self._nrs = ()
        self._uses = LEAF_USES
        self._saved = ()
        self._versions = ()
        self._extra = None
        self.variable = variable


def _saved_getter(i):
    return lambda node: node.saved(tensors=True)[i]


# An AccumulateGrad node outlives one step's graph (the previous step's loss still holds it while the next
# forward runs), so counting its uses would overcount; the engine instead sums a leaf's gradients over the
# whole run and stores them once nothing else is left to run. This count never runs out.
LEAF_USES = 1 << 62
_ZEROS1, _ZEROS2, _ZEROS3 = (0,), (0, 0), (0, 0, 0)


def _producer(t):
    """The node an op input's gradient goes to: its producer, its AccumulateGrad, or None; counts the use."""
    if t is None or not t._requires_grad:
        return None
    node = t.grad_fn
    if node is None:
        return accumulator(t)
    node._uses += 1
    return node


def _output_nrs(inputs):
    """The output number of each input within its producer (0 for an input that needs no gradient)."""
    nrs = tuple([t._output_nr if t is not None and t._requires_grad else 0 for t in inputs])
    return nrs if any(nrs) else {1: _ZEROS1, 2: _ZEROS2, 3: _ZEROS3}.get(len(nrs), nrs)


def accumulator(leaf):
    """The one ``AccumulateGrad`` node of ``leaf``, shared by every op that uses the leaf while it lives."""
    ref = leaf._acc
    node = ref() if ref is not None else None
    if node is None:
        node = AccumulateGrad(leaf)
        leaf._acc = weakref.ref(node)
    return node


# Imported last: tensor.py's own imports reach this module, which must be complete by then.
from nnkit.tensor import _make  # noqa: E402
