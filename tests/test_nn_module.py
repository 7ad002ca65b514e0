"""nn.Module: registration, traversal, modes, state dicts with PyTorch's names,
moving between backends, containers; and the MNIST DCGAN matching PyTorch
number for number after loading PyTorch's weights."""
import copy

import numpy as np
import pytest

import minigan as mg
from minigan import nn
from tests.helpers import assert_close, to_torch


# The MNIST DCGAN, written once for both libraries: `lib` is minigan.nn or torch.nn.
def generator(lib):
    return lib.Sequential(
        lib.Linear(100, 6272, bias=False), lib.BatchNorm1d(6272), lib.ReLU(),
        lib.Unflatten(1, (128, 7, 7)),
        lib.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), lib.BatchNorm2d(64), lib.ReLU(),
        lib.ConvTranspose2d(64, 1, 4, 2, 1), lib.Tanh())


def discriminator(lib):
    return lib.Sequential(
        lib.Conv2d(1, 64, 4, 2, 1), lib.LeakyReLU(0.2),
        lib.Conv2d(64, 128, 4, 2, 1, bias=False), lib.BatchNorm2d(128), lib.LeakyReLU(0.2),
        lib.Flatten(), lib.Linear(6272, 1))


def nested_model(lib):
    """A custom module with a nested Sequential, a ModuleList and a direct Parameter."""

    class Block(lib.Module):
        def __init__(self):
            super().__init__()
            self.conv = lib.Conv2d(2, 3, 3)
            self.bn = lib.BatchNorm2d(3)

    class Net(lib.Module):
        def __init__(self):
            super().__init__()
            self.scale = lib.Parameter(lib.init.ones_(lib.Linear(1, 1).weight.detach()))
            self.features = lib.Sequential(Block(), lib.ReLU(), Block())
            self.heads = lib.ModuleList([lib.Linear(4, 2), lib.Linear(2, 1)])
            self.embed = lib.Embedding(10, 4)

    return Net()


def torch_state_as_numpy(module):
    return {k: v.detach().numpy() for k, v in module.state_dict().items()}


# --- Parameter ------------------------------------------------------------------------------

def test_parameter_is_a_leaf_tensor_that_shares_its_tensors_array(backend):
    t = mg.ones(2, 3)
    p = nn.Parameter(t)
    assert isinstance(p, mg.Tensor) and p.data is t.data
    assert p.requires_grad and p.is_leaf and p.grad is None
    assert not nn.Parameter(t, requires_grad=False).requires_grad
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert type(p * 2) is mg.Tensor  # results of ops are plain tensors


def test_parameter_copies_host_data_onto_the_current_backend(backend):
    p = nn.Parameter(np.zeros((2, 2)))
    assert p.backend == backend and p.dtype == mg.float64
    assert nn.Parameter([1.0, 2.0]).dtype == mg.float32
    with pytest.raises(TypeError, match="only floating tensors can require grad, got dtype int64"):
        nn.Parameter(mg.tensor([1, 2]))


def test_updating_data_in_place_keeps_the_parameter(backend):
    layer = nn.Linear(2, 1)
    p = layer.weight
    layer(mg.ones(3, 2)).sum().backward()
    expected = p.numpy() - 0.1 * p.grad.numpy()
    p.data -= 0.1 * p.grad.data  # what an optimizer step does
    assert layer.weight is p
    np.testing.assert_allclose(layer.state_dict()["weight"].numpy(), expected)


# --- registration and traversal -------------------------------------------------------------

class TwoLayers(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = nn.Linear(3, 4)
        self.register_buffer("steps", mg.tensor(0))
        self.gain = nn.Parameter(mg.ones(1))
        self.second = nn.Linear(4, 2, bias=False)
        self.note = "not registered"
        self.register_buffer("scratch", mg.zeros(2), persistent=False)

    def forward(self, x):
        return self.second(self.first(x)) * self.gain


def test_attribute_assignment_registers_in_order():
    m = TwoLayers()
    assert list(m._parameters) == ["gain"]
    assert list(m._buffers) == ["steps", "scratch"]
    assert list(m._modules) == ["first", "second"]
    assert "note" in m.__dict__ and m.first is m._modules["first"]
    assert [name for name, _ in m.named_parameters()] == \
        ["gain", "first.weight", "first.bias", "second.weight"]
    assert [p.shape for p in m.parameters()] == [(1,), (4, 3), (4,), (2, 4)]
    assert [name for name, _ in m.named_parameters(recurse=False)] == ["gain"]
    assert [name for name, _ in m.named_buffers()] == ["steps", "scratch"]
    assert [name for name, _ in m.named_children()] == ["first", "second"]
    assert list(m.children()) == [m.first, m.second]
    assert [name for name, _ in m.named_modules()] == ["", "first", "second"]
    assert m(mg.ones(5, 3)).shape == (5, 2)


def test_state_dict_holds_parameters_then_persistent_buffers_then_children():
    assert list(TwoLayers().state_dict()) == \
        ["gain", "steps", "first.weight", "first.bias", "second.weight"]


def test_named_modules_is_depth_first_with_dotted_names():
    model = nested_model(nn)
    assert [name for name, _ in model.named_modules()] == [
        "", "features", "features.0", "features.0.conv", "features.0.bn", "features.1",
        "features.2", "features.2.conv", "features.2.bn", "heads", "heads.0", "heads.1", "embed"]


def test_a_shared_parameter_or_module_is_listed_once():
    layer = nn.Linear(2, 2)
    model = nn.Sequential(layer, nn.ReLU(), layer)
    assert len(list(model.parameters())) == 2
    assert [name for name, _ in model.named_modules()] == ["", "0", "1"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]  # as torch


def test_reassigning_replaces_and_none_keeps_the_slot():
    m = nn.Linear(2, 3)
    old = m.weight
    m.weight = nn.Parameter(mg.zeros(3, 2))
    assert m.weight is not old and list(m._parameters) == ["weight", "bias"]
    m.bias = None
    assert m.bias is None and [n for n, _ in m.named_parameters()] == ["weight"]
    assert list(m.state_dict()) == ["weight"]
    m.extra = nn.Linear(1, 1)
    with pytest.raises(TypeError, match="cannot assign int object to child module 'extra'"):
        m.extra = 5
    m.extra = None
    assert m.extra is None and "extra" in m._modules


def test_assigning_the_wrong_kind_to_a_registered_name_fails():
    m = nn.BatchNorm1d(3)
    with pytest.raises(TypeError, match=r"cannot assign Tensor object to parameter 'weight' "
                                        r"\(minigan.nn.Parameter or None required\)"):
        m.weight = mg.ones(3)
    with pytest.raises(TypeError, match="cannot assign ndarray object to buffer 'running_mean'"):
        m.running_mean = np.zeros(3)
    m.running_mean = mg.ones(3)  # a Tensor replaces a buffer
    assert m.running_mean.tolist() == [1, 1, 1]


def test_registration_needs_super_init_and_valid_names():
    class Forgot(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(mg.ones(1))

    with pytest.raises(AttributeError, match=r"before Module.__init__\(\) call.*super"):
        Forgot()
    m = nn.Module()
    with pytest.raises(KeyError, match=r'name must be non-empty and contain no "\.": got a.b'):
        m.register_buffer("a.b", mg.ones(1))
    with pytest.raises(TypeError, match="required"):
        m.register_parameter("w", mg.ones(1))
    m.x = 1
    with pytest.raises(KeyError, match="attribute 'x' already exists"):
        m.register_buffer("x", mg.ones(1))


def test_missing_attributes_and_forward_give_clear_errors():
    with pytest.raises(AttributeError, match="'Linear' object has no attribute 'weights'"):
        nn.Linear(1, 1).weights
    with pytest.raises(NotImplementedError,
                       match=r'Module \[ModuleList\] is missing the required "forward"'):
        nn.ModuleList([nn.ReLU()])(mg.ones(1))


def test_delattr_removes_a_registered_entry():
    m = TwoLayers()
    del m.first, m.steps, m.gain
    assert [n for n, _ in m.named_parameters()] == ["second.weight"]
    assert list(m.state_dict()) == ["second.weight"]


# --- printing --------------------------------------------------------------------------------

@pytest.mark.parametrize("build", [generator, discriminator, nested_model])
def test_repr_is_pytorchs(build, torch):
    assert repr(build(nn)) == repr(build(torch.nn))


def test_module_list_repr_compresses_repeats_like_pytorch(torch):
    def build(lib):
        return lib.ModuleList([lib.Linear(2, 2), lib.Linear(2, 2), lib.Linear(2, 2), lib.ReLU(),
                               lib.Sequential(lib.Tanh()), lib.ReLU()])
    assert repr(build(nn)) == repr(build(torch.nn))
    assert repr(nn.ModuleList()) == repr(torch.nn.ModuleList()) == "ModuleList()"


# --- modes, gradients, apply -----------------------------------------------------------------

def test_train_and_eval_reach_every_module():
    model = nested_model(nn)
    assert model.eval() is model
    assert all(not m.training for m in model.modules())
    model.features.train()
    assert model.features[2].bn.training and not model.heads[0].training
    model.train()
    assert all(m.training for m in model.modules())
    with pytest.raises(ValueError, match="expected to be a bool"):
        model.train("no")


def test_zero_grad_sets_to_none_or_to_fresh_zeros(backend):
    model = nn.Sequential(nn.Linear(3, 2), nn.Tanh(), nn.Linear(2, 1))
    model(mg.ones(4, 3)).sum().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None for g in grads)
    model.zero_grad(set_to_none=False)
    for p, old in zip(model.parameters(), grads):
        assert p.grad is not old and (p.grad.numpy() == 0).all() and p.grad.shape == p.shape
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_requires_grad_freezes_every_parameter():
    model = nested_model(nn)
    model.requires_grad_(False)
    assert not any(p.requires_grad for p in model.parameters())
    x = mg.ones(1, 4, requires_grad=True)
    y = model.heads[0](x).sum()
    y.backward()
    assert model.heads[0].weight.grad is None and x.grad is not None


def test_apply_visits_children_before_the_parent():
    seen = []
    nested_model(nn).features.apply(lambda m: seen.append(type(m).__name__))
    assert seen == ["Conv2d", "BatchNorm2d", "Block", "ReLU", "Conv2d", "BatchNorm2d", "Block",
                    "Sequential"]


# --- state dicts -----------------------------------------------------------------------------

@pytest.mark.parametrize("build", [generator, discriminator, nested_model])
def test_state_dict_keys_shapes_and_dtypes_match_pytorchs(build, torch):
    ours, theirs = build(nn).state_dict(), build(torch.nn).state_dict()
    assert list(ours) == list(theirs)
    for key in ours:
        assert ours[key].shape == tuple(theirs[key].shape), key
        assert str(ours[key].dtype) == str(theirs[key].dtype).replace("torch.", ""), key


def test_state_dict_values_are_detached_and_share_memory(backend):
    model = nn.Linear(2, 2)
    state = model.state_dict()
    assert type(state["weight"]) is mg.Tensor and not state["weight"].requires_grad
    assert state["weight"].data is model.weight.data  # as PyTorch: a view, not a copy
    assert model.state_dict(keep_vars=True)["weight"] is model.weight


def test_loading_a_torch_state_dict_via_numpy_keeps_parameter_objects(backend, torch):
    model = generator(nn)
    params, arrays = list(model.parameters()), [p.data for p in model.parameters()]
    reference = generator(torch.nn)
    reference[1].running_var.uniform_(0.5, 2.0)
    reference[1].num_batches_tracked += 5
    result = model.load_state_dict(torch_state_as_numpy(reference))
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert list(model.parameters()) == params  # an optimizer built earlier still works
    assert all(p.data is a for p, a in zip(model.parameters(), arrays))  # copied in place
    for key, value in reference.state_dict().items():
        mine = model.state_dict()[key]
        assert mine.backend == backend
        np.testing.assert_array_equal(mine.numpy(), value.numpy(), err_msg=key)
    assert model[1].num_batches_tracked.item() == 5
    assert model[1].num_batches_tracked.dtype == mg.int64


def test_loading_casts_to_the_parameters_dtype(backend):
    model = nn.BatchNorm1d(2)
    model.load_state_dict({"weight": np.array([1.5, 2.5]), "bias": mg.tensor([1, 2]),
                           "running_mean": np.array([0.5, 0.25]),
                           "running_var": np.ones(2, np.float16),
                           "num_batches_tracked": np.float64(3)})
    assert model.weight.dtype == mg.float32 and model.weight.tolist() == [1.5, 2.5]
    assert model.bias.dtype == mg.float32 and model.bias.tolist() == [1.0, 2.0]
    assert model.num_batches_tracked.dtype == mg.int64 and model.num_batches_tracked.item() == 3


def test_loading_accepts_tensors_from_another_backend():
    with mg.use_backend("strict"):
        source = nn.Linear(3, 2).state_dict()
    model = nn.Linear(3, 2)
    model.load_state_dict(source)
    assert model.weight.backend == "numpy"
    np.testing.assert_array_equal(model.weight.numpy(), source["weight"].numpy())


def test_load_errors_list_missing_unexpected_and_mismatched_keys_by_name(backend):
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    state = {k: v.numpy() + 1 for k, v in model.state_dict().items()}
    del state["1.running_var"], state["0.bias"]
    state["0.weight"] = np.zeros((4, 5))
    state["2.weight"] = np.zeros(1)
    state["1.weights"] = np.zeros(4)
    with pytest.raises(RuntimeError) as error:
        model.load_state_dict(state)
    assert str(error.value) == (
        "Error(s) in loading state_dict for Sequential:\n"
        '\tMissing key(s) in state_dict: "0.bias", "1.running_var". \n'
        '\tUnexpected key(s) in state_dict: "2.weight", "1.weights". \n'
        "\tsize mismatch for 0.weight: copying a param with shape (4, 5) from checkpoint, "
        "the shape in current model is (4, 3).")
    for key, value in model.state_dict().items():  # nothing was loaded
        np.testing.assert_array_equal(value.numpy(), before[key])


def test_load_error_message_has_torchs_wording(torch):
    reference = torch.nn.Sequential(torch.nn.Linear(3, 4))
    with pytest.raises(RuntimeError) as theirs:
        reference.load_state_dict({"0.weight": torch.zeros(4, 3), "0.bia": torch.zeros(4)})
    with pytest.raises(RuntimeError) as ours:
        nn.Sequential(nn.Linear(3, 4)).load_state_dict({"0.weight": np.zeros((4, 3)),
                                                        "0.bia": np.zeros(4)})
    assert str(ours.value) == str(theirs.value)


def test_strict_false_reports_but_ignores_missing_and_unexpected_keys():
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1))
    result = model.load_state_dict({"0.weight": np.ones((4, 3)), "head.weight": np.ones(1)},
                                   strict=False)
    assert result.missing_keys == ["0.bias", "1.weight", "1.bias"]
    assert result.unexpected_keys == ["head.weight"]
    assert (model[0].weight.numpy() == 1).all()
    with pytest.raises(RuntimeError, match="size mismatch for 0.weight"):
        model.load_state_dict({"0.weight": np.ones((3, 4))}, strict=False)


def test_load_rejects_values_that_are_not_arrays():
    with pytest.raises(RuntimeError,
                       match="wrong value for bias: expected a Tensor or an array, got str"):
        nn.Linear(2, 2).load_state_dict({"weight": np.ones((2, 2)), "bias": "zeros"})
    with pytest.raises(TypeError, match="expected a dict"):
        nn.Linear(2, 2).load_state_dict([1, 2])


def test_non_persistent_buffers_are_not_saved_or_expected():
    m = TwoLayers()
    assert "scratch" not in m.state_dict()
    m.load_state_dict(m.state_dict())  # strict: no missing "scratch"


# --- moving and casting ----------------------------------------------------------------------

def test_to_backend_moves_everything_in_place():
    model = nested_model(nn)
    params = list(model.parameters())
    buffers = list(model.buffers())
    model.heads[0].weight.grad = mg.ones(2, 4)
    values = {k: v.numpy() for k, v in model.state_dict().items()}
    assert model.to("strict") is model
    assert list(model.parameters()) == params and list(model.buffers()) == buffers
    assert all(t.backend == "strict" for t in params + buffers)
    assert model.heads[0].weight.grad.backend == "strict"
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), values[key])
    x = mg.ones(2, 4).to("strict")
    assert model.heads[0](x).backend == "strict"
    model.to("numpy")
    assert all(t.backend == "numpy" for t in params + buffers)


def test_double_and_float_cast_floating_tensors_only(backend):
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    weight = model[0].weight
    assert model.double() is model
    assert model[0].weight is weight and weight.dtype == mg.float64
    assert model[1].running_var.dtype == mg.float64
    assert model[1].num_batches_tracked.dtype == mg.int64
    assert model(mg.ones(3, 2, dtype=mg.float64)).dtype == mg.float64
    model.float()
    assert weight.dtype == mg.float32 and model[1].running_mean.dtype == mg.float32
    with pytest.raises(ValueError, match="expected a device"):
        model.to("tpu")  # "cuda" is a device name now: see tests/test_torch_api.py
    with pytest.raises(TypeError, match="only floating dtypes"):
        model.to(mg.int64)


def test_deepcopy_gives_an_independent_model(backend):
    model = generator(nn)
    twin = copy.deepcopy(model)
    assert all(isinstance(p, nn.Parameter) for p in twin.parameters())
    twin[0].weight.data[...] = 0
    assert not (model[0].weight.numpy() == 0).all()
    assert list(twin.state_dict()) == list(model.state_dict())


# --- containers ------------------------------------------------------------------------------

def test_sequential_indexing_length_iteration_and_append():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)]
    model = nn.Sequential(*layers)
    assert len(model) == 3 and list(model) == layers
    assert model[0] is layers[0] and model[-1] is layers[2]
    head = model[1:]
    assert isinstance(head, nn.Sequential) and list(head._modules) == ["1", "2"]  # as torch
    assert model.append(nn.Sigmoid()) is model and len(model) == 4
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    y = model(mg.ones(5, 2))
    assert y.shape == (5, 1) and ((y.numpy() > 0) & (y.numpy() < 1)).all()
    with pytest.raises(IndexError, match="index 4 is out of range for 4 modules"):
        model[4]
    del model[1]
    assert list(model._modules) == ["0", "1", "2"] and model[1] is layers[2]
    model[2] = nn.Tanh()
    assert isinstance(model[2], nn.Tanh)


def test_sequential_from_an_ordered_dict_keeps_the_names(torch):
    from collections import OrderedDict

    def build(lib):
        return lib.Sequential(OrderedDict(fc=lib.Linear(2, 2), act=lib.ReLU()))
    assert list(build(nn).state_dict()) == list(build(torch.nn).state_dict()) == \
        ["fc.weight", "fc.bias"]
    assert repr(build(nn)) == repr(build(torch.nn))


def test_module_list_registers_its_entries():
    blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    blocks.append(nn.Linear(2, 1))
    assert len(blocks) == 4 and blocks[-1].out_features == 1
    assert [n for n, _ in blocks.named_parameters()][:2] == ["0.weight", "0.bias"]
    assert len(list(blocks.parameters())) == 8
    blocks[0] = nn.Identity()
    assert len(list(blocks.parameters())) == 6
    assert isinstance(blocks[1:], nn.ModuleList) and len(blocks[1:]) == 3


# --- the MNIST DCGAN against PyTorch ---------------------------------------------------------

def _sgd_step(params, lr):
    for p in params:
        p.data -= lr * p.grad.data
        p.grad = None


def _torch_sgd_step(params, lr, torch):
    with torch.no_grad():
        for p in params:
            p -= lr * p.grad
            p.grad = None


@pytest.mark.parametrize("build, input_shape", [(generator, (4, 100)),
                                                (discriminator, (4, 1, 28, 28))])
def test_dcgan_matches_pytorch_in_train_and_eval_over_steps(build, input_shape, backend, torch):
    """Loaded with PyTorch's weights, 3 training steps (with an SGD update between them)
    and an evaluation step give the same outputs, input and parameter gradients,
    running statistics and batch counts as PyTorch in float32."""
    reference = build(torch.nn)
    model = build(nn)
    model.load_state_dict(torch_state_as_numpy(reference))
    rng = np.random.default_rng(0)
    tolerance = dict(atol=1e-4, rtol=1e-3)

    for step in range(4):
        training = step < 3
        model.train(training)
        reference.train(training)
        x = mg.tensor(rng.standard_normal(input_shape).astype(np.float32), requires_grad=True)
        x_ref = to_torch(x, torch)
        y, y_ref = model(x), reference(x_ref)
        assert y.dtype == mg.float32
        assert_close(y, y_ref, **tolerance)
        # A random upstream gradient, small as a mean loss's, so that the SGD steps
        # change the weights without driving tanh or the logits into saturation.
        v = (0.01 * rng.standard_normal(y.shape)).astype(np.float32)
        (y * mg.tensor(v)).sum().backward()
        (y_ref * torch.from_numpy(v)).sum().backward()
        assert_close(x.grad, x_ref.grad, **tolerance)
        ours = dict(model.named_parameters())
        for name, p_ref in reference.named_parameters():
            assert_close(ours[name].grad, p_ref.grad, **tolerance)
        for name, b_ref in reference.state_dict().items():
            if "running" in name or "num_batches" in name:
                assert_close(model.state_dict()[name], b_ref, **tolerance)
        if training:
            _sgd_step(model.parameters(), 0.05)
            _torch_sgd_step(reference.parameters(), 0.05, torch)
    assert model[1 if build is generator else 3].num_batches_tracked.item() == 3
