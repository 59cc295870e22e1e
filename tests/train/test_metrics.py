import numpy as np
import pytest

import nnkit as nk
from nnkit.train import accuracy, confusion_matrix

SCORES = [[2.0, 0.1, 0.0], [0.3, 0.9, 0.5], [0.8, 0.2, 0.7], [0.1, 0.2, 0.3]]
TARGET = [0, 1, 2, 0]


def test_accuracy_of_scores_is_the_fraction_of_argmax_hits():
    # argmax per row: 0, 1, 0, 2 -> rows 0 and 1 right.
    assert accuracy(nk.tensor(SCORES), nk.tensor(TARGET)) == 0.5


def test_accuracy_top_k_counts_the_class_among_the_k_best():
    # top-2 per row: {0,1}, {1,2}, {0,2}, {2,1} -> rows 0, 1, 2 right.
    assert accuracy(nk.tensor(SCORES), nk.tensor(TARGET), top_k=2) == 0.75
    assert accuracy(nk.tensor(SCORES), nk.tensor(TARGET), top_k=3) == 1.0


def test_accuracy_of_class_indices_and_numpy_inputs():
    assert accuracy(nk.tensor([0, 1, 1]), nk.tensor([0, 1, 0])) == pytest.approx(2 / 3)
    assert accuracy(np.array(SCORES), np.array(TARGET)) == 0.5


def test_accuracy_returns_a_float_from_a_graph_without_touching_it():
    logits = nk.tensor(SCORES, requires_grad=True) * 2
    value = accuracy(logits, nk.tensor(TARGET))
    assert type(value) is float and value == 0.5
    assert logits.grad_fn is not None  # the graph is still usable
    logits.sum().backward()


@pytest.mark.parametrize("output, target, message", [
    (nk.zeros(3, 2), nk.tensor([0, 1]), "3 samples"),
    (nk.zeros(2, 2), nk.tensor([0.0, 1.0]), "integer tensor of class indices"),
    (nk.zeros(0, 2), nk.zeros(0, dtype=nk.int64), "empty"),
])
def test_accuracy_rejects_mismatched_inputs(output, target, message):
    with pytest.raises(ValueError, match=message):
        accuracy(output, target)
    with pytest.raises(ValueError, match="top_k must be between 1 and the number of classes 2"):
        accuracy(nk.zeros(2, 2), nk.tensor([0, 1]), top_k=3)


def test_confusion_matrix_counts_true_rows_and_predicted_columns():
    matrix = confusion_matrix(nk.tensor(SCORES), nk.tensor(TARGET))
    expected = np.array([[1, 0, 1],   # true 0: predicted 0 once, 2 once
                         [0, 1, 0],
                         [1, 0, 0]])  # true 2 predicted 0
    np.testing.assert_array_equal(matrix, expected)
    assert matrix.dtype == np.int64


def test_confusion_matrix_of_indices_with_num_classes():
    matrix = confusion_matrix(nk.tensor([0, 1, 1]), nk.tensor([0, 1, 0]), num_classes=4)
    assert matrix.shape == (4, 4)
    assert matrix[0, 0] == 1 and matrix[0, 1] == 1 and matrix[1, 1] == 1 and matrix.sum() == 3
    with pytest.raises(ValueError, match=r"class indices must be in \[0, 2\)"):
        confusion_matrix(nk.tensor([0, 3]), nk.tensor([0, 1]), num_classes=2)


def test_confusion_matrix_matches_scikit_learn():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    target, predicted = rng.integers(0, 7, 200), rng.integers(0, 7, 200)
    ours = confusion_matrix(nk.tensor(predicted), nk.tensor(target), num_classes=7)
    np.testing.assert_array_equal(ours, metrics.confusion_matrix(target, predicted, labels=range(7)))
