"""The DCGAN paper's experiments (minigan.analysis, examples/dcgan_paper.py).

The pieces are checked on hand-built cases (pooling, the masking rule of guided
backpropagation, holes in drawn shapes, moments of drawn strokes, a separable
set for the linear classifier); every subcommand then runs end to end on a
DCGAN trained for four small steps in the test. Measured results of the
experiments live in the README, not here.
"""
import json
import os

import numpy as np
import pytest

import minigan as mg
import minigan.functional as F
from minigan.analysis import (GuidedLeakyReLU, random_dcgan, discriminator_activations, enclosed_background,
                              fit_logistic_regression, flatten_and_concatenate, generator_forward,
                              has_hole, label_draw, load_dcgan, pool_to_grid, slant, stroke_thickness)
from minigan.analysis.arithmetic import concept_groups, describe, generate, parse_task
from minigan.analysis.cli import main
from minigan.analysis.forget import pixel_features
from minigan.analysis.memorisation import nearest
from minigan.gan import DCGAN

from .helpers import initial_weights, needs_mnist, randn, run_program

SMALL = ["--batch-size", "8", "--train-size", "32", "--no-eval", "--z-dim", "16", "--epochs", "1"]


# --- the pieces, on hand-built cases ---------------------------------------------------

def test_pool_to_grid_takes_the_maximum_of_each_adaptive_cell():
    a = np.arange(49, dtype=np.float64).reshape(1, 1, 7, 7)   # a[r, c] = 7 r + c
    # 7 rows -> cells 0-1, 1-3, 3-5, 5-6: the maximum is at each cell's last row and column
    last = np.array([1, 3, 5, 6])
    np.testing.assert_array_equal(pool_to_grid(a)[0, 0], 7 * last[:, None] + last[None, :])
    b = np.zeros((1, 1, 14, 14))
    b[0, 0, 3, 10] = 5.0           # row 3 lies in cells 0 and 1, column 10 in cells 2 and 3
    expected = np.zeros((4, 4))
    expected[0:2, 2:4] = 5.0
    np.testing.assert_array_equal(pool_to_grid(b)[0, 0], expected)


def test_pool_to_grid_matches_torch_adaptive_max_pool(torch):
    a = np.random.default_rng(0).standard_normal((2, 3, 14, 14))
    np.testing.assert_array_equal(pool_to_grid(a),
                                  torch.nn.functional.adaptive_max_pool2d(torch.tensor(a), 4).numpy())


def test_features_are_each_layer_pooled_flattened_and_concatenated_in_order():
    first = np.zeros((2, 2, 14, 14))
    second = np.zeros((2, 3, 7, 7))
    first[1, 1, 0, 0] = 1.0        # image 1, channel 1, cell (0, 0): feature 1 * 16 + 0
    second[0, 2, 6, 6] = 2.0       # image 0, channel 2, cell (3, 3): feature 32 + 2 * 16 + 15
    features = flatten_and_concatenate([first, second])
    assert features.shape == (2, 2 * 16 + 3 * 16)
    assert np.flatnonzero(features[1]).tolist() == [16]
    assert np.flatnonzero(features[0]).tolist() == [32 + 32 + 15]
    assert features[0, 79] == 2.0


def test_logistic_regression_separates_a_linearly_separable_set():
    rng = np.random.default_rng(0)
    centres = np.array([[4.0, 0, 0], [0, 4.0, 0], [0, 0, 4.0], [-4.0, -4.0, -4.0]])
    y = rng.integers(0, 4, 400)
    X = (centres[y] + rng.standard_normal((400, 3)) * 0.5).astype(np.float32)
    classifier = fit_logistic_regression(X[:300], y[:300], weight_decay=1e-4, steps=200,
                                         batch_size=100, lr=0.05)
    assert classifier.weight.shape == (4, 3) and classifier.bias.shape == (4,)
    assert classifier.error(X[:300], y[:300]) == 0.0
    assert classifier.error(X[300:], y[300:]) == 0.0


def test_a_larger_weight_decay_gives_smaller_weights():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((200, 5)).astype(np.float32)
    y = (X[:, 0] > 0).astype(np.int64)
    norms = [np.linalg.norm(fit_logistic_regression(X, y, weight_decay=wd, steps=200).weight)
             for wd in (1e-4, 1.0)]
    assert norms[1] < norms[0] / 2


def test_label_draw_is_class_balanced_and_disjoint_from_the_held_out_set():
    labels = np.repeat(np.arange(10), 50)
    labelled, held = label_draw(labels, 100, holdout=100, seed=3)
    assert len(held) == 100 and len(labelled) == 100
    assert not set(labelled) & set(held)
    assert np.bincount(labels[labelled], minlength=10).tolist() == [10] * 10
    everything, held = label_draw(labels, 10_000, holdout=100, seed=3)   # all beside the held-out
    assert sorted(set(everything) | set(held)) == list(range(500)) and len(everything) == 400
    with pytest.raises(ValueError, match="multiple of 10"):
        label_draw(labels, 15, holdout=100, seed=3)


def test_guided_backward_passes_only_positive_gradients_to_positive_inputs(backend):
    x = mg.tensor([-1.0, 2.0, 3.0, -4.0, 5.0], dtype=mg.float64, requires_grad=True)
    g = mg.tensor([5.0, -6.0, 7.0, 8.0, 0.5], dtype=mg.float64)
    y = GuidedLeakyReLU.apply(x, negative_slope=0.2)
    np.testing.assert_allclose(y.numpy(), [-0.2, 2.0, 3.0, -0.8, 5.0])   # the forward is leaky
    (guided,) = mg.grad(y, [x], grad_outputs=g)
    np.testing.assert_allclose(guided.numpy(), [0.0, 0.0, 7.0, 0.0, 0.5])
    (true,) = mg.grad(F.leaky_relu(x, 0.2), [x], grad_outputs=g)  # not the true gradient:
    np.testing.assert_allclose(true.numpy(), [1.0, -6.0, 7.0, 1.6, 0.5])


def test_guided_backward_is_the_true_gradient_where_inputs_and_gradients_are_positive(backend):
    x = randn(3, 4, offset=3.0, seed=0)               # all inputs well above 0
    assert (x.numpy() > 0).all()
    # an upstream gradient exp(.) > 0 everywhere: sum(exp(y)) puts exp(y) on every element
    mg.gradcheck(lambda t: GuidedLeakyReLU.apply(t, negative_slope=0.2).exp().sum(), (x,))


def test_guided_backward_is_differentiable_in_the_upstream_gradient(backend):
    x = randn(2, 5, seed=1, requires_grad=False)
    g = randn(2, 5, seed=2)
    g = mg.tensor(np.where(np.abs(g.numpy()) < 0.1, 0.5, g.numpy()), requires_grad=True)

    def backward_of(upstream):
        xx = mg.tensor(x.numpy(), requires_grad=True)
        return mg.grad(GuidedLeakyReLU.apply(xx, negative_slope=0.2), [xx],
                       grad_outputs=upstream, create_graph=True)[0]
    mg.gradcheck(backward_of, (g,))


def _drawn(shape_fn, size=28):
    image = -np.ones((1, 1, size, size))
    r, c = np.mgrid[0:size, 0:size]
    image[0, 0][shape_fn(r, c)] = 1.0
    return image


def test_a_ring_has_a_hole_and_a_bar_has_none():
    ring = _drawn(lambda r, c: (np.hypot(r - 14, c - 14) >= 6) & (np.hypot(r - 14, c - 14) <= 9))
    bar = _drawn(lambda r, c: (r >= 4) & (r < 24) & (c >= 12) & (c < 16))
    holes = enclosed_background(ring)[0]
    assert holes[14, 14] and not holes[0, 0] and not holes[14, 22]   # centre, corner, the ink
    assert holes.sum() == (np.hypot(*np.mgrid[-14:14, -14:14]) < 6).sum()
    assert enclosed_background(bar).sum() == 0
    assert has_hole(np.concatenate([ring, bar])).tolist() == [True, False]


def test_an_open_ring_and_a_diagonal_wall():
    cut = _drawn(lambda r, c: (np.hypot(r - 14, c - 14) >= 6) & (np.hypot(r - 14, c - 14) <= 9)
                 & ~((c > 14) & (abs(r - 14) <= 1)))      # a gap on the right: no loop
    assert not has_hole(cut)[0]
    diamond = _drawn(lambda r, c: abs(r - 14) + abs(c - 14) == 8)   # ink touching only diagonally
    assert enclosed_background(diamond)[0, 14, 14]


def test_stroke_thickness_grows_with_width_and_slant_has_the_lean_s_sign():
    thin = _drawn(lambda r, c: (r >= 4) & (r < 24) & (c >= 13) & (c < 15))
    thick = _drawn(lambda r, c: (r >= 4) & (r < 24) & (c >= 11) & (c < 17))
    right = _drawn(lambda r, c: (r >= 4) & (r < 24) & (abs(c - (20 - (r - 4) * 0.4)) < 1.5))
    left = right[..., ::-1]
    t = stroke_thickness(np.concatenate([thin, thick]))
    assert 1.5 < t[0] < 2.0 and 4.0 < t[1] < 6.0   # 2 A / P of 20 x 2 and 20 x 6 bars
    s = slant(np.concatenate([thin, right, left]))
    assert s[0] == 0 and s[1] > 0.3 and np.isclose(s[2], -s[1])


def test_nearest_finds_the_exact_copy_at_distance_zero():
    references = np.random.default_rng(0).standard_normal((50, 7))
    index, distance = nearest(references[[4, 9]] + [[0.0], [1e-3]], references, batch_size=1)
    assert index.tolist() == [4, 9] and distance[0] < 1e-6 and np.isclose(distance[1], 1e-3 * 7 ** 0.5)


def test_parse_task_accepts_attribute_source_target_only():
    assert parse_task("slant:1:7") == ("slant", 1, 7)
    with pytest.raises(ValueError, match="ATTRIBUTE:SOURCE:TARGET"):
        parse_task("width:1:7")


def test_pixel_features_repeat_each_activation_over_its_block():
    maps = np.arange(2 * 3 * 2 * 2).reshape(2, 3, 2, 2)
    pixels = pixel_features(maps, 4)
    assert pixels.shape == (2, 4, 4, 3)
    np.testing.assert_array_equal(pixels[1, 3, 0], maps[1, :, 1, 0])


# --- the networks, on a small trained checkpoint --------------------------------------

@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    if not os.environ.get("MINIGAN_DATA"):
        pytest.skip("MNIST not found (set MINIGAN_DATA)")
    out = tmp_path_factory.mktemp("dcgan")
    assert run_program(DCGAN, out, options=SMALL) == 0
    return out / "checkpoint.npz"


@pytest.fixture(scope="module")
def classifier_cache(tmp_path_factory):
    """A real MNIST classifier trained for a few steps, cached where load_classifier looks."""
    if not os.environ.get("MINIGAN_DATA"):
        pytest.skip("MNIST not found (set MINIGAN_DATA)")
    from minigan.data import MNIST
    from minigan.data.subset import Subset
    from minigan.metrics.classifier import save_classifier, train_classifier
    cache = tmp_path_factory.mktemp("cache")
    train = MNIST(train=True)
    classifier = train_classifier(Subset(train, np.arange(640)), Subset(MNIST(train=False), np.arange(100)),
                                  max_steps=10, log=open(os.devnull, "w"))
    classifier.test_feature_mean, classifier.test_feature_cov = np.zeros(128), np.eye(128)
    classifier.test_set_frechet_distance = 0.0
    save_classifier(classifier, cache / "mnist_classifier.npz")
    return cache


def test_discriminator_activations_are_each_conv_block_s_output(checkpoint):
    model, state = load_dcgan(checkpoint)
    assert state["epoch"] == 1 and model.z_dim == 16
    x = mg.tensor(np.random.default_rng(0).uniform(-1, 1, (3, 1, 28, 28)).astype(np.float32))
    with mg.no_grad():
        first, second = discriminator_activations(model.D, x)
        assert first.shape == (3, 64, 14, 14) and second.shape == (3, 128, 7, 7)
        np.testing.assert_array_equal(second.numpy(), model.D.net[:5](x).numpy())


def test_the_random_networks_are_the_weights_training_started_from(checkpoint):
    _, state = load_dcgan(checkpoint)
    start = initial_weights(DCGAN, state["config"])
    random = random_dcgan(state["config"], state["config"]["seed"])
    for k, v in random.D.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), start[f"D.{k}"])


def test_dropping_feature_maps_zeroes_exactly_the_chosen_maps(checkpoint):
    model, _ = load_dcgan(checkpoint)
    z = mg.tensor(np.random.default_rng(0).standard_normal((4, 16)).astype(np.float32))
    drop = [0, 5, 63]
    with mg.no_grad():
        images, maps = generator_forward(model.G, z)
        dropped_images, dropped = generator_forward(model.G, z, drop=drop)
        np.testing.assert_array_equal(images.numpy(), model.G(z).numpy())
    maps, dropped = maps.numpy(), dropped.numpy()
    kept = np.setdiff1d(np.arange(64), drop)
    assert maps.shape == (4, 64, 14, 14) and (dropped[:, drop] == 0).all()
    assert (maps[:, drop] != 0).any()      # they were drawing something before
    np.testing.assert_array_equal(dropped[:, kept], maps[:, kept])
    assert not np.array_equal(dropped_images.numpy(), images.numpy())


def _run(checkpoint, tmp_path, *args):
    return main([args[0], "--checkpoint", str(checkpoint), "--out", str(tmp_path), *args[1:]])


def _printed_json(capsys):
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@needs_mnist
def test_features_prints_every_classifier_s_test_error(checkpoint, tmp_path, capsys):
    assert _run(checkpoint, tmp_path, "features", "--labels", "20", "--draws", "2", "--train-size", "300",
                "--holdout", "100", "--test-size", "50", "--cnn-steps", "4", "--linear-steps", "20",
                "--json") == 0
    result = _printed_json(capsys)
    assert result["labels"] == 20 and result["labelled"] == 20 and result["draws"] == 2
    assert set(result["test_error"]) == {"d_features", "random_d", "pixels", "supervised_cnn"}
    assert set(result["spread"]) == set(result["test_error"])
    assert all(0 <= e <= 1 for e in result["test_error"].values())
    assert result["feature_size"] == 64 * 16 + 128 * 16
    assert json.loads((tmp_path / "paper" / "features_20.json").read_text())["labels"] == 20


@needs_mnist
def test_arithmetic_draws_the_figure_and_measures_both_exemplar_counts(checkpoint, tmp_path, capsys,
                                                                       classifier_cache, monkeypatch):
    monkeypatch.setenv("MINIGAN_CACHE", str(classifier_cache))
    from minigan.metrics import load_classifier
    model, _ = load_dcgan(checkpoint)
    z = np.random.default_rng(0).standard_normal((300, 16)).astype(np.float32)  # the program's draw
    described = describe(generate(model.G, z), load_classifier())
    # Four steps of training draw one digit (as the classifier sees it): use the commonest.
    a = np.bincount(described["digit"], minlength=10).argmax()
    assert len(concept_groups(described, "thickness", a, min_confidence=0)[0]) >= 2
    assert _run(checkpoint, tmp_path, "arithmetic", "--samples", "300", "--draws", "5",
                "--exemplars", "1", "2", "--tasks", f"thickness:{a}:{a}", f"slant:{a}:{a}",
                "--min-confidence", "0", "--json") == 0
    result = _printed_json(capsys)
    assert [t["task"] for t in result["tasks"]] == [
        f"thick {a} - thin {a} + thin {a}", f"right-leaning {a} - left-leaning {a} + left-leaning {a}"]
    for task in result["tasks"]:
        assert set(task["by_exemplars"]) == {"1", "2"}
        assert all(0 <= v <= 1 for k, v in task["by_exemplars"]["2"].items() if k != "mean_change")
    from PIL import Image
    with Image.open(tmp_path / "paper" / "arithmetic.png") as picture:
        # 2 tasks x (3 rows of exemplars and neighbours + a row of means) + a gap row, 7 columns
        assert picture.size == (2 * (7 * 30 + 2), 2 * (9 * 30 + 2))


@needs_mnist
def test_filters_writes_filters_guided_backprop_and_generator_maps(checkpoint, tmp_path, capsys):
    assert _run(checkpoint, tmp_path, "filters", "--digits", "3", "--features", "2", "--z", "2",
                "--json") == 0
    result = _printed_json(capsys)
    assert np.array(result["guided_channels"]).shape == (3, 2)
    for name in ("filters_trained", "filters_random", "guided_backprop", "generator_maps"):
        assert (tmp_path / "paper" / f"{name}.png").exists()


@needs_mnist
def test_forget_measures_holes_before_and_after_dropping(checkpoint, tmp_path, capsys,
                                                        classifier_cache, monkeypatch):
    monkeypatch.setenv("MINIGAN_CACHE", str(classifier_cache))
    # Four steps of training draw grey noise: at p > 0.5 half of it is ink, with specks of holes.
    assert _run(checkpoint, tmp_path, "forget", "--train-samples", "50", "--test-samples", "40",
                "--ink-threshold", "0.5", "--json") == 0
    result = _printed_json(capsys)
    assert result["maps"] == 64 and result["dropped"] == len(result["dropped_maps"])
    for key in ("digits_before", "digits_after", "digits_random_drop"):
        assert len(result[key]) == 10 and np.isclose(sum(result[key]), 1)
    assert (tmp_path / "paper" / "forget.png").exists()
    assert len(result["hole_rate_real_by_digit"]) == 10
    assert result["hole_rate_real_by_digit"][8] > result["hole_rate_real_by_digit"][1]  # 8s loop, 1s not
    assert _run(checkpoint, tmp_path, "forget", "--train-samples", "50", "--test-samples", "40",
                "--ink-threshold", "0.5", "--max-dropped", "2", "--json") == 0
    top = _printed_json(capsys)
    assert top["dropped"] == min(2, result["dropped"])
    assert set(top["dropped_maps"]) <= set(result["dropped_maps"])
    assert (tmp_path / "paper" / "forget_top2.png").exists()


@needs_mnist
@pytest.mark.parametrize("backend_name", ["numpy", "strict"])
def test_walk_and_neighbours(checkpoint, tmp_path, capsys, backend_name):
    assert _run(checkpoint, tmp_path, "walk", "--rows", "2", "--steps", "3", "--backend", backend_name,
                "--json") == 0
    assert _printed_json(capsys)["rows"] == 2 and (tmp_path / "paper" / "walk.png").exists()
    assert _run(checkpoint, tmp_path, "neighbours", "--samples", "6", "--test-size", "5",
                "--train-size", "40", "--show", "4", "--backend", backend_name, "--json") == 0
    result = _printed_json(capsys)
    for space in ("pixels", "d_features"):
        assert len(result[space]["samples_distances"]) == 6
        assert result[space]["test_mean"] > 0
    assert (tmp_path / "paper" / "neighbours.png").exists()


def test_a_missing_checkpoint_is_one_error_line(tmp_path, capsys):
    assert main(["walk", "--checkpoint", str(tmp_path / "none.npz")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: no checkpoint at")


@needs_mnist
def test_features_with_several_label_counts_prints_one_object_for_each(checkpoint, tmp_path, capsys):
    assert _run(checkpoint, tmp_path, "features", "--labels", "10", "200", "--draws", "1",
                "--train-size", "300", "--holdout", "100", "--test-size", "50", "--cnn-steps", "0",
                "--linear-steps", "10", "--json") == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert [r["labels"] for r in lines] == [10, 200] and lines[1]["labelled"] == 200
    assert set(lines[0]["test_error"]) == {"d_features", "random_d", "pixels"}   # no CNN at 0 steps
    assert (tmp_path / "paper" / "features_10.json").exists()
    assert (tmp_path / "paper" / "features_200.json").exists()


def test_scale_each_stretches_every_array_to_its_own_range_or_symmetrically():
    from minigan.viz import scale_each
    a = np.array([[0.0, 1.0, 2.0], [-4.0, 0.0, 2.0], [3.0, 3.0, 3.0]])
    np.testing.assert_allclose(scale_each(a), [[-1, 0, 1], [-1, 1 / 3, 1], [0, 0, 0]])
    np.testing.assert_allclose(scale_each(a, symmetric=True), [[0, 0.5, 1], [-1, 0, 0.5], [1, 1, 1]])


def test_make_layout_draws_gaps_grey_between_images():
    from minigan.viz import make_layout
    white = np.ones((1, 2, 2))
    pixels = make_layout([[white, None], [white]], padding=1)
    assert pixels.shape == (2 * 3 + 1, 2 * 3 + 1)
    assert pixels[1, 1] == 255 and pixels[1, 4] == 128 and pixels[4, 4] == 128 and pixels[0, 0] == 128
