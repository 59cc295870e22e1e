"""A tour of nnkit's autograd: the examples of PyTorch's autograd tutorial and notes, run on nnkit.

Run: ``python recipes/autograd_tour.py [--out DIR]``. Each section prints what the tutorial shows; random
values differ from PyTorch's (same seed, different generator), everything else matches. The backward graphs
of the tutorial's two examples are drawn to ``DIR/graph_one_layer.png`` and ``DIR/graph_q.png`` (with their
Graphviz DOT text beside them), like the tutorial's figures.
"""

import argparse
from pathlib import Path

import nnkit as nk
import nnkit.nn.functional as F
from nnkit.viz import draw_graph


def section(title):
    print(f"\n== {title} ==")


def saved_tensors():
    section("Saved tensors")
    x = nk.randn(5, requires_grad=True)
    y = x.pow(2)
    print("y.grad_fn._saved_self is x:", y.grad_fn._saved_self is x)
    y = x.exp()
    print("y equals y.grad_fn._saved_result:", y.equal(y.grad_fn._saved_result))
    print("y is y.grad_fn._saved_result:", y is y.grad_fn._saved_result, "(a new tensor, same storage)")


def save_graph(tensor, out, name, names):
    """Draw ``tensor``'s backward graph to ``out/name.png`` and its DOT text to ``out/name.dot``."""
    dot = draw_graph(tensor, out / f"{name}.png", names=names)
    (out / f"{name}.dot").write_text(dot)
    print(f"backward graph drawn to {out / name}.png (DOT: {name}.dot)")


def single_layer(out):
    section("A one-layer network and its gradients")
    x = nk.ones(5)
    y = nk.zeros(3)
    w = nk.randn(5, 3, requires_grad=True)
    b = nk.randn(3, requires_grad=True)
    z = nk.matmul(x, w) + b
    loss = F.binary_cross_entropy_with_logits(z, y)
    print("loss:", loss)
    print(f"Gradient function for z = {z.grad_fn}")
    print(f"Gradient function for loss = {loss.grad_fn}")
    save_graph(loss, out, "graph_one_layer", {"w": w, "b": b, "loss": loss})
    loss.backward()
    print("w.grad:", w.grad)
    print("b.grad:", b.grad)
    z = nk.matmul(x, w) + b
    print("z.requires_grad:", z.requires_grad)
    with nk.no_grad():
        z = nk.matmul(x, w) + b
    print("under no_grad:", z.requires_grad)
    print("detached:", (nk.matmul(x, w) + b).detach().requires_grad)


def vector_jacobian(out):
    section("Q = 3a^3 - b^2 with an external gradient")
    a = nk.tensor([2.0, 3.0], requires_grad=True)
    b = nk.tensor([6.0, 4.0], requires_grad=True)
    q = 3 * a**3 - b**2
    # The tutorial's DAG figure: arrows in the forward direction, leaves a and b in blue.
    save_graph(q, out, "graph_q", {"a": a, "b": b, "Q": q})
    q.backward(gradient=nk.tensor([1.0, 1.0]))
    print("9*a**2 == a.grad:", 9 * a**2 == a.grad)
    print("-2*b == b.grad:", -2 * b == b.grad)


def accumulation():
    section("Gradients accumulate; zero them between steps")
    inp = nk.eye(4, 5, requires_grad=True)
    out = (inp + 1).pow(2).t()
    out.backward(nk.ones_like(out), retain_graph=True)
    print(f"First call\n{inp.grad}")
    out.backward(nk.ones_like(out), retain_graph=True)
    print(f"\nSecond call\n{inp.grad}")
    inp.grad.zero_()
    out.backward(nk.ones_like(out), retain_graph=True)
    print(f"\nCall after zeroing gradients\n{inp.grad}")


def higher_order():
    section("Second derivatives with create_graph=True")
    x = nk.tensor(2.0, requires_grad=True)
    (dy,) = nk.autograd.grad(x**3, x, create_graph=True)
    (d2y,) = nk.autograd.grad(dy, x)
    print(f"d/dx x^3 at 2 = {dy.item():g} (3x^2), d2/dx2 = {d2y.item():g} (6x)")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="seed of nnkit's global generator")
    parser.add_argument("--out", default="runs/autograd_tour", help="folder for the graph drawings (default: "
                        "%(default)s)")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    print(f"autograd_tour: writing the backward graphs to {out}/")
    nk.manual_seed(args.seed)
    saved_tensors()
    single_layer(out)
    vector_jacobian(out)
    accumulation()
    higher_order()


if __name__ == "__main__":
    main()
