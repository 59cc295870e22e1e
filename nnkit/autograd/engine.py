"""The backward engine: ``backward`` and ``grad`` over the recorded graph, without recursion.

A run needs, for each node, how many gradients will reach it. In the common case it takes that from the
count of consumers each node keeps as ops record (``Node._uses``) and walks nothing first; with ``inputs=``,
``create_graph``, anomaly detection, or when a run stalls on a consumer outside it, it (1) walks the graph
from the roots with an explicit stack, counting each node's incoming edges, and (2) when only some inputs are
wanted, keeps just the nodes that lead to them. It then (3) runs nodes from a ready stack once all gradients
reaching them have been summed, so each node runs once, in dependency order; a leaf's gradients are summed
over the whole run and stored once.
Grad mode during the run is ``create_graph``: off, backward formulas compute plain values; on, they record
a graph of their own, which gives higher-order derivatives. Saved tensors are freed as each node finishes
unless ``retain_graph``; gradients are dropped as soon as they are consumed.
"""

import numpy as np

from nnkit.autograd import anomaly
from nnkit.autograd.grad_mode import set_recording
from nnkit.autograd.node import AccumulateGrad, accumulator
from nnkit.tensor import Tensor, _make

__all__ = ["backward", "grad"]


def _as_tuple(x):
    if x is None:
        return None
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _root_grads(outputs, grad_outputs, who):
    """Validate outputs and make their starting gradients (ones for single-element outputs)."""
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(
            f"{who}: got {len(grad_outputs)} gradients for {len(outputs)} outputs; pass one per output"
        )
    roots, grads, fresh = [], [], set()
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not isinstance(out, Tensor):
            raise TypeError(f"{who}: outputs must be Tensors, got {type(out).__name__} at position {i}")
        if not out._requires_grad:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn. ({who} was "
                f"called on a tensor of shape {list(out.shape)} that is not part of any graph: make sure an "
                "input has requires_grad=True and that it was not computed under no_grad().)"
            )
        if g is None:
            if out._data.size != 1:
                raise RuntimeError(
                    "grad can be implicitly created only for scalar outputs. (The output has shape "
                    f"{list(out.shape)}: pass gradient= a tensor of that shape, or reduce it first, e.g. "
                    "out.sum().backward().)"
                )
            g = _make(_ones_like(out._data))
        else:
            if not isinstance(g, Tensor):
                raise TypeError(f"{who}: gradients must be Tensors, got {type(g).__name__} at position {i}")
            if g.shape != out.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {list(g.shape)} and output[{i}] has a "
                    f"shape of {list(out.shape)}."
                )
            if g._data.dtype != out._data.dtype:
                g = g.to(out.dtype)
        fresh.add(id(g._data))  # never store the caller's gradient array itself as somebody's .grad
        roots.append(_edge(out))
        grads.append(g)
    return roots, grads, fresh


def _values(grads, create_graph):
    """Root gradients as the engine's values: Tensors when recording, else arrays."""
    return list(grads) if create_graph else [g._data for g in grads]


def _ones_like(array):
    return np.ones(array.shape, dtype=array.dtype)


def _edge(t):
    return (t.grad_fn, t._output_nr) if t.grad_fn is not None else (accumulator(t), 0)


def _discover(roots, with_parents):
    """Count each reachable node's incoming edges; with ``with_parents``, also list the nodes they come from."""
    deps = {}
    stack = []
    for node, _ in roots:
        if node not in deps:
            deps[node] = 0
            stack.append(node)
    if with_parents:
        parents = {node: [] for node in deps}
        while stack:
            node = stack.pop()
            for child in node._next:
                if child is None:
                    continue
                if child in deps:
                    deps[child] += 1
                else:
                    deps[child] = 1
                    parents[child] = []
                    stack.append(child)
                parents[child].append(node)
        return deps, parents
    get = deps.get
    while stack:  # the same walk without parents: it runs on every backward, so it is kept lean
        node = stack.pop()
        for child in node._next:
            if child is not None:
                n = get(child)
                if n is None:
                    deps[child] = 1
                    stack.append(child)
                else:
                    deps[child] = n + 1
    return deps, None


def _needed(parents, targets):
    """The nodes from which some target node can be reached (targets included)."""
    needed = set()
    stack = [node for node, _ in targets if node in parents]
    while stack:
        node = stack.pop()
        if node in needed:
            continue
        needed.add(node)
        stack.extend(parents[node])
    return needed


def _store_grad(tensor, g, create_graph, stored):
    """Sum the gradient ``g`` (an array, or a Tensor under create_graph) into ``tensor.grad``, as PyTorch's
    AccumulateGrad does: the first gradient is kept as is when nothing else can see it, later ones are added
    in place (out of place when recording)."""
    old = tensor._grad
    if create_graph:
        tensor._grad = g if old is None else old + g
        return
    if old is None:
        # Keep the array only if nothing else can see it: not a view, writable, not given to another tensor.
        if g.base is not None or not g.flags.writeable or id(g) in stored:
            g = g.copy()
        stored.add(id(g))
        tensor._grad = _make(g)
    elif old._requires_grad or old._data.shape != g.shape:
        tensor._grad = _make(old._data + g)
    else:
        old._data += g


def _run_hooks(hooks, g, create_graph):
    """Apply tensor hooks (which see and return Tensors) to a gradient value."""
    t = g if create_graph else _make(g)
    for hook in hooks:
        result = hook(t)
        if result is not None:
            t = result
    return t if create_graph else t._data


class _Run:
    """The settings and bookkeeping of one backward run, for the per-node steps of the general path."""

    __slots__ = ("create_graph", "retain_graph", "anomaly", "stored", "needed", "target_set", "captured")

    def __init__(self, create_graph, retain_graph, stored):
        self.create_graph = create_graph
        self.retain_graph = retain_graph
        self.anomaly = anomaly.enabled
        self.stored = stored
        self.needed = None  # with targets: the nodes that lead to one
        self.target_set = ()
        self.captured = {}


def _execute(roots, root_grads, retain_graph, create_graph, targets, stored):
    """Run the graph; return {target edge: summed gradient value} for the target edges (if any).

    Gradient values are numpy arrays, or Tensors when ``create_graph`` (see nnkit.autograd.node).

    A node runs once, when all the gradients it will get have arrived, so the engine must know how many edges
    reach each node from the part of the graph that runs. The common case takes that from the consumer count
    every node keeps (``Node._uses``: one per edge made to it) and skips walking the graph first. That count
    can be too high: an edge from a computation that is not part of this backward (a discarded branch, a
    result used elsewhere) never delivers a gradient. Such a node keeps waiting; if the run stalls, the edges
    are counted by walking the graph, as PyTorch does for every run, and the run continues. The count is never
    too low, so no node runs early.
    """
    run = _Run(create_graph, retain_graph, stored)
    plain = not (create_graph or run.anomaly or targets is not None)
    deps = None  # node -> edges into it from the nodes that run; None: use Node._uses
    if not plain or any(node._uses for node, _ in roots):
        deps, parents = _discover(roots, targets is not None)
        if targets is not None:
            run.needed = _needed(parents, targets)
            run.target_set = set(targets)
            # Only the nodes that lead to a target take part: the rest are absent from deps, so never run.
            deps = {node: sum(1 for p in parents[node] if p in run.needed) for node in run.needed}

    # node -> [gradients still to come, the sum of its gradients so far, how many it expected] for a node
    # that waits for several. A sum is the gradient itself for a node with one output (nearly all), else a list
    # with a slot per output; None while only None gradients arrived.
    pending = {}
    ready = []
    from_roots = {}  # the root gradients count as one more incoming edge each
    for node, _ in roots:
        from_roots[node] = from_roots.get(node, 0) + 1
    for (node, nr), g in zip(roots, root_grads):
        if deps is None or node in deps:
            total = from_roots[node] + (0 if deps is None else deps[node])
            if _gather(pending, node, nr, g, total):
                ready.append((node, pending.pop(node)[1]))
    # The common case (no create_graph, anomaly detection or inputs=) runs a node without hooks by calling its
    # backward; everything else goes through _run_node. This loop runs once per node of the graph, so it
    # avoids per-node allocations and calls where it can (no zip, no *args, no dict entry for a node with a
    # single edge).
    release = not retain_graph
    pop, push = ready.pop, ready.append
    prev_enabled = set_recording(create_graph)
    errstate = np.errstate(all="ignore")  # inf/nan in gradients are values, not warnings (as in PyTorch)
    errstate.__enter__()
    try:
        while True:
            get = None if deps is None else deps.get
            while ready:
                node, grads = pop()
                if grads is None:  # every gradient reaching it was None: nothing to run, but its edges count
                    grads_in = (None,) * len(node._next)
                elif plain and node._extra is None and node.array_backward:
                    grads_in = node.backward(grads) if node.n_outputs == 1 else node.backward(*grads)
                    if release and node._saved:
                        node._saved = None
                elif plain and type(node) is AccumulateGrad and node._extra is None and (
                    node.variable._extra is None or "hooks" not in node.variable._extra
                ):
                    _store_grad(node.variable, grads, False, stored)
                    continue
                else:
                    grads_in = _run_node(node, [grads] if node.n_outputs == 1 else grads, run)
                i = -1
                for child in node._next:
                    i += 1
                    if child is None:  # an input that needs no gradient
                        continue
                    g = grads_in[i]
                    if get is None:
                        total = child._uses
                    else:
                        total = get(child)
                        if total is None:  # a node that leads to no wanted input
                            continue
                    if total == 1 and child.n_outputs == 1:
                        push((child, g))  # its only gradient: hand it straight on
                    elif _gather(pending, child, node._nrs[i], g, total):
                        push((child, pending.pop(child)[1]))
                grads = grads_in = g = None
            if not pending or deps is not None:
                break
            if all(type(node) is AccumulateGrad for node in pending):
                for node in list(pending):  # leaves: every gradient they get has arrived
                    push((node, pending.pop(node)[1]))
            else:
                deps = _recount(roots, pending, push)  # stalled: a consumer outside this run never delivered
    finally:
        set_recording(prev_enabled)
        errstate.__exit__(None, None, None)
    return run.captured


def _gather(pending, node, nr, g, total):
    """Add ``g``, the gradient of output ``nr`` of ``node`` (or None), to the node's pending sum; True when it
    was the last of the ``total`` gradients the node expects."""
    entry = pending.get(node)
    if entry is None:
        entry = pending[node] = [total, None, total]
    if g is not None:
        if node.n_outputs == 1:
            entry[1] = g if entry[1] is None else entry[1] + g
        else:
            if entry[1] is None:
                entry[1] = [None] * node.n_outputs
            slots = entry[1]
            slots[nr] = g if slots[nr] is None else slots[nr] + g
    entry[0] -= 1
    return entry[0] == 0


def _recount(roots, pending, push):
    """Count the edges into each node by walking the graph from the roots, correct the waiting nodes'
    counts for it, and push those that now have everything; returns the counts for the rest of the run."""
    deps, _ = _discover(roots, False)
    for node, entry in list(pending.items()):
        arrived = entry[2] - entry[0]
        entry[0] = deps[node] - arrived
        if entry[0] == 0:
            push((node, pending.pop(node)[1]))
    return deps


def _run_node(node, buf, run):
    """Run one node with everything the common case leaves out: hooks and retain_grad, capturing target
    gradients, AccumulateGrad, Tensor-only backward formulas, create_graph checks, anomaly detection.

    Returns one gradient per input edge of the node (``node.next_functions``).
    """
    create_graph = run.create_graph
    extra = node._extra
    if extra is not None:
        buf = _apply_prehooks(node, extra, buf, create_graph, run.stored)
    if run.target_set:
        for nr, g in enumerate(buf):
            if g is not None and (node, nr) in run.target_set:
                run.captured[(node, nr)] = g
    skip = (None,) * len(node._next)
    if type(node) is AccumulateGrad:
        if run.needed is None:
            var = node.variable
            g = buf[0]
            if var._extra is not None and "hooks" in var._extra:
                g = _run_hooks(var._extra["hooks"], g, create_graph)
            _store_grad(var, g, create_graph, run.stored)
        return skip
    if run.needed is not None and not any(child in run.needed for child in node._next):
        return skip  # a target whose own inputs are not wanted: its gradient is captured, nothing to run
    if create_graph and not node.double_backward:
        raise RuntimeError(
            f"{node.name()} cannot be differentiated twice in nnkit yet: create_graph=True "
            "(higher-order gradients) is not supported through this op. Compute first-order "
            "gradients only (create_graph=False), or express the op with differentiable ops."
        )
    if create_graph or node.array_backward:
        grads_in = node.backward(*buf)
    else:
        grads_in = _tensor_backward(node, buf)
    if extra is not None and "hooks" in extra:
        grads_in = _apply_posthooks(extra["hooks"], grads_in, buf, create_graph)
    if run.anomaly:
        anomaly.check_nan(node, grads_in)
    if node._saved and not run.retain_graph:
        node._saved = None
    return grads_in


def _tensor_backward(node, buf):
    """Run the backward of a node that only takes Tensors, in array mode: wrap, call, unwrap."""
    result = node.backward(*[None if g is None else _make(g) for g in buf])
    return [None if g is None else g._data for g in result]


def _apply_posthooks(hooks, grads_in, buf, create_graph):
    wrap = (lambda v: v) if create_graph else (lambda v: None if v is None else _make(v))
    inputs, outputs = tuple(wrap(g) for g in grads_in), tuple(wrap(g) for g in buf)
    for hook in hooks:
        result = hook(inputs, outputs)
        if result is not None:
            inputs = tuple(result)
    return [g if create_graph or g is None else g._data for g in inputs]


def _apply_prehooks(node, extra, buf, create_graph, stored):
    """Tensor hooks and retain_grad of the node's outputs, then the node's own pre-hooks."""
    tensor_hooks = extra.get("tensor_hooks")
    if tensor_hooks:
        for nr, hook in list(tensor_hooks):
            if buf[nr] is not None:
                buf[nr] = _run_hooks((hook,), buf[nr], create_graph)
    retained = extra.get("retained")
    if retained:
        for nr, ref in retained:
            t = ref()
            if t is not None and buf[nr] is not None:
                _store_grad(t, buf[nr], create_graph, stored)
    prehooks = extra.get("prehooks")
    if prehooks:
        wrap = (lambda v: v) if create_graph else (lambda v: None if v is None else _make(v))
        grads = tuple(wrap(g) for g in buf)
        for hook in prehooks:
            result = hook(grads)
            if result is not None:
                grads = tuple(result)
        buf = [g if create_graph or g is None else g._data for g in grads]
    return buf


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """Sum the gradients of ``tensors`` with respect to the graph's leaves into their ``.grad``.

    Args:
        tensors: a Tensor or sequence of Tensors to differentiate.
        grad_tensors: the gradient with respect to each tensor (the "vector" of the vector-Jacobian product);
            may be omitted for single-element tensors.
        retain_graph: keep saved tensors so backward can run again (defaults to ``create_graph``).
        create_graph: record the backward pass so the gradients can be differentiated again.
        inputs: if given, only these tensors get gradients accumulated into ``.grad`` (leaves or not).
    """
    tensors = _as_tuple(tensors)
    grad_tensors = _as_tuple(grad_tensors)
    if retain_graph is None:
        retain_graph = create_graph
    roots, grads, fresh = _root_grads(tensors, grad_tensors, "backward()")
    grads = _values(grads, create_graph)
    if inputs is None:
        _execute(roots, grads, retain_graph, create_graph, None, fresh)
        return
    inputs = _as_tuple(inputs)
    if not inputs:
        raise RuntimeError("backward(): inputs argument was passed but is empty; pass None or some tensors")
    for t in inputs:
        if not t._requires_grad:
            raise RuntimeError(
                f"One of the differentiated Tensors does not require grad (shape {list(t.shape)}); "
                "inputs= may only name tensors that require grad"
            )
    targets = [_edge(t) for t in inputs]
    captured = _execute(roots, grads, retain_graph, create_graph, targets, fresh)
    for t, edge in zip(inputs, targets):
        g = captured.get(edge)
        if g is not None:
            if t.grad_fn is None and t._extra is not None and "hooks" in t._extra:
                g = _run_hooks(t._extra["hooks"], g, create_graph)
            _store_grad(t, g, create_graph, fresh)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None,
         materialize_grads=False):
    """Return the gradients of ``outputs`` with respect to ``inputs``, leaving every ``.grad`` untouched.

    Args:
        outputs: Tensor or sequence of Tensors to differentiate.
        inputs: Tensor or sequence of Tensors (leaves or not) to differentiate with respect to.
        grad_outputs: the vector of the vector-Jacobian product, one per output (optional for scalars).
        retain_graph: keep the graph for another backward (defaults to ``create_graph``).
        create_graph: record the backward pass, so the result can be differentiated again (Hessian-vector
            products, gradient penalties).
        allow_unused: return None for an input the outputs do not depend on, instead of raising.
        materialize_grads: return zeros instead of None for unused inputs (implies ``allow_unused``).

    Returns:
        A tuple with one gradient (or None) per input.

    Example::

        x = nk.tensor(2.0, requires_grad=True)
        (g,) = nk.autograd.grad(x ** 3, x, create_graph=True)   # 3x^2 = 12
        (h,) = nk.autograd.grad(g, x)                            # 6x = 12
    """
    outputs = _as_tuple(outputs)
    inputs = _as_tuple(inputs)
    grad_outputs = _as_tuple(grad_outputs)
    if allow_unused is None:
        allow_unused = materialize_grads
    if retain_graph is None:
        retain_graph = create_graph
    for t in inputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"grad(): inputs must be Tensors, got {type(t).__name__}")
        if not t._requires_grad:
            raise RuntimeError(
                f"One of the differentiated Tensors does not require grad (shape {list(t.shape)}). Set "
                "requires_grad=True on it before computing the outputs."
            )
    roots, grads, fresh = _root_grads(outputs, grad_outputs, "grad()")
    grads = _values(grads, create_graph)
    targets = [_edge(t) for t in inputs]
    captured = _execute(roots, grads, retain_graph, create_graph, targets, fresh)
    result = []
    for t, edge in zip(inputs, targets):
        g = captured.get(edge)
        if g is not None:
            if t.grad_fn is None and t._extra is not None and "hooks" in t._extra:
                g = _run_hooks(t._extra["hooks"], g, create_graph)
            if not create_graph:
                g = _make(g)
        if g is None:
            if not allow_unused:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the graph. Set "
                    f"allow_unused=True if this is the desired behavior. (Input of shape {list(t.shape)} does "
                    "not reach the outputs.)"
                )
            if materialize_grads:
                g = _make(_zeros_like(t._data))
        result.append(g)
    return tuple(result)


def _zeros_like(array):
    return np.zeros(array.shape, dtype=array.dtype)
