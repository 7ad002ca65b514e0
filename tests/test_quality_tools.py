"""The tools of the quality recipe, each on its own: spectral normalisation, the EMA of
weights, the hinge loss, the R1 penalty and differentiable augmentation."""
import numpy as np
import pytest

import minigan as mg
from minigan import nn, optim
from minigan.gan.augment import (augment, cutout_mask, parse_policy, random_color,
                                 random_cutout, random_translation, translate)
from minigan.gan.losses import d_hinge_loss, g_hinge_loss, r1_penalty
from minigan.optim.swa_utils import (AveragedModel, get_ema_avg_fn, get_ema_multi_avg_fn,
                                     update_bn)


# --- spectral_norm ------------------------------------------------------------------------

def test_spectral_norm_keeps_pytorchs_state_dict_keys():
    layer = nn.utils.spectral_norm(nn.Linear(5, 3))
    assert list(layer.state_dict()) == ["bias", "weight_orig", "weight_u", "weight_v"]
    assert [name for name, _ in layer.named_parameters()] == ["bias", "weight_orig"]
    assert layer.weight_u.shape == (3,) and layer.weight_v.shape == (5,)


def test_spectral_norm_divides_by_the_largest_singular_value(backend):
    layer = nn.utils.spectral_norm(nn.Linear(6, 4), n_power_iterations=50)
    layer(mg.randn(2, 6))  # a training forward: 50 power iterations
    w = layer.weight_orig.numpy()
    sigma = np.linalg.svd(w, compute_uv=False)[0]
    np.testing.assert_allclose(layer.weight.numpy(), w / sigma, rtol=1e-4)
    assert abs(np.linalg.svd(layer.weight.numpy(), compute_uv=False)[0] - 1.0) < 1e-4


def test_spectral_norm_of_a_transposed_convolution_uses_its_output_channels():
    layer = nn.utils.spectral_norm(nn.ConvTranspose2d(3, 5, 4, 2, 1), n_power_iterations=40)
    assert layer.weight_u.shape == (5,) and layer.weight_v.shape == (3 * 16,)
    layer(mg.randn(1, 3, 2, 2))
    w = layer.weight_orig.numpy().transpose(1, 0, 2, 3).reshape(5, -1)
    np.testing.assert_allclose(layer.weight.numpy(),
                               layer.weight_orig.numpy() / np.linalg.svd(w, compute_uv=False)[0],
                               rtol=1e-4)


def test_spectral_norm_in_eval_mode_keeps_u_and_v():
    layer = nn.utils.spectral_norm(nn.Linear(4, 4))
    layer.eval()
    u = layer.weight_u.numpy().copy()
    layer(mg.randn(2, 4))
    np.testing.assert_array_equal(layer.weight_u.numpy(), u)


def test_spectral_norm_gradient_matches_finite_differences(backend):
    mg.set_default_dtype(mg.float64)
    try:
        layer = nn.utils.spectral_norm(nn.Linear(4, 3))
    finally:
        mg.set_default_dtype(mg.float32)
    layer.eval()  # u, v fixed: a deterministic function of weight_orig
    x = mg.randn(2, 4, dtype=mg.float64, requires_grad=True)

    def through(weight_orig, inputs):
        layer._parameters["weight_orig"] = weight_orig
        return layer(inputs)

    w = mg.tensor(layer.weight_orig.numpy(), requires_grad=True)
    assert mg.gradcheck(through, (w, x))
    assert mg.gradgradcheck(through, (w, x))


def test_remove_spectral_norm_leaves_the_normalised_weight_as_a_parameter():
    layer = nn.utils.spectral_norm(nn.Linear(3, 2))
    layer(mg.randn(1, 3))
    expected = layer.weight.numpy().copy()
    layer.eval()
    nn.utils.remove_spectral_norm(layer)
    assert list(layer.state_dict()) == ["bias", "weight"]  # re-registered last, as PyTorch
    np.testing.assert_allclose(layer.weight.numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize("kind", ["linear", "conv", "conv_transpose"])
def test_spectral_norm_matches_pytorch_over_training_steps(torch, kind):
    make = {"linear": (lambda m: m.Linear(6, 4), (3, 6)),
            "conv": (lambda m: m.Conv2d(2, 3, 3, 1, 1), (2, 2, 5, 5)),
            "conv_transpose": (lambda m: m.ConvTranspose2d(3, 2, 4, 2, 1), (2, 3, 3, 3))}
    build, shape = make[kind]
    theirs = torch.nn.utils.spectral_norm(build(torch.nn))
    ours = nn.utils.spectral_norm(build(nn))
    ours.load_state_dict({k: mg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    opt_t = torch.optim.SGD(theirs.parameters(), lr=0.1)
    opt_m = optim.SGD(ours.parameters(), lr=0.1)
    rng = np.random.default_rng(0)
    for step in range(4):
        for module in (theirs, ours):
            module.train(step < 3)
        x = rng.standard_normal(shape).astype(np.float32)
        yt = theirs(torch.tensor(x))
        ym = ours(mg.tensor(x))
        np.testing.assert_allclose(ym.numpy(), yt.detach().numpy(), rtol=1e-4, atol=1e-5)
        for key in ("weight_u", "weight_v"):
            np.testing.assert_allclose(getattr(ours, key).numpy(),
                                       getattr(theirs, key).numpy(), rtol=1e-4, atol=1e-6)
        if step < 3:
            opt_t.zero_grad(); (yt ** 2).sum().backward(); opt_t.step()  # noqa: E702
            opt_m.zero_grad(); (ym ** 2).sum().backward(); opt_m.step()  # noqa: E702
            np.testing.assert_allclose(ours.weight_orig.grad.numpy(),
                                       theirs.weight_orig.grad.numpy(), rtol=1e-3, atol=1e-5)


# --- the EMA of a model's weights --------------------------------------------------------

def test_ema_first_copies_then_moves_a_tenth_of_the_way_at_decay_0_9():
    layer = nn.Linear(1, 1, bias=False)
    layer.weight.data[...] = 1.0
    ema = AveragedModel(layer, multi_avg_fn=get_ema_multi_avg_fn(0.9))
    ema.update_parameters(layer)                   # n_averaged 0: a copy
    layer.weight.data[...] = 3.0
    ema.update_parameters(layer)                   # 0.9 * 1 + 0.1 * 3
    layer.weight.data[...] = 0.0
    ema.update_parameters(layer)                   # 0.9 * 1.2 + 0.1 * 0
    assert ema.module.weight.numpy()[0, 0] == pytest.approx(1.08, rel=1e-6)
    assert int(ema.n_averaged.numpy()) == 3
    assert list(ema.state_dict()) == ["n_averaged", "module.weight"]


def test_ema_avg_fn_and_multi_avg_fn_agree():
    layer = nn.Linear(3, 2)
    a = AveragedModel(layer, avg_fn=get_ema_avg_fn(0.8))
    b = AveragedModel(layer, multi_avg_fn=get_ema_multi_avg_fn(0.8))
    for _ in range(3):
        for p in layer.parameters():
            p.data[...] = mg.randn(*p.shape).data
        a.update_parameters(layer)
        b.update_parameters(layer)
    for pa, pb in zip(a.parameters(), b.parameters()):
        np.testing.assert_allclose(pa.numpy(), pb.numpy(), rtol=1e-6)


def test_ema_with_buffers_averages_running_statistics_and_copies_them_without():
    net = nn.BatchNorm1d(2)
    with_buffers = AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(0.5), use_buffers=True)
    without = AveragedModel(net, multi_avg_fn=get_ema_multi_avg_fn(0.5))
    for value in (0.0, 4.0):
        net.running_mean.data[...] = value
        with_buffers.update_parameters(net)
        without.update_parameters(net)
    np.testing.assert_allclose(with_buffers.module.running_mean.numpy(), [2.0, 2.0])
    np.testing.assert_allclose(without.module.running_mean.numpy(), [4.0, 4.0])


def test_ema_matches_pytorchs_averaged_model(torch):
    from torch.optim import swa_utils
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    ours = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    ours.load_state_dict({k: mg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    ema_t = swa_utils.AveragedModel(theirs, multi_avg_fn=swa_utils.get_ema_multi_avg_fn(0.9),
                                    use_buffers=True)
    ema_m = AveragedModel(ours, multi_avg_fn=get_ema_multi_avg_fn(0.9), use_buffers=True)
    opt_t, opt_m = torch.optim.SGD(theirs.parameters(), 0.1), optim.SGD(ours.parameters(), 0.1)
    rng = np.random.default_rng(1)
    for _ in range(5):
        x = rng.standard_normal((8, 3)).astype(np.float32)
        opt_t.zero_grad(); (theirs(torch.tensor(x)) ** 2).sum().backward(); opt_t.step()  # noqa
        opt_m.zero_grad(); (ours(mg.tensor(x)) ** 2).sum().backward(); opt_m.step()  # noqa
        ema_t.update_parameters(theirs)
        ema_m.update_parameters(ours)
    for key, value in ema_t.state_dict().items():
        np.testing.assert_allclose(ema_m.state_dict()[key].numpy(), value.detach().numpy(),
                                   rtol=1e-5, atol=1e-6, err_msg=key)


def test_update_bn_makes_the_running_statistics_the_average_over_the_batches():
    net = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    net.eval()
    net[1].running_mean.data[...] = 7.0
    rng = np.random.default_rng(0)
    batches = [mg.tensor(rng.standard_normal((5, 2)), dtype=mg.float32) for _ in range(3)]
    update_bn(batches, net)
    h = [net[0](b).numpy() for b in batches]
    np.testing.assert_allclose(net[1].running_mean.numpy(),
                               np.mean([x.mean(0) for x in h], axis=0), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(net[1].running_var.numpy(),           # unbiased, per batch
                               np.mean([x.var(0, ddof=1) for x in h], axis=0), rtol=1e-6)
    assert not net.training and net[1].momentum == 0.1               # both given back
    assert int(net[1].num_batches_tracked.numpy()) == 3


def test_update_bn_matches_pytorch(torch):
    from torch.optim import swa_utils
    theirs = torch.nn.Sequential(torch.nn.ConvTranspose2d(3, 4, 4, 2, 1), torch.nn.BatchNorm2d(4),
                                 torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(64, 5),
                                 torch.nn.BatchNorm1d(5, momentum=0.3))
    ours = nn.Sequential(nn.ConvTranspose2d(3, 4, 4, 2, 1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.Flatten(), nn.Linear(64, 5), nn.BatchNorm1d(5, momentum=0.3))
    ours.load_state_dict({k: mg.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(2)
    xs = [rng.standard_normal((6, 3, 2, 2)).astype(np.float32) for _ in range(4)]
    swa_utils.update_bn([(torch.tensor(x),) for x in xs], theirs)    # DataLoader-style tuples
    update_bn([(mg.tensor(x),) for x in xs], ours)
    for key, value in theirs.state_dict().items():
        np.testing.assert_allclose(ours.state_dict()[key].numpy(), value.detach().numpy(),
                                   rtol=1e-5, atol=1e-6, err_msg=key)
    assert ours[5].momentum == theirs[5].momentum == 0.3


# --- hinge and R1 -------------------------------------------------------------------------

def test_hinge_losses_on_hand_computed_logits():
    real = mg.tensor([[2.0], [0.5], [-1.0]])   # relu(1 - x): 0, 0.5, 2   -> mean 0.8333
    fake = mg.tensor([[-2.0], [0.0], [1.0]])   # relu(1 + x): 0, 1, 2     -> mean 1
    assert d_hinge_loss(real, fake).item() == pytest.approx(2.5 / 3 + 1.0)
    assert g_hinge_loss(fake).item() == pytest.approx(1.0 / 3)


def test_r1_penalty_of_a_linear_discriminator_is_its_squared_weight_norm():
    w = np.array([[1.0, -2.0, 0.5, 3.0]])
    D = nn.Linear(4, 1)
    D.weight.data[...] = w
    penalty, logits = r1_penalty(lambda x: D(x.flatten(1)), mg.randn(5, 1, 2, 2))
    assert penalty.item() == pytest.approx(float((w ** 2).sum()), rel=1e-6)  # 14.25
    assert logits.shape == (5, 1)


def test_r1_penalty_gradient_matches_finite_differences(backend):
    x = mg.randn(3, 1, 2, 2, dtype=mg.float64)

    def penalty(w1, w2):
        def D(images):
            return ((images.flatten(1) @ w1).tanh() @ w2)
        return r1_penalty(D, x)[0]

    w1 = mg.randn(4, 3, dtype=mg.float64, requires_grad=True)
    w2 = mg.randn(3, 1, dtype=mg.float64, requires_grad=True)
    assert mg.gradcheck(penalty, (w1, w2))


# --- differentiable augmentation -----------------------------------------------------------

def test_translate_shifts_in_zeros():
    x = mg.tensor(np.arange(9.0).reshape(1, 1, 3, 3))
    y = translate(x, np.array([1]), np.array([-1])).numpy()[0, 0]
    np.testing.assert_array_equal(y, [[0, 0, 0], [1, 2, 0], [4, 5, 0]])


@pytest.mark.parametrize("shape", [(2, 1, 4, 4), (3, 2, 5, 3)])
def test_translate_gradcheck_and_its_backward_is_the_opposite_shift(backend, shape):
    rng = np.random.default_rng(0)
    dy = mg.tensor(rng.integers(-2, 3, shape[0])).data
    dx = mg.tensor(rng.integers(-2, 3, shape[0])).data
    x = mg.randn(*shape, dtype=mg.float64, requires_grad=True)
    assert mg.gradcheck(lambda t: translate(t, dy, dx), (x,))
    assert mg.gradgradcheck(lambda t: translate(t, dy, dx), (x,))
    g = mg.randn(*shape, dtype=mg.float64)
    translate(x, dy, dx).backward(g)
    np.testing.assert_array_equal(x.grad.numpy(), translate(g, -dy, -dx).numpy())


def test_cutout_mask_zeroes_a_square_clipped_at_the_border():
    mask = cutout_mask(2, 4, 4, 2, 2, np.array([0, 2]), np.array([0, 2]), np.float32).numpy()
    assert mask[0, 0].sum() == 15 and mask[0, 0, 0, 0] == 0          # only the corner pixel
    np.testing.assert_array_equal(mask[1, 0, 1:3, 1:3], np.zeros((2, 2)))
    assert mask[1, 0].sum() == 12


@pytest.mark.parametrize("transform", [random_translation, random_cutout, random_color])
def test_each_random_augmentation_gradchecks_for_fixed_random_draws(backend, transform):
    x = mg.randn(3, 2, 6, 6, dtype=mg.float64, requires_grad=True)

    def seeded(t):
        mg.manual_seed(5)  # the same random parameters at every evaluation
        return transform(t)

    assert mg.gradcheck(seeded, (x,))


def test_augmentations_draw_fresh_parameters_per_image():
    x = mg.ones(64, 1, 8, 8)
    y = augment(x, "translation,cutout").numpy()
    assert len({arr.tobytes() for arr in y}) > 30


def test_an_unknown_augmentation_is_one_clear_error():
    assert parse_policy("translation, color") == ("translation", "color")
    with pytest.raises(ValueError, match=r"unknown augmentation 'flip': expected a "
                                         r"comma-separated list of translation, cutout, color"):
        parse_policy("translation,flip")
