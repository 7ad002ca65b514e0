"""`Module`: the base class of every layer and model, as torch.nn.Module.

A Module holds three ordered tables, filled by plain attribute assignment:

    _parameters  name -> Parameter      self.weight = Parameter(...)
    _buffers     name -> Tensor         self.register_buffer("running_mean", ...)
    _modules     name -> Module         self.fc = Linear(3, 4)

Everything else (traversal, train/eval, state dicts, moving between backends)
walks those tables recursively. Names in a state dict join the attribute names
with dots, exactly as PyTorch does (`main.0.weight`, `bn.running_var`), so the
same model tree has the same keys in both libraries.
"""
from collections import OrderedDict, namedtuple

import numpy as np

from .. import _device
from .. import backend as _backend
from ..tensor import Tensor
from .parameter import Parameter

_IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Module:
    """Base class for layers and models: subclass it, set attributes in
    `__init__` (after `super().__init__()`), and define `forward`.

        class MLP(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc1 = nn.Linear(784, 128)
                self.fc2 = nn.Linear(128, 10)

            def forward(self, x):
                return self.fc2(F.relu(self.fc1(x)))

    `model(x)` calls `model.forward(x)`.
    """

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())

    def forward(self, *args, **kwargs):
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        for hook in self._forward_pre_hooks.values():
            changed = hook(self, args)
            if changed is not None:
                args = changed if isinstance(changed, tuple) else (changed,)
        output = self.forward(*args, **kwargs)
        for hook in self._forward_hooks.values():
            changed = hook(self, args, output)
            if changed is not None:
                output = changed
        return output

    # --- hooks (as PyTorch's) ------------------------------------------------------
    def register_forward_pre_hook(self, hook):
        """hook(module, args) runs before every forward; it may return new args.
        Returns a handle whose remove() takes the hook away again."""
        return _RemovableHandle(self._forward_pre_hooks, hook)

    def register_forward_hook(self, hook):
        """hook(module, args, output) runs after every forward; it may return a new
        output (e.g. with some feature maps zeroed). Returns a removable handle."""
        return _RemovableHandle(self._forward_hooks, hook)

    # --- registration ------------------------------------------------------------
    def _check_name(self, name, kind):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {kind} before Module.__init__() call "
                f"(call super().__init__() first in {type(self).__name__}.__init__)")
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string, got {type(name).__name__}")
        if name == "" or "." in name:
            raise KeyError(f'{kind} name must be non-empty and contain no ".": got {name}')

    def register_parameter(self, name, param):
        """Add a Parameter (or None, a placeholder such as a missing bias) under `name`."""
        self._check_name(name, "parameter")
        if hasattr(self, name) and name not in self._parameters:
            raise KeyError(f"attribute {name!r} already exists")
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(
                f"cannot assign {type(param).__name__} object to parameter {name!r} "
                "(minigan.nn.Parameter or None required)")
        self._parameters[name] = param

    def register_buffer(self, name, tensor, persistent=True):
        """Add a Tensor that is state but not learned (running_mean, num_batches_tracked).

        Buffers move with `to()` and, when `persistent`, appear in `state_dict()`.
        """
        self._check_name(name, "buffer")
        if hasattr(self, name) and name not in self._buffers:
            raise KeyError(f"attribute {name!r} already exists")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(
                f"cannot assign {type(tensor).__name__} object to buffer {name!r} "
                "(minigan Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name, module):
        """Add a child Module (or None) under `name`."""
        self._check_name(name, "module")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute {name!r} already exists")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        self._modules[name] = module

    register_module = add_module

    def __setattr__(self, name, value):
        params, buffers, modules = (self.__dict__.get(table)
                                    for table in ("_parameters", "_buffers", "_modules"))
        if isinstance(value, Parameter):
            self._check_name(name, "parameter")
            self._forget(name, keep="_parameters")
            self._parameters[name] = value
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} object to parameter {name!r} "
                    "(minigan.nn.Parameter or None required)")
            params[name] = None
        elif isinstance(value, Module):
            self._check_name(name, "module")
            self._forget(name, keep="_modules")
            self._modules[name] = value
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(
                    f"cannot assign {type(value).__name__} object to child module {name!r} "
                    "(minigan.nn.Module or None required)")
            modules[name] = None
        elif buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(
                    f"cannot assign {type(value).__name__} object to buffer {name!r} "
                    "(minigan Tensor or None required)")
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name, keep):
        """Remove `name` from the instance dict and from every table but `keep`, where
        it is about to be (re)registered, keeping its place in the order."""
        self.__dict__.pop(name, None)
        for table in ("_parameters", "_buffers", "_modules"):
            if table != keep:
                self.__dict__[table].pop(name, None)
        self._non_persistent_buffers_set.discard(name)

    def __getattr__(self, name):
        # Only called when normal lookup fails: look in the three tables.
        for table in ("_parameters", "_buffers", "_modules"):
            entries = self.__dict__.get(table)
            if entries is not None and name in entries:
                return entries[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for table in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(table, ()):
                del self.__dict__[table][name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    # --- traversal (parents before children, each in registration order) -------------
    def named_modules(self, memo=None, prefix="", remove_duplicate=True):
        """(name, module) for this module ('') and every descendant, depth first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            child_prefix = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, child_prefix, remove_duplicate)

    def modules(self):
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        """(name, module) for the direct children (each module once)."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                yield name, module

    def children(self):
        for _, module in self.named_children():
            yield module

    def _named_members(self, table, prefix, recurse, remove_duplicate=True):
        seen = set()
        owners = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for owner_prefix, owner in owners:
            for name, value in getattr(owner, table).items():
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield owner_prefix + ("." if owner_prefix else "") + name, value

    def named_parameters(self, prefix="", recurse=True, remove_duplicate=True):
        """(name, Parameter) pairs; a Parameter shared by two layers comes once."""
        yield from self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse=True):
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True, remove_duplicate=True):
        yield from self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse=True):
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    def apply(self, fn):
        """Call fn(module) on every child (recursively), then on self; returns self.

            model.apply(init_weights)   # e.g. DCGAN's normal(0, 0.02) initialisation
        """
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # --- modes and gradients ------------------------------------------------------------
    def train(self, mode=True):
        """Set training mode (Dropout drops, BatchNorm uses batch statistics) recursively."""
        if not isinstance(mode, bool):
            raise ValueError(f"train: mode is expected to be a bool, got {type(mode).__name__}")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self):
        """Evaluation mode: same as train(False)."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Switch gradient tracking of every parameter (e.g. freeze D during the G step)."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Clear every parameter's gradient: None (default), or zeros if not set_to_none."""
        for param in self.parameters():
            if set_to_none:
                param.grad = None
            elif param.grad is not None:
                # A fresh array: a gradient array may be shared with another tensor's.
                param.grad = Tensor._make(param.xp.zeros_like(param.data), False)

    # --- state dicts ------------------------------------------------------------------------
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """Every parameter and persistent buffer by dotted name, in PyTorch's order
        (a module's own parameters, then its buffers, then its children's).

        Values are Tensors detached from the graph that share memory with the
        module (as in PyTorch): save them, or copy them, to keep a snapshot.
        """
        if destination is None:
            destination = OrderedDict()
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buffer in self._buffers.items():
            if buffer is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buffer if keep_vars else buffer.detach()
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination, prefix + name + ".", keep_vars)
        return destination

    def load_state_dict(self, state_dict, strict=True):
        """Copy values into the existing parameters and buffers, in place.

        state_dict: name -> Tensor, NumPy array or backend array (so a PyTorch
        state dict converted with `{k: v.numpy() for k, v in sd.items()}` loads).
        Each value is moved to the tensor's backend and cast to its dtype; the
        Parameter objects stay the same, so an optimizer built earlier still works.

        Missing keys, unexpected keys (only when strict) and shape mismatches
        (always) are all reported in one RuntimeError, and then nothing is loaded.
        Returns (missing_keys, unexpected_keys).
        """
        if not hasattr(state_dict, "items"):
            raise TypeError(
                "load_state_dict: expected a dict of name -> tensor, got "
                f"{type(state_dict).__name__}")
        targets = self.state_dict(keep_vars=True)  # name -> the Parameter or buffer itself
        missing = [name for name in targets if name not in state_dict]
        unexpected = [name for name in state_dict if name not in targets]
        errors, arrays = [], {}
        for name, target in targets.items():
            if name not in state_dict:
                continue
            value = state_dict[name]
            try:
                array = _host_array(value)
            except TypeError as error:
                errors.append(f"wrong value for {name}: {error}.")
                continue
            if tuple(array.shape) != target.shape:
                errors.append(
                    f"size mismatch for {name}: copying a param with shape {tuple(array.shape)} "
                    f"from checkpoint, the shape in current model is {target.shape}.")
                continue
            arrays[name] = array
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                               + "\n\t".join(errors))
        for name, array in arrays.items():
            target = targets[name]
            target.data[...] = _move(_to_dtype(array, target.dtype),
                                     _backend.backend_of(target.data))
            target._bump_version()
        return _IncompatibleKeys(missing, unexpected)

    # --- moving and casting ------------------------------------------------------------------
    def _apply_to_arrays(self, fn, floating_only=False):
        """Replace the array of every parameter, gradient and buffer by fn(array),
        keeping the Parameter and buffer objects themselves."""
        for module in self.modules():
            for tensor in list(module._parameters.values()) + list(module._buffers.values()):
                if tensor is None or (floating_only and tensor.dtype.kind != "f"):
                    continue
                tensor.data = fn(tensor.data)
                if tensor.grad is not None:
                    tensor.grad = Tensor._make(fn(tensor.grad.data), False)
        return self

    def to(self, target):
        """model.to('strict' | 'numpy' | 'cupy') moves every parameter and buffer to
        that backend ('cpu' and 'cuda' are PyTorch's names for numpy and cupy);
        model.to(mg.float64) casts the floating ones. In place: the same Parameter
        objects now hold the moved arrays. Returns self."""
        name = _device.backend_name(target)
        if name is not None:
            dest = _backend.get_backend(name)
            return self._apply_to_arrays(lambda array: _move(array, dest))
        try:
            dtype = np.dtype(target)
        except TypeError:
            raise ValueError(
                f"to: expected a device ('cpu', 'cuda'), a backend name "
                f"({', '.join(_backend.BACKENDS)}) or a floating "
                f"dtype, got {target!r}") from None
        if dtype.kind != "f":
            raise TypeError(f"to: only floating dtypes are accepted, got {dtype}")
        return self._apply_to_arrays(lambda array: array.astype(dtype, copy=False),
                                     floating_only=True)

    def cpu(self):
        """Move to the numpy backend (PyTorch's "cpu"). Returns self."""
        return self.to("cpu")

    def cuda(self):
        """Move to the cupy backend (PyTorch's "cuda", a GPU). Returns self."""
        return self.to("cuda")

    def double(self):
        """Cast floating parameters and buffers to float64 (for gradient checks)."""
        return self.to(np.float64)

    def float(self):
        """Cast floating parameters and buffers to float32."""
        return self.to(np.float32)

    # --- printing ----------------------------------------------------------------------------
    def extra_repr(self):
        """The text inside the parentheses of this module's repr (layers override it)."""
        return ""

    def _get_name(self):
        return type(self).__name__

    def __repr__(self):
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _indent(repr(module), 2)
                       for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"


class _RemovableHandle:
    """What register_forward_(pre_)hook returns: handle.remove() unregisters the hook."""

    _next_id = 0

    def __init__(self, table, hook):
        self.table, self.id = table, _RemovableHandle._next_id
        _RemovableHandle._next_id += 1
        table[self.id] = hook

    def remove(self):
        self.table.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def _indent(text, spaces):
    """Indent every line but the first (nested module reprs)."""
    lines = text.split("\n")
    return "\n".join(lines[:1] + [" " * spaces + line for line in lines[1:]])


def _host_array(value):
    """A state-dict value as an array: Tensors and backend arrays as they are,
    numbers and NumPy scalars as 0-d NumPy arrays."""
    if isinstance(value, Tensor):
        return value.data
    if _backend.backend_of(value) is not None:
        return value if not isinstance(value, np.generic) else np.asarray(value)
    if isinstance(value, (bool, int, float)):
        return np.asarray(value)
    raise TypeError(f"expected a Tensor or an array, got {type(value).__name__}")


def _move(array, dest):
    """`array` on backend `dest`, through host memory if it lives elsewhere."""
    source = _backend.backend_of(array)
    return array if source is dest else dest.to_device(source.to_numpy(array))


def _to_dtype(array, dtype):
    return array if array.dtype == dtype else array.astype(dtype)
