import dataclasses

import nnkit as nk
from nnkit.config import load_config
from nnkit.train import History, RunDir


@dataclasses.dataclass
class Config:
    epochs: int = 2


def test_run_dir_writes_each_output_and_lists_it(tmp_path):
    run = RunDir(tmp_path / "a" / "b")  # parents created
    history = History()
    history.record(train_loss=1.0, val_accuracy=0.5)
    history.record(train_loss=0.5, val_accuracy=0.75)
    run.save_config(Config(3), header="resolved")
    run.save_history(history, suffix="_head")
    run.save_confusion_matrix(nk.tensor([0, 1, 1]), nk.tensor([0, 1, 0]), ["x", "y"])
    run.save_checkpoint({"w": nk.ones(2)}, "model.nkpt")
    run.save_results({"accuracy": 0.5})
    assert run.written == ["config.toml", "metrics_head.csv", "metrics_head.json", "curves_head.png",
                           "confusion_matrix.png", "model.nkpt", "results.json"]
    assert sorted(p.name for p in run.path.iterdir()) == sorted(run.written)  # nothing else, no temporary files
    assert load_config(Config, run.path / "config.toml") == Config(3)
    assert History.from_json(run.path / "metrics_head.json") == history
    assert nk.load(run.path / "model.nkpt")["w"].equal(nk.ones(2))
    run.save_results({"accuracy": 0.75})
    assert run.written.count("results.json") == 1
