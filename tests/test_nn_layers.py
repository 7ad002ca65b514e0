"""Layers: hand-computed values, and every layer's forward, input gradient,
parameter gradients and running statistics against PyTorch's, in float64 and
float32, on the numpy and strict backends."""
import numpy as np
import pytest

import minigan as mg
from minigan import nn
from tests.helpers import assert_close, to_torch


# --- hand-computed values (no PyTorch needed) ------------------------------------------------

def test_linear_by_hand(backend):
    layer = nn.Linear(2, 2)
    layer.load_state_dict({"weight": np.array([[1.0, 2.0], [3.0, 4.0]]),
                           "bias": np.array([0.5, -1.0])})
    x = mg.tensor([[1.0, 1.0], [2.0, 0.0]], requires_grad=True)
    y = layer(x)
    assert y.tolist() == [[3.5, 6.0], [2.5, 5.0]]
    (y * mg.tensor([[1.0, 0.0], [0.0, 2.0]])).sum().backward()
    # dL/dW = g^T x, dL/db = sum of g over the batch, dL/dx = g W
    assert layer.weight.grad.tolist() == [[1.0, 1.0], [4.0, 0.0]]
    assert layer.bias.grad.tolist() == [1.0, 2.0]
    assert x.grad.tolist() == [[1.0, 2.0], [6.0, 8.0]]


def test_conv2d_by_hand(backend):
    layer = nn.Conv2d(1, 1, 2)
    layer.load_state_dict({"weight": np.array([[[[1.0, 0.0], [0.0, -1.0]]]]),
                           "bias": np.array([10.0])})
    x = mg.tensor(np.arange(9.0).reshape(1, 1, 3, 3), dtype=mg.float32, requires_grad=True)
    y = layer(x)
    # each output: x[i, j] - x[i+1, j+1] + 10 = -4 + 10
    assert y.tolist() == [[[[6.0, 6.0], [6.0, 6.0]]]]
    y.sum().backward()
    assert layer.bias.grad.tolist() == [4.0]
    # dL/dw[a, b] = sum of the 2x2 window of x starting at (a, b)
    assert layer.weight.grad.tolist() == [[[[8.0, 12.0], [20.0, 24.0]]]]
    assert x.grad.numpy()[0, 0].tolist() == [[1, 1, 0], [1, 0, -1], [0, -1, -1]]


def test_conv_transpose2d_by_hand(backend):
    layer = nn.ConvTranspose2d(1, 1, 2, stride=2, bias=False)
    layer.load_state_dict({"weight": np.array([[[[1.0, 2.0], [3.0, 4.0]]]])})
    y = layer(mg.tensor([[[[1.0, 10.0]]]]))
    # each input pixel stamps a copy of the kernel, scaled, at stride 2
    assert y.tolist() == [[[[1.0, 2.0, 10.0, 20.0], [3.0, 4.0, 30.0, 40.0]]]]


def test_batch_norm_by_hand(backend):
    bn = nn.BatchNorm1d(1, eps=0.0, momentum=0.5)
    y = bn(mg.tensor([[1.0], [3.0]]))
    assert y.tolist() == [[-1.0], [1.0]]  # mean 2, biased variance 1
    assert bn.running_mean.tolist() == [1.0]  # 0.5 * 0 + 0.5 * 2
    assert bn.running_var.tolist() == [1.5]  # 0.5 * 1 + 0.5 * 2 (unbiased variance)
    assert bn.num_batches_tracked.item() == 1
    bn.eval()
    assert bn(mg.tensor([[1.0]])).tolist() == [[0.0]]  # (1 - 1) / sqrt(1.5)
    assert bn.num_batches_tracked.item() == 1


def test_embedding_by_hand(backend):
    emb = nn.Embedding(3, 2)
    emb.load_state_dict({"weight": np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])})
    y = emb(mg.tensor([[2, 0], [2, 2]]))
    assert y.shape == (2, 2, 2) and y.tolist() == [[[4, 5], [0, 1]], [[4, 5], [4, 5]]]
    y.sum().backward()
    assert emb.weight.grad.tolist() == [[1, 1], [0, 0], [3, 3]]  # repeats add up


# --- every layer against PyTorch -------------------------------------------------------------

LAYERS = {
    "linear": (lambda lib: lib.Linear(5, 3), (2, 4, 5)),
    "linear_no_bias": (lambda lib: lib.Linear(5, 3, bias=False), (3, 5)),
    "conv": (lambda lib: lib.Conv2d(2, 3, 3, stride=2, padding=1), (2, 2, 7, 6)),
    "conv_dilated": (lambda lib: lib.Conv2d(2, 3, (3, 2), stride=(1, 2), padding=(1, 0),
                                            dilation=2, bias=False), (2, 2, 7, 6)),
    "conv_transpose": (lambda lib: lib.ConvTranspose2d(3, 2, 4, 2, 1), (2, 3, 3, 4)),
    "conv_transpose_output_padding": (
        lambda lib: lib.ConvTranspose2d(3, 2, 3, stride=2, padding=1, output_padding=1),
        (2, 3, 3, 4)),
    "conv_transpose_dilated": (
        lambda lib: lib.ConvTranspose2d(3, 2, (2, 3), stride=(2, 1), padding=(0, 1),
                                        output_padding=(1, 0), dilation=2, bias=False),
        (2, 3, 3, 4)),
    "batch_norm_1d": (lambda lib: lib.BatchNorm1d(3), (4, 3)),
    "batch_norm_1d_3d_input": (lambda lib: lib.BatchNorm1d(3, momentum=0.3), (4, 3, 5)),
    "batch_norm_2d": (lambda lib: lib.BatchNorm2d(3, eps=1e-3), (4, 3, 5, 5)),
    "batch_norm_2d_cumulative": (lambda lib: lib.BatchNorm2d(3, momentum=None), (2, 3, 3, 3)),
    "batch_norm_2d_not_affine": (lambda lib: lib.BatchNorm2d(3, affine=False), (2, 3, 3, 3)),
    "batch_norm_2d_untracked": (lambda lib: lib.BatchNorm2d(3, track_running_stats=False),
                                (2, 3, 3, 3)),
    "relu": (lambda lib: lib.ReLU(), (3, 4)),
    "leaky_relu": (lambda lib: lib.LeakyReLU(0.2), (3, 4)),
    "leaky_relu_default": (lambda lib: lib.LeakyReLU(), (3, 4)),
    "tanh": (lambda lib: lib.Tanh(), (3, 4)),
    "sigmoid": (lambda lib: lib.Sigmoid(), (3, 4)),
    "flatten": (lambda lib: lib.Flatten(), (2, 3, 4, 5)),
    "flatten_0_2": (lambda lib: lib.Flatten(0, 2), (2, 3, 4, 5)),
    "unflatten": (lambda lib: lib.Unflatten(1, (3, 4)), (2, 12)),
    "unflatten_negative": (lambda lib: lib.Unflatten(-1, (2, -1)), (2, 3, 6)),
    "max_pool": (lambda lib: lib.MaxPool2d(2), (2, 2, 6, 6)),
    "max_pool_padded": (lambda lib: lib.MaxPool2d(3, 2, 1), (2, 2, 7, 6)),
    "avg_pool": (lambda lib: lib.AvgPool2d(2), (2, 2, 6, 6)),
    "avg_pool_padded": (lambda lib: lib.AvgPool2d(3, 2, 1), (2, 2, 7, 6)),
    "upsample": (lambda lib: lib.Upsample(scale_factor=2), (2, 2, 3, 4)),
    "upsample_size": (lambda lib: lib.Upsample(size=(6, 12)), (2, 2, 3, 4)),
    "identity": (lambda lib: lib.Identity(), (2, 3)),
    "sequential": (lambda lib: lib.Sequential(lib.Conv2d(2, 4, 3, padding=1), lib.BatchNorm2d(4),
                                              lib.LeakyReLU(0.2), lib.Flatten(),
                                              lib.Linear(4 * 5 * 5, 1)), (3, 2, 5, 5)),
}


def run_against_torch(build, shape, dtype, training, torch, steps=1, tolerance=None):
    """Forward and backward `steps` times in both libraries with PyTorch's weights;
    compare outputs, gradients (input and parameters) and buffers each time."""
    tolerance = tolerance or (dict(atol=1e-10, rtol=1e-7) if dtype == mg.float64
                              else dict(atol=2e-5, rtol=2e-4))
    torch_dtype = torch.float64 if dtype == mg.float64 else torch.float32
    reference = build(torch.nn).to(torch_dtype).train(training)
    layer = build(nn).to(dtype).train(training)
    assert repr(layer) == repr(reference)
    layer.load_state_dict({k: v.numpy() for k, v in reference.state_dict().items()})
    rng = np.random.default_rng(0)
    for _ in range(steps):
        x = mg.tensor(rng.standard_normal(shape), dtype=dtype, requires_grad=True)
        x_ref = to_torch(x, torch)
        y, y_ref = layer(x), reference(x_ref)
        assert y.dtype == dtype and y.backend == mg.get_backend().name
        assert_close(y, y_ref, **tolerance)
        v = rng.standard_normal(y.shape)
        (y * mg.tensor(v, dtype=dtype)).sum().backward()
        (y_ref * torch.from_numpy(v).to(torch_dtype)).sum().backward()
        assert_close(x.grad, x_ref.grad, **tolerance)
        ours = dict(layer.named_parameters())
        assert list(ours) == [name for name, _ in reference.named_parameters()]
        for name, p_ref in reference.named_parameters():
            assert_close(ours[name].grad, p_ref.grad, **tolerance)
        state = layer.state_dict()
        for name, value in reference.state_dict().items():
            assert_close(state[name], value, **tolerance)
    return layer


@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_layer_matches_torch_in_float64(name, training, backend, torch):
    build, shape = LAYERS[name]
    run_against_torch(build, shape, mg.float64, training, torch, steps=2)


@pytest.mark.parametrize("name", LAYERS)
def test_layer_matches_torch_in_float32(name, backend, torch):
    build, shape = LAYERS[name]
    run_against_torch(build, shape, mg.float32, True, torch)


def test_batch_norm_cumulative_average_over_several_batches(backend, torch):
    layer = run_against_torch(LAYERS["batch_norm_2d_cumulative"][0], (2, 3, 3, 3), mg.float64,
                              True, torch, steps=4)
    assert layer.num_batches_tracked.item() == 4


def test_embedding_matches_torch(backend, torch):
    reference = torch.nn.Embedding(10, 3).double()
    layer = nn.Embedding(10, 3).double()
    assert repr(layer) == repr(reference) == "Embedding(10, 3)"
    layer.load_state_dict({"weight": reference.weight.detach().numpy()})
    indices = np.array([[1, 2, 1], [9, 0, 1]])
    y, y_ref = layer(mg.tensor(indices)), reference(torch.from_numpy(indices))
    assert_close(y, y_ref)
    v = np.random.default_rng(0).standard_normal(y.shape)
    (y * mg.tensor(v, dtype=mg.float64)).sum().backward()
    (y_ref * torch.from_numpy(v)).sum().backward()
    assert_close(layer.weight.grad, reference.weight.grad)


# --- finite differences through layers (their parameters included) ---------------------------

@pytest.mark.parametrize("build, shape", [
    (lambda: nn.Linear(3, 2), (2, 3)),
    (lambda: nn.Conv2d(2, 2, 2, stride=2, padding=1), (1, 2, 3, 3)),
    (lambda: nn.ConvTranspose2d(2, 1, 3, stride=2, padding=1, output_padding=1), (1, 2, 2, 2)),
    (lambda: nn.BatchNorm2d(2), (3, 2, 2, 2)),
    (lambda: nn.Embedding(4, 2), None),
])
def test_gradcheck_through_a_layer_and_its_parameters(build, shape, backend):
    layer = build().double()
    params = tuple(layer.parameters())
    if shape is None:  # Embedding: integer indices, only the weight is checked
        indices = mg.tensor([[0, 3], [3, 3]])
        assert mg.gradcheck(lambda *ps: layer(indices), params)
        return
    x = mg.tensor(np.random.default_rng(1).standard_normal(shape), requires_grad=True,
                  dtype=mg.float64)
    assert mg.gradcheck(lambda x, *ps: layer(x), (x,) + params)


def test_gradgradcheck_through_a_small_discriminator(backend):
    """What WGAN-GP's gradient penalty differentiates: d/dx of D(x), then again."""
    mg.manual_seed(0)
    critic = nn.Sequential(nn.Conv2d(1, 2, 3, 2, 1), nn.LeakyReLU(0.2), nn.Flatten(),
                           nn.Linear(8, 1)).double()
    x = mg.tensor(np.random.default_rng(2).standard_normal((2, 1, 4, 4)), requires_grad=True,
                  dtype=mg.float64)
    assert mg.gradgradcheck(lambda x: critic(x), (x,))


# --- behaviour that is not a number ----------------------------------------------------------

def test_dropout_in_eval_is_the_identity(backend):
    layer = nn.Dropout(0.5).eval()
    x = mg.randn(10, 10)
    assert layer(x) is x


def test_dropout_in_training_zeroes_about_p_and_scales_the_rest(backend):
    layer = nn.Dropout(0.3)
    y = layer(mg.ones(200, 100)).numpy()
    assert abs((y == 0).mean() - 0.3) < 0.01
    np.testing.assert_allclose(y[y != 0], 1 / 0.7, rtol=1e-6)
    assert repr(layer) == "Dropout(p=0.3, inplace=False)"
    assert nn.Dropout(0.0)(mg.ones(3)).tolist() == [1, 1, 1]


def test_dropout_follows_the_seed(backend):
    mg.manual_seed(5)
    a = nn.Dropout()(mg.ones(50)).numpy()
    mg.manual_seed(5)
    b = nn.Dropout()(mg.ones(50)).numpy()
    np.testing.assert_array_equal(a, b)


def test_batch_norm_eval_uses_running_statistics_and_leaves_them(backend):
    bn = nn.BatchNorm2d(2)
    bn.load_state_dict({"weight": np.ones(2), "bias": np.zeros(2),
                        "running_mean": np.array([1.0, -1.0]), "running_var": np.array([4.0, 0.25]),
                        "num_batches_tracked": np.array(9)})
    bn.eval()
    y = bn(mg.ones(1, 2, 1, 1) * 3.0)
    np.testing.assert_allclose(y.numpy().ravel(), [2 / np.sqrt(4 + 1e-5), 4 / np.sqrt(0.25 + 1e-5)],
                               rtol=1e-6)
    assert bn.running_mean.tolist() == [1.0, -1.0] and bn.num_batches_tracked.item() == 9


def test_layers_keep_float32(backend):
    x = mg.randn(2, 3, 8, 8)
    for layer in (nn.Conv2d(3, 4, 3), nn.ConvTranspose2d(3, 4, 3), nn.BatchNorm2d(3),
                  nn.LeakyReLU(0.2), nn.MaxPool2d(2), nn.Upsample(scale_factor=2),
                  nn.Dropout(), nn.Flatten()):
        assert layer(x).dtype == mg.float32, type(layer).__name__
    assert nn.Linear(8, 2)(x).dtype == mg.float32


@pytest.mark.parametrize("make, x, error, message", [
    (lambda: nn.BatchNorm2d(3), lambda: mg.ones(2, 3), ValueError,
     r"BatchNorm2d: expected 4D input \(got 2D input"),
    (lambda: nn.BatchNorm1d(3), lambda: mg.ones(2, 3, 2, 2), ValueError,
     r"BatchNorm1d: expected 2D or 3D input \(got 4D"),
    (lambda: nn.Embedding(3, 2), lambda: mg.ones(2), TypeError,
     "Embedding: expected an integer Tensor of indices, got float32"),
    (lambda: nn.Embedding(3, 2), lambda: mg.tensor([0, 3]), IndexError,
     r"Embedding: indices must be in \[0, 3\), got values from 0 to 3"),
    (lambda: nn.Unflatten(1, (3, 5)), lambda: mg.ones(2, 12), ValueError,
     r"Unflatten: cannot split dimension 1 of size 12 .* into \(3, 5\)"),
])
def test_bad_inputs_give_clear_errors(make, x, error, message, backend):
    with pytest.raises(error, match=message):
        make()(x())


@pytest.mark.parametrize("make, message", [
    (lambda: nn.Conv2d(2, 2, 3, groups=2), "Conv2d: groups=2 is not supported"),
    (lambda: nn.Conv2d(2, 2, 3, padding_mode="reflect"), "padding_mode='reflect'"),
    (lambda: nn.Conv2d(2, 2, (1, 2, 3)), "Conv2d kernel_size: expected an int or a pair"),
    (lambda: nn.Upsample(), "exactly one of size and scale_factor"),
    (lambda: nn.Dropout(1.5), "between 0 and 1, but got 1.5"),
    (lambda: nn.Unflatten(1, []), "non-empty tuple of ints"),
    (lambda: nn.MaxPool2d(2, ceil_mode=True), "MaxPool2d: ceil_mode=True is not supported"),
    (lambda: nn.AvgPool2d(2, 2, 0, False, False), "count_include_pad=False is not supported"),
])
def test_bad_hyperparameters_give_clear_errors(make, message):
    with pytest.raises((ValueError, TypeError), match=message):
        make()


def test_inplace_flags_are_accepted_and_shown_like_torch(torch):
    assert repr(nn.ReLU(True)) == repr(torch.nn.ReLU(True)) == "ReLU(inplace=True)"
    assert repr(nn.LeakyReLU(0.2, inplace=True)) == repr(torch.nn.LeakyReLU(0.2, inplace=True))
    x = mg.tensor([-1.0, 2.0])
    assert nn.ReLU(True)(x).tolist() == [0.0, 2.0] and x.tolist() == [-1.0, 2.0]


def test_pooling_and_upsample_reprs(torch):
    assert repr(nn.AvgPool2d(3, 2, 1)) == repr(torch.nn.AvgPool2d(3, 2, 1))
    assert repr(nn.Upsample(scale_factor=2)) == repr(torch.nn.Upsample(scale_factor=2))
    assert repr(nn.Upsample(size=(4, 6))) == repr(torch.nn.Upsample(size=(4, 6)))
    assert repr(nn.MaxPool2d(3, 2, 1)) == repr(torch.nn.MaxPool2d(3, 2, 1))
