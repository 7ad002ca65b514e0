"""What a PyTorch script reaches for: loss modules, Softmax/LogSoftmax, Dropout2d, AdamW,
nn.utils (gradient clipping, parameters as a vector), Tensor clone/zero_/fill_/copy_,
eq/ne/lt/gt/le/ge, mg.from_numpy, and "cpu"/"cuda" as names for the numpy and cupy
backends in tensor.to, module.to and --device.

Each checked against PyTorch when it is installed (the `torch` fixture skips without
it) and against values worked out by hand when not.
"""
import math
import warnings

import numpy as np
import pytest

import minigan as mg
import minigan.functional as F
from minigan import nn, optim
from minigan._device import backend_name, choose_backend

from .helpers import assert_close, randn, to_torch


def torch_copy_of(module, torch_module, torch):
    """Load minigan's weights into the torch twin (the state-dict names are the same)."""
    torch_module.load_state_dict(
        {k: torch.from_numpy(np.array(v.numpy())) for k, v in module.state_dict().items()})
    return torch_module


# --- Tensor methods ---------------------------------------------------------------------

def test_clone_is_a_copy_that_gradients_flow_through(backend):
    x = randn(2, 3)
    y = x.clone()
    assert y.data is not x.data and y.grad_fn is not None
    (y * y).sum().backward()
    assert_close(x.grad, 2 * x.numpy())
    assert mg.gradcheck(lambda t: t.clone() * 3, (randn(3, 2),))
    assert mg.gradgradcheck(lambda t: t.clone() * t, (randn(3, 2),))


def test_clone_does_not_share_memory(backend):
    x = mg.ones(3)
    y = x.clone()
    y.fill_(5)
    assert x.tolist() == [1, 1, 1] and y.tolist() == [5, 5, 5]


def test_zero_fill_and_copy_write_in_place_and_return_the_tensor(backend):
    x = mg.arange(6, dtype=mg.float32).reshape(2, 3)
    data = x.data
    assert x.zero_() is x and x.data is data and x.tolist() == [[0, 0, 0], [0, 0, 0]]
    assert x.fill_(2.5) is x and x.tolist() == [[2.5] * 3] * 2
    assert x.fill_(mg.tensor(7.0)).tolist() == [[7] * 3] * 2
    assert x.copy_(mg.tensor([1, 2, 3])) is x  # broadcast (3,) -> (2, 3), int64 -> float32
    assert x.tolist() == [[1, 2, 3], [1, 2, 3]] and x.dtype == mg.float32 and x.data is data


def test_copy_moves_values_across_backends():
    with mg.use_backend("strict"):
        x = mg.zeros(3)
    x.copy_(mg.tensor([1.0, 2.0, 3.0]))  # a numpy tensor into a strict one
    assert x.backend == "strict" and x.tolist() == [1, 2, 3]


def test_in_place_writes_are_refused_on_tensors_that_require_grad_outside_no_grad(backend):
    w = mg.ones(3, requires_grad=True)
    for write in (lambda: w.zero_(), lambda: w.fill_(1), lambda: w.copy_(mg.zeros(3))):
        with pytest.raises(RuntimeError, match="in-place write to a tensor that requires grad"):
            write()
    with mg.no_grad():
        w.zero_()
    assert w.tolist() == [0, 0, 0]


def test_in_place_errors_name_what_came(backend):
    x = mg.zeros(2, 3)
    with pytest.raises(RuntimeError, match=r"src of shape \(4,\) does not broadcast .*\(2, 3\)"):
        x.copy_(mg.zeros(4))
    with pytest.raises(TypeError, match="expected a Tensor as src, got list"):
        x.copy_([1, 2, 3])
    with pytest.raises(RuntimeError, match="one-element tensor, got shape"):
        x.fill_(mg.ones(2))


def test_comparison_methods_match_the_operators_and_give_bool_tensors(backend):
    a, b = mg.tensor([1.0, 2.0, 3.0]), mg.tensor([3.0, 2.0, 1.0])
    assert a.eq(b).tolist() == [False, True, False] == (a == b).tolist()
    assert a.ne(b).tolist() == [True, False, True] == (a != b).tolist()
    assert a.lt(b).tolist() == [True, False, False] == (a < b).tolist()
    assert a.le(b).tolist() == [True, True, False] == (a <= b).tolist()
    assert a.gt(b).tolist() == [False, False, True] == (a > b).tolist()
    assert a.ge(2).tolist() == [False, True, True] and a.eq(2).dtype == mg.bool_


def test_the_accuracy_idiom_argmax_eq_sum_item(backend):
    logits = mg.tensor([[0.1, 2.0, 0.3], [1.0, 0.0, -1.0], [0.0, 0.0, 5.0], [3.0, 4.0, 0.0]])
    y = mg.tensor([1, 0, 0, 1])
    assert logits.argmax(1).eq(y).sum().item() == 3
    assert logits.argmin(1).tolist() == [0, 2, 0, 2]


def test_casts_numel_and_size(backend):
    x = mg.tensor([[1.7, -2.2, 3.0]])
    assert x.long().tolist() == [[1, -2, 3]] and x.long().dtype == mg.int64
    assert x.double().dtype == mg.float64 and x.long().float().dtype == mg.float32
    assert x.numel() == 3 and x.size() == (1, 3) and x.size(1) == 3 and x.size(-1) == 3


@pytest.mark.torch
def test_tensor_methods_match_torch(torch):
    data = np.random.default_rng(0).standard_normal((4, 5))
    x, t = mg.tensor(data), torch.from_numpy(data)
    assert x.argmax(1).tolist() == t.argmax(1).tolist()
    assert x.argmin(0).tolist() == t.argmin(0).tolist()
    assert x.argmax().item() == t.argmax().item()
    assert x.gt(0).sum().item() == t.gt(0).sum().item()
    assert x.long().tolist() == t.long().tolist()  # truncation towards zero
    assert x.numel() == t.numel() and x.size(0) == t.size(0)


def test_from_numpy_keeps_the_dtype_and_shares_memory_on_numpy():
    array = np.arange(4, dtype=np.float64)
    x = mg.from_numpy(array)
    assert x.dtype == mg.float64 and x.backend == "numpy"
    array[0] = 10
    assert x.tolist() == [10, 1, 2, 3]  # one memory, as torch.from_numpy
    assert mg.from_numpy(np.array([1, 2], dtype=np.int32)).dtype == np.int32
    with pytest.raises(TypeError, match="expected a numpy.ndarray, got list"):
        mg.from_numpy([1, 2])


def test_from_numpy_copies_onto_the_strict_backend():
    array = np.ones(3, dtype=np.float32)
    with mg.use_backend("strict"):
        x = mg.from_numpy(array)
    array[0] = 5
    assert x.backend == "strict" and x.tolist() == [1, 1, 1]


# --- device names -------------------------------------------------------------------------

def test_cpu_and_cuda_are_names_for_the_numpy_and_cupy_backends():
    assert backend_name("cpu") == "numpy" and backend_name("cuda") == "cupy"
    assert backend_name("cuda:0") == "cupy" and backend_name("strict") == "strict"
    assert backend_name("cuda:1") is None and backend_name("tpu") is None


def test_tensor_to_cpu_moves_from_strict_to_numpy_and_keeps_numpy_tensors():
    x = mg.tensor([1.0, 2.0])
    assert x.to("cpu") is x and x.cpu() is x
    with mg.use_backend("strict"):
        s = mg.tensor([1.0, 2.0])
    assert s.to("cpu").backend == "numpy" and s.to("cpu").tolist() == [1, 2]
    assert x.to("cpu", mg.float64).dtype == mg.float64
    assert x.to(device="strict", dtype=mg.float64).backend == "strict"
    assert x.to(s).backend == "strict"  # .to(other): other's backend and dtype


def test_module_to_cpu_moves_every_parameter():
    with mg.use_backend("strict"):
        model = nn.Linear(2, 3)
    assert model.to("cpu") is model and model.weight.backend == "numpy"
    assert model.cpu().bias.backend == "numpy"


@pytest.mark.skipif(mg.cuda.is_available(), reason="a GPU is present")
def test_cuda_without_cupy_is_a_clear_error():
    assert mg.cuda.is_available() is False
    with pytest.raises(RuntimeError, match="needs CuPy and an NVIDIA GPU"):
        mg.ones(2).to("cuda")
    with pytest.raises(RuntimeError, match="needs CuPy and an NVIDIA GPU"):
        nn.Linear(2, 2).to("cuda")
    with pytest.raises(ValueError, match="--device cuda: backend 'cupy' needs CuPy"):
        choose_backend("cuda")


def test_unknown_devices_are_refused():
    with pytest.raises(ValueError, match="expected a device .* got 'tpu'"):
        mg.ones(2).to("tpu")
    with pytest.raises(ValueError, match="expected a device"):
        nn.Linear(2, 2).to("cuda:1")


def test_device_option_chooses_the_backend_and_refuses_disagreement():
    auto = "cupy" if mg.cuda.is_available() else "numpy"
    assert choose_backend("auto") == auto
    assert choose_backend("auto", "strict") == "strict"  # an explicit --backend decides
    assert choose_backend("cpu") == "numpy" and choose_backend("cpu", "strict") == "strict"
    with pytest.raises(ValueError, match="--device cpu and --backend cupy disagree"):
        choose_backend("cpu", "cupy")
    with pytest.raises(ValueError, match="--device cuda and --backend numpy disagree"):
        choose_backend("cuda", "numpy")


def test_training_programs_take_device_and_stop_with_one_line_on_a_conflict(tmp_path, capsys):
    from minigan.gan import DCGAN
    from minigan.train import main
    status = main(DCGAN, ["--out", str(tmp_path), "--device", "cuda", "--backend", "strict"])
    err = capsys.readouterr().err.strip()
    assert status == 2 and err.count("\n") == 0
    assert err.startswith("error: --device cuda and --backend strict disagree")


@pytest.mark.skipif(mg.cuda.is_available(), reason="a GPU is present")
def test_training_programs_with_device_cuda_and_no_gpu_stop_with_one_line(tmp_path, capsys):
    from minigan.gan import DCGAN
    from minigan.train import main
    assert main(DCGAN, ["--out", str(tmp_path), "--device", "cuda"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --device cuda: backend 'cupy' needs CuPy") and "\n" not in err


# --- loss modules ---------------------------------------------------------------------------

def test_loss_modules_call_the_functional_losses(backend):
    logits, target = randn(4, 3), mg.tensor([0, 2, 1, 2])
    probs, binary = randn(4, 3).sigmoid(), (randn(4, 3) > 0).double()
    w = mg.tensor([1.0, 2.0, 0.5], dtype=mg.float64)
    cases = [
        (nn.CrossEntropyLoss(), F.cross_entropy(logits, target)),
        (nn.CrossEntropyLoss(weight=w, label_smoothing=0.1, reduction="sum"),
         F.cross_entropy(logits, target, weight=w, reduction="sum", label_smoothing=0.1)),
        (nn.CrossEntropyLoss(ignore_index=2), F.cross_entropy(logits, target, ignore_index=2)),
    ]
    for module, expected in cases:
        assert_close(module(logits, target), expected)
    log_probs = logits.log_softmax(1)
    assert_close(nn.NLLLoss(weight=w)(log_probs, target), F.nll_loss(log_probs, target, w))
    assert_close(nn.BCELoss(reduction="none")(probs, binary),
                 F.binary_cross_entropy(probs, binary, reduction="none"))
    assert_close(nn.BCEWithLogitsLoss(pos_weight=w)(logits, binary),
                 F.binary_cross_entropy_with_logits(logits, binary, pos_weight=w))
    assert_close(nn.MSELoss(reduction="sum")(logits, probs), F.mse_loss(logits, probs, "sum"))
    assert_close(nn.L1Loss()(logits, probs), F.l1_loss(logits, probs))


def test_cross_entropy_loss_of_known_logits():
    # logits (0, ln 3): softmax (1/4, 3/4); the loss of class 1 is -ln(3/4)
    logits = mg.tensor([[0.0, math.log(3.0)], [0.0, math.log(3.0)]], dtype=mg.float64)
    loss = nn.CrossEntropyLoss()(logits, mg.tensor([1, 0]))
    assert loss.item() == pytest.approx((-math.log(0.75) - math.log(0.25)) / 2, abs=1e-12)
    assert nn.MSELoss()(mg.tensor([1.0, 3.0]), mg.tensor([0.0, 0.0])).item() == 5.0
    assert nn.L1Loss(reduction="sum")(mg.tensor([1.0, -3.0]), mg.tensor([0.0, 0.0])).item() == 4


def test_loss_weights_are_buffers_and_deprecated_arguments_are_refused():
    loss = nn.CrossEntropyLoss(weight=mg.tensor([1.0, 2.0]))
    assert list(loss.state_dict()) == ["weight"]
    assert list(nn.BCEWithLogitsLoss(pos_weight=mg.ones(2)).state_dict()) == ["pos_weight"]
    assert list(nn.MSELoss().state_dict()) == []
    with pytest.raises(ValueError, match="size_average and reduce are deprecated"):
        nn.MSELoss(size_average=True)
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        nn.L1Loss(reduction="avg")
    with pytest.raises(TypeError, match="expected weight to be a Tensor or None, got list"):
        nn.NLLLoss(weight=[1.0, 2.0])


@pytest.mark.torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_loss_modules_match_torch(torch, reduction):
    rng = np.random.default_rng(3)
    logits = rng.standard_normal((5, 4))
    target = rng.integers(0, 4, 5)
    target[1] = 3
    probs = 1 / (1 + np.exp(-rng.standard_normal((5, 4))))
    binary = (rng.random((5, 4)) > 0.5).astype(np.float64)
    weight = rng.random(4) + 0.5
    tnn = torch.nn
    T = torch.from_numpy
    M = lambda a: mg.tensor(a, dtype=mg.float64 if a.dtype.kind == "f" else None)  # noqa: E731
    pairs = [
        (nn.CrossEntropyLoss(M(weight), ignore_index=3, reduction=reduction,
                             label_smoothing=0.2),
         tnn.CrossEntropyLoss(T(weight), ignore_index=3, reduction=reduction,
                              label_smoothing=0.2), logits, target),
        (nn.NLLLoss(M(weight), reduction=reduction),
         tnn.NLLLoss(T(weight), reduction=reduction), np.log(probs), target),
        (nn.BCELoss(M(weight), reduction=reduction),
         tnn.BCELoss(T(weight), reduction=reduction), probs, binary),
        (nn.BCEWithLogitsLoss(reduction=reduction, pos_weight=M(weight)),
         tnn.BCEWithLogitsLoss(reduction=reduction, pos_weight=T(weight)), logits, binary),
        (nn.MSELoss(reduction=reduction), tnn.MSELoss(reduction=reduction), logits, probs),
        (nn.L1Loss(reduction=reduction), tnn.L1Loss(reduction=reduction), logits, probs),
    ]
    for mine, theirs, x, y in pairs:
        mx, tx = mg.tensor(x, requires_grad=True, dtype=mg.float64), T(x).requires_grad_(True)
        ours, reference = mine(mx, M(y)), theirs(tx, T(y))
        assert_close(ours, reference)
        ours.sum().backward()
        reference.sum().backward()
        assert_close(mx.grad, tx.grad)


# --- Softmax, LogSoftmax, Dropout2d ------------------------------------------------------------

def test_softmax_modules_normalise_along_dim(backend):
    x = randn(2, 3, 4)
    assert_close(nn.Softmax(dim=1)(x).sum(1), np.ones((2, 4)))
    assert_close(nn.LogSoftmax(dim=-1)(x), F.log_softmax(x, -1))
    assert repr(nn.Softmax(dim=1)) == "Softmax(dim=1)"


def test_softmax_without_dim_takes_pytorchs_implicit_dim_and_warns():
    x = randn(2, 3)
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        y = nn.Softmax()(x)
    assert_close(y, F.softmax(x, 1))  # (N, C): dim 1
    with pytest.warns(UserWarning, match="log_softmax"):
        assert_close(nn.LogSoftmax()(randn(3, seed=1)), F.log_softmax(randn(3, seed=1), 0))


@pytest.mark.torch
def test_softmax_modules_match_torch(torch):
    x = randn(3, 5)
    assert_close(nn.Softmax(1)(x), torch.nn.Softmax(1)(to_torch(x, torch)))
    assert_close(nn.LogSoftmax(0)(x), torch.nn.LogSoftmax(0)(to_torch(x, torch)))


def test_dropout2d_drops_whole_channels_and_is_the_identity_in_eval(backend):
    layer = nn.Dropout2d(p=0.5)
    x = mg.ones(8, 16, 3, 3)
    y = layer(x).numpy()
    per_channel = y.reshape(8, 16, 9)
    assert set(np.unique(per_channel)) <= {0.0, 2.0}
    assert (per_channel.min(2) == per_channel.max(2)).all()  # a channel is all 0 or all 2
    assert 0 < (per_channel[:, :, 0] == 0).mean() < 1
    assert layer.eval()(x) is x
    assert repr(nn.Dropout2d(0.3)) == "Dropout2d(p=0.3, inplace=False)"


# --- AdamW ---------------------------------------------------------------------------------

def test_adamw_defaults_are_pytorchs():
    opt = optim.AdamW([mg.zeros(2, requires_grad=True)])
    group = opt.param_groups[0]
    assert (group["lr"], group["betas"], group["eps"], group["weight_decay"]) == \
        (1e-3, (0.9, 0.999), 1e-8, 1e-2)


def test_adamw_decays_the_weight_itself_not_the_gradient():
    # with a zero gradient Adam's update is 0, so only the decoupled decay moves p:
    # p = 2 * (1 - lr * wd) per step; Adam's L2 decay would instead move p by ~lr
    p = mg.tensor([2.0], dtype=mg.float64, requires_grad=True)
    opt = optim.AdamW([p], lr=0.1, weight_decay=0.5)
    for _ in range(3):
        p.grad = mg.zeros(1, dtype=mg.float64)
        opt.step()
    assert p.item() == pytest.approx(2.0 * 0.95 ** 3, abs=1e-15)


def test_adamw_first_step_of_known_values():
    # step 1: p = p (1 - lr wd) - lr * g / (|g| + eps) = 1 * 0.999 - 0.01 * 1
    p = mg.tensor([1.0], dtype=mg.float64, requires_grad=True)
    opt = optim.AdamW([p], lr=0.01, weight_decay=0.1, eps=0.0)
    p.grad = mg.tensor([3.0], dtype=mg.float64)
    opt.step()
    assert p.item() == pytest.approx(0.999 - 0.01, abs=1e-15)


@pytest.mark.torch
@pytest.mark.parametrize("options", [{}, {"weight_decay": 0.1, "amsgrad": True},
                                     {"lr": 0.05, "betas": (0.5, 0.99), "maximize": True}])
def test_adamw_matches_torch(torch, options, backend):
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    twin = torch_copy_of(model, torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(),
                                                    torch.nn.Linear(4, 2)), torch)
    opt, t_opt = optim.AdamW(model.parameters(), **options), \
        torch.optim.AdamW(twin.parameters(), **options)
    x = np.random.default_rng(0).standard_normal((5, 3)).astype(np.float32)
    for _ in range(5):
        opt.zero_grad()
        t_opt.zero_grad()
        (model(mg.tensor(x)) ** 2).mean().backward()
        (twin(torch.from_numpy(x)) ** 2).mean().backward()
        opt.step()
        t_opt.step()
    for (name, mine), (_, theirs) in zip(model.state_dict().items(), twin.state_dict().items()):
        assert_close(mine, theirs, atol=1e-6, rtol=1e-5)
    assert opt.state_dict()["state"][0]["step"] == 5


# --- nn.utils -------------------------------------------------------------------------------

def with_grads(*grads):
    params = []
    for g in grads:
        p = mg.zeros(len(g), dtype=mg.float64, requires_grad=True)
        p.grad = mg.tensor(g, dtype=mg.float64)
        params.append(p)
    return params


def test_clip_grad_norm_returns_the_total_norm_and_scales_to_max_norm(backend):
    params = with_grads([3.0, 0.0], [0.0, 4.0])  # total 2-norm 5
    total = nn.utils.clip_grad_norm_(params, max_norm=1.0)
    assert total.item() == pytest.approx(5.0)
    scale = 1.0 / (5.0 + 1e-6)
    assert_close(params[0].grad, [3 * scale, 0.0])
    assert_close(params[1].grad, [0.0, 4 * scale])


def test_clip_grad_norm_leaves_small_gradients_alone_and_skips_missing_ones(backend):
    params = with_grads([0.3, 0.4]) + [mg.zeros(2, requires_grad=True)]
    assert nn.utils.clip_grad_norm_(params, 10.0).item() == pytest.approx(0.5)
    assert_close(params[0].grad, [0.3, 0.4]) and params[1].grad is None
    assert nn.utils.clip_grad_norm_([mg.zeros(2, requires_grad=True)], 1.0).item() == 0.0


def test_clip_grad_norm_of_other_orders(backend):
    assert nn.utils.clip_grad_norm_(with_grads([1.0, -7.0], [2.0]), 100,
                                    norm_type="inf").item() == 7.0
    assert nn.utils.clip_grad_norm_(with_grads([1.0, -7.0], [2.0]), 100,
                                    norm_type=math.inf).item() == 7.0
    assert nn.utils.clip_grad_norm_(with_grads([1.0, -7.0], [2.0]), 100,
                                    norm_type=1).item() == pytest.approx(10.0)
    assert nn.utils.clip_grad_norm_(with_grads([1.0, -7.0], [2.0]), 100,
                                    norm_type=3).item() == pytest.approx(352 ** (1 / 3))
    with pytest.raises(ValueError, match="norm_type must be a positive number or inf, got -1"):
        nn.utils.clip_grad_norm_(with_grads([1.0]), 1.0, norm_type=-1)


def test_clip_grad_norm_can_refuse_a_nonfinite_norm(backend):
    with pytest.raises(RuntimeError, match="total norm of order 2.0 of the gradients is nan"):
        nn.utils.clip_grad_norm_(with_grads([np.nan, 1.0]), 1.0, error_if_nonfinite=True)


def test_clip_grad_value_clamps_each_element(backend):
    params = with_grads([-3.0, 0.5, 2.0])
    assert nn.utils.clip_grad_value_(params, 1.0) is None
    assert_close(params[0].grad, [-1.0, 0.5, 1.0])


@pytest.mark.torch
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, math.inf])
def test_clip_grad_norm_matches_torch(torch, norm_type):
    rng = np.random.default_rng(1)
    grads = [rng.standard_normal(shape) for shape in [(3, 4), (4,), (2, 2, 2)]]
    params = with_grads(*[g.reshape(-1) for g in grads])
    t_params = [torch.zeros(g.size, dtype=torch.float64, requires_grad=True) for g in grads]
    for t, g in zip(t_params, grads):
        t.grad = torch.from_numpy(g.reshape(-1).copy())
    total = nn.utils.clip_grad_norm_(params, 0.7, norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(t_params, 0.7, norm_type)
    assert_close(total, t_total)
    for p, t in zip(params, t_params):
        assert_close(p.grad, t.grad)
    nn.utils.clip_grad_value_(params, 0.1)
    torch.nn.utils.clip_grad_value_(t_params, 0.1)
    assert_close(params[2].grad, t_params[2].grad)


def test_parameters_to_vector_and_back(backend):
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    vec = nn.utils.parameters_to_vector(model.parameters())
    assert vec.shape == (6 + 3 + 3 + 1,)
    assert_close(vec[:6], model[0].weight.numpy().reshape(-1))
    vec.sum().backward()  # part of the graph: d(sum)/d(every weight) = 1
    assert_close(model[1].weight.grad, np.ones((1, 3)))
    nn.utils.vector_to_parameters(mg.arange(13, dtype=mg.float32), model.parameters())
    assert model[0].weight.tolist() == [[0, 1], [2, 3], [4, 5]]
    assert model[1].bias.tolist() == [12]
    with pytest.raises(ValueError, match="the parameters have 13 elements, the vector 12"):
        nn.utils.vector_to_parameters(mg.zeros(12), model.parameters())
    with pytest.raises(TypeError, match="expected a Tensor, but got: ndarray"):
        nn.utils.vector_to_parameters(np.zeros(13), model.parameters())


@pytest.mark.torch
def test_parameters_to_vector_matches_torch(torch):
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    twin = torch_copy_of(model, torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3),
                                                    torch.nn.BatchNorm2d(2)), torch)
    assert_close(nn.utils.parameters_to_vector(model.parameters()),
                 torch.nn.utils.parameters_to_vector(twin.parameters()))


def test_no_warning_from_the_api_on_the_usual_path(backend):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = nn.Sequential(nn.Linear(4, 3), nn.LogSoftmax(dim=1))
        loss = nn.NLLLoss()(model(mg.randn(2, 4)), mg.tensor([0, 2]))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
