"""The IDX file format, in which MNIST is published.

An IDX file is a header followed by the array's elements, all big-endian:

    bytes 0-1    0x00 0x00                      (the magic number)
    byte  2      dtype code                     (0x08 uint8, 0x09 int8, 0x0B int16,
                                                  0x0C int32, 0x0D float32, 0x0E float64)
    byte  3      ndim                           (number of dimensions)
    ndim x 4     each dimension, a uint32
    the rest     prod(dims) elements, C order (last index fastest)

For example, MNIST's training images are the 16-byte header
00 00 08 03 | 00 00 ea 60 | 00 00 00 1c | 00 00 00 1c   (uint8, 3 dims: 60000, 28, 28)
followed by 60000 * 28 * 28 = 47,040,000 pixel bytes.
"""
import struct

import numpy as np

# dtype code -> big-endian NumPy dtype of the elements.
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_DTYPE_CODES = {dtype.newbyteorder("="): code for code, dtype in IDX_DTYPES.items()}
_SUPPORTED = ", ".join(f"0x{code:02X} ({dtype.newbyteorder('=').name})" for code, dtype in IDX_DTYPES.items())


def read_idx(data: bytes) -> np.ndarray:
    """Parse the bytes of an (uncompressed) IDX file into an array.

    Returns a new, writable array in native byte order, of the shape and dtype the
    header declares, e.g. uint8 (60000, 28, 28) for MNIST's training images.
    Raises ValueError, naming what was expected and what came, when the magic
    number is wrong, the dtype code is unknown, or the number of bytes does not
    match the header (a truncated file, or trailing bytes).
    """
    data = memoryview(data).cast("B")
    dtype, ndim = _read_magic(data)
    shape = _read_shape(data, ndim)
    header_size = 4 + 4 * ndim
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    got = len(data) - header_size
    if got != expected:
        problem = "truncated" if got < expected else f"{got - expected} trailing bytes"
        raise ValueError(
            f"read_idx: header declares {dtype.newbyteorder('=').name} array of shape {shape}, "
            f"expected {expected} data bytes, got {got} ({problem})"
        )
    elements = np.frombuffer(data, dtype=dtype, offset=header_size).reshape(shape)
    return elements.astype(dtype.newbyteorder("="))


def write_idx(array) -> bytes:
    """Encode an array as the bytes of an IDX file (the inverse of `read_idx`).

    `array` may have any shape (each dimension < 2**32) and must have one of the
    IDX dtypes: uint8, int8, int16, int32, float32, float64.
    """
    array = np.asarray(array)
    code = _DTYPE_CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise ValueError(f"write_idx: expected an IDX dtype ({_SUPPORTED}), got dtype {array.dtype}")
    if array.ndim > 255 or any(size >= 2**32 for size in array.shape):
        raise ValueError(f"write_idx: expected at most 255 dimensions, each < 2**32, got shape {array.shape}")
    header = struct.pack(f">BBBB{array.ndim}I", 0, 0, code, array.ndim, *array.shape)
    return header + np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()


def _read_magic(data):
    """Check the 4-byte magic number; return (element dtype, ndim)."""
    if len(data) < 4:
        raise ValueError(f"read_idx: expected at least 4 header bytes, got {len(data)}")
    if data[0] != 0 or data[1] != 0:
        hint = " (the data looks gzip-compressed; decompress it first)" if data[:2] == b"\x1f\x8b" else ""
        raise ValueError(f"read_idx: expected magic bytes 00 00, got {data[0]:02x} {data[1]:02x}{hint}")
    code, ndim = data[2], data[3]
    if code not in IDX_DTYPES:
        raise ValueError(f"read_idx: expected a dtype code among {_SUPPORTED}, got 0x{code:02X}")
    return IDX_DTYPES[code], ndim


def _read_shape(data, ndim):
    """Read the ndim big-endian uint32 dimensions that follow the magic number."""
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise ValueError(
            f"read_idx: expected a {header_size}-byte header for {ndim} dimensions, "
            f"got {len(data)} bytes (truncated)"
        )
    return struct.unpack_from(f">{ndim}I", data, 4)
