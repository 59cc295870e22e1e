"""Autograd semantics as PyTorch defines them: requires_grad and leaves, grad_fn names and the graph's structure,
saved tensors (and the absence of reference cycles), ``Tensor.backward`` and anomaly detection."""

import gc
import re
import warnings
import weakref

import numpy as np
import pytest

import nnkit as nk


def arr(t):
    """The values of ``t`` as a numpy array (without touching its graph)."""
    return t.detach().numpy()


def leaf(values, dtype=nk.float32):
    return nk.tensor(values, dtype=dtype, requires_grad=True)


# -- requires_grad, leaves, grad_fn ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "make",
    [
        lambda: nk.tensor([1.0, 2.0]),
        lambda: nk.tensor(3.0),
        lambda: nk.zeros(2),
        lambda: nk.ones(2, 3),
        lambda: nk.full((2,), 1.5),
        lambda: nk.empty(2),
        lambda: nk.rand(2),
        lambda: nk.randn(2),
        lambda: nk.arange(3.0),
        lambda: nk.linspace(0, 1, 3),
        lambda: nk.eye(2),
        lambda: nk.zeros_like(nk.ones(2, requires_grad=True)),
        lambda: nk.from_numpy(np.ones(2)),
    ],
    ids=["tensor", "tensor0d", "zeros", "ones", "full", "empty", "rand", "randn", "arange", "linspace", "eye",
         "zeros_like", "from_numpy"],
)
def test_requires_grad_defaults_to_false(make):
    t = make()
    assert t.requires_grad is False
    assert t.grad_fn is None
    assert t.is_leaf is True
    assert t.grad is None


def test_requires_grad_keyword_makes_a_leaf_that_requires_grad():
    for t in (nk.tensor([1.0]), nk.zeros(2), nk.ones(2), nk.randn(2), nk.full((2,), 2.0), nk.eye(2)):
        assert t.requires_grad is False
    for t in (leaf([1.0]), nk.zeros(2, requires_grad=True), nk.randn(2, requires_grad=True),
              nk.full((2,), 2.0, requires_grad=True), nk.eye(2, requires_grad=True)):
        assert t.requires_grad is True and t.is_leaf and t.grad_fn is None and t.grad is None


@pytest.mark.parametrize("a_rg, b_rg", [(False, False), (True, False), (False, True), (True, True)])
def test_output_requires_grad_iff_an_input_does(a_rg, b_rg):
    a = nk.tensor([1.0, 2.0], requires_grad=a_rg)
    b = nk.tensor([3.0, 4.0], requires_grad=b_rg)
    for out in (a + b, a * b, a - b, a / b, (a * b).exp()):
        assert out.requires_grad is (a_rg or b_rg)
        assert (out.grad_fn is not None) is (a_rg or b_rg)
        assert out.is_leaf is not (a_rg or b_rg)


def test_unrecorded_result_is_a_leaf_without_grad_fn():
    out = nk.ones(2) * 3 + 1
    assert out.is_leaf and out.grad_fn is None and not out.requires_grad


def test_leaves_have_no_grad_fn_and_results_do():
    x = leaf([1.0, 2.0])
    y = x * 2
    assert x.is_leaf and x.grad_fn is None
    assert not y.is_leaf and y.grad_fn is not None and y.requires_grad


def test_requires_grad_underscore_sets_the_flag_and_returns_self():
    t = nk.ones(3)
    assert t.requires_grad_() is t
    assert t.requires_grad is True and t.is_leaf
    assert t.requires_grad_(False) is t
    assert t.requires_grad is False
    t.requires_grad = True
    assert t.requires_grad is True
    t.requires_grad = False
    assert t.requires_grad is False


def test_requires_grad_underscore_true_on_a_non_leaf_is_allowed():
    y = leaf([1.0]) * 2
    assert y.requires_grad_(True) is y
    assert y.requires_grad and y.grad_fn is not None


def test_requires_grad_false_on_a_non_leaf_raises():
    y = leaf([1.0]) * 2
    with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf variables"):
        y.requires_grad_(False)
    with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf variables"):
        y.requires_grad = False
    assert y.requires_grad and y.grad_fn is not None


def test_assigning_requires_grad_true_on_a_non_leaf_raises():
    # PyTorch: the attribute setter refuses any change on a non-leaf (only requires_grad_(True) is a no-op).
    y = leaf([1.0]) * 2
    with pytest.raises(RuntimeError, match="you can only change requires_grad flags of leaf variables"):
        y.requires_grad = True


@pytest.mark.parametrize(
    "make",
    [
        lambda: nk.tensor([1, 2], requires_grad=True),
        lambda: nk.tensor([1, 2]).requires_grad_(),
        lambda: nk.tensor([True, False]).requires_grad_(),
        lambda: nk.zeros(2, dtype=nk.int64, requires_grad=True),
        lambda: nk.arange(3, requires_grad=True),
    ],
    ids=["tensor_kw", "requires_grad_", "bool", "zeros_int64", "arange_int"],
)
def test_integer_and_bool_tensors_cannot_require_grad(make):
    with pytest.raises(RuntimeError, match="[Oo]nly Tensors of floating point"):
        make()


def test_retain_grad_fills_grad_of_a_non_leaf():
    x = leaf([1.0, 2.0])
    y = x * 3
    y.retain_grad()
    assert y.retains_grad and not x.retains_grad
    out = y * y
    out.backward(nk.ones(2))
    np.testing.assert_allclose(arr(y.grad), [6.0, 12.0])  # d(y^2)/dy = 2y
    np.testing.assert_allclose(arr(x.grad), [18.0, 36.0])  # 2y * 3
    assert out.grad_fn is not None and not out.retains_grad


def test_retain_grad_on_a_leaf_is_a_no_op_and_without_requires_grad_raises():
    x = leaf([1.0])
    assert x.retain_grad() is None
    assert x.retains_grad is False
    with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has requires_grad=False"):
        nk.ones(2).retain_grad()


def test_reading_grad_of_a_non_leaf_warns_and_gives_none():
    y = leaf([1.0, 2.0]) * 2
    with pytest.warns(UserWarning, match="is not a leaf Tensor is being accessed"):
        assert y.grad is None
    y.backward(nk.ones(2))
    with pytest.warns(UserWarning, match="retain_grad"):
        assert y.grad is None


def test_reading_grad_of_leaves_and_retained_tensors_does_not_warn():
    x = leaf([1.0])
    y = x * 2
    y.retain_grad()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert x.grad is None
        assert nk.ones(2).grad is None
        assert y.grad is None
        y.backward()
        np.testing.assert_allclose(arr(y.grad), [1.0])


# -- grad_fn names and graph structure ----------------------------------------------------------------------------
GRAD_FN_NAMES = [
    ("AddBackward0", lambda x, y: x + y),
    ("AddBackward0", lambda x, y: x + 2),
    ("MulBackward0", lambda x, y: x * y),
    ("MulBackward0", lambda x, y: x * 2),
    ("SubBackward0", lambda x, y: x - y),
    ("RsubBackward1", lambda x, y: 1 - x),
    ("DivBackward0", lambda x, y: x / y),
    ("DivBackward0", lambda x, y: x / 2),
    ("NegBackward0", lambda x, y: -x),
    ("PowBackward0", lambda x, y: x**2),
    ("PowBackward1", lambda x, y: x**y),
    ("PowBackward2", lambda x, y: 2**x),
    ("ExpBackward0", lambda x, y: x.exp()),
    ("TanhBackward0", lambda x, y: x.tanh()),
    ("SigmoidBackward0", lambda x, y: x.sigmoid()),
    ("ReluBackward0", lambda x, y: x.relu()),
    ("SqrtBackward0", lambda x, y: x.sqrt()),
    ("LogBackward0", lambda x, y: x.log()),
    ("AbsBackward0", lambda x, y: x.abs()),
    ("CloneBackward0", lambda x, y: x.clone()),
    ("SumBackward0", lambda x, y: x.sum()),
    ("SumBackward1", lambda x, y: x.sum(0)),
    ("MeanBackward0", lambda x, y: x.mean()),
    ("MmBackward0", lambda x, y: x.mm(y)),
    ("MmBackward0", lambda x, y: x @ y),
    ("ViewBackward0", lambda x, y: x.view(4)),
    ("ViewBackward0", lambda x, y: x.reshape(4)),
    ("SelectBackward0", lambda x, y: x[0]),
    ("TBackward0", lambda x, y: x.t()),
]


@pytest.mark.parametrize("name, fn", GRAD_FN_NAMES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(GRAD_FN_NAMES)])
def test_grad_fn_names_match_pytorch(name, fn):
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    y = leaf([[0.5, 1.5], [2.5, 3.5]])
    out = fn(x, y)
    assert out.grad_fn.name() == name
    assert type(out.grad_fn).__name__ == name
    assert re.fullmatch(rf"<{name} object at 0x[0-9a-f]+>", repr(out.grad_fn))


def test_next_functions_point_to_accumulate_grad_and_none():
    x = leaf([1.0, 2.0])
    c = nk.tensor([3.0, 4.0])
    z = x * c
    nf = z.grad_fn.next_functions
    assert isinstance(nf, tuple) and len(nf) == 2
    acc, nr = nf[0]
    assert nr == 0
    assert type(acc).__name__ == "AccumulateGrad" and acc.name() == "AccumulateGrad"
    assert acc.variable is x
    assert acc.next_functions == ()
    assert nf[1] == (None, 0)


def test_scalar_operands_get_none_edges():
    x = leaf([1.0, 2.0])
    for out in (x + 2, x * 2, x - 1.5, x / 4):
        nf = out.grad_fn.next_functions
        assert len(nf) == 2
        assert nf[0][0].variable is x
        assert nf[1] == (None, 0)


def test_reflected_scalar_ops_put_the_tensor_edge_first():
    # PyTorch computes 2 * x as x.mul(2) and 2 + x as x.add(2); 1 - x is rsub(x, 1) with a single edge.
    x = leaf([1.0, 2.0])
    for out in (2 * x, 2 + x):
        nf = out.grad_fn.next_functions
        assert nf[0][0] is not None and nf[0][0].variable is x
        assert nf[1] == (None, 0)
    nf = (1 - x).grad_fn.next_functions
    assert len(nf) == 1 and nf[0][0].variable is x


def test_next_functions_chain_through_intermediate_nodes():
    x = leaf([1.0, 2.0])
    y = x.exp()
    z = y.tanh()
    assert z.grad_fn.next_functions == ((y.grad_fn, 0),)
    assert y.grad_fn.next_functions[0][0].variable is x


def test_two_ops_on_one_leaf_share_its_accumulate_grad():
    x = leaf([1.0, 2.0])
    a = x * 2
    b = x.exp()
    acc_a = a.grad_fn.next_functions[0][0]
    acc_b = b.grad_fn.next_functions[0][0]
    assert acc_a is acc_b
    assert acc_a.variable is x
    d = x + a  # the same leaf again, and a non-leaf
    assert d.grad_fn.next_functions == ((acc_a, 0), (a.grad_fn, 0))


def test_next_functions_of_multi_output_node_carry_output_indices():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    a, b = x.unbind(0)
    assert a.output_nr == 0 and b.output_nr == 1
    out = a * b
    (node0, nr0), (node1, nr1) = out.grad_fn.next_functions
    assert node0 is node1 is a.grad_fn
    assert (nr0, nr1) == (0, 1)
    assert node0.name() == "UnbindBackward0"


def test_next_functions_of_an_input_not_requiring_grad_is_none_even_if_computed():
    x = leaf([1.0, 2.0])
    c = nk.tensor([0.5, 1.0]).exp()  # a computed tensor that needs no grad: no graph behind it
    assert c.grad_fn is None
    out = x * c
    assert out.grad_fn.next_functions[1] == (None, 0)


# -- saved tensors ------------------------------------------------------------------------------------------------
def test_saved_self_is_the_input_object():
    x = nk.randn(5, requires_grad=True)
    y = x.pow(2)
    assert x.equal(y.grad_fn._saved_self)
    assert x is y.grad_fn._saved_self


def test_saved_result_equals_the_output_but_is_another_object_on_the_same_storage():
    x = nk.randn(5, requires_grad=True)
    y = x.exp()
    saved = y.grad_fn._saved_result
    assert y.equal(saved)
    assert saved is not y
    assert saved.data_ptr() == y.data_ptr()
    assert saved.shape == y.shape and saved.dtype == y.dtype


def test_unknown_saved_attribute_raises_attribute_error():
    y = nk.randn(3, requires_grad=True).exp()
    with pytest.raises(AttributeError):
        y.grad_fn._saved_nothing_like_this  # noqa: B018


def test_saved_tensors_are_freed_by_backward():
    x = nk.randn(3, requires_grad=True)
    y = x.exp()
    y.backward(nk.ones(3))
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.grad_fn._saved_result  # noqa: B018


def test_an_output_dies_when_dropped_even_with_gc_disabled():
    x = nk.randn(5, requires_grad=True)
    gc.collect()
    gc.disable()
    try:
        y = x.exp()  # saves its own output
        assert y.grad_fn._saved_result.equal(y)
        y_ref = weakref.ref(y)
        node_ref = weakref.ref(y.grad_fn)
        del y
        assert y_ref() is None, "the output is kept alive by a reference cycle"
        assert node_ref() is None, "the node is kept alive by a reference cycle"
    finally:
        gc.enable()


def test_a_dropped_graph_leaves_no_cyclic_garbage():
    x = nk.randn(4, requires_grad=True)
    w = nk.randn(4, requires_grad=True)
    gc.collect()
    gc.disable()
    try:
        h = (x * w).exp()
        h.retain_grad()
        out = (h.tanh() * h + x.sigmoid()) ** 2
        out.backward(nk.ones(4), retain_graph=True)
        out.backward(nk.ones(4))
        refs = [weakref.ref(t) for t in (h, out)] + [weakref.ref(t.grad_fn) for t in (h, out)]
        del h, out
        assert [r() for r in refs] == [None] * 4
        found = gc.collect()
    finally:
        gc.enable()
    assert found == 0, f"gc found {found} unreachable objects in cycles"


def test_a_leaf_is_not_kept_alive_by_its_accumulate_grad():
    gc.collect()
    gc.disable()
    try:
        x = nk.randn(3, requires_grad=True)
        y = x * 2
        x_ref = weakref.ref(x)
        del x, y
        assert x_ref() is None
    finally:
        gc.enable()


# -- Tensor.backward ----------------------------------------------------------------------------------------------
def test_implicit_gradient_only_for_single_element_outputs():
    x = leaf([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (x * 2).backward()
    assert x.grad is None


def test_implicit_gradient_for_0d_and_one_element_outputs():
    x = leaf(1.5)
    (x * 2).backward()
    assert x.grad.shape == () and x.grad.item() == 2.0
    y = leaf([3.0])
    (y * y).backward()
    assert y.grad.shape == (1,)
    np.testing.assert_allclose(arr(y.grad), [6.0])


def test_gradient_argument_is_the_vector_of_the_vjp():
    x = leaf([1.0, 2.0, 3.0])
    (x * 3).backward(nk.tensor([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(arr(x.grad), [3.0, 6.0, 9.0])
    assert x.grad.dtype == nk.float32 and x.grad.shape == (3,)


def test_backward_returns_none_and_grad_keeps_the_leaf_dtype():
    x = leaf([1.0, 2.0], dtype=nk.float64)
    assert (x * x).backward(nk.ones(2, dtype=nk.float64)) is None
    assert x.grad.dtype == nk.float64
    assert x.grad.requires_grad is False and x.grad.grad_fn is None


def test_gradients_accumulate_across_backward_calls():
    x = leaf([1.0, 2.0])
    (x * x).backward(nk.ones(2))
    np.testing.assert_allclose(arr(x.grad), [2.0, 4.0])
    (x * x).backward(nk.ones(2))
    np.testing.assert_allclose(arr(x.grad), [4.0, 8.0])
    x.grad = None
    (x * 5).backward(nk.ones(2))
    np.testing.assert_allclose(arr(x.grad), [5.0, 5.0])


def test_leaf_grad_does_not_alias_the_gradient_passed_in():
    x = leaf([1.0, 1.0])
    g = nk.tensor([1.0, 2.0])
    x.backward(g)
    assert x.grad is not g
    g.add_(10)
    np.testing.assert_allclose(arr(x.grad), [1.0, 2.0])
    y = leaf([1.0, 1.0])
    g2 = nk.tensor([3.0, 4.0])
    (y * 1).backward(g2)
    g2.mul_(0)
    np.testing.assert_allclose(arr(y.grad), [3.0, 4.0])


def test_second_backward_through_freed_graph_raises():
    x = leaf([1.0, 2.0])
    y = x * x
    y.backward(nk.ones(2))
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward(nk.ones(2))
    np.testing.assert_allclose(arr(x.grad), [2.0, 4.0])


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = x * x
    y.backward(nk.ones(2), retain_graph=True)
    y.backward(nk.ones(2), retain_graph=True)
    np.testing.assert_allclose(arr(x.grad), [4.0, 8.0])
    y.backward(nk.ones(2))  # the last use frees it
    np.testing.assert_allclose(arr(x.grad), [6.0, 12.0])
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        y.backward(nk.ones(2))


def test_graph_without_saved_tensors_can_be_run_twice():
    # As in PyTorch: only freed *saved tensors* make a second backward fail.
    x = leaf([1.0, 2.0])
    y = x + 1
    y.backward(nk.ones(2))
    y.backward(nk.ones(2))
    np.testing.assert_allclose(arr(x.grad), [2.0, 2.0])


def test_backward_on_a_tensor_that_does_not_require_grad_raises():
    with pytest.raises(RuntimeError, match="element 0 of tensors does not require grad and does not have a grad_fn"):
        (nk.ones(2) * 2).backward(nk.ones(2))
    with pytest.raises(RuntimeError, match="does not require grad"):
        nk.tensor(1.0).backward()


def test_gradient_of_the_wrong_shape_raises():
    x = leaf([1.0, 2.0, 3.0])
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(nk.ones(2))
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        (x * 2).backward(nk.ones(3, 1))
    assert x.grad is None


def test_inputs_restricts_which_leaves_accumulate():
    x = leaf([1.0, 2.0])
    w = leaf([3.0, 4.0])
    (x * w).backward(nk.ones(2), inputs=[x])
    np.testing.assert_allclose(arr(x.grad), [3.0, 4.0])
    assert w.grad is None
    (x * w).backward(nk.ones(2), inputs=w)  # a single tensor is accepted too
    np.testing.assert_allclose(arr(w.grad), [1.0, 2.0])
    np.testing.assert_allclose(arr(x.grad), [3.0, 4.0])


def test_inputs_may_name_a_non_leaf_which_then_gets_grad():
    x = leaf([1.0, 2.0])
    h = x * 2
    out = h * h
    out.backward(nk.ones(2), inputs=[h])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # .grad was populated: no "non-leaf .grad" warning (as in PyTorch)
        np.testing.assert_allclose(arr(h.grad), [4.0, 8.0])  # 2h
    assert x.grad is None


def test_create_graph_makes_grad_differentiable():
    x = leaf(1.5, dtype=nk.float64)
    (x**3).backward(create_graph=True)
    g = x.grad
    assert g.requires_grad and g.grad_fn is not None
    assert g.item() == pytest.approx(3 * 1.5**2)
    x.grad = None
    g.backward()
    assert x.grad.item() == pytest.approx(6 * 1.5)


def test_autograd_backward_with_several_roots_sums_them():
    x = leaf([1.0, 2.0])
    a = x * 2
    b = x * x
    nk.autograd.backward([a, b], [nk.ones(2), nk.tensor([10.0, 10.0])])
    np.testing.assert_allclose(arr(x.grad), [2 + 20.0, 2 + 40.0])


def test_broadcast_operand_gets_its_own_shape_of_gradient():
    x = leaf([1.0, 2.0, 3.0])
    y = leaf([[1.0], [2.0]])
    (x * y).backward(nk.ones(2, 3))
    assert x.grad.shape == (3,) and y.grad.shape == (2, 1)
    np.testing.assert_allclose(arr(x.grad), [3.0, 3.0, 3.0])
    np.testing.assert_allclose(arr(y.grad), [[6.0], [6.0]])


def test_detach_shares_storage_and_is_outside_the_graph():
    x = leaf([1.0, 2.0])
    y = x * 2
    d = y.detach()
    assert d.requires_grad is False and d.grad_fn is None and d.is_leaf
    assert d.data_ptr() == y.data_ptr()
    d.add_(1)
    assert y.tolist() == [3.0, 5.0]
    e = x.detach()
    e.add_(1)
    assert x.tolist() == [2.0, 3.0]
    assert x.requires_grad and not e.requires_grad


def test_detach_underscore_turns_a_non_leaf_into_a_leaf():
    x = leaf([1.0, 2.0])
    y = x * 2
    assert y.detach_() is y
    assert y.requires_grad is False and y.grad_fn is None and y.is_leaf
    assert y.tolist() == [2.0, 4.0]


# -- anomaly detection --------------------------------------------------------------------------------------------
def test_detect_anomaly_names_the_node_and_the_forward_call():
    with nk.autograd.detect_anomaly():
        assert nk.autograd.is_anomaly_enabled()
        x = leaf([0.0, 1.0])
        y = x.sqrt() * 0  # backward: 0 / (2 * sqrt(0)) = nan
        with pytest.raises(RuntimeError) as info:
            y.backward(nk.ones(2))
    assert not nk.autograd.is_anomaly_enabled()
    message = str(info.value)
    assert "SqrtBackward0" in message
    assert "nan" in message
    assert "test_semantics.py" in message  # the forward traceback
    assert "x.sqrt() * 0" in message


def test_detect_anomaly_with_sum_backward():
    with nk.autograd.detect_anomaly():
        x = leaf([0.0])
        with pytest.raises(RuntimeError, match="SqrtBackward0"):
            (x.sqrt() * 0).sum().backward()


def test_without_anomaly_detection_nan_passes_silently():
    x = leaf([0.0, 1.0])
    with np.errstate(all="ignore"):
        (x.sqrt() * 0).backward(nk.ones(2))
    assert np.isnan(arr(x.grad)[0])
    assert arr(x.grad)[1] == 0.0


def test_set_detect_anomaly_as_function_and_context_manager():
    assert not nk.autograd.is_anomaly_enabled()
    nk.autograd.set_detect_anomaly(True)
    try:
        assert nk.autograd.is_anomaly_enabled()
    finally:
        nk.autograd.set_detect_anomaly(False)
    assert not nk.autograd.is_anomaly_enabled()
    with nk.autograd.set_detect_anomaly(True):
        assert nk.autograd.is_anomaly_enabled()
    assert not nk.autograd.is_anomaly_enabled()


def test_anomaly_mode_does_not_change_finite_results():
    with nk.autograd.detect_anomaly():
        x = leaf([1.0, 4.0])
        x.sqrt().backward(nk.ones(2))
    np.testing.assert_allclose(arr(x.grad), [0.5, 0.25])
