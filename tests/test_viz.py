import re
import struct

import numpy as np
import pytest

import nnkit as nk
import nnkit.nn.functional as F
from nnkit import nn
from nnkit.train import History
from nnkit.viz import draw_graph, plot_confusion_matrix, plot_curves

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR", f"{path} is not a PNG"
    assert len(data) > 1000
    return struct.unpack(">II", data[16:24])


def pixels(path):
    image = pytest.importorskip("matplotlib.image").imread(path)
    return np.round(image[..., :3] * 255).astype(int)


def has_color(path, rgb, count=50):
    return int(np.all(np.abs(pixels(path) - rgb) <= 2, axis=-1).sum()) >= count


def parse_dot(dot):
    labels = dict(re.findall(r'^\s+(n\d+) \[label="((?:[^"\\]|\\.)*)"', dot, re.M))
    colors = dict(re.findall(r"^\s+(n\d+) \[.*fillcolor=(\w+)\]", dot, re.M))
    edges = re.findall(r"^\s+(n\d+) -> (n\d+)$", dot, re.M)
    return labels, colors, edges


def history():
    h = History()
    for epoch, (loss, acc) in enumerate([(1.0, 0.5), (0.5, 0.8), (0.25, 0.9)], start=1):
        h.record(epoch, train_loss=loss, val_loss=loss * 1.2, train_accuracy=acc, val_accuracy=acc - 0.05, lr=0.1)
    return h


def test_curves_png_has_one_panel_per_metric(tmp_path):
    path = plot_curves(history(), tmp_path / "curves.png")
    assert png_size(path) == (3 * 450, 360)  # loss, accuracy, lr
    two = plot_curves(history(), tmp_path / "two.png", metrics=["loss", "accuracy"], title="run")
    assert png_size(two) == (2 * 450, 360)
    assert has_color(two, (31, 119, 180)) and has_color(two, (255, 127, 14))  # the train and val lines


def test_curves_skip_epochs_without_a_value_and_reject_unknown_metrics(tmp_path):
    h = History()
    h.record(1, train_loss=1.0)
    h.record(2, train_loss=0.5, val_loss=0.7)
    assert png_size(plot_curves(h, tmp_path / "c.png")) == (450, 360)
    with pytest.raises(ValueError, match=r"no column for \['accuracy'\]"):
        plot_curves(h, tmp_path / "x.png", metrics=["accuracy"])
    with pytest.raises(ValueError, match="no metric to plot"):
        plot_curves(History(), tmp_path / "y.png")
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("classes, side", [(3, 400), (10, 750)])
def test_confusion_matrix_png(tmp_path, classes, side):
    matrix = np.diag(np.arange(1, classes + 1)) + 1
    path = plot_confusion_matrix(matrix, tmp_path / "cm.png", class_names=[f"c{i}" for i in range(classes)])
    assert png_size(path) == (side, side)
    assert has_color(path, (8, 48, 107), count=20)  # the darkest "Blues" cell: the largest count
    normalized = plot_confusion_matrix(matrix, tmp_path / "cmn.png", normalize=True)
    assert png_size(normalized) == (side, side)
    with pytest.raises(ValueError, match=r"must be square"):
        plot_confusion_matrix(np.ones((2, 3)), tmp_path / "bad.png")
    with pytest.raises(ValueError, match="2 class names for 3 classes"):
        plot_confusion_matrix(np.ones((3, 3)), tmp_path / "bad.png", class_names=["a", "b"])


def test_graph_of_the_tutorial_dag(tmp_path):
    a = nk.tensor([2.0, 3.0], requires_grad=True)
    b = nk.tensor([6.0, 4.0], requires_grad=True)
    q = 3 * a**3 - b**2
    dot = draw_graph(q, tmp_path / "dag.png", names={"a": a, "b": b, "Q": q})
    assert dot.startswith("digraph backward_graph {") and dot.rstrip().endswith("}")
    labels, colors, edges = parse_dot(dot)
    assert labels["n0"] == "Q\\n(2)" and colors["n0"] == "darkolivegreen1"
    named = {(labels[u], labels[v]) for u, v in edges}
    assert named == {
        ("a\\n(2)", "AccumulateGrad"), ("b\\n(2)", "AccumulateGrad"), ("AccumulateGrad", "PowBackward0"),
        ("PowBackward0", "MulBackward0"), ("MulBackward0", "SubBackward0"), ("PowBackward0", "SubBackward0"),
        ("SubBackward0", "Q\\n(2)"),
    }
    assert len(edges) == 8 and len(labels) == 9  # two PowBackward0 and two AccumulateGrad nodes
    assert {colors[n] for n, label in labels.items() if label[0] in "ab"} == {"lightblue"}
    width, height = png_size(tmp_path / "dag.png")
    assert height > width  # six rows: leaves at the top, Q at the bottom
    assert has_color(tmp_path / "dag.png", (173, 216, 230))  # the blue leaves
    assert has_color(tmp_path / "dag.png", (202, 255, 112))  # the green output


def test_graph_of_a_model_names_its_parameters():
    nk.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    loss = F.cross_entropy(model(nk.randn(5, 4)), nk.tensor([0, 1, 0, 1, 1]))
    labels, colors, edges = parse_dot(draw_graph(loss, names=dict(model.named_parameters())))
    leaves = sorted(label for n, label in labels.items() if colors.get(n) == "lightblue")
    assert leaves == ["0.bias\\n(3)", "0.weight\\n(3, 4)", "2.bias\\n(2)", "2.weight\\n(2, 3)"]
    assert sum(label == "AccumulateGrad" for label in labels.values()) == 4
    assert labels["n0"] == "()"
    sources = {u for u, _ in edges}
    assert all(n in sources for n in labels if n != "n0")  # every node feeds forward to the output


def test_a_tensor_used_twice_gets_one_arrow_and_a_leaf_is_drawn_alone(tmp_path):
    x = nk.tensor([1.0, 2.0], requires_grad=True)
    labels, _, edges = parse_dot(draw_graph(x * x))
    assert sorted(labels.values()) == ["(2)", "(2)", "AccumulateGrad", "MulBackward0"]
    assert len(edges) == 3
    labels, colors, edges = parse_dot(draw_graph(x, tmp_path / "leaf.png"))
    assert labels == {"n0": "(2)"} and colors["n0"] == "lightblue" and edges == []
    png_size(tmp_path / "leaf.png")
    with pytest.raises(ValueError, match="has no backward graph"):
        draw_graph(nk.ones(2))


def test_deep_graphs_are_walked_without_recursion(tmp_path):
    x = nk.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(3000):  # far past Python's recursion limit of 1000
        y = y * 1.0001
    labels, _, edges = parse_dot(draw_graph(y))
    assert sum(label == "MulBackward0" for label in labels.values()) == 3000
    assert len(edges) == 3002
    z = x
    for _ in range(60):
        z = z.sin()
    width, height = png_size(draw_graph(z, tmp_path / "deep.png") and tmp_path / "deep.png")
    assert height > 20 * width
