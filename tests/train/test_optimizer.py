import pytest

from nnkit import nn
from nnkit.optim import SGD, Adam, AdamW
from nnkit.train import OptimizerConfig, make_optimizer, make_scheduler


@pytest.mark.parametrize("name, cls", [("sgd", SGD), ("adam", Adam), ("adamw", AdamW)])
def test_make_optimizer_builds_the_named_optimizer(name, cls):
    model = nn.Linear(3, 2)
    optimizer = make_optimizer(model.parameters(), OptimizerConfig(name=name, lr=0.05, weight_decay=0.01))
    assert type(optimizer) is cls
    group = optimizer.param_groups[0]
    assert group["lr"] == 0.05 and group["weight_decay"] == 0.01 and len(group["params"]) == 2
    if name == "sgd":
        assert group["momentum"] == 0.9


def test_schedules():
    model = nn.Linear(3, 2)
    optimizer = make_optimizer(model.parameters(), OptimizerConfig(lr=0.1, schedule="cosine"))
    scheduler = make_scheduler(optimizer, OptimizerConfig(lr=0.1, schedule="cosine"), epochs=4)
    lrs = []
    for _ in range(4):
        lrs.append(optimizer.param_groups[0]["lr"])
        scheduler.step()
    # cosine annealing: lr_t = lr / 2 * (1 + cos(pi * t / T))
    assert lrs == pytest.approx([0.1, 0.0853553390593, 0.05, 0.0146446609407])
    optimizer = make_optimizer(model.parameters(), OptimizerConfig(lr=0.1))
    scheduler = make_scheduler(optimizer, OptimizerConfig(lr=0.1), epochs=4)
    for _ in range(3):
        scheduler.step()
    assert optimizer.param_groups[0]["lr"] == 0.1


@pytest.mark.parametrize("kwargs, message", [
    ({"lr": 0.0}, "lr must be positive"), ({"momentum": 1.0}, r"momentum must be in \[0, 1\)"),
    ({"weight_decay": -1.0}, "weight_decay must be non-negative"),
])
def test_config_checks_ranges(kwargs, message):
    with pytest.raises(ValueError, match=message):
        OptimizerConfig(**kwargs)
