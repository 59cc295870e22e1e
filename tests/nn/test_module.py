"""Parameter and Module: registration, traversal, modes, hooks, conversion, state_dict, repr.

Self-contained: the layers here are small Modules written in the test, so this file does not depend on
nn.Linear and friends. Where torch imports, the same model built in torch gives the same names and reprs.
"""

import copy
import pickle
from collections import OrderedDict

import numpy as np
import pytest

import nnkit as nk
from nnkit import nn


class Dense(nn.Module):
    """A minimal linear layer (named so its repr differs from nn.Linear's)."""

    def __init__(self, n_in, n_out, bias=True):
        super().__init__()
        self.weight = nn.Parameter(nk.randn(n_out, n_in))
        if bias:
            self.bias = nn.Parameter(nk.zeros(n_out))
        else:
            self.register_parameter("bias", None)
        self.n_in, self.n_out = n_in, n_out

    def forward(self, x):
        y = x @ self.weight.T
        return y + self.bias if self.bias is not None else y

    def extra_repr(self):
        return f"in_features={self.n_in}, out_features={self.n_out}, bias={self.bias is not None}"


class Norm(nn.Module):
    """A module with buffers: a persistent running mean, an integer counter and a non-persistent scratch."""

    def __init__(self, n):
        super().__init__()
        self.scale = nn.Parameter(nk.ones(n))
        self.register_buffer("running_mean", nk.zeros(n))
        self.register_buffer("count", nk.tensor(0))
        self.register_buffer("scratch", nk.zeros(n), persistent=False)

    def forward(self, x):
        return (x - self.running_mean) * self.scale


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(Dense(4, 8), Norm(8))
        self.fc = Dense(8, 3)

    def forward(self, x):
        return self.fc(self.body(x))


# -- Parameter -------------------------------------------------------------------------------------------------
def test_parameter_is_a_leaf_tensor_sharing_storage_and_version():
    t = nk.tensor([1.0, 2.0])
    p = nn.Parameter(t)
    assert isinstance(p, nk.Tensor) and isinstance(p, nn.Parameter)
    assert p.requires_grad and p.is_leaf and p.grad_fn is None
    assert p.data_ptr() == t.data_ptr()
    t.add_(1)
    assert p.tolist() == [2.0, 3.0] and p._version == 1
    assert not nn.Parameter(nk.tensor([1.0]), requires_grad=False).requires_grad


def test_parameter_from_a_graph_tensor_is_a_new_leaf():
    x = nk.ones(2, requires_grad=True)
    p = nn.Parameter(x * 2)
    assert p.is_leaf and p.requires_grad and p.tolist() == [2.0, 2.0]


def test_parameter_empty_and_repr():
    empty = nn.Parameter()
    assert empty.shape == (0,) and empty.dtype == nk.float32 and empty.requires_grad
    assert repr(nn.Parameter(nk.tensor([1.0, 2.0]))) == "Parameter containing:\ntensor([1., 2.], requires_grad=True)"
    assert repr(nn.Parameter(nk.tensor([1, 2]), requires_grad=False)) == "Parameter containing:\ntensor([1, 2])"


def test_parameter_errors():
    with pytest.raises(RuntimeError, match="Only Tensors of floating point and complex dtype can require gradients"):
        nn.Parameter(nk.tensor([1, 2]))
    with pytest.raises(TypeError, match="must be a Tensor, not list"):
        nn.Parameter([1.0, 2.0])


def test_ops_on_parameters_give_tensors_and_gradients():
    p = nn.Parameter(nk.tensor([[1.0, 2.0], [3.0, 4.0]]))
    x = nk.tensor([1.0, -1.0])
    out = (p @ x).sum() + (p * p).sum() + p[0, 1] + p.sum(0).mean()
    assert type(out) is nk.Tensor
    out.backward()
    np.testing.assert_allclose(p.grad.numpy(), [[3.5, 4.5], [7.5, 7.5]])
    assert type(p.grad) is nk.Tensor


def test_views_and_joins_of_parameters_are_tensors_in_the_graph():
    p = nn.Parameter(nk.arange(6.0).reshape(2, 3))
    outs = [p.reshape(6), p.view(3, 2), p.T, p.unsqueeze(0), p.expand(2, 2, 3), nk.cat([p, p]), nk.stack([p, p]),
            nk.where(p > 2, p, p * 2), p[p > 2], p.clone()]
    assert all(type(o) is nk.Tensor and o.grad_fn is not None for o in outs)
    total = outs[0].sum()
    for o in outs[1:]:
        total = total + o.sum()
    total.backward()
    np.testing.assert_allclose(p.grad.numpy(), np.full((2, 3), 13.0))  # 1+1+1+1+2+2+2+(2 or 1)+(0 or 1)+1
    assert type(p.detach()) is nk.Tensor and not p.detach().requires_grad


def test_parameter_requires_grad_inplace_no_grad_and_grad_assignment():
    p = nn.Parameter(nk.tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        p.mul_(2)
    with nk.no_grad():
        p.mul_(2)
        p -= 1
    assert p.tolist() == [1.0, 3.0] and p.is_leaf and p.requires_grad
    p.grad = nk.ones(2)
    assert p.grad.tolist() == [1.0, 1.0]
    assert p.requires_grad_(False) is p and not p.requires_grad
    assert (p * 2).grad_fn is None


def test_parameter_deepcopy_and_pickle_keep_the_class():
    p = nn.Parameter(nk.tensor([1.0, 2.0]))
    p.grad = nk.ones(2)
    q = copy.deepcopy(p)
    assert type(q) is nn.Parameter and q.requires_grad and q.tolist() == [1.0, 2.0]
    assert q.data_ptr() != p.data_ptr() and q.grad is None  # as PyTorch: deepcopy does not copy .grad
    both = copy.deepcopy([p, p])
    assert both[0] is both[1]
    r = pickle.loads(pickle.dumps(nn.Parameter(nk.tensor([3.0]), requires_grad=False)))
    assert type(r) is nn.Parameter and not r.requires_grad and r.tolist() == [3.0]


# -- registration ----------------------------------------------------------------------------------------------
def test_registration_order_and_names():
    nk.manual_seed(0)
    net = Net()
    assert list(net._modules) == ["body", "fc"]
    assert [n for n, _ in net.named_parameters()] == ["body.0.weight", "body.0.bias", "body.1.scale", "fc.weight",
                                                      "fc.bias"]
    assert [n for n, _ in net.named_buffers()] == ["body.1.running_mean", "body.1.count", "body.1.scratch"]
    assert [n for n, _ in net.named_modules()] == ["", "body", "body.0", "body.1", "fc"]
    assert [n for n, _ in net.named_children()] == ["body", "fc"]
    assert [n for n, _ in net.named_parameters(recurse=False)] == []
    assert [n for n, _ in net.fc.named_parameters(prefix="head")] == ["head.weight", "head.bias"]
    assert len(list(net.parameters())) == 5 and len(list(net.buffers())) == 3
    assert list(net.modules())[0] is net and list(net.children()) == [net.body, net.fc]


def test_shared_parameters_and_modules_are_deduplicated():
    shared = Dense(3, 3)
    seq = nn.Sequential(shared, shared)
    assert [n for n, _ in seq.named_parameters()] == ["0.weight", "0.bias"]
    assert [n for n, _ in seq.named_parameters(remove_duplicate=False)] == ["0.weight", "0.bias", "1.weight",
                                                                              "1.bias"]
    assert [n for n, _ in seq.named_modules()] == ["", "0"]
    assert [n for n, _ in seq.named_modules(remove_duplicate=False)] == ["", "0", "1"]
    tied = nn.Sequential(Dense(2, 2), Dense(2, 2))
    tied[1].weight = tied[0].weight
    assert [n for n, _ in tied.named_parameters()] == ["0.weight", "0.bias", "1.bias"]
    assert list(tied.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_replace_and_delete_submodules_and_parameters():
    net = Net()
    old = net.fc.weight
    net.fc = Dense(8, 10)
    assert net.fc.weight is not old and net.fc.weight.shape == (10, 8)
    assert list(net._modules) == ["body", "fc"]
    del net.fc
    assert "fc" not in net._modules
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'fc'"):
        _ = net.fc
    layer = Dense(2, 2)
    del layer.bias
    assert [n for n, _ in layer.named_parameters()] == ["weight"]
    layer.bias = nn.Parameter(nk.zeros(2))
    assert [n for n, _ in layer.named_parameters()] == ["weight", "bias"]
    layer.bias = None
    assert layer.bias is None and "bias" in layer._parameters
    assert [n for n, _ in layer.named_parameters()] == ["weight"]


def test_attribute_kinds_move_between_registries():
    m = nn.Module()
    m.x = 3
    m.x = nn.Parameter(nk.zeros(1))
    assert "x" not in m.__dict__ and "x" in m._parameters
    del m.x
    m.x = Dense(1, 1)
    assert "x" in m._modules and "x" not in m._parameters
    m.register_buffer("b", nk.zeros(2))
    m.b = nk.ones(2)
    assert m._buffers["b"].tolist() == [1.0, 1.0]
    m.b = None
    assert m.b is None and list(m.state_dict()) == ["x.weight", "x.bias"]
    m.plain = nk.ones(1)  # an unregistered tensor attribute is an ordinary attribute
    assert "plain" in m.__dict__ and "plain" not in m._buffers


def test_assignment_errors_have_pytorch_wording():
    layer = Dense(2, 2)
    with pytest.raises(TypeError, match=r"cannot assign 'nnkit.FloatTensor' as parameter 'weight' "
                                        r"\(nnkit.nn.Parameter or None expected\)"):
        layer.weight = nk.zeros(2, 2)
    net = Net()
    with pytest.raises(TypeError, match="cannot assign 'int' as child module 'fc'"):
        net.fc = 3
    norm = Norm(2)
    with pytest.raises(TypeError, match="cannot assign 'str' as buffer 'running_mean'"):
        norm.running_mean = "x"
    with pytest.raises(AttributeError, match="'Net' object has no attribute 'foo'"):
        _ = net.foo


def test_assignment_before_init_is_an_error():
    class Early(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(nk.zeros(1))
            super().__init__()

    with pytest.raises(AttributeError, match=r"cannot assign parameters before Module.__init__\(\) call"):
        Early()

    class EarlyModule(nn.Module):
        def __init__(self):
            self.sub = nn.Identity()

    with pytest.raises(AttributeError, match=r"cannot assign module before Module.__init__\(\) call"):
        EarlyModule()


def test_register_methods_validate_names_and_values():
    m = nn.Module()
    m.add_module("a", nn.Identity())
    m.register_module("b", nn.Identity())
    assert list(m._modules) == ["a", "b"]
    with pytest.raises(KeyError, match="attribute 'a' already exists"):
        m.register_buffer("a", nk.zeros(1))
    with pytest.raises(KeyError, match=r'contain "\.", got: x.y'):
        m.register_parameter("x.y", None)
    with pytest.raises(KeyError, match="be empty string"):
        m.add_module("", nn.Identity())
    with pytest.raises(TypeError, match="parameter name should be a string. Got int"):
        m.register_parameter(1, None)
    with pytest.raises(TypeError, match="cannot assign 'nnkit.FloatTensor' object to parameter 'p'"):
        m.register_parameter("p", nk.zeros(1))
    with pytest.raises(TypeError, match="cannot assign 'int' object to buffer 'q'"):
        m.register_buffer("q", 1)
    with pytest.raises(TypeError, match="int is not a Module subclass"):
        m.add_module("c", 1)
    x = nk.ones(1, requires_grad=True)
    p = nn.Parameter(nk.ones(1))
    p.grad_fn = (x * 2).grad_fn  # simulate a non-leaf parameter
    with pytest.raises(ValueError, match="Cannot assign non-leaf Tensor to parameter 'w'"):
        m.register_parameter("w", p)


def test_get_submodule_parameter_buffer():
    net = Net()
    assert net.get_submodule("") is net
    assert net.get_submodule("body.1") is net.body[1]
    assert net.get_parameter("body.0.weight") is net.body[0].weight
    assert net.get_buffer("body.1.running_mean") is net.body[1].running_mean
    with pytest.raises(AttributeError, match="Sequential has no attribute `5`"):
        net.get_submodule("body.5")
    with pytest.raises(AttributeError, match="`n_in` is not an nn.Module"):
        net.get_submodule("fc.n_in")
    with pytest.raises(AttributeError, match="`n_in` is not an nn.Parameter"):
        net.get_parameter("fc.n_in")
    with pytest.raises(AttributeError, match="Dense has no attribute `nope`"):
        net.get_parameter("fc.nope")
    with pytest.raises(AttributeError, match="`scale` is not a buffer"):
        net.get_buffer("body.1.scale")
    with pytest.raises(AttributeError, match="Norm has no attribute `nope`"):
        net.get_buffer("body.1.nope")


# -- calling, hooks --------------------------------------------------------------------------------------------
def test_missing_forward_raises_not_implemented():
    class NoForward(nn.Module):
        pass

    with pytest.raises(NotImplementedError, match=r'Module \[NoForward\] is missing the required "forward" function'):
        NoForward()(nk.ones(1))


def test_forward_hooks_can_replace_args_and_output_and_be_removed():
    layer = Dense(2, 2)
    calls = []
    pre = layer.register_forward_pre_hook(lambda m, args: (args[0] * 0,))
    post = layer.register_forward_hook(lambda m, args, out: calls.append((m, args[0].tolist())) or out + 1)
    out = layer(nk.ones(1, 2))
    assert out.tolist() == [[1.0, 1.0]]  # zeroed input, zero bias, +1 from the hook
    assert calls[0][0] is layer and calls[0][1] == [[0.0, 0.0]]
    pre.remove()
    post.remove()
    pre.remove()  # removing twice is a no-op
    out = layer(nk.ones(1, 2))
    np.testing.assert_allclose(out.detach().numpy(), layer.weight.detach().numpy().sum(1)[None])
    assert len(calls) == 1


def test_forward_pre_hook_non_tuple_result_is_wrapped_and_hooks_run_in_order():
    m = nn.Identity()
    order = []
    m.register_forward_pre_hook(lambda mod, args: order.append("a"))
    m.register_forward_pre_hook(lambda mod, args: order.append("first"), prepend=True)
    m.register_forward_pre_hook(lambda mod, args: args[0] + 1)
    assert m(nk.tensor(1.0)).item() == 2.0
    assert order == ["first", "a"]


def test_hooks_with_kwargs():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    m = Scale()
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"factor": 3.0}), with_kwargs=True)
    seen = {}
    m.register_forward_hook(lambda mod, args, kwargs, out: seen.update(kwargs), with_kwargs=True)
    assert m(nk.tensor(2.0)).item() == 6.0
    assert seen == {"factor": 3.0}


# -- modes, gradients, apply -----------------------------------------------------------------------------------
def test_train_eval_recursive_and_return_self():
    net = Net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    assert net.train() is net and all(m.training for m in net.modules())
    net.train(False)
    assert not net.body[0].training
    with pytest.raises(ValueError, match="training mode is expected to be boolean"):
        net.train("yes")


def test_train_calls_children_overrides():
    class FrozenBN(Norm):
        def train(self, mode=True):
            return super().train(False)

    net = nn.Sequential(Dense(2, 2), FrozenBN(2))
    net.train()
    assert net.training and net[0].training and not net[1].training


def test_requires_grad_and_zero_grad():
    net = Net()
    net(nk.randn(2, 4)).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
    assert net.requires_grad_(False) is net
    assert not any(p.requires_grad for p in net.parameters())
    net.fc.requires_grad_()
    assert [n for n, p in net.named_parameters() if p.requires_grad] == ["fc.weight", "fc.bias"]


def test_apply_visits_children_first():
    net = Net()
    seen = []
    assert net.apply(lambda m: seen.append(type(m).__name__)) is net
    assert seen == ["Dense", "Norm", "Sequential", "Dense", "Net"]


def test_conversion_keeps_parameter_identity_and_integer_buffers():
    net = Net()
    params = list(net.parameters())
    net(nk.randn(2, 4)).sum().backward()
    assert net.double() is net
    assert [p is q for p, q in zip(net.parameters(), params)] == [True] * 5
    assert all(p.dtype == nk.float64 and p.grad.dtype == nk.float64 for p in net.parameters())
    assert net.body[1].running_mean.dtype == nk.float64 and net.body[1].count.dtype == nk.int64
    assert net.body[1].scratch.dtype == nk.float64
    assert net.float().fc.weight.dtype == nk.float32
    assert net.to(nk.float64).fc.bias.dtype == nk.float64
    assert net.to("cpu") is net and net.to("cpu", nk.float32).fc.weight.dtype == nk.float32
    assert net.to(nk.zeros(1, dtype=nk.float64)).fc.weight.dtype == nk.float64
    assert net.half().fc.weight.dtype == nk.float16
    assert net.cpu() is net
    with pytest.raises(TypeError, match="nn.Module.to only accepts floating point"):
        net.to(nk.int64)
    net.float()
    out = net(nk.randn(2, 4))
    assert out.dtype == nk.float32
    out.sum().backward()
    assert net.fc.weight.grad.dtype == nk.float32


def test_pickle_of_a_module():
    net = Net()
    clone = pickle.loads(pickle.dumps(net))
    assert type(clone.fc.weight) is nn.Parameter and list(clone.state_dict()) == list(net.state_dict())
    np.testing.assert_array_equal(clone.fc.weight.detach().numpy(), net.fc.weight.detach().numpy())
    assert clone.body[1]._non_persistent_buffers_set == {"scratch"}


def test_deepcopy_of_a_module():
    net = Net()
    clone = copy.deepcopy(net)
    assert type(clone.fc.weight) is nn.Parameter and clone.fc.weight is not net.fc.weight
    np.testing.assert_array_equal(clone.fc.weight.detach().numpy(), net.fc.weight.detach().numpy())
    with nk.no_grad():
        clone.fc.weight.zero_()
    assert net.fc.weight.detach().numpy().any()


# -- state_dict ------------------------------------------------------------------------------------------------
def test_state_dict_keys_values_and_sharing():
    net = Net()
    sd = net.state_dict()
    assert isinstance(sd, OrderedDict)
    assert list(sd) == ["body.0.weight", "body.0.bias", "body.1.scale", "body.1.running_mean", "body.1.count",
                        "fc.weight", "fc.bias"]
    w = sd["fc.weight"]
    assert type(w) is nk.Tensor and not w.requires_grad and w.data_ptr() == net.fc.weight.data_ptr()
    assert net.state_dict(keep_vars=True)["fc.weight"] is net.fc.weight
    assert list(net.fc.state_dict(prefix="head.")) == ["head.weight", "head.bias"]
    assert sd._metadata[""] == {"version": 1} and "body.1" in sd._metadata


def test_load_state_dict_round_trip_copies_in_place():
    nk.manual_seed(1)
    a, b = Net(), Net()
    weight = b.fc.weight
    with nk.no_grad():
        a.body[1].count.fill_(7)
    result = b.load_state_dict(a.state_dict())
    assert result.missing_keys == [] and result.unexpected_keys == [] and repr(result) == "<All keys matched " \
                                                                                          "successfully>"
    assert b.fc.weight is weight and weight.requires_grad and weight.is_leaf
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items()):
        assert ka == kb
        np.testing.assert_array_equal(va.numpy(), vb.numpy())
    assert b.body[1].count.item() == 7
    with nk.no_grad():
        a.fc.weight.zero_()
    assert b.fc.weight.detach().numpy().any()  # copied, not shared


def test_load_state_dict_reports_every_problem_at_once():
    net = Net()
    sd = net.state_dict()
    del sd["fc.bias"]
    sd["fc.extra"] = nk.zeros(1)
    sd["nope.weight"] = nk.zeros(1)
    sd["fc.weight"] = nk.zeros(3, 5)
    sd["body.1.scale"] = nk.zeros(9)
    with pytest.raises(RuntimeError) as info:
        net.load_state_dict(sd)
    assert str(info.value) == (
        "Error(s) in loading state_dict for Net:\n"
        '\tMissing key(s) in state_dict: "fc.bias". \n'
        '\tUnexpected key(s) in state_dict: "nope.weight", "fc.extra". \n'
        "\tsize mismatch for body.1.scale: copying a param with shape [9] from checkpoint, the shape in current "
        "model is [8].\n"
        "\tsize mismatch for fc.weight: copying a param with shape [3, 5] from checkpoint, the shape in current "
        "model is [3, 8]."
    )


def test_load_state_dict_non_strict_returns_keys_but_still_rejects_shapes():
    net = Net()
    sd = net.state_dict()
    del sd["fc.bias"]
    sd["fc.extra"] = nk.zeros(1)
    result = net.load_state_dict(sd, strict=False)
    assert result.missing_keys == ["fc.bias"] and result.unexpected_keys == ["fc.extra"]
    missing, unexpected = result
    assert missing == ["fc.bias"]
    sd["fc.weight"] = nk.zeros(1, 1)
    with pytest.raises(RuntimeError, match="size mismatch for fc.weight"):
        net.load_state_dict(sd, strict=False)


def test_load_state_dict_errors_and_dtype_cast():
    net = Dense(2, 2)
    with pytest.raises(TypeError, match="Expected state_dict to be dict-like"):
        net.load_state_dict([1, 2])
    with pytest.raises(RuntimeError, match='expected nnkit.Tensor or Tensor-like object from checkpoint'):
        net.load_state_dict({"weight": [[1.0, 2.0], [3.0, 4.0]], "bias": nk.zeros(2)})
    net.load_state_dict({"weight": nk.eye(2, dtype=nk.float64), "bias": nk.ones(2, dtype=nk.float64)})
    assert net.weight.dtype == nk.float32 and net.weight.tolist() == [[1.0, 0.0], [0.0, 1.0]]
    assert net.weight._version >= 1


def test_load_state_dict_assign():
    net = Dense(2, 2)
    net.weight.requires_grad_(False)
    w = nk.eye(2)
    net.load_state_dict({"weight": w, "bias": nk.ones(2)}, assign=True)
    assert isinstance(net.weight, nn.Parameter) and not net.weight.requires_grad
    assert net.weight.data_ptr() == w.data_ptr() and net.bias.requires_grad


def test_custom_save_and_load_hooks_for_extra_state():
    class Counter(nn.Module):
        _version = 2

        def __init__(self):
            super().__init__()
            self.register_buffer("steps", nk.tensor(0))

        def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
            if local_metadata.get("version", None) is None or local_metadata["version"] < 2:
                state_dict.setdefault(prefix + "steps", nk.tensor(0))  # older checkpoints lacked the counter
            super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing, unexpected, errors)

    model = nn.Sequential(Counter())
    sd = model.state_dict()
    assert sd._metadata["0"] == {"version": 2}
    old = OrderedDict()  # a version-1 checkpoint without 'steps'
    old._metadata = {"0": {"version": 1}}
    assert model.load_state_dict(old).missing_keys == []


# -- repr ------------------------------------------------------------------------------------------------------
def test_repr_nesting():
    net = Net()
    assert repr(net) == (
        "Net(\n"
        "  (body): Sequential(\n"
        "    (0): Dense(in_features=4, out_features=8, bias=True)\n"
        "    (1): Norm()\n"
        "  )\n"
        "  (fc): Dense(in_features=8, out_features=3, bias=True)\n"
        ")"
    )
    assert repr(nn.Module()) == "Module()"
    assert repr(Dense(1, 2, bias=False)) == "Dense(in_features=1, out_features=2, bias=False)"

    class Multi(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Identity()

        def extra_repr(self):
            return "a=1\nb=2"

    assert repr(Multi()) == "Multi(\n  a=1\n  b=2\n  (inner): Identity()\n)"
    m = nn.Module()
    m.add_module("gone", None)
    assert repr(m) == "Module(\n  (gone): None\n)"


def test_dir_lists_members():
    net = Net()
    names = dir(net)
    assert "fc" in names and "body" in names and "forward" in names and "state_dict" in names


def test_matches_torch_names_and_repr():
    torch = pytest.importorskip("torch")

    class TDense(torch.nn.Module):
        def __init__(self, n_in, n_out):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.randn(n_out, n_in))
            self.bias = torch.nn.Parameter(torch.zeros(n_out))
            self.n_in, self.n_out = n_in, n_out

        def extra_repr(self):
            return f"in_features={self.n_in}, out_features={self.n_out}, bias=True"

    class TNorm(torch.nn.Module):
        def __init__(self, n):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.ones(n))
            self.register_buffer("running_mean", torch.zeros(n))
            self.register_buffer("count", torch.tensor(0))
            self.register_buffer("scratch", torch.zeros(n), persistent=False)

    class TNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = torch.nn.Sequential(TDense(4, 8), TNorm(8))
            self.fc = TDense(8, 3)

    tnet, net = TNet(), Net()
    assert list(tnet.state_dict()) == list(net.state_dict())
    assert [n for n, _ in tnet.named_parameters()] == [n for n, _ in net.named_parameters()]
    assert [n for n, _ in tnet.named_buffers()] == [n for n, _ in net.named_buffers()]
    assert [n for n, _ in tnet.named_modules()] == [n for n, _ in net.named_modules()]
    expected = repr(tnet).replace("TDense", "Dense").replace("TNorm", "Norm").replace("TNet", "Net")
    assert repr(net) == expected
    assert str(nn.Parameter(nk.tensor([1.0, 2.0]))) == str(torch.nn.Parameter(torch.tensor([1.0, 2.0])))
