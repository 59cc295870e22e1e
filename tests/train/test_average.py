import gc
import math
import weakref

import pytest

import nnkit as nk
from nnkit.train import RunningAverage


def test_weighted_mean_over_samples():
    avg = RunningAverage()
    avg.update(1.0, n=2)
    avg.update(4.0, n=1)
    assert avg.average == 2.0 and avg.count == 3 and avg.total == 6.0
    assert float(avg) == 2.0


def test_holds_python_floats_and_lets_the_graph_go():
    w = nk.randn(3, requires_grad=True)
    loss = (w * 2).sum()
    node = weakref.ref(loss.grad_fn)
    avg = RunningAverage("loss")
    avg.update(loss, n=4)
    assert type(avg.total) is float and type(avg.average) is float
    assert avg.average == pytest.approx(loss.item())
    del loss
    gc.collect()
    assert node() is None, "the running average kept the loss's graph alive"


def test_nan_before_any_update_and_reset():
    avg = RunningAverage()
    assert math.isnan(avg.average)
    avg.update(nk.tensor(3.0))
    assert avg.average == 3.0
    avg.reset()
    assert math.isnan(avg.average) and avg.count == 0


def test_rejects_tensors_with_many_elements_and_bad_counts():
    avg = RunningAverage()
    with pytest.raises(ValueError, match=r"one-element tensor, got a tensor of shape \(2,\)"):
        avg.update(nk.ones(2))
    with pytest.raises(ValueError, match="non-negative integer"):
        avg.update(1.0, n=-1)
    with pytest.raises(ValueError, match="non-negative integer"):
        avg.update(1.0, n=1.5)
    assert avg.count == 0
