"""The textbook twins (minigan/textbook/) give the fast ops' numbers, and mg.textbook() routes.

Every twin is compared with its fast twin in float64 on numpy and strict: the
forward value, the backward for a random upstream gradient, and the double backward
(agreeing to ~1e-12, rounding only); and gradchecked against finite differences.
"""
import sys

import numpy as np
import pytest

import minigan as mg
import minigan.functional as F
from minigan import nn, optim, textbook
from minigan.functional import _twins
from minigan.functional import conv as fast_conv
from minigan.functional import norm as fast_norm
from minigan.functional import pool as fast_pool

from .helpers import assert_close, checkpoint_weights, needs_mnist, randn, run_program


def _value_and_derivatives(fn, inputs):
    """fn(*inputs), d<y, v>/d(inputs) and d<grads, w>/d(inputs and v), for fixed random v, w."""
    xs = [x for x in inputs if x.requires_grad]
    y = fn(*inputs)
    v = randn(*y.shape, seed=11)
    grads = mg.grad(y, xs, grad_outputs=v, create_graph=True)
    rng = np.random.default_rng(5)
    terms = [(g * mg.tensor(rng.standard_normal(g.shape), dtype=mg.float64)).sum()
             for g in grads if g.requires_grad]
    second = mg.grad(sum(terms), xs + [v], allow_unused=True) if terms else ()
    return [y, *grads, *second]


def assert_twins_agree(fast_fn, textbook_fn, *inputs, atol=1e-11, rtol=1e-9):
    """Forward, backward and double backward of the two functions agree (None = zero)."""
    fast = _value_and_derivatives(fast_fn, inputs)
    mine = _value_and_derivatives(textbook_fn, inputs)
    assert len(fast) == len(mine)
    for a, b in zip(fast, mine):
        if a is None or b is None:  # a gradient one leaves unused must be zero in the other
            assert all(t is None or not np.any(t.numpy()) for t in (a, b))
            continue
        assert_close(b, a, atol=atol, rtol=rtol)


# --- convolution -------------------------------------------------------------------------

# x shape, weight shape (C_out, C, kh, kw), stride, padding, dilation
CONV2D_CASES = [
    ((2, 3, 7, 7), (4, 3, 3, 3), 1, 0, 1),
    ((2, 3, 8, 9), (5, 3, 3, 2), 2, 1, 1),
    ((1, 2, 9, 8), (3, 2, 3, 3), (2, 1), (1, 2), (1, 2)),
    ((3, 1, 8, 8), (2, 1, 4, 4), 2, 1, 1),  # the DCGAN discriminator's layer
    ((2, 2, 10, 7), (2, 2, 2, 3), 3, (0, 1), 2),  # leftover rows no window reaches
    ((1, 3, 5, 5), (2, 3, 1, 1), 1, 0, 1),
]


@pytest.mark.parametrize("x_shape, w_shape, stride, padding, dilation", CONV2D_CASES)
@pytest.mark.parametrize("with_bias", [False, True])
def test_conv2d_equals_the_fast_conv2d_forward_backward_and_double_backward(
        backend, x_shape, w_shape, stride, padding, dilation, with_bias):
    x, w = randn(*x_shape), randn(*w_shape)
    inputs = (x, w, randn(w_shape[0])) if with_bias else (x, w)
    geometry = dict(stride=stride, padding=padding, dilation=dilation)
    assert_twins_agree(lambda *a: F.conv2d(*a, **geometry),
                       lambda *a: textbook.conv2d(*a, **geometry), *inputs)


# x shape, weight shape (C_in, C_out, kh, kw), stride, padding, output_padding, dilation
CONV_TRANSPOSE2D_CASES = [
    ((2, 3, 4, 4), (3, 2, 4, 4), 2, 1, 0, 1),  # the DCGAN generator's layer
    ((2, 3, 3, 5), (3, 4, 3, 3), 2, 1, 1, 1),
    ((1, 2, 4, 3), (2, 3, 3, 2), (3, 2), (1, 0), (2, 1), 1),
    ((2, 2, 5, 5), (2, 2, 3, 3), 1, 2, 1, 2),  # output_padding >= stride (< dilation)
    ((1, 2, 3, 3), (2, 1, 2, 2), 1, 0, 0, (2, 3)),
]


@pytest.mark.parametrize("x_shape, w_shape, stride, padding, output_padding, dilation",
                         CONV_TRANSPOSE2D_CASES)
@pytest.mark.parametrize("with_bias", [False, True])
def test_conv_transpose2d_equals_the_fast_one_forward_backward_and_double_backward(
        backend, x_shape, w_shape, stride, padding, output_padding, dilation, with_bias):
    x, w = randn(*x_shape), randn(*w_shape)
    inputs = (x, w, randn(w_shape[1])) if with_bias else (x, w)
    geometry = dict(stride=stride, padding=padding, output_padding=output_padding,
                    dilation=dilation)
    assert_twins_agree(lambda *a: F.conv_transpose2d(*a, **geometry),
                       lambda *a: textbook.conv_transpose2d(*a, **geometry), *inputs)


@pytest.mark.parametrize("x_shape, w_shape, stride, padding, dilation", CONV2D_CASES)
def test_the_weight_gradient_equals_the_fast_one_and_its_own_derivatives(
        backend, x_shape, w_shape, stride, padding, dilation):
    pair = lambda v: (v, v) if isinstance(v, int) else v  # noqa: E731
    geometry = dict(kernel_size=w_shape[2:], stride=pair(stride), padding=pair(padding),
                    dilation=pair(dilation))
    size = fast_conv.conv_output_size(x_shape[2:], w_shape[2:], geometry["stride"],
                                      geometry["padding"], geometry["dilation"])
    x, gy = randn(*x_shape), randn(x_shape[0], w_shape[0], *size)
    assert_twins_agree(lambda *a: fast_conv.Conv2dWeightGrad.apply(*a, **geometry),
                       lambda *a: textbook.Conv2dWeightGrad.apply(*a, **geometry), x, gy)


def test_im2col_lays_each_window_out_as_a_column_and_col2im_is_its_adjoint(backend):
    x = mg.tensor(np.arange(2 * 1 * 3 * 4, dtype=np.float64).reshape(2, 1, 3, 4))
    cols = textbook.im2col(x.data, (2, 2), (2, 3), (1, 1), (0, 0), (1, 1))
    assert cols.shape == (2, 4, 6)  # (N, C*kh*kw, Ho*Wo)
    # image 0's first window is x[0, 0, 0:2, 0:2] = [[0, 1], [4, 5]]
    assert mg.to_numpy(cols[0, :, 0]).tolist() == [0, 1, 4, 5]
    # <im2col(x), c> = <x, col2im(c)> for the adjoint, with stride, padding and dilation
    x, c = randn(2, 3, 7, 6, requires_grad=False), randn(2, 3 * 2 * 2, 3 * 2,
                                                          requires_grad=False)
    geometry = dict(kernel_size=(2, 2), output_size=(3, 2), stride=(2, 3), padding=(1, 0),
                    dilation=(2, 2))
    left = (textbook.im2col(x.data, **geometry) * c.data).sum()
    right = (x.data * textbook.col2im(c.data, (7, 6), **geometry)).sum()
    assert abs(float(mg.to_numpy(left - right))) < 1e-10


@pytest.mark.parametrize("op", ["conv2d", "conv_transpose2d"])
def test_the_textbook_convolutions_pass_gradcheck_and_gradgradcheck(backend, op):
    x = randn(2, 2, 5, 4)
    if op == "conv2d":
        w, b = randn(3, 2, 3, 2), randn(3)
        fn = lambda x, w, b: textbook.conv2d(x, w, b, stride=(2, 1), padding=1,  # noqa: E731
                                             dilation=(1, 2))
    else:
        w, b = randn(2, 3, 3, 2), randn(3)
        fn = lambda x, w, b: textbook.conv_transpose2d(  # noqa: E731
            x, w, b, stride=2, padding=(1, 0), output_padding=(1, 0))
    assert mg.gradcheck(fn, (x, w, b))
    assert mg.gradgradcheck(fn, (x, w, b))


def test_the_textbook_convolutions_reject_bad_shapes_with_the_fast_ops_message(backend):
    with pytest.raises(ValueError, match=r"expected input of shape \(N, 3, H, W\)"):
        textbook.conv2d(randn(1, 2, 5, 5), randn(4, 3, 3, 3))
    with pytest.raises(ValueError, match="output_padding must be smaller"):
        textbook.conv_transpose2d(randn(1, 2, 3, 3), randn(2, 1, 3, 3), stride=2,
                                  output_padding=2)


# --- batch norm --------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 4, 5)])
@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("momentum", [0.1, None])
def test_batch_norm_in_training_equals_the_fast_one_and_moves_the_same_running_stats(
        backend, shape, affine, momentum):
    c = shape[1]
    x = randn(*shape, scale=2.0, offset=0.5)
    params = (randn(c, offset=1.0), randn(c)) if affine else ()
    stats = {}

    def bn(fn, name):
        def run(x, *wb):
            running = (mg.zeros(c, dtype=mg.float64), mg.ones(c, dtype=mg.float64))
            stats[name] = running
            weight, bias = wb if wb else (None, None)
            return fn(x, *running, weight, bias, training=True, momentum=momentum,
                      num_batches_tracked=3)
        return run

    fast, mine = bn(F.batch_norm, "fast"), bn(textbook.batch_norm, "textbook")
    assert_twins_agree(fast, mine, x, *params)
    for a, b in zip(stats["fast"], stats["textbook"]):
        assert_close(b, a, atol=1e-14, rtol=1e-12)
    # the running variance is the unbiased one, moved by 1/3 (momentum=None, 3 batches)
    m = x.numel() // c
    axes = (0,) if len(shape) == 2 else (0, 2, 3)
    factor = 0.1 if momentum is not None else 1 / 3
    expected = (1 - factor) + factor * x.numpy().var(axis=axes) * m / (m - 1)
    assert_close(stats["textbook"][1], expected, atol=1e-13)


def test_batch_norm_without_running_statistics_normalizes_with_the_batchs_own(backend):
    x, w, b = randn(4, 3, 2, 2), randn(3), randn(3)
    assert_twins_agree(lambda *a: F.batch_norm(a[0], None, None, *a[1:], training=True),
                       lambda *a: textbook.batch_norm(a[0], None, None, *a[1:], training=True),
                       x, w, b)


@pytest.mark.parametrize("affine", [False, True])
def test_batch_norm_in_evaluation_equals_the_fast_one(backend, affine):
    x = randn(3, 4, 3, 2)
    running_mean = randn(4, requires_grad=False)
    running_var = mg.tensor(np.linspace(0.5, 2.0, 4), dtype=mg.float64)
    params = (randn(4), randn(4)) if affine else ()

    def bn(fn):
        return lambda x, *wb: fn(x, running_mean, running_var, *(wb or (None, None)),
                                 training=False)
    assert_twins_agree(bn(F.batch_norm), bn(textbook.batch_norm), x, *params)


def test_textbook_batch_norm_passes_gradcheck_and_gradgradcheck(backend):
    x, w, b = randn(4, 2, 3, 2), randn(2), randn(2)
    fn = lambda x, w, b: textbook.batch_norm(x, None, None, w, b, training=True)  # noqa: E731
    assert mg.gradcheck(fn, (x, w, b))
    assert mg.gradgradcheck(fn, (x, w, b))


def test_textbook_batch_norm_rejects_bad_input_with_the_fast_ops_message(backend):
    with pytest.raises(ValueError, match=r"expected running_mean of shape \(3,\)"):
        textbook.batch_norm(randn(4, 3), mg.zeros(2), mg.ones(2), training=True)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        textbook.batch_norm(randn(1, 3), None, None, training=True)


# --- max pooling -------------------------------------------------------------------------

# x shape, kernel_size, stride, padding
MAX_POOL_CASES = [
    ((2, 3, 8, 8), 2, None, 0),
    ((2, 2, 7, 9), 3, 2, 1),
    ((1, 2, 6, 7), (2, 3), (1, 2), (1, 1)),
    ((1, 1, 5, 5), 3, 1, 0),  # overlapping windows share winners
]


@pytest.mark.parametrize("x_shape, kernel_size, stride, padding", MAX_POOL_CASES)
def test_max_pool2d_equals_the_fast_one_forward_backward_and_double_backward(
        backend, x_shape, kernel_size, stride, padding):
    assert_twins_agree(lambda x: F.max_pool2d(x, kernel_size, stride, padding),
                       lambda x: textbook.max_pool2d(x, kernel_size, stride, padding),
                       randn(*x_shape))


def test_max_pool2d_sends_the_gradient_to_the_first_of_equal_maxima(backend):
    x = mg.tensor([[[[1.0, 3.0], [3.0, 2.0]]]], dtype=mg.float64, requires_grad=True)
    textbook.max_pool2d(x, 2).sum().backward()
    assert x.grad.numpy().tolist() == [[[[0.0, 1.0], [0.0, 0.0]]]]


def test_textbook_max_pool2d_passes_gradcheck_and_gradgradcheck(backend):
    x = randn(2, 2, 5, 6)
    fn = lambda x: textbook.max_pool2d(x, 3, stride=2, padding=1)  # noqa: E731
    assert mg.gradcheck(fn, (x,))
    assert mg.gradgradcheck(fn, (x,))


# --- Adam ----------------------------------------------------------------------------------

@pytest.mark.parametrize("options", [
    {},
    {"lr": 0.01, "betas": (0.5, 0.999), "weight_decay": 0.1},
    {"amsgrad": True},
    {"maximize": True, "eps": 1e-3},
])
def test_the_textbook_adam_update_equals_optim_adam_step_for_step(backend, options):
    def make():
        rng = np.random.default_rng(3)
        return [mg.tensor(rng.standard_normal(s), dtype=mg.float64, requires_grad=True)
                for s in [(3, 4), (5,)]]

    fast_params, mine_params = make(), make()
    fast = optim.Adam(fast_params, **options)
    with mg.textbook():
        mine = optim.Adam(mine_params, **options)
    rng = np.random.default_rng(4)
    for step in range(6):
        for a, b in zip(fast_params, mine_params):
            g = rng.standard_normal(a.shape) * (10.0 ** -step)  # also tiny late gradients
            a.grad, b.grad = mg.tensor(g, dtype=mg.float64), mg.tensor(g, dtype=mg.float64)
        fast.step()
        mine.step()
        for a, b in zip(fast_params, mine_params):
            assert_close(b, a, atol=1e-14, rtol=1e-12)
    for a, b in zip(fast_params, mine_params):
        fast_state, mine_state = fast.state[a], mine.state[b]
        assert sorted(mine_state) == sorted(fast_state) and mine_state["step"] == 6
        for key in fast_state:
            if key != "step":
                assert_close(mg.tensor(mine_state[key]), mg.tensor(fast_state[key]),
                             atol=1e-14, rtol=1e-12)


# --- routing: mg.textbook() ------------------------------------------------------------------

def _made_by(t):
    return type(t.grad_fn)


def test_inside_mg_textbook_the_functional_ops_run_the_twins_and_after_it_the_fast_ones(
        backend):
    x, w, wt = randn(2, 3, 6, 6), randn(4, 3, 3, 3), randn(3, 2, 2, 2)
    with mg.textbook():
        assert mg.textbook.enabled()
        assert _made_by(F.conv2d(x, w)) is textbook.Conv2d
        assert _made_by(F.conv_transpose2d(x, wt)) is textbook.ConvTranspose2d
        assert _made_by(F.max_pool2d(x, 2)) is textbook.MaxPool2d
        assert _made_by(F.batch_norm(x, None, None, training=True)) is textbook.BatchNorm
    assert not mg.textbook.enabled()
    assert _made_by(F.conv2d(x, w)) is fast_conv.Conv2d
    assert _made_by(F.conv_transpose2d(x, wt)) is fast_conv.ConvTranspose2d
    assert _made_by(F.max_pool2d(x, 2)) is fast_pool.WindowSum
    assert _made_by(F.batch_norm(x, None, None, training=True)) is fast_norm.BatchNorm


def test_the_layers_give_the_same_numbers_with_and_without_the_textbook(backend):
    x = randn(3, 2, 8, 8)
    results = []
    for on in (False, True):
        mg.manual_seed(0)  # the same weights, and fresh running statistics, each time
        net = nn.Sequential(nn.Conv2d(2, 4, 3, stride=2, padding=1), nn.BatchNorm2d(4),
                            nn.ReLU(), nn.MaxPool2d(2), nn.ConvTranspose2d(4, 3, 4, 2, 1))
        net.to(backend).double()
        with mg.textbook(on):
            y = net(x)
            (y * y).sum().backward()
            results.append([y, net.eval()(x)] + [p.grad for p in net.parameters()])
    for a, b in zip(*results):
        assert_close(b, a, atol=1e-10, rtol=1e-8)


def test_the_twins_keep_float32_in_float32(backend):
    x = mg.randn(2, 3, 8, 8, requires_grad=True)
    w, wt = mg.randn(4, 3, 3, 3, requires_grad=True), mg.randn(4, 2, 4, 4, requires_grad=True)
    running = (mg.zeros(4), mg.ones(4))
    with mg.textbook():
        h = F.batch_norm(F.conv2d(x, w, padding=1), *running, training=True)
        y = F.conv_transpose2d(F.max_pool2d(h, 2), wt, stride=2, padding=1)
        y.sum().backward()
        opt = optim.Adam([w, wt])
    opt.step()
    assert y.dtype == x.grad.dtype == w.grad.dtype == w.dtype == mg.float32
    assert all(t.dtype == mg.float32 for t in running)
    assert all(a.dtype == mg.float32 for state in opt.state.values()
               for a in state.values() if hasattr(a, "dtype"))


def test_mg_textbook_is_also_a_switch_and_a_with_block_restores_it_on_errors():
    mg.textbook(True)
    try:
        assert mg.textbook.enabled()
        with mg.textbook(False):
            assert not mg.textbook.enabled()
    finally:
        mg.textbook(False)
    assert not mg.textbook.enabled()
    with pytest.raises(ZeroDivisionError):
        with mg.textbook():
            1 / 0
    assert not mg.textbook.enabled()


def test_an_adam_made_under_mg_textbook_steps_with_the_textbook_update(monkeypatch):
    calls = []

    def counting(param, grad, state, group):
        calls.append(param.shape)
        textbook.adam_update(param, grad, state, group)

    monkeypatch.setitem(_twins._twins, "adam_update", counting)
    p = mg.zeros(3, requires_grad=True)
    with mg.textbook():
        opt = optim.Adam([p], lr=0.1)
    p.grad = mg.ones(3)
    opt.step()  # after the block: the optimizer keeps the update it was made with
    assert calls == [(3,)]
    assert np.allclose(p.numpy(), -0.1)
    optim.Adam([p]).step()
    assert calls == [(3,)]


# --- the training programs' --textbook ------------------------------------------------------

@needs_mnist
def test_dcgan_trains_with_textbook_to_the_same_weights_as_without(tmp_path, monkeypatch):
    from minigan.gan import DCGAN
    used = set()
    for name, twin in list(_twins._twins.items()):
        def spy(*args, _name=name, _twin=twin, **kwargs):
            used.add(_name)
            return _twin(*args, **kwargs)
        monkeypatch.setitem(_twins._twins, name, spy)
    small = ["--batch-size", "8", "--train-size", "32", "--no-eval", "--z-dim", "16",
             "--max-steps", "3"]
    assert run_program(DCGAN, tmp_path / "fast", *small) == 0
    assert not used
    assert run_program(DCGAN, tmp_path / "textbook", *small, "--textbook") == 0
    assert used == {"conv2d", "conv_transpose2d", "batch_norm", "adam_update"}
    assert not mg.textbook.enabled()  # the switch was for that run only
    fast, mine = checkpoint_weights(tmp_path / "fast"), checkpoint_weights(tmp_path / "textbook")
    assert sorted(fast) == sorted(mine)
    for key in fast:
        np.testing.assert_allclose(mine[key], fast[key], rtol=1e-4, atol=1e-5, err_msg=key)


# --- the benchmark program ---------------------------------------------------------------------

def test_bench_textbook_times_the_dcgan_step_and_every_routed_op_and_they_agree(
        monkeypatch, capsys):
    import importlib.util
    import json
    from pathlib import Path
    benchmarks = Path(__file__).resolve().parents[1] / "benchmarks"
    monkeypatch.syspath_prepend(str(benchmarks))
    spec = importlib.util.spec_from_file_location("bench_textbook",
                                                  benchmarks / "bench_textbook.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    common = sys.modules["common"]
    blas = common.blas_threads()
    try:
        result = bench.main(["--batch-size", "2", "--repeats", "1", "--step-repeats", "1",
                             "--warmup", "0", "--settle", "0", "--threads", "1",
                             "--min-time", "0", "--json", "-"])
    finally:
        if blas is not None:
            common.set_blas_threads(blas)
    assert json.loads(capsys.readouterr().out) == json.loads(json.dumps(result))
    assert result["dcgan_step"]["first_step_max_abs_diff"] < 1e-4
    assert {r["op"].split()[0] for r in result["ops"]} == set(bench.ROUTED)
    assert all(r["max_abs_diff"] < 1e-4 for r in result["ops"])
    assert result["adam"]["textbook"]["step_ms"] > 0
