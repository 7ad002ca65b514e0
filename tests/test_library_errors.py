"""The library's answers to careless input: integers promoted like PyTorch, broadcasting
errors that name the op and both shapes, BCE refusing NaN, and mg.load refusing anything
that is not a minigan .npz with one CheckpointError (never raw bytes, never a
RecursionError or MemoryError)."""
import io
import json
import math
import zipfile

import numpy as np
import pytest

import minigan as mg
import minigan.functional as F

from .helpers import assert_close, randn

INTS = [1, -2, 3, 0]


def ints():
    return mg.tensor(INTS)  # int64


# --- integer tensors: PyTorch's type promotion --------------------------------------

FLOAT_RESULTS = {  # op -> (minigan call, the float function of the same numbers)
    "sigmoid": (mg.sigmoid, lambda v: 1 / (1 + np.exp(-v))),
    "tanh": (mg.tanh, np.tanh),
    "exp": (mg.exp, np.exp),
    "log": (lambda t: mg.log(t.abs() + 1), lambda v: np.log(np.abs(v) + 1)),
    "sqrt": (lambda t: mg.sqrt(t.abs()), lambda v: np.sqrt(np.abs(v))),
    "leaky_relu": (lambda t: F.leaky_relu(t, 0.2), lambda v: np.where(v > 0, v, 0.2 * v)),
    "softmax": (lambda t: F.softmax(t, 0), lambda v: np.exp(v) / np.exp(v).sum()),
    "log_softmax": (lambda t: F.log_softmax(t, 0),
                    lambda v: v - np.log(np.exp(v).sum())),
    "logsumexp": (lambda t: mg.logsumexp(t, 0), lambda v: np.log(np.exp(v).sum())),
    "mean": (mg.mean, np.mean),
    "var": (lambda t: t.var(), lambda v: np.var(v, ddof=1)),
    "std": (lambda t: t.std(), lambda v: np.std(v, ddof=1)),
    "div": (lambda t: t / 2, lambda v: v / 2),
    "pow_half": (lambda t: t.abs() ** 0.5, lambda v: np.abs(v) ** 0.5),
    "rdiv": (lambda t: 1 / (t.abs() + 1), lambda v: 1 / (np.abs(v) + 1)),
}


@pytest.mark.parametrize("name", sorted(FLOAT_RESULTS))
def test_float_ops_on_integer_tensors_compute_in_the_default_float_dtype(backend, name):
    op, expected = FLOAT_RESULTS[name]
    y = op(ints())
    assert y.dtype == mg.get_default_dtype() == mg.float32
    np.testing.assert_allclose(y.numpy(), expected(np.array(INTS, dtype=np.float64)),
                               rtol=1e-6, atol=1e-7)


def test_sigmoid_and_leaky_relu_of_integers_are_not_zeros(backend):
    np.testing.assert_allclose(mg.sigmoid(ints()).numpy(), [0.7310586, 0.1192029, 0.9525741, 0.5],
                               rtol=1e-6)
    np.testing.assert_allclose(F.leaky_relu(ints(), 0.2).numpy(), [1.0, -0.4, 3.0, 0.0], rtol=1e-6)


INTEGER_RESULTS = {  # PyTorch keeps these integer
    "relu": (mg.relu, [1, 0, 3, 0]),
    "abs": (mg.abs, [1, 2, 3, 0]),
    "neg": (lambda t: -t, [-1, 2, -3, 0]),
    "clamp": (lambda t: t.clamp(0, 2), [1, 0, 2, 0]),
    "sign": (mg.sign, [1, -1, 1, 0]),
    "square": (lambda t: t ** 2, [1, 4, 9, 0]),
    "add": (lambda t: t + 1, [2, -1, 4, 1]),
    "sum": (mg.sum, 2),
    "max": (mg.max, 3),
    "min": (mg.min, -2),
}


@pytest.mark.parametrize("name", sorted(INTEGER_RESULTS))
def test_integer_preserving_ops_stay_integer_as_in_pytorch(backend, name):
    op, expected = INTEGER_RESULTS[name]
    y = op(ints())
    assert y.dtype == mg.int64
    assert y.numpy().tolist() == expected


def test_an_integer_tensor_meeting_a_float32_one_gives_float32_not_float64(backend):
    x = mg.ones(4)
    for y in (ints() + x, x * ints(), ints() - x, x / (ints().abs() + 1), mg.maximum(ints(), x),
              mg.where(mg.tensor([True, False, True, False]), ints(), x)):
        assert y.dtype == mg.float32


def test_integer_ops_match_torch(backend, torch):
    t = torch.tensor(INTS)
    pairs = [(mg.sigmoid(ints()), torch.sigmoid(t)), (mg.exp(ints()), torch.exp(t)),
             (mg.tanh(ints()), torch.tanh(t)), (ints() / 2, t / 2),
             (mg.relu(ints()), torch.relu(t)), (mg.logsumexp(ints(), 0), torch.logsumexp(t, 0))]
    for mine, theirs in pairs:
        assert str(mine.dtype) == str(theirs.dtype).replace("torch.", "")
        assert_close(mine, theirs.numpy(), atol=1e-6, rtol=1e-6)


# --- broadcasting errors name the op and both shapes --------------------------------

BINARY = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "pow": lambda a, b: a ** b,
    "maximum": mg.maximum, "minimum": mg.minimum, "less": lambda a, b: a < b,
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_a_broadcasting_failure_names_the_op_and_both_shapes(backend, name):
    a, b = randn(3, 4).abs() + 1, randn(5).abs() + 1
    with pytest.raises(ValueError, match=rf"^{name}: cannot broadcast shapes \(3, 4\) and \(5,\)$"):
        BINARY[name](a, b)


def test_where_names_all_three_shapes(backend):
    with pytest.raises(ValueError, match=r"^where: cannot broadcast shapes \(2,\) and \(2, 3\) "
                                         r"and \(2, 3\)$"):
        mg.where(mg.tensor([True, False]), randn(2, 3), randn(2, 3))


# --- binary_cross_entropy refuses what is not a probability --------------------------

@pytest.mark.parametrize("bad", [float("nan"), 1.5, -0.1, float("inf")])
def test_binary_cross_entropy_refuses_input_outside_zero_one_nan_included(backend, bad):
    x = mg.tensor([0.5, bad, 0.2])
    with pytest.raises(ValueError, match="all elements of input should be between 0 and 1; "
                                         "1 of 3 are not"):
        F.binary_cross_entropy(x, mg.tensor([1.0, 0.0, 1.0]))


def test_binary_cross_entropy_says_when_nan_is_among_the_bad_values(backend):
    with pytest.raises(ValueError, match=r"\(NaN among them\)"):
        F.binary_cross_entropy(mg.tensor([float("nan")]), mg.tensor([1.0]))


def test_binary_cross_entropy_accepts_the_ends_of_the_interval(backend):
    loss = F.binary_cross_entropy(mg.tensor([0.0, 1.0]), mg.tensor([0.0, 1.0]))
    assert loss.item() == 0.0


# --- mg.load: CheckpointError for anything that is not a minigan .npz -----------------

def test_checkpoint_error_is_public_and_a_value_error():
    assert mg.CheckpointError is mg.serialization.CheckpointError
    assert issubclass(mg.CheckpointError, ValueError)


def write_zip(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def npy_bytes(array):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def test_a_pytorch_zip_file_is_refused_not_returned_as_raw_bytes(tmp_path):
    path = tmp_path / "model.pth"
    write_zip(path, {"archive/data.pkl": b"\x80\x02}q\x00.", "archive/version": b"3\n",
                     "archive/data/0": b"\x00" * 16})
    with pytest.raises(mg.CheckpointError, match="model.pth.*PyTorch file"):
        mg.load(path)


def test_a_real_torch_save_file_is_refused(tmp_path, torch):
    path = tmp_path / "weights.pth"
    torch.save({"w": torch.ones(3)}, path)
    with pytest.raises(mg.CheckpointError, match="PyTorch file"):
        mg.load(path)


def test_a_zip_member_that_is_not_an_npy_array_is_refused(tmp_path):
    path = tmp_path / "notes.npz"
    write_zip(path, {"w.npy": npy_bytes(np.ones(3)), "readme.txt": b"hello"})
    with pytest.raises(mg.CheckpointError, match=r"member 'readme.txt' is not an .npy array"):
        mg.load(path)


def test_deeply_nested_json_is_a_checkpoint_error_not_a_recursion_error(tmp_path):
    path = tmp_path / "deep.npz"
    depth = 200_000
    root = "[" * depth + "]" * depth
    structure = '{"format": "minigan.save", "version": 1, "root": ' + root + "}"
    write_zip(path, {"__structure__.npy": npy_bytes(np.array(structure))})
    with pytest.raises(mg.CheckpointError, match="nested too deeply"):
        mg.load(path)


def test_nesting_that_json_parses_but_decoding_would_recurse_on_is_refused(tmp_path):
    path = tmp_path / "deep.npz"
    node = "null"
    for _ in range(5000):
        node = '{"type": "tuple", "items": [' + node + "]}"
    header = json.dumps({"format": "minigan.save", "version": 1})[:-1]
    structure = header + ', "root": ' + node + "}"
    write_zip(path, {"__structure__.npy": npy_bytes(np.array(structure))})
    with pytest.raises(mg.CheckpointError):
        mg.load(path)


def test_a_member_declaring_a_huge_array_is_refused_before_allocating(tmp_path):
    path = tmp_path / "huge.npz"
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
    write_zip(path, {"w.npy": header.getvalue() + b"\x00" * 64})
    with pytest.raises(mg.CheckpointError, match=r"declares an array of shape \(1000000000000,\)"
                                                  r".*8000000000000 bytes\) but holds 64 bytes"):
        mg.load(path)


def test_a_member_claiming_more_than_the_file_could_hold_is_refused(tmp_path):
    path = tmp_path / "bomb.npz"
    write_zip(path, {"w.npy": npy_bytes(np.zeros(10))})
    data = bytearray(path.read_bytes())
    # Patch the central directory's uncompressed size of the only member to 2**31.
    at = data.rfind(b"PK\x01\x02")
    data[at + 24:at + 28] = (2**31).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(mg.CheckpointError, match="claims 2147483648 bytes"):
        mg.load(path)


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 0.999])
def test_a_truncated_checkpoint_is_a_checkpoint_error(tmp_path, keep):
    path = tmp_path / "ckpt.npz"
    mg.save({"w": mg.ones(64, 64), "epoch": 3}, path)
    data = path.read_bytes()
    path.write_bytes(data[:math.floor(len(data) * keep)])
    with pytest.raises(mg.CheckpointError, match="ckpt.npz"):
        mg.load(path)


@pytest.mark.parametrize("seed", range(5))
def test_random_bytes_are_a_checkpoint_error(tmp_path, seed):
    path = tmp_path / "noise.npz"
    path.write_bytes(np.random.default_rng(seed).bytes(4096))
    with pytest.raises(mg.CheckpointError, match="noise.npz"):
        mg.load(path)


def test_a_plain_numpy_savez_file_still_loads_compressed_or_not(tmp_path):
    for save in (np.savez, np.savez_compressed):
        path = tmp_path / f"{save.__name__}.npz"
        save(path, w=np.arange(6.0).reshape(2, 3), b=np.array([1, 2], dtype=np.int32))
        loaded = mg.load(path)
        np.testing.assert_array_equal(loaded["w"], np.arange(6.0).reshape(2, 3))
        assert loaded["b"].dtype == np.int32
        loaded["w"][0, 0] = 7.0  # writable, like np.load's arrays


def test_a_fortran_ordered_array_loads_in_its_own_layout(tmp_path):
    path = tmp_path / "f.npz"
    array = np.asfortranarray(np.arange(12.0).reshape(3, 4))
    np.savez(path, a=array)
    np.testing.assert_array_equal(mg.load(path)["a"], array)
