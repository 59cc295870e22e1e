"""A tour of nnkit's autograd: the examples of PyTorch's autograd tutorial and notes, run on nnkit.

Run: ``python recipes/autograd_tour.py``. Each section prints what the tutorial shows; random values differ
from PyTorch's (same seed, different generator), everything else matches.
"""

import argparse

import nnkit as nk
import nnkit.nn.functional as F


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


def single_layer():
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
    loss.backward()
    print("w.grad:", w.grad)
    print("b.grad:", b.grad)
    z = nk.matmul(x, w) + b
    print("z.requires_grad:", z.requires_grad)
    with nk.no_grad():
        z = nk.matmul(x, w) + b
    print("under no_grad:", z.requires_grad)
    print("detached:", (nk.matmul(x, w) + b).detach().requires_grad)


def vector_jacobian():
    section("Q = 3a^3 - b^2 with an external gradient")
    a = nk.tensor([2.0, 3.0], requires_grad=True)
    b = nk.tensor([6.0, 4.0], requires_grad=True)
    q = 3 * a**3 - b**2
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
    args = parser.parse_args(argv)
    nk.manual_seed(args.seed)
    saved_tensors()
    single_layer()
    vector_jacobian()
    accumulation()
    higher_order()


if __name__ == "__main__":
    main()
