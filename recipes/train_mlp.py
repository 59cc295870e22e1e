"""Train an MLP classifier on the 8x8 handwritten digits (or MNIST / Fashion-MNIST) from a TOML config.

Run: ``python recipes/train_mlp.py --config configs/train_mlp.toml [--set key=value ...] [--out DIR] [--quiet]``.
Writes to ``--out``: ``config.toml`` (the resolved config), ``metrics.csv`` / ``metrics.json`` (per-epoch
history), ``curves.png``, ``confusion_matrix.png``, ``checkpoint.nkpt`` (model + optimizer state) and
``results.json`` (final numbers).
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
    """``[model]``: the hidden layer widths, BatchNorm1d after each hidden Linear, and the dropout probability."""

    hidden: list[int] = dataclasses.field(default_factory=lambda: [256, 128])
    batchnorm: bool = True
    dropout: float = 0.1

    def __post_init__(self):
        if not self.hidden or min(self.hidden) < 1:
            raise ValueError(f"hidden must list at least one positive width, got {self.hidden}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")


@dataclasses.dataclass
class Config:
    """The whole config of train_mlp (see configs/train_mlp.toml)."""

    seed: int = 0
    epochs: int = 40
    label_smoothing: float = 0.1
    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    optim: OptimizerConfig = dataclasses.field(default_factory=OptimizerConfig)

    def __post_init__(self):
        if self.epochs < 1:
            raise ValueError(f"epochs must be at least 1, got {self.epochs}")
        if not 0 <= self.label_smoothing < 1:
            raise ValueError(f"label_smoothing must be in [0, 1), got {self.label_smoothing}")


def build_model(config, image_shape, num_classes):
    """Flatten -> [Linear -> (BatchNorm1d) -> ReLU -> Dropout] per hidden width -> Linear."""
    in_features = 1
    for size in image_shape:
        in_features *= size
    layers = [nn.Flatten()]
    for width in config.hidden:
        layers.append(nn.Linear(in_features, width))
        if config.batchnorm:
            layers.append(nn.BatchNorm1d(width))
        layers += [nn.ReLU(), nn.Dropout(config.dropout)]
        in_features = width
    layers.append(nn.Linear(in_features, num_classes))
    return nn.Sequential(*layers)


def main(argv=None):
    config, args = parse_recipe_args(Config, argv, description=__doc__.splitlines()[0],
                                     default_config=ROOT / "configs" / "train_mlp.toml",
                                     default_out=Path("runs") / "train_mlp")
    run = RunDir(args.out)
    print(f"train_mlp: config {args.config}, writing results to {run.path}/")
    run.save_config(config, header="train_mlp: the resolved config (reload it with --config)")

    set_seed(config.seed)
    data = load_splits(config.data)
    model = build_model(config.model, data.image_shape, len(data.class_names))
    optimizer = make_optimizer(model.parameters(), config.optim)
    scheduler = make_scheduler(optimizer, config.optim, config.epochs)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    history = History()

    start = time.perf_counter()
    epochs = progress(range(1, config.epochs + 1), desc="epochs", quiet=args.quiet)
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
    train_time = time.perf_counter() - start

    logits, labels = predict(model, data.test)
    results = {"test_accuracy": accuracy(logits, labels), "test_loss": loss_fn(logits, labels).item(),
               "train_seconds": train_time, "epochs": config.epochs,
               "parameters": sum(p.numel() for p in model.parameters())}
    run.save_history(history, title="train_mlp")
    run.save_confusion_matrix(logits, labels, data.class_names)
    run.save_checkpoint({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": config.epochs,
                         "config": to_dict(config), "rng_state": nk.get_rng_state()})
    run.save_results(results)
    print(f"test accuracy {results['test_accuracy']:.4f}  test loss {results['test_loss']:.4f}  "
          f"({results['parameters']:,} parameters, {config.epochs} epochs in {train_time:.1f} s)")
    print(f"wrote {', '.join(run.written)} to {run.path}/")
    return results


if __name__ == "__main__":
    main()
