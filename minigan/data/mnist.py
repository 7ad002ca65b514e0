"""MNIST (70,000 handwritten digits) and Fashion-MNIST (70,000 clothes), 28 x 28 grey
pixels, found locally or downloaded.

Where the files are looked for, in order (each folder, then its `mnist/` subfolder):

    1. the `root` argument, or when none is given, the folder named by the
       environment variable MINIGAN_DATA (a folder asked for by name is not
       second-guessed by the environment)
    2. ~/.cache/minigan/mnist          (where downloads are saved)

(`fashion-mnist/` in place of `mnist/` for FashionMNIST, whose files have the
same names as MNIST's.)

A file may be gzip-compressed (`train-images-idx3-ubyte.gz`) or not
(`train-images-idx3-ubyte`). Every file is checked against the size and MD5 of
its *decompressed* content, the canonical published checksums, so files from any
mirror are accepted and a corrupt or truncated one raises ChecksumError rather
than being misread. Missing files are downloaded from the first mirror that
serves a verified copy, and saved atomically (a temporary name, then a rename),
so an interrupted download never leaves a broken file in the cache.
"""
import dataclasses
import gzip
import hashlib
import http.client
import operator
import os
import sys
import urllib.error
import urllib.request
import zlib
from pathlib import Path

from minigan._atomic import atomic_write
from minigan.data.idx import read_idx
from minigan.data.loader import images_to_float


class ChecksumError(ValueError):
    """A data file's content is not what it should be (corrupt, truncated, or a different file)."""


class DataNotFoundError(RuntimeError):
    """A data file is in none of the folders searched, and could not be downloaded."""


@dataclasses.dataclass(frozen=True)
class IdxFile:
    """One file of a dataset: its standard name (without .gz) and its decompressed size and MD5."""

    name: str
    size: int
    md5: str


@dataclasses.dataclass(frozen=True)
class IdxDatasetFiles:
    """Everything needed to find, download and verify an MNIST-style dataset.

    `folder` names the dataset's cache folder (~/.cache/minigan/<folder>) and
    subfolder; each mirror URL ends with "/" and serves `<file name>.gz`.
    """

    folder: str
    mirrors: tuple
    train_images: IdxFile
    train_labels: IdxFile
    test_images: IdxFile
    test_labels: IdxFile

    def split(self, train):
        """(images file, labels file) of the training or the test split."""
        return (self.train_images, self.train_labels) if train else (self.test_images, self.test_labels)

    def all_files(self):
        """The four files, training split first."""
        return (self.train_images, self.train_labels, self.test_images, self.test_labels)


MNIST_FILES = IdxDatasetFiles(
    folder="mnist",
    mirrors=(
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ),
    train_images=IdxFile("train-images-idx3-ubyte", 47_040_016, "6bbc9ace898e44ae57da46a324031adb"),
    train_labels=IdxFile("train-labels-idx1-ubyte", 60_008, "a25bea736e30d166cdddb491f175f624"),
    test_images=IdxFile("t10k-images-idx3-ubyte", 7_840_016, "2646ac647ad5339dbf082846283269ea"),
    test_labels=IdxFile("t10k-labels-idx1-ubyte", 10_008, "27ae3e4e09519cfbb04c329615203637"),
)

# Zalando's Fashion-MNIST (github.com/zalandoresearch/fashion-mnist). Its README
# lists the MD5s of the .gz files (8d4fb7e6..., 25c81989..., bef4ecab..., bb300cfd...);
# these are the MD5s of the decompressed files, which do not depend on how a
# mirror compressed them, as published beside those in torchvision-style loaders.
FASHION_MNIST_FILES = IdxDatasetFiles(
    folder="fashion-mnist",
    mirrors=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    train_images=IdxFile("train-images-idx3-ubyte", 47_040_016, "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
    train_labels=IdxFile("train-labels-idx1-ubyte", 60_008, "9018921c3c673c538a1fc5bad174d6f9"),
    test_images=IdxFile("t10k-images-idx3-ubyte", 7_840_016, "8181f5470baa50b63fa0f6fddb340f0a"),
    test_labels=IdxFile("t10k-labels-idx1-ubyte", 10_008, "15d484375f8d13e6eb1aabb0c3f46965"),
)


class MNIST:
    """The MNIST training set (60,000 digits) or test set (10,000 digits).

    MNIST(root=None, train=True, transform=None, download=True)

    images  uint8 (N, 28, 28), pixel values 0..255 (kept as uint8: 47 MB, not 188 MB of float32)
    labels  int64 (N,), digits 0..9
    dataset[i] -> (float32 image (1, 28, 28) in [-1, 1] as x / 127.5 - 1, int label)

    transform: as torchvision's, a callable taking the uint8 image as (28, 28, 1)
    HWC (what ToTensor expects), e.g. transforms.Compose([ToTensor(), Normalize(...)]);
    dataset[i] is then (transform(image), label), and DataLoader applies it to
    each batch (B, 28, 28, 1) at once. Without one, batches are [-1, 1] floats.

    Raises ChecksumError for a corrupt file, and DataNotFoundError (a RuntimeError),
    saying where to put the files, when they are neither found nor downloadable.
    """

    files = MNIST_FILES
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root=None, train=True, transform=None, download=True):
        if transform is not None and not callable(transform):
            raise TypeError(f"{type(self).__name__}: expected transform to be callable, "
                            f"got a {type(transform).__name__}")
        self.root = root
        self.train = train
        self.transform = transform
        images_file, labels_file = self.files.split(train)
        folders = search_folders(root, self.files.folder)
        self.images = read_idx(load_file(images_file, folders, self.files, download))
        self.labels = read_idx(load_file(labels_file, folders, self.files, download)).astype("int64")

    def arrays(self):
        """(images uint8 (N, 28, 28), labels int64 (N,)): the arrays DataLoader batches from."""
        return self.images, self.labels

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        i = operator.index(i)  # one example; DataLoader takes batches through arrays()
        if self.transform is not None:
            return self.transform(self.images[i][:, :, None]), int(self.labels[i])
        return images_to_float(self.images[i][None]), int(self.labels[i])

    def __repr__(self):
        split = "train" if self.train else "test"
        return f"{type(self).__name__}({split}, {len(self)} images)"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 28 x 28 grey pictures of clothes in 10 classes, a drop-in
    for MNIST (same sizes, same files, same IDX format), verified and downloaded the same way.

    FashionMNIST(root=None, train=True, transform=None, download=True)
    """

    files = FASHION_MNIST_FILES
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


def search_folders(root, folder):
    """The folders searched for a dataset's files, in order: root (or else $MINIGAN_DATA),
    then the cache."""
    bases = [Path(root).expanduser()] if root is not None else []
    if root is None and os.environ.get("MINIGAN_DATA"):
        bases.append(Path(os.environ["MINIGAN_DATA"]).expanduser())
    folders = [path for base in bases for path in (base, base / folder)]
    return folders + [cache_folder(folder)]


def cache_folder(folder):
    """Where downloaded files are saved: ~/.cache/minigan/<folder>."""
    return Path.home() / ".cache" / "minigan" / folder


def load_file(file, folders, files, download):
    """The verified, decompressed bytes of `file`: from the first folder holding it, else downloaded."""
    for folder in folders:
        for path in (folder / (file.name + ".gz"), folder / file.name):
            if path.is_file():
                return verified_content(path.read_bytes(), file, source=path)
    if not download:
        raise DataNotFoundError(_not_found_message(file, folders, files,
                                                   "downloading is off (download=False)"))
    return download_file(file, folders, files)


def verified_content(raw, file, source):
    """Decompress `raw` if it is gzip data, and check its size and MD5; return the content.

    Raises ChecksumError naming `source` (a path or URL), the expected MD5 and the actual one.
    """
    content = raw
    if raw[:2] == b"\x1f\x8b":  # gzip's magic number; an IDX file starts with 00 00
        try:
            content = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as error:
            raise ChecksumError(
                f"{source}: not a valid gzip file ({error}); expected content of {file.size} bytes "
                f"with MD5 {file.md5}. The file is corrupt or truncated: delete it and load again."
            ) from None
    md5 = hashlib.md5(content, usedforsecurity=False).hexdigest()
    if md5 != file.md5 or len(content) != file.size:
        raise ChecksumError(
            f"{source}: expected {file.name} content of {file.size} bytes with MD5 {file.md5}, "
            f"got {len(content)} bytes with MD5 {md5}. The file is corrupt, truncated, "
            f"or a different file: delete it and load again."
        )
    return content


def download_file(file, folders, files):
    """Fetch `<file>.gz` from the first mirror serving a verified copy; save it in the cache.

    Returns the decompressed content. Raises RuntimeError, listing what each mirror
    did and where to put the files by hand, when no mirror succeeds.
    """
    target = cache_folder(files.folder) / (file.name + ".gz")
    failures = []
    for mirror in files.mirrors:
        url = mirror + file.name + ".gz"
        print(f"minigan: downloading {url}", file=sys.stderr)
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                raw = response.read()
            content = verified_content(raw, file, source=url)
        except (OSError, http.client.HTTPException, ChecksumError) as error:
            failures.append(f"{url}: {error}")
            continue
        with atomic_write(target) as f:
            f.write(raw)
        return content
    attempts = "; ".join(failures)
    raise DataNotFoundError(_not_found_message(file, folders, files,
                                               f"Every download failed ({attempts})"))


def _not_found_message(file, folders, files, what_happened):
    """One line: what is missing, where it was looked for, what happened, what to do."""
    searched = ", ".join(str(folder) for folder in folders)
    names = ", ".join(f.name + ".gz" for f in files.all_files())
    return (
        f"{file.name}(.gz) was not found in any of {searched}; {what_happened}. "
        f"Put the four files ({names}, gzip-compressed or not, from any MNIST mirror such as "
        f"{files.mirrors[0]}) in {cache_folder(files.folder)}, or in a folder of your choice "
        f"and point the environment variable MINIGAN_DATA at it (or pass root=that folder, "
        f"--data in the programs)"
    )
