"""Losses: binary cross-entropy (on probabilities and on logits), mean squared and
absolute error, negative log-likelihood, cross-entropy, and one_hot.

Every loss takes PyTorch's arguments, in PyTorch's order, and reduces the
per-element losses with `reduction`: 'mean' (the default), 'sum' or 'none'.
Targets get a gradient too when they require one (as in PyTorch).
"""
import numpy as np

from ..autograd import Function
from ..backend import get_array_module as _xp
from ..tensor import Tensor
from ._util import as_tensor, constant
from .elementwise import abs, cast, clamp, log, sigmoid
from .reduce import log_softmax, mean, sum

__all__ = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "mse_loss", "l1_loss",
    "nll_loss", "cross_entropy", "one_hot",
]

REDUCTIONS = ("mean", "sum", "none")


# --- checking arguments and reducing --------------------------------------------------

def _check_reduction(reduction, name):
    if reduction not in REDUCTIONS:
        raise ValueError(
            f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(loss, reduction):
    if reduction == "mean":
        return mean(loss)
    if reduction == "sum":
        return sum(loss)
    return loss


def _check_input(input, name):
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}: expected input to be a Tensor, got {type(input).__name__}")
    if input.dtype.kind != "f":
        raise TypeError(f"{name}: expected a floating input, got dtype {input.dtype}")


def _same_shape_target(input, target, name):
    """target as a Tensor of input's dtype and shape, or a clear error."""
    target = as_tensor(target, input)
    if target.shape != input.shape:
        raise ValueError(
            f"{name}: target shape {target.shape} does not match input shape {input.shape}")
    return cast(target, input.dtype)


def _weight(weight, what, input, name):
    """An optional weight as a Tensor of input's dtype that broadcasts to input's shape."""
    if weight is None:
        return None
    weight = as_tensor(weight, input)
    try:
        fits = np.broadcast_shapes(weight.shape, input.shape) == input.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"{name}: {what} of shape {weight.shape} does not broadcast to input shape "
            f"{input.shape}")
    return cast(weight, input.dtype)


# --- binary cross-entropy -------------------------------------------------------------

class BinaryCrossEntropy(Function):
    """loss = -(t log(x) + (1 - t) log(1 - x)), each log clamped at -100 (as PyTorch),
    so x = 0 or 1 gives a finite loss;

        dL/dx = g (x - t) / max(x (1 - x), 1e-12)
        dL/dt = g (log(1 - x) - log(x))   (the clamped logs)

    A Function, not a composition of log ops: where x is exactly 0 or 1 (a
    saturated float32 sigmoid) log's own gradient would be 0/0 = nan.
    """

    @staticmethod
    def forward(ctx, x, t):
        xp = _xp(x)
        with np.errstate(divide="ignore"):  # log(0) = -inf is expected, clamped below
            log_x = xp.maximum(xp.log(x), x.dtype.type(-100))
            log_1mx = xp.maximum(xp.log1p(-x), x.dtype.type(-100))
        return (t - 1) * log_1mx - t * log_x

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.inputs
        gx = gt = None
        if ctx.needs_input_grad[0]:
            gx = g * (x - t) / clamp(x * (1.0 - x), min=1e-12)
        if ctx.needs_input_grad[1]:
            gt = g * (clamp(log(1.0 - x), min=-100.0) - clamp(log(x), min=-100.0))
        return gx, gt


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """-w (t log(x) + (1 - t) log(1 - x)) for probabilities x in [0, 1].

    input, target: the same shape; weight: broadcasts to it (or None).
    """
    name = "binary_cross_entropy"
    _check_input(input, name)
    _check_reduction(reduction, name)
    target = _same_shape_target(input, target, name)
    weight = _weight(weight, "weight", input, name)
    inside = (input.data >= 0) & (input.data <= 1)  # False for NaN, which must not pass
    if not bool(inside.all()):
        bad = int((~inside).sum())
        nan = bool(input.xp.isnan(input.data).any())
        raise ValueError(
            f"{name}: all elements of input should be between 0 and 1; {bad} of "
            f"{input.numel()} are not{' (NaN among them)' if nan else ''}")
    loss = BinaryCrossEntropy.apply(input, target)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


class BinaryCrossEntropyWithLogits(Function):
    """loss = -(t log(sigmoid(x)) + (1 - t) log(1 - sigmoid(x)))
            = max(x, 0) - x t + log(1 + exp(-|x|))   (never overflows);

        dL/dx = g (sigmoid(x) - t),  dL/dt = -g x
    """

    @staticmethod
    def forward(ctx, x, t):
        xp = _xp(x)
        return xp.maximum(x, x.dtype.type(0)) - x * t + xp.log1p(xp.exp(-xp.abs(x)))

    @staticmethod
    def backward(ctx, g):
        x, t = ctx.inputs
        gx = g * (sigmoid(x) - t) if ctx.needs_input_grad[0] else None
        gt = -g * x if ctx.needs_input_grad[1] else None
        return gx, gt


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",
                                     pos_weight=None):
    """Binary cross-entropy of sigmoid(input), computed stably from the logits.

    input, target: the same shape; weight: broadcasts to it (or None);
    pos_weight: the weight of positive examples, broadcasting along the last
    dimension (classes), so that the loss is
        (1 - t) x + (1 + (pos_weight - 1) t) log(1 + exp(-x)).
    """
    name = "binary_cross_entropy_with_logits"
    _check_input(input, name)
    _check_reduction(reduction, name)
    target = _same_shape_target(input, target, name)
    weight = _weight(weight, "weight", input, name)
    pos_weight = _weight(pos_weight, "pos_weight", input, name)
    if pos_weight is None:
        loss = BinaryCrossEntropyWithLogits.apply(input, target)
    else:
        # log(1 + exp(-x)) is the loss of x at target 1
        ones = constant(input.xp.ones(input.shape, dtype=input.dtype))
        softplus_minus_x = BinaryCrossEntropyWithLogits.apply(input, ones)
        loss = (1.0 - target) * input + (1.0 + (pos_weight - 1.0) * target) * softplus_minus_x
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


# --- regression losses -------------------------------------------------------------------

def mse_loss(input, target, reduction="mean"):
    """(input - target)^2 per element; the gradient 2 (input - target) comes from the ops."""
    _check_input(input, "mse_loss")
    _check_reduction(reduction, "mse_loss")
    diff = input - _same_shape_target(input, target, "mse_loss")
    return _reduce(diff * diff, reduction)


def l1_loss(input, target, reduction="mean"):
    """|input - target| per element (gradient sign(input - target), 0 at 0)."""
    _check_input(input, "l1_loss")
    _check_reduction(reduction, "l1_loss")
    return _reduce(abs(input - _same_shape_target(input, target, "l1_loss")), reduction)


# --- classification losses ---------------------------------------------------------------

def _class_targets(input, target, ignore_index, name):
    """Check integer targets of shape (N, d1, ...) against input (N, C, d1, ...)."""
    if input.ndim < 2:
        raise ValueError(
            f"{name}: expected input of shape (N, C) or (N, C, d1, ...), got {input.shape}")
    expected = input.shape[:1] + input.shape[2:]
    if target.shape != expected:
        raise ValueError(
            f"{name}: expected target of shape {expected} for input of shape {input.shape}, "
            f"got {target.shape}")
    classes = input.shape[1]
    t = target.data
    bad = ((t < 0) | (t >= classes)) & (t != ignore_index)
    if bool(bad.any()):
        first = int(t[bad].reshape(-1)[0])
        raise IndexError(f"{name}: target {first} is out of bounds for {classes} classes")


def _class_weights(input, weight, name):
    """weight (C,) as an array of input's dtype shaped to broadcast along dim 1, or None."""
    if weight is None:
        return None
    classes = input.shape[1]
    if not isinstance(weight, Tensor) or weight.shape != (classes,):
        got = weight.shape if isinstance(weight, Tensor) else type(weight).__name__
        raise ValueError(
            f"{name}: expected weight of shape ({classes},) for input of shape "
            f"{input.shape}, got {got}")
    return weight.data.astype(input.dtype, copy=False).reshape(
        (1, classes) + (1,) * (input.ndim - 2))


def _pick_matrix(input, target, weight, ignore_index):
    """A constant of input's shape: weight[c] where c is the target class, 0 elsewhere
    (and 0 in every class for targets equal to ignore_index)."""
    xp = input.xp
    classes = input.shape[1]
    index = xp.arange(classes).reshape((1, classes) + (1,) * (input.ndim - 2))
    t = xp.expand_dims(target.data, 1)
    picked = ((t == index) & (t != ignore_index)).astype(input.dtype)
    return picked if weight is None else picked * weight


def _weighted_nll(log_probs, coefficients, total_weight, reduction):
    """loss[n, ...] = -sum_c coefficients[n, c, ...] log_probs[n, c, ...];
    'mean' divides the sum by total_weight (what PyTorch divides by)."""
    loss = -sum(log_probs * coefficients, 1)
    if reduction == "mean":
        return sum(loss) / total_weight
    return _reduce(loss, reduction)


def nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """Negative log-likelihood: loss[n] = -weight[t[n]] * input[n, t[n]].

    input: (N, C) or (N, C, d1, ...) log-probabilities; target: (N,) or (N, d1, ...)
    integer class indices in [0, C) (or ignore_index, which contributes nothing).
    weight: (C,) class weights or None. 'mean' divides by the sum of the weights
    of the targets (N when weight is None and no target is ignored), as PyTorch.
    """
    name = "nll_loss"
    _check_input(input, name)
    _check_reduction(reduction, name)
    target = _integer_target(input, target, name)
    _class_targets(input, target, ignore_index, name)
    picked = _pick_matrix(input, target, _class_weights(input, weight, name), ignore_index)
    return _weighted_nll(input, constant(picked), constant(picked.sum()), reduction)


def _integer_target(input, target, name):
    target = as_tensor(target, input)
    if target.dtype.kind not in "iu":
        raise TypeError(
            f"{name}: expected integer class indices as target, got dtype {target.dtype}")
    return target


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                  label_smoothing=0.0):
    """nll_loss(log_softmax(input, 1), target), stable for any size of logits.

    input: (N, C) or (N, C, d1, ...) logits.
    target: integer class indices of shape (N,) / (N, d1, ...), or class
        probabilities of input's shape (a floating target, as PyTorch).
    label_smoothing: eps in [0, 1]; the target becomes (1 - eps) * target + eps / C
        (for indices: weighted as in PyTorch, ignored targets contributing nothing).
    """
    name = "cross_entropy"
    _check_input(input, name)
    _check_reduction(reduction, name)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing must be in [0, 1], got {label_smoothing}")
    if input.ndim < 2:
        raise ValueError(
            f"{name}: expected input of shape (N, C) or (N, C, d1, ...), got {input.shape}")
    target = as_tensor(target, input)
    classes = input.shape[1]
    class_weight = _class_weights(input, weight, name)
    log_probs = log_softmax(input, 1)
    if target.dtype.kind == "f":
        # class probabilities: -sum_c weight[c] * p[n, c] * log_probs[n, c]
        if target.shape != input.shape:
            raise ValueError(
                f"{name}: target probabilities of shape {target.shape} do not match input "
                f"shape {input.shape} (class indices need an integer dtype, got "
                f"{target.dtype})")
        p = cast(target, input.dtype)
        if label_smoothing > 0:
            p = p * (1.0 - label_smoothing) + label_smoothing / classes
        if class_weight is not None:
            p = p * constant(class_weight)
        count = input.numel() // classes
        return _weighted_nll(log_probs, p, float(count), reduction)

    target = _integer_target(input, target, name)
    _class_targets(input, target, ignore_index, name)
    picked = _pick_matrix(input, target, class_weight, ignore_index)
    coefficients = picked
    if label_smoothing > 0:
        # besides its own class, a kept target spreads eps / C over every class c,
        # weighted by weight[c]; 'mean' still divides by the picked weights (as PyTorch)
        kept = input.xp.expand_dims(target.data != ignore_index, 1).astype(input.dtype)
        spread = kept if class_weight is None else kept * class_weight
        coefficients = picked * input.dtype.type(1 - label_smoothing) \
            + spread * input.dtype.type(label_smoothing / classes)
    return _weighted_nll(log_probs, constant(coefficients), constant(picked.sum()), reduction)


# --- not differentiable -------------------------------------------------------------------

def one_hot(tensor, num_classes=-1):
    """int64 one-hot codes: shape tensor.shape + (num_classes,), as torch's one_hot.

    num_classes=-1 takes the largest class in `tensor` plus one.
    """
    if not isinstance(tensor, Tensor) or tensor.dtype.kind not in "iu":
        got = tensor.dtype if isinstance(tensor, Tensor) else type(tensor).__name__
        raise TypeError(f"one_hot: expected an integer tensor of class indices, got {got}")
    xp = tensor.xp
    data = tensor.data
    if data.size and bool((data < 0).any()):
        raise ValueError("one_hot: class values must be non-negative")
    if num_classes == -1:
        if not data.size:
            raise ValueError("one_hot: cannot infer num_classes from an empty tensor")
        num_classes = int(data.max()) + 1
    elif data.size and bool((data >= num_classes).any()):
        raise ValueError(
            f"one_hot: class values must be smaller than num_classes ({num_classes}), "
            f"got {int(data.max())}")
    codes = xp.expand_dims(data, -1) == xp.arange(num_classes)
    return constant(codes.astype(np.int64))
