"""Weights in and out of PyTorch: mg.load_pth reads torch.save's zip without torch and
without running code; mg.save_safetensors / mg.load_safetensors write and read
safetensors files with PyTorch's key names; examples/load_pytorch_dcgan.py samples a
PyTorch DCGAN generator in minigan.

The malicious pickles and the hand-built state-dict zips run always (no torch); files
written by torch.save itself, and the way back into torch, need torch.
"""
import importlib.util
import struct
import sys
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

import minigan as mg
from minigan import nn
from minigan.serialization import CheckpointError

ROOT = Path(__file__).resolve().parents[1]


# --- building .pth files by hand: torch.save's layout, one pickle opcode at a time -----------

def _unicode(text):
    raw = text.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def _int(value):
    return b"J" + struct.pack("<i", value)


def _ints(values):
    return b"(" + b"".join(_int(v) for v in values) + b"t"


def state_dict_pickle(tensors):
    """The pickle torch.save writes for an OrderedDict name -> tensor, where each tensor is
    (storage_type, key, numel, offset, size, stride)."""
    out = [b"\x80\x02", b"ccollections\nOrderedDict\n", b")R", b"("]
    for name, (storage_type, key, numel, offset, size, stride) in tensors.items():
        out += [_unicode(name), b"ctorch._utils\n_rebuild_tensor_v2\n", b"(",
                b"(", _unicode("storage"), f"ctorch\n{storage_type}\n".encode(), _unicode(key),
                _unicode("cpu"), _int(numel), b"tQ",
                _int(offset), _ints(size), _ints(stride), b"\x89",
                b"ccollections\nOrderedDict\n)R", b"tR"]
    out += [b"u", b"."]
    return b"".join(out)


def write_pth(path, pickle_bytes, storages=None, byteorder="little", prefix="archive"):
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{prefix}/data.pkl", pickle_bytes)
        archive.writestr(f"{prefix}/byteorder", byteorder)
        for key, raw in (storages or {}).items():
            archive.writestr(f"{prefix}/data/{key}", raw)
        archive.writestr(f"{prefix}/version", "3\n")
    return path


def test_load_pth_reads_a_hand_built_state_dict_with_views_and_dtypes(tmp_path):
    base = np.arange(12, dtype=np.float32)
    half = np.array([1.5, -2.0, 65504.0], dtype=np.float16)
    bf16 = (np.array([1.0, -3.5, 0.15625], dtype=np.float32).view(np.uint32) >> 16).astype(
        np.uint16)
    path = write_pth(tmp_path / "sd.pth", state_dict_pickle({
        "w": ("FloatStorage", "0", 12, 0, (3, 4), (4, 1)),
        "w_t": ("FloatStorage", "0", 12, 0, (4, 3), (1, 4)),       # w.t(): same storage
        "part": ("FloatStorage", "0", 12, 5, (2, 2), (3, 1)),      # an offset, strided view
        "steps": ("LongStorage", "1", 1, 0, (), ()),               # num_batches_tracked
        "half": ("HalfStorage", "2", 3, 0, (3,), (1,)),
        "bf16": ("BFloat16Storage", "3", 3, 0, (3,), (1,)),
        "mask": ("BoolStorage", "4", 2, 0, (2,), (1,)),
    }), {"0": base.tobytes(), "1": np.int64(7).tobytes(), "2": half.tobytes(),
         "3": bf16.tobytes(), "4": np.array([True, False]).tobytes()})
    sd = mg.load_pth(path)
    assert isinstance(sd, OrderedDict) and list(sd) == ["w", "w_t", "part", "steps", "half",
                                                        "bf16", "mask"]
    w = base.reshape(3, 4)
    np.testing.assert_array_equal(sd["w"], w)
    np.testing.assert_array_equal(sd["w_t"], w.T)
    np.testing.assert_array_equal(sd["part"], [[5, 6], [8, 9]])
    assert sd["w_t"].flags.c_contiguous and sd["part"].flags.owndata
    assert sd["steps"].shape == () and sd["steps"].dtype == np.int64 and sd["steps"] == 7
    assert sd["half"].dtype == np.float16 and sd["half"].tolist() == [1.5, -2.0, 65504.0]
    assert sd["bf16"].dtype == np.float32 and sd["bf16"].tolist() == [1.0, -3.5, 0.15625]
    assert sd["mask"].tolist() == [True, False]


def test_load_pth_reads_big_endian_storages(tmp_path):
    path = write_pth(tmp_path / "be.pth", state_dict_pickle(
        {"x": ("DoubleStorage", "0", 2, 0, (2,), (1,))}),
        {"0": np.array([1.25, -8.0], dtype=">f8").tobytes()}, byteorder="big")
    x = mg.load_pth(path)["x"]
    assert x.tolist() == [1.25, -8.0] and x.dtype == np.float64


def test_load_pth_refuses_a_tensor_reaching_past_its_storage(tmp_path):
    path = write_pth(tmp_path / "oob.pth", state_dict_pickle(
        {"x": ("FloatStorage", "0", 4, 2, (2, 2), (2, 1))}),  # last element 2 + 2 + 1 = 5
        {"0": np.zeros(4, np.float32).tobytes()})
    with pytest.raises(CheckpointError, match=r"reaches element 5 of a storage of 4 elements"):
        mg.load_pth(path)


def test_a_loaded_state_dict_goes_into_a_minigan_module(tmp_path):
    weight = np.arange(6, dtype=np.float32)
    path = write_pth(tmp_path / "linear.pth", state_dict_pickle({
        "weight": ("FloatStorage", "0", 6, 0, (2, 3), (3, 1)),
        "bias": ("FloatStorage", "1", 2, 0, (2,), (1,))}),
        {"0": weight.tobytes(), "1": np.array([1, -1], np.float32).tobytes()})
    layer = nn.Linear(3, 2)
    layer.load_state_dict(mg.load_pth(path))
    assert layer(mg.ones(1, 3)).tolist() == [[0 + 1 + 2 + 1, 3 + 4 + 5 - 1]]


# --- malicious files: refused before anything runs ---------------------------------------------

def malicious_pickles(marker):
    command = f"touch {marker}"
    return {
        "os.system": b"\x80\x02cos\nsystem\n" + _unicode(command) + b"\x85R.",
        "posix.system": b"\x80\x02cposix\nsystem\n" + _unicode(command) + b"\x85R.",
        "builtins.eval": b"\x80\x02cbuiltins\neval\n"
                         + _unicode(f"__import__('os').system({command!r})") + b"\x85R.",
        "inside a state dict": state_dict_pickle({})[:-2]  # the OrderedDict, still open
                               + b"(" + _unicode("x") + b"cos\nsystem\n" + _unicode(command)
                               + b"\x85Ru.",
        "as a storage type": b"\x80\x02(" + _unicode("storage") + b"cos\nsystem\n"
                             + _unicode("0") + _unicode("cpu") + _int(1) + b"tQ.",
    }


@pytest.mark.parametrize("kind", sorted(malicious_pickles("m")))
def test_load_pth_refuses_a_pickle_that_would_run_a_command_without_running_it(tmp_path, kind):
    marker = tmp_path / "pwned"
    path = write_pth(tmp_path / "evil.pth", malicious_pickles(marker)[kind])
    with pytest.raises(CheckpointError, match="refused without running it"):
        mg.load_pth(path)
    assert not marker.exists()
    # the same bytes really do run the command when unpickled naively (for os.system):
    if kind == "os.system":
        import pickle
        pickle.loads(malicious_pickles(marker)[kind])
        assert marker.exists()


def test_load_pth_refuses_what_is_not_a_torch_save_zip(tmp_path):
    legacy = tmp_path / "legacy.pth"
    legacy.write_bytes(b"\x80\x02\x8a\nl\xfc\x9cF\xf9 j\xa8P\x19.")
    with pytest.raises(CheckpointError, match="not a zip archive: the legacy torch.save"):
        mg.load_pth(legacy)
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(CheckpointError, match="not one torch.save wrote"):
        mg.load_pth(other)
    truncated = write_pth(tmp_path / "cut.pth", state_dict_pickle(
        {"x": ("FloatStorage", "0", 2, 0, (2,), (1,))})[:-9], {"0": bytes(8)})
    with pytest.raises(CheckpointError, match="not a readable PyTorch state dict"):
        mg.load_pth(truncated)
    missing = write_pth(tmp_path / "nostorage.pth", state_dict_pickle(
        {"x": ("FloatStorage", "0", 2, 0, (2,), (1,))}))
    with pytest.raises(CheckpointError, match="lacks the storage archive/data/0"):
        mg.load_pth(missing)
    with pytest.raises(FileNotFoundError, match="no such file"):
        mg.load_pth(tmp_path / "absent.pth")


# --- files torch.save wrote ----------------------------------------------------------------

@pytest.mark.torch
def test_load_pth_reads_what_torch_save_wrote(torch, tmp_path):
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2))
    model(torch.randn(4, 1, 5, 5))  # moves the running statistics and num_batches_tracked
    base = torch.arange(20, dtype=torch.float64).reshape(4, 5)
    obj = {
        "model": model.state_dict(),
        "views": {"transposed": base.t(), "offset": base[1:3, 2:], "strided": base[:, ::2]},
        "dtypes": {"half": torch.randn(3).half(), "bf16": torch.randn(3).bfloat16(),
                   "int32": torch.arange(4, dtype=torch.int32), "bool": base > 7,
                   "uint8": torch.arange(3, dtype=torch.uint8)},
        "epoch": 3, "name": "dcgan", "betas": (0.5, 0.999),
    }
    torch.save(obj, tmp_path / "ckpt.pth")
    loaded = mg.load_pth(tmp_path / "ckpt.pth")
    assert loaded["epoch"] == 3 and loaded["name"] == "dcgan" and loaded["betas"] == (0.5, 0.999)
    assert list(loaded["model"]) == list(model.state_dict())
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(loaded["model"][key], value.numpy())
        assert loaded["model"][key].dtype == value.numpy().dtype
    assert loaded["model"]["1.num_batches_tracked"].shape == ()
    assert loaded["model"]["1.num_batches_tracked"].dtype == np.int64
    for key, value in obj["views"].items():
        np.testing.assert_array_equal(loaded["views"][key], value.numpy())
    for key, value in obj["dtypes"].items():
        expected = value.float().numpy() if key == "bf16" else value.numpy()
        np.testing.assert_array_equal(loaded["dtypes"][key], expected)
        assert loaded["dtypes"][key].dtype == expected.dtype


@pytest.mark.torch
def test_load_pth_reads_parameters_saved_as_such(torch, tmp_path):
    layer = torch.nn.Linear(2, 2)
    torch.save(layer.state_dict(keep_vars=True), tmp_path / "params.pth")
    loaded = mg.load_pth(tmp_path / "params.pth")
    np.testing.assert_array_equal(loaded["weight"], layer.weight.detach().numpy())


@pytest.mark.torch
def test_load_pth_refuses_a_whole_pickled_model(torch, tmp_path):
    torch.save(torch.nn.Linear(2, 2), tmp_path / "model.pth")
    with pytest.raises(CheckpointError, match=r"torch\.nn\.modules\.linear\.Linear.*"
                                              r"save model\.state_dict\(\)"):
        mg.load_pth(tmp_path / "model.pth")


# --- safetensors --------------------------------------------------------------------------

def test_safetensors_round_trip_keeps_names_dtypes_and_values(tmp_path, backend):
    pytest.importorskip("safetensors")
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    model(mg.randn(5, 3))
    mg.save_safetensors(model.state_dict(), tmp_path / "m.safetensors")
    loaded = mg.load_safetensors(tmp_path / "m.safetensors")
    assert set(loaded) == set(model.state_dict())
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(loaded[key], value.numpy())
        assert loaded[key].dtype == value.dtype
    assert loaded["1.num_batches_tracked"].shape == () and loaded["1.num_batches_tracked"] == 1
    other = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    other.load_state_dict(loaded)
    x = mg.randn(2, 3)
    assert other.eval()(x).tolist() == model.eval()(x).tolist()


def test_save_safetensors_wants_a_flat_dict_of_tensors(tmp_path):
    pytest.importorskip("safetensors")
    with pytest.raises(TypeError, match="expected a tensor or an array for 'G', got dict"):
        mg.save_safetensors({"G": {"w": mg.ones(2)}}, tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    with pytest.raises(CheckpointError, match="not a readable safetensors file"):
        mg.load_safetensors(bad)


def test_without_the_safetensors_package_the_error_says_how_to_install_it(tmp_path,
                                                                        monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors", None)
    monkeypatch.setitem(sys.modules, "safetensors.numpy", None)
    with pytest.raises(ImportError, match="needs the safetensors package: pip install "
                                          "safetensors"):
        mg.save_safetensors({"w": mg.ones(2)}, tmp_path / "w.safetensors")
    with pytest.raises(ImportError, match="pip install safetensors"):
        mg.load_safetensors(tmp_path / "w.safetensors")


# --- a PyTorch DCGAN generator in minigan, and back -------------------------------------------

def load_script(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def torch_generator(torch, monkeypatch):
    """The PyTorch twin of minigan.gan.dcgan.Generator (benchmarks/bench_dcgan.py's),
    with trained-looking BatchNorm statistics."""
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    bench = load_script(ROOT / "benchmarks" / "bench_dcgan.py", "benchmarks_bench_dcgan")
    G, _ = bench.torch_networks(conditional=False)
    G.apply(bench.init_dcgan_weights_torch)
    with torch.no_grad():
        for _ in range(3):
            G(torch.randn(16, 100))  # training mode: running_mean/var and counts move
    return G.eval()


def generator_outputs(torch, torch_generator, tmp_path):
    """(minigan's Generator loaded by the example's code from a torch.save file, z,
    the torch generator's outputs on z)."""
    program = load_script(ROOT / "examples" / "load_pytorch_dcgan.py", "load_pytorch_dcgan")
    torch.save(torch_generator.state_dict(), tmp_path / "generator.pth")
    G = program.load_generator(tmp_path / "generator.pth")
    z = np.random.default_rng(0).standard_normal((8, 100)).astype(np.float32)
    with torch.no_grad():
        theirs = torch_generator(torch.from_numpy(z)).numpy()
    return G, z, theirs


@pytest.mark.torch
def test_a_pytorch_dcgan_generator_loads_into_minigan_with_matching_outputs(
        torch, torch_generator, tmp_path):
    G, z, theirs = generator_outputs(torch, torch_generator, tmp_path)
    with mg.no_grad():
        ours = G(mg.tensor(z)).numpy()
    assert ours.shape == (8, 1, 28, 28)
    np.testing.assert_allclose(ours, theirs, atol=1e-5, rtol=0)


@pytest.mark.torch
def test_the_generator_goes_back_to_pytorch_through_safetensors(torch, torch_generator,
                                                                tmp_path):
    pytest.importorskip("safetensors")
    import safetensors.torch
    G, z, theirs = generator_outputs(torch, torch_generator, tmp_path)
    mg.save_safetensors(G.state_dict(), tmp_path / "generator.safetensors")
    back = type(torch_generator)(100)
    back.load_state_dict(safetensors.torch.load_file(str(tmp_path / "generator.safetensors")))
    with torch.no_grad():
        again = back.eval()(torch.from_numpy(z)).numpy()
    np.testing.assert_allclose(again, theirs, atol=1e-6, rtol=0)
    assert back.net[1].num_batches_tracked.item() == torch_generator.net[1].num_batches_tracked


@pytest.mark.torch
def test_the_example_program_writes_a_grid_and_a_safetensors_file(torch, torch_generator,
                                                                 tmp_path, capsys):
    pytest.importorskip("safetensors")
    program = load_script(ROOT / "examples" / "load_pytorch_dcgan.py", "load_pytorch_dcgan")
    torch.save(torch_generator.state_dict(), tmp_path / "generator.pth")
    out, st = tmp_path / "grid.png", tmp_path / "g.safetensors"
    assert program.main([str(tmp_path / "generator.pth"), "--n", "9", "--out", str(out),
                         "--safetensors", str(st)]) == 0
    from PIL import Image
    assert Image.open(out).size == (2 * (3 * 28 + 4 * 2),) * 2  # 3 x 3 grid, padding 2, x2
    assert program.main([str(st), "--n", "4", "--out", str(tmp_path / "again.png")]) == 0
    capsys.readouterr()


def write_state_dict_pth(path, state_dict):
    """A .pth laid out as torch.save lays out `state_dict` (name -> Tensor), built by hand."""
    storage_types = {np.dtype("float32"): "FloatStorage", np.dtype("int64"): "LongStorage"}
    tensors, storages = {}, {}
    for i, (name, value) in enumerate(state_dict.items()):
        array = value.numpy()
        strides = tuple(s // array.itemsize for s in array.strides)
        tensors[name] = (storage_types[array.dtype], str(i), array.size, 0, array.shape, strides)
        storages[str(i)] = array.tobytes()
    return write_pth(path, state_dict_pickle(tensors), storages)


def test_the_example_program_samples_from_a_pth_without_torch(tmp_path, capsys):
    from minigan.gan.dcgan import Generator
    program = load_script(ROOT / "examples" / "load_pytorch_dcgan.py", "load_pytorch_dcgan")
    source = Generator(64)
    source.train()(mg.randn(8, 64))  # moves the running statistics
    path = write_state_dict_pth(tmp_path / "g.pth", source.state_dict())
    G = program.load_generator(path)
    assert G.net[0].in_features == 64 and not G.training
    z = mg.randn(4, 64)
    with mg.no_grad():
        assert G(z).tolist() == source.eval()(z).tolist()
    assert program.main([str(path), "--n", "4", "--out", str(tmp_path / "grid.png")]) == 0
    assert (tmp_path / "grid.png").exists()
    assert capsys.readouterr().out.strip().endswith("grid.png")


def test_the_example_program_refuses_a_malicious_file_with_one_line(tmp_path, capsys):
    program = load_script(ROOT / "examples" / "load_pytorch_dcgan.py", "load_pytorch_dcgan")
    marker = tmp_path / "pwned"
    path = write_pth(tmp_path / "evil.pth", malicious_pickles(marker)["os.system"])
    assert program.main([str(path), "--out", str(tmp_path / "g.png")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: load_pth:") and err.count("\n") == 1
    assert not marker.exists() and not (tmp_path / "g.png").exists()


def test_the_example_program_refuses_a_state_dict_of_another_model(tmp_path, capsys):
    pytest.importorskip("safetensors")
    program = load_script(ROOT / "examples" / "load_pytorch_dcgan.py", "load_pytorch_dcgan")
    mg.save_safetensors(nn.Linear(2, 2).state_dict(), tmp_path / "linear.safetensors")
    assert program.main([str(tmp_path / "linear.safetensors")]) == 2
    assert "expected the state dict of a DCGAN generator" in capsys.readouterr().err

