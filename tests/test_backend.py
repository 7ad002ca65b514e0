"""Backends: choosing one, the strict backend's device rules, moving data, random numbers.

The strict backend is how the suite keeps the CuPy path honest without a GPU:
its arrays refuse everything a CuPy array refuses (implicit conversion to
NumPy, mixing with NumPy arrays, float()/bool() of many elements, iterating),
while NumPy functions applied to them give strict arrays back.
"""
import numpy as np
import pytest

import minigan as mg
from minigan import backend as B
from minigan._strict import StrictArray

from .helpers import assert_close


def _cupy_with_gpu():
    try:
        import cupy
        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:
        return False


# --- choosing a backend ---------------------------------------------------------------

def test_set_backend_chooses_where_new_tensors_live():
    previous = mg.get_backend().name
    try:
        assert mg.set_backend("strict").name == "strict"
        assert mg.zeros(2).backend == "strict"
        assert isinstance(mg.tensor([1.0]).data, StrictArray)
        mg.set_backend("numpy")
        assert mg.zeros(2).backend == "numpy"
        assert type(mg.tensor([1.0]).data) is np.ndarray
    finally:
        mg.set_backend(previous)


def test_use_backend_restores_the_previous_one_even_after_an_error():
    before = mg.get_backend()
    with pytest.raises(KeyError):
        with mg.use_backend("strict") as chosen:
            assert chosen.name == "strict" and mg.get_backend() is chosen
            raise KeyError("boom")
    assert mg.get_backend() is before


def test_an_unknown_backend_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown backend 'torch'.*numpy, cupy, strict"):
        mg.set_backend("torch")


@pytest.mark.skipif(_cupy_with_gpu(), reason="CuPy and a GPU are present")
def test_choosing_cupy_without_a_gpu_raises_one_clear_runtime_error():
    before = mg.get_backend()
    for _ in range(2):  # and again: no half-made backend is left behind
        with pytest.raises(RuntimeError, match="backend 'cupy' needs CuPy and an NVIDIA GPU"):
            mg.set_backend("cupy")
    assert mg.get_backend() is before


# --- the strict backend's rules -------------------------------------------------------

@pytest.fixture
def strict_array():
    return B.get_backend("strict").to_device(np.array([[1.0, 2.0], [3.0, 4.0]]))


def test_strict_arrays_refuse_implicit_conversion_to_numpy(strict_array):
    with pytest.raises(TypeError, match="implicit conversion"):
        np.asarray(strict_array)
    with pytest.raises(TypeError, match="implicit conversion"):
        np.array(strict_array)


def test_strict_arrays_refuse_to_mix_with_numpy_arrays_both_ways(strict_array):
    host = np.ones((2, 2))
    with pytest.raises(TypeError, match="mixing a NumPy array"):
        strict_array + host
    with pytest.raises(TypeError, match="mixing a NumPy array"):
        host + strict_array
    with pytest.raises(TypeError, match="mixing a NumPy array"):
        host * strict_array
    with pytest.raises(TypeError, match="mixing a NumPy array"):
        np.matmul(host, strict_array)


def test_strict_arrays_refuse_float_bool_and_iteration_of_many_elements(strict_array):
    with pytest.raises(TypeError, match=r"float\(\)"):
        float(strict_array)
    with pytest.raises(TypeError, match=r"bool\(\)"):
        bool(strict_array)
    with pytest.raises(TypeError, match="iterating"):
        list(strict_array)
    assert float(strict_array[1, 0]) == 3.0  # one element may cross, as with CuPy
    assert bool(strict_array[0, 0] == 1.0)


def test_numpy_functions_on_strict_arrays_return_strict_arrays(strict_array):
    for result in (np.exp(strict_array), np.sum(strict_array), np.concatenate([strict_array] * 2),
                   strict_array.sum(axis=0), strict_array + 1.0, -strict_array, strict_array.T,
                   strict_array[0], np.where(strict_array > 2, strict_array, 0.0)):
        assert type(result) is StrictArray
    assert_close(B.to_numpy(np.sum(strict_array)), 10.0)


def test_strict_scalars_are_zero_dimensional_arrays_as_in_cupy(strict_array):
    assert type(np.sum(strict_array)._a) is np.ndarray
    assert type((-strict_array[0, 0])._a) is np.ndarray
    assert type((-strict_array[0, 0]) * 2.0) is StrictArray


def test_to_device_and_to_numpy_are_the_explicit_crossings():
    host = np.array([1.0, 2.0])
    with mg.use_backend("strict"):
        device = mg.to_device(host)
        assert type(device) is StrictArray
        back = mg.to_numpy(device)
        assert type(back) is np.ndarray
        np.testing.assert_array_equal(back, host)
        back[0] = 100.0  # a copy: the device array is unchanged
        assert_close(mg.to_numpy(device), [1.0, 2.0])
    with mg.use_backend("numpy"):
        assert type(mg.to_device(host)) is np.ndarray
        assert mg.to_numpy(host) is not None


# --- tensors on two backends ----------------------------------------------------------

def test_an_op_on_tensors_of_two_backends_names_both():
    with mg.use_backend("numpy"):
        a = mg.tensor([1.0, 2.0])
    with mg.use_backend("strict"):
        b = mg.tensor([1.0, 2.0])
    with pytest.raises(TypeError, match="numpy and strict"):
        a + b
    with pytest.raises(TypeError, match="strict and numpy"):
        b * a


def test_tensor_to_moves_between_backends_keeping_values_and_dtype():
    with mg.use_backend("numpy"):
        x = mg.tensor([[1.0, 2.0]], dtype=mg.float64, requires_grad=True)
    moved = x.to("strict")
    assert moved.backend == "strict" and isinstance(moved.data, StrictArray)
    assert moved.dtype == mg.float64 and moved.requires_grad
    assert_close(moved, [[1.0, 2.0]])
    assert x.to("numpy") is x
    back = moved.to("numpy")
    assert back.backend == "numpy" and type(back.data) is np.ndarray
    (moved * 2).sum().backward()  # the moved tensor is a leaf of its own
    assert_close(moved.grad, [[2.0, 2.0]])
    assert x.grad is None


def test_strict_tensors_print_and_convert_to_numpy_explicitly(backend):
    x = mg.tensor([1.5, 2.5])
    assert "1.5" in repr(x)
    assert type(x.numpy()) is np.ndarray
    assert x[0].item() == 1.5
    assert x.tolist() == [1.5, 2.5]


# --- random numbers -------------------------------------------------------------------

def test_manual_seed_makes_random_tensors_reproducible(backend):
    mg.manual_seed(123)
    first = [mg.randn(3).numpy(), mg.rand(2).numpy(), mg.randint(0, 10, (4,)).numpy()]
    mg.manual_seed(123)
    second = [mg.randn(3).numpy(), mg.rand(2).numpy(), mg.randint(0, 10, (4,)).numpy()]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], mg.randn(3).numpy())


def test_numpy_and_strict_draw_the_same_numbers_from_the_same_seed():
    draws = {}
    for name in ("numpy", "strict"):
        with mg.use_backend(name):
            mg.manual_seed(7)
            draws[name] = (mg.randn(2, 3).numpy(), mg.rand(4).numpy(), mg.randint(0, 5, 6).numpy())
    for a, b in zip(draws["numpy"], draws["strict"]):
        np.testing.assert_array_equal(a, b)


def test_fork_rng_puts_every_generator_back_as_it_was(backend):
    mg.manual_seed(5)
    expected = mg.randn(4).numpy()
    mg.manual_seed(5)
    with mg.backend.fork_rng():
        mg.manual_seed(99)
        mg.randn(1000)
    np.testing.assert_array_equal(mg.randn(4).numpy(), expected)


def test_random_like_functions_follow_the_tensor(backend):
    x = mg.zeros(2, 3, dtype=mg.float64)
    assert mg.randn_like(x).shape == (2, 3) and mg.randn_like(x).dtype == mg.float64
    assert mg.rand_like(x).backend == backend


# --- dtypes ---------------------------------------------------------------------------

def test_the_default_dtype_is_float32(backend):
    assert mg.get_default_dtype() == mg.float32
    for t in (mg.tensor([1.0, 2.0]), mg.tensor(0.5), mg.zeros(2), mg.ones(2), mg.randn(2),
              mg.rand(2), mg.full((2,), 3.0), mg.arange(0.0, 1.0, 0.5)):
        assert t.dtype == mg.float32
    assert mg.tensor([1, 2]).dtype == mg.int64 and mg.arange(3).dtype == mg.int64
    assert mg.tensor([True]).dtype == mg.bool_


def test_set_default_dtype_accepts_floats_only():
    try:
        mg.set_default_dtype(mg.float64)
        assert mg.tensor([1.0]).dtype == mg.float64 and mg.randn(2).dtype == mg.float64
    finally:
        mg.set_default_dtype(mg.float32)
    with pytest.raises(ValueError, match="floating"):
        mg.set_default_dtype(np.int32)
    assert mg.get_default_dtype() == mg.float32


def test_tensor_keeps_the_dtype_of_an_array_and_copies_it(backend):
    host = np.array([1.0, 2.0], dtype=np.float64)
    x = mg.tensor(host)
    host[0] = 100.0
    assert x.dtype == mg.float64 and x.numpy()[0] == 1.0
    y = mg.tensor(x)
    assert y.data is not x.data
    assert mg.tensor(np.float64(2.5)).shape == ()
