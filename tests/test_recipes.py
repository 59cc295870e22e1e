"""Recipes are runnable scripts and tests: each runs here on its tiny config and its outputs are checked."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import nnkit as nk
from nnkit.config import load_config
from nnkit.train import History

ROOT = Path(__file__).resolve().parent.parent
RECIPES = ROOT / "recipes"
TINY = ROOT / "configs" / "tiny"


def load(name):
    spec = importlib.util.spec_from_file_location(name, RECIPES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_autograd_tour_prints_the_tutorial_results(capsys, tmp_path):
    load("autograd_tour").main(["--seed", "0", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "y.grad_fn._saved_self is x: True" in out
    assert "y is y.grad_fn._saved_result: False" in out
    assert "Gradient function for loss = <BinaryCrossEntropyWithLogitsBackward0 object at" in out
    assert out.count("tensor([True, True])") == 2
    first_call = "First call\ntensor([[4., 2., 2., 2., 2.],\n        [2., 4., 2., 2., 2.],"
    assert first_call in out
    assert "Second call\ntensor([[8., 4., 4., 4., 4.]," in out
    assert "Call after zeroing gradients\ntensor([[4., 2., 2., 2., 2.]," in out
    assert "d/dx x^3 at 2 = 12 (3x^2), d2/dx2 = 12 (6x)" in out
    for name in ("graph_one_layer", "graph_q"):
        assert (tmp_path / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"backward graph drawn to {tmp_path / name}.png" in out
    dot = (tmp_path / "graph_q.dot").read_text()
    assert '[label="a\\n(2)", fillcolor=lightblue]' in dot and '"SubBackward0"' in dot
    assert '"BinaryCrossEntropyWithLogitsBackward0"' in (tmp_path / "graph_one_layer.dot").read_text()


def run(name, tmp_path, *extra):
    module = load(name)
    out = tmp_path / name
    results = module.main(["--config", str(TINY / f"{name}.toml"), "--out", str(out), "--quiet", *extra])
    return module, out, results


def assert_png(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000, f"{path} is not a real PNG"


def assert_run_outputs(module, out, results, epochs):
    for name in ("curves.png", "confusion_matrix.png"):
        assert_png(out / name)
    history = History.from_csv(out / "metrics.csv")
    assert history == History.from_json(out / "metrics.json")
    assert history["epoch"] == list(range(1, epochs + 1))
    assert history["train_loss"][-1] < history["train_loss"][0]
    config = load_config(module.Config, out / "config.toml")
    assert config.epochs == epochs
    assert json.loads((out / "results.json").read_text()) == pytest.approx(results)
    return config


@pytest.mark.parametrize("name", ["train_mlp", "train_cnn"])
def test_classifier_recipes_beat_chance_and_write_their_outputs(name, tmp_path, capsys):
    pytest.importorskip("sklearn")
    module, out, results = run(name, tmp_path)
    printed = capsys.readouterr().out
    assert f"writing results to {out}/" in printed
    assert f"test accuracy {results['test_accuracy']:.4f}" in printed
    assert "epoch 1 " not in printed  # --quiet: no per-epoch lines
    assert results["test_accuracy"] > 0.5  # chance is 0.1
    config = assert_run_outputs(module, out, results, epochs=load_config(module.Config, TINY / f"{name}.toml").epochs)
    # The checkpoint loads into a freshly built model that scores the same on the test split.
    checkpoint = nk.load(out / "checkpoint.nkpt")
    data = module.load_splits(config.data)
    fresh = module.build_model(config.model, data.image_shape, 10)
    fresh.load_state_dict(checkpoint["model"])
    assert module.evaluate(fresh, data.test, {"accuracy": module.accuracy})["accuracy"] == results["test_accuracy"]
    assert checkpoint["epoch"] == config.epochs and "state" in checkpoint["optimizer"]


def test_overrides_reach_the_resolved_config_and_bad_ones_exit(tmp_path, capsys):
    pytest.importorskip("sklearn")
    module, out, _ = run("train_mlp", tmp_path, "--set", "epochs=2", "--set", "model.hidden=[16]")
    config = load_config(module.Config, out / "config.toml")
    assert config.epochs == 2 and config.model.hidden == [16]
    assert len(History.from_csv(out / "metrics.csv")) == 2
    capsys.readouterr()
    with pytest.raises(SystemExit) as info:
        run("train_mlp", tmp_path, "--set", "optim.name=rmsprop")
    assert info.value.code == 2
    assert 'optim.name must be one of "sgd", "adam", "adamw", got "rmsprop"' in capsys.readouterr().err


def test_finetune_trains_only_the_head_and_keeps_batchnorm_frozen(tmp_path, capsys):
    pytest.importorskip("sklearn")
    module, out, results = run("finetune", tmp_path)
    printed = capsys.readouterr().out
    head = results["head"]
    assert head["test_accuracy"] > 0.4  # chance is 0.2 (five classes)
    assert results["pretrain"]["test_accuracy"] > 0.4
    assert results["full"]["test_accuracy"] > 0.4
    assert head["batchnorm_statistics_unchanged"] is True
    assert head["trainable_parameters"] == 16 * 2 * 2 * 5 + 5  # only the new head: Linear(64, 5)
    assert head["trainable_parameters"] < head["total_parameters"] == results["full"]["trainable_parameters"]
    assert f"head only (frozen)     test accuracy {head['test_accuracy']:.4f}" in printed
    assert "frozen BatchNorm running statistics unchanged by head training: yes" in printed
    for phase in ("pretrain", "head", "full"):
        assert_png(out / f"curves_{phase}.png")
        assert History.from_csv(out / f"metrics_{phase}.csv") == History.from_json(out / f"metrics_{phase}.json")
    assert_png(out / "confusion_matrix.png")
    assert set(nk.load(out / "finetuned.nkpt")["model"]) == set(nk.load(out / "pretrained.nkpt")["model"])

    # Loading the saved pretrained model skips pretraining and gives the same fine-tuned head.
    again = module.main(["--config", str(TINY / "finetune.toml"), "--out", str(tmp_path / "again"), "--quiet",
                         "--set", f"pretrained={out / 'pretrained.nkpt'}", "--set", "finetune.compare_full=false"])
    assert f"1. pretrained CNN: loading {out / 'pretrained.nkpt'}" in capsys.readouterr().out
    assert set(again) == {"head"}


def test_frozen_batchnorm_stays_in_eval_mode_across_train_calls():
    module = load("finetune")
    model = module.SmallCNN(module.ModelConfig(channels=[4]), (1, 8, 8), 3)
    model.freeze_batchnorm = True
    model.train()
    batchnorms = [m for m in model.modules() if isinstance(m, nk.nn.BatchNorm2d)]
    assert batchnorms and not any(m.training for m in batchnorms)
    assert model.training and model.fc.training
    model.freeze_batchnorm = False
    model.train()
    assert all(m.training for m in batchnorms)


def test_a_recipe_runs_from_the_command_line(tmp_path):
    pytest.importorskip("sklearn")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    out = tmp_path / "cli"
    done = subprocess.run([sys.executable, str(RECIPES / "train_mlp.py"), "--config", str(TINY / "train_mlp.toml"),
                           "--out", str(out), "--set", "epochs=1"], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"writing results to {out}/" in done.stdout
    assert "epoch 1  train_loss" in done.stdout  # not a terminal: no bars, but the per-epoch line
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.nkpt", "config.toml", "confusion_matrix.png",
                                                      "curves.png", "metrics.csv", "metrics.json", "results.json"]


def test_train_cnn_resumes_bit_identically(tmp_path, capsys):
    pytest.importorskip("sklearn")
    _, straight, _ = run("train_cnn", tmp_path / "straight", "--set", "epochs=2")
    _, first, _ = run("train_cnn", tmp_path / "first", "--set", "epochs=1")
    _, resumed, results = run("train_cnn", tmp_path / "resumed", "--set", "epochs=2",
                              "--set", f"resume={first / 'checkpoint.nkpt'}")
    assert f"resuming from {first / 'checkpoint.nkpt'} after epoch 1" in capsys.readouterr().out
    assert results["resumed_after"] == 1
    expected, got = nk.load(straight / "checkpoint.nkpt"), nk.load(resumed / "checkpoint.nkpt")
    assert set(expected["model"]) == set(got["model"])
    for key, tensor in expected["model"].items():
        assert tensor.equal(got["model"][key]), key
    assert History.from_csv(straight / "metrics.csv") == History.from_csv(resumed / "metrics.csv")
