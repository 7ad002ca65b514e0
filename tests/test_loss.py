"""Losses: binary_cross_entropy(_with_logits), mse_loss, l1_loss, nll_loss, cross_entropy,
one_hot.

Every loss matches PyTorch in float64 for each reduction ('mean', 'sum', 'none'):
forward, gradient with respect to the input (and to the target where PyTorch
gives one), and double backward. Every loss passes gradcheck and gradgradcheck
on both backends. Logits of 1e4 give finite losses and gradients; probabilities
of exactly 0 and 1 give PyTorch's clamped (log >= -100), finite values. Wrong
shapes, targets out of range and unknown reductions are errors that say what
came and what was expected.
"""
import numpy as np
import pytest

import minigan as mg
import minigan.functional as F

from .helpers import assert_close, randn, to_torch, uniform
from .helpers import assert_matches_torch

REDUCTIONS = ["mean", "sum", "none"]


def probabilities(*shape, seed=None, requires_grad=True):
    """Values in (0.05, 0.95): away from the clamps, so finite differences are smooth."""
    return uniform(*shape, low=0.05, high=0.95, seed=seed, requires_grad=requires_grad)


def labels(*shape, classes, seed=0):
    return mg.tensor(np.random.default_rng(seed).integers(0, classes, shape))


def torch_labels(target, torch):
    return torch.from_numpy(target.numpy())


# --- binary cross-entropy --------------------------------------------------------------------------

@pytest.mark.torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy_matches_torch(backend, torch, reduction, weighted):
    x, t = probabilities(4, 3, seed=1), probabilities(4, 3, seed=2, requires_grad=False)
    weight = uniform(3, low=0.5, high=2.0, seed=3, requires_grad=False) if weighted else None
    tt = to_torch(t, torch)
    tw = None if weight is None else to_torch(weight, torch)
    assert_matches_torch(
        torch, lambda x: F.binary_cross_entropy(x, t, weight, reduction=reduction),
        lambda x: torch.nn.functional.binary_cross_entropy(x, tt, tw, reduction=reduction), x)


@pytest.mark.torch
def test_binary_cross_entropy_target_gradient_matches_torch(backend, torch):
    x, t = probabilities(3, 4, seed=1), probabilities(3, 4, seed=2)
    assert_matches_torch(torch, F.binary_cross_entropy,
                         torch.nn.functional.binary_cross_entropy, x, t)


@pytest.mark.torch
def test_binary_cross_entropy_at_exactly_zero_and_one_is_clamped_and_finite(backend, torch):
    # a saturated float32 sigmoid gives exactly 0 or 1: log is clamped at -100, as in PyTorch
    x = mg.tensor([0.0, 1.0, 0.0, 1.0, 0.5], dtype=mg.float64, requires_grad=True)
    t = mg.tensor([1.0, 0.0, 0.0, 1.0, 0.3], dtype=mg.float64)
    loss = F.binary_cross_entropy(x, t, reduction="none")
    (gx,) = mg.grad(loss.sum(), [x])
    tx = to_torch(x, torch)
    t_loss = torch.nn.functional.binary_cross_entropy(tx, to_torch(t, torch), reduction="none")
    (t_gx,) = torch.autograd.grad(t_loss.sum(), [tx])
    assert_close(loss, t_loss)
    assert_close(gx, t_gx)
    assert np.isfinite(gx.numpy()).all() and loss.numpy()[0] == 100.0


@pytest.mark.torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy_with_logits_matches_torch(backend, torch, reduction, weighted):
    x, t = randn(4, 3, scale=3.0), probabilities(4, 3, seed=2)
    weight = uniform(4, 1, low=0.5, high=2.0, seed=3, requires_grad=False) if weighted else None
    tw = None if weight is None else to_torch(weight, torch)
    assert_matches_torch(
        torch,
        lambda x, t: F.binary_cross_entropy_with_logits(x, t, weight, reduction=reduction),
        lambda x, t: torch.nn.functional.binary_cross_entropy_with_logits(
            x, t, tw, reduction=reduction), x, t)


@pytest.mark.torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_with_logits_pos_weight_matches_torch(backend, torch, reduction):
    x, t = randn(4, 3, scale=3.0), probabilities(4, 3, seed=2)
    pos_weight = uniform(3, low=0.5, high=3.0, seed=4, requires_grad=False)
    tp = to_torch(pos_weight, torch)
    assert_matches_torch(
        torch,
        lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction=reduction,
                                                        pos_weight=pos_weight),
        lambda x, t: torch.nn.functional.binary_cross_entropy_with_logits(
            x, t, reduction=reduction, pos_weight=tp), x, t)


def test_binary_cross_entropy_with_logits_is_finite_for_huge_logits(backend):
    x = mg.tensor([[1e4], [-1e4], [1e4], [-1e4], [0.0]], dtype=mg.float32, requires_grad=True)
    t = mg.tensor([[1.0], [0.0], [0.0], [1.0], [1.0]], dtype=mg.float32)
    loss = F.binary_cross_entropy_with_logits(x, t, reduction="none")
    (gx,) = mg.grad(loss.sum(), [x])
    assert_close(loss, [[0.0], [0.0], [1e4], [1e4], [np.log(2)]], rtol=1e-6)
    assert_close(gx, [[0.0], [0.0], [1.0], [-1.0], [-0.5]])
    assert loss.dtype == gx.dtype == mg.float32


# --- regression losses -------------------------------------------------------------------------------

@pytest.mark.torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss"])
def test_regression_loss_matches_torch(backend, torch, name, reduction):
    x, t = randn(3, 4), randn(3, 4, seed=6)
    assert_matches_torch(
        torch, lambda x, t: getattr(F, name)(x, t, reduction=reduction),
        lambda x, t: getattr(torch.nn.functional, name)(x, t, reduction=reduction), x, t)


# --- negative log-likelihood and cross-entropy ---------------------------------------------------------

CLASS_SHAPES = [((5, 4), (5,)), ((2, 3, 4), (2, 4)), ((2, 3, 2, 2), (2, 2, 2))]


@pytest.mark.torch
@pytest.mark.parametrize("shapes", CLASS_SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_matches_torch(backend, torch, shapes, reduction):
    input_shape, target_shape = shapes
    log_probs = randn(*input_shape).log_softmax(1)
    target = labels(*target_shape, classes=input_shape[1])
    tt = torch_labels(target, torch)
    assert_matches_torch(
        torch, lambda x: F.nll_loss(x, target, reduction=reduction),
        lambda x: torch.nn.functional.nll_loss(x, tt, reduction=reduction),
        log_probs.detach().requires_grad_())


@pytest.mark.torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("ignore_index", [-100, 3])  # also a real class can be ignored
def test_nll_loss_with_class_weights_and_ignored_targets_matches_torch(
        backend, torch, reduction, ignore_index):
    x = randn(6, 4)
    target = mg.tensor([0, 3, ignore_index, 2, 3, 1])
    weight = uniform(4, low=0.5, high=2.0, seed=2, requires_grad=False)
    tt, tw = torch_labels(target, torch), to_torch(weight, torch)
    assert_matches_torch(
        torch, lambda x: F.nll_loss(x, target, weight, ignore_index, reduction=reduction),
        lambda x: torch.nn.functional.nll_loss(x, tt, tw, ignore_index=ignore_index,
                                               reduction=reduction), x)


@pytest.mark.torch
@pytest.mark.parametrize("shapes", CLASS_SHAPES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_matches_torch(backend, torch, shapes, reduction):
    input_shape, target_shape = shapes
    target = labels(*target_shape, classes=input_shape[1], seed=1)
    tt = torch_labels(target, torch)
    assert_matches_torch(
        torch, lambda x: F.cross_entropy(x, target, reduction=reduction),
        lambda x: torch.nn.functional.cross_entropy(x, tt, reduction=reduction),
        randn(*input_shape, scale=3.0))


@pytest.mark.torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_label_smoothing_weights_and_ignore_index_match_torch(
        backend, torch, reduction, weighted):
    target = mg.tensor([[0, 2], [1, 1], [2, 0]])  # class 1 ignored
    weight = uniform(3, low=0.5, high=2.0, seed=2, requires_grad=False) if weighted else None
    tt = torch_labels(target, torch)
    tw = None if weight is None else to_torch(weight, torch)
    assert_matches_torch(
        torch,
        lambda x: F.cross_entropy(x, target, weight, ignore_index=1, reduction=reduction,
                                  label_smoothing=0.2),
        lambda x: torch.nn.functional.cross_entropy(
            x, tt, tw, ignore_index=1, reduction=reduction, label_smoothing=0.2),
        randn(3, 3, 2))


@pytest.mark.torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_with_class_probabilities_matches_torch(backend, torch, reduction):
    x = randn(4, 3, 2)
    p = randn(4, 3, 2, seed=3).softmax(1).detach().requires_grad_()
    weight = uniform(3, low=0.5, high=2.0, seed=2, requires_grad=False)
    tw = to_torch(weight, torch)
    assert_matches_torch(
        torch, lambda x, p: F.cross_entropy(x, p, weight, reduction=reduction,
                                            label_smoothing=0.1),
        lambda x, p: torch.nn.functional.cross_entropy(x, p, tw, reduction=reduction,
                                                       label_smoothing=0.1), x, p)


def test_cross_entropy_is_finite_and_exact_for_huge_logits(backend):
    x = mg.tensor([[1e4, 0.0, -1e4], [0.0, 1e4, 1e4]], dtype=mg.float32, requires_grad=True)
    target = mg.tensor([1, 2])
    loss = F.cross_entropy(x, target, reduction="none")
    (gx,) = mg.grad(loss.sum(), [x])
    assert_close(loss, [1e4, np.log(2)], rtol=1e-6)
    assert_close(gx, [[1.0, -1.0, 0.0], [0.0, 0.5, -0.5]], atol=1e-6)
    assert loss.dtype == gx.dtype == mg.float32


# --- every loss against finite differences ------------------------------------------------------------

# name: fn(x, t) -> loss, with the inputs it is checked on (tensors requiring grad are checked)
GRADCHECK_CASES = {
    "binary_cross_entropy": (
        lambda x, t: F.binary_cross_entropy(x, t, reduction="sum"),
        lambda: (probabilities(3, 2, seed=1), probabilities(3, 2, seed=2))),
    "binary_cross_entropy_with_logits": (
        lambda x, t: F.binary_cross_entropy_with_logits(x, t, reduction="none"),
        lambda: (randn(3, 2, scale=2.0), probabilities(3, 2, seed=2))),
    "binary_cross_entropy_with_logits_pos_weight": (
        lambda x, t: F.binary_cross_entropy_with_logits(
            x, t, pos_weight=mg.tensor([0.5, 3.0], dtype=mg.float64)),
        lambda: (randn(3, 2, scale=2.0), probabilities(3, 2, seed=2))),
    "mse_loss": (lambda x, t: F.mse_loss(x, t), lambda: (randn(2, 3), randn(2, 3, seed=4))),
    "l1_loss": (lambda x, t: F.l1_loss(x, t, reduction="none"),
                lambda: (randn(2, 3), randn(2, 3, seed=4))),
    "nll_loss": (lambda x, t: F.nll_loss(x, t),
                 lambda: (randn(4, 3), labels(4, classes=3))),
    "cross_entropy": (lambda x, t: F.cross_entropy(x, t, label_smoothing=0.1),
                      lambda: (randn(2, 3, 2), labels(2, 2, classes=3))),
    "cross_entropy_probabilities": (
        lambda x, p: F.cross_entropy(x, p, reduction="sum"),
        lambda: (randn(3, 4), randn(3, 4, seed=5).softmax(1).detach().requires_grad_())),
}


@pytest.mark.parametrize("name", sorted(GRADCHECK_CASES))
def test_loss_passes_gradcheck_and_gradgradcheck(backend, name):
    fn, make_inputs = GRADCHECK_CASES[name]
    inputs = make_inputs()
    assert mg.gradcheck(fn, inputs)
    assert mg.gradgradcheck(fn, inputs)


@pytest.mark.parametrize("name", sorted(GRADCHECK_CASES))
def test_loss_keeps_float32(backend, name):
    fn, make_inputs = GRADCHECK_CASES[name]
    x, t = make_inputs()
    x = mg.tensor(x.numpy(), dtype=mg.float32, requires_grad=True)
    if t.dtype == mg.float64:
        t = mg.tensor(t.numpy(), dtype=mg.float32)
    loss = fn(x, t)
    (gx,) = mg.grad(loss.sum(), [x])
    assert (loss.dtype, gx.dtype) == (mg.float32, mg.float32)


def test_gradient_penalty_through_binary_cross_entropy_with_logits(backend):
    # d/dw |d loss / d x|^2, as WGAN-GP takes it, with loss = bce(x @ w, t)
    x, w = randn(4, 3), randn(3, 1, seed=2)
    t = probabilities(4, 1, seed=3, requires_grad=False)

    def penalty(w):
        with mg.enable_grad():  # gradcheck evaluates fn under no_grad for its differences
            (gx,) = mg.grad(F.binary_cross_entropy_with_logits(x @ w, t), [x], create_graph=True)
        return ((gx * gx).sum() - 1.0) ** 2

    assert mg.gradcheck(penalty, (w,))


# --- one_hot --------------------------------------------------------------------------------------------

@pytest.mark.torch
@pytest.mark.parametrize("num_classes", [-1, 6])
def test_one_hot_matches_torch(backend, torch, num_classes):
    classes = mg.tensor([[0, 3], [2, 1], [3, 3]])
    codes = F.one_hot(classes, num_classes)
    expected = torch.nn.functional.one_hot(torch_labels(classes, torch), num_classes)
    assert codes.dtype == mg.int64 and not codes.requires_grad
    assert np.array_equal(codes.numpy(), expected.numpy())


def test_one_hot_of_a_scalar_and_of_a_float_after_cast(backend):
    assert F.one_hot(mg.tensor(2), 4).tolist() == [0, 0, 1, 0]
    assert F.one_hot(mg.tensor([1, 0]), 2).float().dtype == mg.float32


def test_one_hot_rejects_bad_classes(backend):
    with pytest.raises(ValueError, match=r"smaller than num_classes \(3\), got 5"):
        F.one_hot(mg.tensor([1, 5]), 3)
    with pytest.raises(ValueError, match="non-negative"):
        F.one_hot(mg.tensor([-1, 1]), 3)
    with pytest.raises(TypeError, match="one_hot: expected an integer tensor .* got float64"):
        F.one_hot(randn(3), 3)


# --- errors --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["binary_cross_entropy", "binary_cross_entropy_with_logits",
                                  "mse_loss", "l1_loss"])
def test_loss_names_both_shapes_when_target_does_not_match(backend, name):
    x = probabilities(128, 1, requires_grad=False)
    with pytest.raises(ValueError, match=rf"^{name}: target shape \(128,\) does not match input "
                                         r"shape \(128, 1\)$"):
        getattr(F, name)(x, probabilities(128, requires_grad=False))


@pytest.mark.parametrize("name", ["binary_cross_entropy", "binary_cross_entropy_with_logits",
                                  "mse_loss", "l1_loss", "nll_loss", "cross_entropy"])
def test_loss_rejects_an_unknown_reduction(backend, name):
    target = labels(2, classes=2) if name in ("nll_loss", "cross_entropy") else \
        probabilities(2, 2, requires_grad=False)
    with pytest.raises(ValueError, match=rf"{name}: reduction must be 'mean', 'sum' or 'none', "
                                         r"got 'avg'"):
        getattr(F, name)(probabilities(2, 2), target, reduction="avg")


@pytest.mark.parametrize("name", ["nll_loss", "cross_entropy"])
@pytest.mark.parametrize("bad", [5, -2])
def test_class_loss_rejects_a_target_out_of_range(backend, name, bad):
    with pytest.raises(IndexError, match=rf"{name}: target {bad} is out of bounds for 4 classes"):
        getattr(F, name)(randn(3, 4), mg.tensor([0, bad, 1]))


@pytest.mark.parametrize("name", ["nll_loss", "cross_entropy"])
def test_class_loss_rejects_a_target_of_the_wrong_shape(backend, name):
    with pytest.raises(ValueError, match=r"expected target of shape \(3,\) for input of shape "
                                         r"\(3, 4\), got \(3, 1\)"):
        getattr(F, name)(randn(3, 4), mg.tensor([[0], [1], [2]]))


def test_nll_loss_rejects_floating_targets(backend):
    with pytest.raises(TypeError, match="nll_loss: expected integer class indices as target, "
                                        "got dtype float64"):
        F.nll_loss(randn(3, 4), randn(3))


def test_binary_cross_entropy_rejects_input_outside_zero_one(backend):
    with pytest.raises(ValueError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(mg.tensor([0.5, 1.5]), mg.tensor([1.0, 0.0]))


@pytest.mark.parametrize("shape", [(3,), (2, 4, 2)])  # mismatched, or growing the loss
def test_binary_cross_entropy_with_logits_rejects_a_weight_that_does_not_broadcast(
        backend, shape):
    x, t = randn(4, 2), probabilities(4, 2)
    with pytest.raises(ValueError, match=rf"weight of shape \({shape[0]},.* does not "
                                         r"broadcast to input shape \(4, 2\)"):
        F.binary_cross_entropy_with_logits(x, t, mg.ones(*shape, dtype=mg.float64))


def test_cross_entropy_explains_floating_class_indices(backend):
    with pytest.raises(ValueError, match=r"target probabilities of shape \(3,\) do not match "
                                         r"input shape \(3, 4\) \(class indices need an integer"):
        F.cross_entropy(randn(3, 4), mg.tensor([0.0, 1.0, 2.0], dtype=mg.float64))
