"""`Optimizer`: the part every optimizer shares, as in `torch.optim.Optimizer`.

    optimizer = optim.Adam(model.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()          # every parameter with a .grad moves, in place

An optimizer holds
    param_groups  a list of dicts, each {'params': [Tensor, ...], 'lr': ..., ...}:
                  parameters sharing hyperparameters (a group may override the
                  constructor's defaults, e.g. a smaller lr for one layer)
    state         {parameter Tensor: {'step': int, 'exp_avg': array, ...}}:
                  what the update rule remembers between steps, one dict per parameter

A subclass supplies only its update rule, `_update(param, grad, state, group)`,
written on backend arrays: the step changes `param.data` in place with in-place
ufuncs (`out=`) and moves the parameter's version (`Tensor._version`), so a
backward through a graph made before the step raises instead of using the new
values; no graph is recorded, nothing crosses to the host, and a
float32 parameter never meets a float64 temporary (hyperparameters are Python
floats, which NumPy 2 and CuPy apply without changing an array's dtype).

`state_dict()` has PyTorch's layout,
    {'state': {0: {'step': 3, 'exp_avg': array, ...}, ...},
     'param_groups': [{'lr': 0.001, ..., 'params': [0, 1, 2]}, ...]}
where a parameter is named by its position across the groups, so the dict can be
saved with `mg.save` and loaded into an optimizer over other tensors of the same shapes.
"""
from collections import defaultdict

import numpy as np

from .. import _threads
from .. import backend as _backend
from ..autograd import enable_grad
from ..tensor import Tensor


class Optimizer:
    """Base class of the optimizers.

    params: an iterable of Tensors (e.g. `model.parameters()`), or of dicts
        `{'params': [...], 'lr': ...}`, one per parameter group.
    defaults: the hyperparameters of a group that does not set them itself.
    """

    def __init__(self, params, defaults):
        self.defaults = {k: _as_python(v) for k, v in defaults.items()}
        self.state = defaultdict(dict)
        self.param_groups = []
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(
                f"{name}: params should be an iterable of Tensors or of dicts, got a "
                f"Tensor of shape {params.shape}; pass [tensor]")
        if isinstance(params, dict):
            raise TypeError(f"{name}: params should be an iterable of Tensors or of dicts, "
                            "got one dict; pass a list of parameter groups: [{'params': ...}]")
        groups = list(params)
        if not groups:
            raise ValueError(f"{name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # --- parameter groups ---------------------------------------------------------
    def add_param_group(self, param_group):
        """Add a group {'params': [...], hyperparameter: value, ...}; missing
        hyperparameters are taken from the defaults."""
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a parameter group must be a dict, got "
                            f"{type(param_group).__name__}")
        params = param_group.get("params")
        if params is None:
            raise ValueError(f"{name}: a parameter group needs a 'params' entry")
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: parameters must be in an ordered collection (a list), "
                            "not a set, so that state_dict numbers them the same way each run")
        else:
            params = list(params)
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: can only optimize Tensors, but parameter {i} "
                                f"is a {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{name}: cannot optimize a non-leaf Tensor (parameter {i}, "
                                 f"shape {p.shape}, made by {type(p.grad_fn).__name__})")
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        if len({id(p) for p in params}) != len(params):
            raise ValueError(f"{name}: a parameter group lists the same tensor twice")
        if any(id(p) in seen for p in params):
            raise ValueError(f"{name}: some parameters appear in more than one parameter group")

        group = {k: _as_python(v) for k, v in param_group.items() if k != "params"}
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        group["params"] = params
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group):
        """Raise ValueError naming any invalid hyperparameter of `group` (subclasses)."""

    def _expect(self, ok, what, value, expected):
        if not ok:
            raise ValueError(
                f"{type(self).__name__}: invalid {what} {value!r}: expected {expected}")

    def _check_nonnegative(self, group, *names):
        for key in names:
            self._expect(0.0 <= group[key], key, group[key], f"{key} >= 0")

    # --- one step -------------------------------------------------------------------
    def step(self, closure=None):
        """Update every parameter that has a gradient; parameters whose .grad is
        None are skipped. closure: optional, re-evaluates the model and returns
        the loss (run with gradients enabled); step returns what it returned."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad.data
                if grad.shape != p.data.shape or grad.dtype != p.data.dtype:
                    raise RuntimeError(
                        f"{type(self).__name__}.step: a parameter of shape {p.shape} and "
                        f"dtype {p.dtype} has a gradient of shape {tuple(grad.shape)} and "
                        f"dtype {grad.dtype}")
                if not grad.flags.c_contiguous:  # e.g. a broadcast view: read in_chunks
                    grad = p.xp.ascontiguousarray(grad)
                state = self.state[p]
                if not state:
                    state.update(self._init_state(p.data, group))
                self._update(p.data, grad, state, group)
                p._bump_version()  # a graph that saved p before this step can no longer use it
        return loss

    def _init_state(self, param, group):
        """The state of a parameter before its first step (a dict; subclasses)."""
        return {}

    def _update(self, param, grad, state, group):
        """Change the array `param` in place, given the array `grad` (subclasses)."""
        raise NotImplementedError(f"{type(self).__name__} must define _update")

    def zero_grad(self, set_to_none=True):
        """Forget the gradients: .grad = None (the default), or zeros.

        Zeros come as a new array rather than by writing into the old one: a
        gradient may be a read-only broadcast view, or shared with another
        tensor's gradient, in this engine."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad = Tensor._make(p.xp.zeros_like(p.data), False)

    # --- saving and loading ---------------------------------------------------------
    def state_dict(self):
        """{'state': {index: {...}}, 'param_groups': [{..., 'params': [index, ...]}]}.

        Parameters are numbered 0, 1, 2 ... across the groups in order. The state
        holds the optimizer's live arrays (as PyTorch's does): save it, or copy it,
        before stepping again if it must not change."""
        index = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        params = [p for group in self.param_groups for p in group["params"]]
        state = {index[id(p)]: dict(self.state[p]) for p in params if self.state.get(p)}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Continue from a `state_dict()` (also one read back by `mg.load`).

        The groups must list as many parameters as this optimizer's do; each
        buffer is copied onto its parameter's backend and cast to its dtype; the
        hyperparameters saved replace the current ones."""
        name = type(self).__name__
        for key in ("state", "param_groups"):
            if key not in state_dict:
                raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and "
                                 f"'param_groups', got keys {sorted(map(str, state_dict))}")
        saved_groups = list(state_dict["param_groups"])
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the state dict has {len(saved_groups)} parameter "
                f"groups, this optimizer {len(self.param_groups)}")
        by_index = {}
        for g, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            indices = [int(i) for i in _as_python(saved["params"])]
            if len(indices) != len(group["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: parameter group {g} has {len(indices)} "
                    f"parameters in the state dict, {len(group['params'])} in this optimizer")
            by_index.update(zip(indices, group["params"]))

        state = defaultdict(dict)
        for key, values in state_dict["state"].items():
            index = int(key)
            if index not in by_index:
                raise ValueError(f"{name}.load_state_dict: state for parameter {index}, "
                                 "which no parameter group lists")
            p = by_index[index]
            state[p] = {k: _restore(k, v, p, f"{name}.load_state_dict: state {k!r} of "
                                    f"parameter {index}") for k, v in values.items()}

        groups = []
        for saved, group in zip(saved_groups, self.param_groups):
            new = dict(group)
            new.update({k: _as_python(v) for k, v in saved.items() if k != "params"})
            self._check_group(new)
            groups.append(new)
        self.state = state
        self.param_groups = groups

    def __repr__(self):
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines + [")"])


def _as_python(value):
    """A hyperparameter as a Python number, string or tuple.

    NumPy scalars come back from saved files (np.float64(0.9)), and an array
    times an np.float64 is float64, so they must become Python floats, which
    keep a float32 array float32."""
    if isinstance(value, Tensor):
        value = value.data
    found = _backend.backend_of(value)
    if found is not None:
        value = found.to_numpy(value)
    if isinstance(value, np.ndarray):
        return value.item() if value.ndim == 0 else tuple(value.tolist())
    if isinstance(value, (list, tuple)):
        return tuple(_as_python(v) for v in value)
    return value


def _restore(key, value, param, what):
    """A saved state entry for `param`: arrays copied onto its backend and dtype.
    what: names the entry in error messages."""
    if key == "step":  # a step count (PyTorch keeps a float tensor; we an int)
        return int(_as_python(value))
    if isinstance(value, Tensor):
        value = value.data
    found = _backend.backend_of(value)
    if found is None:
        return value  # a Python number or string
    if value.ndim == 0:
        return _as_python(value)
    if tuple(value.shape) != param.shape:
        raise ValueError(f"{what} has shape {tuple(value.shape)}, the parameter {param.shape}")
    home = _backend.backend_of(param.data)
    if found is not home:
        value = home.to_device(found.to_numpy(value))
    return value.astype(param.dtype, copy=True)


def each_chunk(update, *arrays):
    """update(*chunk) for every chunk of in_chunks(*arrays), the update rule's body.

    The trick: the chunks of a large parameter (HEAVY_MIN_ELEMENTS numbers or more, on
    the numpy backend) are shared out between threads (minigan/_threads.py), each
    thread stepping its run of chunks while the others step theirs. Every number
    is still updated by the same operations, so the bits are those of one thread;
    small parameters (biases, batch-norm weights) stay on one, where a hand-off
    would cost more than their whole update."""
    chunks = list(in_chunks(*arrays))

    def run(start, stop):
        for chunk in chunks[start:stop]:
            update(*chunk)

    _threads.split(run, len(chunks), arrays[0], _threads.HEAVY_MIN_ELEMENTS)


def lerp_(start, end, weight, scratch):
    """start += weight * (end - start), in place, with torch.lerp_'s formulas.

    For weight >= 0.5 PyTorch computes end - (end - start) * (1 - weight), which
    rounds better there; so do we (Adam with beta1 = 0.5 takes that branch, and
    then agrees with PyTorch to the last bit; elsewhere PyTorch's fused
    multiply-add may round the last bit differently).
    scratch: an array like `start` that may be overwritten."""
    xp = _backend.get_array_module(start)
    xp.subtract(end, start, out=scratch)
    if abs(weight) < 0.5:
        scratch *= weight
        start += scratch
    else:
        scratch *= 1.0 - weight
        xp.subtract(end, scratch, out=start)
    return start


def gradient_to_follow(param, grad, weight_decay, maximize):
    """The gradient an update rule uses: -grad if maximize, then + weight_decay * param
    (L2 regularization, in PyTorch's order). A new array when either applies;
    otherwise `grad` itself, which the caller must not write into."""
    xp = _backend.get_array_module(param)
    if weight_decay != 0:
        decayed = xp.multiply(param, weight_decay)
        if maximize:
            decayed -= grad
        else:
            decayed += grad
        return decayed
    if maximize:
        return xp.negative(grad)
    return grad


CHUNK_BYTES = 1 << 17  # 128 KiB of each array: an update's arrays then fit in the CPU cache


def in_chunks(*arrays):
    """Pieces of arrays of one shape: yields (a[i:j], b[i:j], ...) as flat views
    (None, for a buffer an option turned off, stays None).

    An update rule makes a dozen passes over its arrays (Adam: m, v, their
    square root, ...). Run on a whole 1M-element array, each pass streams it
    from main memory; run piece by piece, a piece stays in the CPU cache for
    all the passes, which makes an Adam step about twice as fast. On a GPU
    (CuPy), and for arrays that are not C-contiguous (no flat view), the
    arrays come whole, in one piece."""
    first = arrays[0]
    present = [a for a in arrays if a is not None]
    chunk = max(1, CHUNK_BYTES // first.dtype.itemsize)
    if (first.size <= chunk or _backend.backend_of(first).name == "cupy"
            or not all(a.flags.c_contiguous for a in present)):
        yield arrays
        return
    flat = [None if a is None else a.reshape(-1) for a in arrays]
    for start in range(0, first.size, chunk):
        yield tuple(None if a is None else a[start:start + chunk] for a in flat)
