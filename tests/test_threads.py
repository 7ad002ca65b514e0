"""Passes split across threads (minigan/_threads.py) give bit-identical results to the
same passes in one piece: im2col's window copy and col2im's adds, on odd sizes, on
non-contiguous inputs, with padding, stride and dilation; and the splitting itself
covers every row exactly once and reports a piece's exception."""
import numpy as np
import pytest

from minigan import _threads
from minigan.functional.conv import _col2im, _im2col


@pytest.fixture
def threads(monkeypatch):
    """Run with `count` threads and no size threshold; put the old settings back."""
    before = _threads.get_num_threads()

    def use(count):
        monkeypatch.setattr(_threads, "MIN_ELEMENTS", 0)
        _threads.set_num_threads(count)

    yield use
    _threads.set_num_threads(before)


GEOMETRIES = [  # (C, H, W, N), kernel, stride, padding, dilation
    ((5, 9, 7, 3), (4, 4), (2, 2), (1, 1), (1, 1)),
    ((7, 11, 6, 5), (3, 2), (1, 2), (0, 1), (2, 1)),
    ((3, 8, 8, 2), (1, 1), (1, 1), (0, 0), (1, 1)),
]


def grid(shape, kernel, stride, padding, dilation):
    return tuple((n + 2 * p - d * (k - 1) - 1) // s + 1
                 for n, k, s, p, d in zip(shape[1:3], kernel, stride, padding, dilation))


@pytest.mark.parametrize("count", [2, 3, 4])
@pytest.mark.parametrize("geometry", GEOMETRIES)
@pytest.mark.parametrize("layout", ["batch_last", "batch_first_memory"])
def test_threaded_im2col_equals_one_piece_bit_for_bit(threads, count, geometry, layout):
    shape, kernel, stride, padding, dilation = geometry
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(np.float32)
    if layout == "batch_first_memory":  # (C, H, W, N) viewing (N, C, H, W) memory
        x = np.ascontiguousarray(x.transpose(3, 0, 1, 2)).transpose(1, 2, 3, 0)
        assert not x.flags.c_contiguous
    size = grid(shape, kernel, stride, padding, dilation)
    threads(1)
    expected = _im2col(x, kernel, size, stride, padding, dilation)
    threads(count)
    got = _im2col(x, kernel, size, stride, padding, dilation)
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == np.float32


@pytest.mark.parametrize("count", [2, 3])
@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_threaded_col2im_equals_one_piece_bit_for_bit(threads, count, geometry):
    shape, kernel, stride, padding, dilation = geometry
    size = grid(shape, kernel, stride, padding, dilation)
    rng = np.random.default_rng(2)
    # float32 sums of overlapping windows: any change of order would show in the bits
    cols = rng.standard_normal((shape[0], *kernel, *size, shape[3])).astype(np.float32)
    cols = cols[..., ::-1]  # non-contiguous, as a product's transposed result may be
    args = (shape[1:3], kernel, stride, padding, dilation)
    threads(1)
    expected = _col2im(cols.copy(), *args)  # a copy each: col2im sums within its input
    threads(count)
    np.testing.assert_array_equal(_col2im(cols.copy(), *args), expected)


def test_im2col_and_col2im_stay_adjoint_when_threaded(threads):
    """<im2col(x), c> == <x, col2im(c)>, which the convolution gradients rely on."""
    threads(3)
    shape, kernel, stride, padding, dilation = GEOMETRIES[0]
    size = grid(shape, kernel, stride, padding, dilation)
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape)
    c = rng.standard_normal((shape[0] * kernel[0] * kernel[1], size[0] * size[1] * shape[3]))
    left = np.sum(_im2col(x, kernel, size, stride, padding, dilation) * c)
    right = np.sum(x * _col2im(c.reshape(shape[0], *kernel, *size, shape[3]),
                               shape[1:3], kernel, stride, padding, dilation))
    assert left == pytest.approx(right, rel=1e-12)


@pytest.mark.parametrize("rows,count", [(1, 4), (7, 2), (10, 3), (101, 4)])
def test_split_covers_every_row_once(threads, rows, count):
    threads(count)
    seen = np.zeros(rows, dtype=int)
    _threads.split(lambda a, b: np.add.at(seen, np.arange(a, b), 1), rows, np.zeros(10))
    assert seen.tolist() == [1] * rows


def test_split_raises_a_pieces_exception(threads):
    threads(2)

    def work(start, stop):
        if start > 0:
            raise ValueError("piece failed")

    with pytest.raises(ValueError, match="piece failed"):
        _threads.split(work, 4, np.zeros(10))


def test_small_arrays_and_other_backends_run_in_one_piece(threads, monkeypatch):
    threads(4)
    calls = []
    monkeypatch.setattr(_threads, "MIN_ELEMENTS", 100)
    _threads.split(lambda a, b: calls.append((a, b)), 8, np.zeros(99))
    assert calls == [(0, 8)]
    calls.clear()
    _threads.split(lambda a, b: calls.append((a, b)), 8, [0.0] * 1000)  # not a backend array
    assert calls == [(0, 8)]


def test_set_num_threads_refuses_zero():
    with pytest.raises(ValueError, match="expected a positive number, got 0"):
        _threads.set_num_threads(0)


def test_threaded_convolutions_forward_and_backward_are_bit_identical(threads):
    import minigan as mg
    import minigan.functional as F
    rng = np.random.default_rng(4)
    x = rng.standard_normal((6, 5, 14, 14)).astype(np.float32)
    w = rng.standard_normal((7, 5, 4, 4)).astype(np.float32)
    wt = rng.standard_normal((5, 3, 4, 4)).astype(np.float32)

    def run():
        tx, tw, twt = (mg.tensor(a, requires_grad=True) for a in (x, w, wt))
        y = F.conv2d(tx, tw, stride=2, padding=1)
        z = F.conv_transpose2d(tx, twt, stride=2, padding=1)
        ((y * y).sum() + (z * z).sum()).backward()
        return [a.numpy() for a in (y, z, tx.grad, tw.grad, twt.grad)]

    threads(1)
    expected = run()
    threads(3)
    for got, want in zip(run(), expected):
        np.testing.assert_array_equal(got, want)
