import io
import sys

from nnkit.train import echo, format_metrics, progress


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_silent_when_stdout_is_not_a_terminal(capsys):
    bar = progress(range(5), desc="epochs")
    assert list(bar) == [0, 1, 2, 3, 4]
    bar.set_postfix(loss="0.1234")
    bar.close()
    assert capsys.readouterr().out == ""


def test_shows_description_and_metrics_on_a_terminal(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    bar = progress(range(3), desc="epochs")
    for _ in bar:
        bar.set_postfix(loss="0.1234")
    bar.close()
    shown = terminal.getvalue()
    assert "epochs" in shown and "loss=0.1234" in shown and "3/3" in shown


def test_quiet_silences_a_terminal(monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    assert sum(progress(range(4), desc="epochs", quiet=True)) == 6
    echo("hidden", quiet=True)
    assert terminal.getvalue() == ""


def test_echo_prints_a_line(capsys):
    echo("epoch 1  loss 0.5000")
    assert capsys.readouterr().out == "epoch 1  loss 0.5000\n"


def test_format_metrics():
    text = format_metrics({"epoch": 3, "train_loss": 0.123456, "val_accuracy": 0.9})
    assert text == "epoch 3  train_loss 0.1235  val_accuracy 0.9000"
