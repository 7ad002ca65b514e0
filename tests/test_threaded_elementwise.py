"""The elementwise passes split across threads (minigan/_threads.py) give the bits of
one thread: relu and leaky_relu forward and backward, a + b, a - b, a * b, batch
norm forward and backward, Adam's step, the bias add and the gradient's copy into a
batch-last order, on odd sizes below and above the thresholds, on contiguous,
batch-last (a convolution's output: (C, H, W, N) memory seen as (N, C, H, W)) and
strided inputs, in float32 and float64; and so does a whole DCGAN training step."""
import numpy as np
import pytest

import minigan as mg
import minigan.functional as F
from minigan import _threads, optim

ABOVE = (67, 7, 13, 43)  # 262297: just above the fixture's MIN_ELEMENTS (262144)
HEAVY_ABOVE = (67, 7, 13, 11)  # 67067: above the fixture's HEAVY_MIN_ELEMENTS (65536)
BELOW = (5, 7, 9, 11)  # 3465: one piece
FLAT_ABOVE = (129, 2033)  # 262257, an (N, C) input, as batch norm 1d and linear layers have
FLAT_HEAVY_ABOVE = (129, 601)  # 77529
SHAPES = [ABOVE, HEAVY_ABOVE, BELOW, FLAT_ABOVE]
LAYOUTS = ["contiguous", "batch_last", "strided"]
DTYPES = [np.float32, np.float64]


@pytest.fixture
def threads(monkeypatch):
    """threads(count): run with `count` threads from now on; counts the passes that
    really were cut into pieces (calls.split); puts the old count back."""
    before = _threads.get_num_threads()
    calls = {"split": 0}
    get_pool = _threads._get_pool
    # The shapes below are sized against these thresholds (smaller than the library's,
    # to keep the tests fast); what is tested, that a pass cut into pieces gives the
    # bits of one piece, does not depend on where the line is drawn.
    monkeypatch.setattr(_threads, "MIN_ELEMENTS", 1 << 18)
    monkeypatch.setattr(_threads, "HEAVY_MIN_ELEMENTS", 1 << 16)

    def counting(workers):
        calls["split"] += 1
        return get_pool(workers)

    monkeypatch.setattr(_threads, "_get_pool", counting)

    def use(count):
        _threads.set_num_threads(count)
        return calls

    yield use
    _threads.set_num_threads(before)


def leaf_and_input(shape, dtype, layout, seed=0):
    """A leaf tensor and the op's input made from it: the leaf itself, its batch-last
    view (memory ordered (C, ..., N), seen as `shape`) or a strided view."""
    rng = np.random.default_rng(seed)
    if layout == "batch_last":
        memory = shape[1:] + shape[:1]
        leaf = mg.tensor(rng.standard_normal(memory).astype(dtype), requires_grad=True)
        x = leaf.permute(len(shape) - 1, *range(len(shape) - 1))
        assert not x.data.flags.c_contiguous and x.shape == shape
    elif layout == "strided":
        leaf = mg.tensor(rng.standard_normal(shape[:-1] + (2 * shape[-1],)).astype(dtype),
                         requires_grad=True)
        x = leaf[..., ::2]
        assert not x.data.flags.c_contiguous and x.shape == shape
    else:
        leaf = mg.tensor(rng.standard_normal(shape).astype(dtype), requires_grad=True)
        x = leaf
    return leaf, x


def upstream(shape, dtype, seed=9):
    """A fixed upstream gradient, so that backward sees a g of every sign."""
    return mg.tensor(np.random.default_rng(seed).standard_normal(shape).astype(dtype))


def run_twice(threads, count, run):
    """run() on one thread and on `count`; both results (lists of arrays) and how
    many passes the second run cut into pieces."""
    threads(1)
    one = run()
    calls = threads(count)
    calls["split"] = 0
    many = run()
    return one, many, calls["split"]


def assert_same_bits(one, many):
    assert len(one) == len(many)
    for a, b in zip(one, many):
        assert a.dtype == b.dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)
        assert np.array_equal(np.signbit(a), np.signbit(b))  # -0.0 stays -0.0


def cut_expected(shape, least=None):
    """Whether a pass over `shape` should be cut into pieces."""
    return np.prod(shape) >= (_threads.MIN_ELEMENTS if least is None else least)


ACTIVATIONS = {
    "relu": F.relu,
    "leaky_relu_0.2": lambda x: F.leaky_relu(x, 0.2),
    "leaky_relu_1.5": lambda x: F.leaky_relu(x, 1.5),  # not max(x, a x): one piece
    "leaky_relu_-0.3": lambda x: F.leaky_relu(x, -0.3),
}


@pytest.mark.parametrize("count", [2, 3])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_threaded_activation_forward_and_backward_are_bit_identical(
        threads, name, shape, layout, dtype, count):
    def run():
        leaf, x = leaf_and_input(shape, dtype, layout)
        y = ACTIVATIONS[name](x)
        (y * upstream(shape, dtype)).sum().backward()
        return [y.numpy(), leaf.grad.numpy()]

    one, many, cut = run_twice(threads, count, run)
    assert_same_bits(one, many)
    if name in ("relu", "leaky_relu_0.2") and layout != "strided":
        # forward, the slope (leaky), the product g * slope or g * mask (relu), and
        # the products y * upstream and its gradient are each cut into pieces
        assert (cut > 0) == cut_expected(shape)


@pytest.mark.parametrize("count", [1, 2])
@pytest.mark.parametrize("a", [0.2, 0.01, 1.5, -0.3, 0.0])
@pytest.mark.parametrize("dtype", DTYPES)
def test_threaded_leaky_relu_backward_is_g_times_the_slope_array_bit_for_bit(
        threads, a, dtype, count):
    """g * slope, slope = (x > 0) * (1 - a) + a as an array, bit for bit, though the
    slope is built in the gradient's memory and multiplied there (one thread too)."""
    threads(count)
    leaf, x = leaf_and_input(ABOVE, dtype, "batch_last")
    g = upstream(ABOVE, dtype)
    F.leaky_relu(x, a).backward(g)
    raw = x.data
    slope = (raw > 0).astype(dtype)
    slope *= 1 - dtype(a)
    slope += dtype(a)
    expected = g.numpy() * slope
    np.testing.assert_array_equal(leaf.grad.numpy().transpose(3, 0, 1, 2), expected)


BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b}


@pytest.mark.parametrize("count", [2, 3])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layouts", [("contiguous", "contiguous"),
                                     ("batch_last", "batch_last"),
                                     ("batch_last", "contiguous"),
                                     ("strided", "batch_last")])
@pytest.mark.parametrize("shape", [ABOVE, HEAVY_ABOVE, BELOW])
@pytest.mark.parametrize("name", BINARY)
def test_threaded_binary_ops_are_bit_identical(threads, name, shape, layouts, dtype, count):
    def run():
        leaf_a, a = leaf_and_input(shape, dtype, layouts[0], seed=1)
        leaf_b, b = leaf_and_input(shape, dtype, layouts[1], seed=2)
        y = BINARY[name](a, b)
        (y * upstream(shape, dtype)).sum().backward()
        return [y.numpy(), leaf_a.grad.numpy(), leaf_b.grad.numpy()]

    one, many, cut = run_twice(threads, count, run)
    assert_same_bits(one, many)
    assert (cut > 0) == cut_expected(shape)


@pytest.mark.parametrize("first", LAYOUTS)
@pytest.mark.parametrize("second", LAYOUTS)
def test_threaded_binary_ops_lay_out_their_result_as_numpy_does(threads, first, second):
    """The memory order of a threaded a * b (and of relu's value and mask) is the one
    NumPy's own a * b picks, whatever the operands' orders."""
    threads(2)
    _, a = leaf_and_input(ABOVE, np.float32, first, seed=1)
    _, b = leaf_and_input(ABOVE, np.float32, second, seed=2)
    assert (a * b).data.strides == (a.data * b.data).strides
    assert (a + b).data.strides == (a.data + b.data).strides
    assert F.relu(a).data.strides == np.maximum(a.data, 0).strides


@pytest.mark.parametrize("count", [2, 3])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layout", LAYOUTS)
# + 3 channels of 36859 numbers each (more than einsum's 8192-number buffer), and one
# channel (a batch-last view whose outermost memory axis is then H, not C)
@pytest.mark.parametrize("shape", [HEAVY_ABOVE, BELOW, FLAT_HEAVY_ABOVE, (41, 3, 29, 31),
                                   (129, 1, 23, 29)])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("blocks", [True, False])
def test_threaded_batch_norm_forward_and_backward_are_bit_identical(
        threads, monkeypatch, blocks, affine, shape, layout, dtype, count):
    """blocks: these small shapes go through the channel blocks (as inputs of
    norm.BLOCKS_FROM numbers or more do), else through whole-array passes."""
    from minigan.functional import norm
    if blocks:
        monkeypatch.setattr(norm, "BLOCKS_FROM", 0)
    assert blocks or np.prod(shape) < norm.BLOCKS_FROM
    channels = shape[1]
    rng = np.random.default_rng(5)
    weight0 = rng.uniform(0.5, 1.5, channels).astype(dtype)
    bias0 = rng.standard_normal(channels).astype(dtype)

    def run():
        leaf, x = leaf_and_input(shape, dtype, layout)
        weight = mg.tensor(weight0, requires_grad=True) if affine else None
        bias = mg.tensor(bias0, requires_grad=True) if affine else None
        running_mean = mg.zeros(channels, dtype=dtype)
        running_var = mg.ones(channels, dtype=dtype)
        y = F.batch_norm(x, running_mean, running_var, weight, bias, training=True)
        (y * upstream(shape, dtype)).sum().backward()
        out = [y.numpy(), leaf.grad.numpy(), running_mean.numpy(), running_var.numpy()]
        return out + ([weight.grad.numpy(), bias.grad.numpy()] if affine else [])

    one, many, cut = run_twice(threads, count, run)
    assert_same_bits(one, many)
    if layout != "strided":
        assert (cut > 0) == (blocks and cut_expected(shape, _threads.HEAVY_MIN_ELEMENTS))


@pytest.mark.parametrize("channels", [1, 2, 7, 8, 9, 17, 64])
def test_batch_norm_blocks_cover_every_channel_once_on_any_thread_count(threads, channels):
    """Fixed blocks of channels: the same cut for every thread count, each channel once."""
    x = np.zeros((50, channels, 40, 41), dtype=np.float32)
    block = _threads.block_rows(channels, x)
    cuts = {}
    for count in (1, 2, 3, 5):
        threads(count)
        seen = []
        _threads.split_blocks(lambda a, b: seen.append((a, b)), channels, block, x, 0)
        cuts[count] = sorted(seen)
    assert all(cut == cuts[1] for cut in cuts.values())
    covered = [c for a, b in cuts[1] for c in range(a, b)]
    assert covered == list(range(channels))
    assert all(b - a == block for a, b in cuts[1][:-1])


def test_threaded_batch_norm_and_leaky_relu_pass_gradgradcheck(threads, monkeypatch):
    """With no size threshold every pass is cut (3 threads), even on these small
    float64 inputs, and the gradients and second derivatives are still right."""
    from minigan.functional import norm
    monkeypatch.setattr(_threads, "MIN_ELEMENTS", 0)
    monkeypatch.setattr(_threads, "HEAVY_MIN_ELEMENTS", 0)
    monkeypatch.setattr(_threads, "MIN_BLOCK_ELEMENTS", 1)
    monkeypatch.setattr(norm, "BLOCKS_FROM", 0)
    threads(3)
    rng = np.random.default_rng(6)
    x = mg.tensor(rng.standard_normal((4, 5, 3, 2)), requires_grad=True)
    w = mg.tensor(rng.uniform(0.5, 1.5, 5), requires_grad=True)
    b = mg.tensor(rng.standard_normal(5), requires_grad=True)

    def f(x, w, b):
        return F.leaky_relu(F.batch_norm(x, None, None, w, b, training=True), 0.2) * x

    assert mg.gradcheck(f, (x, w, b))
    assert mg.gradgradcheck(f, (x, w, b))


@pytest.mark.parametrize("count", [2, 3])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("amsgrad", [False, True])
def test_threaded_adam_steps_are_bit_identical(threads, amsgrad, dtype, count):
    """A large parameter (stepped on several threads), an odd-sized one just above the
    threshold and a small one (one thread), three steps, weight decay on."""
    shapes = [(64, 128, 4, 4), (65537,), (7, 3)]
    rng = np.random.default_rng(8)
    starts = [rng.standard_normal(s).astype(dtype) for s in shapes]
    grads = [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(3)]

    def run():
        params = [mg.tensor(p, requires_grad=True) for p in starts]
        opt = optim.Adam(params, lr=1e-2, betas=(0.5, 0.999), weight_decay=1e-2,
                         amsgrad=amsgrad)
        for step in grads:
            for p, g in zip(params, step):
                p.grad = mg.tensor(g)
            opt.step()
        state = [opt.state[p][k] for p in params for k in sorted(opt.state[p]) if k != "step"]
        return [p.numpy() for p in params] + [np.asarray(s) for s in state]

    one, many, cut = run_twice(threads, count, run)
    assert_same_bits(one, many)
    assert cut == 2 * 3  # the two large parameters, every step; never the small one


@pytest.mark.parametrize("count", [2, 3])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [ABOVE, BELOW])
def test_threaded_gradient_copy_into_batch_last_order_is_bit_identical(
        threads, shape, dtype, count):
    """Flattening a convolution's batch-last output: backward copies the gradient
    into the output's memory order (LayoutLike), cut into pieces when large."""
    def run():
        leaf, x = leaf_and_input(shape, dtype, "batch_last")
        y = x.reshape(shape[0], -1)
        (y * upstream(y.shape, dtype)).sum().backward()
        assert leaf.grad.data.flags.c_contiguous  # the batch-last memory, as the leaf's
        return [y.numpy(), leaf.grad.numpy()]

    one, many, cut = run_twice(threads, count, run)
    assert_same_bits(one, many)
    assert (cut > 0) == cut_expected(shape)


def test_a_dcgan_training_step_gives_the_same_bits_on_one_and_three_threads(
        threads, monkeypatch):
    """Every pass cut (no size thresholds), D's and G's weights after two steps: the
    threaded passes must also hand on the one-piece pass's memory layouts, or later
    sums would add in another order."""
    from minigan.functional import norm
    from minigan.gan.dcgan import DCGAN
    monkeypatch.setattr(norm, "BLOCKS_FROM", 0)
    monkeypatch.setattr(_threads, "HEAVY_MIN_ELEMENTS", 0)
    monkeypatch.setattr(_threads, "MIN_ELEMENTS", 0)
    monkeypatch.setattr(_threads, "MIN_BLOCK_ELEMENTS", 1)
    images = np.random.default_rng(3).uniform(-1, 1, (6, 1, 28, 28)).astype(np.float32)

    def run():
        mg.manual_seed(0)
        gan = DCGAN({"lr": 2e-4, "beta1": 0.5, "d_steps": 1, "z_dim": 100})
        for step in (1, 2):
            gan.train_step(mg.tensor(images), mg.tensor(np.zeros(6, np.int64)), step)
        return [p.numpy() for p in list(gan.G.parameters()) + list(gan.D.parameters())]

    one, many, cut = run_twice(threads, 3, run)
    assert_same_bits(one, many)
    assert cut > 50


@pytest.mark.parametrize("count", [2, 3])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("layer", ["conv2d", "linear"])
def test_threaded_bias_add_is_bit_identical(threads, layer, dtype, count):
    """The bias added in place into a conv2d's batch-last output (rows cut along the
    bias's own axis, C) and into a linear layer's (N, F) output (rows cut along N)."""
    rng = np.random.default_rng(4)
    if layer == "conv2d":
        x, w = rng.standard_normal((6, 5, 30, 30)), rng.standard_normal((64, 5, 3, 3))
        op = F.conv2d
    else:
        x, w = rng.standard_normal((300, 41)), rng.standard_normal((1001, 41))
        op = F.linear
    b = rng.standard_normal(w.shape[0])

    def run():
        y = op(*(mg.tensor(a.astype(dtype)) for a in (x, w, b)))
        return [y.numpy()]

    one, many, cut = run_twice(threads, count, run)
    assert_same_bits(one, many)
    assert cut > 0 and np.prod(one[0].shape) >= _threads.MIN_ELEMENTS
