import json
import math

import pytest

import nnkit as nk
from nnkit.train import History, write_json


def make_history():
    history = History()
    history.record(1, train_loss=0.5, val_accuracy=0.25)
    history.record(train_loss=nk.tensor(0.25), val_accuracy=0.75, lr=1e-3)
    history.record(train_loss=float("nan"), lr=float("inf"))
    return history


def test_records_rows_columns_and_missing_cells():
    history = make_history()
    assert len(history) == 3
    assert history.columns == ["epoch", "train_loss", "val_accuracy", "lr"]
    assert history["epoch"] == [1, 2, 3]
    assert history["val_accuracy"] == [0.25, 0.75, None]
    assert history["lr"][:2] == [None, 1e-3]
    assert type(history["train_loss"][1]) is float  # the tensor was stored as a number
    assert history.last["epoch"] == 3
    assert history.best("val_accuracy") == (2, 0.75)
    assert history.best("train_loss", mode="min") == (2, 0.25)  # NaN ignored


def test_rejects_out_of_order_epochs_and_non_numbers():
    history = make_history()
    with pytest.raises(ValueError, match="epoch 3 is not after the last recorded epoch 3"):
        history.record(3, train_loss=0.1)
    with pytest.raises(TypeError, match="metric 'note' must be a number, got str"):
        history.record(note="hi")
    with pytest.raises(ValueError, match=r"metric 'loss' must be a number, got a tensor of shape \(2,\)"):
        history.record(loss=nk.ones(2))
    with pytest.raises(KeyError, match="no metric 'val_loss'"):
        history["val_loss"]


def test_csv_is_readable_and_round_trips(tmp_path):
    history = make_history()
    path = history.to_csv(tmp_path / "metrics.csv")
    lines = path.read_text().splitlines()
    assert lines == ["epoch,train_loss,val_accuracy,lr", "1,0.5,0.25,", "2,0.25,0.75,0.001", "3,nan,,inf"]
    back = History.from_csv(path)
    assert back == history
    assert math.isnan(back["train_loss"][2]) and back["lr"][2] == math.inf
    assert type(back["epoch"][0]) is int


def test_json_is_strict_and_round_trips(tmp_path):
    history = make_history()
    path = history.to_json(tmp_path / "metrics.json")

    def reject(constant):
        raise AssertionError(f"non-standard JSON constant {constant}")

    data = json.loads(path.read_text(), parse_constant=reject)
    assert data["epochs"][0] == {"epoch": 1, "train_loss": 0.5, "val_accuracy": 0.25}
    assert data["epochs"][2] == {"epoch": 3, "train_loss": "nan", "lr": "inf"}
    assert History.from_json(path) == history
    assert History.from_json(path) != History()


def test_reading_a_file_that_is_not_a_history_names_it(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("loss,acc\n1,2\n")
    with pytest.raises(ValueError, match="bad.csv is not a History CSV"):
        History.from_csv(bad)
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("[1, 2]")
    with pytest.raises(ValueError, match="bad.json is not a History JSON"):
        History.from_json(bad_json)


def test_write_json_is_strict(tmp_path):
    path = write_json({"accuracy": 0.97, "classes": [5, 6]}, tmp_path / "results.json")
    assert json.loads(path.read_text()) == {"accuracy": 0.97, "classes": [5, 6]}
    with pytest.raises(ValueError):
        write_json({"loss": float("nan")}, tmp_path / "nan.json")
    assert not (tmp_path / "nan.json").exists()
