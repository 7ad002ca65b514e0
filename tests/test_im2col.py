"""The convolutions' two data movements against their definitions, written as loops
over every number: im2col copies each window into a column, col2im adds each column
entry back onto its pixel. The fast versions never build the padded image and
col2im copies a phase's covering offset instead of adding it onto zeros, so the
geometries include every way that can go wrong: windows wholly in the padding,
strides longer than the kernel (pixels no window reaches, which must be 0), a
phase no single offset covers, dilation, and one-pixel images. On a GPU (and the
strict backend, its stand-in) im2col pads x once and copies every window through one
strided view instead; both ways give the same numbers."""
import itertools

import numpy as np
import pytest

import minigan as mg
from minigan.functional.conv import _col2im, _im2col, conv_output_size

GEOMETRIES = [  # (C, H, W, N), kernel, stride, padding, dilation
    ((2, 14, 14, 3), (4, 4), (2, 2), (1, 1), (1, 1)),  # the GANs' layers
    ((2, 7, 9, 2), (4, 4), (2, 2), (1, 1), (1, 1)),    # odd sizes: a partial last phase
    ((3, 6, 5, 2), (3, 2), (1, 2), (0, 1), (2, 1)),
    ((1, 3, 4, 2), (2, 2), (1, 1), (3, 2), (1, 1)),    # windows wholly in the padding
    ((2, 9, 8, 1), (2, 1), (3, 4), (0, 0), (1, 1)),    # stride > kernel: pixels skipped
    ((2, 8, 7, 2), (3, 3), (2, 3), (2, 1), (2, 2)),    # dilation and stride together
    ((1, 1, 1, 2), (3, 3), (1, 1), (1, 1), (1, 1)),    # one pixel
    ((2, 5, 5, 3), (1, 1), (1, 1), (0, 0), (1, 1)),
    ((1, 10, 10, 2), (5, 5), (2, 2), (2, 2), (1, 1)),  # a phase with no covering offset
]


def windows(geometry):
    """Every (c, i, j, h, w) and the padded pixel (row, column) it reads."""
    (c, height, width, _), kernel, stride, padding, dilation = geometry
    grid = conv_output_size((height, width), kernel, stride, padding, dilation)
    for ch, i, j, h, w in itertools.product(range(c), range(kernel[0]), range(kernel[1]),
                                            range(grid[0]), range(grid[1])):
        yield (ch, i, j, h, w), (stride[0] * h + dilation[0] * i - padding[0],
                                 stride[1] * w + dilation[1] * j - padding[1])


def inside(pixel, geometry):
    return 0 <= pixel[0] < geometry[0][1] and 0 <= pixel[1] < geometry[0][2]


@pytest.mark.parametrize("geometry", GEOMETRIES)
@pytest.mark.parametrize("layout", ["batch_last", "batch_first_memory"])
def test_im2col_copies_every_window_and_zeros_the_padding(geometry, layout):
    shape, kernel, stride, padding, dilation = geometry
    x = np.random.default_rng(0).standard_normal(shape)
    if layout == "batch_first_memory":  # (C, H, W, N) viewing (N, C, H, W) memory
        x = np.ascontiguousarray(x.transpose(3, 0, 1, 2)).transpose(1, 2, 3, 0)
    grid = conv_output_size(shape[1:3], kernel, stride, padding, dilation)
    cols = _im2col(x, kernel, grid, stride, padding, dilation)
    cols = cols.reshape(shape[0], *kernel, *grid, shape[3])
    expected = np.zeros_like(cols)
    for (ch, i, j, h, w), pixel in windows(geometry):
        if inside(pixel, geometry):
            expected[ch, i, j, h, w] = x[ch, pixel[0], pixel[1]]
    np.testing.assert_array_equal(cols, expected)


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_im2col_on_the_strict_backend_pads_once_and_gives_the_same_numbers(geometry):
    shape, kernel, stride, padding, dilation = geometry
    x = np.random.default_rng(2).standard_normal(shape)
    grid = conv_output_size(shape[1:3], kernel, stride, padding, dilation)
    expected = _im2col(x, kernel, grid, stride, padding, dilation)  # numpy: per offset
    with mg.use_backend("strict"):
        got = _im2col(mg.tensor(x).data, kernel, grid, stride, padding, dilation)
    assert type(got).__name__ == "StrictArray"
    np.testing.assert_array_equal(mg.to_numpy(got), expected)


@pytest.mark.parametrize("geometry", GEOMETRIES)
def test_col2im_adds_every_entry_onto_its_pixel_and_nothing_else(geometry):
    shape, kernel, stride, padding, dilation = geometry
    grid = conv_output_size(shape[1:3], kernel, stride, padding, dilation)
    # small integers: every sum is exact, whatever order the fast version adds in
    cols = np.random.default_rng(1).integers(-9, 10, (shape[0], *kernel, *grid, shape[3]))
    cols = cols.astype(np.float64)[..., ::-1]  # non-contiguous, as a product's result may be
    image = _col2im(cols.copy(), shape[1:3], kernel, stride, padding, dilation)
    expected = np.zeros(shape)
    for (ch, i, j, h, w), pixel in windows(geometry):
        if inside(pixel, geometry):
            expected[ch, pixel[0], pixel[1]] += cols[ch, i, j, h, w]
    assert image.flags.c_contiguous  # no padded image cut down: the next op reads runs
    np.testing.assert_array_equal(image, expected)


def test_col2im_starts_each_sum_with_a_covering_offset_then_adds_in_order():
    """float32 sums depend on their order; the docstring's order, checked on one
    pixel the GANs' layers reach from four offsets: (2, 2) covers its phase whole and
    comes first, then (0, 0), (0, 2), (2, 0) are added in turn."""
    cols = np.zeros((1, 4, 4, 7, 7, 1), dtype=np.float32)
    values = {(2, 2): 1e8, (0, 0): 5.0, (0, 2): 5.0, (2, 0): -1e8}
    # pixel (3, 3) of the unpadded image: s*h + i - p = 3 -> (i, h) = (0, 2) or (2, 1)
    for (i, j), v in values.items():
        cols[0, i, j, (3 + 1 - i) // 2, (3 + 1 - j) // 2, 0] = v
    image = _col2im(cols, (14, 14), (4, 4), (2, 2), (1, 1), (1, 1))
    one = np.float32
    assert image[0, 3, 3, 0] == ((one(1e8) + one(5)) + one(5)) + one(-1e8) == 16
    assert ((one(5) + one(5)) + one(-1e8)) + one(1e8) == 8  # offsets in plain order
