"""Reverse-mode automatic differentiation: `Function`, `backward`, `grad`, `no_grad`.

A `Function` is one differentiable op. Its `forward` computes on backend arrays;
its `backward` receives the upstream gradients as **Tensors** and returns the
input gradients built from other differentiable ops. Because backward itself is
made of recorded ops, `backward(create_graph=True)` records the graph of the
gradient, and differentiating that graph again gives second derivatives (the
WGAN-GP gradient penalty needs exactly that) with no extra code.

Every Tensor made by a Function remembers it in `tensor._ctx`: the graph. The
backward pass walks that graph once, in reverse topological order, summing the
gradient contributions of every use of a tensor before passing it further.

Two safety rules, as in PyTorch:
- An op records the version (`Tensor._version`) of each input and of its output.
  If one of them was changed in place before backward reads it (an optimizer step
  between a loss and its backward is the classic case), backward raises instead
  of returning a silently wrong gradient.
- After an op's backward has run, what it saved (its inputs and arrays such as
  masks) is freed, unless retain_graph=True: memory falls during backward, and a
  second backward through the same ops raises.
"""
import contextlib
import weakref

from . import backend as _backend

_grad_enabled = True


def is_grad_enabled():
    return _grad_enabled


@contextlib.contextmanager
def _grad_mode(enabled):
    global _grad_enabled
    previous = _grad_enabled
    _grad_enabled = enabled
    try:
        yield
    finally:
        _grad_enabled = previous


def no_grad():
    """with mg.no_grad(): ...  -- ops record no graph (evaluation, optimizer steps)."""
    return _grad_mode(False)


def enable_grad():
    """with mg.enable_grad(): ...  -- record the graph even inside no_grad."""
    return _grad_mode(True)


class Function:
    """Base class of every differentiable op (and of a user's own ones).

    Subclasses define two static methods:

        forward(ctx, *arrays, **params) -> array
            computes on backend arrays; may keep what backward needs on ctx
            (ctx.mask = x > 0).
        backward(ctx, grad) -> one Tensor (or None) per forward input
            `grad` is dL/d(output) as a Tensor; uses ctx.inputs (the input
            Tensors), ctx.output (the output Tensor) and differentiable ops only.

    `ctx.needs_input_grad[i]` says whether input i's gradient is wanted, so a
    backward can skip work (a convolution over the images needs no image gradient);
    `ctx.retain_graph` whether what the op saved must outlive this backward (if not,
    a backward may drop a big saved array as soon as it has used it).
    Call it as `MyFunction.apply(*tensors, **params)`.
    """

    @staticmethod
    def forward(ctx, *args, **params):
        raise NotImplementedError(
            "a Function subclass must define forward(ctx, *arrays, **params)")

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError(
            "a Function subclass must define backward(ctx, grad) to be differentiated")

    @property
    def output(self):
        """The Tensor this op produced (kept weakly: the graph must not own its outputs)."""
        out = self._output()
        if out is not None and out._version != self._output_version:
            _raise_modified(self, out, self._output_version)
        return out

    @classmethod
    def apply(cls, *inputs, **params):
        for i, x in enumerate(inputs):
            if not isinstance(x, Tensor):
                raise TypeError(
                    f"{cls.__name__}.apply: input {i} must be a minigan Tensor, "
                    f"got {type(x).__name__} (pass constants as keyword parameters)")
        _check_same_backend(cls.__name__, inputs)
        ctx = cls()
        ctx.inputs = inputs
        ctx.needs_input_grad = tuple(x.requires_grad for x in inputs)
        data = cls.forward(ctx, *[x.data for x in inputs], **params)
        requires_grad = _grad_enabled and any(ctx.needs_input_grad)
        out = Tensor._make(data, requires_grad)
        if requires_grad:
            out._ctx = ctx
            ctx._output = weakref.ref(out)
            ctx._output_version = out._version
            ctx._input_versions = tuple(x._version for x in inputs)
        return out

    def __repr__(self):
        return f"<{type(self).__name__} backward>"


_FREED = ("Trying to backward through the graph a second time (or directly access saved "
          "tensors after they have already been freed). Saved intermediate values of the "
          "graph are freed when you call .backward() or mg.grad(). Specify "
          "retain_graph=True if you need to backward through the graph a second time or "
          "if you need to access saved tensors after calling backward.")


def _raise_modified(ctx, tensor, expected):
    raise RuntimeError(
        "one of the variables needed for gradient computation has been modified by an "
        f"inplace operation: [{type(ctx).__name__}, shape {tensor.shape}] is at version "
        f"{tensor._version}; expected version {expected} instead. Hint: an optimizer "
        "step (or another in-place change) between computing a loss and calling its "
        "backward; call backward first, or recompute the loss after the step.")


def _check_versions(ctx):
    """Raise if an input of this op changed in place since the op ran."""
    for x, version in zip(ctx.inputs, ctx._input_versions):
        if x._version != version:
            _raise_modified(ctx, x, version)


class InputTrace:
    """What a freed op remembers of an input that an op made: its shape, dtype and
    the op that made it (`_ctx`), not its numbers. The graph's shape survives
    backward, as PyTorch's grad_fn chain does, so it can still be drawn."""

    __slots__ = ("shape", "dtype", "requires_grad", "_ctx")

    def __init__(self, x):
        self.shape, self.dtype, self.requires_grad, self._ctx = (
            x.shape, x.dtype, x.requires_grad, x._ctx)

    @property
    def ndim(self):
        return len(self.shape)


def _free(ctx):
    """Drop what the op saved for backward (inputs, masks, ...), as PyTorch does.
    Leaf inputs (parameters, data) stay referenced, since they live on anyway;
    inputs that ops made are kept only as an InputTrace (ctx.graph_inputs)."""
    inputs = ctx.__dict__.get("inputs", ())
    ctx.__dict__.clear()
    ctx.graph_inputs = tuple(x if x._ctx is None else InputTrace(x) for x in inputs)
    ctx._freed = True


def _check_same_backend(name, tensors):
    if len(tensors) < 2:
        return
    first = type(tensors[0].data)
    for t in tensors[1:]:
        if type(t.data) is not first:
            a = _backend.backend_of(tensors[0].data)
            b = _backend.backend_of(t.data)
            raise TypeError(
                f"{name}: inputs live on different backends: "
                f"{a.name if a else first.__name__} and "
                f"{b.name if b else type(t.data).__name__}; "
                "move one with tensor.to(backend) first")


def _topological_order(roots):
    """Every tensor the roots depend on, each after all of its inputs.

    Iterative (an explicit stack, not recursion), so a chain of 100,000 ops
    backpropagates without RecursionError.
    """
    # BEGIN TASK 1.3
    order, visited = [], set()
    stack = [(t, False) for t in roots]
    while stack:
        t, inputs_done = stack.pop()
        if inputs_done:
            order.append(t)
            continue
        if id(t) in visited:
            continue
        visited.add(id(t))
        stack.append((t, True))
        if t._ctx is not None and not getattr(t._ctx, "_freed", False):
            for x in t._ctx.inputs:
                if x.requires_grad and id(x) not in visited:
                    stack.append((x, False))
    return order
    # END TASK 1.3


def _freed(t):
    return t._ctx is not None and getattr(t._ctx, "_freed", False)


def _run_backward(roots, root_grads, wanted, retain_graph, create_graph):
    """Propagate root_grads from roots to the tensors in `wanted`.

    wanted: a set of ids of tensors whose gradient is asked for, or None for
    "every leaf that requires grad" (Tensor.backward). Returns
    {id: (tensor, grad)} for the wanted tensors (for every reached leaf when
    wanted is None), and whether a freed op was met on the way.
    Only the ops on a path from a root to a wanted tensor run their backward;
    unless retain_graph, each frees what it saved once it has run.
    """
    order = _topological_order(roots)
    needed, met_freed = {}, False
    for t in order:  # inputs come first, so needed[] of every input is known
        if _freed(t):  # its inputs are gone: only itself can be wanted
            met_freed = True
            needed[id(t)] = wanted is None or id(t) in wanted
            if wanted is None:
                raise RuntimeError(_FREED)
        elif wanted is None:
            needed[id(t)] = True
        else:
            needed[id(t)] = id(t) in wanted or (
                t._ctx is not None and any(needed.get(id(x), False) for x in t._ctx.inputs))
        if t._ctx is not None and not _freed(t) and needed[id(t)] and (
                wanted is None or any(needed.get(id(x), False) for x in t._ctx.inputs)):
            _check_versions(t._ctx)  # before any backward runs: a refusal changes nothing

    grads = {}
    for root, g in zip(roots, root_grads):
        grads[id(root)] = g if id(root) not in grads else grads[id(root)] + g

    results = {}
    with _grad_mode(create_graph):
        while order:  # popping, so a tensor is released once its op's backward has run
            t = order.pop()
            g = grads.pop(id(t), None)
            if g is None or not needed[id(t)]:
                continue
            if t._ctx is None or (wanted is not None and id(t) in wanted):
                results[id(t)] = (t, g)
                if t._ctx is None or _freed(t):
                    continue
                if not any(needed.get(id(x), False) and x.requires_grad for x in t._ctx.inputs):
                    continue
            ctx = t._ctx
            ctx.needs_input_grad = tuple(
                x.requires_grad and needed.get(id(x), False) for x in ctx.inputs)
            ctx.retain_graph = retain_graph  # else a backward may free what it has used
            input_grads = type(ctx).backward(ctx, g)
            if not isinstance(input_grads, tuple):
                input_grads = (input_grads,)
            if len(input_grads) != len(ctx.inputs):
                raise RuntimeError(
                    f"{type(ctx).__name__}.backward returned {len(input_grads)} gradients "
                    f"for {len(ctx.inputs)} inputs")
            for x, gx, want in zip(ctx.inputs, input_grads, ctx.needs_input_grad):
                if gx is None or not want:
                    continue
                if gx.shape != x.shape:
                    raise RuntimeError(
                        f"{type(ctx).__name__}.backward returned a gradient of shape "
                        f"{gx.shape} for an input of shape {x.shape}")
                if gx.dtype != x.dtype:  # float32 * float64 -> the float32 leaf gets float32
                    gx = gx.to(x.dtype)
                if not create_graph:
                    gx = gx.detach()
                # BEGIN TASK 1.4
                previous = grads.get(id(x))
                grads[id(x)] = gx if previous is None else previous + gx
                # END TASK 1.4
            if not retain_graph:
                _free(ctx)
    return results, met_freed


def _as_root_grads(outputs, grad_outputs, who):
    root_grads = []
    for i, (y, g) in enumerate(zip(outputs, grad_outputs)):
        if g is None:
            if y.data.size != 1:
                raise RuntimeError(
                    f"{who}: a gradient can be implicitly created only for a scalar output; "
                    f"output {i} has shape {y.shape}: pass gradient=/grad_outputs=")
            g = Tensor._make(y.xp.ones_like(y.data), False)
        elif not isinstance(g, Tensor):
            g = Tensor(g, dtype=y.dtype)
        if g.shape != y.shape:
            raise RuntimeError(
                f"{who}: gradient of shape {g.shape} does not match output of shape {y.shape}")
        root_grads.append(g)
    return root_grads


def backward(tensor, gradient=None, retain_graph=None, create_graph=False):
    """Accumulate d(tensor)/d(leaf) into `leaf.grad` for every leaf that requires grad.

    retain_graph: keep what the ops saved, to backward through them again
    (defaults to create_graph, as in PyTorch); otherwise it is freed as backward goes.
    """
    if not tensor.requires_grad:
        raise RuntimeError(
            "backward: the tensor does not require grad and has no graph "
            "(was it computed under no_grad, or from tensors without requires_grad=True?)")
    (g,) = _as_root_grads([tensor], [gradient], "backward")
    if retain_graph is None:
        retain_graph = create_graph
    results, _ = _run_backward([tensor], [g], None, retain_graph, create_graph)
    for t, gx in results.values():
        # BEGIN TASK 1.4
        t.grad = gx if t.grad is None else t.grad + gx
        # END TASK 1.4


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """d(outputs)/d(inputs) as a tuple of Tensors, like torch.autograd.grad.

    outputs, inputs: a Tensor or a sequence of Tensors (inputs may be non-leaf).
    grad_outputs: the upstream gradient of each output (None for scalars).
    retain_graph: keep what the ops on the way saved, to differentiate through them
        again (defaults to create_graph); otherwise they are freed.
    create_graph: record the gradient's own graph, to differentiate it again.
    Nothing is accumulated into `.grad`.
    """
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs)
    for i, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad")
    for i, y in enumerate(outputs):
        if not y.requires_grad:
            raise RuntimeError(f"grad: output {i} does not require grad and has no graph")
    root_grads = _as_root_grads(outputs, list(grad_outputs), "grad")
    if retain_graph is None:
        retain_graph = create_graph
    results, met_freed = _run_backward(outputs, root_grads, {id(x) for x in inputs},
                                       retain_graph, create_graph)
    grads = []
    for i, x in enumerate(inputs):
        gx = results.get(id(x), (None, None))[1]
        if gx is None and met_freed:  # it may have been reachable through the freed ops
            raise RuntimeError(_FREED)
        if gx is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} was not used to compute the outputs "
                "(pass allow_unused=True to get None for it)")
        grads.append(gx)
    return tuple(grads)


from .tensor import Tensor  # noqa: E402  (Tensor uses Function; both are one idea)
