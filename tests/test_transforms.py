"""minigan.data.transforms: torchvision's names and numbers, on one image and on a batch.

torchvision is not installed; the expected values are worked out by hand (torchvision's
definitions: ToTensor = HWC uint8 / 255 -> CHW, Normalize = (x - mean) / std per
channel, CenterCrop offsets round((H - h) / 2)), and Resize is checked against torch's
bilinear interpolation (antialias=False), which torchvision's tensor Resize calls.
"""
import numpy as np
import pytest

import minigan as mg
from minigan.data import MNIST, DataLoader, Subset, TensorDataset
from minigan.data import transforms as T


def hwc(h, w, c, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, c), dtype=np.uint8)


def test_to_tensor_turns_hwc_uint8_into_chw_float_in_zero_one():
    image = np.array([[[0, 255, 51]], [[102, 153, 204]]], dtype=np.uint8)  # H=2, W=1, C=3
    tensor = T.ToTensor()(image)
    assert isinstance(tensor, mg.Tensor) and tensor.shape == (3, 2, 1) and tensor.dtype == mg.float32
    np.testing.assert_allclose(tensor.numpy()[:, :, 0], [[0.0, 0.4], [1.0, 0.6], [0.2, 0.8]], rtol=1e-6)


def test_to_tensor_gives_grey_images_one_channel_and_keeps_a_batch_axis():
    assert T.ToTensor()(np.zeros((5, 7), np.uint8)).shape == (1, 5, 7)
    batch = np.stack([hwc(4, 6, 3, seed=s) for s in range(3)])
    out = T.ToTensor()(batch)
    assert out.shape == (3, 3, 4, 6)
    np.testing.assert_allclose(out.numpy()[1], T.ToTensor()(batch[1]).numpy())


def test_to_tensor_refuses_floats_with_what_it_expected():
    with pytest.raises(TypeError, match=r"expected a uint8 image .* got a float32 array of shape \(3, 4, 4\)"):
        T.ToTensor()(np.zeros((3, 4, 4), np.float32))


def test_normalize_subtracts_the_mean_and_divides_by_the_std_per_channel():
    x = mg.tensor(np.array([[[0.0, 1.0]], [[0.5, 0.25]]], dtype=np.float32))  # C=2, H=1, W=2
    out = T.Normalize(mean=(0.5, 0.25), std=(0.5, 0.125))(x)
    np.testing.assert_allclose(out.numpy(), [[[-1.0, 1.0]], [[2.0, 0.0]]])
    assert isinstance(out, mg.Tensor) and out.dtype == mg.float32


def test_normalize_with_mean_and_std_one_half_maps_zero_one_to_minus_one_one():
    images = np.stack([hwc(3, 3, 1, seed=s) for s in range(4)])
    out = T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))])(images)
    np.testing.assert_allclose(out.numpy(), np.moveaxis(images, -1, 1) / 127.5 - 1, atol=1e-6)


def test_normalize_refuses_a_zero_std_and_the_wrong_number_of_channels():
    with pytest.raises(ValueError, match="std evaluated to zero"):
        T.Normalize((0.5,), (0.0,))
    with pytest.raises(ValueError, match=r"expected 3 \(or 1\) mean values for 3 channels, got 2"):
        T.Normalize((0.5, 0.5), (1, 1))(mg.zeros(3, 2, 2))
    with pytest.raises(TypeError, match="apply ToTensor first"):
        T.Normalize((0.5,), (0.5,))(np.zeros((2, 2, 1), np.uint8))


def test_random_horizontal_flip_with_p_one_mirrors_and_p_zero_keeps():
    image = hwc(2, 3, 3)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(image), image[:, ::-1])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=0.0)(image), image)
    chw = mg.tensor(np.arange(6, dtype=np.float32).reshape(1, 2, 3))
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(chw).numpy(), [[[2, 1, 0], [5, 4, 3]]])


def test_random_horizontal_flip_draws_each_image_of_a_batch_from_the_seeded_generator():
    batch = np.stack([hwc(4, 5, 3, seed=s) for s in range(200)])
    mg.manual_seed(0)
    first = T.RandomHorizontalFlip()(batch)
    flipped = np.array([np.array_equal(f, b[:, ::-1]) for f, b in zip(first, batch)])
    kept = np.array([np.array_equal(f, b) for f, b in zip(first, batch)])
    assert np.all(flipped ^ kept) and 70 < flipped.sum() < 130  # each image one or the other, ~half
    mg.manual_seed(0)
    np.testing.assert_array_equal(T.RandomHorizontalFlip()(batch), first)  # repeatable from the seed


def test_center_crop_takes_torchvisions_offsets():
    image = np.arange(5 * 6, dtype=np.uint8).reshape(5, 6, 1)  # H=5, W=6
    # top = round((5 - 2) / 2) = round(1.5) = 2, left = round((6 - 3) / 2) = round(1.5) = 2
    np.testing.assert_array_equal(T.CenterCrop((2, 3))(image)[..., 0], [[14, 15, 16], [20, 21, 22]])
    chw = mg.tensor(np.arange(16, dtype=np.float32).reshape(1, 4, 4))
    np.testing.assert_array_equal(T.CenterCrop(2)(chw).numpy(), [[[5, 6], [9, 10]]])
    with pytest.raises(ValueError, match=r"at least 5 x 5, got 4 x 4"):
        T.CenterCrop(5)(chw)


def test_resize_an_int_sets_the_shorter_side_and_truncates_the_longer():
    assert T.Resize(16)(np.zeros((30, 40, 3), np.uint8)).shape == (16, 21, 3)  # int(16 * 40 / 30) = 21
    assert T.Resize(16)(mg.zeros(3, 40, 30)).shape == (3, 21, 16)
    assert T.Resize((8, 12))(mg.zeros(2, 1, 5, 5)).shape == (2, 1, 8, 12)


def test_resize_halving_averages_pixel_pairs():
    x = mg.tensor(np.array([[[0.0, 2.0, 4.0, 6.0]]], dtype=np.float32))  # 1 x 1 x 4 -> width 2
    np.testing.assert_allclose(T.Resize((1, 2))(x).numpy(), [[[1.0, 5.0]]])


@pytest.mark.torch
def test_resize_matches_torchs_bilinear_interpolation(torch):
    x = np.random.default_rng(1).standard_normal((2, 3, 7, 9)).astype(np.float32)
    for size in [(5, 4), (12, 17), (7, 3)]:
        expected = torch.nn.functional.interpolate(torch.from_numpy(x), size=size, mode="bilinear",
                                                   align_corners=False, antialias=False)
        np.testing.assert_allclose(T.Resize(size)(mg.tensor(x)).numpy(), expected.numpy(), atol=1e-5)


def test_compose_applies_in_order_and_transforms_have_torchvision_reprs():
    transform = T.Compose([T.CenterCrop(2), T.ToTensor()])
    assert transform(hwc(4, 4, 3)).shape == (3, 2, 2)
    assert "CenterCrop(size=(2, 2))" in repr(transform) and "ToTensor()" in repr(transform)
    with pytest.raises(TypeError, match="expected callables"):
        T.Compose([3])


# --- on datasets -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mnist_test():
    try:
        return MNIST(train=False, download=False)
    except RuntimeError as error:
        pytest.skip(f"MNIST not available: {error}")


def test_mnist_with_a_transform_gives_what_torchvision_gives(mnist_test):
    data = MNIST(train=False, download=False, transform=T.ToTensor())
    image, label = data[0]
    assert image.shape == (1, 28, 28) and label == 7
    np.testing.assert_allclose(image.numpy()[0], mnist_test.images[0] / 255.0, rtol=1e-6)


def test_the_loader_applies_the_transform_to_each_batch_at_once(mnist_test, monkeypatch):
    calls = []
    to_tensor = T.ToTensor()

    def counted(batch):
        calls.append(batch.shape)
        return to_tensor(batch)

    data = Subset(MNIST(train=False, download=False, transform=counted), range(20))
    batches = list(DataLoader(data, batch_size=8))
    assert calls == [(8, 28, 28, 1), (8, 28, 28, 1), (4, 28, 28, 1)]  # once a batch, HWC
    np.testing.assert_allclose(batches[0][0].numpy()[:, 0], mnist_test.images[:8] / 255.0, rtol=1e-6)
    assert batches[2][1].numpy().tolist() == mnist_test.labels[16:20].tolist()


def test_without_a_transform_the_loader_keeps_its_fast_minus_one_to_one_path(mnist_test):
    images, _ = next(iter(DataLoader(Subset(mnist_test, range(4)), batch_size=4)))
    np.testing.assert_array_equal(images.numpy()[:, 0], mnist_test.images[:4] / np.float32(127.5) - 1)


def test_a_non_callable_transform_is_refused(mnist_test):
    with pytest.raises(TypeError, match="expected transform to be callable, got a str"):
        MNIST(train=False, download=False, transform="ToTensor")


def test_tensor_dataset_batches_are_tuples_of_its_tensors_rows():
    x = np.arange(10 * 3, dtype=np.float32).reshape(10, 3)
    y = np.arange(10) % 2
    data = TensorDataset(mg.tensor(x), y)
    assert len(data) == 10
    first, second = data[4]
    np.testing.assert_array_equal(first.numpy(), x[4])
    assert int(second.item()) == 0
    batches = list(DataLoader(data, batch_size=4, shuffle=True, seed=3))
    order = np.random.default_rng([3, 0]).permutation(10)
    assert [b[0].shape for b in batches] == [(4, 3), (4, 3), (2, 3)]
    np.testing.assert_array_equal(np.concatenate([b[0].numpy() for b in batches]), x[order])
    np.testing.assert_array_equal(np.concatenate([b[1].numpy() for b in batches]), y[order])
    assert batches[0][0].dtype == mg.float32


def test_tensor_dataset_refuses_tensors_of_different_lengths():
    with pytest.raises(ValueError, match=r"same first dimension, got shapes \(3, 2\), \(4,\)"):
        TensorDataset(np.zeros((3, 2)), np.zeros(4))


def test_transforms_and_the_loader_work_on_the_strict_backend_as_on_numpy(mnist_test, backend):
    transform = T.Compose([T.RandomHorizontalFlip(p=1.0), T.ToTensor(), T.Normalize((0.5,), (0.5,)),
                           T.CenterCrop(20), T.Resize(10)])
    data = Subset(MNIST(train=False, download=False, transform=transform), range(6))
    images, labels = next(iter(DataLoader(data, batch_size=6)))
    assert images.shape == (6, 1, 10, 10) and labels.shape == (6,)
    with mg.use_backend("numpy"):
        expected = transform(mnist_test.images[:6, :, :, None]).numpy()
    np.testing.assert_allclose(images.numpy(), expected, rtol=1e-6, atol=1e-6)
