"""Containers that hold submodules: ``Sequential`` (a pipeline), ``ModuleList`` and ``ModuleDict``.

Modules kept in a plain Python list or dict are invisible to ``parameters()`` and ``state_dict()``; these
containers register them under the names ``'0'``, ``'1'``... (or the dict's keys), as PyTorch does, so the
state_dict keys are ``'0.weight'``, ``'layers.1.bias'``...
"""

import operator
from collections import OrderedDict
from collections.abc import Iterable, Mapping

from nnkit.nn.module import Module, _addindent

__all__ = ["Sequential", "ModuleList", "ModuleDict"]


def _abs_index(container, idx):
    """``idx`` (possibly negative) as a non-negative position, with PyTorch's IndexError when out of range."""
    idx = operator.index(idx)
    size = len(container._modules)
    if not -size <= idx < size:
        raise IndexError(f"index {idx} is out of range (the {type(container).__name__} holds {size} modules)")
    return idx % size


def _renumber(container):
    """Rename the children ``'0'``, ``'1'``... in order, after a deletion or an insertion."""
    modules = list(container._modules.values())
    container._modules.clear()
    for i, module in enumerate(modules):
        container._modules[str(i)] = module


class _ModuleSequence(Module):
    """What Sequential and ModuleList share: a sequence of children in registration order."""

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return self._sliced(list(self._modules.items())[idx])
        return list(self._modules.values())[_abs_index(self, idx)]

    def __setitem__(self, idx, module):
        setattr(self, list(self._modules)[_abs_index(self, idx)], module)

    def __delitem__(self, idx):
        keys = list(self._modules)
        for key in keys[idx] if isinstance(idx, slice) else [keys[_abs_index(self, idx)]]:
            delattr(self, key)
        _renumber(self)

    def append(self, module):
        """Add ``module`` at the end (named by its position); returns self."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        """Append every module of the iterable ``modules``; returns self."""
        if not isinstance(modules, Iterable):
            raise TypeError(
                f"{type(self).__name__}.extend should be called with an iterable, but got {type(modules).__name__}"
            )
        for module in modules:
            self.append(module)
        return self

    def _insert(self, index, module):
        modules = list(self._modules.values())
        modules.insert(index, module)
        for i, m in enumerate(modules):
            self._modules[str(i)] = m

    def pop(self, key=-1):
        """Remove and return the module at position ``key`` (the last by default)."""
        module = self[key]
        del self[key]
        return module

    def __dir__(self):
        return [key for key in super().__dir__() if not key.isdigit()]


class Sequential(_ModuleSequence):
    """A pipeline: calling it feeds the input through each module in turn and returns the last output.

    Args:
        *modules: the modules in order (registered as ``'0'``, ``'1'``, ...), or one ``OrderedDict`` mapping
            names to modules.

    Supports ``len``, iteration, indexing (negative too; a slice gives a Sequential keeping the names),
    ``seq[i] = module``, ``del seq[i]``, ``append``, ``extend``, ``insert`` and ``pop``.

    Example::

        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        y = model(nk.randn(16, 4))          # shape (16, 2)
        list(model.state_dict())            # ['0.weight', '0.bias', '2.weight', '2.bias']
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), module)

    def forward(self, input):
        """Apply each module in order to ``input``."""
        for module in self._modules.values():
            input = module(input)
        return input

    def _sliced(self, items):
        return type(self)(OrderedDict(items))

    def __add__(self, other):
        if not isinstance(other, Sequential):
            raise ValueError(f"add operator supports only objects of Sequential class, but {type(other)} is given.")
        return Sequential().extend(list(self) + list(other))

    def __iadd__(self, other):
        if not isinstance(other, Sequential):
            raise ValueError(f"add operator supports only objects of Sequential class, but {type(other)} is given.")
        return self.extend(other)

    def insert(self, index, module):
        """Insert ``module`` before position ``index`` (``-len <= index <= len``); returns self."""
        if not isinstance(module, Module):
            raise AssertionError(f"module should be of type: {Module} (got {type(module).__name__})")
        n = len(self._modules)
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index} (the Sequential holds {n} modules)")
        self._insert(index + n if index < 0 else index, module)
        return self


class ModuleList(_ModuleSequence):
    """A list of modules, registered so that the parent module sees their parameters.

    It has no ``forward``: iterate over it in your own ``forward``. Supports the list API: indexing (negative
    too; a slice gives a ModuleList), ``len``, iteration, ``append``, ``extend``, ``insert``, ``pop``,
    ``l[i] = module``, ``del l[i]``, ``+`` and ``+=``.

    Args:
        modules: an iterable of modules (optional).

    Example::

        self.blocks = nn.ModuleList([nn.Linear(8, 8) for _ in range(3)])
        for block in self.blocks:
            x = block(x).relu()
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _sliced(self, items):
        return type(self)([module for _, module in items])

    def __iadd__(self, modules):
        return self.extend(modules)

    def __add__(self, other):
        return ModuleList().extend(list(self) + list(other))

    def insert(self, index, module):
        """Insert ``module`` before position ``index`` (as ``list.insert``)."""
        if not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._insert(index, module)

    def __repr__(self):
        # As PyTorch: runs of identical modules print once, as "(0-2): 3 x Linear(...)".
        reprs = [repr(module) for module in self]
        if not reprs:
            return self._get_name() + "()"
        blocks = []  # [start, end, repr]
        for i, text in enumerate(reprs):
            if blocks and blocks[-1][2] == text:
                blocks[-1][1] = i
            else:
                blocks.append([i, i, text])
        lines = []
        for start, end, text in blocks:
            line = f"({start}): {text}" if start == end else f"({start}-{end}): {end - start + 1} x {text}"
            lines.append(_addindent(line, 2))
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of modules keyed by name, registered so that the parent module sees their parameters.

    Ordered by insertion. Supports ``d[key]``, ``d[key] = module``, ``del d[key]``, ``in``, ``len``, iteration
    over keys, ``keys``, ``values``, ``items``, ``update``, ``pop`` and ``clear``.

    Args:
        modules: a mapping of names to modules, or an iterable of ``(name, module)`` pairs (optional).

    Example::

        self.heads = nn.ModuleDict({"cls": nn.Linear(8, 10), "box": nn.Linear(8, 4)})
        out = self.heads["cls"](features)
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def clear(self):
        """Remove every module."""
        self._modules.clear()

    def pop(self, key):
        """Remove the module under ``key`` and return it."""
        module = self[key]
        del self[key]
        return module

    def keys(self):
        """The names, in insertion order."""
        return self._modules.keys()

    def items(self):
        """The ``(name, module)`` pairs, in insertion order."""
        return self._modules.items()

    def values(self):
        """The modules, in insertion order."""
        return self._modules.values()

    def update(self, modules):
        """Add (or overwrite) modules from a mapping or an iterable of ``(name, module)`` pairs."""
        if not isinstance(modules, Iterable):
            raise TypeError(
                "ModuleDict.update should be called with an iterable of key/value pairs, but got "
                + type(modules).__name__
            )
        if isinstance(modules, (Mapping, ModuleDict)):
            for key, module in modules.items():
                self[key] = module
            return
        for j, pair in enumerate(modules):
            if not isinstance(pair, Iterable):
                raise TypeError(
                    f"ModuleDict update sequence element #{j} should be Iterable; is {type(pair).__name__}"
                )
            if len(pair) != 2:
                raise ValueError(f"ModuleDict update sequence element #{j} has length {len(pair)}; 2 is required")
            self[pair[0]] = pair[1]
