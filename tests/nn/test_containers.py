"""Sequential, ModuleList, ModuleDict and the shape layers Identity, Flatten, Unflatten."""

from collections import OrderedDict

import numpy as np
import pytest

import nnkit as nk
from nnkit import nn


class Add(nn.Module):
    """Adds a constant: easy to follow through a pipeline."""

    def __init__(self, value):
        super().__init__()
        self.value = value
        self.w = nn.Parameter(nk.tensor([float(value)]))

    def forward(self, x):
        return x + self.value

    def extra_repr(self):
        return f"value={self.value}"


def values(container):
    return [m.value for m in container]


# -- Sequential ------------------------------------------------------------------------------------------------
def test_sequential_forward_chains_modules():
    seq = nn.Sequential(Add(1), Add(10), Add(100))
    assert seq(nk.tensor([0.0])).tolist() == [111.0]
    assert list(seq._modules) == ["0", "1", "2"]
    assert [n for n, _ in seq.named_parameters()] == ["0.w", "1.w", "2.w"]
    assert nn.Sequential()(nk.tensor(3.0)).item() == 3.0


def test_sequential_from_ordered_dict_keeps_names():
    seq = nn.Sequential(OrderedDict([("first", Add(1)), ("second", Add(2))]))
    assert list(seq.state_dict()) == ["first.w", "second.w"]
    assert seq.first.value == 1
    assert repr(seq) == "Sequential(\n  (first): Add(value=1)\n  (second): Add(value=2)\n)"


def test_sequential_indexing_and_slicing():
    seq = nn.Sequential(Add(0), Add(1), Add(2), Add(3))
    assert seq[0].value == 0 and seq[-1].value == 3 and seq[-4].value == 0
    sub = seq[1:3]
    assert isinstance(sub, nn.Sequential) and values(sub) == [1, 2]
    assert list(sub._modules) == ["1", "2"]  # as PyTorch: a slice keeps the original names
    assert values(seq[::-1]) == [3, 2, 1, 0]
    assert sub[0] is seq[1]
    with pytest.raises(IndexError, match="index 4 is out of range"):
        seq[4]
    with pytest.raises(IndexError, match="index -5 is out of range"):
        seq[-5]
    with pytest.raises(TypeError):
        seq["0"]


def test_sequential_setitem_delitem_renumber():
    seq = nn.Sequential(Add(0), Add(1), Add(2), Add(3))
    seq[-1] = Add(30)
    assert values(seq) == [0, 1, 2, 30]
    del seq[1]
    assert values(seq) == [0, 2, 30] and list(seq._modules) == ["0", "1", "2"]
    del seq[0:2]
    assert values(seq) == [30] and list(seq._modules) == ["0"]
    assert list(seq.state_dict()) == ["0.w"]


def test_sequential_append_extend_insert_pop_len_iter():
    seq = nn.Sequential(Add(0))
    assert seq.append(Add(1)) is seq
    assert seq.extend([Add(2), Add(3)]) is seq
    assert seq.insert(0, Add(-1)) is seq
    seq.insert(-1, Add(25))
    seq.insert(len(seq), Add(4))
    assert values(seq) == [-1, 0, 1, 2, 25, 3, 4]
    assert list(seq._modules) == [str(i) for i in range(7)]
    assert len(seq) == 7 and [m.value for m in iter(seq)] == values(seq)
    popped = seq.pop(4)
    assert popped.value == 25 and values(seq) == [-1, 0, 1, 2, 3, 4]
    with pytest.raises(IndexError, match="Index out of range: 9"):
        seq.insert(9, Add(9))
    with pytest.raises(AssertionError, match="module should be of type"):
        seq.insert(0, 3)


def test_sequential_add_and_iadd():
    a, b = nn.Sequential(Add(1)), nn.Sequential(Add(2), Add(3))
    c = a + b
    assert values(c) == [1, 2, 3] and values(a) == [1]
    a += b
    assert values(a) == [1, 2, 3] and list(a._modules) == ["0", "1", "2"]
    with pytest.raises(ValueError, match="add operator supports only objects of Sequential class"):
        a + [Add(1)]


def test_sequential_rejects_non_modules():
    with pytest.raises(TypeError, match="int is not a Module subclass"):
        nn.Sequential(Add(1), 2)


# -- ModuleList ------------------------------------------------------------------------------------------------
def test_module_list_registers_and_follows_list_api():
    ml = nn.ModuleList([Add(0), Add(1)])
    ml.append(Add(2))
    ml.extend([Add(3)])
    ml += [Add(4)]
    ml.insert(1, Add(10))
    ml.insert(-1, Add(20))
    assert values(ml) == [0, 10, 1, 2, 3, 20, 4]
    assert list(ml._modules) == [str(i) for i in range(7)]
    assert len(ml) == 7 and ml[-1].value == 4 and values(ml[1:3]) == [10, 1]
    assert isinstance(ml[1:3], nn.ModuleList)
    ml[0] = Add(-1)
    del ml[1]
    assert values(ml) == [-1, 1, 2, 3, 20, 4]
    del ml[::2]
    assert values(ml) == [1, 3, 4] and list(ml._modules) == ["0", "1", "2"]
    assert ml.pop().value == 4 and ml.pop(0).value == 1 and values(ml) == [3]
    both = ml + nn.ModuleList([Add(7)])
    assert isinstance(both, nn.ModuleList) and values(both) == [3, 7]
    with pytest.raises(IndexError, match="index 5 is out of range"):
        ml[5]
    with pytest.raises(TypeError, match="ModuleList.extend should be called with an iterable, but got int"):
        ml.extend(3)


def test_module_list_parameters_reach_the_parent():
    class Stack(nn.Module):
        def __init__(self):
            super().__init__()
            self.blocks = nn.ModuleList([Add(i) for i in range(3)])

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return x

    model = Stack()
    assert [n for n, _ in model.named_parameters()] == ["blocks.0.w", "blocks.1.w", "blocks.2.w"]
    assert model(nk.tensor(0.0)).item() == 3.0
    with pytest.raises(NotImplementedError, match=r"Module \[ModuleList\] is missing the required \"forward\""):
        model.blocks(nk.tensor(0.0))


def test_module_list_repr_compresses_repeats_like_pytorch():
    ml = nn.ModuleList([nn.Identity(), nn.Identity(), nn.Identity(), nn.Flatten(), nn.Identity()])
    assert repr(ml) == (
        "ModuleList(\n"
        "  (0-2): 3 x Identity()\n"
        "  (3): Flatten(start_dim=1, end_dim=-1)\n"
        "  (4): Identity()\n"
        ")"
    )
    assert repr(nn.ModuleList()) == "ModuleList()"
    nested = nn.ModuleList([nn.Sequential(nn.Identity()), nn.Sequential(nn.Identity())])
    assert repr(nested) == "ModuleList(\n  (0-1): 2 x Sequential(\n    (0): Identity()\n  )\n)"


# -- ModuleDict ------------------------------------------------------------------------------------------------
def test_module_dict_api():
    md = nn.ModuleDict({"a": Add(1), "b": Add(2)})
    md["c"] = Add(3)
    md.update([("d", Add(4))])
    md.update(OrderedDict([("a", Add(10))]))
    assert list(md) == ["a", "b", "c", "d"] and list(md.keys()) == ["a", "b", "c", "d"]
    assert [m.value for m in md.values()] == [10, 2, 3, 4]
    assert [k for k, _ in md.items()] == ["a", "b", "c", "d"]
    assert "c" in md and "z" not in md and len(md) == 4
    assert md.pop("b").value == 2 and "b" not in md
    del md["c"]
    assert list(md.state_dict()) == ["a.w", "d.w"]
    md.clear()
    assert len(md) == 0 and list(md.parameters()) == []
    with pytest.raises(KeyError):
        md["missing"]
    with pytest.raises(TypeError, match="ModuleDict.update should be called with an iterable"):
        md.update(3)
    with pytest.raises(ValueError, match="element #0 has length 3; 2 is required"):
        md.update([("a", Add(1), 3)])
    with pytest.raises(TypeError, match="element #0 should be Iterable"):
        md.update([3])


# -- Identity, Flatten, Unflatten ------------------------------------------------------------------------------
def test_identity_returns_input_and_ignores_arguments():
    x = nk.randn(3, requires_grad=True)
    assert nn.Identity(54, unused=0.1)(x) is x
    assert repr(nn.Identity()) == "Identity()"


def test_flatten_and_unflatten_shapes_values_and_gradient():
    x = nk.arange(24.0).reshape(2, 3, 4).requires_grad_()
    flat = nn.Flatten()(x)
    assert flat.shape == (2, 12)
    np.testing.assert_array_equal(flat.detach().numpy(), np.arange(24.0).reshape(2, 12))
    assert nn.Flatten(0, 1)(x).shape == (6, 4) and nn.Flatten(start_dim=0)(x).shape == (24,)
    back = nn.Unflatten(1, (3, 4))(flat)
    assert back.shape == (2, 3, 4)
    np.testing.assert_array_equal(back.detach().numpy(), x.detach().numpy())
    assert nn.Unflatten(-1, [2, -1])(flat).shape == (2, 2, 6)
    (back * nk.arange(24.0).reshape(2, 3, 4)).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.arange(24.0).reshape(2, 3, 4))
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"
    assert repr(nn.Unflatten(1, (2, 5, 5))) == "Unflatten(dim=1, unflattened_size=(2, 5, 5))"


def test_unflatten_validates_sizes():
    with pytest.raises(TypeError, match="unflattened_size must be a tuple of ints, but found type int"):
        nn.Unflatten(1, 5)
    with pytest.raises(TypeError, match="found element of type float at pos 1"):
        nn.Unflatten(1, (2, 2.5))


def test_containers_match_torch():
    torch = pytest.importorskip("torch")
    seq = nn.Sequential(nn.Identity(), nn.Flatten(), nn.Unflatten(1, (2, 3)))
    tseq = torch.nn.Sequential(torch.nn.Identity(), torch.nn.Flatten(), torch.nn.Unflatten(1, (2, 3)))
    assert repr(seq) == repr(tseq)
    assert repr(seq[1:]) == repr(tseq[1:])
    ml = nn.ModuleList([nn.Flatten(), nn.Flatten(), nn.Identity()])
    tml = torch.nn.ModuleList([torch.nn.Flatten(), torch.nn.Flatten(), torch.nn.Identity()])
    assert repr(ml) == repr(tml)
    md = nn.ModuleDict({"x": nn.Identity(), "y": nn.Sequential(nn.Flatten())})
    tmd = torch.nn.ModuleDict({"x": torch.nn.Identity(), "y": torch.nn.Sequential(torch.nn.Flatten())})
    assert repr(md) == repr(tmd)
    x = np.arange(12.0, dtype=np.float32).reshape(2, 6)
    np.testing.assert_array_equal(seq(nk.tensor(x)).numpy(), tseq(torch.tensor(x)).numpy())
