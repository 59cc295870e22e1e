"""Freezing and fine-tuning, and state_dict keys of real models (uses nn.Linear, nn.Conv2d, nn.BatchNorm2d,
nn.ReLU and optim.SGD).

A frozen model run on inputs that do not require grad records no graph at all; replacing the head and
optimizing only its parameters trains the head and leaves the backbone bit-for-bit unchanged with no
gradients. The state_dict keys of an MLP and of a small CNN with BatchNorm are PyTorch's, written out here
literally and compared with torch when it imports.
"""

import numpy as np
import pytest

import nnkit as nk
import nnkit.optim
from nnkit import nn


class Backboned(nn.Module):
    """A feature extractor followed by a classification head, the shape of a pretrained model."""

    def __init__(self):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 8), nn.ReLU())
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc(self.backbone(x))


def snapshot(params):
    return [p.detach().numpy().copy() for p in params]


def test_frozen_model_records_no_graph():
    nk.manual_seed(0)
    model = Backboned()
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())
    x = nk.randn(5, 4)
    features = model.backbone(x)
    out = model(x)
    for t in (features, out):
        assert t.grad_fn is None and not t.requires_grad and t.is_leaf
    with pytest.raises(RuntimeError):
        out.sum().backward()  # nothing requires grad


def test_fine_tuning_a_new_head_updates_only_the_head():
    nk.manual_seed(0)
    model = Backboned()
    model.requires_grad_(False)
    model.fc = nn.Linear(8, 3)  # a fresh head: requires grad
    assert [n for n, p in model.named_parameters() if p.requires_grad] == ["fc.weight", "fc.bias"]
    backbone_before = snapshot(model.backbone.parameters())
    head_before = snapshot(model.fc.parameters())
    opt = nk.optim.SGD(model.fc.parameters(), lr=0.1)
    x, y = nk.randn(32, 4), nk.randn(32, 3)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        out = model(x)
        assert out.grad_fn is not None
        loss = ((out - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    for p, before in zip(model.backbone.parameters(), backbone_before):
        assert p.grad is None
        np.testing.assert_array_equal(p.detach().numpy(), before)
    for p, before in zip(model.fc.parameters(), head_before):
        assert p.grad is not None and not np.array_equal(p.detach().numpy(), before)


def test_partially_frozen_model_with_an_optimizer_over_all_parameters():
    nk.manual_seed(1)
    model = Backboned()
    model.backbone[0].requires_grad_(False)
    frozen_before = snapshot(model.backbone[0].parameters())
    trainable_before = snapshot(model.backbone[2].parameters())
    opt = nk.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = nk.randn(16, 4), nk.randn(16, 3)
    for _ in range(3):
        opt.zero_grad()
        ((model(x) - y) ** 2).mean().backward()
        opt.step()
    for p, before in zip(model.backbone[0].parameters(), frozen_before):
        assert p.grad is None
        np.testing.assert_array_equal(p.detach().numpy(), before)
    for p, before in zip(model.backbone[2].parameters(), trainable_before):
        assert not np.array_equal(p.detach().numpy(), before)


def test_unfreezing_restores_training():
    nk.manual_seed(2)
    model = Backboned().requires_grad_(False)
    model.requires_grad_(True)
    model(nk.randn(2, 4)).sum().backward()
    assert all(p.grad is not None for p in model.parameters())


# -- state_dict keys of real models ----------------------------------------------------------------------------
MLP_KEYS = ["0.weight", "0.bias", "2.weight", "2.bias"]
CNN_KEYS = ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
            "4.weight", "4.bias"]


def mlp(lib):
    return lib.nn.Sequential(lib.nn.Linear(4, 8), lib.nn.ReLU(), lib.nn.Linear(8, 2))


def cnn(lib):
    return lib.nn.Sequential(
        lib.nn.Conv2d(1, 4, 3, padding=1), lib.nn.BatchNorm2d(4), lib.nn.ReLU(), lib.nn.Flatten(),
        lib.nn.Linear(4 * 6 * 6, 3),
    )


def test_mlp_state_dict_keys_and_shapes():
    sd = mlp(nk).state_dict()
    assert list(sd) == MLP_KEYS
    assert [tuple(v.shape) for v in sd.values()] == [(8, 4), (8,), (2, 8), (2,)]


def test_cnn_with_batchnorm_state_dict_keys_and_round_trip():
    nk.manual_seed(0)
    model = cnn(nk)
    sd = model.state_dict()
    assert list(sd) == CNN_KEYS
    assert sd["1.num_batches_tracked"].dtype == nk.int64 and sd["1.num_batches_tracked"].shape == ()
    model.train()
    model(nk.randn(2, 1, 6, 6))
    assert model[1].num_batches_tracked.item() == 1
    fresh = cnn(nk)
    fresh.load_state_dict(model.state_dict())
    for (k, a), b in zip(model.state_dict().items(), fresh.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=k)
    model.double()
    assert model[1].running_mean.dtype == nk.float64 and model[1].num_batches_tracked.dtype == nk.int64


def test_keys_match_torch_and_torch_weights_load():
    torch = pytest.importorskip("torch")
    for build, keys in [(mlp, MLP_KEYS), (cnn, CNN_KEYS)]:
        tmodel, model = build(torch), build(nk)
        tsd = tmodel.state_dict()
        assert list(tsd) == keys == list(model.state_dict())
        assert [tuple(v.shape) for v in tsd.values()] == [tuple(v.shape) for v in model.state_dict().values()]
        model.load_state_dict({k: nk.tensor(v.numpy()) for k, v in tsd.items()})
        tmodel.eval()
        model.eval()
        shape = (2, 4) if build is mlp else (2, 1, 6, 6)
        x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
        with torch.no_grad():
            expected = tmodel(torch.tensor(x)).numpy()
        np.testing.assert_allclose(model(nk.tensor(x)).detach().numpy(), expected, rtol=1e-5, atol=1e-6)
        assert repr(model) == repr(tmodel)
