"""Fine-tune a pretrained CNN: freeze it, replace its head, train only the head on new classes.

Run: ``python recipes/finetune.py --config configs/finetune.toml [--set key=value ...] [--out DIR] [--quiet]``.

1. Pretrain a small CNN (with BatchNorm) on the digits 0-4 and save it (or load one: ``pretrained = "path"``).
2. Build a fresh model, load the saved weights, freeze everything with ``requires_grad_(False)``, replace the
   head with ``model.fc = nn.Linear(in_features, 5)`` and train only the head with
   ``SGD(model.fc.parameters(), lr=1e-2, momentum=0.9)`` on the digits 5-9.
3. For comparison, train the same network with all its parameters, from scratch, for the same epochs.

Writes to ``--out``: ``config.toml``, ``pretrained.nkpt``, ``finetuned.nkpt``, ``metrics_<phase>.csv/json``,
``curves_<phase>.png``, ``confusion_matrix.png`` (the fine-tuned model on the 5-9 test images) and
``results.json``.
"""

import os

# One BLAS thread, set before numpy loads: the targets are for one core, and on these small matrices
# OpenBLAS's threads cost far more than they save when the machine is busy. Export the variable to override.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import dataclasses
import time
from pathlib import Path

import nnkit as nk
from nnkit import nn
from nnkit.config import parse_recipe_args, to_dict
from nnkit.optim import SGD
from nnkit.train import (
    DataConfig,
    History,
    OptimizerConfig,
    RunDir,
    RunningAverage,
    accuracy,
    check_finite,
    echo,
    evaluate,
    format_metrics,
    load_splits,
    make_optimizer,
    make_scheduler,
    predict,
    progress,
    set_seed,
)

ROOT = Path(__file__).resolve().parent.parent


@dataclasses.dataclass
class ModelConfig:
    """``[model]``: one Conv2d(3x3) -> BatchNorm2d -> ReLU -> MaxPool2d(2) block per entry of ``channels``."""

    channels: list[int] = dataclasses.field(default_factory=lambda: [32, 64])

    def __post_init__(self):
        if not self.channels or min(self.channels) < 1:
            raise ValueError(f"channels must list at least one positive width, got {self.channels}")


@dataclasses.dataclass
class PretrainConfig:
    """``[pretrain]``: training the CNN on the first classes (skipped when ``pretrained`` names a file)."""

    epochs: int = 15
    optim: OptimizerConfig = dataclasses.field(default_factory=lambda: OptimizerConfig(schedule="cosine"))


@dataclasses.dataclass
class FinetuneConfig:
    """``[finetune]``: SGD with momentum on the head (and on every parameter for the full-training baseline)."""

    epochs: int = 10
    lr: float = 1e-2
    momentum: float = 0.9
    compare_full: bool = True

    def __post_init__(self):
        if self.epochs < 1 or not self.lr > 0 or not 0 <= self.momentum < 1:
            raise ValueError(f"need epochs >= 1, lr > 0 and momentum in [0, 1); got epochs={self.epochs}, "
                             f"lr={self.lr}, momentum={self.momentum}")


@dataclasses.dataclass
class Config:
    """The whole config of finetune (see configs/finetune.toml)."""

    seed: int = 0
    pretrained: str | None = None
    pretrain_classes: list[int] = dataclasses.field(default_factory=lambda: [0, 1, 2, 3, 4])
    finetune_classes: list[int] = dataclasses.field(default_factory=lambda: [5, 6, 7, 8, 9])
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    pretrain: PretrainConfig = dataclasses.field(default_factory=PretrainConfig)
    finetune: FinetuneConfig = dataclasses.field(default_factory=FinetuneConfig)


class SmallCNN(nn.Module):
    """Convolutional ``features`` and a linear head ``fc``, named as torchvision's ResNet names its head.

    With ``freeze_batchnorm = True`` the BatchNorm layers of ``features`` stay in eval mode whatever
    ``model.train()`` says (see ``train``).
    """

    def __init__(self, config, image_shape, num_classes):
        super().__init__()
        channels, height, width = image_shape
        layers = []
        for out_channels in config.channels:
            layers += [nn.Conv2d(channels, out_channels, 3, padding=1), nn.BatchNorm2d(out_channels), nn.ReLU(),
                       nn.MaxPool2d(2)]
            channels, height, width = out_channels, height // 2, width // 2
        if height < 1 or width < 1:
            raise ValueError(f"[model]: {len(config.channels)} blocks halve a {image_shape[1]}x{image_shape[2]} image "
                             "to nothing; use fewer channels entries")
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.fc = nn.Linear(channels * height * width, num_classes)
        self.freeze_batchnorm = False

    def forward(self, x):
        return self.fc(self.features(x))

    def train(self, mode=True):
        # The fine-tuning trap: requires_grad_(False) stops gradients, not BatchNorm's running statistics. In
        # train mode a BatchNorm layer normalises with the batch's statistics and moves running_mean/var toward
        # the new data, so the frozen backbone would change under the head and at test time compute features
        # the head never saw. model.train() reaches every submodule, so put them back in eval mode each time.
        super().train(mode)
        if self.freeze_batchnorm:
            for module in self.features.modules():
                if isinstance(module, nn.BatchNorm2d):
                    module.eval()
        return self


def fit(model, optimizer, scheduler, data, epochs, *, phase, quiet):
    """The training loop of one phase; returns its History and the seconds spent training."""
    loss_fn = nn.CrossEntropyLoss()
    history = History()
    start = time.perf_counter()
    for epoch in progress(range(1, epochs + 1), desc=phase, quiet=quiet):
        model.train()
        train_loss, train_acc = RunningAverage(), RunningAverage()
        for step, (images, labels) in enumerate(progress(data.train, leave=False, quiet=quiet)):
            if data.augment is not None:
                images = data.augment(images)
            logits = model(images)
            loss = loss_fn(logits, labels)
            train_loss.update(check_finite(loss, epoch=epoch, step=step), len(labels))
            train_acc.update(accuracy(logits, labels), len(labels))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        val = evaluate(model, data.val, {"loss": loss_fn, "accuracy": accuracy})
        row = history.record(epoch, train_loss=train_loss.average, train_accuracy=train_acc.average,
                             val_loss=val["loss"], val_accuracy=val["accuracy"], lr=optimizer.param_groups[0]["lr"])
        scheduler.step()
        echo(f"{phase}: {format_metrics(row)}", quiet=quiet)
    return history, time.perf_counter() - start


def count(parameters):
    return sum(p.numel() for p in parameters)


def batchnorm_statistics(model):
    return [(m.running_mean.clone(), m.running_var.clone()) for m in model.modules() if isinstance(m, nn.BatchNorm2d)]


def main(argv=None):
    config, args = parse_recipe_args(Config, argv, description=__doc__.splitlines()[0],
                                     default_config=ROOT / "configs" / "finetune.toml",
                                     default_out=Path("runs") / "finetune")
    run = RunDir(args.out)
    print(f"finetune: config {args.config}, writing results to {run.path}/")
    run.save_config(config, header="finetune: the resolved config (reload it with --config)")
    set_seed(config.seed)
    old, new = config.pretrain_classes, config.finetune_classes
    results = {}

    # 1. Pretrain on the old classes, or load a pretrained model.
    if config.pretrained is not None:
        pretrained = Path(config.pretrained)
        print(f"1. pretrained CNN: loading {pretrained}")
    else:
        data = load_splits(config.data, classes=old)
        model = SmallCNN(config.model, data.image_shape, len(old))
        optimizer = make_optimizer(model.parameters(), config.pretrain.optim)
        scheduler = make_scheduler(optimizer, config.pretrain.optim, config.pretrain.epochs)
        history, seconds = fit(model, optimizer, scheduler, data, config.pretrain.epochs, phase="pretrain",
                               quiet=args.quiet)
        logits, labels = predict(model, data.test)
        results["pretrain"] = {"classes": old, "test_accuracy": accuracy(logits, labels), "train_seconds": seconds,
                               "epochs": config.pretrain.epochs}
        run.save_history(history, suffix="_pretrain", title="finetune: pretraining on the old classes")
        pretrained = run.save_checkpoint({"model": model.state_dict(), "classes": old, "config": to_dict(config)},
                                         "pretrained.nkpt")
        print(f"1. pretrained on digits {old}: test accuracy {results['pretrain']['test_accuracy']:.4f} "
              f"({config.pretrain.epochs} epochs in {seconds:.1f} s), saved to {pretrained}")

    # 2. Load into a freshly built model, freeze it, replace the head, train the head only.
    data = load_splits(config.data, classes=new)
    model = SmallCNN(config.model, data.image_shape, len(old))
    model.load_state_dict(nk.load(pretrained)["model"])
    model.requires_grad_(False)
    model.fc = nn.Linear(model.fc.in_features, len(new))  # a new layer: requires grad
    model.freeze_batchnorm = True
    trainable, total = count(p for p in model.parameters() if p.requires_grad), count(model.parameters())
    print(f"2. fine-tuning on digits {new}: backbone frozen, new head model.fc = nn.Linear({model.fc.in_features}, "
          f"{len(new)}); trainable parameters {trainable:,} of {total:,}")
    print("   frozen BatchNorm layers stay in eval mode across model.train(): requires_grad_(False) does not stop "
          "their running statistics from drifting to the new data")
    statistics = batchnorm_statistics(model)
    optimizer = SGD(model.fc.parameters(), lr=config.finetune.lr, momentum=config.finetune.momentum)
    scheduler = make_scheduler(optimizer, OptimizerConfig(name="sgd"), config.finetune.epochs)
    history, head_seconds = fit(model, optimizer, scheduler, data, config.finetune.epochs, phase="head",
                                quiet=args.quiet)
    unchanged = all(mean.equal(m.running_mean) and var.equal(m.running_var) for (mean, var), m in
                    zip(statistics, (m for m in model.modules() if isinstance(m, nn.BatchNorm2d))))
    logits, labels = predict(model, data.test)
    results["head"] = {"classes": new, "test_accuracy": accuracy(logits, labels), "train_seconds": head_seconds,
                       "epochs": config.finetune.epochs, "trainable_parameters": trainable,
                       "total_parameters": total, "batchnorm_statistics_unchanged": unchanged}
    run.save_history(history, suffix="_head", title="finetune: the new head only, backbone frozen")
    run.save_confusion_matrix(logits, labels, data.class_names)
    run.save_checkpoint({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "classes": new,
                         "config": to_dict(config)}, "finetuned.nkpt")

    # 3. The baseline: the same network, every parameter trained, from scratch, same optimizer and epochs.
    if config.finetune.compare_full:
        scratch = SmallCNN(config.model, data.image_shape, len(new))
        optimizer = SGD(scratch.parameters(), lr=config.finetune.lr, momentum=config.finetune.momentum)
        scheduler = make_scheduler(optimizer, OptimizerConfig(name="sgd"), config.finetune.epochs)
        history, full_seconds = fit(scratch, optimizer, scheduler, data, config.finetune.epochs, phase="full",
                                    quiet=args.quiet)
        logits, labels = predict(scratch, data.test)
        results["full"] = {"classes": new, "test_accuracy": accuracy(logits, labels), "train_seconds": full_seconds,
                           "epochs": config.finetune.epochs, "trainable_parameters": count(scratch.parameters())}
        run.save_history(history, suffix="_full", title="finetune: full training from scratch (baseline)")
    run.save_results(results)

    head = results["head"]
    print(f"\n== fine-tuning results: digits {new}, {len(labels)} test images ==")
    print(f"trainable parameters   {trainable:,} of {total:,} ({100 * trainable / total:.1f}%)")
    print(f"head only (frozen)     test accuracy {head['test_accuracy']:.4f}   {config.finetune.epochs} epochs in "
          f"{head_seconds:.1f} s")
    if "full" in results:
        full = results["full"]
        print(f"full training          test accuracy {full['test_accuracy']:.4f}   {config.finetune.epochs} epochs in "
              f"{full_seconds:.1f} s (all {full['trainable_parameters']:,} parameters, from scratch)")
        print(f"head-only training took {head_seconds / full_seconds:.2f}x the time of full training")
    print(f"frozen BatchNorm running statistics unchanged by head training: {'yes' if unchanged else 'NO'}")
    print(f"wrote {', '.join(run.written)} to {run.path}/")
    return results


if __name__ == "__main__":
    main()
