"""Image transforms with torchvision's names and semantics, applied to whole batches.

    from minigan.data import transforms as T
    transform = T.Compose([T.RandomHorizontalFlip(), T.ToTensor(), T.Normalize((0.5,), (0.5,))])
    MNIST(transform=transform)     # what DataLoader serves: ToTensor, then (x - 0.5) / 0.5

Layouts follow torchvision's: an image before `ToTensor` is uint8 in HWC order
(what a PIL image or a NumPy image is: (H, W, C), or (H, W) for grey); after it,
float in CHW order (a torch image tensor: (C, H, W)). So a uint8 array is
always read as HWC and a float array or Tensor as CHW.

Every transform also takes a whole batch with one more leading axis,
(B, H, W, C) uint8 or (B, C, H, W) float, and treats each image as
torchvision would treat it alone; DataLoader hands it the batch, so no Python
loop runs per image. Random transforms (RandomHorizontalFlip) draw from the
backend's seeded generator, as torchvision's draw from torch's, so a seeded run
is repeatable and a resumed run continues the same draws.

Resize and CenterCrop work on either layout. Resize here interpolates
bilinearly with half-pixel centres and no antialiasing, as torchvision's on a
tensor with antialias=False (ImageFolder resizes its files with Pillow instead,
once, when it decodes them).
"""
import numbers

import numpy as np

import minigan as mg

__all__ = ["Compose", "ToTensor", "Normalize", "RandomHorizontalFlip", "Resize", "CenterCrop"]


class Compose:
    """Apply transforms one after another: Compose([t1, t2])(x) = t2(t1(x))."""

    def __init__(self, transforms):
        self.transforms = list(transforms)
        for t in self.transforms:
            if not callable(t):
                raise TypeError(f"Compose: expected callables, got a {type(t).__name__}")

    def __call__(self, x):
        for t in self.transforms:
            x = t(x)
        return x

    def __repr__(self):
        body = "".join(f"\n    {t!r}" for t in self.transforms)
        return f"Compose({body}\n)"


class ToTensor:
    """uint8 HWC image(s) 0..255 -> float32 CHW Tensor in [0, 1], as x / 255.

    (H, W) -> (1, H, W); (H, W, C) -> (C, H, W); a batch (B, H, W, C) -> (B, C, H, W).
    Float input is refused: torchvision's ToTensor scales only uint8 images, and a
    float image here is already CHW.
    """

    def __call__(self, pic):
        array = _host(pic)
        if array.dtype != np.uint8 or array.ndim not in (2, 3, 4):
            raise TypeError(
                "ToTensor: expected a uint8 image (H, W), (H, W, C) or a batch (B, H, W, C), "
                f"got {_describe(pic)}")
        if array.ndim == 2:
            array = array[:, :, None]
        chw = np.moveaxis(array, -1, -3)
        return mg.tensor(np.ascontiguousarray(chw, dtype=np.float32) / np.float32(255.0))

    def __repr__(self):
        return "ToTensor()"


class Normalize:
    """(x - mean[c]) / std[c] per channel c of float CHW image(s), as torchvision's.

    mean, std: one number per channel (or one for all); a std of 0 is refused.
    """

    def __init__(self, mean, std, inplace=False):
        self.mean = tuple(float(m) for m in _sequence(mean))
        self.std = tuple(float(s) for s in _sequence(std))
        if any(s == 0 for s in self.std):
            raise ValueError(f"Normalize: std evaluated to zero, leading to division by zero: {self.std}")
        self.inplace = inplace  # accepted for torchvision's signature; the result is always new

    def __call__(self, tensor):
        array, was_tensor = _float_chw(tensor, "Normalize")
        channels = array.shape[-3]
        for name, values in (("mean", self.mean), ("std", self.std)):
            if len(values) not in (1, channels):
                raise ValueError(f"Normalize: expected {channels} (or 1) {name} values for "
                                 f"{channels} channels, got {len(values)}")
        mean = np.asarray(self.mean, dtype=array.dtype).reshape(-1, 1, 1)
        std = np.asarray(self.std, dtype=array.dtype).reshape(-1, 1, 1)
        return _like((array - mean) / std, was_tensor)

    def __repr__(self):
        return f"Normalize(mean={self.mean}, std={self.std})"


class RandomHorizontalFlip:
    """Mirror each image left to right with probability p (each image of a batch drawn alone)."""

    def __init__(self, p=0.5):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"RandomHorizontalFlip: expected p in [0, 1], got {p}")
        self.p = p

    def __call__(self, img):
        array, was_tensor = _host(img), isinstance(img, mg.Tensor)
        _, width_axis = _spatial_axes(array)
        single = not _is_batch(array)
        batch = array[None] if single else array
        flip = mg.rand(len(batch)).numpy() < self.p
        out = batch.copy()
        out[flip] = np.flip(batch[flip], axis=width_axis + single)
        return _like(out[0] if single else out, was_tensor)

    def __repr__(self):
        return f"RandomHorizontalFlip(p={self.p})"


class Resize:
    """Resize image(s) to `size`: an int resizes the shorter side to it (keeping the aspect
    ratio, the longer side truncated to an int, as torchvision), (h, w) resizes exactly."""

    def __init__(self, size):
        self.size = _size_argument(size, "Resize", allow_int=True)

    def __call__(self, img):
        array, was_tensor = _host(img), isinstance(img, mg.Tensor)
        h_axis, w_axis = _spatial_axes(array)
        h, w = array.shape[h_axis], array.shape[w_axis]
        out_h, out_w = resized_shape(h, w, self.size)
        if (out_h, out_w) == (h, w):
            return _like(array.copy(), was_tensor)
        rows = _bilinear_weights(h, out_h)
        cols = _bilinear_weights(w, out_w)
        x = np.moveaxis(array.astype(np.float32), (h_axis, w_axis), (-2, -1))
        x = rows @ x @ cols.T  # (out_h, h) @ (..., h, w) @ (w, out_w)
        x = np.moveaxis(x, (-2, -1), (h_axis, w_axis))
        if array.dtype == np.uint8:
            x = np.clip(np.round(x), 0, 255).astype(np.uint8)
        return _like(np.ascontiguousarray(x), was_tensor)

    def __repr__(self):
        return f"Resize(size={self.size})"


class CenterCrop:
    """Crop the centre (h, w) of image(s); an int crops a square. The offsets are
    round((H - h) / 2) and round((W - w) / 2), as torchvision's."""

    def __init__(self, size):
        self.size = _size_argument(size, "CenterCrop", allow_int=True)
        if isinstance(self.size, int):
            self.size = (self.size, self.size)

    def __call__(self, img):
        array, was_tensor = _host(img), isinstance(img, mg.Tensor)
        h_axis, w_axis = _spatial_axes(array)
        h, w = array.shape[h_axis], array.shape[w_axis]
        crop_h, crop_w = self.size
        if crop_h > h or crop_w > w:
            raise ValueError(f"CenterCrop: expected an image at least {crop_h} x {crop_w}, got {h} x {w}")
        top, left = center_crop_offsets(h, w, crop_h, crop_w)
        index = [slice(None)] * array.ndim
        index[h_axis] = slice(top, top + crop_h)
        index[w_axis] = slice(left, left + crop_w)
        return _like(np.ascontiguousarray(array[tuple(index)]), was_tensor)

    def __repr__(self):
        return f"CenterCrop(size={self.size})"


# --- shared arithmetic (ImageFolder uses these too) ---------------------------------

def resized_shape(h, w, size):
    """torchvision's output (height, width) of Resize(size) on an h x w image."""
    if not isinstance(size, int):
        return tuple(size)
    short, long = (h, w) if h <= w else (w, h)
    new_short, new_long = size, int(size * long / short)
    return (new_short, new_long) if h <= w else (new_long, new_short)


def center_crop_offsets(h, w, crop_h, crop_w):
    """(top, left) of torchvision's CenterCrop: round((H - h) / 2), round((W - w) / 2)."""
    return int(round((h - crop_h) / 2.0)), int(round((w - crop_w) / 2.0))


def _bilinear_weights(n_in, n_out):
    """The (n_out, n_in) matrix of 1-D linear interpolation with half-pixel centres:
    output i samples input coordinate (i + 0.5) * n_in / n_out - 0.5, clamped at the edges."""
    coordinate = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
    coordinate = np.clip(coordinate, 0, n_in - 1)
    low = np.floor(coordinate).astype(np.int64)
    high = np.minimum(low + 1, n_in - 1)
    frac = (coordinate - low).astype(np.float32)
    weights = np.zeros((n_out, n_in), dtype=np.float32)
    weights[np.arange(n_out), low] += 1 - frac
    weights[np.arange(n_out), high] += frac
    return weights


# --- layouts -----------------------------------------------------------------------

def _host(x):
    """A NumPy view of an image: Tensors come off the backend explicitly."""
    if isinstance(x, mg.Tensor):
        return x.numpy()
    if isinstance(x, np.ndarray):
        return x
    if hasattr(x, "mode") and hasattr(x, "size"):  # a PIL image
        return np.asarray(x)
    raise TypeError(f"expected an image as a NumPy array, a Tensor or a PIL image, got {type(x).__name__}")


def _like(array, was_tensor):
    return mg.tensor(array) if was_tensor else array


def _is_batch(array):
    return array.ndim == 4


def _spatial_axes(array):
    """(height axis, width axis): HWC / HW for uint8, CHW for float, batches included."""
    if array.dtype == np.uint8:
        if array.ndim == 2:
            return 0, 1
        if array.ndim in (3, 4):
            return array.ndim - 3, array.ndim - 2
    elif array.dtype.kind == "f" and array.ndim in (3, 4):
        return array.ndim - 2, array.ndim - 1
    raise TypeError(f"expected uint8 HWC image(s) or float CHW image(s), got {_describe(array)}")


def _float_chw(x, name):
    array = _host(x)
    if array.dtype.kind != "f" or array.ndim not in (3, 4):
        raise TypeError(f"{name}: expected a float image (C, H, W) or batch (B, C, H, W) "
                        f"(apply ToTensor first), got {_describe(x)}")
    return array, isinstance(x, mg.Tensor)


def _describe(x):
    if isinstance(x, mg.Tensor):
        return f"a {x.dtype} Tensor of shape {tuple(x.shape)}"
    if isinstance(x, np.ndarray):
        return f"a {x.dtype} array of shape {x.shape}"
    return f"a {type(x).__name__}"


def _sequence(values):
    if isinstance(values, numbers.Real):
        return (values,)
    return tuple(values)


def _size_argument(size, name, allow_int):
    if allow_int and isinstance(size, numbers.Integral) and not isinstance(size, bool) and size > 0:
        return int(size)
    if (isinstance(size, (tuple, list)) and len(size) in (1, 2)
            and all(isinstance(s, numbers.Integral) and s > 0 for s in size)):
        return (int(size[0]), int(size[-1]))
    raise ValueError(f"{name}: expected size as a positive int or (height, width), got {size!r}")
