"""Learning-rate schedulers: sequences against hand formulas and torch.optim.lr_scheduler, state_dict resume."""

import math

import pytest

import nnkit as nk
from nnkit.optim import SGD, Adam, Optimizer
from nnkit.optim import lr_scheduler as S

STEPS = 25
BASE_LRS = (0.1, 0.02)


def make_optimizer(lib, cls="SGD", lrs=BASE_LRS, **kwargs):
    """An optimizer with one group per learning rate, from nnkit or torch (``lib``)."""
    groups = [{"params": [lib.zeros(2, requires_grad=True)], "lr": lr} for lr in lrs]
    return getattr(lib.optim, cls)(groups, lr=lrs[0], **kwargs)


def run(optimizer, scheduler, steps=STEPS, metrics=None):
    """Learning rates of every group after construction and after each step; momentum/beta1 alongside."""
    lrs, momenta = [list(scheduler.get_last_lr())], [_momenta(optimizer)]
    for t in range(steps):
        optimizer.step()
        if metrics is None:
            scheduler.step()
        else:
            scheduler.step(metrics[t])
        lrs.append(list(scheduler.get_last_lr()))
        assert lrs[-1] == [g["lr"] for g in optimizer.param_groups]
        momenta.append(_momenta(optimizer))
    return lrs, momenta


def _momenta(optimizer):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in optimizer.param_groups]


def expected(formula, steps=STEPS, base_lrs=BASE_LRS):
    return [[formula(base, e) for base in base_lrs] for e in range(steps + 1)]


def assert_lrs_close(actual, wanted, rel=1e-12):
    assert len(actual) == len(wanted)
    for e, (a, w) in enumerate(zip(actual, wanted)):
        assert a == pytest.approx(w, rel=rel, abs=1e-15), f"epoch {e}"


# Each case: (name, nnkit/torch scheduler factory taking (lib, optimizer), hand formula (base_lr, epoch) or None)
def _sequential(lib, opt):
    warmup = lib.optim.lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=3)
    decay = lib.optim.lr_scheduler.ExponentialLR(opt, gamma=0.9)
    return lib.optim.lr_scheduler.SequentialLR(opt, schedulers=[warmup, decay], milestones=[3])


def _sequential3(lib, opt):
    m = lib.optim.lr_scheduler
    first = m.StepLR(opt, step_size=2, gamma=0.5)
    second = m.CosineAnnealingLR(opt, T_max=6, eta_min=0.001)
    third = m.MultiStepLR(opt, milestones=[2, 4], gamma=0.3)
    return m.SequentialLR(opt, schedulers=[first, second, third], milestones=[5, 12])


def _cosine_closed(base, e, T=10, eta_min=0.001):
    return eta_min + (base - eta_min) * (1 + math.cos(math.pi * e / T)) / 2


CASES = [
    ("StepLR", lambda lib, o: lib.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5),
     lambda base, e: base * 0.5 ** (e // 3)),
    ("MultiStepLR", lambda lib, o: lib.optim.lr_scheduler.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.1),
     lambda base, e: base * 0.1 ** sum(m <= e for m in [2, 5, 5, 9])),
    ("ExponentialLR", lambda lib, o: lib.optim.lr_scheduler.ExponentialLR(o, gamma=0.9),
     lambda base, e: base * 0.9**e),
    ("CosineAnnealingLR", lambda lib, o: lib.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
     _cosine_closed),
    ("LambdaLR", lambda lib, o: lib.optim.lr_scheduler.LambdaLR(o, lr_lambda=lambda e: 1 / (e + 1)),
     lambda base, e: base / (e + 1)),
    ("LinearLR", lambda lib, o: lib.optim.lr_scheduler.LinearLR(o, start_factor=0.25, end_factor=1.0,
                                                               total_iters=4),
     lambda base, e: base * (0.25 + 0.75 * min(e, 4) / 4)),
    ("LinearLR-decay", lambda lib, o: lib.optim.lr_scheduler.LinearLR(o, start_factor=1.0, end_factor=0.2,
                                                                     total_iters=10),
     lambda base, e: base * (1.0 - 0.8 * min(e, 10) / 10)),
    ("SequentialLR", _sequential,
     lambda base, e: base * (0.1 + 0.9 * e / 3) if e < 3 else base * 0.9 ** (e - 3)),
    ("SequentialLR-3", _sequential3, None),
]


@pytest.mark.parametrize(("name", "factory", "formula"), [c for c in CASES if c[2] is not None],
                         ids=[c[0] for c in CASES if c[2] is not None])
def test_sequence_matches_the_formula(name, factory, formula):
    opt = make_optimizer(nk)
    lrs, _ = run(opt, factory(nk, opt))
    assert_lrs_close(lrs, expected(formula))


@pytest.mark.parametrize(("name", "factory", "formula"), CASES, ids=[c[0] for c in CASES])
def test_sequence_matches_torch(name, factory, formula):
    torch = pytest.importorskip("torch")
    opt, topt = make_optimizer(nk), make_optimizer(torch)
    ours, _ = run(opt, factory(nk, opt))
    theirs, _ = run(topt, factory(torch, topt))
    assert_lrs_close(ours, theirs, rel=1e-14)


def test_cosine_annealing_recursive_form_is_chainable():
    # An outside change to lr carries on through the recursive form, as in PyTorch.
    opt = make_optimizer(nk, lrs=(1.0,))
    sched = S.CosineAnnealingLR(opt, T_max=4)
    sched.step()
    opt.param_groups[0]["lr"] *= 0.5
    sched.step()
    assert sched.get_last_lr()[0] == pytest.approx(0.5 * _cosine_closed(1.0, 1, T=4, eta_min=0.0)
                                                   * (1 + math.cos(math.pi * 2 / 4)) / (1 + math.cos(math.pi / 4)))


def test_lambda_lr_per_group_functions():
    opt = make_optimizer(nk)
    sched = S.LambdaLR(opt, lr_lambda=[lambda e: 0.5**e, lambda e: e + 1])
    lrs, _ = run(opt, sched, steps=3)
    assert_lrs_close(lrs, [[0.1 * 0.5**e, 0.02 * (e + 1)] for e in range(4)])
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        S.LambdaLR(opt, lr_lambda=[lambda e: 1.0])


# -- OneCycleLR ---------------------------------------------------------------------------------------------
def one_cycle_reference(max_lr, total, e, pct_start=0.3, div=25.0, final_div=1e4, three_phase=False, cos=True,
                        base_m=0.85, max_m=0.95):
    """The 1cycle schedule written out: (lr, momentum) at step e."""
    initial = max_lr / div
    low = initial / final_div

    def anneal(a, b, pct):
        return b + (a - b) / 2 * (math.cos(math.pi * pct) + 1) if cos else a + (b - a) * pct

    up = pct_start * total - 1
    if three_phase:
        down = 2 * pct_start * total - 2
        if e <= up:
            return anneal(initial, max_lr, e / up), anneal(max_m, base_m, e / up)
        if e <= down:
            pct = (e - up) / (down - up)
            return anneal(max_lr, initial, pct), anneal(base_m, max_m, pct)
        pct = (e - down) / (total - 1 - down)
        return anneal(initial, low, pct), max_m
    if e <= up:
        return anneal(initial, max_lr, e / up), anneal(max_m, base_m, e / up)
    pct = (e - up) / (total - 1 - up)
    return anneal(max_lr, low, pct), anneal(base_m, max_m, pct)


ONE_CYCLE = [
    ("cos", {}),
    ("linear", {"anneal_strategy": "linear"}),
    ("three_phase", {"three_phase": True}),
    ("three_phase-linear", {"three_phase": True, "anneal_strategy": "linear", "pct_start": 0.25}),
]


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
@pytest.mark.parametrize(("name", "kwargs"), ONE_CYCLE, ids=[c[0] for c in ONE_CYCLE])
def test_one_cycle_matches_the_formula(name, kwargs, optimizer):
    extra = {"momentum": 0.9} if optimizer == "SGD" else {}
    opt = make_optimizer(nk, optimizer, lrs=(0.1,), **extra)
    sched = S.OneCycleLR(opt, max_lr=1.0, total_steps=STEPS, **kwargs)
    lrs, momenta = run(opt, sched, steps=STEPS - 1)
    ref_kwargs = {"pct_start": kwargs.get("pct_start", 0.3), "three_phase": kwargs.get("three_phase", False),
                  "cos": kwargs.get("anneal_strategy", "cos") == "cos"}
    ref = [one_cycle_reference(1.0, STEPS, e, **ref_kwargs) for e in range(STEPS)]
    assert_lrs_close(lrs, [[lr] for lr, _ in ref])
    assert_lrs_close(momenta, [[m] for _, m in ref])
    if optimizer == "Adam":
        assert opt.param_groups[0]["betas"][1] == 0.999


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
@pytest.mark.parametrize(("name", "kwargs"), ONE_CYCLE, ids=[c[0] for c in ONE_CYCLE])
def test_one_cycle_matches_torch(name, kwargs, optimizer):
    torch = pytest.importorskip("torch")
    extra = {"momentum": 0.9} if optimizer == "SGD" else {}
    results = []
    for lib in (nk, torch):
        opt = make_optimizer(lib, optimizer, **extra)
        sched = lib.optim.lr_scheduler.OneCycleLR(opt, max_lr=[1.0, 0.5], epochs=5, steps_per_epoch=5,
                                                  base_momentum=[0.8, 0.85], **kwargs)
        results.append(run(opt, sched, steps=STEPS - 1))
    assert_lrs_close(results[0][0], results[1][0], rel=1e-14)
    assert_lrs_close(results[0][1], results[1][1], rel=1e-14)


def test_one_cycle_without_momentum_cycling_and_errors():
    opt = make_optimizer(nk, lrs=(0.1,))
    sched = S.OneCycleLR(opt, max_lr=0.5, total_steps=4, cycle_momentum=False)
    assert opt.param_groups[0]["momentum"] == 0 and sched.get_last_lr() == [pytest.approx(0.02)]
    for _ in range(4):
        sched.step()
    with pytest.raises(ValueError, match="Tried to step 5 times. The specified number of total steps is 4"):
        sched.step()
    with pytest.raises(ValueError, match=r"You must define either total_steps OR \(epochs AND steps_per_epoch\)"):
        S.OneCycleLR(opt, max_lr=0.5)
    with pytest.raises(ValueError, match="Expected positive integer total_steps, but got 0"):
        S.OneCycleLR(opt, max_lr=0.5, total_steps=0)
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear', instead got exp"):
        S.OneCycleLR(opt, max_lr=0.5, total_steps=4, anneal_strategy="exp")
    with pytest.raises(ValueError, match="max_lr must have the same length as optimizer.param_groups"):
        S.OneCycleLR(opt, max_lr=[0.5, 0.1], total_steps=4)

    class Plain(Optimizer):
        def step(self, closure=None):
            return None

    with pytest.raises(ValueError, match="optimizer must support momentum or beta1 with `cycle_momentum`"):
        S.OneCycleLR(Plain([nk.zeros(1, requires_grad=True)], {"lr": 0.1}), max_lr=0.5, total_steps=4)


# -- ReduceLROnPlateau --------------------------------------------------------------------------------------
def test_reduce_on_plateau_by_hand():
    opt = make_optimizer(nk, lrs=(1.0, 0.1))
    sched = S.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=1, cooldown=1, min_lr=[0.2, 0.05])
    metrics = [5.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 3.0, 3.5, 3.5, 3.5, 3.5]
    lrs, _ = run(opt, sched, steps=len(metrics), metrics=metrics)
    # A repeated 4.0 is a bad epoch (not better than the best 4.0 by the relative threshold).
    assert lrs == [
        [1.0, 0.1],   # start
        [1.0, 0.1],   # 5.0 best
        [1.0, 0.1],   # 4.0 best
        [1.0, 0.1],   # 4.0 bad 1
        [0.5, 0.05],  # 4.0 bad 2 > patience: reduce, cooldown 1
        [0.5, 0.05],  # 4.0 bad, but cooldown resets the count
        [0.5, 0.05],  # 4.0 bad 1
        [0.25, 0.05],  # 4.0 bad 2: reduce (group 2 already at its min_lr)
        [0.25, 0.05],  # 3.0 best (cooldown)
        [0.25, 0.05],  # 3.5 bad 1
        [0.2, 0.05],  # 3.5 bad 2: reduce, clipped to min_lr
        [0.2, 0.05],  # cooldown
        [0.2, 0.05],  # bad 1
    ]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"mode": "min", "threshold_mode": "rel", "patience": 2},
        {"mode": "min", "threshold_mode": "abs", "threshold": 0.1, "patience": 1, "cooldown": 2},
        {"mode": "max", "threshold_mode": "rel", "threshold": 0.05, "patience": 1, "factor": 0.5},
        {"mode": "max", "threshold_mode": "abs", "threshold": 0.2, "patience": 0, "min_lr": 0.004, "eps": 1e-3},
    ],
    ids=["min-rel", "min-abs", "max-rel", "max-abs"],
)
def test_reduce_on_plateau_matches_torch(kwargs):
    torch = pytest.importorskip("torch")
    metrics = [1.0, 0.9, 0.95, 0.92, 0.91, 0.91, 1.1, 0.5, 0.52, 0.49, 0.6, 0.6, 0.6, 0.3, 0.31, 0.3, 0.29, 0.35,
               0.36, 0.36, 0.37, 0.2, 0.2, 0.2, 0.21, 0.19]
    ours, _ = run((o := make_optimizer(nk)), S.ReduceLROnPlateau(o, **kwargs), len(metrics), metrics)
    theirs, _ = run((t := make_optimizer(torch)), torch.optim.lr_scheduler.ReduceLROnPlateau(t, **kwargs),
                    len(metrics), metrics)
    assert ours == theirs


def test_reduce_on_plateau_accepts_a_tensor_metric_and_validates():
    opt = make_optimizer(nk, lrs=(1.0,))
    sched = S.ReduceLROnPlateau(opt, patience=0)
    sched.step(nk.tensor(1.0))
    sched.step(nk.tensor(2.0))
    assert sched.get_last_lr() == [0.1]
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        S.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(ValueError, match="mode avg is unknown!"):
        S.ReduceLROnPlateau(opt, mode="avg")
    with pytest.raises(ValueError, match="threshold mode pct is unknown!"):
        S.ReduceLROnPlateau(opt, threshold_mode="pct")
    with pytest.raises(ValueError, match="expected 1 min_lrs, got 2"):
        S.ReduceLROnPlateau(opt, min_lr=[0.1, 0.2])


# -- state_dict and resume ----------------------------------------------------------------------------------
RESUMABLE = [c[:2] for c in CASES] + [
    ("OneCycleLR", lambda lib, o: lib.optim.lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=30,
                                                                   three_phase=True)),
]


@pytest.mark.parametrize(("name", "factory"), RESUMABLE, ids=[c[0] for c in RESUMABLE])
def test_resume_from_state_dicts(name, factory):
    opt = make_optimizer(nk, momentum=0.9)
    full, full_m = run(opt, factory(nk, opt))

    opt = make_optimizer(nk, momentum=0.9)
    sched = factory(nk, opt)
    first, _ = run(opt, sched, steps=7)
    opt_state, sched_state = opt.state_dict(), sched.state_dict()
    assert "optimizer" not in sched_state

    fresh_opt = make_optimizer(nk, momentum=0.9)
    fresh = factory(nk, fresh_opt)  # build the scheduler first: it resets the lrs the optimizer state restores
    fresh_opt.load_state_dict(opt_state)
    fresh.load_state_dict(sched_state)
    assert fresh.get_last_lr() == first[-1]
    rest, rest_m = run(fresh_opt, fresh, steps=STEPS - 7)
    assert first + rest[1:] == full
    assert rest_m == full_m[7:]


def test_reduce_on_plateau_state_dict_round_trip():
    metrics = [3.0, 2.0, 2.5, 2.5, 2.5, 1.0, 1.5, 1.5, 1.5, 1.5]
    opt = make_optimizer(nk)
    full, _ = run(opt, S.ReduceLROnPlateau(opt, patience=1, cooldown=1), len(metrics), metrics)
    opt = make_optimizer(nk)
    sched = S.ReduceLROnPlateau(opt, patience=1, cooldown=1)
    first, _ = run(opt, sched, 4, metrics)
    saved_opt, saved = opt.state_dict(), sched.state_dict()
    assert saved["best"] == 2.0 and saved["num_bad_epochs"] == 0 and saved["cooldown_counter"] == 1
    opt2 = make_optimizer(nk)
    sched2 = S.ReduceLROnPlateau(opt2)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved)
    rest, _ = run(opt2, sched2, len(metrics) - 4, metrics[4:])
    assert first + rest[1:] == full


def test_lambda_lr_state_dict_stores_no_functions():
    class Warmup:
        def __init__(self):
            self.scale = 1.0

        def __call__(self, epoch):
            return self.scale * min(1.0, (epoch + 1) / 5)

    warmup = Warmup()
    opt = make_optimizer(nk)
    sched = S.LambdaLR(opt, [warmup, lambda e: 0.5**e])
    warmup.scale = 2.0
    state = sched.state_dict()
    assert state["lr_lambdas"] == [{"scale": 2.0}, None]
    fresh_warmup = Warmup()
    fresh = S.LambdaLR(make_optimizer(nk), [fresh_warmup, lambda e: 0.5**e])
    fresh.load_state_dict(state)
    assert fresh_warmup.scale == 2.0 and fresh.last_epoch == 0
    assert "lr_lambdas" in state  # loading leaves the given dict intact


def test_state_dict_is_a_snapshot():
    opt = make_optimizer(nk)
    sched = S.MultiStepLR(opt, milestones=[2, 4])
    state = sched.state_dict()
    sched.step()
    assert state["last_epoch"] == 0 and state["_last_lr"] == list(BASE_LRS)


# -- base behaviour and errors ------------------------------------------------------------------------------
def test_construction_records_initial_lr_and_base_lrs():
    opt = make_optimizer(nk)
    sched = S.StepLR(opt, step_size=2)
    assert [g["initial_lr"] for g in opt.param_groups] == list(BASE_LRS) == sched.base_lrs
    assert sched.last_epoch == 0 and sched.get_last_lr() == list(BASE_LRS)


def test_resuming_with_last_epoch_needs_initial_lr():
    with pytest.raises(KeyError, match=r"param 'initial_lr' is not specified in param_groups\[0\]"):
        S.StepLR(make_optimizer(nk), step_size=2, last_epoch=3)
    opt = make_optimizer(nk)
    for group in opt.param_groups:
        group["initial_lr"] = group["lr"]
    sched = S.ExponentialLR(opt, gamma=0.5, last_epoch=3)
    assert sched.last_epoch == 4 and sched.get_last_lr() == list(BASE_LRS)


def test_cosine_resumed_with_last_epoch_continues_recursively_from_the_current_lr():
    # As in PyTorch: resuming keeps the groups' lr at construction, then the recursive form carries on from it.
    def resumed(lib):
        opt = make_optimizer(lib)
        for group in opt.param_groups:
            group["initial_lr"] = group["lr"]
        sched = lib.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.001, last_epoch=4)
        return run(opt, sched, steps=8)[0]

    ours = resumed(nk)
    ratio = (1 + math.cos(math.pi * 6 / 10)) / (1 + math.cos(math.pi * 5 / 10))
    assert_lrs_close(ours[:2], [list(BASE_LRS), [ratio * (b - 0.001) + 0.001 for b in BASE_LRS]])
    try:
        import torch
    except ImportError:
        return
    assert_lrs_close(ours, resumed(torch), rel=1e-14)


def test_deprecated_step_with_epoch_uses_the_closed_form():
    opt = make_optimizer(nk)
    sched = S.StepLR(opt, step_size=3, gamma=0.5)
    with pytest.warns(UserWarning, match="The epoch parameter in `scheduler.step\\(\\)` was not necessary"):
        sched.step(7)
    assert sched.last_epoch == 7
    assert_lrs_close([sched.get_last_lr()], [[b * 0.25 for b in BASE_LRS]])


def test_scheduler_errors():
    opt = make_optimizer(nk)
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        S.StepLR([], step_size=2)
    with pytest.raises(ValueError, match="Starting multiplicative factor expected to be greater than 0"):
        S.LinearLR(opt, start_factor=0)
    with pytest.raises(ValueError, match="Ending multiplicative factor expected to be between 0 and 1"):
        S.LinearLR(opt, end_factor=1.5)
    with pytest.raises(NotImplementedError):
        S.LRScheduler(opt)


def test_sequential_lr_errors():
    opt = make_optimizer(nk)
    a, b = S.ExponentialLR(opt, gamma=0.9), S.StepLR(opt, step_size=2)
    with pytest.raises(ValueError, match="expects at least one scheduler"):
        S.SequentialLR(opt, schedulers=[], milestones=[])
    with pytest.raises(ValueError, match="expects number of schedulers provided to be one more than the number"):
        S.SequentialLR(opt, schedulers=[a, b], milestones=[2, 4])
    other = S.StepLR(make_optimizer(nk), step_size=2)
    with pytest.raises(ValueError, match="expects all schedulers to belong to the same optimizer"):
        S.SequentialLR(opt, schedulers=[a, other], milestones=[2])
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
        S.SequentialLR(opt, schedulers=[a, S.ReduceLROnPlateau(opt)], milestones=[2])


def test_schedulers_drive_the_optimizer_update():
    p = nk.tensor([0.0], dtype=nk.float64, requires_grad=True)
    opt = SGD([p], lr=1.0)
    sched = S.StepLR(opt, step_size=1, gamma=0.5)
    for _ in range(3):
        p.grad = nk.tensor([1.0], dtype=nk.float64)
        opt.step()
        sched.step()
    assert p.item() == -(1.0 + 0.5 + 0.25)
    adam = Adam([nk.zeros(1, requires_grad=True)], lr=0.1)
    S.OneCycleLR(adam, max_lr=1.0, total_steps=10)
    assert adam.param_groups[0]["betas"] == (0.95, 0.999) and adam.param_groups[0]["lr"] == pytest.approx(0.04)
