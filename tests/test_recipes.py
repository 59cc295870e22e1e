"""Recipes are runnable scripts and tests: each runs here and its printed results are checked."""

import importlib.util
from pathlib import Path

RECIPES = Path(__file__).resolve().parent.parent / "recipes"


def load(name):
    spec = importlib.util.spec_from_file_location(name, RECIPES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_autograd_tour_prints_the_tutorial_results(capsys):
    load("autograd_tour").main(["--seed", "0"])
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
