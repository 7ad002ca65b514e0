"""Helpers for tests: float64 inputs on the current backend, torch conversion, and
running the training programs."""
import os

import numpy as np
import pytest

import minigan as mg

_rng = np.random.default_rng(1234)


def randn(*shape, requires_grad=True, scale=1.0, offset=0.0, seed=None):
    """A float64 tensor of normal samples on the current backend."""
    rng = _rng if seed is None else np.random.default_rng(seed)
    return mg.tensor(rng.standard_normal(shape) * scale + offset, dtype=mg.float64,
                     requires_grad=requires_grad)


def uniform(*shape, low=-1.0, high=1.0, requires_grad=True, seed=None):
    rng = _rng if seed is None else np.random.default_rng(seed)
    return mg.tensor(rng.uniform(low, high, shape), dtype=mg.float64,
                     requires_grad=requires_grad)


def to_torch(t, torch, requires_grad=None):
    """A minigan tensor as a torch tensor with the same values (via NumPy)."""
    x = torch.from_numpy(np.array(t.numpy()))
    if requires_grad if requires_grad is not None else t.requires_grad:
        x.requires_grad_(True)
    return x


def assert_close(a, b, atol=1e-10, rtol=1e-7):
    """Compare minigan / torch / numpy values elementwise."""
    def host(v):
        if isinstance(v, mg.Tensor):
            return v.numpy()
        if hasattr(v, "detach"):
            return v.detach().numpy()
        return np.asarray(v)
    a, b = host(a), host(b)
    assert a.shape == b.shape, f"shapes differ: {a.shape} vs {b.shape}"
    np.testing.assert_allclose(a, b, atol=atol, rtol=rtol)


def assert_matches_torch(torch, mg_fn, torch_fn, *inputs, atol=1e-10, rtol=1e-7):
    """mg_fn(*inputs) agrees with torch_fn(*torch_inputs) in float64 on

        forward          y = f(x)
        backward         d<y, v>/dx for a random upstream gradient v
        double backward  d<grad, w>/dx and d<grad, w>/dv for random w

    inputs: minigan tensors on the current backend; those with requires_grad are
    differentiated. A gradient one library leaves as None must be zero in the other.
    """
    rng = np.random.default_rng(7)
    t_inputs = [to_torch(x, torch) for x in inputs]
    y, ty = mg_fn(*inputs), torch_fn(*t_inputs)
    assert y.dtype == mg.float64
    assert_close(y, ty, atol=atol, rtol=rtol)

    xs = [x for x in inputs if x.requires_grad]
    txs = [t for x, t in zip(inputs, t_inputs) if x.requires_grad]
    v = randn(*y.shape, seed=11)
    tv = to_torch(v, torch)
    grads = mg.grad(y, xs, grad_outputs=v, create_graph=True, allow_unused=True)
    t_grads = torch.autograd.grad(ty, txs, tv, create_graph=True, allow_unused=True)
    for x, g, tg in zip(xs, grads, t_grads):
        assert_close(_or_zeros(g, x), _or_zeros(tg, x), atol=atol, rtol=rtol)

    ws = [rng.standard_normal(x.shape) for x in xs]
    second = _grad_of_grad(mg.grad, xs + [v], [
        (g * mg.tensor(w, dtype=mg.float64)).sum()
        for g, w in zip(grads, ws) if g is not None and g.requires_grad])
    t_second = _grad_of_grad(torch.autograd.grad, txs + [tv], [
        (tg * torch.from_numpy(w)).sum()
        for tg, w in zip(t_grads, ws) if tg is not None and tg.requires_grad])
    for x, g, tg in zip(xs + [v], second, t_second):
        assert_close(_or_zeros(g, x), _or_zeros(tg, x), atol=atol, rtol=rtol)


def _grad_of_grad(grad, wrt, terms):
    """d(sum of terms)/d(wrt), all None when no term has a graph (the gradient was constant)."""
    if not terms:
        return [None] * len(wrt)
    return grad(sum(terms), wrt, allow_unused=True)


def _or_zeros(g, x):
    """A gradient as a NumPy array: None -> zeros; torch's ZeroTensors included."""
    if g is None:
        return np.zeros(x.shape)
    return g.numpy() if isinstance(g, mg.Tensor) else g.detach().numpy(force=True)


def arrays_kept(ctx, at_least=0):
    """{name: shape} of the backend arrays an op's context holds for backward, those of
    `at_least` numbers or more (its inputs are Tensors, not counted)."""
    array_type = type(ctx.inputs[0].data)
    return {name: value.shape for name, value in vars(ctx).items()
            if isinstance(value, array_type) and value.size >= at_least}


# --- running the training programs (tests/test_gan_training.py, test_family_*.py) ---

needs_mnist = pytest.mark.skipif(not os.environ.get("MINIGAN_DATA"),
                                 reason="MNIST not found (set MINIGAN_DATA)")


def run_program(model_cls, out, *args, options=(), backend="numpy"):
    """Run the model's example program: `options` (a test file's small settings), then
    --out and --backend, then `args`. Returns its exit status."""
    from minigan.train import main
    argv = list(options) + ["--out", str(out), "--backend", backend] + [str(a) for a in args]
    with mg.use_backend(backend):
        return main(model_cls, argv)


def checkpoint_weights(out):
    """{"net.key": array} of every network's state in OUT/checkpoint.npz."""
    from minigan.train import load_checkpoint
    state = load_checkpoint(os.path.join(out, "checkpoint.npz"))
    return {f"{net}.{k}": v.numpy() for net, sd in state["networks"].items() for k, v in sd.items()}


def resumed_in_halves(model_cls, tmp_path, argv, options):
    """Train `argv` for 4 steps straight, and again as 2 steps then --resume to 4; assert
    the two final checkpoints hold the same keys and bit-identical arrays. Returns
    (the straight run's weights, the halves' run folder) for a test's own checks."""
    straight, halves = tmp_path / "straight", tmp_path / "halves"
    assert run_program(model_cls, straight, *argv, options=options) == 0
    assert run_program(model_cls, halves, *argv, "--max-steps", 2, options=options) == 0
    assert run_program(model_cls, halves, "--resume", "--max-steps", 4) == 0
    a, b = checkpoint_weights(straight), checkpoint_weights(halves)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    return a, halves


def initial_weights(model_cls, config):
    """The weights a run with `config` starts from: main() seeds, then builds the model."""
    mg.manual_seed(config["seed"])
    model = model_cls(config)
    return {f"{net}.{k}": v.numpy() for net, module in model.networks.items()
            for k, v in module.state_dict().items()}
