"""The paper's 64x64 DCGAN: PyTorch's example's layers and names, and examples/dcgan_images.py
end to end on a tiny synthetic image folder (train, resume bit for bit, generate, interpolate).

The networks are shrunk (--ngf 4 --ndf 4) and the folder holds 16 pictures, so each run
takes seconds; the architecture is checked at the example's full widths.
"""
import functools
import os

import numpy as np
import pytest
from PIL import Image

import minigan as mg
from minigan.data.synthetic import write_shapes
from minigan.gan import DCGAN64
from minigan.gan.dcgan64 import Discriminator, Generator
from minigan.train import load_checkpoint, read_steplog

from .helpers import checkpoint_weights, run_program

TINY = ["--batch-size", "4", "--ngf", "4", "--ndf", "4", "--z-dim", "8", "--no-eval"]


@pytest.fixture(autouse=True)
def empty_home(monkeypatch, tmp_path):
    """ImageFolder caches in ~/.cache/minigan: point HOME at an empty folder."""
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@pytest.fixture(scope="module")
def shapes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shapes")
    write_shapes(folder, n=16, size=64, seed=3)
    return folder


def run(out, shapes, *args):
    return run_program(DCGAN64, out, "--data", shapes, *args, options=TINY)


def test_generator_has_the_pytorch_examples_layers_names_and_shapes():
    G = Generator(nz=100, ngf=64, nc=3)
    shapes = {name: tuple(value.shape) for name, value in G.state_dict().items()}
    assert shapes["main.0.weight"] == (100, 512, 4, 4)
    assert shapes["main.3.weight"] == (512, 256, 4, 4)
    assert shapes["main.6.weight"] == (256, 128, 4, 4)
    assert shapes["main.9.weight"] == (128, 64, 4, 4)
    assert shapes["main.12.weight"] == (64, 3, 4, 4)
    assert shapes["main.10.running_var"] == (64,)
    assert [n for n in shapes if not n.startswith(("main.1.", "main.4.", "main.7.", "main.10."))] == [
        "main.0.weight", "main.3.weight", "main.6.weight", "main.9.weight", "main.12.weight"]
    assert G(mg.randn(2, 100)).shape == (2, 3, 64, 64)
    assert G(mg.randn(2, 100, 1, 1)).shape == (2, 3, 64, 64)  # the example's (N, nz, 1, 1) input


def test_discriminator_has_the_pytorch_examples_layers_names_and_shapes():
    D = Discriminator(ndf=64, nc=3)
    shapes = {name: tuple(value.shape) for name, value in D.state_dict().items()}
    assert [(n, s) for n, s in shapes.items() if n.endswith("weight") and len(s) == 4] == [
        ("main.0.weight", (64, 3, 4, 4)), ("main.2.weight", (128, 64, 4, 4)),
        ("main.5.weight", (256, 128, 4, 4)), ("main.8.weight", (512, 256, 4, 4)),
        ("main.11.weight", (1, 512, 4, 4))]
    assert "main.9.num_batches_tracked" in shapes and not any("bias" in n and "main.0" in n for n in shapes)
    assert D(mg.randn(2, 3, 64, 64)).shape == (2, 1)


@pytest.mark.torch
def test_networks_compute_what_the_pytorch_example_computes_from_the_same_weights(torch):
    nn = torch.nn
    ngf, ndf, nz, nc = 8, 8, 16, 3
    torch_g = nn.Sequential(
        nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
        nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh())
    torch_d = nn.Sequential(
        nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 8), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False), nn.Sigmoid())
    G, D = Generator(nz, ngf, nc), Discriminator(ndf, nc)
    # The example's weights, by the example's names ("main." + its Sequential index), load as they are.
    G.load_state_dict({f"main.{k}": v.numpy() for k, v in torch_g.state_dict().items()})
    D.load_state_dict({f"main.{k}": v.numpy() for k, v in torch_d.state_dict().items()})
    z = np.random.default_rng(0).standard_normal((5, nz, 1, 1)).astype(np.float32)
    fake = G(mg.tensor(z))  # training mode: batch statistics, as torch's
    torch_fake = torch_g(torch.from_numpy(z))
    np.testing.assert_allclose(fake.numpy(), torch_fake.detach().numpy(), atol=2e-5)
    probability = D(fake).sigmoid()
    np.testing.assert_allclose(probability.numpy(), torch_d(torch_fake).detach().numpy().reshape(5, 1),
                               atol=2e-5)


def test_other_image_sizes_add_or_drop_stride_2_layers_and_bad_ones_are_refused():
    assert Generator(8, 4, 1, image_size=32)(mg.randn(2, 8)).shape == (2, 1, 32, 32)
    assert Discriminator(4, 1, image_size=32)(mg.randn(2, 1, 32, 32)).shape == (2, 1)
    with pytest.raises(ValueError, match="power of two >= 8.*got 48"):
        Generator(8, 4, 3, image_size=48)


def test_a_few_steps_write_every_output_and_no_mnist_report(tmp_path, shapes, capsys):
    assert run(tmp_path, shapes, "--epochs", "1") == 0  # 16 pictures / batch 4: 4 steps
    for name in ("checkpoint.npz", "log.jsonl", "losses.png", "progress.gif", "samples/epoch_001.png"):
        assert (tmp_path / name).is_file(), name
    grid = np.asarray(Image.open(tmp_path / "samples" / "epoch_001.png"))
    assert grid.ndim == 3 and grid.shape[2] == 3  # colour pictures
    assert [r["step"] for r in read_steplog(tmp_path / "log.jsonl")] == [1, 2, 3, 4]
    state = load_checkpoint(tmp_path / "checkpoint.npz")
    assert state["model"] == "dcgan64" and state["config"]["image_size"] == 64
    assert "main.12.weight" in state["networks"]["G"]


def test_resume_mid_epoch_is_bit_identical_to_an_uninterrupted_run(tmp_path, shapes):
    run(tmp_path / "straight", shapes, "--epochs", "2", "--max-steps", "6")
    run(tmp_path / "resumed", shapes, "--epochs", "2", "--max-steps", "3")
    run(tmp_path / "resumed", shapes, "--epochs", "2", "--max-steps", "6", "--resume")
    a, b = checkpoint_weights(tmp_path / "straight"), checkpoint_weights(tmp_path / "resumed")
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


def test_the_quality_report_is_skipped_even_without_no_eval(tmp_path, shapes, capsys):
    options = [o for o in TINY if o != "--no-eval"]
    assert run_program(DCGAN64, tmp_path, "--data", shapes, "--max-steps", "1", options=options) == 0
    assert "classifier" not in capsys.readouterr().err
    assert not (tmp_path / "quality.json").exists()


def test_generate_nice_and_interpolate_from_the_checkpoint(tmp_path, shapes):
    run(tmp_path, shapes, "--max-steps", "2")
    assert run(tmp_path, shapes, "--generate", "6", "--nice") == 0
    samples = np.load(tmp_path / "samples.npy")
    assert samples.shape == (6, 3, 64, 64) and samples.min() >= -1 and samples.max() <= 1
    assert run(tmp_path, shapes, "--interpolate") == 0
    assert (tmp_path / "interpolation.png").is_file()


def test_a_missing_or_empty_data_folder_is_one_error_line(tmp_path, capsys):
    assert run_program(DCGAN64, tmp_path / "out", "--max-steps", "1", options=TINY) == 2
    assert "error: dcgan_images.py needs --data DIR" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert run_program(DCGAN64, tmp_path / "out", "--data", tmp_path / "empty", options=TINY) == 2
    assert "error: ImageFolder: found no .png/.jpg/.jpeg files in" in capsys.readouterr().err


def test_synthetic_shapes_are_seeded_pngs_in_one_folder_per_shape(tmp_path):
    first = write_shapes(tmp_path / "a", n=6, size=32, seed=1)
    second = write_shapes(tmp_path / "b", n=6, size=32, seed=1)
    assert [p.relative_to(tmp_path / "a") for p in first] == [p.relative_to(tmp_path / "b") for p in second]
    assert all(p.read_bytes() == q.read_bytes() for p, q in zip(first, second))
    assert {p.parent.name for p in first} <= {"circle", "square", "triangle"}
    image = Image.open(first[0])
    assert image.size == (32, 32) and image.mode == "RGB"
    other = write_shapes(tmp_path / "c", n=6, size=32, seed=2)
    assert sorted(p.read_bytes() for p in other) != sorted(p.read_bytes() for p in first)
