"""ImageFolder: a folder of PNG/JPEG files as a dataset, decoded once and cached.

    root/cat/001.png, root/cat/002.jpg, root/dog/003.png  -> classes ["cat", "dog"], labels 0, 0, 1
    root/001.png, root/002.jpg                            -> classes [], every label 0

as torchvision.datasets.ImageFolder (class folders are searched recursively;
files are in sorted order). Each file is decoded with Pillow, converted to grey
(channels=1) or RGB (channels=3), its shorter side resized to image_size
(bilinear, as torchvision's Resize on a PIL image) and centre-cropped to
image_size x image_size (as CenterCrop). The result is one uint8 array
(N, C, image_size, image_size) kept in memory for the run.

The cache
---------
Decoding tens of thousands of JPEGs takes minutes, so the array is also saved in
minigan's cache folder, ~/.cache/minigan/image_folders/<key>.npy (never inside
the user's data folder, which may be read-only or shared). The key is a hash of
the file list (relative names, sizes in bytes and modification times), the
image size, the channels and this decoder's version: a second run on the same
files loads the array in a moment; adding, removing, replacing or touching any
file gives another key, so it is decoded again. The cache is one plain .npy
array (read without pickle), written atomically.
"""
import hashlib
import json
import operator
import os
import sys
import time
from pathlib import Path

import numpy as np

from minigan._atomic import atomic_write
from minigan.data.loader import images_to_float
from minigan.data.mnist import cache_folder
from minigan.data.transforms import center_crop_offsets, resized_shape

EXTENSIONS = (".png", ".jpg", ".jpeg")
DECODER_VERSION = 1  # bump when decoding changes, so old caches are not reused
_MODES = {1: "L", 3: "RGB"}


class ImageFolder:
    """The images under `root`, square, of one size and channel count.

    ImageFolder(root, image_size, channels=3, transform=None, cache_dir=None)

    images   uint8 (N, channels, image_size, image_size)
    labels   int64 (N,): the class folder's index in `classes` (0 for a flat folder)
    classes  sorted class folder names; class_to_idx maps them to labels
    samples  [(path, label), ...] as torchvision's
    dataset[i] -> (float32 image (C, S, S) in [-1, 1], int label), or
                  (transform(uint8 HWC image), label) with a transform

    cache_dir: where the decoded array is cached (default ~/.cache/minigan/image_folders);
    False to neither read nor write a cache.
    Raises ValueError naming the file for one Pillow cannot decode, and for a
    folder with no images.
    """

    def __init__(self, root, image_size, channels=3, transform=None, cache_dir=None):
        if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 1:
            raise ValueError(f"ImageFolder: expected image_size to be a positive int, got {image_size!r}")
        if channels not in _MODES:
            raise ValueError(f"ImageFolder: expected channels 1 (grey) or 3 (RGB), got {channels!r}")
        if transform is not None and not callable(transform):
            raise TypeError(f"ImageFolder: expected transform to be callable, got a {type(transform).__name__}")
        self.root = Path(root).expanduser()
        self.image_size = image_size
        self.channels = channels
        self.transform = transform
        self.classes, self.samples = find_images(self.root)
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}
        self.labels = np.array([label for _, label in self.samples], dtype=np.int64)
        self.cache_path = None
        if cache_dir is not False:
            folder = cache_folder("image_folders") if cache_dir is None else Path(cache_dir)
            self.cache_path = folder / f"{self._cache_key()}.npy"
        self.images = self._load()

    def arrays(self):
        """(images uint8 (N, C, S, S), labels int64 (N,)): the arrays DataLoader batches from."""
        return self.images, self.labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        i = operator.index(i)
        if self.transform is not None:
            return self.transform(np.moveaxis(self.images[i], 0, -1)), int(self.labels[i])
        return images_to_float(self.images[i]), int(self.labels[i])

    def __repr__(self):
        return (f"ImageFolder({str(self.root)!r}, {len(self)} images, {self.channels} x "
                f"{self.image_size} x {self.image_size}, {len(self.classes)} classes)")

    # --- decoding and the cache ----------------------------------------------------
    def _cache_key(self):
        listing = []
        for path, _ in self.samples:
            stat = path.stat()
            listing.append([path.relative_to(self.root).as_posix(), stat.st_size, stat.st_mtime_ns])
        description = json.dumps({"files": listing, "image_size": self.image_size,
                                  "channels": self.channels, "decoder": DECODER_VERSION})
        return hashlib.sha256(description.encode()).hexdigest()[:32]

    def _load(self):
        if self.cache_path is not None and self.cache_path.is_file():
            try:
                images = np.load(self.cache_path, allow_pickle=False)
                if images.shape == (len(self.samples), self.channels, self.image_size, self.image_size) \
                        and images.dtype == np.uint8:
                    return images
            except (ValueError, OSError, EOFError):
                pass  # a damaged cache is decoded again and overwritten
        started = time.perf_counter()
        images = np.empty((len(self.samples), self.channels, self.image_size, self.image_size), np.uint8)
        for i, (path, _) in enumerate(self.samples):
            images[i] = decode_image(path, self.image_size, self.channels)
        if self.cache_path is not None:
            with atomic_write(self.cache_path) as f:
                np.save(f, images, allow_pickle=False)
            if len(self.samples) >= 1000:
                print(f"ImageFolder: decoded {len(self.samples)} images from {self.root} in "
                      f"{time.perf_counter() - started:.0f} s; cached in {self.cache_path}",
                      file=sys.stderr)
        return images


def find_images(root):
    """(classes, samples) of a folder, as torchvision's ImageFolder finds them.

    With subfolders, each is a class (sorted by name) holding its images at any
    depth; without, the folder's own images form one unlabelled set (label 0).
    """
    if not root.is_dir():
        raise ValueError(f"ImageFolder: expected a folder of images, got {str(root)!r} (not a folder)")
    folders = sorted(entry.name for entry in os.scandir(root) if entry.is_dir() and not entry.name.startswith("."))
    classes = [name for name in folders if any(_image_files(root / name))]
    if classes:
        samples = [(path, label) for label, name in enumerate(classes)
                   for path in sorted(_image_files(root / name))]
    else:
        samples = [(path, 0) for path in sorted(_image_files(root, recursive=False))]
    if not samples:
        raise ValueError(f"ImageFolder: found no {'/'.join(EXTENSIONS)} files in {root} "
                         "(nor in its subfolders)")
    return classes, samples


def _image_files(folder, recursive=True):
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if name.lower().endswith(EXTENSIONS) and not name.startswith("."):
                yield Path(dirpath) / name
        if not recursive:
            return


def decode_image(path, image_size, channels):
    """One file -> uint8 (channels, image_size, image_size): grey or RGB, the shorter
    side resized to image_size (bilinear), the centre cropped square."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()  # decode now: a truncated file fails here, not later
            image = image.convert(_MODES[channels])
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ValueError(f"ImageFolder: cannot decode {path}: {error} (delete or replace the file)") from None
    width, height = image.size
    new_h, new_w = resized_shape(height, width, image_size)
    if (new_h, new_w) != (height, width):
        image = image.resize((new_w, new_h), Image.BILINEAR)
    top, left = center_crop_offsets(new_h, new_w, image_size, image_size)
    image = image.crop((left, top, left + image_size, top + image_size))
    array = np.asarray(image, dtype=np.uint8)
    return array[None] if channels == 1 else np.moveaxis(array, -1, 0)
