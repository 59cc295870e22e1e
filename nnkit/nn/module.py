"""``Module``: the base class of every layer and model.

A Module registers what is assigned to it: a :class:`Parameter` goes into ``_parameters``, a Module into
``_modules``, and a tensor given to :meth:`Module.register_buffer` into ``_buffers`` — ordered dicts, so names
come out in definition order. Parameter names, ``state_dict`` keys and the order of ``parameters()`` are the
same as PyTorch's for the same model. ``state_dict`` and ``load_state_dict`` recurse through the children with
a dotted prefix; each module writes and reads its own entries in ``_save_to_state_dict`` and
``_load_from_state_dict``, which layers with extra state (BatchNorm's ``num_batches_tracked``) override.
"""

from collections import OrderedDict, namedtuple
from collections.abc import Mapping

from nnkit import dtypes
from nnkit.autograd.grad_mode import no_grad
from nnkit.autograd.node import RemovableHandle
from nnkit.creation import _target_dtype
from nnkit.nn.parameter import Parameter
from nnkit.nn.utils import _zero_grads
from nnkit.tensor import Tensor

__all__ = ["Module"]


def weight_and_bias(module):
    """``(module.weight, module.bias)``, read from the parameter registry when both are registered there.

    Layers call this on every forward. Reading a parameter as an attribute reaches it through
    ``Module.__getattr__``, which Python calls only after its normal lookup has failed and raised internally:
    ~1.4 us per read on CPython 3.11, against ~0.1 us for the dict. A weight set up otherwise (removed from
    the registry and assigned as a plain attribute, as reparametrizations do) is read as an attribute.
    """
    params = module._parameters
    if "weight" in params and "bias" in params:
        return params["weight"], params["bias"]
    return module.weight, module.bias


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` found: keys the model wanted but did not get, and keys it did not use."""

    __slots__ = ()

    def __repr__(self):
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def _typename(value):
    """PyTorch's ``torch.typename``: ``'nnkit.FloatTensor'`` for tensors, else the qualified class name."""
    if isinstance(value, Tensor):
        return value.type()
    cls = type(value)
    module = cls.__module__
    if module in ("builtins", "__builtin__", None):
        return cls.__qualname__
    return f"{module}.{cls.__qualname__}"


def _addindent(text, spaces):
    """Indent every line of ``text`` but the first by ``spaces`` (how nested reprs line up)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    pad = " " * spaces
    return lines[0] + "\n" + "\n".join(pad + line for line in lines[1:])


def _check_member_name(name, kind):
    if not isinstance(name, str):
        raise TypeError(f"{kind} name should be a string. Got {_typename(name)}")
    if "." in name:
        raise KeyError(f'{kind} name can\'t contain ".", got: {name}')
    if name == "":
        raise KeyError(f'{kind} name can\'t be empty string ""')


class Module:
    """Base class for all neural-network modules: subclass it, create layers in ``__init__``, define ``forward``.

    Attributes assigned in ``__init__`` that are Parameters or Modules are registered, so ``parameters()``,
    ``state_dict()``, ``train()``/``eval()`` and ``to()`` reach them. Call the module (``model(x)``), not
    ``forward``, so that hooks run.

    Example::

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(4, 8)
                self.fc2 = nn.Linear(8, 2)

            def forward(self, x):
                return self.fc2(self.fc1(x).relu())

        net = Net()
        [name for name, _ in net.named_parameters()]   # ['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']
    """

    training: bool
    _version = 1  # bumped by a subclass whose state_dict layout changes; saved in state_dict()._metadata

    def __init__(self):
        set_ = object.__setattr__
        set_(self, "training", True)
        set_(self, "_parameters", OrderedDict())
        set_(self, "_buffers", OrderedDict())
        set_(self, "_non_persistent_buffers_set", set())
        set_(self, "_modules", OrderedDict())
        set_(self, "_forward_pre_hooks", [])
        set_(self, "_forward_hooks", [])

    def forward(self, *args, **kwargs):
        """The computation of this module; every subclass defines it. Call the module, not this method."""
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function (define '
            f"forward(self, ...) in {type(self).__name__})"
        )

    # -- calling -------------------------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if not (self._forward_pre_hooks or self._forward_hooks):
            return self.forward(*args, **kwargs)
        for hook, with_kwargs in tuple(self._forward_pre_hooks):
            if with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(
                            "forward pre-hook must return None or a tuple of (new_args, new_kwargs), but got "
                            f"{result}."
                        )
                    args, kwargs = result
            else:
                result = hook(self, args)
                if result is not None:
                    args = result if isinstance(result, tuple) else (result,)
        output = self.forward(*args, **kwargs)
        for hook, with_kwargs in tuple(self._forward_hooks):
            result = hook(self, args, kwargs, output) if with_kwargs else hook(self, args, output)
            if result is not None:
                output = result
        return output

    def register_forward_pre_hook(self, hook, *, prepend=False, with_kwargs=False):
        """Call ``hook(module, args)`` before each ``forward``; a returned value replaces the positional args.

        A non-tuple return value is wrapped into a 1-tuple. With ``with_kwargs=True`` the hook is called as
        ``hook(module, args, kwargs)`` and may return a new ``(args, kwargs)`` pair. ``prepend=True`` runs it
        before the hooks already registered. Returns a handle whose ``remove()`` unregisters the hook.
        """
        return self._add_hook(self._forward_pre_hooks, (hook, bool(with_kwargs)), prepend)

    def register_forward_hook(self, hook, *, prepend=False, with_kwargs=False):
        """Call ``hook(module, args, output)`` after each ``forward``; a returned value replaces the output.

        With ``with_kwargs=True`` the hook is called as ``hook(module, args, kwargs, output)``. ``prepend=True``
        runs it before the hooks already registered. Returns a handle whose ``remove()`` unregisters the hook.

        Example::

            feats = {}
            handle = model.fc.register_forward_hook(lambda m, args, out: feats.update(fc=out.detach()))
            model(x); handle.remove()
        """
        return self._add_hook(self._forward_hooks, (hook, bool(with_kwargs)), prepend)

    @staticmethod
    def _add_hook(hooks, entry, prepend):
        if prepend:
            hooks.insert(0, entry)
        else:
            hooks.append(entry)
        return RemovableHandle(hooks, entry)

    # -- registration --------------------------------------------------------------------------------------
    def register_parameter(self, name, param):
        """Add ``param`` (a Parameter, or None for an absent one) to this module under ``name``.

        Raises KeyError for a name taken by another attribute, TypeError for a non-Parameter, ValueError for
        a non-leaf tensor.
        """
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        _check_member_name(name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute '{name}' already exists")
        if param is None:
            self._parameters[name] = None
            return
        if not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign '{_typename(param)}' object to parameter '{name}' (nnkit.nn.Parameter or None "
                "required)"
            )
        if param.grad_fn is not None:
            raise ValueError(
                f"Cannot assign non-leaf Tensor to parameter '{name}'. Model parameters must be created "
                f"explicitly. To express '{name}' as a function of another Tensor, compute the value in the "
                "forward() method."
            )
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add a tensor that is state but not a parameter (BatchNorm's ``running_mean``) under ``name``.

        Buffers follow ``to()``/``float()`` and, if ``persistent``, appear in ``state_dict()``. ``tensor`` may be
        None (the buffer is then skipped in state_dict). Assigning ``self.name = tensor`` later replaces it.
        """
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        _check_member_name(name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute '{name}' already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign '{_typename(tensor)}' object to buffer '{name}' (nnkit Tensor or None required)"
            )
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Add the child ``module`` (or None) under ``name``; it can then be reached as ``self.name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        _check_member_name(name, "module")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        self._modules[name] = module

    def register_module(self, name, module):
        """Alias of :meth:`add_module`."""
        self.add_module(name, module)

    def __setattr__(self, name, value):
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._forget(name, keep="_parameters")
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as parameter '{name}' (nnkit.nn.Parameter or None "
                    "expected)"
                )
            self.register_parameter(name, value)
            return
        modules = d.get("_modules")
        if isinstance(value, Module):
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._forget(name, keep="_modules")
            modules[name] = value
            return
        if modules is not None and name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as child module '{name}' (nnkit.nn.Module or None "
                    "expected)"
                )
            modules[name] = value
            return
        buffers = d.get("_buffers")
        if buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign '{_typename(value)}' as buffer '{name}' (nnkit.Tensor or None expected)"
                )
            buffers[name] = value
            return
        object.__setattr__(self, name, value)

    def _forget(self, name, keep):
        """Remove ``name`` from every registry but ``keep`` (an attribute changes kind on reassignment)."""
        self.__dict__.pop(name, None)
        for registry in ("_parameters", "_buffers", "_modules"):
            if registry != keep:
                self.__dict__[registry].pop(name, None)
        if keep != "_buffers":
            self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name):
        # Only reached when normal lookup fails: registered members live in the ordered dicts.
        d = self.__dict__
        for registry in ("_parameters", "_buffers", "_modules"):
            members = d.get(registry)
            if members is not None and name in members:
                return members[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        d = self.__dict__
        if name in d.get("_parameters", ()):
            del d["_parameters"][name]
        elif name in d.get("_buffers", ()):
            del d["_buffers"][name]
            d["_non_persistent_buffers_set"].discard(name)
        elif name in d.get("_modules", ()):
            del d["_modules"][name]
        else:
            object.__delattr__(self, name)

    def __dir__(self):
        keys = list(super().__dir__())
        keys += list(self._parameters) + list(self._buffers) + list(self._modules)
        return sorted(k for k in set(keys) if not k[0].isdigit())

    # -- traversal -----------------------------------------------------------------------------------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """Yield ``(dotted_name, module)`` for this module (name ``prefix``) and all its descendants, pre-order.

        A module reachable twice is yielded once unless ``remove_duplicate=False``.
        """
        if memo is None:
            memo = set()
        if id(self) in memo:
            return
        if remove_duplicate:
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            yield from module.named_modules(memo, f"{prefix}.{name}" if prefix else name, remove_duplicate)

    def modules(self):
        """Yield this module and all its descendants (each once)."""
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        """Yield ``(name, module)`` for the direct children (each module once)."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        """Yield the direct child modules."""
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry, prefix, recurse, remove_duplicate):
        seen = set()
        if recurse:
            modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
        else:
            modules = [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or id(value) in seen:
                    continue
                if remove_duplicate:
                    seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """Yield ``(dotted_name, parameter)`` pairs in registration order (``'0.weight'``, ``'fc.bias'``...).

        A parameter shared by several modules is yielded once (under its first name) unless
        ``remove_duplicate=False``. ``recurse=False`` gives only this module's own parameters.
        """
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        """Yield the parameters (each shared parameter once): what an optimizer is given.

        Example::

            opt = nk.optim.SGD(model.parameters(), lr=0.1)
        """
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        """Yield ``(dotted_name, buffer)`` pairs, as :meth:`named_parameters` does for parameters."""
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        """Yield the buffers (each once)."""
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def get_submodule(self, target):
        """The submodule at the dotted path ``target`` (``'encoder.0'``); ``''`` is this module."""
        if target == "":
            return self
        module = self
        for item in target.split("."):
            if not hasattr(module, item):
                raise AttributeError(f"{module._get_name()} has no attribute `{item}`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return module

    def _owner(self, target):
        """``(submodule, attribute name)`` of the dotted path ``target``; AttributeError if it does not exist."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        if not hasattr(module, name):
            raise AttributeError(f"{module._get_name()} has no attribute `{name}`")
        return module, name

    def get_parameter(self, target):
        """The parameter at the dotted path ``target`` (``'fc.weight'``)."""
        module, name = self._owner(target)
        param = getattr(module, name)
        if not isinstance(param, Parameter):
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return param

    def get_buffer(self, target):
        """The buffer at the dotted path ``target`` (``'bn.running_mean'``)."""
        module, name = self._owner(target)
        if name not in module._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return module._buffers[name]

    def apply(self, fn):
        """Call ``fn(module)`` on every descendant (children first) and on this module; returns self.

        Example::

            model.apply(lambda m: nn.init.zeros_(m.bias) if isinstance(m, nn.Linear) else None)
        """
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # -- modes and gradients -------------------------------------------------------------------------------
    def train(self, mode=True):
        """Set training mode (``mode=True``) or evaluation mode on this module and all descendants; returns self.

        Dropout and BatchNorm behave differently in the two modes.
        """
        if not isinstance(mode, bool):
            raise ValueError(f"training mode is expected to be boolean (got {mode!r})")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        """Set evaluation mode: ``train(False)``; returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Set ``requires_grad`` on every parameter (``False`` freezes the module); returns self."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all parameters: to None (default), or to zeros with ``set_to_none=False``."""
        _zero_grads(self.parameters(), set_to_none)

    # -- conversion ----------------------------------------------------------------------------------------
    def _apply(self, fn):
        """Replace every parameter's and buffer's values by ``fn(tensor)``, keeping the Parameter objects."""
        for module in self.children():
            module._apply(fn)
        with no_grad():
            for param in self._parameters.values():
                if param is None:
                    continue
                param._data = fn(param)._data
                if param._grad is not None:
                    param._grad._data = fn(param._grad)._data
            for name, buf in self._buffers.items():
                if buf is not None:
                    self._buffers[name] = fn(buf)
        return self

    def to(self, *args, dtype=None, device=None, non_blocking=False):
        """Convert floating-point parameters and buffers to ``dtype`` in place; returns self.

        ``model.to(nk.float64)``, ``model.to('cpu')`` (accepted, nnkit runs on the CPU),
        ``model.to('cpu', nk.float64)`` or ``model.to(tensor)`` (its dtype). Integer buffers are left alone.
        """
        dtype = _target_dtype(args, dtype, device)
        if dtype is None:
            return self
        np_dtype = dtypes.to_numpy(dtype)
        if np_dtype.kind != "f":
            raise TypeError(
                f"nn.Module.to only accepts floating point or complex dtypes, but got desired dtype={dtype}"
            )
        return self._apply(lambda t: t.to(dtype) if t.is_floating_point() else t)

    def float(self):
        """Convert floating-point parameters and buffers to float32; returns self."""
        return self._apply(lambda t: t.float() if t.is_floating_point() else t)

    def double(self):
        """Convert floating-point parameters and buffers to float64; returns self."""
        return self._apply(lambda t: t.double() if t.is_floating_point() else t)

    def half(self):
        """Convert floating-point parameters and buffers to float16; returns self."""
        return self._apply(lambda t: t.half() if t.is_floating_point() else t)

    def cpu(self):
        """This module (nnkit runs on the CPU)."""
        return self

    # -- state dict ----------------------------------------------------------------------------------------
    def _save_to_state_dict(self, destination, prefix, keep_vars):
        """Write this module's own parameters and persistent buffers into ``destination`` (no recursion)."""
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()

    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """An OrderedDict of every parameter and persistent buffer, keyed by dotted name (``'fc.weight'``).

        The values are detached tensors sharing storage with the model (``keep_vars=True`` gives the
        Parameters themselves): copy them if the model will keep training. Keys and order are PyTorch's.

        Example::

            sd = model.state_dict()
            list(sd)            # ['0.weight', '0.bias', '2.weight', '2.bias']
        """
        if destination is None:
            destination = OrderedDict()
            destination._metadata = OrderedDict()
        metadata = getattr(destination, "_metadata", None)
        if metadata is not None:
            metadata[prefix[:-1]] = {"version": self._version}
        self._save_to_state_dict(destination, prefix, keep_vars)
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".", keep_vars=keep_vars)
        return destination

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        """Copy this module's own entries from ``state_dict`` (keys under ``prefix``), recording problems.

        Missing keys go to ``missing_keys``, keys under ``prefix`` this module does not own (and no child
        claims) to ``unexpected_keys``, shape mismatches and other failures to ``error_msgs``. A subclass whose
        saved layout changed between versions reads ``local_metadata.get('version')`` and fixes the keys up
        before calling this.
        """
        local_state = {name: value for name, value in self._parameters.items() if value is not None}
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                local_state[name] = buf
        assign = local_metadata.get("assign_to_params_buffers", False)
        for name, param in local_state.items():
            key = prefix + name
            if key not in state_dict:
                if strict:
                    missing_keys.append(key)
                continue
            value = state_dict[key]
            if not isinstance(value, Tensor):
                error_msgs.append(
                    f'While copying the parameter named "{key}", expected nnkit.Tensor or Tensor-like object from '
                    f"checkpoint but received {type(value)}"
                )
                continue
            if value.shape != param.shape:
                error_msgs.append(
                    f"size mismatch for {key}: copying a param with shape {list(value.shape)} from checkpoint, the "
                    f"shape in current model is {list(param.shape)}."
                )
                continue
            try:
                with no_grad():
                    if assign:
                        if isinstance(param, Parameter):
                            if isinstance(value, Parameter):
                                value.requires_grad_(param.requires_grad)
                            else:
                                value = Parameter(value, requires_grad=param.requires_grad)
                        setattr(self, name, value)
                    else:
                        param.copy_(value)
            except Exception as err:
                error_msgs.append(
                    f'While copying the parameter named "{key}", whose dimensions in the model are '
                    f"{list(param.shape)} and whose dimensions in the checkpoint are {list(value.shape)}, an "
                    f"exception occurred : {err.args}."
                )
        if strict:
            for key in state_dict:
                if not key.startswith(prefix):
                    continue
                head, dot, _ = key[len(prefix):].partition(".")
                if dot:
                    if head not in self._modules:
                        unexpected_keys.append(key)
                elif head not in local_state:
                    unexpected_keys.append(key)

    def load_state_dict(self, state_dict, strict=True, assign=False):
        """Copy parameters and buffers from ``state_dict`` into this module (in place, without recording).

        Args:
            state_dict: a mapping like the one :meth:`state_dict` returns.
            strict: require the keys to match exactly (default). Shape mismatches are errors either way.
            assign: make the state_dict's tensors the module's parameters and buffers instead of copying
                (parameters keep their ``requires_grad``).

        Returns:
            A named tuple ``(missing_keys, unexpected_keys)``.

        Raises:
            RuntimeError: listing every missing key, unexpected key and shape mismatch at once.
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        missing_keys, unexpected_keys, error_msgs = [], [], []
        metadata = getattr(state_dict, "_metadata", None)
        state_dict = OrderedDict(state_dict)

        def load(module, local_state_dict, prefix=""):
            local_metadata = dict(metadata.get(prefix[:-1], {})) if metadata is not None else {}
            if assign:
                local_metadata["assign_to_params_buffers"] = True
            module._load_from_state_dict(local_state_dict, prefix, local_metadata, True, missing_keys,
                                         unexpected_keys, error_msgs)
            for name, child in module._modules.items():
                if child is not None:
                    child_prefix = prefix + name + "."
                    child_state = {k: v for k, v in local_state_dict.items() if k.startswith(child_prefix)}
                    load(child, child_state, child_prefix)

        load(self, state_dict)
        if strict:
            if unexpected_keys:
                keys = ", ".join(f'"{k}"' for k in unexpected_keys)
                error_msgs.insert(0, f"Unexpected key(s) in state_dict: {keys}. ")
            if missing_keys:
                keys = ", ".join(f'"{k}"' for k in missing_keys)
                error_msgs.insert(0, f"Missing key(s) in state_dict: {keys}. ")
        if error_msgs:
            raise RuntimeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n\t" + "\n\t".join(error_msgs)
            )
        return _IncompatibleKeys(missing_keys, unexpected_keys)

    # -- printing ------------------------------------------------------------------------------------------
    def _get_name(self):
        return type(self).__name__

    def extra_repr(self):
        """The text inside this module's parentheses in its repr (``'in_features=4, out_features=2'``).

        Override it in a subclass to show its settings; one line or several.
        """
        return ""

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(module), 2) for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        body = ""
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                body = extra_lines[0]
            else:
                body = "\n  " + "\n  ".join(lines) + "\n"
        return f"{self._get_name()}({body})"
