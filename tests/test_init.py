"""nn.init: PyTorch's gains, fans, bounds and distributions, in place, seeded."""
import math

import numpy as np
import pytest

import minigan as mg
from minigan import nn
from minigan.nn import init


def empty(*shape, dtype=mg.float32):
    return nn.Parameter(mg.zeros(*shape, dtype=dtype))


# --- gains and fans ---------------------------------------------------------------------

@pytest.mark.parametrize("nonlinearity, param, expected", [
    ("linear", None, 1), ("conv2d", None, 1), ("conv_transpose2d", None, 1), ("sigmoid", None, 1),
    ("tanh", None, 5 / 3), ("relu", None, math.sqrt(2)), ("selu", None, 0.75),
    ("leaky_relu", None, math.sqrt(2 / (1 + 0.01 ** 2))),
    ("leaky_relu", 0.2, math.sqrt(2 / 1.04)), ("leaky_relu", math.sqrt(5), math.sqrt(1 / 3)),
])
def test_calculate_gain_matches_pytorchs_table(nonlinearity, param, expected):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(expected, rel=1e-12)


def test_calculate_gain_agrees_with_torch(torch):
    for name, param in [("tanh", None), ("relu", None), ("leaky_relu", 0.2), ("leaky_relu", 3)]:
        assert init.calculate_gain(name, param) == torch.nn.init.calculate_gain(name, param)


def test_calculate_gain_rejects_unknown_nonlinearity_and_bad_slope():
    with pytest.raises(ValueError, match="unsupported nonlinearity 'swish'"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="not a valid number"):
        init.calculate_gain("leaky_relu", True)


@pytest.mark.parametrize("shape, fans", [
    ((6, 4), (4, 6)),                     # Linear weight (out, in)
    ((64, 3, 4, 4), (48, 1024)),          # Conv2d weight (out, in, kh, kw)
    ((128, 64, 4, 4), (1024, 2048)),      # ConvTranspose2d weight (in, out, kh, kw): dim 1
])
def test_fan_in_and_fan_out_use_dims_1_and_0_times_the_receptive_field(shape, fans, torch):
    assert init._calculate_fan_in_and_fan_out(mg.zeros(*shape)) == fans
    assert init._calculate_fan_in_and_fan_out(torch.zeros(shape)) == fans


def test_fans_need_at_least_two_dimensions():
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(mg.zeros(5))
    with pytest.raises(ValueError, match="mode 'fan_avg' is not supported"):
        init.kaiming_uniform_(mg.zeros(3, 3), mode="fan_avg")


# --- filling in place ------------------------------------------------------------------------

def test_init_functions_fill_in_place_and_return_the_tensor(backend):
    w = empty(3, 4)
    array = w.data
    for fill in (init.uniform_, init.normal_, init.zeros_, init.ones_, init.xavier_uniform_,
                 init.xavier_normal_, init.kaiming_uniform_, init.kaiming_normal_,
                 lambda t: init.constant_(t, 0.5)):
        assert fill(w) is w
        assert w.data is array  # same array: views of it (a state dict) see the new values
        assert w.dtype == mg.float32 and w.backend == backend
        assert w.grad is None and w._ctx is None  # nothing recorded
    assert (w.numpy() == 0.5).all()


def test_constant_zeros_ones(backend):
    w = empty(2, 3, dtype=mg.float64)
    assert (init.ones_(w).numpy() == 1).all()
    assert (init.zeros_(w).numpy() == 0).all()
    assert (init.constant_(w, -2.5).numpy() == -2.5).all()


def test_init_keeps_float32_and_float64():
    for dtype in (mg.float32, mg.float64):
        w = empty(50, 50, dtype=dtype)
        for fill in (init.uniform_, init.normal_, init.kaiming_uniform_, init.xavier_normal_):
            assert fill(w).dtype == dtype


def test_init_refuses_integer_tensors():
    with pytest.raises(TypeError, match="uniform_: expected a floating tensor, got dtype int64"):
        init.uniform_(mg.tensor([1, 2]))


def test_init_is_reproducible_from_the_seed(backend):
    mg.manual_seed(7)
    a = init.normal_(empty(4, 5)).numpy()
    mg.manual_seed(7)
    b = init.normal_(empty(4, 5)).numpy()
    c = init.normal_(empty(4, 5)).numpy()
    assert (a == b).all() and not (a == c).all()


def test_numpy_and_strict_draw_the_same_numbers():
    values = []
    for name in ("numpy", "strict"):
        with mg.use_backend(name):
            mg.manual_seed(3)
            values.append(init.kaiming_normal_(empty(6, 7)).numpy())
    np.testing.assert_array_equal(values[0], values[1])


# --- distributions ---------------------------------------------------------------------------

N = 200_000  # samples: sample means and stds are then within about 1% of the truth


def test_uniform_has_the_right_range_mean_and_variance(backend):
    w = init.uniform_(empty(400, 500, dtype=mg.float64), -2.0, 3.0).numpy()
    assert w.min() >= -2.0 and w.max() < 3.0
    assert w.min() < -1.99 and w.max() > 2.99
    assert w.mean() == pytest.approx(0.5, abs=0.02)
    assert w.var() == pytest.approx(25 / 12, rel=0.02)


def test_normal_has_the_right_mean_and_std(backend):
    w = init.normal_(empty(N // 100, 100, dtype=mg.float64), 1.5, 0.02).numpy()
    assert w.mean() == pytest.approx(1.5, abs=3e-4)
    assert w.std() == pytest.approx(0.02, rel=0.01)


def test_kaiming_uniform_bound_is_gain_times_sqrt_3_over_fan_in():
    w = init.kaiming_uniform_(empty(1000, 50, 2, 2, dtype=mg.float64), a=0.2).numpy()
    bound = math.sqrt(2 / (1 + 0.2 ** 2)) * math.sqrt(3 / 200)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.01)


def test_kaiming_uniform_with_a_sqrt5_is_one_over_sqrt_fan_in():
    w = init.kaiming_uniform_(empty(2000, 25, dtype=mg.float64), a=math.sqrt(5)).numpy()
    assert np.abs(w).max() <= 1 / 5 and np.abs(w).max() > 0.99 / 5


def test_kaiming_normal_std_in_fan_out_mode():
    w = init.kaiming_normal_(empty(40, 1000, 2, 2, dtype=mg.float64), mode="fan_out",
                             nonlinearity="relu").numpy()
    assert w.mean() == pytest.approx(0, abs=0.01 * w.std())
    assert w.std() == pytest.approx(math.sqrt(2) / math.sqrt(160), rel=0.01)


def test_xavier_uniform_bound_and_xavier_normal_std():
    w = init.xavier_uniform_(empty(300, 500, dtype=mg.float64), gain=2.0).numpy()
    bound = 2.0 * math.sqrt(6 / 800)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    w = init.xavier_normal_(empty(300, 500, dtype=mg.float64), gain=5 / 3).numpy()
    assert w.std() == pytest.approx(5 / 3 * math.sqrt(2 / 800), rel=0.01)


def test_kaiming_on_an_empty_tensor_does_nothing():
    w = mg.zeros(0, 3)
    assert init.kaiming_uniform_(w) is w and init.kaiming_normal_(w) is w


# --- the layers' default initialisation (PyTorch's reset_parameters) -------------------------

@pytest.mark.parametrize("make, fan_in", [
    (lambda: nn.Linear(40, 300), 40),
    (lambda: nn.Conv2d(6, 200, 3), 54),
    (lambda: nn.ConvTranspose2d(300, 5, 4), 80),  # fan_in from the weight's dim 1: out * kh * kw
])
def test_default_init_of_linear_and_convs_is_uniform_within_one_over_sqrt_fan_in(make, fan_in,
                                                                                 backend):
    layer = make()
    bound = 1 / math.sqrt(fan_in)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert w.dtype == np.float32 and b.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.03)
    assert np.abs(b).max() <= bound and len(np.unique(b)) == b.size


def test_default_init_bounds_match_torchs(torch):
    for ours, theirs in [(nn.ConvTranspose2d(300, 5, 4), torch.nn.ConvTranspose2d(300, 5, 4)),
                         (nn.Linear(40, 300), torch.nn.Linear(40, 300))]:
        assert np.abs(ours.weight.numpy()).max() == pytest.approx(
            theirs.weight.detach().abs().max().item(), rel=0.01)


def test_default_init_of_batch_norm_and_embedding(backend):
    bn = nn.BatchNorm2d(5)
    assert (bn.weight.numpy() == 1).all() and (bn.bias.numpy() == 0).all()
    assert (bn.running_mean.numpy() == 0).all() and (bn.running_var.numpy() == 1).all()
    assert bn.num_batches_tracked.item() == 0 and bn.num_batches_tracked.dtype == np.int64
    emb = nn.Embedding(500, 200)
    assert emb.weight.numpy().mean() == pytest.approx(0, abs=0.01)
    assert emb.weight.numpy().std() == pytest.approx(1, rel=0.01)


def test_layers_follow_the_default_dtype_and_backend(backend):
    mg.set_default_dtype(mg.float64)
    try:
        layer = nn.Linear(3, 2)
    finally:
        mg.set_default_dtype(mg.float32)
    assert layer.weight.dtype == mg.float64 and layer.weight.backend == backend
    assert nn.Conv2d(1, 2, 3).weight.dtype == mg.float32


def test_apply_with_normal_init_dcgan_style(backend):
    def weights_init(m):
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            init.normal_(m.weight, 1.0, 0.02)
            init.zeros_(m.bias)

    model = nn.Sequential(nn.Conv2d(3, 64, 4), nn.BatchNorm2d(64), nn.ConvTranspose2d(64, 64, 4))
    assert model.apply(weights_init) is model
    assert model[0].weight.numpy().std() == pytest.approx(0.02, rel=0.05)
    assert model[1].weight.numpy().mean() == pytest.approx(1.0, abs=0.01)
