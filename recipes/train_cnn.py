"""Train a small CNN with BatchNorm on the 8x8 handwritten digits (or MNIST / Fashion-MNIST) from a TOML config.

Run: ``python recipes/train_cnn.py --config configs/train_cnn.toml [--set key=value ...] [--out DIR] [--quiet]``.
Writes to ``--out``: ``config.toml`` (the resolved config), ``metrics.csv`` / ``metrics.json`` (per-epoch
history), ``curves.png``, ``confusion_matrix.png``, ``checkpoint.nkpt`` and ``results.json`` (final numbers).

``checkpoint.nkpt`` is rewritten at the end of every epoch with everything needed to go on: model, optimizer,
scheduler, history, epoch and the random generator's state. ``--set resume=OUT/checkpoint.nkpt`` continues an
interrupted run (raise ``epochs`` to train longer) and gives the same parameters, bit for bit, as a run that was
never stopped.
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
    """``[model]``: one block per entry of ``channels``, then dropout and the linear classifier.

    A block is Conv2d(3x3, padding 1) -> BatchNorm2d -> ReLU, followed by MaxPool2d(2) when ``pool`` is true
    at that block's position.
    """

    channels: list[int] = dataclasses.field(default_factory=lambda: [32, 32, 64])
    pool: list[bool] = dataclasses.field(default_factory=lambda: [False, True, True])
    dropout: float = 0.0

    def __post_init__(self):
        if not self.channels or min(self.channels) < 1:
            raise ValueError(f"channels must list at least one positive width, got {self.channels}")
        if len(self.pool) != len(self.channels):
            raise ValueError(f"pool needs one entry per block: {len(self.channels)} channels but {len(self.pool)} "
                             "pool flags")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")


@dataclasses.dataclass
class Config:
    """The whole config of train_cnn (see configs/train_cnn.toml)."""

    seed: int = 0
    epochs: int = 30
    resume: str | None = None
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    optim: OptimizerConfig = dataclasses.field(default_factory=OptimizerConfig)

    def __post_init__(self):
        if self.epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {self.epochs}")


def build_model(config, image_shape, num_classes):
    """[Conv2d -> BatchNorm2d -> ReLU (-> MaxPool2d)] per block -> Flatten -> Dropout -> Linear."""
    channels, height, width = image_shape
    layers = []
    for out_channels, pool in zip(config.channels, config.pool):
        layers += [nn.Conv2d(channels, out_channels, 3, padding=1), nn.BatchNorm2d(out_channels), nn.ReLU()]
        if pool:
            layers.append(nn.MaxPool2d(2))
            height, width = height // 2, width // 2
        channels = out_channels
    if height < 1 or width < 1:
        raise ValueError(f"[model]: {sum(config.pool)} poolings shrink a {image_shape[1]}x{image_shape[2]} image to "
                         "nothing; set fewer pool flags")
    layers += [nn.Flatten(), nn.Dropout(config.dropout), nn.Linear(channels * height * width, num_classes)]
    return nn.Sequential(*layers)


def main(argv=None):
    config, args = parse_recipe_args(Config, argv, description=__doc__.splitlines()[0],
                                     default_config=ROOT / "configs" / "train_cnn.toml",
                                     default_out=Path("runs") / "train_cnn")
    run = RunDir(args.out)
    print(f"train_cnn: config {args.config}, writing results to {run.path}/")
    run.save_config(config, header="train_cnn: the resolved config (reload it with --config)")

    set_seed(config.seed)
    data = load_splits(config.data)
    model = build_model(config.model, data.image_shape, len(data.class_names))
    optimizer = make_optimizer(model.parameters(), config.optim)
    scheduler = make_scheduler(optimizer, config.optim, config.epochs)
    loss_fn = nn.CrossEntropyLoss()
    history = History()
    first_epoch = 1
    if config.resume is not None:
        checkpoint = nk.load(config.resume)
        model.load_state_dict(checkpoint["model"])
        optimizer.load_state_dict(checkpoint["optimizer"])
        scheduler.load_state_dict(checkpoint["scheduler"])
        history = History(checkpoint["history"])
        nk.set_rng_state(checkpoint["rng_state"])  # the same shuffles and augmentations as an unbroken run
        first_epoch = checkpoint["epoch"] + 1
        print(f"resuming from {config.resume} after epoch {checkpoint['epoch']}")

    start = time.perf_counter()
    epochs = progress(range(first_epoch, config.epochs + 1), desc="epochs", quiet=args.quiet)
    for epoch in epochs:
        model.train()
        train_loss, train_acc = RunningAverage(), RunningAverage()
        batches = progress(data.train, desc=f"epoch {epoch}", leave=False, quiet=args.quiet)
        for step, (images, labels) in enumerate(batches):
            if data.augment is not None:
                images = data.augment(images)
            logits = model(images)
            loss = loss_fn(logits, labels)
            train_loss.update(check_finite(loss, epoch=epoch, step=step), len(labels))
            train_acc.update(accuracy(logits, labels), len(labels))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            batches.set_postfix(loss=f"{train_loss.average:.4f}")
        val = evaluate(model, data.val, {"loss": loss_fn, "accuracy": accuracy})
        row = history.record(epoch, train_loss=train_loss.average, train_accuracy=train_acc.average,
                             val_loss=val["loss"], val_accuracy=val["accuracy"], lr=optimizer.param_groups[0]["lr"])
        scheduler.step()
        epochs.set_postfix(val_acc=f"{val['accuracy']:.4f}")
        echo(format_metrics(row), quiet=args.quiet)
        run.save_checkpoint({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                             "scheduler": scheduler.state_dict(), "history": history.rows, "epoch": epoch,
                             "rng_state": nk.get_rng_state(), "config": to_dict(config)})
    train_time = time.perf_counter() - start

    logits, labels = predict(model, data.test)
    results = {"test_accuracy": accuracy(logits, labels), "test_loss": loss_fn(logits, labels).item(),
               "train_seconds": train_time, "epochs": config.epochs, "resumed_after": first_epoch - 1,
               "parameters": sum(p.numel() for p in model.parameters())}
    run.save_history(history, title="train_cnn")
    run.save_confusion_matrix(logits, labels, data.class_names)
    run.save_results(results)
    print(f"test accuracy {results['test_accuracy']:.4f}  test loss {results['test_loss']:.4f}  "
          f"({results['parameters']:,} parameters, {config.epochs} epochs in {train_time:.1f} s)")
    print(f"wrote {', '.join(run.written)} to {run.path}/")
    return results


if __name__ == "__main__":
    main()
