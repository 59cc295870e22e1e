import math

import pytest

import nnkit as nk
from nnkit import nn
from nnkit.train import NonFiniteLossError, check_finite


def test_a_finite_loss_comes_back_as_a_float():
    value = check_finite(nk.tensor(0.25, requires_grad=True) * 2)
    assert type(value) is float and value == 0.5
    assert check_finite(3) == 3.0


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_nan_or_infinite_raises_a_specific_error_naming_where(bad):
    with pytest.raises(NonFiniteLossError, match=f"the loss is {bad} at epoch 3, step 7: training stopped") as info:
        check_finite(nk.tensor(bad), epoch=3, step=7)
    err = info.value
    assert isinstance(err, FloatingPointError)
    assert (err.epoch, err.step) == (3, 7)
    assert math.isnan(err.value) if math.isnan(bad) else err.value == bad
    assert "lower it" in str(err) and "detect_anomaly" in str(err)


def test_stops_before_the_step_so_parameters_stay_those_of_the_last_finite_step():
    nk.manual_seed(0)
    model = nn.Linear(2, 1)
    optimizer = nk.optim.SGD(model.parameters(), lr=0.1)
    batches = [nk.ones(4, 2), nk.ones(4, 2), nk.full((4, 2), math.nan)]
    before_bad_step = None
    with pytest.raises(NonFiniteLossError, match="at epoch 1, step 2"):
        for step, x in enumerate(batches):
            loss = model(x).pow(2).mean()
            before_bad_step = [p.detach().clone() for p in model.parameters()]
            check_finite(loss, epoch=1, step=step)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    for p, kept in zip(model.parameters(), before_bad_step):
        assert p.isfinite().all()
        assert p.equal(kept)


def test_rejects_a_loss_that_is_not_one_number():
    with pytest.raises(ValueError, match=r"one-element tensor, got shape \(3,\)"):
        check_finite(nk.ones(3))
