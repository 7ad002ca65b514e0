"""minigan.data: the IDX format, MNIST (found, verified, downloaded) and DataLoader.

The real MNIST files are read from $MINIGAN_DATA, or else from ../shared/data/mnist
beside the project; tests that need them skip when they are absent. No test
touches the network: urlopen is replaced in every test, and HOME points at an
empty temporary folder so the user's own cache is never read or written.
"""
import gzip
import io
import os
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigan
from minigan.data import MNIST, ChecksumError, DataLoader, read_idx, write_idx

PROJECT_PARENT = Path(__file__).resolve().parents[1].parent
MNIST_FOLDER = Path(os.environ.get("MINIGAN_DATA") or PROJECT_PARENT / "shared/data/mnist")
TEST_FILES = ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
MIRRORS = MNIST.files.mirrors

needs_mnist = pytest.mark.skipif(
    not all((MNIST_FOLDER / name).is_file() for name in TEST_FILES + ["train-images-idx3-ubyte.gz"]),
    reason=f"the MNIST files are not in {MNIST_FOLDER} (set MINIGAN_DATA to the folder holding them)",
)
needs_tensor = pytest.mark.skipif(
    not callable(getattr(minigan, "tensor", None)), reason="minigan.tensor (the core engine) is not available yet"
)


@pytest.fixture(autouse=True)
def offline_with_empty_cache(monkeypatch, tmp_path):
    """Every test: no network, no MINIGAN_DATA, and an empty home folder (so an empty cache)."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("MINIGAN_DATA", raising=False)
    monkeypatch.setattr(urllib.request, "urlopen", refuse_connection)
    return home


def refuse_connection(url, *args, **kwargs):
    raise urllib.error.URLError("no network in tests")


def cache_folder(home):
    return home / ".cache" / "minigan" / "mnist"


def serve_mirrors(monkeypatch, mirrors):
    """Replace urlopen: mirrors maps a mirror URL to a folder of .gz files it serves (or to None: down).

    Returns the list of URLs requested, in order.
    """
    requested = []

    def fake_urlopen(url, timeout=None):
        requested.append(url)
        mirror, name = url.rsplit("/", 1)
        folder = mirrors.get(mirror + "/")
        if folder is None or not (folder / name).is_file():
            raise urllib.error.URLError(f"cannot reach {url}")
        return io.BytesIO((folder / name).read_bytes())

    monkeypatch.setattr(urllib.request, "urlopen", fake_urlopen)
    return requested


def copy_test_split(folder, flip_label_byte=None, truncate_labels_to=None):
    """Put the MNIST test split in `folder`: images linked, labels copied and optionally damaged."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / TEST_FILES[0]).symlink_to(MNIST_FOLDER / TEST_FILES[0])
    labels_gz = (MNIST_FOLDER / TEST_FILES[1]).read_bytes()
    if flip_label_byte is not None:
        content = bytearray(gzip.decompress(labels_gz))
        content[flip_label_byte] ^= 0x01
        labels_gz = gzip.compress(bytes(content))
    if truncate_labels_to is not None:
        labels_gz = labels_gz[:truncate_labels_to]
    (folder / TEST_FILES[1]).write_bytes(labels_gz)
    return folder


# --- the IDX format ------------------------------------------------------------

IDX_DTYPES = st.sampled_from([np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(IDX_DTYPES, hnp.array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=5)))
def test_idx_round_trip_gives_back_the_same_array(array):
    result = read_idx(write_idx(array))
    assert result.dtype == array.dtype and result.shape == array.shape
    np.testing.assert_array_equal(result, array)


def test_idx_header_is_big_endian_with_dtype_code_and_dims():
    data = write_idx(np.array([[1, 2, 3], [4, 5, 6]], dtype=np.int16))
    assert data[:12] == bytes([0, 0, 0x0B, 2, 0, 0, 0, 2, 0, 0, 0, 3])
    assert data[12:] == bytes([0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6])


def test_idx_read_array_is_writable_and_native_byte_order():
    array = read_idx(write_idx(np.arange(4, dtype=np.float32)))
    assert array.dtype == np.dtype("float32") and array.flags.writeable


def test_idx_bad_magic_is_rejected():
    data = b"\x01\x00" + write_idx(np.zeros(3, np.uint8))[2:]
    with pytest.raises(ValueError, match="expected magic bytes 00 00, got 01 00"):
        read_idx(data)


def test_idx_gzip_data_is_rejected_with_a_hint():
    with pytest.raises(ValueError, match="gzip-compressed"):
        read_idx(gzip.compress(write_idx(np.zeros(3, np.uint8))))


def test_idx_unknown_dtype_code_is_rejected():
    data = bytearray(write_idx(np.zeros(3, np.uint8)))
    data[2] = 0x0A
    with pytest.raises(ValueError, match=r"expected a dtype code among 0x08 \(uint8\).*got 0x0A"):
        read_idx(bytes(data))


def test_idx_truncated_data_is_rejected():
    data = write_idx(np.zeros((2, 3), np.int32))
    with pytest.raises(ValueError, match=r"shape \(2, 3\), expected 24 data bytes, got 23 \(truncated\)"):
        read_idx(data[:-1])


def test_idx_truncated_header_is_rejected():
    data = write_idx(np.zeros((2, 3), np.uint8))
    with pytest.raises(ValueError, match="expected a 12-byte header for 2 dimensions, got 9 bytes"):
        read_idx(data[:9])


def test_idx_trailing_bytes_are_rejected():
    data = write_idx(np.zeros((2, 3), np.uint8))
    with pytest.raises(ValueError, match=r"expected 6 data bytes, got 8 \(2 trailing bytes\)"):
        read_idx(data + b"\x00\x00")


def test_write_idx_refuses_dtypes_idx_cannot_hold():
    with pytest.raises(ValueError, match="got dtype int64"):
        write_idx(np.zeros(3, np.int64))


# --- MNIST from local files -------------------------------------------------------


@pytest.fixture(scope="module")
def mnist_train():
    return MNIST(root=MNIST_FOLDER, train=True, download=False)


@pytest.fixture(scope="module")
def mnist_test():
    return MNIST(root=MNIST_FOLDER, train=False, download=False)


@needs_mnist
def test_mnist_train_has_60000_uint8_images_and_int64_labels(mnist_train):
    assert mnist_train.images.shape == (60000, 28, 28) and mnist_train.images.dtype == np.uint8
    assert mnist_train.labels.shape == (60000,) and mnist_train.labels.dtype == np.int64
    assert len(mnist_train) == 60000
    assert mnist_train.labels[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert np.bincount(mnist_train.labels).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]


@needs_mnist
def test_mnist_test_has_10000_images(mnist_test):
    assert mnist_test.images.shape == (10000, 28, 28) and mnist_test.labels.shape == (10000,)
    assert mnist_test.labels[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


@needs_mnist
def test_mnist_item_is_a_float32_image_in_minus_one_to_one_and_an_int_label(mnist_train):
    image, label = mnist_train[0]
    assert image.shape == (1, 28, 28) and image.dtype == np.float32
    assert image.min() == -1.0 and image.max() == 1.0  # pixel 0 -> -1, pixel 255 -> 1
    np.testing.assert_array_equal(image[0], mnist_train.images[0] / np.float32(127.5) - 1)
    assert label == 5 and type(label) is int


@needs_mnist
def test_mnist_is_found_through_the_MINIGAN_DATA_variable(monkeypatch):
    monkeypatch.setenv("MINIGAN_DATA", str(MNIST_FOLDER))
    assert len(MNIST(train=False, download=False)) == 10000


@needs_mnist
def test_mnist_is_found_in_a_mnist_subfolder_of_MINIGAN_DATA(monkeypatch, tmp_path):
    copy_test_split(tmp_path / "datasets" / "mnist")
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path / "datasets"))
    assert len(MNIST(train=False, download=False)) == 10000


@needs_mnist
def test_mnist_accepts_already_decompressed_files(tmp_path):
    folder = copy_test_split(tmp_path / "data")
    labels = folder / TEST_FILES[1]
    labels.with_suffix("").write_bytes(gzip.decompress(labels.read_bytes()))
    labels.unlink()
    assert MNIST(root=folder, train=False, download=False).labels[:3].tolist() == [7, 2, 1]


@needs_mnist
def test_mnist_one_flipped_byte_raises_checksum_error_naming_the_file(tmp_path):
    folder = copy_test_split(tmp_path / "data", flip_label_byte=100)
    with pytest.raises(ChecksumError) as error:
        MNIST(root=folder, train=False, download=False)
    message = str(error.value)
    assert str(folder / TEST_FILES[1]) in message
    assert "expected t10k-labels-idx1-ubyte content of 10008 bytes with MD5 27ae3e4e09519cfbb04c329615203637" in message
    assert "got 10008 bytes with MD5 " in message


@needs_mnist
def test_mnist_truncated_gzip_raises_checksum_error_naming_the_file(tmp_path):
    folder = copy_test_split(tmp_path / "data", truncate_labels_to=1000)
    with pytest.raises(ChecksumError, match="not a valid gzip file") as error:
        MNIST(root=folder, train=False, download=False)
    assert str(folder / TEST_FILES[1]) in str(error.value)
    assert "27ae3e4e09519cfbb04c329615203637" in str(error.value)


@needs_mnist
def test_mnist_corrupt_local_file_is_not_silently_replaced_by_a_download(tmp_path, monkeypatch):
    folder = copy_test_split(tmp_path / "data", flip_label_byte=100)
    requested = serve_mirrors(monkeypatch, {MIRRORS[0]: MNIST_FOLDER})
    with pytest.raises(ChecksumError):
        MNIST(root=folder, train=False, download=True)
    assert requested == []


# --- MNIST when the files are missing ------------------------------------------------


def test_mnist_offline_says_where_it_looked_and_where_to_put_the_files(tmp_path, offline_with_empty_cache):
    with pytest.raises(RuntimeError) as error:
        MNIST(root=tmp_path / "nothing here", train=True, download=True)
    message = str(error.value)
    for folder in [tmp_path / "nothing here", cache_folder(offline_with_empty_cache)]:
        assert str(folder) in message
    for name in ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"] + TEST_FILES:
        assert name in message
    assert "MINIGAN_DATA" in message
    assert "Every download failed" in message and MIRRORS[0] in message and "no network in tests" in message


def test_mnist_without_download_does_not_touch_the_network(monkeypatch):
    requested = serve_mirrors(monkeypatch, {})
    with pytest.raises(RuntimeError, match=r"download=False"):
        MNIST(train=False, download=False)
    assert requested == []


@needs_mnist
def test_mnist_download_uses_the_next_mirror_and_saves_verified_files_in_the_cache(
    monkeypatch, offline_with_empty_cache
):
    requested = serve_mirrors(monkeypatch, {MIRRORS[0]: None, MIRRORS[1]: MNIST_FOLDER})
    dataset = MNIST(train=False)
    assert dataset.labels[:3].tolist() == [7, 2, 1]
    assert requested == [mirror + name for name in TEST_FILES for mirror in MIRRORS[:2]]
    cache = cache_folder(offline_with_empty_cache)
    assert sorted(os.listdir(cache)) == sorted(TEST_FILES)  # no temporary files left behind
    for name in TEST_FILES:
        assert (cache / name).read_bytes() == (MNIST_FOLDER / name).read_bytes()


@needs_mnist
def test_mnist_second_load_reads_the_cache_without_the_network(monkeypatch):
    serve_mirrors(monkeypatch, {MIRRORS[0]: MNIST_FOLDER})
    MNIST(train=False)
    requested = serve_mirrors(monkeypatch, {})
    assert len(MNIST(train=False)) == 10000
    assert requested == []


@needs_mnist
def test_mnist_download_skips_a_mirror_serving_a_corrupt_file(monkeypatch, tmp_path, offline_with_empty_cache):
    corrupt_mirror = copy_test_split(tmp_path / "corrupt", flip_label_byte=100)
    serve_mirrors(monkeypatch, {MIRRORS[0]: corrupt_mirror, MIRRORS[1]: MNIST_FOLDER})
    assert MNIST(train=False).labels.tolist() == MNIST(root=MNIST_FOLDER, train=False).labels.tolist()
    saved = cache_folder(offline_with_empty_cache) / TEST_FILES[1]
    assert saved.read_bytes() == (MNIST_FOLDER / TEST_FILES[1]).read_bytes()


@needs_mnist
def test_mnist_download_of_only_corrupt_files_fails_and_saves_nothing(monkeypatch, tmp_path, offline_with_empty_cache):
    corrupt_mirror = copy_test_split(tmp_path / "corrupt", flip_label_byte=100)
    serve_mirrors(monkeypatch, {mirror: corrupt_mirror for mirror in MIRRORS})
    with pytest.raises(RuntimeError, match="MD5 27ae3e4e09519cfbb04c329615203637"):
        MNIST(train=False)
    assert not (cache_folder(offline_with_empty_cache) / TEST_FILES[1]).exists()


@needs_mnist
def test_mnist_interrupted_save_leaves_no_file_in_the_cache(monkeypatch, offline_with_empty_cache):
    serve_mirrors(monkeypatch, {MIRRORS[0]: MNIST_FOLDER})

    def interrupted_rename(source, target):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted_rename)
    with pytest.raises(KeyboardInterrupt):
        MNIST(train=False)
    assert os.listdir(cache_folder(offline_with_empty_cache)) == []


# --- DataLoader ------------------------------------------------------------------------


class NumberedImages:
    """A tiny dataset following DataLoader's protocol: image i is 28 x 28 pixels of value i, label i."""

    def __init__(self, n):
        self.images = np.repeat(np.arange(n, dtype=np.uint8), 28 * 28).reshape(n, 28, 28)
        self.labels = np.arange(n, dtype=np.int64)

    def arrays(self):
        return self.images, self.labels


def batches_as_numpy(loader):
    return [(images.numpy(), labels.numpy()) for images, labels in loader]


def labels_of_one_epoch(loader):
    return np.concatenate([labels for _, labels in batches_as_numpy(loader)]).tolist()


@needs_tensor
def test_loader_batches_are_float32_nchw_images_and_int64_labels():
    images, labels = next(iter(DataLoader(NumberedImages(10), batch_size=4)))
    assert isinstance(images, minigan.Tensor) and isinstance(labels, minigan.Tensor)
    assert images.shape == (4, 1, 28, 28) and images.dtype == np.float32
    assert labels.shape == (4,) and labels.dtype == np.int64


@needs_tensor
def test_loader_scales_pixels_0_and_255_to_exactly_minus_one_and_one():
    dataset = NumberedImages(2)
    dataset.images[1] = 255
    images, _ = next(iter(DataLoader(dataset, batch_size=2)))
    assert images.numpy()[0].max() == -1.0 and images.numpy()[1].min() == 1.0


@needs_tensor
def test_loader_images_match_their_labels():
    for images, labels in batches_as_numpy(DataLoader(NumberedImages(10), batch_size=3, shuffle=True)):
        np.testing.assert_array_equal(images[:, 0, 5, 7], labels.astype(np.float32) / np.float32(127.5) - 1)


@needs_tensor
def test_loader_without_shuffle_serves_examples_in_order():
    assert labels_of_one_epoch(DataLoader(NumberedImages(10), batch_size=4)) == list(range(10))


@needs_tensor
def test_loader_last_batch_is_smaller_unless_drop_last():
    loader = DataLoader(NumberedImages(10), batch_size=4)
    assert len(loader) == 3 and [len(labels) for _, labels in batches_as_numpy(loader)] == [4, 4, 2]
    loader = DataLoader(NumberedImages(10), batch_size=4, drop_last=True)
    assert len(loader) == 2 and [len(labels) for _, labels in batches_as_numpy(loader)] == [4, 4]


@needs_tensor
def test_loader_shuffle_serves_every_example_exactly_once_per_epoch():
    loader = DataLoader(NumberedImages(103), batch_size=10, shuffle=True, seed=3)
    for _ in range(3):
        assert sorted(labels_of_one_epoch(loader)) == list(range(103))


@needs_tensor
def test_loader_shuffle_order_depends_only_on_seed_and_epoch():
    def order(seed, epoch):
        loader = DataLoader(NumberedImages(50), batch_size=8, shuffle=True, seed=seed)
        loader.set_epoch(epoch)
        return labels_of_one_epoch(loader)

    assert order(seed=1, epoch=3) == order(seed=1, epoch=3)
    assert order(seed=1, epoch=3) == np.random.default_rng([1, 3]).permutation(50).tolist()
    assert order(seed=1, epoch=3) != order(seed=1, epoch=4)
    assert order(seed=1, epoch=3) != order(seed=2, epoch=3)


@needs_tensor
def test_loader_resumed_at_epoch_e_sees_the_same_batches_as_an_uninterrupted_run():
    uninterrupted = DataLoader(NumberedImages(30), batch_size=7, shuffle=True, seed=5)
    epochs = [labels_of_one_epoch(uninterrupted) for _ in range(4)]
    assert epochs[0] != epochs[1]  # each pass advances the epoch
    resumed = DataLoader(NumberedImages(30), batch_size=7, shuffle=True, seed=5)
    resumed.set_epoch(2)
    assert [labels_of_one_epoch(resumed), labels_of_one_epoch(resumed)] == epochs[2:]


@needs_mnist
@needs_tensor
def test_loader_on_mnist_gives_the_same_images_as_indexing_the_dataset(mnist_test):
    images, labels = next(iter(DataLoader(mnist_test, batch_size=5)))
    expected = np.stack([mnist_test[i][0] for i in range(5)])
    np.testing.assert_array_equal(images.numpy(), expected)
    assert labels.numpy().tolist() == [7, 2, 1, 0, 4]


@pytest.mark.parametrize("batch_size", [0, -1, 2.5, "4", True])
def test_loader_rejects_a_batch_size_that_is_not_a_positive_integer(batch_size):
    with pytest.raises(ValueError, match=rf"expected batch_size to be an integer >= 1, got {batch_size!r}"):
        DataLoader(NumberedImages(4), batch_size=batch_size)


def test_loader_rejects_a_negative_seed_or_epoch():
    with pytest.raises(ValueError, match="expected seed to be an integer >= 0, got -1"):
        DataLoader(NumberedImages(4), seed=-1)
    with pytest.raises(ValueError, match="expected epoch to be an integer >= 0, got -2"):
        DataLoader(NumberedImages(4)).set_epoch(-2)


def test_loader_rejects_shuffle_that_is_not_a_bool():
    with pytest.raises(TypeError, match="expected shuffle to be True or False, got 'yes'"):
        DataLoader(NumberedImages(4), shuffle="yes")


def test_loader_rejects_a_dataset_without_arrays():
    with pytest.raises(TypeError, match=r"expected a dataset with a method arrays\(\).*got a list"):
        DataLoader([1, 2, 3])


def test_loader_rejects_float_images_and_mismatched_labels():
    dataset = NumberedImages(4)
    dataset.images = dataset.images.astype(np.float32)
    expected = r"images as a uint8 NumPy array .* got float32 array of shape \(4, 28, 28\)"
    with pytest.raises(TypeError, match=expected):
        DataLoader(dataset)
    dataset = NumberedImages(4)
    dataset.labels = dataset.labels[:3]
    expected = r"labels as an integer NumPy array of shape \(4,\), got int64 array of shape \(3,\)"
    with pytest.raises(TypeError, match=expected):
        DataLoader(dataset)


@pytest.mark.parametrize("option, value", [
    ("num_workers", 2), ("sampler", [0, 1]), ("batch_sampler", [[0, 1]]), ("collate_fn", list),
    ("pin_memory", True), ("worker_init_fn", print), ("persistent_workers", True),
])
def test_loader_refuses_torch_options_it_does_not_have_in_one_line_naming_them(option, value):
    with pytest.raises(ValueError) as error:
        DataLoader(NumberedImages(4), **{option: value})
    message = str(error.value)
    assert message.startswith(f"DataLoader: {option}={value!r} is not supported (") and "\n" not in message


def test_loader_accepts_torch_options_at_their_defaults_and_refuses_unknown_ones():
    loader = DataLoader(NumberedImages(4), batch_size=2, num_workers=0, pin_memory=False,
                        sampler=None, collate_fn=None)
    assert len(loader) == 2
    with pytest.raises(TypeError, match="unexpected keyword argument 'shufle'"):
        DataLoader(NumberedImages(4), shufle=True)


# --- Fashion-MNIST: the same verified IDX loader, its own checksums and mirror ---------------

def fashion_cache(home):
    return home / ".cache" / "minigan" / "fashion-mnist"


def fake_fashion_split(folder, n=12, seed=0):
    """A stand-in for Fashion-MNIST's test split: n random 28 x 28 pictures and labels, as
    gzip'd IDX files, plus the (size, MD5) records that would verify them."""
    import dataclasses
    import hashlib

    from minigan.data.mnist import FASHION_MNIST_FILES
    rng = np.random.default_rng(seed)
    contents = {"t10k-images-idx3-ubyte": write_idx(rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)),
                "t10k-labels-idx1-ubyte": write_idx(rng.integers(0, 10, n).astype(np.uint8))}
    folder.mkdir(parents=True, exist_ok=True)
    records = {}
    for file in (FASHION_MNIST_FILES.test_images, FASHION_MNIST_FILES.test_labels):
        content = contents[file.name]
        (folder / (file.name + ".gz")).write_bytes(gzip.compress(content))
        records[file.name] = dataclasses.replace(file, size=len(content),
                                                 md5=hashlib.md5(content).hexdigest())
    files = dataclasses.replace(FASHION_MNIST_FILES, test_images=records["t10k-images-idx3-ubyte"],
                                test_labels=records["t10k-labels-idx1-ubyte"])
    return files, contents


def test_fashion_mnist_has_zalandos_sizes_checksums_mirror_and_classes():
    from minigan.data import FashionMNIST
    files = FashionMNIST.files
    assert files.folder == "fashion-mnist"
    assert files.mirrors == ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",)
    assert [(f.name, f.size, f.md5) for f in files.all_files()] == [
        ("train-images-idx3-ubyte", 47_040_016, "f4a8712d7a061bf5bd6d2ca38dc4d50a"),
        ("train-labels-idx1-ubyte", 60_008, "9018921c3c673c538a1fc5bad174d6f9"),
        ("t10k-images-idx3-ubyte", 7_840_016, "8181f5470baa50b63fa0f6fddb340f0a"),
        ("t10k-labels-idx1-ubyte", 10_008, "15d484375f8d13e6eb1aabb0c3f46965")]
    assert FashionMNIST.classes[0] == "T-shirt/top" and FashionMNIST.classes[9] == "Ankle boot"


def test_fashion_mnist_downloads_through_its_mirror_into_its_own_cache_folder(
        monkeypatch, tmp_path, offline_with_empty_cache):
    from minigan.data import FashionMNIST
    files, contents = fake_fashion_split(tmp_path / "mirror")
    monkeypatch.setattr(FashionMNIST, "files", files)
    requested = serve_mirrors(monkeypatch, {files.mirrors[0]: tmp_path / "mirror"})
    data = FashionMNIST(train=False)
    assert requested == [files.mirrors[0] + name for name in TEST_FILES]
    assert data.images.shape == (12, 28, 28) and data.images.dtype == np.uint8
    np.testing.assert_array_equal(data.labels, read_idx(contents["t10k-labels-idx1-ubyte"]))
    assert sorted(os.listdir(fashion_cache(offline_with_empty_cache))) == sorted(TEST_FILES)
    assert not cache_folder(offline_with_empty_cache).exists()  # MNIST's folder is left alone
    requested = serve_mirrors(monkeypatch, {})
    assert len(FashionMNIST(train=False)) == 12 and requested == []  # the second time: the cache


def test_fashion_mnist_refuses_mnists_files_served_in_its_place(monkeypatch, offline_with_empty_cache):
    from minigan.data import FashionMNIST
    mirror = FashionMNIST.files.mirrors[0]
    serve_mirrors(monkeypatch, {mirror: MNIST_FOLDER})
    with pytest.raises(RuntimeError, match="MD5 8181f5470baa50b63fa0f6fddb340f0a"):
        FashionMNIST(train=False)
    assert not fashion_cache(offline_with_empty_cache).exists() or \
        os.listdir(fashion_cache(offline_with_empty_cache)) == []


def test_fashion_mnist_offline_says_where_to_put_its_files(tmp_path):
    from minigan.data import FashionMNIST
    with pytest.raises(RuntimeError) as error:
        FashionMNIST(root=tmp_path, train=False, download=False)
    assert "fashion-mnist" in str(error.value) and "download=False" in str(error.value)
