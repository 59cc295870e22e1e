"""The shared op-test harness: one ``OpSpec`` per op (or variant) drives five checks.

- ``check_forward``: the nnkit result on float64 inputs matches the numpy reference; a float32 run keeps
  float32 outputs (and is close to the reference with float32 tolerances).
- ``check_gradcheck`` / ``check_gradgradcheck``: float64 finite-difference checks of first and second
  derivatives with respect to the differentiable inputs; ``grad_fn`` has the expected PyTorch name.
- ``check_no_grad``: nothing is recorded under ``no_grad()`` nor when no input requires grad.
- ``check_torch_parity``: same values, gradients (of ``sum(out * w)`` for fixed random ``w``), output dtypes
  and ``grad_fn`` names as PyTorch; skipped when torch is not installed or the spec has no ``torch_fn``.

Use in a test module::

    SPECS = [OpSpec("exp", lambda x: x.exp(), np.exp, lambda rng: [rng.standard_normal((3, 2))],
                    torch_fn=lambda x: x.exp(), grad_fn="ExpBackward0")]
    harness.make_tests(SPECS, globals())
"""

import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

import nnkit as nk
from nnkit.autograd.gradcheck import gradcheck, gradgradcheck
from nnkit.tensor import Tensor

__all__ = [
    "OpSpec", "check_forward", "check_gradcheck", "check_gradgradcheck", "check_no_grad", "check_torch_parity",
    "make_tests",
]


@dataclass
class OpSpec:
    """One op (or variant) under test; see the module docstring."""

    name: str  # test id, e.g. "sum_dim_keepdim"
    fn: Callable[..., Any]  # nnkit call on nnkit tensors
    ref: Callable[..., Any] | None  # numpy reference on float64 arrays (None: no forward check)
    make_inputs: Callable[[np.random.Generator], list]  # float64 arrays (int/bool arrays for index args)
    diff: tuple[int, ...] | None = None  # differentiable inputs (default: all floating inputs)
    torch_fn: Callable[..., Any] | None = None  # the same call in torch; None: no parity check
    grad_fn: str | None = None  # expected out.grad_fn.name()
    gradgrad: bool = True  # run gradgradcheck
    atol: float = 1e-6
    rtol: float = 1e-5
    float32: bool = True  # also run forward in float32 and check floating outputs stay float32


# -- inputs and outputs ----------------------------------------------------------------------------------------
def _arrays(spec):
    """The spec's inputs, from a generator seeded by the spec's name (stable across runs and orderings)."""
    rng = np.random.default_rng(zlib.crc32(spec.name.encode()))
    return [np.asarray(a) if isinstance(a, (np.ndarray, np.generic)) else a for a in spec.make_inputs(rng)]


def _is_float(a):
    return isinstance(a, np.ndarray) and a.dtype.kind == "f"


def _diff(spec, arrays):
    if spec.diff is not None:
        return tuple(spec.diff)
    return tuple(i for i, a in enumerate(arrays) if _is_float(a))


def _tensors(arrays, requires_grad=(), float_dtype=np.float64):
    """nnkit tensors (copies) of the array inputs; other inputs pass through unchanged."""
    out = []
    for i, a in enumerate(arrays):
        if isinstance(a, np.ndarray):
            t = nk.tensor(a.astype(float_dtype) if a.dtype.kind == "f" else a.copy())
            if i in requires_grad:
                t.requires_grad_(True)
            out.append(t)
        else:
            out.append(a)
    return out


def _outputs(result):
    return list(result) if isinstance(result, (tuple, list)) else [result]


def _tensor_outputs(result):
    return [o for o in _outputs(result) if isinstance(o, Tensor)]


def _first_grad_fn_name(outputs):
    for o in outputs:
        if isinstance(o, Tensor) and o.grad_fn is not None:
            return o.grad_fn.name()
    return None


# -- checks ------------------------------------------------------------------------------------------------------
def check_forward(spec):
    """nnkit on float64 inputs matches ``spec.ref``; a float32 run keeps float32 and stays close."""
    if spec.ref is None:
        pytest.skip("spec has no numpy reference")
    arrays = _arrays(spec)
    expected = _outputs(spec.ref(*[a.copy() if isinstance(a, np.ndarray) else a for a in arrays]))
    got = _tensor_outputs(spec.fn(*_tensors(arrays)))
    assert len(got) == len(expected), f"{spec.name}: {len(got)} outputs, reference gives {len(expected)}"
    for k, (o, e) in enumerate(zip(got, expected)):
        _assert_close(o._data, np.asarray(e), spec.atol, spec.rtol, f"{spec.name} output {k}")
    if not spec.float32 or not any(_is_float(a) for a in arrays):
        return
    got32 = _tensor_outputs(spec.fn(*_tensors(arrays, float_dtype=np.float32)))
    for k, (o, e, o64) in enumerate(zip(got32, expected, got)):
        if o64._data.dtype.kind != "f":
            assert o._data.dtype == o64._data.dtype, f"{spec.name} output {k}: dtype differs with float32 inputs"
            continue
        assert o._data.dtype == np.float32, (
            f"{spec.name} output {k}: float32 inputs gave a {o._data.dtype} output (float32 must stay float32)"
        )
        _assert_close(o._data, np.asarray(e), max(spec.atol, 1e-4), max(spec.rtol, 1e-3), f"{spec.name} float32")


def _assert_close(got, expected, atol, rtol, what):
    assert got.shape == expected.shape, f"{what}: shape {got.shape}, expected {expected.shape}"
    if got.dtype.kind in "fc" or expected.dtype.kind in "fc":
        np.testing.assert_allclose(got, expected, atol=atol, rtol=rtol, err_msg=what)
    else:
        np.testing.assert_array_equal(got, expected, err_msg=what)


def check_gradcheck(spec):
    """First derivatives match finite differences (float64); ``grad_fn`` is named as expected."""
    arrays = _arrays(spec)
    diff = _diff(spec, arrays)
    if not diff:
        pytest.skip("spec has no differentiable inputs")
    inputs = _tensors(arrays, diff)
    if spec.grad_fn is not None:
        name = _first_grad_fn_name(_outputs(spec.fn(*inputs)))
        assert name == spec.grad_fn, f"{spec.name}: grad_fn is {name}, expected {spec.grad_fn}"
    assert gradcheck(spec.fn, inputs)


def check_gradgradcheck(spec):
    """Second derivatives match finite differences of first derivatives (float64)."""
    if not spec.gradgrad:
        pytest.skip("spec.gradgrad is False")
    arrays = _arrays(spec)
    diff = _diff(spec, arrays)
    if not diff:
        pytest.skip("spec has no differentiable inputs")
    assert gradgradcheck(spec.fn, _tensors(arrays, diff))


def check_graph_mode_gradients(spec):
    """Backward formulas run on arrays without create_graph and on Tensors with it: both give the same."""
    arrays = _arrays(spec)
    diff = _diff(spec, arrays)
    if not diff:
        pytest.skip("spec has no differentiable inputs")
    rng = np.random.default_rng(7)
    results = []
    for create_graph in (False, True):
        inputs = _tensors(arrays, diff)
        outputs = [o for o in _tensor_outputs(spec.fn(*inputs)) if o.requires_grad]
        weights = [nk.tensor(rng.standard_normal(o.shape), dtype=o.dtype) for o in outputs]
        total = sum((o * w).sum() for o, w in zip(outputs, weights))
        grads = nk.autograd.grad(total, [inputs[i] for i in diff], create_graph=create_graph, allow_unused=True)
        results.append([None if g is None else g.detach().numpy() for g in grads])
        rng = np.random.default_rng(7)
    for k, (plain, recorded) in enumerate(zip(*results)):
        assert (plain is None) == (recorded is None), f"{spec.name}: input {k} gradient presence differs"
        if plain is not None:
            np.testing.assert_allclose(plain, recorded, rtol=1e-12, atol=1e-12, err_msg=f"{spec.name} input {k}")


def check_no_grad(spec):
    """No output records a graph under ``no_grad()``, nor in grad mode when no input requires grad."""
    arrays = _arrays(spec)
    diff = _diff(spec, arrays)
    with nk.no_grad():
        outputs = _tensor_outputs(spec.fn(*_tensors(arrays, diff)))
    _assert_unrecorded(outputs, f"{spec.name} under no_grad()")
    with nk.enable_grad():
        outputs = _tensor_outputs(spec.fn(*_tensors(arrays)))
    _assert_unrecorded(outputs, f"{spec.name} with no input requiring grad")


def _assert_unrecorded(outputs, what):
    for k, o in enumerate(outputs):
        assert o.grad_fn is None, f"{what}: output {k} has grad_fn {o.grad_fn.name()}"
        assert not o.requires_grad, f"{what}: output {k} requires grad"


def check_torch_parity(spec):
    """Values, output dtypes, gradients of ``sum(out * w)`` and grad_fn names match PyTorch (float64)."""
    torch = pytest.importorskip("torch")
    if spec.torch_fn is None:
        pytest.skip("spec has no torch_fn")
    arrays = _arrays(spec)
    diff = _diff(spec, arrays)
    ours_in = _tensors(arrays, diff)
    theirs_in = []
    for i, a in enumerate(arrays):
        if isinstance(a, np.ndarray):
            t = torch.from_numpy(a.copy())
            if i in diff:
                t.requires_grad_(True)
            theirs_in.append(t)
        else:
            theirs_in.append(a)
    ours = _tensor_outputs(spec.fn(*ours_in))
    theirs = [o for o in _outputs(spec.torch_fn(*theirs_in)) if isinstance(o, torch.Tensor)]
    assert len(ours) == len(theirs), f"{spec.name}: {len(ours)} outputs, torch gives {len(theirs)}"
    for k, (o, t) in enumerate(zip(ours, theirs)):
        t_data = t.detach().numpy()
        assert o._data.dtype == t_data.dtype, f"{spec.name} output {k}: dtype {o._data.dtype}, torch {t_data.dtype}"
        _assert_close(o._data, t_data, spec.atol, spec.rtol, f"{spec.name} output {k} vs torch")
        assert o.requires_grad == t.requires_grad, (
            f"{spec.name} output {k}: requires_grad {o.requires_grad}, torch {t.requires_grad}"
        )
    their_name = next((t.grad_fn.name() for t in theirs if t.grad_fn is not None), None)
    our_name = _first_grad_fn_name(ours)
    if spec.grad_fn is not None:
        assert their_name == spec.grad_fn, f"{spec.name}: torch's grad_fn is {their_name}, spec says {spec.grad_fn}"
        assert our_name == their_name, f"{spec.name}: grad_fn {our_name}, torch {their_name}"
    if not diff:
        return
    rng = np.random.default_rng(zlib.crc32(spec.name.encode()) + 1)
    pairs = [(o, t) for o, t in zip(ours, theirs) if o.requires_grad]
    if not pairs:
        return
    weights = [rng.standard_normal(o._data.shape) for o, _ in pairs]
    our_grads = nk.autograd.grad(
        [o for o, _ in pairs], [ours_in[i] for i in diff],
        grad_outputs=[nk.tensor(w.astype(o._data.dtype)) for w, (o, _) in zip(weights, pairs)], allow_unused=True,
    )
    their_grads = torch.autograd.grad(
        [t for _, t in pairs], [theirs_in[i] for i in diff],
        grad_outputs=[torch.from_numpy(w).to(t.dtype) for w, (_, t) in zip(weights, pairs)], allow_unused=True,
    )
    for i, g, h in zip(diff, our_grads, their_grads):
        shape = arrays[i].shape
        g = np.zeros(shape) if g is None else g._data
        h = np.zeros(shape) if h is None else h.numpy()
        _assert_close(g, h, spec.atol, spec.rtol, f"{spec.name} gradient of input {i} vs torch")


def make_tests(specs, namespace):
    """Define ``test_forward``, ``test_gradcheck``, ``test_gradgradcheck``, ``test_graph_mode_gradients``,
    ``test_no_grad`` and ``test_torch_parity`` in ``namespace`` (a test module's ``globals()``),
    parametrized over ``specs``."""
    names = [s.name for s in specs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert not duplicates, f"duplicate OpSpec names: {duplicates}"
    parametrize = pytest.mark.parametrize("spec", specs, ids=names)
    for test_name, check in (
        ("test_forward", check_forward),
        ("test_gradcheck", check_gradcheck),
        ("test_gradgradcheck", check_gradgradcheck),
        ("test_graph_mode_gradients", check_graph_mode_gradients),
        ("test_no_grad", check_no_grad),
        ("test_torch_parity", check_torch_parity),
    ):
        namespace[test_name] = parametrize(_test_function(test_name, check))


def _test_function(name, check):
    def test(spec):
        check(spec)

    test.__name__ = test.__qualname__ = name
    test.__doc__ = check.__doc__
    return test
