"""Differentiable primitives: each op computes its forward with numpy and records its backward node.

One file per family. Each op checks ``requires_grad`` of its inputs and the grad mode before building a
node, so the no-grad path is a numpy call plus a Tensor wrapper.
"""

# Load the Tensor first: its late-import block pulls in every ops module in dependency order, so importing
# any single ops module (or nnkit.nn) first still works.
import nnkit.tensor  # noqa: E402, F401
