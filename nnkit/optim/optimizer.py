"""The Optimizer base class: parameter groups, per-parameter state, zero_grad and state_dict.

An optimizer is a thin stateful shell around a pure update function on numpy arrays (``sgd``, ``adam``): its
``step`` gathers the arrays of the parameters that have a gradient, calls the function, which updates them in
place, and bumps each parameter's version counter, as PyTorch's in-place updates under ``no_grad`` do. No
Tensor is created and nothing is recorded, so a step costs about as much as the same update written in numpy.
"""

import copy
from collections import defaultdict

from nnkit.autograd.grad_mode import enable_grad
from nnkit.nn.utils import _zero_grads
from nnkit.tensor import Tensor

__all__ = ["Optimizer"]


class Optimizer:
    """Base class of all optimizers.

    Args:
        params: an iterable of Tensors to optimize, or of dicts defining parameter groups: each dict holds
            ``'params'`` (a Tensor or an iterable of Tensors, or of ``(name, Tensor)`` pairs) and any option
            that overrides ``defaults`` for that group.
        defaults: the optimizer's options (``lr``, ``momentum``...), used by groups that do not set them.

    Attributes:
        param_groups: list of dicts, each with ``'params'`` (a list of Tensors) and every option.
        state: dict from parameter to that parameter's state dict (``'momentum_buffer'``, ``'step'``...).

    Subclasses implement ``step`` and may implement ``_check_options(options)``, which raises ValueError for
    invalid option values (it sees the defaults and then every group).

    Example::

        opt = nk.optim.SGD([{"params": model.body.parameters()},
                            {"params": model.head.parameters(), "lr": 1e-2}], lr=1e-3, momentum=0.9)
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    """

    def __init__(self, params, defaults):
        self._check_options(defaults)
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or dicts, but got "
                f"{params.type()} (wrap a single tensor in a list: [tensor])"
            )
        self.state = defaultdict(dict)
        self.param_groups = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError(
                "optimizer got an empty parameter list (check that the model has parameters, and that a "
                "generator such as model.parameters() was not already consumed)"
            )
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def _check_options(self, options):
        """Raise ValueError if an option value is invalid (subclasses override)."""

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines.extend(f"    {key}: {group[key]}" for key in sorted(group) if key != "params")
        return "\n".join(lines) + "\n)"

    def add_param_group(self, param_group):
        """Add a group of parameters, with its own options, to ``param_groups``.

        Useful when fine-tuning: layers unfrozen later join the optimizer with their own learning rate.

        Args:
            param_group (dict): ``'params'`` (a Tensor or an iterable of Tensors or of ``(name, Tensor)``
                pairs) and any options that override the optimizer's defaults.
        """
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the ordering of tensors in "
                "sets will change between runs. Please use a list instead."
            )
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        if names:
            if len(names) != len(params):
                raise ValueError(
                    "all optimizer params should be with/without names. Some param names are missing"
                )
            params = [p[1] for p in params]
            param_group["param_names"] = names
        param_group["params"] = params

        index = len(self.param_groups)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but one of the params is {type(p).__name__} "
                    f"(parameter {i} of group {index})"
                )
            if not (p.is_leaf or p.retains_grad):
                raise ValueError(
                    f"can't optimize a non-leaf Tensor (parameter {i} of group {index}, shape {list(p.shape)}, "
                    f"was produced by {p.grad_fn.name()}; optimize the leaf it was computed from, or make it a "
                    "leaf with .detach().requires_grad_())"
                )
        for name, default in self.defaults.items():
            param_group.setdefault(name, default)
        try:
            self._check_options(param_group)
        except ValueError as err:
            raise ValueError(f"{err} (in parameter group {index})") from None

        ids = [id(p) for p in params]
        if len(set(ids)) != len(ids):
            raise ValueError(
                f"optimizer contains a parameter group with duplicate parameters (group {index}); each would be "
                "updated twice per step. List every parameter once."
            )
        for other in self.param_groups:
            if ("param_names" in param_group) != ("param_names" in other):
                kind = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. "
                    f"cannot add param group {kind} to the optimizer"
                )
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if not seen.isdisjoint(ids):
            raise ValueError(
                f"some parameters appear in more than one parameter group (group {index} repeats a parameter of "
                "an earlier group; each parameter may belong to one group only)"
            )
        self.param_groups.append(param_group)

    def zero_grad(self, set_to_none=True):
        """Reset the gradients of all optimized tensors.

        Args:
            set_to_none (bool): set ``.grad`` to None (default) instead of filling it with zeros. A parameter
                whose grad is None is skipped by ``step``; one whose grad is zero is still updated (weight
                decay and momentum still act on it).
        """
        _zero_grads((p for group in self.param_groups for p in group["params"]), set_to_none)

    def step(self, closure=None):
        """Perform one optimization step, updating the parameters in place.

        Args:
            closure (callable, optional): re-evaluates the model and returns the loss; called with grad mode
                enabled before the update. Its result is returned.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement step()")

    @staticmethod
    def _evaluate(closure):
        """Run ``closure`` (if any) with grad mode on and return its loss."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

    @staticmethod
    def _bump_version(param):
        """Count an in-place update of ``param``'s storage, so stale saved tensors are detected in backward."""
        if param._counter is not None:
            param._counter[0] += 1

    def state_dict(self):
        """The optimizer's state as a dict, in PyTorch's format, as a snapshot (later steps do not change it).

        Returns:
            ``{'state': {index: {...}}, 'param_groups': [{..., 'params': [index, ...]}]}``: parameters are
            replaced by their position across all groups, in order; state tensors are copies.
        """
        index_of = {}
        groups = []
        for group in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index_of.setdefault(id(p), len(index_of))
            packed["params"] = [index_of[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {
            (index_of[id(k)] if isinstance(k, Tensor) else k): copy.deepcopy(v) for k, v in self.state.items()
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Load a state saved by ``state_dict()``: training then continues exactly as if never stopped.

        The state is deep-copied, and floating-point state tensors are cast to their parameter's dtype (except
        ``'step'``). Parameters are matched by position, so the optimizer must have been built with the same
        parameters in the same order and grouping. Note that building a learning-rate scheduler resets the
        groups' ``lr``: create schedulers before loading.

        Args:
            state_dict (dict): a dict returned by ``state_dict()``.
        """
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError(
                "loaded state dict has a different number of parameter groups (the optimizer has "
                f"{len(groups)}, the state dict {len(saved_groups)})"
            )
        for i, (group, saved) in enumerate(zip(groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size of optimizer's "
                    f"group (group {i}: the optimizer has {len(group['params'])} parameters, the state dict "
                    f"{len(saved['params'])})"
                )
        param_of = {
            saved_id: p
            for group, saved in zip(groups, saved_groups)
            for saved_id, p in zip(saved["params"], group["params"])
        }
        state = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in param_of:
                param = param_of[key]
                state[param] = {name: _cast(param, name, v, key) for name, v in value.items()}
            else:
                state[key] = copy.deepcopy(value)
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
        self.state = state
        self.param_groups = saved_groups


def _cast(param, name, value, index):
    """A deep copy of one state entry of ``param``; floating tensors take the parameter's dtype."""
    if not isinstance(value, Tensor):
        return copy.deepcopy(value)
    data = value._data
    if name != "step":
        if data.ndim and data.shape != param._data.shape:
            raise ValueError(
                f"loaded state dict has state '{name}' of shape {list(data.shape)} for parameter {index} of shape "
                f"{list(param.shape)}: the state dict belongs to other parameters, or they are in another order"
            )
        if data.dtype.kind == "f" and param._data.dtype.kind == "f":
            return Tensor._make(data.astype(param._data.dtype, copy=True))
    return Tensor._make(data.copy())
