"""mg.save / mg.load: .npz checkpoints that round-trip nested structures, never
unpickle, and are written atomically."""
import os
import pickle
import zipfile

import numpy as np
import pytest

import minigan as mg
from minigan import nn
from minigan.serialization import npz as serialization
from minigan.serialization import CheckpointError


def nested_example():
    return {
        "G": {"0.weight": mg.tensor([[1.0, 2.0], [3.0, 4.0]]),
              "1.num_batches_tracked": mg.tensor(7)},
        "optimizer": {"state": {0: {"step": 3, "exp_avg": mg.zeros(2, 2, dtype=mg.float64)}},
                      "param_groups": [{"lr": 2e-4, "betas": (0.5, 0.999), "params": [0]}]},
        "images": np.arange(6, dtype=np.uint8).reshape(2, 3),
        "loss": np.float32(0.25),
        "epoch": 12, "name": "dcgan", "done": False, "note": None,
        "floats": [0.1, 1e-300, float("inf"), -0.0],
        "flags": (True, 1, "x"),
        2.5: "float key", None: "none key", True: "bool key",
    }


def test_round_trip_of_a_nested_structure(tmp_path, backend):
    path = tmp_path / "ckpt.npz"
    obj = nested_example()
    mg.save(obj, path)
    back = mg.load(path)

    assert list(back) == list(obj)  # keys, their types and their order
    w = back["G"]["0.weight"]
    assert isinstance(w, mg.Tensor) and w.backend == backend and w.dtype == mg.float32
    assert w.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    count = back["G"]["1.num_batches_tracked"]
    assert count.dtype == mg.int64 and count.shape == () and count.item() == 7
    state = back["optimizer"]["state"]
    assert list(state) == [0]  # int keys stay ints
    assert state[0]["step"] == 3 and state[0]["exp_avg"].dtype == mg.float64
    group = back["optimizer"]["param_groups"][0]
    assert group == {"lr": 2e-4, "betas": (0.5, 0.999), "params": [0]}
    assert isinstance(back["images"], np.ndarray) and back["images"].dtype == np.uint8
    np.testing.assert_array_equal(back["images"], obj["images"])
    assert isinstance(back["loss"], np.float32) and back["loss"] == np.float32(0.25)
    assert (back["epoch"], back["name"], back["done"], back["note"]) == (12, "dcgan", False, None)
    assert back["floats"][:3] == [0.1, 1e-300, float("inf")]
    assert str(back["floats"][3]) == "-0.0"
    assert back["flags"] == (True, 1, "x") and type(back["flags"][1]) is int
    assert back[2.5] == "float key" and back[None] == "none key" and back[True] == "bool key"


def test_nan_survives(tmp_path):
    mg.save({"x": float("nan")}, tmp_path / "f")
    assert np.isnan(mg.load(tmp_path / "f")["x"])


def test_tensors_come_back_on_the_backend_current_at_load_time(tmp_path):
    with mg.use_backend("strict"):
        mg.save({"w": mg.ones(2, 3), "raw": mg.ones(2).data}, tmp_path / "f.npz")
    back = mg.load(tmp_path / "f.npz")  # numpy backend now
    assert back["w"].backend == "numpy" and isinstance(back["raw"], np.ndarray)
    with mg.use_backend("strict"):
        back = mg.load(tmp_path / "f.npz")
        assert back["w"].backend == "strict"
        assert type(back["raw"]) is mg.backend.StrictArray


def test_parameters_and_requires_grad_are_kept(tmp_path, backend):
    mg.save({"p": nn.Parameter(mg.ones(2)), "t": mg.ones(2, requires_grad=True),
             "c": mg.ones(2)}, tmp_path / "f")
    back = mg.load(tmp_path / "f")
    assert isinstance(back["p"], nn.Parameter) and back["p"].requires_grad
    assert type(back["t"]) is mg.Tensor and back["t"].requires_grad
    assert not back["c"].requires_grad


def test_as_numpy_gives_numpy_arrays_for_every_array(tmp_path, backend):
    mg.save({"w": mg.ones(2, 3), "n": np.zeros(2), "s": np.int64(5)}, tmp_path / "f")
    back = mg.load(tmp_path / "f", as_numpy=True)
    assert isinstance(back["w"], np.ndarray) and back["w"].dtype == np.float32
    assert isinstance(back["n"], np.ndarray) and back["s"] == 5


def test_a_model_and_its_optimizer_round_trip_through_a_file(tmp_path, backend):
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1))
    model(mg.randn(5, 3)).sum().backward()  # moves the running statistics
    mg.save({"G": model.state_dict(), "step": 1}, tmp_path / "ckpt.npz")

    mg.manual_seed(1)
    other = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.Linear(4, 1))
    other.load_state_dict(mg.load(tmp_path / "ckpt.npz")["G"])
    for (name, a), (_, b) in zip(model.state_dict().items(), other.state_dict().items()):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
        assert a.dtype == b.dtype
    assert other[1].num_batches_tracked.item() == 1


def test_the_file_is_a_plain_npz_readable_without_minigan(tmp_path):
    mg.save({"G": {"0.weight": mg.ones(2, 2)}, "epoch": 3}, tmp_path / "ckpt.npz")
    with np.load(tmp_path / "ckpt.npz", allow_pickle=False) as f:
        assert sorted(f.files) == ["G/0.weight", "__structure__"]
        assert f["G/0.weight"].dtype == np.float32
        assert '"epoch"' in str(f["__structure__"])


def test_path_is_used_as_given(tmp_path):
    mg.save([1, 2], tmp_path / "checkpoint")
    assert os.listdir(tmp_path) == ["checkpoint"]
    assert mg.load(str(tmp_path / "checkpoint")) == [1, 2]


def test_colliding_paths_get_distinct_array_names(tmp_path):
    obj = {"a/b": np.zeros(1), "a": {"b": np.ones(1)}}
    mg.save(obj, tmp_path / "f")
    back = mg.load(tmp_path / "f")
    assert back["a/b"][0] == 0 and back["a"]["b"][0] == 1


def test_a_plain_npz_from_numpy_loads_as_a_dict_of_arrays(tmp_path, torch):
    layer = torch.nn.Linear(3, 2)
    np.savez(tmp_path / "torch.npz", **{k: v.numpy() for k, v in layer.state_dict().items()})
    state = mg.load(tmp_path / "torch.npz")
    assert sorted(state) == ["bias", "weight"]
    ours = nn.Linear(3, 2)
    ours.load_state_dict(state)
    np.testing.assert_array_equal(ours.weight.numpy(), layer.weight.detach().numpy())


# --- what save refuses ---------------------------------------------------------------------

@pytest.mark.parametrize("obj, message", [
    ({"m": nn.Linear(2, 2)}, r"cannot store a Linear at 'm'.*mg.save\(model.state_dict\(\)"),
    ({"s": {1, 2}}, "cannot store a set at 's'"),
    ({"a": [np.array([None, 1], dtype=object)]}, "array at 'a/0' holds Python objects"),
    ({(1, 2): 3}, "dict keys must be strings, numbers, bools or None; got a tuple key"),
])
def test_save_refuses_what_it_cannot_store_without_pickle(obj, message, tmp_path):
    with pytest.raises(TypeError, match=message):
        mg.save(obj, tmp_path / "f")
    assert not os.listdir(tmp_path)  # nothing written, not even a temporary file


# --- loading untrusted or broken files -------------------------------------------------------

def test_loading_a_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such file: .*nothing.npz"):
        mg.load(tmp_path / "nothing.npz")


def test_an_object_array_inside_an_npz_is_never_unpickled(tmp_path):
    path = tmp_path / "evil.npz"
    np.savez(path, a=np.array([{"x": 1}], dtype=object))  # np.savez pickles object arrays
    with pytest.raises(CheckpointError, match="evil.npz.*pickled Python objects.*never loads"):
        mg.load(path)


class _Payload:
    """Unpickling this would create a file: a stand-in for arbitrary code."""

    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_a_pickle_file_is_refused_and_its_code_never_runs(tmp_path):
    path, target = tmp_path / "model.pt", tmp_path / "pwned"
    path.write_bytes(pickle.dumps(_Payload(str(target))))
    with pytest.raises(CheckpointError, match="model.pt.*not an .npz file"):
        mg.load(path)
    assert not target.exists()


def test_a_pickle_inside_the_structure_entry_is_refused(tmp_path):
    path, target = tmp_path / "evil.npz", tmp_path / "pwned"
    payload = np.empty((), dtype=object)
    payload[()] = _Payload(str(target))
    np.savez(path, __structure__=payload)
    with pytest.raises(CheckpointError, match="pickled Python objects"):
        mg.load(path)
    assert not target.exists()


@pytest.mark.parametrize("content", [b"", b"hello, world", b"PK\x03\x04 truncated zip"])
def test_a_corrupt_file_gives_a_clear_error_naming_it(tmp_path, content):
    path = tmp_path / "broken.npz"
    path.write_bytes(content)
    with pytest.raises(CheckpointError, match="broken.npz"):
        mg.load(path)


def test_a_truncated_checkpoint_gives_a_clear_error(tmp_path):
    path = tmp_path / "ckpt.npz"
    mg.save({"w": mg.ones(100, 100)}, path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="ckpt.npz.*corrupt or truncated"):
        mg.load(path)


def test_an_npy_file_is_not_a_checkpoint(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros(3))
    with pytest.raises(CheckpointError, match="a.npy.*an .npy file"):
        mg.load(tmp_path / "a.npy")


@pytest.mark.parametrize("structure, message", [
    ("not json", "malformed __structure__"),
    ('{"format": "other", "version": 1, "root": 1}', "unknown format 'other'"),
    ('{"format": "minigan.save", "version": 99, "root": 1}', "unsupported version 99"),
    ('{"format": "minigan.save", "version": 1, "root": {"type": "tensor", "key": "gone"}}',
     "KeyError"),
    ('{"format": "minigan.save", "version": 1, "root": {"type": "os.system"}}',
     "unknown entry type 'os.system'"),
])
def test_a_malformed_structure_gives_a_clear_error(tmp_path, structure, message):
    path = tmp_path / "f.npz"
    np.savez(path, __structure__=np.array(structure))
    with pytest.raises(CheckpointError, match=message):
        mg.load(path)


# --- atomic writing --------------------------------------------------------------------------

def test_an_interrupted_save_leaves_the_old_file_intact(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.npz"
    mg.save({"epoch": 1, "w": mg.ones(3)}, path)
    before = path.read_bytes()

    real_write = serialization._write_array
    calls = []

    def write_then_fail(archive, key, array):
        calls.append(key)
        if len(calls) == 2:  # the structure is written, then the first array fails
            raise KeyboardInterrupt("simulated Ctrl-C while writing")
        real_write(archive, key, array)

    monkeypatch.setattr(serialization, "_write_array", write_then_fail)
    with pytest.raises(KeyboardInterrupt):
        mg.save({"epoch": 2, "w": mg.zeros(3), "v": mg.zeros(3)}, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.npz"]  # the temporary file was removed
    monkeypatch.undo()
    assert mg.load(path)["epoch"] == 1


def test_save_overwrites_an_existing_file(tmp_path):
    path = tmp_path / "ckpt.npz"
    mg.save({"epoch": 1}, path)
    mg.save({"epoch": 2}, path)
    assert mg.load(path) == {"epoch": 2}
    assert zipfile.is_zipfile(path)
