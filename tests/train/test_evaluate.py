import numpy as np
import pytest

import nnkit as nk
from nnkit import nn
from nnkit.data import DataLoader, TensorDataset
from nnkit.train import accuracy, evaluate, evaluating, predict


def make_data(n=10, batch_size=3):
    nk.manual_seed(0)
    x = nk.randn(n, 4)
    y = nk.randint(0, 3, (n,))
    return x, y, DataLoader(TensorDataset(x, y), batch_size=batch_size)


def make_model():
    nk.manual_seed(1)
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3))


def test_means_over_uneven_batches_equal_the_whole_split_at_once():
    x, y, loader = make_data(n=10, batch_size=3)  # batches of 3, 3, 3, 1
    model = make_model()
    loss_fn = nn.CrossEntropyLoss()
    result = evaluate(model, loader, {"loss": loss_fn, "accuracy": accuracy})
    model.eval()
    with nk.no_grad():
        logits = model(x)
    assert result["loss"] == pytest.approx(loss_fn(logits, y).item(), rel=1e-6)
    assert result["accuracy"] == pytest.approx(accuracy(logits, y))
    assert all(type(v) is float for v in result.values())


def test_runs_without_recording_a_graph_in_eval_mode():
    _, _, loader = make_data()
    model = make_model().train()
    seen = []

    def probe(output, target):
        seen.append((output.requires_grad, output.grad_fn, nk.is_grad_enabled(), model[3].training))
        return 0.0

    evaluate(model, loader, {"probe": probe})
    assert seen and all(s == (False, None, False, False) for s in seen)
    assert nk.is_grad_enabled()


@pytest.mark.parametrize("training", [True, False])
def test_restores_the_previous_mode(training):
    _, _, loader = make_data()
    model = make_model().train(training)
    evaluate(model, loader, {"accuracy": accuracy})
    assert all(m.training is training for m in model.modules())


def test_restores_each_module_s_own_mode_even_after_an_error():
    _, _, loader = make_data()
    model = make_model().train()
    model[1].eval()  # a frozen BatchNorm kept in eval mode inside a training model
    modes = [m.training for m in model.modules()]

    def boom(output, target):
        raise RuntimeError("metric failed")

    with pytest.raises(RuntimeError, match="metric failed"):
        evaluate(model, loader, {"boom": boom})
    assert [m.training for m in model.modules()] == modes
    with evaluating(model):
        assert not any(m.training for m in model.modules())
    assert [m.training for m in model.modules()] == modes


def test_batchnorm_running_statistics_do_not_move():
    _, _, loader = make_data()
    model = make_model().train()
    before = model[1].running_mean.clone()
    evaluate(model, loader, {"accuracy": accuracy})
    assert model[1].running_mean.equal(before)


def test_predict_concatenates_outputs_and_targets():
    x, y, loader = make_data(n=10, batch_size=4)
    model = make_model()
    outputs, targets = predict(model, loader)
    model.eval()
    with nk.no_grad():
        expected = model(x)
    assert outputs.shape == (10, 3) and not outputs.requires_grad
    np.testing.assert_allclose(outputs.numpy(), expected.numpy(), rtol=1e-6)
    assert targets.equal(y)


def test_empty_loader_and_bad_metric_are_errors():
    model = make_model()
    empty = DataLoader(TensorDataset(nk.zeros(0, 4), nk.zeros(0, dtype=nk.int64)), batch_size=2)
    with pytest.raises(ValueError, match="yielded no samples"):
        evaluate(model, empty, {"accuracy": accuracy})
    _, _, loader = make_data()
    with pytest.raises(ValueError, match="metric 'raw' returned a tensor of shape"):
        evaluate(model, loader, {"raw": lambda output, target: output})
