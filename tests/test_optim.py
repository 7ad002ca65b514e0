"""The optimizers follow torch.optim step for step.

Every update rule is checked against PyTorch on a 30-step trajectory of a small
nonconvex function, over a grid of its options, on the numpy and strict backends;
a correct implementation agrees to about 1e-14 in float64 (we ask for 1e-7).
Without torch, the first two steps of SGD with momentum and of Adam are checked
against numbers worked out by hand.
"""
import re

import numpy as np
import pytest

import minigan as mg
from minigan import optim

from .helpers import assert_close

TARGET = np.array([[0.5], [-0.3]])


def objective(W, v, u, target):
    """sum((tanh(W v + u) - target)^2) + 0.05 sum(v^4): nonconvex, W (2,3), v (3,1), u (2,1).
    Written with operators that minigan and torch tensors share."""
    return ((W @ v + u).tanh() - target).pow(2).sum() + 0.05 * (v ** 4).sum()


def starting_point(seed=0):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((2, 3)), rng.standard_normal((3, 1)), rng.standard_normal((2, 1))]


def mg_params(arrays, dtype=mg.float64):
    return [mg.tensor(a, dtype=dtype, requires_grad=True) for a in arrays]


def mg_step(optimizer, params, sign=1.0):
    optimizer.zero_grad()
    loss = sign * objective(*params, mg.tensor(TARGET, dtype=params[0].dtype))
    loss.backward()
    optimizer.step()


def torch_step(torch, optimizer, params, sign=1.0):
    optimizer.zero_grad()
    loss = sign * objective(*params, torch.tensor(TARGET, dtype=params[0].dtype))
    loss.backward()
    optimizer.step()


def grid(**options):
    """Every combination of the options: grid(a=[1, 2], b=[3]) -> [{a: 1, b: 3}, {a: 2, b: 3}]."""
    combos = [{}]
    for key, values in options.items():
        combos = [dict(c, **{key: v}) for c in combos for v in values]
    return combos


CASES = (
    [("SGD", dict(lr=0.1, momentum=0.0, dampening=d, weight_decay=w, maximize=m))
     for d, w, m in [(0, 0, False), (0.3, 0, False), (0, 0.1, False), (0, 0.1, True)]]
    + [("SGD", dict(lr=0.1, momentum=0.9, **o))
       for o in grid(dampening=[0.0], nesterov=[False, True], weight_decay=[0.0, 0.1],
                     maximize=[False, True])]
    + [("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, weight_decay=0.1))]
    + [("Adam", dict(lr=0.05, **o))
       for o in grid(weight_decay=[0.0, 0.1], amsgrad=[False, True], maximize=[False, True])]
    + [("Adam", dict(lr=0.05, betas=(0.5, 0.999), amsgrad=True))]  # lerp's other branch
    + [("RMSprop", dict(lr=0.01, **o))
       for o in grid(momentum=[0.0, 0.5], centered=[False, True], weight_decay=[0.0, 0.1])]
    + [("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, maximize=True))]
    + [("Adagrad", dict(lr=0.1, **o))
       for o in grid(lr_decay=[0.0, 0.1], initial_accumulator_value=[0.0, 0.5])]
    + [("Adagrad", dict(lr=0.1, lr_decay=0.1, weight_decay=0.1, maximize=True))]
    + [("Adadelta", dict(**o)) for o in grid(rho=[0.9, 0.5], weight_decay=[0.0, 0.1])]
    + [("Adadelta", dict(weight_decay=0.1, maximize=True))]
)


def case_id(case):
    name, options = case
    return name + "(" + ",".join(f"{k}={v}" for k, v in options.items()) + ")"


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_trajectory_of_30_steps_matches_torch_optim(case, backend, torch):
    name, options = case
    # maximize=True climbs -objective, so that the trajectory stays bounded
    sign = -1.0 if options.get("maximize") else 1.0
    start = starting_point()
    ours = mg_params(start)
    theirs = [torch.tensor(a, requires_grad=True) for a in start]
    opt = getattr(optim, name)(ours, **options)
    ref = getattr(torch.optim, name)(theirs, **options)
    path, torch_path = [], []  # all parameters, flattened, after each step
    for _ in range(30):
        mg_step(opt, ours, sign)
        torch_step(torch, ref, theirs, sign)
        path.append(np.concatenate([p.numpy().ravel() for p in ours]))
        torch_path.append(np.concatenate([p.detach().numpy().ravel() for p in theirs]))
    np.testing.assert_allclose(np.array(path), np.array(torch_path), atol=1e-9, rtol=1e-7)
    assert not np.allclose(path[-1], np.concatenate([a.ravel() for a in start]))  # it moved


@pytest.mark.parametrize("name, options", [
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("Adam", dict(lr=0.05)),
    ("RMSprop", dict(lr=0.01, momentum=0.5)),
    ("Adagrad", dict(lr=0.1)),
    ("Adadelta", dict(lr=1.0)),
])
def test_param_groups_with_their_own_lr_match_torch(name, options, backend, torch):
    start = starting_point(1)
    ours = mg_params(start)
    theirs = [torch.tensor(a, requires_grad=True) for a in start]

    def groups(p):
        return [{"params": p[:2]}, {"params": p[2:], "lr": options["lr"] / 10}]

    opt = getattr(optim, name)(groups(ours), **options)
    ref = getattr(torch.optim, name)(groups(theirs), **options)
    assert opt.param_groups[1]["lr"] == options["lr"] / 10
    assert opt.param_groups[0]["lr"] == options["lr"]
    for _ in range(10):
        mg_step(opt, ours)
        torch_step(torch, ref, theirs)
    for a, b in zip(ours, theirs):
        assert_close(a, b, atol=1e-9, rtol=1e-7)


def test_lerp_at_weight_one_half_rounds_as_torch_lerp(torch):
    # Adam with beta1 = 0.5 (the DCGAN's) updates m with lerp weight 0.5, where
    # torch switches to end - (end - start) * (1 - weight); the plain formula
    # start + weight * (end - start) would differ in the last bit for many entries.
    from minigan.optim.optimizer import lerp_
    rng = np.random.default_rng(0)
    start, end = rng.standard_normal((2, 1000)).astype(np.float32)
    expected = torch.from_numpy(start.copy()).lerp_(torch.from_numpy(end), 0.5).numpy()
    with mg.use_backend("strict"):
        ours = mg.tensor(start.copy()).data
        lerp_(ours, mg.tensor(end).data, 0.5, ours.copy())
    assert np.array_equal(mg.to_numpy(ours), expected)
    assert not np.array_equal(start + np.float32(0.5) * (end - start), expected)


# --- without torch: numbers worked out by hand ----------------------------------------

def quadratic_steps(optimizer_class, steps, **options):
    """Minimize f(x) = (x - 3)^2 from x = 1 (f'(x) = 2 (x - 3)); x after each step."""
    x = mg.tensor([1.0], dtype=mg.float64, requires_grad=True)
    opt = optimizer_class([x], **options)
    trajectory = []
    for _ in range(steps):
        opt.zero_grad()
        ((x - 3.0) ** 2).sum().backward()
        opt.step()
        trajectory.append(x.numpy()[0])
    return trajectory


def test_sgd_with_momentum_first_two_steps_by_hand(backend):
    # step 1: g = 2(1 - 3) = -4;  b = g = -4;             x = 1 - 0.1 * -4 = 1.4
    # step 2: g = 2(1.4 - 3) = -3.2;  b = 0.9 * -4 - 3.2 = -6.8;  x = 1.4 + 0.68 = 2.08
    x1, x2 = quadratic_steps(optim.SGD, 2, lr=0.1, momentum=0.9)
    assert x1 == pytest.approx(1.4, abs=1e-12)
    assert x2 == pytest.approx(2.08, abs=1e-12)


def test_adam_first_two_steps_by_hand(backend):
    # step 1: g = -4;  m = 0.1 * -4 = -0.4;  v = 0.001 * 16 = 0.016
    #         m / (1 - 0.9) = -4,  v / (1 - 0.999) = 16
    #         x = 1 + 0.1 * 4 / (4 + 1e-8) = 1.09999999975
    # step 2: g = 2 (1.09999999975 - 3) = -3.8000000005
    #         m = 0.9 * -0.4 + 0.1 * g = -0.74000000005
    #         v = 0.999 * 0.016 + 0.001 * g^2 = 0.0304240000038
    #         x = x - 0.1 / 0.19 * m / (sqrt(v) / sqrt(0.001999) + 1e-8) = 1.19983351388430
    x1, x2 = quadratic_steps(optim.Adam, 2, lr=0.1)
    assert x1 == pytest.approx(1.09999999975, abs=1e-12)
    assert x2 == pytest.approx(1.19983351388430, abs=1e-12)


def test_weight_decay_and_maximize_by_hand(backend):
    # g = -4, maximize -> 4, + 0.5 * x = 4.5;  x = 1 - 0.1 * 4.5 = 0.55
    (x1,) = quadratic_steps(optim.SGD, 1, lr=0.1, weight_decay=0.5, maximize=True)
    assert x1 == pytest.approx(0.55, abs=1e-12)


# --- dtype, backends, skipped parameters ------------------------------------------------

ALL_STATE = [  # options under which each optimizer keeps every buffer it can
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.01)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
    ("Adadelta", dict(weight_decay=0.01)),
]
ALL_STATE_IDS = [name for name, _ in ALL_STATE]


@pytest.mark.parametrize("name, options", ALL_STATE, ids=ALL_STATE_IDS)
def test_float32_parameters_and_state_stay_float32_on_their_backend(name, options, backend):
    params = mg_params(starting_point(), dtype=mg.float32)
    opt = getattr(optim, name)(params, **options)
    for _ in range(3):
        mg_step(opt, params)
    for p in params:
        assert p.dtype == mg.float32
        assert opt.state[p], "every parameter had a gradient, so every one has state"
        for key, value in opt.state[p].items():
            if key == "step":
                assert value == 3 and isinstance(value, int)
            else:
                assert value.dtype == mg.float32, key
                assert type(value) is type(p.data), key  # on the parameter's backend


@pytest.mark.parametrize("name, options", ALL_STATE, ids=ALL_STATE_IDS)
def test_a_float32_step_makes_no_float64_array_and_reads_nothing_back(name, options,
                                                                       monkeypatch):
    # On the strict backend every array an op makes passes through _strict._wrap, and
    # every way to the host through float()/int()/bool() or to_numpy: spy on them.
    from minigan import _strict
    from minigan.backend import Backend
    with mg.use_backend("strict"):
        w = mg.tensor(np.linspace(-1, 1, 6).reshape(2, 3), dtype=mg.float32, requires_grad=True)
        b = mg.tensor([0.5], dtype=mg.float32, requires_grad=True)  # one element: float() works
        opt = getattr(optim, name)([w, b], **options)
        for _ in range(2):
            opt.zero_grad()
            ((w * w).sum() + (b * w).sum()).backward()
            made = []
            wrap = _strict._wrap

            def spy(value):
                made.append(getattr(value, "dtype", None))
                return wrap(value)

            def refuse(*args):
                raise AssertionError("the step read a number back to the host")

            with monkeypatch.context() as patch:
                patch.setattr(_strict, "_wrap", spy)
                for method in ("__float__", "__int__", "__bool__", "__index__"):
                    patch.setattr(_strict.StrictArray, method, refuse)
                patch.setattr(Backend, "to_numpy", refuse)
                opt.step()
            assert np.dtype("float64") not in made
            assert made, "the spy saw the arrays the step made"
    assert w.dtype == b.dtype == mg.float32


@pytest.mark.parametrize("name, options", ALL_STATE, ids=ALL_STATE_IDS)
def test_float32_steps_follow_float64_steps_closely(name, options, backend):
    low = mg_params(starting_point(), dtype=mg.float32)
    high = mg_params(starting_point())
    opt_low = getattr(optim, name)(low, **options)
    opt_high = getattr(optim, name)(high, **options)
    for _ in range(5):
        mg_step(opt_low, low)
        mg_step(opt_high, high)
    for a, b in zip(low, high):
        assert_close(a.numpy().astype(np.float64), b, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("name, options", ALL_STATE, ids=ALL_STATE_IDS)
def test_updating_in_cache_sized_pieces_gives_the_same_numbers(name, options, backend,
                                                                monkeypatch):
    # in_chunks cuts arrays into CHUNK_BYTES pieces; with 16-byte pieces (2 float64s)
    # the 6-element W and 3-element v are cut into 3 and 2 pieces, and must not notice
    whole = mg_params(starting_point())
    pieces = mg_params(starting_point())
    opt_whole = getattr(optim, name)(whole, **options)
    opt_pieces = getattr(optim, name)(pieces, **options)
    for _ in range(3):
        mg_step(opt_whole, whole)
        with monkeypatch.context() as patch:
            patch.setattr(optim.optimizer, "CHUNK_BYTES", 16)
            mg_step(opt_pieces, pieces)
    for a, b in zip(whole, pieces):
        assert np.array_equal(a.numpy(), b.numpy())
    for a, b in zip(whole, pieces):
        for key, value in opt_whole.state[a].items():
            assert np.array_equal(mg.to_numpy(value), mg.to_numpy(opt_pieces.state[b][key]))


def test_in_chunks_gives_flat_views_that_write_through():
    from minigan.optim.optimizer import in_chunks
    a = np.zeros((3, 5))
    pieces = list(in_chunks(a, None, a.T.copy()))
    assert len(pieces) == 1  # 120 bytes: one piece, the arrays themselves
    assert pieces[0][0] is a and pieces[0][1] is None
    big = np.zeros((300, 100))  # 240,000 bytes: two pieces of 131,072 bytes or less
    pieces = list(in_chunks(big, None))
    assert [p[0].shape for p in pieces] == [(16384,), (13616,)]
    for piece, _ in pieces:
        piece += 1.0
    assert np.all(big == 1.0)
    assert len(list(in_chunks(big.T, None))) == 1  # not C-contiguous: whole


def test_parameters_without_grad_are_skipped(backend):
    W, v, u = mg_params(starting_point())
    u_before = u.numpy().copy()  # .numpy() may share the array on numpy
    opt = optim.Adam([W, v, u], lr=0.1)
    opt.zero_grad()
    (W @ v).sum().backward()  # u takes no part: u.grad stays None
    opt.step()
    assert u.grad is None
    assert np.array_equal(u.numpy(), u_before)
    assert u not in opt.state and W in opt.state and v in opt.state


def test_step_does_not_write_into_the_gradients(backend):
    params = mg_params(starting_point())
    opt = optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=0.1, maximize=True)
    for _ in range(2):
        mg_step(opt, params)
        grads = [p.grad.numpy().copy() for p in params]
        opt.step()  # a second step with the same gradients
        for p, g in zip(params, grads):
            assert np.array_equal(p.grad.numpy(), g)


def test_step_records_no_graph(backend):
    params = mg_params(starting_point())
    opt = optim.Adam(params, lr=0.1)
    mg_step(opt, params)
    assert all(p.is_leaf and p.grad_fn is None for p in params)


def test_step_with_a_closure_returns_its_loss_even_under_no_grad(backend):
    params = mg_params(starting_point())
    opt = optim.SGD(params, lr=0.1)

    def closure():
        opt.zero_grad()
        loss = objective(*params, mg.tensor(TARGET, dtype=mg.float64))
        loss.backward()
        return loss

    before = params[0].numpy().copy()
    with mg.no_grad():
        loss = opt.step(closure)
    assert isinstance(loss, mg.Tensor)
    assert not np.array_equal(params[0].numpy(), before)


# --- zero_grad ----------------------------------------------------------------------------

def test_zero_grad_sets_gradients_to_none_by_default(backend):
    params = mg_params(starting_point())
    opt = optim.SGD(params, lr=0.1)
    mg_step(opt, params)
    assert all(p.grad is not None for p in params)
    opt.zero_grad()
    assert all(p.grad is None for p in params)


def test_zero_grad_without_none_gives_zeros_even_for_a_read_only_gradient(backend):
    w = mg.tensor(np.ones((2, 3)), dtype=mg.float32, requires_grad=True)
    w.sum().backward()  # the gradient is a broadcast view of one number: read-only
    opt = optim.SGD([w], lr=0.1)
    opt.zero_grad(set_to_none=False)
    assert w.grad.shape == (2, 3) and w.grad.dtype == mg.float32
    assert np.array_equal(w.grad.numpy(), np.zeros((2, 3)))
    w.sum().backward()  # accumulates onto the zeros
    assert np.array_equal(w.grad.numpy(), np.ones((2, 3)))


# --- state_dict / load_state_dict ----------------------------------------------------------

def as_if_saved(state_dict):
    """What a .npz round trip may give back: NumPy arrays on the host, string keys,
    NumPy scalars, tuples as arrays."""
    def host(value):
        if isinstance(value, dict):
            return {str(k): host(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return np.array(value)
        if isinstance(value, (bool, int, float)):
            return np.array(value)[()]
        return mg.to_numpy(value).copy()
    saved = host(state_dict)
    saved["param_groups"] = [host(g) for g in state_dict["param_groups"]]
    return saved


@pytest.mark.parametrize("through", ["memory", "host arrays"])
@pytest.mark.parametrize("name, options", ALL_STATE, ids=ALL_STATE_IDS)
def test_optimizer_recreated_from_its_state_dict_continues_identically(
        name, options, through, backend):
    params = mg_params(starting_point())
    opt = getattr(optim, name)(params, **options)
    for _ in range(5):
        mg_step(opt, params)

    state = opt.state_dict()
    if through == "host arrays":
        state = as_if_saved(state)
    copies = mg_params([p.numpy() for p in params])
    resumed = getattr(optim, name)(copies, lr=0.123)  # the loaded lr replaces 0.123
    resumed.load_state_dict(state)
    assert resumed.param_groups[0]["lr"] == options.get("lr", 1.0)

    for _ in range(5):  # the original goes first: the resumed one must share no buffer
        mg_step(opt, params)
    for _ in range(5):
        mg_step(resumed, copies)
    for a, b in zip(params, copies):
        assert np.array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("name, options", ALL_STATE, ids=ALL_STATE_IDS)
def test_state_dict_survives_mg_save_and_load(name, options, tmp_path):
    if not hasattr(mg, "save"):
        pytest.skip("mg.save is not available yet")
    params = mg_params(starting_point())
    opt = getattr(optim, name)(params, **options)
    for _ in range(3):
        mg_step(opt, params)
    mg.save(opt.state_dict(), tmp_path / "optimizer.npz")
    copies = mg_params([p.numpy() for p in params])
    resumed = getattr(optim, name)(copies)
    resumed.load_state_dict(mg.load(tmp_path / "optimizer.npz"))
    for _ in range(3):
        mg_step(opt, params)
        mg_step(resumed, copies)
    for a, b in zip(params, copies):
        assert np.array_equal(a.numpy(), b.numpy())


def test_load_state_dict_moves_buffers_to_the_parameters_backend_and_dtype():
    with mg.use_backend("numpy"):
        params = mg_params(starting_point())
        opt = optim.Adam(params, lr=0.01)
        mg_step(opt, params)
        state = opt.state_dict()
    with mg.use_backend("strict"):
        copies = mg_params(starting_point(), dtype=mg.float32)
        resumed = optim.Adam(copies)
        resumed.load_state_dict(state)
        for p in copies:
            for key in ("exp_avg", "exp_avg_sq"):
                buffer = resumed.state[p][key]
                assert type(buffer) is type(p.data) and buffer.dtype == mg.float32
            assert resumed.state[p]["step"] == 1
        mg_step(resumed, copies)
        assert all(p.dtype == mg.float32 for p in copies)


@pytest.mark.parametrize("name, options", ALL_STATE, ids=ALL_STATE_IDS)
def test_state_dict_has_torch_layout_and_values(name, options, torch):
    start = starting_point()
    ours = mg_params(start)
    theirs = [torch.tensor(a, requires_grad=True) for a in start]
    groups = [{"params": ours[:1]}, {"params": ours[1:], "lr": 0.01}]
    opt = getattr(optim, name)(groups, **options)
    ref = getattr(torch.optim, name)(
        [{"params": theirs[:1]}, {"params": theirs[1:], "lr": 0.01}], **options)
    for _ in range(2):
        mg_step(opt, ours)
        torch_step(torch, ref, theirs)
    mine, torchs = opt.state_dict(), ref.state_dict()

    assert [g["params"] for g in mine["param_groups"]] == [[0], [1, 2]]
    assert [g["params"] for g in torchs["param_groups"]] == [[0], [1, 2]]
    for g, t in zip(mine["param_groups"], torchs["param_groups"]):
        assert set(g) <= set(t)
        assert all(g[k] == t[k] for k in g if k != "params")
    assert sorted(mine["state"]) == sorted(torchs["state"]) == [0, 1, 2]
    for i in range(3):
        assert set(mine["state"][i]) == set(torchs["state"][i])
        for key, value in mine["state"][i].items():
            if key == "step":
                assert value == torchs["state"][i]["step"].item() == 2
            else:
                assert_close(mg.to_numpy(value), torchs["state"][i][key], atol=1e-12)


def test_load_state_dict_refuses_a_different_layout(backend):
    params = mg_params(starting_point())
    opt = optim.SGD(params, lr=0.1, momentum=0.9)
    mg_step(opt, params)
    state = opt.state_dict()
    with pytest.raises(ValueError, match="1 parameter groups, this optimizer 2"):
        optim.SGD([{"params": params[:1]}, {"params": params[1:]}]).load_state_dict(state)
    with pytest.raises(ValueError, match="3 parameters in the state dict, 2 in this optimizer"):
        optim.SGD(params[:2]).load_state_dict(state)
    wrong_shape = "'momentum_buffer' of parameter 0 has shape (2, 3), the parameter (3, 1)"
    with pytest.raises(ValueError, match=re.escape(wrong_shape)):
        optim.SGD(params[1:] + params[:1]).load_state_dict(state)


# --- groups and errors -----------------------------------------------------------------------

def test_add_param_group_takes_missing_options_from_the_defaults(backend):
    W, v, u = mg_params(starting_point())
    opt = optim.SGD([W, v], lr=0.1, momentum=0.9)
    opt.add_param_group({"params": u, "lr": 0.5})
    assert opt.param_groups[1]["momentum"] == 0.9 and opt.param_groups[1]["lr"] == 0.5
    u_before = u.numpy().copy()
    u.grad = mg.ones_like(u, dtype=mg.float64)
    opt.step()  # first momentum step: b = g, so u moves by lr * g
    assert_close(u, u_before - 0.5)


def test_numpy_scalar_hyperparameters_become_python_numbers():
    # an array times np.float64(0.1) is float64, an array times 0.1 keeps its dtype
    w = mg.zeros(2, requires_grad=True)
    opt = optim.Adam([w], lr=np.float64(0.1), betas=np.array([0.5, 0.999]), eps=np.float32(1e-8))
    group = opt.param_groups[0]
    assert type(group["lr"]) is float and type(group["eps"]) is float
    assert group["betas"] == (0.5, 0.999) and all(type(b) is float for b in group["betas"])


def test_a_group_with_zero_lr_does_not_move(backend):
    W, v, u = mg_params(starting_point())
    opt = optim.Adam([{"params": [W, v]}, {"params": [u], "lr": 0.0}], lr=0.1)
    u_before, W_before = u.numpy().copy(), W.numpy().copy()
    mg_step(opt, [W, v, u])
    assert np.array_equal(u.numpy(), u_before)
    assert not np.array_equal(W.numpy(), W_before)


INVALID = [
    (optim.SGD, dict(lr=-0.1), "invalid lr -0.1"),
    (optim.SGD, dict(momentum=-0.5), "invalid momentum -0.5"),
    (optim.SGD, dict(weight_decay=-1e-4), "invalid weight_decay -0.0001"),
    (optim.SGD, dict(nesterov=True), "Nesterov momentum requires a momentum > 0"),
    (optim.SGD, dict(momentum=0.9, dampening=0.1, nesterov=True), "dampening=0.1"),
    (optim.Adam, dict(lr=-1.0), "invalid lr -1.0"),
    (optim.Adam, dict(betas=(1.0, 0.999)), "invalid betas[0] 1.0: expected 0 <= betas[0] < 1"),
    (optim.Adam, dict(betas=(0.9, -0.1)), "invalid betas[1] -0.1"),
    (optim.Adam, dict(betas=(0.9,)), "invalid betas (0.9,): expected a pair"),
    (optim.Adam, dict(eps=-1e-8), "invalid eps -1e-08"),
    (optim.RMSprop, dict(alpha=-0.5), "invalid alpha -0.5"),
    (optim.RMSprop, dict(momentum=-0.1), "invalid momentum -0.1"),
    (optim.Adagrad, dict(lr_decay=-0.1), "invalid lr_decay -0.1"),
    (optim.Adagrad, dict(initial_accumulator_value=-1), "invalid initial_accumulator_value -1"),
    (optim.Adadelta, dict(rho=1.5), "invalid rho 1.5: expected 0 <= rho <= 1"),
    (optim.Adadelta, dict(eps=-1.0), "invalid eps -1.0"),
]


@pytest.mark.parametrize("cls, options, message", INVALID,
                         ids=[f"{c.__name__}-{m}" for c, _, m in INVALID])
def test_invalid_hyperparameters_are_refused_naming_the_value(cls, options, message):
    w = mg.zeros(2, requires_grad=True)
    expected = re.escape(f"{cls.__name__}: ") + ".*" + re.escape(message)
    with pytest.raises(ValueError, match=expected):
        cls([w], **options)


def test_invalid_hyperparameter_in_a_group_is_refused():
    w, b = mg.zeros(2, requires_grad=True), mg.zeros(1, requires_grad=True)
    with pytest.raises(ValueError, match=re.escape("Adam: invalid lr -0.5")):
        optim.Adam([{"params": [w]}, {"params": [b], "lr": -0.5}])
    opt = optim.SGD([w], lr=0.1)
    with pytest.raises(ValueError, match="invalid momentum -1"):
        opt.add_param_group({"params": [b], "momentum": -1})


def test_invalid_parameter_lists_are_refused():
    w = mg.zeros(2, requires_grad=True)
    with pytest.raises(TypeError, match="got a Tensor of shape"):
        optim.SGD(w)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([])
    with pytest.raises(TypeError, match="parameter 1 is a ndarray"):
        optim.SGD([w, np.zeros(2)])
    with pytest.raises(ValueError, match="non-leaf"):
        optim.SGD([w * 2])
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.SGD([{"params": [w]}, {"params": [w]}])
    with pytest.raises(ValueError, match="the same tensor twice"):
        optim.SGD([w, w])
    with pytest.raises(TypeError, match="not a set"):
        optim.SGD([{"params": {w}}])


def test_defaults_and_argument_names_are_torchs(torch):
    import inspect
    for name in ("SGD", "Adam", "RMSprop", "Adagrad", "Adadelta"):
        ours = inspect.signature(getattr(optim, name)).parameters
        theirs = inspect.signature(getattr(torch.optim, name)).parameters
        for arg, parameter in ours.items():
            assert arg in theirs, f"{name}: {arg} is not torch's"
            default = parameter.default
            assert default == theirs[arg].default, f"{name}.{arg}: {default} vs torch's"
            assert parameter.kind == theirs[arg].kind or arg == "maximize", f"{name}.{arg}"
