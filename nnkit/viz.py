"""Pictures of training and of autograd: curves, a confusion matrix, and the backward graph of a tensor.

Everything is drawn with matplotlib's ``Figure`` and the Agg renderer straight to PNG files: no display, no
pyplot state, safe on a headless machine. Files are written atomically (a crash never leaves half a PNG).

- :func:`plot_curves`: loss / accuracy (any metric) per epoch from a :class:`~nnkit.train.History`, one
  panel per metric with a line per split (``train_loss`` and ``val_loss`` share the ``loss`` panel).
- :func:`plot_confusion_matrix`: counts of true against predicted classes.
- :func:`draw_graph`: the backward DAG of a tensor as in PyTorch's autograd tutorial, plus its Graphviz DOT.
"""

import collections
import math
import os

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from nnkit.autograd.node import AccumulateGrad
from nnkit.serialization import atomic_write

__all__ = ["plot_curves", "plot_confusion_matrix", "draw_graph"]

DPI = 100
SPLITS = ("train", "val", "test")  # column prefixes drawn as lines of one panel: "val_loss" -> panel "loss"


def _save(fig, path):
    with atomic_write(path) as f:
        fig.savefig(f, format="png", dpi=fig.dpi)
    return path


# -- curves -----------------------------------------------------------------------------------------------------
def _panels(columns):
    """``{metric: [(split, column), ...]}`` in first-seen order."""
    panels = collections.OrderedDict()
    for column in columns:
        if column == "epoch":
            continue
        split, _, metric = column.partition("_")
        if split not in SPLITS or not metric:
            split, metric = None, column
        panels.setdefault(metric, []).append((split, column))
    return panels


def plot_curves(history, path, metrics=None, title=None):
    """Save one panel per metric, each with a line per split (train, val, test) against the epoch, as PNG.

    The figure is ``4.5 * panels`` by 3.6 inches at 100 dpi (450 pixels wide per panel, 360 high).

    Args:
        history: a :class:`nnkit.train.History`; columns ``<split>_<metric>`` (``train_loss``,
            ``val_accuracy``) share the panel of ``<metric>``; other columns (``lr``) get their own.
        path: the PNG file to write.
        metrics: the panels to draw, e.g. ``["loss", "accuracy"]`` (default: every metric recorded).
        title: a title over the figure.

    Returns:
        ``path``.

    Example::

        plot_curves(history, "out/curves.png")
    """
    panels = _panels(history.columns)
    if metrics is not None:
        missing = [m for m in metrics if m not in panels]
        if missing:
            raise ValueError(f"plot_curves: no column for {missing} in the history; it has {list(panels)}")
        panels = collections.OrderedDict((m, panels[m]) for m in metrics)
    if not panels:
        raise ValueError("plot_curves: the history has no metric to plot")
    epochs = history["epoch"]
    fig = Figure(figsize=(4.5 * len(panels), 3.6), dpi=DPI, layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (metric, lines) in zip(axes, panels.items()):
        for split, column in lines:
            points = [(e, v) for e, v in zip(epochs, history[column]) if v is not None]
            xs, ys = zip(*points)
            ax.plot(xs, ys, marker="o" if len(xs) < 30 else None, markersize=3, label=split or column)
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(metric)
        ax.grid(alpha=0.3)
        ax.legend()
        ax.xaxis.get_major_locator().set_params(integer=True)
    if title:
        fig.suptitle(title)
    return _save(fig, path)


# -- confusion matrix -------------------------------------------------------------------------------------------
def plot_confusion_matrix(matrix, path, class_names=None, normalize=False, title=None):
    """Save a confusion matrix (rows: true class, columns: predicted) as a PNG with the count in each cell.

    The figure is square: ``max(4, 0.55 * classes + 2)`` inches at 100 dpi.

    Args:
        matrix: ``(C, C)`` counts, as :func:`nnkit.train.confusion_matrix` returns.
        path: the PNG file to write.
        class_names: labels of the C classes (default ``0..C-1``).
        normalize: colour and label each row as fractions of its true class (recall per class).
        title: the title (default: the accuracy, i.e. the trace over the total).

    Returns:
        ``path``.
    """
    counts = np.asarray(matrix)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise ValueError(f"plot_confusion_matrix: matrix must be square (C, C), got shape {counts.shape}")
    n = counts.shape[0]
    names = [str(c) for c in (class_names if class_names is not None else range(n))]
    if len(names) != n:
        raise ValueError(f"plot_confusion_matrix: {len(names)} class names for {n} classes")
    values = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1) if normalize else counts
    total = counts.sum()
    if title is None:
        title = f"accuracy {np.trace(counts) / total:.4f} ({np.trace(counts)}/{total})" if total else "no samples"
    side = max(4.0, 0.55 * n + 2)
    fig = Figure(figsize=(side, side), dpi=DPI, layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(values, cmap="Blues", vmin=0)
    fig.colorbar(image, ax=ax, shrink=0.8)
    long_names = max(map(len, names)) > 2
    ax.set_xticks(range(n), names, rotation=45 if long_names else 0, ha="right" if long_names else "center")
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    threshold = values.max() / 2 if values.size else 0
    fontsize = 9 if n <= 12 else 6
    for i in range(n):
        for j in range(n):
            text = f"{values[i, j]:.2f}" if normalize else str(int(values[i, j]))
            ax.text(j, i, text, ha="center", va="center", fontsize=fontsize,
                    color="white" if values[i, j] > threshold else "black")
    return _save(fig, path)


# -- backward graph ---------------------------------------------------------------------------------------------
LEAF_COLOR = "lightblue"
OUTPUT_COLOR = "darkolivegreen1"
NODE_COLOR = "lightgrey"
_MPL_COLORS = {"darkolivegreen1": "#caff70"}  # Graphviz colour names matplotlib does not know


def _shape_text(tensor):
    return "(" + ", ".join(str(d) for d in tensor.shape) + ")"


def _backward_graph(tensor, names):
    """``(labels, colors, edges)``: node 0 is ``tensor``; edges ``(u, v)`` point forward (u feeds v).

    Walks ``grad_fn.next_functions`` with an explicit stack: no recursion, any depth.
    """
    name_of = {id(t): n for n, t in (names or {}).items()}

    def tensor_label(t):
        label = _shape_text(t)
        return f"{name_of[id(t)]}\n{label}" if id(t) in name_of else label

    labels, colors, edges = [tensor_label(tensor)], [OUTPUT_COLOR], []
    index = {}  # id(node or leaf tensor) -> node number
    keep = []  # the objects numbered, alive while we work (ids stay unique)

    def number(obj, label, color):
        key = id(obj)
        if key not in index:
            index[key] = len(labels)
            labels.append(label)
            colors.append(color)
            keep.append(obj)
            return index[key], True
        return index[key], False

    root = tensor.grad_fn
    if root is None:
        if not tensor.requires_grad:
            raise ValueError("draw_graph: the tensor has no backward graph (requires_grad=False and no grad_fn); "
                             "draw the result of ops on tensors created with requires_grad=True")
        colors[0] = LEAF_COLOR  # a leaf on its own: nothing to draw but itself
        return labels, colors, edges
    first, _ = number(root, root.name(), NODE_COLOR)
    edges.append((first, 0))
    seen_edges = set()
    stack = [root]
    while stack:
        fn = stack.pop()
        consumer = index[id(fn)]
        if type(fn) is AccumulateGrad:
            leaf, _ = number(fn.variable, tensor_label(fn.variable), LEAF_COLOR)
            edges.append((leaf, consumer))
            continue
        for producer, _ in fn.next_functions:
            if producer is None:
                continue
            u, new = number(producer, producer.name(), NODE_COLOR)
            if (u, consumer) not in seen_edges:  # x * x: one arrow, as Graphviz would merge it visually
                seen_edges.add((u, consumer))
                edges.append((u, consumer))
            if new:
                stack.append(producer)
    return labels, colors, edges


def _dot(labels, colors, edges):
    def quote(text):
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'

    lines = ["digraph backward_graph {",
             f'    node [shape=box, style="filled,rounded", fillcolor={NODE_COLOR}, fontname="monospace", '
             "fontsize=10, height=0.2]"]
    for i, (label, color) in enumerate(zip(labels, colors)):
        fill = "" if color == NODE_COLOR else f", fillcolor={color}"
        lines.append(f"    n{i} [label={quote(label)}{fill}]")
    lines.extend(f"    n{u} -> n{v}" for u, v in edges)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _layers(n, edges):
    """Row of each node, 0 at the top: the longest forward path from a node to the output sets how far above
    the output it sits, so each leaf sits just above its first consumer (Graphviz's ``dot`` does much the same
    by keeping edges short). Kahn's algorithm from the output backwards: iterative."""
    consumers = [[] for _ in range(n)]
    producers = [[] for _ in range(n)]
    for u, v in edges:
        consumers[u].append(v)
        producers[v].append(u)
    depth = [0] * n
    waiting = [len(c) for c in consumers]
    ready = [i for i in range(n) if waiting[i] == 0]
    while ready:
        v = ready.pop()
        for u in producers[v]:
            depth[u] = max(depth[u], depth[v] + 1)
            waiting[u] -= 1
            if waiting[u] == 0:
                ready.append(u)
    top = max(depth)
    return [top - d for d in depth], producers, consumers


def _positions(rows, producers, consumers, widths, gap):
    """x of each node: rows ordered and placed near the mean x of their neighbours (a few barycentre sweeps)."""
    by_row = collections.defaultdict(list)
    for i, r in enumerate(rows):
        by_row[r].append(i)
    order = [by_row[r] for r in sorted(by_row)]
    x = [0.0] * len(rows)

    def place(row, desired):
        row.sort(key=lambda i: desired[i])
        xs = []
        for k, i in enumerate(row):
            left = xs[-1] + (widths[row[k - 1]] + widths[i]) / 2 + gap if k else -math.inf
            xs.append(max(desired[i], left))
        shift = sum(desired[i] for i in row) / len(row) - sum(xs) / len(xs)
        for i, xi in zip(row, xs):
            x[i] = xi + shift

    for row in order:  # start: evenly spaced in discovery order
        place(row, {i: float(k) for k, i in enumerate(row)})
    for sweep in range(8):
        rows_in_turn = order if sweep % 2 == 0 else order[::-1]
        for row in rows_in_turn:
            desired = {}
            for i in row:
                near = producers[i] + consumers[i]
                desired[i] = sum(x[j] for j in near) / len(near) if near else x[i]
            place(row, desired)
    return x


def _draw(labels, colors, edges, path):
    n = len(labels)
    rows, producers, consumers = _layers(n, edges)
    char_w, line_h, pad = 0.085, 0.17, 0.12  # inches, for 9 pt monospace
    widths = [max(len(line) for line in label.split("\n")) * char_w + 2 * pad for label in labels]
    heights = [len(label.split("\n")) * line_h + pad for label in labels]
    row_h = max(heights) + 0.45
    xs = _positions(rows, producers, consumers, widths, gap=0.3)
    ys = [-r * row_h for r in rows]
    left = min(x - w / 2 for x, w in zip(xs, widths)) - 0.2
    right = max(x + w / 2 for x, w in zip(xs, widths)) + 0.2
    top, bottom = max(h / 2 for h in heights) + 0.2, min(ys) - max(heights) / 2 - 0.2
    width_in, height_in = right - left, top - bottom
    # Very large graphs keep their layout in inches and lose resolution instead (Agg's limit is 2**16 pixels).
    dpi = min(DPI, 2**15 / max(width_in, height_in))
    fig = Figure(figsize=(width_in, height_in), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    ax.set_axis_off()
    for u, v in edges:
        start = (xs[u], ys[u] - heights[u] / 2)
        end = (xs[v], ys[v] + heights[v] / 2)
        ax.add_patch(FancyArrowPatch(start, end, arrowstyle="-|>", mutation_scale=12, color="#444444",
                                     linewidth=1.0, shrinkA=0, shrinkB=1))
    for i in range(n):
        w, h = widths[i], heights[i]
        ax.add_patch(FancyBboxPatch((xs[i] - w / 2, ys[i] - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.05",
                                    facecolor=_MPL_COLORS.get(colors[i], colors[i]), edgecolor="black",
                                    linewidth=0.8))
        ax.text(xs[i], ys[i], labels[i], ha="center", va="center", fontsize=9, family="monospace",
                linespacing=1.1)
    _save(fig, path)


def draw_graph(tensor, path=None, names=None):
    """Draw the backward graph of ``tensor`` as in PyTorch's autograd tutorial; returns its Graphviz DOT text.

    Grey boxes are the backward nodes, labelled with their names (``MulBackward0``, ``AccumulateGrad``); the
    leaf tensors that require grad are blue boxes with their shapes (and names, from ``names``); ``tensor``
    itself is the green box at the bottom. Arrows point in the direction of the forward pass: from a leaf
    through its ``AccumulateGrad`` node and the ops that used it down to the output. The layout (rows, then
    order within rows) is computed here, so no Graphviz install is needed; the DOT text renders the same
    graph with Graphviz (``dot -Tpng``) where it is installed. Deep graphs are walked without recursion.

    Args:
        tensor: a tensor with a ``grad_fn`` (or a leaf that requires grad).
        path: a PNG file to write; None draws nothing and only returns the DOT text.
        names: ``{name: tensor}`` to label leaves (and the output), e.g. ``dict(model.named_parameters())``.

    Returns:
        The graph in Graphviz's DOT language (``n0`` is ``tensor``).

    Example::

        a = nk.tensor([2.0, 3.0], requires_grad=True)
        b = nk.tensor([6.0, 4.0], requires_grad=True)
        Q = 3 * a**3 - b**2
        dot = draw_graph(Q, "dag.png", names={"a": a, "b": b, "Q": Q})
    """
    labels, colors, edges = _backward_graph(tensor, names)
    if path is not None:
        _draw(labels, colors, edges, os.fspath(path))
    return _dot(labels, colors, edges)
