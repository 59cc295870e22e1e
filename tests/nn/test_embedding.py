"""Embedding and one_hot: the spec table (forward, gradcheck, gradgradcheck, no-grad, PyTorch parity), gradient
scatter with repeated indices, padding_idx, scale_grad_by_freq, max_norm, the module (init, from_pretrained,
repr) and errors."""

import numpy as np
import pytest

import nnkit as nk
import nnkit.nn as nn
import nnkit.nn.functional as F
from tests.ops import harness
from tests.ops.harness import OpSpec

IDX = np.array([[1, 3, 1], [0, 3, 4]])


def f64(values, requires_grad=False):
    return nk.tensor(values, dtype=nk.float64, requires_grad=requires_grad)


def tF():
    import torch.nn.functional

    return torch.nn.functional


def lookup(**kwargs):
    """``(weight, indices) -> embedding`` with fixed keyword options, in nnkit and in torch."""
    ours = lambda w, i: F.embedding(i, w, **kwargs)  # noqa: E731
    theirs = lambda w, i: tF().embedding(i, w, **kwargs)  # noqa: E731
    return ours, theirs


def weight_and(idx, rows=5, dim=3):
    return lambda rng: [rng.standard_normal((rows, dim)), idx]


SPECS = [
    OpSpec("embedding_repeated", *lookup()[:1], lambda w, i: w[i], weight_and(IDX), torch_fn=lookup()[1],
           grad_fn="EmbeddingBackward0"),
    OpSpec("embedding_scalar_index", *lookup()[:1], lambda w, i: w[i], weight_and(np.array(2)),
           torch_fn=lookup()[1], grad_fn="EmbeddingBackward0"),
    OpSpec("embedding_int32_index", *lookup()[:1], lambda w, i: w[i], weight_and(IDX.astype(np.int32)),
           torch_fn=lookup()[1], grad_fn="EmbeddingBackward0"),
]

harness.make_tests(SPECS, globals())

# padding_idx and scale_grad_by_freq change the gradient on purpose (it is not the derivative any more), so these
# variants skip gradcheck: the other checks still hold.
BY_DESIGN = [
    OpSpec("embedding_padding_idx", lookup(padding_idx=3)[0], lambda w, i: w[i], weight_and(IDX),
           torch_fn=lookup(padding_idx=3)[1], grad_fn="EmbeddingBackward0"),
    OpSpec("embedding_negative_padding_idx", lookup(padding_idx=-1)[0], lambda w, i: w[i], weight_and(IDX),
           torch_fn=lookup(padding_idx=-1)[1], grad_fn="EmbeddingBackward0"),
    OpSpec("embedding_scale_grad_by_freq", lookup(scale_grad_by_freq=True)[0], lambda w, i: w[i], weight_and(IDX),
           torch_fn=lookup(scale_grad_by_freq=True)[1], grad_fn="EmbeddingBackward0"),
]


@pytest.mark.parametrize("check", [harness.check_forward, harness.check_gradgradcheck,
                                   harness.check_graph_mode_gradients, harness.check_no_grad,
                                   harness.check_torch_parity], ids=lambda c: c.__name__)
@pytest.mark.parametrize("spec", BY_DESIGN, ids=lambda s: s.name)
def test_gradient_altering_options(spec, check):
    check(spec)


# -- gradients by hand --------------------------------------------------------------------------------------------
def test_repeated_indices_accumulate_their_gradients():
    w = f64(np.zeros((4, 2)), requires_grad=True)
    out = F.embedding(nk.tensor([[1, 1], [3, 1]]), w)
    out.backward(f64([[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]]))
    np.testing.assert_array_equal(w.grad.numpy(), [[0, 0], [1 + 3 + 7, 2 + 4 + 8], [0, 0], [5, 6]])


def test_padding_idx_row_gets_no_gradient_but_is_read():
    w = f64([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]], requires_grad=True)
    out = F.embedding(nk.tensor([0, 2, 0]), w, padding_idx=0)
    np.testing.assert_array_equal(out.detach().numpy(), [[1, 1], [3, 3], [1, 1]])
    out.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[0, 0], [0, 0], [1, 1]])


def test_scale_grad_by_freq_divides_by_the_count_in_the_batch():
    w = f64(np.zeros((3, 1)), requires_grad=True)
    F.embedding(nk.tensor([2, 2, 2, 0]), w, scale_grad_by_freq=True).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[1.0], [0.0], [1.0]])


def test_max_norm_renormalises_the_rows_looked_up_in_place():
    w = f64([[3.0, 4.0], [0.3, 0.4], [6.0, 8.0]])
    version = w._version
    out = F.embedding(nk.tensor([0, 1, 0]), w, max_norm=1.0)
    # row 0 (norm 5) is scaled to norm 1; row 1 (norm 0.5) is left; row 2 was not looked up
    np.testing.assert_allclose(w.numpy(), [[0.6, 0.8], [0.3, 0.4], [6.0, 8.0]], rtol=1e-6)
    np.testing.assert_allclose(out.numpy(), [[0.6, 0.8], [0.3, 0.4], [0.6, 0.8]], rtol=1e-6)
    assert w._version > version
    w = f64([[3.0, -4.0]])
    F.embedding(nk.tensor([0]), w, max_norm=3.5, norm_type=1.0)  # L1 norm 7 -> 3.5
    np.testing.assert_allclose(w.numpy(), [[1.5, -2.0]], rtol=1e-6)


def test_max_norm_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    values = rng.standard_normal((6, 4)) * 2
    idx = np.array([[0, 2, 2], [5, 1, 0]])
    ours = nn.Embedding(6, 4, max_norm=1.5, norm_type=3.0).double()
    theirs = torch.nn.Embedding(6, 4, max_norm=1.5, norm_type=3.0).double()
    with nk.no_grad():
        ours.weight.copy_(f64(values))
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(values))
    out_o, out_t = ours(nk.tensor(idx)), theirs(torch.tensor(idx))
    np.testing.assert_allclose(out_o.detach().numpy(), out_t.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), rtol=1e-12)
    g = rng.standard_normal(out_o.shape)
    out_o.backward(f64(g))
    out_t.backward(torch.tensor(g))
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-12)
    assert repr(ours) == repr(theirs)


def test_saved_indices_are_a_copy():
    w = f64(np.eye(3), requires_grad=True)
    idx = nk.tensor([0, 1])
    out = F.embedding(idx, w)
    idx.fill_(2)
    out.sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[1, 1, 1], [1, 1, 1], [0, 0, 0]])


def test_frozen_weight_records_nothing():
    w = f64(np.eye(3))
    assert F.embedding(nk.tensor([0, 1]), w).grad_fn is None
    emb = nn.Embedding(4, 2).requires_grad_(False)
    out = emb(nk.tensor([1, 2]))
    assert out.grad_fn is None and not out.requires_grad


def test_functional_errors():
    w = f64(np.eye(3))
    with pytest.raises(IndexError, match="index out of range in self"):
        F.embedding(nk.tensor([3]), w)
    with pytest.raises(IndexError, match="index out of range in self"):
        F.embedding(nk.tensor([-1]), w)
    with pytest.raises(RuntimeError, match="Expected tensor for argument #1 'indices' to have one of the following "
                                           "scalar types: Long, Int; but got nnkit.FloatTensor instead"):
        F.embedding(nk.tensor([1.0]), w)
    with pytest.raises(RuntimeError, match="'weight' must be 2-D"):
        F.embedding(nk.tensor([0]), f64([1.0, 2.0]))
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        F.embedding(nk.tensor([0]), w, padding_idx=3)
    with pytest.raises(TypeError, match="must be Tensor, not list"):
        F.embedding([0], w)


# -- the module ---------------------------------------------------------------------------------------------------
def test_embedding_module_initialisation_and_padding_row():
    nk.manual_seed(0)
    emb = nn.Embedding(1000, 8, padding_idx=-2)
    assert emb.padding_idx == 998 and emb.weight.shape == (1000, 8) and isinstance(emb.weight, nn.Parameter)
    w = emb.weight.detach().numpy()
    assert not w[998].any()
    rest = np.delete(w, 998, axis=0)
    assert abs(rest.mean()) < 0.03 and abs(rest.std() - 1.0) < 0.03  # N(0, 1), as PyTorch
    assert repr(emb) == "Embedding(1000, 8, padding_idx=998)"
    out = emb(nk.tensor([[998, 3]]))
    assert out.shape == (1, 2, 8) and not out.detach().numpy()[0, 0].any()
    out.sum().backward()
    assert not emb.weight.grad.numpy()[998].any() and (emb.weight.grad.numpy()[3] == 1).all()
    assert list(emb.state_dict()) == ["weight"]


def test_embedding_module_options_and_repr():
    emb = nn.Embedding(5, 2, max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True)
    assert repr(emb) == "Embedding(5, 2, max_norm=1.0, norm_type=1.0, scale_grad_by_freq=True)"
    emb(nk.tensor([0, 1, 2, 3, 4]))
    assert (np.abs(emb.weight.detach().numpy()).sum(1) <= 1.0 + 1e-6).all()
    with pytest.raises(AssertionError, match="Padding_idx must be within num_embeddings"):
        nn.Embedding(3, 2, padding_idx=3)
    with pytest.raises(ValueError, match=r"sparse=True\): nnkit has no sparse tensors"):
        nn.Embedding(3, 2, sparse=True)
    with pytest.raises(ValueError, match=r"embedding\(\): sparse=True needs sparse tensors"):
        F.embedding(nk.tensor([0]), nk.ones(3, 2), sparse=True)


def test_from_pretrained_shares_the_weight_and_freezes_by_default():
    table = nk.tensor([[1.0, 2.3, 3.0], [4.0, 5.1, 6.3]])
    emb = nn.Embedding.from_pretrained(table)
    assert not emb.weight.requires_grad and emb.weight.data_ptr() == table.data_ptr()
    np.testing.assert_allclose(emb(nk.tensor([1])).numpy(), [[4.0, 5.1, 6.3]])
    trainable = nn.Embedding.from_pretrained(table, freeze=False, padding_idx=0)
    assert trainable.weight.requires_grad and trainable.padding_idx == 0
    np.testing.assert_allclose(trainable.weight.detach().numpy()[0], [1.0, 2.3, 3.0])  # kept, as PyTorch
    with pytest.raises(AssertionError, match="Embeddings parameter is expected to be 2-dimensional"):
        nn.Embedding.from_pretrained(nk.zeros(3))
    with pytest.raises(AssertionError, match="Shape of weight does not match num_embeddings and embedding_dim"):
        nn.Embedding(3, 3, _weight=table)


def test_module_matches_torch_values_and_gradients():
    torch = pytest.importorskip("torch")
    values = np.random.default_rng(1).standard_normal((5, 3))
    idx = np.array([[4, 0, 4], [2, 2, 1]])
    for kwargs in ({}, {"padding_idx": 4}, {"scale_grad_by_freq": True},
                   {"padding_idx": 2, "scale_grad_by_freq": True}):
        ours = nn.Embedding.from_pretrained(f64(values.copy()), freeze=False, **kwargs)
        theirs = torch.nn.Embedding.from_pretrained(torch.tensor(values.copy()), freeze=False, **kwargs)
        out_o, out_t = ours(nk.tensor(idx)), theirs(torch.tensor(idx))
        np.testing.assert_array_equal(out_o.detach().numpy(), out_t.detach().numpy())
        (out_o * out_o).sum().backward()
        (out_t * out_t).sum().backward()
        np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-12,
                                   err_msg=str(kwargs))
        assert repr(ours) == repr(theirs)


# -- one_hot --------------------------------------------------------------------------------------------------------
def test_one_hot_values_shapes_and_dtype():
    out = F.one_hot(nk.tensor([0, 2, 1]))
    assert out.dtype == nk.int64 and out.tolist() == [[1, 0, 0], [0, 0, 1], [0, 1, 0]]
    out = F.one_hot(nk.tensor([[1], [0]]), num_classes=4)
    assert out.shape == (2, 1, 4) and out.tolist() == [[[0, 1, 0, 0]], [[1, 0, 0, 0]]]
    assert F.one_hot(nk.tensor(3), 5).tolist() == [0, 0, 0, 1, 0]
    assert F.one_hot(nk.tensor([], dtype=nk.int64), 3).shape == (0, 3)
    assert not F.one_hot(nk.tensor([1])).requires_grad


def test_one_hot_errors():
    with pytest.raises(RuntimeError, match="one_hot is only applicable to index tensor of type LongTensor"):
        F.one_hot(nk.tensor([1.0]))
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes"):
        F.one_hot(nk.tensor([3]), 2)
    with pytest.raises(RuntimeError, match="Class values must be non-negative"):
        F.one_hot(nk.tensor([-1]))
    with pytest.raises(RuntimeError, match="Can not infer total number of classes from empty tensor"):
        F.one_hot(nk.tensor([], dtype=nk.int64))


def test_one_hot_matches_torch():
    torch = pytest.importorskip("torch")
    idx = np.array([[3, 0], [1, 1]])
    for num_classes in (-1, 6):
        ours = F.one_hot(nk.tensor(idx), num_classes).numpy()
        theirs = tF().one_hot(torch.tensor(idx), num_classes).numpy()
        assert ours.dtype == theirs.dtype
        np.testing.assert_array_equal(ours, theirs)
