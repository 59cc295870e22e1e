"""nnkit: a small neural-network toolkit on numpy with PyTorch's API and autograd semantics.

``import nnkit as nk`` and use it as you would ``torch``: ``nk.tensor``, ``nk.randn``, ``nk.no_grad``,
``nk.autograd.grad``, ``nk.nn.functional``... Only the public names listed in ``__all__`` are API.
"""

from nnkit import (
    allocator,
    autograd,
    data,
    nn,  # noqa: E402  (after the core: nn builds on it)
    optim,
)
from nnkit.autograd.grad_mode import (
    enable_grad,
    inference_mode,
    is_grad_enabled,
    is_inference_mode_enabled,
    no_grad,
    set_grad_enabled,
)
from nnkit.creation import (
    arange,
    as_tensor,
    device,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    is_tensor,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from nnkit.dtypes import (
    bool,
    double,
    dtype,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    short,
    uint8,
)
from nnkit.ops.broadcast import broadcast_shapes, broadcast_to
from nnkit.ops.elementwise import (
    abs,
    add,
    bitwise_and,
    bitwise_not,
    bitwise_or,
    bitwise_xor,
    ceil,
    clamp,
    clip,
    clone,
    cos,
    div,
    eq,
    exp,
    floor,
    floor_divide,
    ge,
    gt,
    isfinite,
    isinf,
    isnan,
    le,
    log,
    log1p,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    pow,
    reciprocal,
    relu,
    remainder,
    round,
    rsqrt,
    sigmoid,
    sign,
    sin,
    sqrt,
    square,
    sub,
    tanh,
    where,
)
from nnkit.ops.indexing import gather, index_select, masked_fill
from nnkit.ops.linalg import bmm, dot, matmul, mm, mv
from nnkit.ops.reduction import (
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    log_softmax,
    logsumexp,
    max,
    mean,
    min,
    norm,
    prod,
    softmax,
    std,
    sum,
    var,
)
from nnkit.ops.shape import (
    cat,
    chunk,
    flatten,
    permute,
    reshape,
    split,
    squeeze,
    stack,
    t,
    transpose,
    unbind,
    unflatten,
    unsqueeze,
)
from nnkit.random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from nnkit.serialization import load, save
from nnkit.tensor import Tensor

concat = cat
subtract = sub
multiply = mul
divide = div
true_divide = div
negative = neg
swapaxes = transpose


def numel(input):
    """The number of elements of ``input``."""
    return input.numel()


def equal(input, other):
    """True if the two tensors have the same shape and values."""
    return input.equal(other)


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True if all values are close: ``|input - other| <= atol + rtol * |other|``."""
    return input.allclose(other, rtol=rtol, atol=atol, equal_nan=equal_nan)


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """Elementwise closeness, as a bool tensor."""
    return input.isclose(other, rtol=rtol, atol=atol, equal_nan=equal_nan)


__version__ = "0.1.0"

__all__ = [
    "Tensor", "allocator", "autograd", "nn", "optim", "data", "save", "load",
    "tensor", "as_tensor", "from_numpy", "zeros", "ones", "full", "empty", "zeros_like",
    "ones_like", "full_like", "empty_like", "rand", "randn", "randint", "rand_like", "randn_like", "randperm",
    "arange", "linspace", "eye", "device", "is_tensor", "Generator", "manual_seed", "seed", "initial_seed",
    "get_rng_state",
    "set_rng_state", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
    "is_inference_mode_enabled", "dtype", "float16", "float32", "float64", "half", "float", "double", "uint8",
    "int8", "int16", "int32", "int64", "short", "int", "long", "bool", "get_default_dtype", "broadcast_shapes",
    "broadcast_to", "abs", "add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "pow",
    "neg", "negative", "exp", "log", "log1p", "sqrt", "rsqrt", "sin", "cos", "tanh", "sigmoid", "relu",
    "square", "reciprocal", "sign", "floor", "ceil", "round", "clamp", "clip", "maximum", "minimum", "where",
    "remainder", "floor_divide", "eq", "ne", "lt", "le", "gt", "ge", "logical_not", "logical_and",
    "logical_or", "logical_xor", "bitwise_not", "bitwise_and", "bitwise_or", "bitwise_xor", "isnan", "isinf",
    "isfinite", "clone", "sum", "mean", "prod", "max", "min", "amax", "amin", "var", "std", "logsumexp",
    "norm", "softmax", "log_softmax", "argmax", "argmin", "all", "any", "reshape", "transpose", "swapaxes",
    "permute", "t", "squeeze", "unsqueeze", "flatten", "unflatten", "cat", "concat", "stack", "split", "chunk",
    "unbind", "gather", "index_select", "masked_fill", "matmul", "mm", "bmm", "mv", "dot", "numel", "equal",
    "allclose", "isclose",
]

# Large arrays are reused from the heap instead of being returned to the kernel and faulted back in on every
# training step (glibc only; see nnkit/allocator.py for the measurements and how to undo it).
allocator.configure()
