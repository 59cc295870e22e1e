"""The text form of tensors, character for character as PyTorch prints them.

This follows ``torch/_tensor_str.py``: one formatter per tensor chooses a common style and width for every
element that will be shown (integer-valued floats as ``1.``, fixed ``%.4f``, or scientific ``%.4e``), rows
wrap at the line width, tensors with more than ``threshold`` elements are summarized with ``...``, and extra
facts (``dtype=``, ``grad_fn=``, ...) follow the data, wrapping to a new line when they would pass it.
Options are module-level, set with :func:`set_printoptions` or temporarily with :func:`printoptions`.
"""

import contextlib
import dataclasses
import math

import numpy as np

__all__ = [
    "PrintOptions", "PRINT_OPTS", "set_printoptions", "get_printoptions", "printoptions", "format_tensor",
]

# Dtypes whose values already say what they are, so PyTorch prints no ``dtype=`` for a non-empty tensor.
_IMPLIED_DTYPES = ("float32", "int64", "bool")
_DEFAULT_FLOAT = "float32"


@dataclasses.dataclass
class PrintOptions:
    """The options that govern how tensors print; the one instance is ``PRINT_OPTS``.

    Attributes:
        precision: digits after the point (fixed) or in the mantissa (scientific); default 4.
        threshold: tensors with more elements than this are summarized with ``...``; default 1000.
        edgeitems: items kept at the start and at the end of each summarized dimension; default 3.
        linewidth: characters per line before a row (or a suffix) wraps; default 80.
        sci_mode: True or False forces scientific notation on or off; None (default) chooses per tensor.
    """

    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = PrintOptions()

_PROFILES = {
    "default": dict(precision=4, threshold=1000, edgeitems=3, linewidth=80),
    "short": dict(precision=2, threshold=1000, edgeitems=2, linewidth=80),
    "full": dict(precision=4, threshold=math.inf, edgeitems=3, linewidth=80),
}


def set_printoptions(
    precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None
):
    """Set how tensors print, as ``torch.set_printoptions`` does.

    Args:
        precision: digits of precision for floating point output (default 4).
        threshold: number of elements above which a tensor is summarized (default 1000).
        edgeitems: items shown at each end of a summarized dimension (default 3).
        linewidth: characters per line before wrapping (default 80).
        profile: ``"default"``, ``"short"`` (precision 2, edgeitems 2) or ``"full"`` (never summarize),
            applied first; the other arguments override it.
        sci_mode: True or False to force scientific notation on or off; None lets each tensor choose. As in
            PyTorch this one is always set, so a call that omits it restores automatic choice.

    Example::

        >>> set_printoptions(precision=2)
        >>> format_tensor(np.array([1.12345], dtype=np.float32), "float32")
        'tensor([1.12])'
        >>> set_printoptions(profile="default")
    """
    if profile is not None:
        if profile not in _PROFILES:
            expected = ", ".join(_PROFILES)
            raise ValueError(f"set_printoptions: unknown profile {profile!r}; expected one of {expected}")
        for name, value in _PROFILES[profile].items():
            setattr(PRINT_OPTS, name, value)
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


def get_printoptions():
    """The current print options as a dict that can be passed back as ``set_printoptions(**options)``."""
    return dataclasses.asdict(PRINT_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs):
    """Context manager that sets print options (the arguments of :func:`set_printoptions`) and restores them.

    Example::

        >>> with printoptions(precision=2):
        ...     format_tensor(np.array([1.12345]), "float64")
        'tensor([1.12], dtype=nnkit.float64)'
    """
    old = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**old)


class _Formatter:
    """One style and width for every element shown, chosen from those elements (PyTorch's ``_Formatter``)."""

    def __init__(self, values):
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        precision = PRINT_OPTS.precision
        if not self.floating:
            self.width = max([1] + [len(str(v)) for v in values.tolist()])
            return
        finite = values[np.isfinite(values) & (values != 0)]
        if finite.size == 0:
            return
        magnitudes = np.abs(finite).astype(np.float64)
        lo, hi = magnitudes.min(), magnitudes.max()
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        if PRINT_OPTS.sci_mode is None:
            self.sci_mode = bool(hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4)
        else:
            self.sci_mode = PRINT_OPTS.sci_mode
        if self.sci_mode:
            texts = [f"{v:.{precision}e}" for v in finite.tolist()]
        elif self.int_mode:
            texts = [f"{v:.0f}." for v in finite.tolist()]
        else:
            texts = [f"{v:.{precision}f}" for v in finite.tolist()]
        self.width = max(self.width, max(len(t) for t in texts))

    def format(self, value):
        """``value`` (a Python scalar) as text, right-justified to the common width."""
        precision = PRINT_OPTS.precision
        if not self.floating:
            text = f"{value}"
        elif self.sci_mode:
            text = f"{value:{self.width}.{precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}"
            if math.isfinite(value):
                text += "."
        else:
            text = f"{value:.{precision}f}"
        # nan and inf do not count toward the width, so they may be wider than it: no padding then.
        return " " * (self.width - len(text)) + text


def _summarized(data, edgeitems):
    """The elements a summarized print shows: the first and last ``edgeitems`` of each long dimension."""
    if data.ndim == 0:
        return data
    if edgeitems <= 0:
        return data[:0]  # only "..." is shown, so no element sets the width
    index = [
        np.r_[0:edgeitems, n - edgeitems:n] if n > 2 * edgeitems else np.arange(n) for n in data.shape
    ]
    return data[np.ix_(*index)]


def _vector_str(data, indent, summarize, formatter):
    element_length = formatter.width + 2  # the element plus ", "
    per_line = max(1, math.floor((PRINT_OPTS.linewidth - indent) / element_length))
    edgeitems = PRINT_OPTS.edgeitems
    if summarize and not edgeitems:
        items = ["..."]
    elif summarize and data.shape[0] > 2 * edgeitems:
        items = (
            [formatter.format(v) for v in data[:edgeitems].tolist()]
            + [" ..."]
            + [formatter.format(v) for v in data[-edgeitems:].tolist()]
        )
    else:
        items = [formatter.format(v) for v in data.tolist()]
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _tensor_str(data, indent, summarize, formatter):
    if data.ndim == 0:
        return formatter.format(data.item())
    if data.ndim == 1:
        return _vector_str(data, indent, summarize, formatter)
    n, edgeitems = data.shape[0], PRINT_OPTS.edgeitems
    if summarize and n > 2 * edgeitems:
        rows = (
            [_tensor_str(data[i], indent + 1, summarize, formatter) for i in range(edgeitems)]
            + ["..."]
            + [_tensor_str(data[i], indent + 1, summarize, formatter) for i in range(n - edgeitems, n)]
        )
    else:
        rows = [_tensor_str(data[i], indent + 1, summarize, formatter) for i in range(n)]
    # One blank line between blocks for each dimension beyond 2, as PyTorch separates them.
    return "[" + ("," + "\n" * (data.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def _add_suffixes(text, suffixes, indent):
    parts = [text]
    # PyTorch's own measure of the last line, two more than its length; kept so suffixes wrap where its do.
    last_line_len = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


def format_tensor(data, dtype_name=None, suffixes=()):
    """The text of a tensor holding ``data``, exactly as PyTorch's ``repr`` prints it.

    Args:
        data: a numpy array (or anything ``np.asarray`` takes) of any shape, including 0-d and empty; its
            kind must be floating, integer or bool.
        dtype_name: the tensor's dtype name, such as ``"float64"`` (an object with a ``.name``, like an nnkit
            or numpy dtype, also works); defaults to ``data.dtype.name``. ``dtype=nnkit.<name>`` is added
            unless it is float32, int64 or bool (for an empty tensor, unless it is float32).
        suffixes: more ``key=value`` strings to append, such as ``"requires_grad=True"`` or
            ``"grad_fn=<AddBackward0>"``; they follow ``size=`` and ``dtype=``.

    Returns:
        The text, ``tensor(...)``, using the options in ``PRINT_OPTS``.

    Example::

        >>> format_tensor(np.array([1.0, 2.0]), "float64", ["requires_grad=True"])
        'tensor([1., 2.], dtype=nnkit.float64, requires_grad=True)'
        >>> print(format_tensor(np.eye(2, dtype=np.int64), "int64"))
        tensor([[1, 0],
                [0, 1]])
    """
    data = np.asarray(data)
    if data.dtype.kind not in "fiub":
        raise TypeError(
            f"format_tensor: can't print an array of numpy type {data.dtype}; expected a floating, integer "
            "or bool array"
        )
    if dtype_name is None:
        dtype_name = data.dtype.name
    dtype_name = getattr(dtype_name, "name", dtype_name)
    prefix = "tensor("
    indent = len(prefix)
    extra = []
    if data.size == 0:
        # Like numpy, the shape is shown unless it is (0,); with no values to hint at it, any dtype but the
        # default float one is shown too.
        if data.ndim != 1:
            extra.append(f"size={tuple(data.shape)}")
        if dtype_name != _DEFAULT_FLOAT:
            extra.append(f"dtype=nnkit.{dtype_name}")
        body = "[]"
    else:
        if not PRINT_OPTS.edgeitems:
            extra.append(f"size={tuple(data.shape)}")
        if dtype_name not in _IMPLIED_DTYPES:
            extra.append(f"dtype=nnkit.{dtype_name}")
        summarize = data.size > PRINT_OPTS.threshold
        formatter = _Formatter((_summarized(data, PRINT_OPTS.edgeitems) if summarize else data).reshape(-1))
        body = _tensor_str(data, indent, summarize, formatter)
    return _add_suffixes(prefix + body, extra + list(suffixes), indent)
