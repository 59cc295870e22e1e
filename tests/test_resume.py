"""Resuming from a checkpoint saved mid-training gives bit-identical parameters to training without the stop.

Each case trains a small MLP (Linear/ReLU[/Dropout], cross-entropy) with a shuffling DataLoader for N steps
without stopping, then again for K steps, saves model and optimizer state_dicts, the RNG state, the loader's
position and the step with ``nk.save``; a freshly built model, optimizer and loader (differently seeded, as in
a new process; one case really runs in a new process) load it and train on to N. The parameters and the
optimizer state (momentum buffers, Adam moments and step counts) must be equal bit for bit.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import nnkit as nk
from nnkit import nn
from nnkit.data import DataLoader, TensorDataset

TOTAL_STEPS = 30  # N
BATCHES_PER_EPOCH = 7  # 100 samples in batches of 16: the last batch of each epoch has 4
OPTIMIZERS = {
    "sgd_nesterov": (nk.optim.SGD, {"lr": 0.05, "momentum": 0.9, "weight_decay": 1e-3, "nesterov": True}),
    "adam": (nk.optim.Adam, {"lr": 3e-3}),
}


def make_run(opt_name, dropout):
    """Model, optimizer and loader, built exactly as the training script would build them."""
    rng = np.random.default_rng(0)  # the data itself is fixed, independent of nnkit's generator
    x = rng.normal(size=(100, 12)).astype(np.float32)
    y = (x[:, :3].argmax(1) + (x[:, 3] > 0)).astype(np.int64)
    loader = DataLoader(TensorDataset(nk.from_numpy(x), nk.from_numpy(y)), batch_size=16, shuffle=True)
    layers = [nn.Linear(12, 32), nn.ReLU()] + ([nn.Dropout(0.2)] if dropout else []) + [nn.Linear(32, 4)]
    model = nn.Sequential(*layers)
    opt_class, kwargs = OPTIMIZERS[opt_name]
    return model, opt_class(model.parameters(), **kwargs), loader


def train(model, opt, loader, step, stop):
    """The plain loop: epochs of shuffled batches until ``stop`` steps; returns the step reached."""
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    while step < stop:
        for xb, yb in loader:
            opt.zero_grad()
            loss_fn(model(xb), yb).backward()
            opt.step()
            step += 1
            if step == stop:
                break
    return step


def checkpoint(model, opt, loader, step):
    return {"model": model.state_dict(), "optimizer": opt.state_dict(), "rng": nk.get_rng_state(),
            "loader": loader.state_dict(), "step": step}


def resume(path, opt_name, dropout, restore_rng=True, restore_loader=True):
    """What a new process does: build everything afresh, load the checkpoint, train on to TOTAL_STEPS."""
    nk.manual_seed(12345)  # a different initialisation and global stream until the checkpoint is restored
    model, opt, loader = make_run(opt_name, dropout)
    ckpt = nk.load(path)
    model.load_state_dict(ckpt["model"])
    opt.load_state_dict(ckpt["optimizer"])
    if restore_loader:
        loader.load_state_dict(ckpt["loader"])
    if restore_rng:
        nk.set_rng_state(ckpt["rng"])
    train(model, opt, loader, ckpt["step"], TOTAL_STEPS)
    return model, opt


def uninterrupted(opt_name, dropout):
    nk.manual_seed(0)
    model, opt, loader = make_run(opt_name, dropout)
    assert train(model, opt, loader, 0, TOTAL_STEPS) == TOTAL_STEPS
    return model, opt


def save_after(path, opt_name, dropout, stop_step):
    nk.manual_seed(0)
    model, opt, loader = make_run(opt_name, dropout)
    step = train(model, opt, loader, 0, stop_step)
    nk.save(checkpoint(model, opt, loader, step), path)


def assert_bit_identical(expected_model, expected_opt, model, opt):
    for (name, a), (_, b) in zip(expected_model.state_dict().items(), model.state_dict().items()):
        assert np.array_equal(a.numpy(), b.numpy()), name
    expected_state, state = expected_opt.state_dict()["state"], opt.state_dict()["state"]
    assert list(expected_state) == list(state) and expected_state
    for index, entries in expected_state.items():
        assert list(entries) == list(state[index])
        for name, value in entries.items():
            assert np.array_equal(value.numpy(), state[index][name].numpy()), (index, name)


def max_difference(model_a, model_b):
    return max(float(np.abs(a.numpy() - b.numpy()).max())
               for a, b in zip(model_a.state_dict().values(), model_b.state_dict().values()))


@pytest.mark.parametrize("dropout", [False, True], ids=["mlp", "mlp_dropout"])
@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("stop_step", [10, 2 * BATCHES_PER_EPOCH, 1], ids=["mid_epoch", "epoch_end", "first_step"])
def test_resume_is_bit_identical(tmp_path, opt_name, dropout, stop_step):
    expected_model, expected_opt = uninterrupted(opt_name, dropout)
    path = tmp_path / "ckpt.pt"
    save_after(path, opt_name, dropout, stop_step)
    model, opt = resume(path, opt_name, dropout)
    assert_bit_identical(expected_model, expected_opt, model, opt)
    state = opt.state_dict()["state"][0]
    if opt_name == "adam":
        assert state["step"].item() == TOTAL_STEPS
    else:
        assert state["momentum_buffer"].abs().sum().item() > 0


@pytest.mark.parametrize("missing", ["rng", "loader"])
def test_resume_without_the_rng_or_loader_state_diverges(tmp_path, missing):
    """The check above can fail: leaving out either piece of the checkpoint changes the result."""
    expected_model, _ = uninterrupted("sgd_nesterov", dropout=True)
    path = tmp_path / "ckpt.pt"
    save_after(path, "sgd_nesterov", True, 10)
    model, _ = resume(path, "sgd_nesterov", True, restore_rng=missing != "rng",
                      restore_loader=missing != "loader")
    assert max_difference(expected_model, model) > 1e-4


@pytest.mark.parametrize("opt_name", sorted(OPTIMIZERS))
def test_resume_in_a_new_process_is_bit_identical(tmp_path, opt_name):
    expected_model, expected_opt = uninterrupted(opt_name, dropout=True)
    path, out = tmp_path / "ckpt.pt", tmp_path / "final.pt"
    save_after(path, opt_name, True, 10)
    script = (
        "import nnkit as nk\n"
        "from tests.test_resume import resume\n"
        f"model, opt = resume({str(path)!r}, {opt_name!r}, True)\n"
        f"nk.save({{'model': model.state_dict(), 'optimizer': opt.state_dict()}}, {str(out)!r})\n"
    )
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-c", script], cwd=root, check=True, timeout=120)
    final = nk.load(out)
    model, opt = make_run(opt_name, dropout=True)[:2]
    model.load_state_dict(final["model"])
    opt.load_state_dict(final["optimizer"])
    assert_bit_identical(expected_model, expected_opt, model, opt)
