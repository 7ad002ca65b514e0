"""ImageFolder on folders the tests write: PNG and JPEG, grey and RGB, odd sizes, class
subfolders, a corrupt file; decoded once and cached in ~/.cache/minigan, never beside the data.

HOME points at an empty temporary folder in every test, so the user's own cache is
never read or written.
"""
import os

import numpy as np
import pytest
from PIL import Image

import minigan as mg
from minigan.data import DataLoader, ImageFolder
from minigan.data import image_folder as image_folder_module
from minigan.data import transforms as T


@pytest.fixture(autouse=True)
def empty_home(monkeypatch, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def cache_files(home):
    folder = home / ".cache" / "minigan" / "image_folders"
    return sorted(folder.glob("*.npy")) if folder.is_dir() else []


def save(path, pixels, **options):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path, **options)
    return path


def gradient(h, w, channels=3):
    """An image whose pixel (y, x) is (y * 255 // (h-1), x * 255 // (w-1), 128): easy to follow."""
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([y * 255 // max(h - 1, 1), x * 255 // max(w - 1, 1), np.full((h, w), 128)], -1)
    return rgb.astype(np.uint8) if channels == 3 else rgb[..., 0].astype(np.uint8)


@pytest.fixture
def classes(tmp_path):
    """root/cat: a 40x30 RGB PNG and a 17x23 grey PNG; root/dog: a 64x64 RGB JPEG; a text file."""
    root = tmp_path / "pets"
    save(root / "cat" / "a.png", gradient(30, 40))
    save(root / "cat" / "b.png", gradient(23, 17, channels=1))
    save(root / "dog" / "c.jpg", gradient(64, 64), quality=95)
    (root / "dog" / "notes.txt").write_text("not an image")
    return root


def test_class_subfolders_give_sorted_classes_and_labels_as_torchvision(classes):
    data = ImageFolder(classes, image_size=16, channels=3)
    assert data.classes == ["cat", "dog"] and data.class_to_idx == {"cat": 0, "dog": 1}
    assert [(p.name, label) for p, label in data.samples] == [("a.png", 0), ("b.png", 0), ("c.jpg", 1)]
    assert data.images.shape == (3, 3, 16, 16) and data.images.dtype == np.uint8
    assert data.labels.tolist() == [0, 0, 1] and data.labels.dtype == np.int64
    assert len(data) == 3


def test_a_grey_file_is_converted_to_rgb_and_rgb_files_to_grey(classes):
    rgb = ImageFolder(classes, image_size=16, channels=3)
    grey_file_as_rgb = rgb.images[1]
    np.testing.assert_array_equal(grey_file_as_rgb[0], grey_file_as_rgb[1])  # R = G = B
    grey = ImageFolder(classes, image_size=16, channels=1)
    assert grey.images.shape == (3, 1, 16, 16)
    expected = np.asarray(Image.open(classes / "cat" / "a.png").convert("L").resize((21, 16), Image.BILINEAR))
    np.testing.assert_array_equal(grey.images[0, 0], expected[:, 2:18])  # centre crop of a 21-wide row


def test_the_short_side_is_resized_then_the_centre_cropped_as_torchvision(classes):
    # 40 wide x 30 high -> Resize(16): 16 high x int(16 * 40 / 30) = 21 wide; CenterCrop(16):
    # left = round((21 - 16) / 2) = 2 (Python's round: 2.5 -> 2), top = 0.
    data = ImageFolder(classes, image_size=16, channels=3)
    resized = np.asarray(Image.open(classes / "cat" / "a.png").resize((21, 16), Image.BILINEAR))
    np.testing.assert_array_equal(data.images[0], np.moveaxis(resized[:, 2:18], -1, 0))
    # 17 wide x 23 high (grey) -> 16 wide x int(16 * 23 / 17) = 21 high; top = 2, left = 0.
    resized = np.asarray(Image.open(classes / "cat" / "b.png").resize((16, 21), Image.BILINEAR))
    np.testing.assert_array_equal(data.images[1, 0], resized[2:18])


def test_images_smaller_than_the_size_are_enlarged(tmp_path):
    save(tmp_path / "tiny" / "x.png", gradient(5, 7))
    data = ImageFolder(tmp_path / "tiny", image_size=12, channels=3)
    assert data.images.shape == (1, 3, 12, 12)
    assert data.classes == [] and data.labels.tolist() == [0]  # a flat folder: one unlabelled set


def test_a_jpeg_decodes_close_to_the_pixels_it_was_saved_from(classes):
    data = ImageFolder(classes, image_size=64, channels=3)
    original = np.moveaxis(gradient(64, 64), -1, 0).astype(int)
    assert np.abs(data.images[2].astype(int) - original).mean() < 3  # quality 95: a few levels off


def test_a_corrupt_file_is_a_clear_error_naming_it(classes):
    broken = classes / "dog" / "broken.png"
    broken.write_bytes((classes / "cat" / "a.png").read_bytes()[:60])  # a truncated PNG
    with pytest.raises(ValueError, match=r"ImageFolder: cannot decode .*broken\.png"):
        ImageFolder(classes, image_size=16, channels=3)
    broken.write_bytes(b"this is not a picture")
    with pytest.raises(ValueError, match=r"cannot decode .*broken\.png.*delete or replace the file"):
        ImageFolder(classes, image_size=16, channels=3)


def test_a_folder_without_images_and_a_missing_folder_are_clear_errors(tmp_path):
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    with pytest.raises(ValueError, match=r"found no \.png/\.jpg/\.jpeg files in .*empty"):
        ImageFolder(tmp_path / "empty", image_size=8)
    with pytest.raises(ValueError, match="not a folder"):
        ImageFolder(tmp_path / "nowhere", image_size=8)
    with pytest.raises(ValueError, match="channels 1 \\(grey\\) or 3 \\(RGB\\), got 4"):
        ImageFolder(tmp_path / "empty", image_size=8, channels=4)
    with pytest.raises(ValueError, match="image_size to be a positive int, got 0"):
        ImageFolder(tmp_path / "empty", image_size=0)


# --- the cache ----------------------------------------------------------------------------

def refuse_to_decode(*args, **kwargs):
    raise AssertionError("a file was decoded although the cache holds the folder")


def test_a_second_load_reads_the_cache_without_decoding(classes, empty_home, monkeypatch):
    first = ImageFolder(classes, image_size=16, channels=3)
    assert len(cache_files(empty_home)) == 1
    monkeypatch.setattr(image_folder_module, "decode_image", refuse_to_decode)
    second = ImageFolder(classes, image_size=16, channels=3)
    np.testing.assert_array_equal(second.images, first.images)
    assert second.labels.tolist() == first.labels.tolist()


def test_the_cache_is_in_minigans_cache_folder_never_in_the_data_folder(classes, empty_home):
    before = sorted(p.relative_to(classes) for p in classes.rglob("*"))
    data = ImageFolder(classes, image_size=16, channels=3)
    assert sorted(p.relative_to(classes) for p in classes.rglob("*")) == before
    assert data.cache_path.parent == empty_home / ".cache" / "minigan" / "image_folders"
    assert [p.name for p in data.cache_path.parent.iterdir()] == [data.cache_path.name]  # no temp files


def test_changing_adding_or_removing_a_file_decodes_again(classes, empty_home, monkeypatch):
    first = ImageFolder(classes, image_size=16, channels=3)
    save(classes / "cat" / "a.png", 255 - gradient(30, 40))  # same name, new pixels
    changed = ImageFolder(classes, image_size=16, channels=3)
    assert not np.array_equal(changed.images[0], first.images[0])
    np.testing.assert_array_equal(changed.images[1:], first.images[1:])
    save(classes / "dog" / "d.png", gradient(20, 20))
    assert len(ImageFolder(classes, image_size=16, channels=3)) == 4
    (classes / "dog" / "d.png").unlink()
    assert len(ImageFolder(classes, image_size=16, channels=3)) == 3
    assert len(cache_files(empty_home)) == 3  # one per distinct file list (the last one was cached)


def test_touching_a_file_changes_the_key_and_other_sizes_or_channels_have_their_own(classes, empty_home):
    a = ImageFolder(classes, image_size=16, channels=3).cache_path
    stat = os.stat(classes / "cat" / "a.png")
    os.utime(classes / "cat" / "a.png", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    b = ImageFolder(classes, image_size=16, channels=3).cache_path
    c = ImageFolder(classes, image_size=8, channels=3).cache_path
    d = ImageFolder(classes, image_size=8, channels=1).cache_path
    assert len({a, b, c, d}) == 4


def test_a_damaged_cache_file_is_decoded_again_and_replaced(classes, empty_home):
    first = ImageFolder(classes, image_size=16, channels=3)
    first.cache_path.write_bytes(b"garbage")
    again = ImageFolder(classes, image_size=16, channels=3)
    np.testing.assert_array_equal(again.images, first.images)
    assert np.load(first.cache_path).shape == (3, 3, 16, 16)


def test_cache_dir_false_neither_reads_nor_writes_a_cache(classes, empty_home):
    data = ImageFolder(classes, image_size=16, channels=3, cache_dir=False)
    assert data.cache_path is None and cache_files(empty_home) == []


# --- with DataLoader and transforms ---------------------------------------------------------

def test_dataloader_serves_minus_one_to_one_batches_by_default(classes):
    data = ImageFolder(classes, image_size=16, channels=3)
    images, labels = next(iter(DataLoader(data, batch_size=3)))
    assert images.shape == (3, 3, 16, 16) and images.dtype == mg.float32
    np.testing.assert_array_equal(images.numpy(), data.images / np.float32(127.5) - 1)
    assert labels.numpy().tolist() == [0, 0, 1]


def test_a_transform_gets_the_hwc_uint8_batch_and_its_result_is_served(classes):
    transform = T.Compose([T.ToTensor(), T.Normalize((0.5, 0.5, 0.5), (0.25, 0.25, 0.25))])
    data = ImageFolder(classes, image_size=16, channels=3, transform=transform)
    images, _ = next(iter(DataLoader(data, batch_size=3)))
    np.testing.assert_allclose(images.numpy(), (data.images / 255.0 - 0.5) / 0.25, rtol=1e-6, atol=1e-6)
    image, label = data[2]
    np.testing.assert_allclose(image.numpy(), images.numpy()[2], rtol=1e-6)
    assert label == 1

