"""The Tensor itself: creation and dtype inference, type promotion, properties, conversions, comparisons, the
global random generator, and repr for simple cases."""

import numpy as np
import pytest

import nnkit as nk


def arr(t):
    return t.detach().numpy()


def leaf(values, dtype=nk.float32):
    return nk.tensor(values, dtype=dtype, requires_grad=True)


# -- nk.tensor and dtype inference --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "data, dtype, shape",
    [
        ([1.0, 2.0], nk.float32, (2,)),
        (3.5, nk.float32, ()),
        ([1, 2.5], nk.float32, (2,)),
        ([[1, 2], [3, 4]], nk.int64, (2, 2)),
        (7, nk.int64, ()),
        ([True, False], nk.bool, (2,)),
        ([True, 2], nk.int64, (2,)),
        ([], nk.float32, (0,)),
        (np.array([1.0, 2.0]), nk.float64, (2,)),
        (np.array([1, 2], dtype=np.int32), nk.int32, (2,)),
        (np.array([1.0], dtype=np.float16), nk.float16, (1,)),
        (np.array([1, 2], dtype=np.uint8), nk.uint8, (2,)),
        (np.float64(1.5), nk.float64, ()),
        ([np.float64(1.0), np.float64(2.0)], nk.float64, (2,)),
    ],
    ids=["floats", "float", "mixed", "ints", "int", "bools", "bool_int", "empty", "np_f64", "np_i32", "np_f16",
         "np_u8", "np_scalar_f64", "list_np_f64"],
)
def test_tensor_infers_dtype_like_pytorch(data, dtype, shape):
    t = nk.tensor(data)
    assert t.dtype == dtype
    assert t.shape == shape


def test_tensor_dtype_argument_and_values():
    t = nk.tensor([1, 2, 3], dtype=nk.float64)
    assert t.dtype == nk.float64 and t.tolist() == [1.0, 2.0, 3.0]
    assert nk.tensor([1.7, -1.7], dtype=nk.int64).tolist() == [1, -1]
    assert nk.tensor([[1.0, 2.0], [3.0, 4.0]]).tolist() == [[1.0, 2.0], [3.0, 4.0]]


def test_tensor_copies_its_data():
    a = np.array([1.0, 2.0])
    t = nk.tensor(a)
    a[0] = 100.0
    assert t.tolist() == [1.0, 2.0]
    u = nk.tensor(t)
    t.add_(1)
    assert u.tolist() == [1.0, 2.0]


def test_from_numpy_and_as_tensor_share_memory():
    a = np.array([1.0, 2.0, 3.0], dtype=np.float32)
    t = nk.from_numpy(a)
    assert t.dtype == nk.float32
    a[0] = 10.0
    assert t.tolist() == [10.0, 2.0, 3.0]
    t.mul_(2)
    assert a.tolist() == [20.0, 4.0, 6.0]
    b = np.zeros(2, dtype=np.int64)
    s = nk.as_tensor(b)
    b[1] = 5
    assert s.tolist() == [0, 5] and s.dtype == nk.int64
    with pytest.raises(TypeError):
        nk.from_numpy([1.0, 2.0])


def test_unsupported_numpy_dtype_raises():
    with pytest.raises(TypeError, match="can't convert np.ndarray of type"):
        nk.from_numpy(np.array(["a", "b"]))
    with pytest.raises(TypeError):
        nk.tensor(np.array([1 + 2j]))


def test_tensor_with_ragged_data_raises():
    with pytest.raises(ValueError):
        nk.tensor([[1.0, 2.0], [3.0]])


# -- creation functions -------------------------------------------------------------------------------------------
def test_zeros_ones_full_empty():
    z = nk.zeros(2, 3)
    assert z.shape == (2, 3) and z.dtype == nk.float32 and arr(z).tolist() == [[0.0] * 3] * 2
    assert nk.zeros((2, 3)).shape == (2, 3) and nk.zeros([2, 3]).shape == (2, 3)
    o = nk.ones(4, dtype=nk.int64)
    assert o.dtype == nk.int64 and o.tolist() == [1, 1, 1, 1]
    assert nk.ones(()).shape == () and nk.ones(()).item() == 1.0
    f = nk.full((2, 2), 1.5)
    assert f.dtype == nk.float32 and f.tolist() == [[1.5, 1.5], [1.5, 1.5]]
    assert nk.full((3,), 7).dtype == nk.int64
    assert nk.full((3,), True).dtype == nk.bool
    assert nk.full((2,), 2, dtype=nk.float64).tolist() == [2.0, 2.0]
    e = nk.empty(3, 2)
    assert e.shape == (3, 2) and e.dtype == nk.float32
    assert nk.zeros(0, 3).numel() == 0


def test_like_functions_keep_shape_and_dtype():
    src = nk.tensor([[1, 2, 3]], dtype=nk.int32)
    for make, value in ((nk.zeros_like, 0), (nk.ones_like, 1), (lambda t: nk.full_like(t, 4), 4)):
        t = make(src)
        assert t.shape == (1, 3) and t.dtype == nk.int32 and t.tolist() == [[value] * 3]
    assert nk.empty_like(src).shape == (1, 3)
    assert nk.zeros_like(src, dtype=nk.float64).dtype == nk.float64
    g = leaf([1.0, 2.0])
    assert nk.ones_like(g).requires_grad is False
    r = nk.rand_like(nk.zeros(2, 2, dtype=nk.float64))
    assert r.shape == (2, 2) and r.dtype == nk.float64
    assert nk.randn_like(nk.zeros(5)).dtype == nk.float32


def test_random_creation_shapes_dtypes_and_ranges():
    nk.manual_seed(0)
    r = nk.rand(1000)
    assert r.dtype == nk.float32 and r.shape == (1000,)
    assert 0.0 <= arr(r).min() and arr(r).max() < 1.0
    n = nk.randn(200, 50)
    assert n.dtype == nk.float32 and n.shape == (200, 50)
    assert abs(arr(n).mean()) < 0.05 and abs(arr(n).std() - 1.0) < 0.05
    assert nk.randn(3, dtype=nk.float64).dtype == nk.float64
    i = nk.randint(0, 10, (1000,))
    assert i.dtype == nk.int64 and set(arr(i).tolist()) == set(range(10))
    j = nk.randint(5, (2, 2))
    assert j.shape == (2, 2) and arr(j).min() >= 0 and arr(j).max() < 5
    p = nk.randperm(6)
    assert p.dtype == nk.int64 and sorted(p.tolist()) == list(range(6))


def test_arange_linspace_eye():
    a = nk.arange(5)
    assert a.dtype == nk.int64 and a.tolist() == [0, 1, 2, 3, 4]
    assert nk.arange(2, 8, 3).tolist() == [2, 5]
    b = nk.arange(0, 1, 0.25)
    assert b.dtype == nk.float32 and b.tolist() == [0.0, 0.25, 0.5, 0.75]
    assert nk.arange(1.0, 4.0).dtype == nk.float32 and nk.arange(1.0, 4.0).tolist() == [1.0, 2.0, 3.0]
    assert nk.arange(5, 0, -2).tolist() == [5, 3, 1]
    lin = nk.linspace(0, 1, 5)
    assert lin.dtype == nk.float32 and lin.tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    e = nk.eye(3)
    assert e.dtype == nk.float32 and e.tolist() == np.eye(3).tolist()
    assert nk.eye(2, 3).tolist() == [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]


# -- the global generator -----------------------------------------------------------------------------------------
def _draw_everything():
    t = nk.empty(3)
    u = nk.empty(3)
    return [
        arr(nk.rand(3)),
        arr(nk.randn(2, 2)),
        arr(nk.randint(0, 100, (4,))),
        arr(nk.randperm(8)),
        arr(nk.rand_like(nk.zeros(2))),
        arr(nk.randn_like(nk.zeros(2))),
        arr(t.uniform_(-1, 1)).copy(),
        arr(u.normal_(0, 2)).copy(),
    ]


def test_manual_seed_makes_every_random_function_reproducible():
    nk.manual_seed(1234)
    first = _draw_everything()
    nk.manual_seed(1234)
    second = _draw_everything()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    nk.manual_seed(4321)
    third = _draw_everything()
    assert not np.array_equal(first[0], third[0]) and not np.array_equal(first[1], third[1])
    assert nk.initial_seed() == 4321


def test_rng_state_round_trip():
    nk.manual_seed(7)
    nk.rand(5)
    state = nk.get_rng_state()
    assert isinstance(state, nk.Tensor) and state.dtype == nk.uint8
    a = _draw_everything()
    nk.set_rng_state(state)
    b = _draw_everything()
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def test_random_draws_differ_between_calls():
    nk.manual_seed(0)
    assert not nk.rand(4).equal(nk.rand(4))


# -- properties ---------------------------------------------------------------------------------------------------
def test_shape_size_ndim_numel():
    t = nk.zeros(2, 3, 4)
    assert t.shape == (2, 3, 4) and isinstance(t.shape, tuple)
    assert t.size() == (2, 3, 4)
    assert t.size(1) == 3 and t.size(-1) == 4
    assert t.ndim == 3 and t.dim() == 3
    assert t.numel() == 24 and nk.numel(t) == 24
    assert nk.tensor(1.0).shape == () and nk.tensor(1.0).ndim == 0 and nk.tensor(1.0).numel() == 1
    with pytest.raises(IndexError, match="Dimension out of range"):
        t.size(3)


def test_dtype_objects():
    assert nk.float32 is nk.float and nk.float64 is nk.double and nk.int64 is nk.long
    assert repr(nk.float32) == "nnkit.float32"
    assert nk.float32.is_floating_point and not nk.int64.is_floating_point
    assert nk.tensor([1.0]).is_floating_point() and not nk.tensor([1]).is_floating_point()
    assert nk.get_default_dtype() == nk.float32


def test_T_transposes_a_matrix():
    t = nk.tensor([[1, 2], [3, 4]])
    assert t.T.tolist() == [[1, 3], [2, 4]]
    assert nk.ones(2, 3).T.shape == (3, 2)


def test_item_and_tolist():
    v = nk.tensor(3.5).item()
    assert v == 3.5 and type(v) is float
    assert type(nk.tensor([2]).item()) is int and nk.tensor([2]).item() == 2
    assert nk.tensor(True).item() is True
    assert nk.tensor([[1.5]]).item() == 1.5
    assert nk.tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    assert nk.tensor(2.5).tolist() == 2.5
    with pytest.raises(RuntimeError, match="a Tensor with 6 elements cannot be converted to Scalar"):
        nk.ones(2, 3).item()
    assert leaf([1.5]).item() == 1.5  # item works on tensors that require grad


def test_python_number_conversions():
    assert float(nk.tensor([2.5])) == 2.5
    assert int(nk.tensor(3)) == 3
    assert bool(nk.tensor([1.0])) is True and bool(nk.tensor(0)) is False
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value is ambiguous"):
        bool(nk.ones(2))


def test_len_and_iteration():
    t = nk.tensor([[1, 2], [3, 4], [5, 6]])
    assert len(t) == 3
    rows = list(t)
    assert len(rows) == 3 and all(isinstance(r, nk.Tensor) for r in rows)
    assert [r.tolist() for r in rows] == [[1, 2], [3, 4], [5, 6]]
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(nk.tensor(1.0))
    with pytest.raises(TypeError):
        iter(nk.tensor(1.0))


def test_iteration_keeps_the_graph():
    x = leaf([[1.0, 2.0], [3.0, 4.0]])
    rows = list(x)
    assert all(r.requires_grad for r in rows)
    (rows[0] * 2 + rows[1] * 3).backward(nk.ones(2))
    np.testing.assert_allclose(arr(x.grad), [[2.0, 2.0], [3.0, 3.0]])


# -- conversions --------------------------------------------------------------------------------------------------
def test_numpy_refuses_tensors_that_require_grad():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="Use tensor.detach\\(\\).numpy\\(\\) instead"):
        x.numpy()
    with pytest.raises(RuntimeError, match="Can't call numpy\\(\\) on Tensor that requires grad"):
        (x * 2).numpy()
    a = x.detach().numpy()
    a[0] = 5.0
    assert x.tolist() == [5.0, 2.0]  # shared memory


def test_numpy_shares_memory():
    t = nk.zeros(3)
    a = t.numpy()
    assert isinstance(a, np.ndarray) and a.dtype == np.float32
    a[1] = 4.0
    assert t.tolist() == [0.0, 4.0, 0.0]
    np.testing.assert_array_equal(np.asarray(t), [0.0, 4.0, 0.0])


def test_float_double_and_friends():
    t = nk.tensor([1.5, -2.5])
    assert t.double().dtype == nk.float64 and t.double().tolist() == [1.5, -2.5]
    assert t.long().dtype == nk.int64 and t.long().tolist() == [1, -2]
    assert nk.tensor([0.0, 2.0]).bool().tolist() == [False, True]
    assert nk.tensor([1, 2]).float().dtype == nk.float32
    assert t.to(nk.float64).dtype == nk.float64
    assert t.to(nk.float32) is t
    assert t.to("cpu") is t
    assert t.type(nk.float64).dtype == nk.float64
    assert t.to(nk.tensor([1], dtype=nk.int32)).dtype == nk.int32


def test_to_dtype_is_differentiable_and_grad_comes_back_in_the_original_dtype():
    x = leaf([1.0, 2.0], dtype=nk.float64)
    y = x.float()
    assert y.dtype == nk.float32 and y.requires_grad
    assert y.grad_fn.name() == "ToCopyBackward0"
    (y * 3).backward(nk.ones(2))
    assert x.grad.dtype == nk.float64
    np.testing.assert_allclose(arr(x.grad), [3.0, 3.0])
    z = leaf([1.0, 2.0])
    w = z.to(nk.float64)
    w.backward(nk.ones(2, dtype=nk.float64))
    assert z.grad.dtype == nk.float32


def test_cast_to_integer_is_not_differentiable():
    x = leaf([1.5, 2.5])
    i = x.long()
    assert i.dtype == nk.int64 and i.requires_grad is False and i.grad_fn is None


def test_equal_and_allclose():
    a = nk.tensor([1.0, 2.0, 3.0])
    assert a.equal(nk.tensor([1.0, 2.0, 3.0])) and nk.equal(a, nk.tensor([1.0, 2.0, 3.0]))
    assert not a.equal(nk.tensor([1.0, 2.0, 3.5]))
    assert not a.equal(nk.tensor([1.0, 2.0]))
    assert not a.equal(nk.tensor([[1.0, 2.0, 3.0]]))
    assert a.allclose(nk.tensor([1.0, 2.0, 3.0 + 1e-7]))
    assert not a.allclose(nk.tensor([1.0, 2.0, 3.1]))
    assert nk.allclose(a, nk.tensor([1.0, 2.0, 3.1]), atol=0.2)
    assert nk.isclose(a, nk.tensor([1.0, 2.5, 3.0])).tolist() == [True, False, True]


# -- comparisons --------------------------------------------------------------------------------------------------
def test_comparisons_give_bool_tensors_without_grad():
    x = leaf([1.0, 2.0, 3.0])
    for out, expected in (
        (x > 2, [False, False, True]),
        (x >= 2, [False, True, True]),
        (x < 2, [True, False, False]),
        (x <= 2, [True, True, False]),
        (x == 2, [False, True, False]),
        (x != 2, [True, False, True]),
        (x == nk.tensor([1.0, 0.0, 3.0]), [True, False, True]),
        (2 < x, [False, False, True]),
        (nk.tensor([1, 2, 3]) == x, [True, True, True]),
    ):
        assert out.dtype == nk.bool
        assert out.requires_grad is False and out.grad_fn is None
        assert out.tolist() == expected


def test_comparison_with_broadcasting():
    a = nk.tensor([[1], [2]])
    b = nk.tensor([1, 2, 3])
    assert (a < b).tolist() == [[False, True, True], [False, False, True]]


# -- type promotion -----------------------------------------------------------------------------------------------
def _t(m, name, ndim=1):
    """A tensor of dtype ``name`` from module ``m`` (nnkit, or torch for the parity test): ones of shape (2,)*ndim."""
    dtype = getattr(m, name)
    return m.ones(*(2,) * ndim, dtype=dtype) if ndim else m.tensor(1, dtype=dtype)


# (id, fn(module) -> tensor, expected dtype name, also checked against torch)
PROMOTION = [
    ("f32*pyfloat", lambda m: _t(m, "float32") * 2.5, "float32", True),
    ("f64*pyfloat", lambda m: _t(m, "float64") * 2.5, "float64", True),
    ("f16*pyfloat", lambda m: _t(m, "float16") * 2.5, "float16", True),
    ("i64*pyfloat", lambda m: _t(m, "int64") * 2.5, "float32", True),
    ("i32*pyint", lambda m: _t(m, "int32") * 2, "int32", True),
    ("i64*pyint", lambda m: _t(m, "int64") * 2, "int64", True),
    ("f32+f64", lambda m: _t(m, "float32") + _t(m, "float64"), "float64", True),
    ("f64_0d+f32", lambda m: _t(m, "float64", 0) + _t(m, "float32"), "float32", True),
    ("f32+f64_0d", lambda m: _t(m, "float32") + _t(m, "float64", 0), "float32", True),
    ("f32_0d+f64_0d", lambda m: _t(m, "float32", 0) + _t(m, "float64", 0), "float64", True),
    ("f16+f64_0d", lambda m: _t(m, "float16") + _t(m, "float64", 0), "float16", True),
    ("i64+f32", lambda m: _t(m, "int64") + _t(m, "float32"), "float32", True),
    ("i32+i64", lambda m: _t(m, "int32") + _t(m, "int64"), "int64", True),
    ("i32*i64_0d", lambda m: _t(m, "int32") * _t(m, "int64", 0), "int32", True),
    ("i64*f64_0d", lambda m: _t(m, "int64") * _t(m, "float64", 0), "float64", True),
    ("bool+i64", lambda m: _t(m, "bool") + _t(m, "int64"), "int64", True),
    ("bool+pyint", lambda m: _t(m, "bool") + 1, "int64", True),
    ("bool+pyfloat", lambda m: _t(m, "bool") + 1.5, "float32", True),
    ("i64/i64", lambda m: _t(m, "int64") / _t(m, "int64"), "float32", True),
    ("i64/pyint", lambda m: _t(m, "int64") / 2, "float32", True),
    ("i64//pyint", lambda m: _t(m, "int64") // 2, "int64", True),
    ("i64**2", lambda m: _t(m, "int64") ** 2, "int64", True),
    ("i64**2.0", lambda m: _t(m, "int64") ** 2.0, "float32", True),
    ("i64.exp", lambda m: _t(m, "int64").exp(), "float32", True),
    ("np_f64_scalar*f32", lambda m: np.float64(0.5) * _t(m, "float32"), "float32", True),
    ("f32*np_f64_scalar", lambda m: _t(m, "float32") * np.float64(0.5), "float32", True),
    ("np_i64_scalar*i32", lambda m: np.int64(3) * _t(m, "int32"), "int32", False),
]


@pytest.mark.parametrize("name, fn, expected, _", PROMOTION, ids=[p[0] for p in PROMOTION])
def test_type_promotion_follows_pytorch(name, fn, expected, _):
    out = fn(nk)
    assert isinstance(out, nk.Tensor)
    assert out.dtype == getattr(nk, expected)


@pytest.mark.parametrize("name, fn, expected, _", [p for p in PROMOTION if p[3]], ids=[p[0] for p in PROMOTION if p[3]])
def test_type_promotion_table_agrees_with_torch(name, fn, expected, _):
    torch = pytest.importorskip("torch")
    assert fn(torch).dtype == getattr(torch, expected)


def test_promotion_values_are_computed_in_the_result_type():
    assert (nk.tensor([1, 2]) * 2.5).tolist() == [2.5, 5.0]
    assert (nk.tensor([1, 2]) / 4).tolist() == [0.25, 0.5]
    assert (nk.tensor([True, False]) + nk.tensor([2, 3])).tolist() == [3, 3]


def test_numpy_scalar_on_the_left_records_the_graph():
    t = leaf([1.0, 2.0])
    out = np.float32(0.5) * t
    assert isinstance(out, nk.Tensor)
    assert out.dtype == nk.float32 and out.requires_grad and out.grad_fn.name() == "MulBackward0"
    out.backward(nk.ones(2))
    np.testing.assert_allclose(arr(t.grad), [0.5, 0.5])


def test_numpy_array_on_the_left_records_the_graph():
    t = leaf([1.0, 2.0, 3.0])
    out = np.ones(3) + t
    assert isinstance(out, nk.Tensor)
    assert out.dtype == nk.float64  # the array's dtype joins promotion like a tensor's
    assert out.requires_grad and out.grad_fn.name() == "AddBackward0"
    np.testing.assert_allclose(arr(out), [2.0, 3.0, 4.0])
    out.backward(nk.ones(3, dtype=nk.float64))
    assert t.grad.dtype == nk.float32
    np.testing.assert_allclose(arr(t.grad), [1.0, 1.0, 1.0])
    out2 = np.array([2.0, 2.0, 2.0], dtype=np.float32) * t
    assert isinstance(out2, nk.Tensor) and out2.dtype == nk.float32 and out2.requires_grad


def test_matmul_of_mixed_float_dtypes_raises_naming_both():
    a = nk.ones(2, 2)
    b = nk.ones(2, 2, dtype=nk.float64)
    with pytest.raises(RuntimeError) as info:
        a @ b
    message = str(info.value)
    assert "float32" in message and "float64" in message


def test_mixed_dtype_gradient_flows_back_in_each_inputs_dtype():
    a = leaf([1.0, 2.0])
    b = leaf([3.0, 4.0], dtype=nk.float64)
    out = a * b
    assert out.dtype == nk.float64
    out.backward(nk.ones(2, dtype=nk.float64))
    assert a.grad.dtype == nk.float32 and b.grad.dtype == nk.float64
    np.testing.assert_allclose(arr(a.grad), [3.0, 4.0])
    np.testing.assert_allclose(arr(b.grad), [1.0, 2.0])


# -- gradient tie rules -------------------------------------------------------------------------------------------
def test_relu_and_abs_have_zero_gradient_at_zero():
    x = leaf([0.0, -1.0, 2.0])
    x.relu().backward(nk.ones(3))
    assert x.grad.tolist() == [0.0, 0.0, 1.0]
    x.grad = None
    x.abs().backward(nk.ones(3))
    assert x.grad.tolist() == [0.0, -1.0, 1.0]


def test_maximum_and_minimum_split_ties_evenly():
    x = leaf([1.0, 1.0])
    y = leaf([1.0, 0.0])
    nk.maximum(x, y).backward(nk.ones(2))
    assert x.grad.tolist() == [0.5, 1.0] and y.grad.tolist() == [0.5, 0.0]
    x.grad = y.grad = None
    nk.minimum(x, y).backward(nk.ones(2))
    assert x.grad.tolist() == [0.5, 0.0] and y.grad.tolist() == [0.5, 1.0]


def test_max_and_amax_share_ties_evenly():
    x = leaf([1.0, 1.0, 0.0])
    x.max().backward()
    assert x.grad.tolist() == [0.5, 0.5, 0.0]
    y = leaf([2.0, 2.0, 1.0])
    y.amax().backward()
    assert y.grad.tolist() == [0.5, 0.5, 0.0]


def test_max_over_a_dim_sends_the_gradient_to_the_returned_index():
    x = leaf([[1.0, 3.0, 3.0]])
    values, indices = x.max(1)
    assert indices.tolist() == [1] and values.tolist() == [3.0]
    values.backward(nk.ones(1))
    assert x.grad.tolist() == [[0.0, 1.0, 0.0]]


# -- repr ---------------------------------------------------------------------------------------------------------
REPRS = [
    ("requires_grad", lambda m: m.tensor([1.0, 2.0], requires_grad=True), "tensor([1., 2.], requires_grad=True)"),
    ("grad_fn", lambda m: m.tensor([1.0, 2.0], requires_grad=True) + 1, "tensor([2., 3.], grad_fn=<AddBackward0>)"),
    ("floats", lambda m: m.tensor([1.0, 2.0]), "tensor([1., 2.])"),
    ("ints", lambda m: m.tensor([1, 2]), "tensor([1, 2])"),
    ("scalar", lambda m: m.tensor(3.5), "tensor(3.5000)"),
    ("int_scalar", lambda m: m.tensor(2), "tensor(2)"),
    ("bools", lambda m: m.tensor([True, False]), "tensor([ True, False])"),
    ("signs", lambda m: m.tensor([1.5, -2.25]), "tensor([ 1.5000, -2.2500])"),
    ("matrix", lambda m: m.tensor([[1.0, 2.0], [3.0, 4.0]]), "tensor([[1., 2.],\n        [3., 4.]])"),
    ("float64", lambda m: m.tensor([1.0, 2.0], dtype=m.float64), "tensor([1., 2.], dtype=nnkit.float64)"),
    ("int32", lambda m: m.tensor([1, 2], dtype=m.int32), "tensor([1, 2], dtype=nnkit.int32)"),
    ("float64_grad_fn", lambda m: m.tensor([1.0, 2.0], dtype=m.float64, requires_grad=True) * 2,
     "tensor([2., 4.], dtype=nnkit.float64, grad_fn=<MulBackward0>)"),
    ("empty", lambda m: m.tensor([]), "tensor([])"),
]


@pytest.mark.parametrize("name, make, text", REPRS, ids=[r[0] for r in REPRS])
def test_repr_of_simple_tensors(name, make, text):
    t = make(nk)
    assert repr(t) == text
    assert str(t) == text


@pytest.mark.parametrize("name, make, text", REPRS, ids=[r[0] for r in REPRS])
def test_repr_table_agrees_with_torch(name, make, text):
    torch = pytest.importorskip("torch")
    assert repr(make(torch)) == text.replace("nnkit.", "torch.")
