"""Sample-quality metrics: Fréchet distance, Inception Score, coverage, the classifier: the one
shipped in the package (its checksum, its accuracy) and a retrained one in the cache.

The real classifier is never trained here: the shipped weights are read, and a tiny
one trained for 50 steps on 3,200 digits stands in for a retrained one (the tests
marked slow).
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import minigan as mg
from minigan.data import MNIST, ChecksumError, Subset
from minigan.data.loader import images_to_float
from minigan.train import evaluate_model
from minigan.metrics import (class_counts, class_coverage, conditional_accuracy,
                             evaluate_samples, feature_statistics, frechet_distance,
                             inception_score, load_classifier)
from minigan.metrics import classifier as classifier_module
from minigan.metrics.classifier import (MNISTClassifier, cache_path, classify, read_classifier,
                                        save_classifier, set_reference_statistics,
                                        train_classifier)
from minigan.metrics import shipped

REPO = Path(__file__).resolve().parents[1]


def random_covariance(rng, d, rank=None):
    a = rng.standard_normal((d, rank or d))
    return a @ a.T / d


# --- Fréchet distance ------------------------------------------------------------------

def test_frechet_distance_of_identical_gaussians_is_zero():
    rng = np.random.default_rng(0)
    mu, sigma = rng.standard_normal(6), random_covariance(rng, 6)
    assert frechet_distance(mu, sigma, mu, sigma) == pytest.approx(0.0, abs=1e-9)


def test_frechet_distance_in_one_dimension_is_squared_differences_of_means_and_stds():
    # N(1, 2^2) vs N(3, 3^2): (1 - 3)^2 + (2 - 3)^2 = 5
    assert frechet_distance([1.0], [[4.0]], [3.0], [[9.0]]) == pytest.approx(5.0, rel=1e-12)


def test_frechet_distance_of_diagonal_covariances_has_closed_form():
    rng = np.random.default_rng(1)
    mu1, mu2 = rng.standard_normal(5), rng.standard_normal(5)
    var1, var2 = rng.uniform(0.1, 3, 5), rng.uniform(0.1, 3, 5)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(var1) - np.sqrt(var2)) ** 2)
    assert frechet_distance(mu1, np.diag(var1), mu2, np.diag(var2)) == pytest.approx(expected, rel=1e-10)


def test_frechet_distance_with_a_singular_covariance_has_closed_form():
    # diag(1, 0) vs diag(4, 1): (1 - 2)^2 + (0 - 1)^2 = 2; a zero variance is not an error
    assert frechet_distance([0, 0], np.diag([1.0, 0.0]), [0, 0], np.diag([4.0, 1.0])) == \
        pytest.approx(2.0, rel=1e-10)


def test_frechet_distance_matches_scipy_sqrtm_on_full_covariances():
    linalg = pytest.importorskip("scipy.linalg")
    rng = np.random.default_rng(2)
    for d in (2, 7, 30):
        mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
        s1, s2 = random_covariance(rng, d), random_covariance(rng, d)
        expected = (np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2)
                    - 2 * np.trace(linalg.sqrtm(s1 @ s2).real))
        assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-8)


def test_frechet_distance_is_symmetric_and_positive_for_rank_deficient_covariances():
    rng = np.random.default_rng(3)
    mu1, mu2 = rng.standard_normal(20), rng.standard_normal(20)
    s1, s2 = random_covariance(rng, 20, rank=5), random_covariance(rng, 20, rank=8)
    forward, backward = frechet_distance(mu1, s1, mu2, s2), frechet_distance(mu2, s2, mu1, s1)
    assert forward > 0
    assert forward == pytest.approx(backward, rel=1e-8)


def test_frechet_distance_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match=r"expected sigma2 of shape \(3, 3\)"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(3), np.eye(4))
    with pytest.raises(ValueError, match="expected means of one shape"):
        frechet_distance(np.zeros(3), np.eye(3), np.zeros(2), np.eye(2))


def test_feature_statistics_are_the_mean_and_unbiased_covariance():
    features = np.random.default_rng(4).standard_normal((50, 3)).astype(np.float32)
    mean, cov = feature_statistics(features)
    assert mean.dtype == cov.dtype == np.float64
    np.testing.assert_allclose(mean, features.astype(np.float64).mean(0), rtol=1e-12)
    np.testing.assert_allclose(cov, np.cov(features.astype(np.float64).T, ddof=1), rtol=1e-12)
    with pytest.raises(ValueError, match="N >= 2"):
        feature_statistics(features[:1])


# --- Inception Score --------------------------------------------------------------------

def test_inception_score_is_ten_for_confident_predictions_spread_over_ten_classes():
    probs = np.tile(np.eye(10), (3, 1))
    assert inception_score(probs) == pytest.approx(10.0, rel=1e-12)


def test_inception_score_is_one_when_every_sample_is_the_same_class():
    probs = np.zeros((30, 10))
    probs[:, 7] = 1.0
    assert inception_score(probs) == pytest.approx(1.0, rel=1e-12)


def test_inception_score_is_one_for_identical_uncertain_predictions():
    probs = np.full((8, 10), 0.1)
    assert inception_score(probs) == pytest.approx(1.0, rel=1e-12)


def test_inception_score_by_hand_for_two_samples():
    # p(y|x) = [1, 0] and [1/2, 1/2]; p(y) = [3/4, 1/4]
    kl_first = np.log(1 / 0.75)
    kl_second = 0.5 * np.log(0.5 / 0.75) + 0.5 * np.log(0.5 / 0.25)
    expected = np.exp((kl_first + kl_second) / 2)
    assert inception_score([[1.0, 0.0], [0.5, 0.5]]) == pytest.approx(expected, rel=1e-12)


def test_inception_score_rejects_rows_that_are_not_distributions():
    with pytest.raises(ValueError, match=">= 0 .*not logits"):
        inception_score(np.array([[2.0, -1.0], [0.5, 0.5]]))
    with pytest.raises(ValueError, match="row 1 sums to 1.4 .*not logits"):
        inception_score(np.array([[0.5, 0.5], [0.7, 0.7]]))


# --- class coverage and conditional accuracy --------------------------------------------

def test_class_coverage_is_one_when_every_digit_is_drawn_equally():
    predictions = np.repeat(np.arange(10), 7)
    assert class_coverage(predictions) == 1.0
    np.testing.assert_array_equal(class_counts(predictions), np.full(10, 7))


def test_class_coverage_is_a_tenth_for_a_generator_collapsed_onto_one_digit():
    predictions = np.full(100, 3)
    assert class_coverage(predictions) == pytest.approx(0.1)
    assert class_counts(predictions).tolist() == [0, 0, 0, 100, 0, 0, 0, 0, 0, 0]


def test_class_coverage_counts_a_class_with_exactly_half_a_fair_share():
    # 100 samples: a fair share is 10, half of it 5. Class 0 has 5 (covered), class 1 has 4 (not).
    counts = [5, 4, 14, 11, 11, 11, 11, 11, 11, 11]
    predictions = np.repeat(np.arange(10), counts)
    assert len(predictions) == 100
    assert class_counts(predictions).tolist() == counts
    assert class_coverage(predictions) == pytest.approx(0.9)


def test_class_counts_reject_classes_out_of_range_and_non_integers():
    with pytest.raises(ValueError, match=r"classes in 0\.\.9"):
        class_counts(np.array([0, 10]))
    with pytest.raises(TypeError, match="integer"):
        class_coverage(np.array([0.0, 1.0]))


def test_conditional_accuracy_is_the_fraction_classified_as_asked():
    assert conditional_accuracy(np.array([0, 1, 2, 3]), np.array([0, 1, 0, 3])) == 0.75
    with pytest.raises(ValueError, match="same shape"):
        conditional_accuracy(np.array([0, 1]), np.array([0, 1, 2]))


# --- the classifier ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def mnist():
    try:
        return MNIST(train=True, download=False), MNIST(train=False, download=False)
    except RuntimeError as error:
        pytest.skip(f"MNIST not available: {error}")


@pytest.fixture(scope="module")
def small_sets(mnist):
    """(3,200 training digits, 1,000 test digits, 500 other training digits)."""
    train, test = mnist
    return Subset(train, range(3200)), Subset(test, range(1000)), Subset(train, range(3200, 3700))


def train_tiny(train_set, test_set, max_steps=50, **kwargs):
    return train_classifier(train_set, test_set, max_steps=max_steps, batch_size=64, **kwargs)


@pytest.fixture(scope="module")
def tiny_classifier(small_sets):
    """A classifier trained for 50 steps, with reference statistics from small sets."""
    train_set, test_set, real_set = small_sets
    classifier = train_tiny(train_set, test_set)
    return set_reference_statistics(classifier, test_set, real_set)


def test_classifier_gives_128_features_and_10_logits(backend):
    classifier = MNISTClassifier()
    x = mg.randn(3, 1, 28, 28)
    assert classifier.features(x).shape == (3, 128)
    assert classifier(x).shape == (3, 10)
    assert [name for name, _ in classifier.named_parameters()] == [
        "body.0.weight", "body.0.bias", "body.3.weight", "body.3.bias",
        "body.7.weight", "body.7.bias", "head.1.weight", "head.1.bias"]


def test_classify_gives_the_same_features_and_probabilities_on_numpy_and_strict():
    images = np.random.default_rng(5).uniform(-1, 1, (7, 1, 28, 28)).astype(np.float32)
    reference = MNISTClassifier()
    results = {}
    for name in ("numpy", "strict"):
        with mg.use_backend(name):
            classifier = MNISTClassifier()
            classifier.load_state_dict(reference.state_dict())
            results[name] = classify(classifier, images, batch_size=3)
    features, probabilities = results["numpy"]
    assert features.shape == (7, 128) and probabilities.shape == (7, 10)
    assert features.dtype == probabilities.dtype == np.float64
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(results["strict"][0], features, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(results["strict"][1], probabilities, rtol=1e-6, atol=1e-7)


@pytest.mark.slow
def test_classifier_learns_mnist_well_above_chance_in_50_steps(tiny_classifier):
    assert tiny_classifier.test_accuracy > 0.8
    assert not tiny_classifier.training


@pytest.mark.slow
def test_training_the_classifier_leaves_the_random_generator_as_it_was(small_sets):
    train_set, test_set, _ = small_sets
    mg.manual_seed(123)
    expected = mg.randn(4).numpy()
    mg.manual_seed(123)
    train_tiny(Subset(train_set, range(128)), Subset(test_set, range(50)), max_steps=2)
    np.testing.assert_array_equal(mg.randn(4).numpy(), expected)


@pytest.mark.slow
def test_training_is_reproducible_from_its_seed(small_sets):
    train_set, test_set, _ = small_sets
    tiny_train, tiny_test = Subset(train_set, range(256)), Subset(test_set, range(50))
    first = train_tiny(tiny_train, tiny_test, max_steps=3).state_dict()
    second = train_tiny(tiny_train, tiny_test, max_steps=3).state_dict()
    for name in first:
        np.testing.assert_array_equal(first[name].numpy(), second[name].numpy())


@pytest.mark.slow
def test_reference_statistics_describe_the_test_features(tiny_classifier, small_sets):
    _, test_set, _ = small_sets
    features, _ = classify(tiny_classifier, images_to_float(test_set.arrays()[0])[:, None])
    np.testing.assert_allclose(tiny_classifier.test_feature_mean, features.mean(0), rtol=1e-10)
    assert tiny_classifier.test_feature_cov.shape == (128, 128)
    assert 0 < tiny_classifier.test_set_frechet_distance < 50


# --- the cache --------------------------------------------------------------------------

def fail_to_train(*args, **kwargs):
    raise AssertionError("the classifier was trained although the cache holds it")


def assert_same_classifier(loaded, original):
    original_state = original.state_dict()
    for name, value in loaded.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), original_state[name].numpy())
    assert loaded.test_accuracy == original.test_accuracy
    np.testing.assert_array_equal(loaded.test_feature_mean, original.test_feature_mean)
    np.testing.assert_array_equal(loaded.test_feature_cov, original.test_feature_cov)
    assert loaded.test_set_frechet_distance == original.test_set_frechet_distance
    assert not loaded.training


@pytest.mark.slow
def test_cached_classifier_loads_without_training(tiny_classifier, tmp_path, monkeypatch):
    save_classifier(tiny_classifier, cache_path(tmp_path))
    monkeypatch.setattr(classifier_module, "train_classifier", fail_to_train)
    assert_same_classifier(load_classifier(cache_dir=tmp_path, retrain=True), tiny_classifier)
    monkeypatch.setenv("MINIGAN_CACHE", str(tmp_path))  # the default cache folder
    assert cache_path() == tmp_path / "mnist_classifier.npz"
    assert_same_classifier(load_classifier(retrain=True), tiny_classifier)


@pytest.mark.slow
def test_first_use_trains_saves_and_then_reuses_the_classifier(small_sets, tmp_path, monkeypatch,
                                                               capsys):
    train_set, test_set, _ = small_sets
    sets = {True: Subset(train_set, range(256)), False: Subset(test_set, range(100))}
    monkeypatch.setattr(classifier_module, "MNIST", lambda root, train: sets[train])
    monkeypatch.setattr(classifier_module, "train_classifier",
                        lambda train, test: train_tiny(train, test, max_steps=2))
    trained = load_classifier(cache_dir=tmp_path / "cache", retrain=True)
    assert (tmp_path / "cache" / "mnist_classifier.npz").is_file()
    assert "test accuracy" in capsys.readouterr().err
    monkeypatch.setattr(classifier_module, "train_classifier", fail_to_train)
    assert_same_classifier(load_classifier(cache_dir=tmp_path / "cache", retrain=True), trained)
    assert f"test accuracy {trained.test_accuracy:.2%}" in capsys.readouterr().err


@pytest.mark.slow
def test_a_cache_of_another_format_version_or_a_corrupt_one_is_not_used(tiny_classifier, tmp_path,
                                                                        monkeypatch, capsys):
    path = cache_path(tmp_path)
    save_classifier(tiny_classifier, path)
    monkeypatch.setattr(classifier_module, "FORMAT_VERSION", classifier_module.FORMAT_VERSION + 1)
    assert read_classifier(path) is None
    assert "format version" in capsys.readouterr().err
    path.write_bytes(b"not a zip file")
    assert read_classifier(path) is None
    assert "cannot read" in capsys.readouterr().err


def test_save_classifier_refuses_a_classifier_without_reference_statistics(tmp_path):
    with pytest.raises(ValueError, match="set_reference_statistics"):
        save_classifier(MNISTClassifier(), tmp_path / "c.npz")
    assert not (tmp_path / "c.npz").exists()


# --- the shipped classifier ---------------------------------------------------------------

def test_the_shipped_weights_are_small_and_match_their_recorded_sha256():
    path = shipped.SHIPPED_PATH
    assert path.parent == REPO / "minigan" / "metrics"
    assert path.stat().st_size < 1_200_000  # float16 weights: about 0.95 MB
    assert shipped.expected_sha256(path) == shipped.sha256_of(path)
    record = json.loads(shipped.record_path(path).read_text())
    assert record["command"].startswith("python benchmarks/train_evaluator.py") and record["seed"] == 0
    assert record["sha256"] == shipped.sha256_of(path)
    assert record["test_accuracy"] >= 0.99  # measured on all 10,000 test digits with these weights


def test_load_classifier_reads_the_shipped_weights_without_training_or_mnist(monkeypatch):
    monkeypatch.setattr(classifier_module, "train_classifier", fail_to_train)
    monkeypatch.setattr(classifier_module, "MNIST", fail_to_train)
    classifier = load_classifier()
    assert not classifier.training and classifier.test_accuracy >= 0.99
    assert all(p.dtype == mg.float32 for p in classifier.parameters())
    assert classifier.test_feature_mean.shape == (128,) and classifier.test_feature_cov.shape == (128, 128)
    assert 0 < classifier.test_set_frechet_distance < 10
    state = mg.load(shipped.SHIPPED_PATH, as_numpy=True)["state_dict"]
    assert state["body.7.weight"].dtype == np.float16  # stored small, computed in float32
    np.testing.assert_array_equal(classifier.state_dict()["body.7.weight"].numpy(),
                                  state["body.7.weight"].astype(np.float32))


def copy_shipped(folder):
    folder.mkdir()
    path = folder / shipped.SHIPPED_PATH.name
    shutil.copy(shipped.SHIPPED_PATH, path)
    shutil.copy(shipped.checksum_path(shipped.SHIPPED_PATH), shipped.checksum_path(path))
    return path


def test_a_corrupted_shipped_file_is_refused_naming_both_checksums(tmp_path):
    path = copy_shipped(tmp_path / "copy")
    assert shipped.read_shipped(path).test_accuracy >= 0.99  # the intact copy reads
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit, in the middle of the weights
    path.write_bytes(bytes(data))
    with pytest.raises(ChecksumError) as error:
        shipped.read_shipped(path)
    assert shipped.expected_sha256(path) in str(error.value)
    assert hashlib_sha256(path) in str(error.value) and "--retrain-evaluator" in str(error.value)


def test_a_missing_checksum_or_weights_file_is_a_clear_error(tmp_path):
    path = copy_shipped(tmp_path / "copy")
    shipped.checksum_path(path).unlink()
    with pytest.raises(ChecksumError, match=r"mnist_classifier\.npz\.sha256: missing"):
        shipped.read_shipped(path)
    with pytest.raises(FileNotFoundError, match="incomplete install"):
        shipped.read_shipped(tmp_path / "nowhere" / "mnist_classifier.npz")


def hashlib_sha256(path):
    import hashlib
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@pytest.mark.slow
def test_the_shipped_classifier_gets_98_5_percent_of_the_first_2000_test_digits(mnist):
    # All 10,000 digits: 99.05% (mnist_classifier.json; about 30 s here). The first 2,000
    # are scored instead (a few seconds): the shipped weights get 98.95% of them (21 wrong).
    # The bound, 98.5% (30 wrong), leaves room for another BLAS's round-off and still
    # fails for weights that lost their training.
    _, test = mnist
    accuracy = classifier_module.accuracy(load_classifier(), Subset(test, range(2000)))
    assert accuracy >= 0.985


# --- evaluate_samples and evaluate_model ------------------------------------------------

@pytest.mark.parametrize("images, error, message", [
    (np.zeros((4, 1, 28, 28), np.uint8), TypeError, r"x / 127\.5 - 1"),
    (np.zeros((4, 28, 28), np.float32), ValueError, r"shape \(N, 1, 28, 28\).*got shape \(4, 28, 28\)"),
    (np.zeros((1, 1, 28, 28), np.float32), ValueError, "N >= 2"),
    (np.full((4, 1, 28, 28), 2.0, np.float32), ValueError, r"values in \[-1, 1\].*from 2 to 2"),
    (np.full((4, 1, 28, 28), np.nan, np.float32), ValueError, "NaN"),
    ([[0.0]], TypeError, "got list"),
])
def test_evaluate_samples_rejects_bad_images_with_clear_errors(images, error, message):
    with pytest.raises(error, match=message):
        evaluate_samples(images)


@pytest.mark.parametrize("labels, error, message", [
    (np.zeros(3, np.int64), ValueError, r"shape \(4,\)"),
    (np.array([0, 1, 2, 10]), ValueError, r"labels in 0\.\.9"),
    (np.zeros(4, np.float32), TypeError, "integer labels"),
])
def test_evaluate_samples_rejects_bad_labels_with_clear_errors(labels, error, message):
    with pytest.raises(error, match=message):
        evaluate_samples(np.zeros((4, 1, 28, 28), np.float32), labels)


@pytest.mark.slow
def test_real_digits_score_better_than_noise(tiny_classifier, small_sets):
    images, labels = small_sets[1].arrays()
    real = images_to_float(images[:400])[:, None]
    noise = np.random.default_rng(6).uniform(-1, 1, real.shape).astype(np.float32)
    real_scores = evaluate_samples(real, labels[:400], classifier=tiny_classifier)
    noise_scores = evaluate_samples(noise, classifier=tiny_classifier)
    assert real_scores["frechet_distance"] < noise_scores["frechet_distance"] / 10
    # A classifier trained for 50 steps is not confident: real digits score ~4, noise ~1.
    assert real_scores["inception_score"] > 2.5 > 1.5 > noise_scores["inception_score"]
    assert real_scores["class_coverage"] == 1.0
    assert real_scores["conditional_accuracy"] > 0.8
    assert sum(real_scores["class_counts"]) == real_scores["num_samples"] == 400
    assert real_scores["test_set_frechet_distance"] == tiny_classifier.test_set_frechet_distance
    assert "conditional_accuracy" not in noise_scores


class DigitCopier:
    """A stand-in conditional generator: draws real test digits of the label asked for."""

    conditional = True
    num_classes = 10
    z_dim = 4

    def __init__(self, images, labels):
        self.by_label = [images_to_float(images[labels == k])[:, None] for k in range(10)]
        self.networks = {}

    def eval(self):
        pass

    def sample_z(self, n):
        return mg.randn(n, self.z_dim)

    def generate(self, z, labels):
        labels = labels.numpy()
        picks = [self.by_label[k][i % len(self.by_label[k])] for i, k in enumerate(labels)]
        return mg.tensor(np.stack(picks))


@pytest.mark.slow
def test_evaluate_model_asks_a_conditional_model_for_each_digit_equally(tiny_classifier,
                                                                          small_sets):
    model = DigitCopier(*small_sets[1].arrays())
    scores = evaluate_model(model, n=200, classifier=tiny_classifier)
    assert scores["num_samples"] == 200
    assert scores["conditional_accuracy"] > 0.8
    assert scores["class_coverage"] == 1.0


# --- examples/evaluate.py ----------------------------------------------------------------

@pytest.mark.slow
def test_evaluate_program_prints_one_score_per_line(tiny_classifier, small_sets, tmp_path):
    images, labels = small_sets[1].arrays()
    save_classifier(tiny_classifier, cache_path(tmp_path / "cache"))
    np.save(tmp_path / "samples.npy", images_to_float(images[:300])[:, None])
    np.save(tmp_path / "labels.npy", labels[:300])
    np.save(tmp_path / "bad.npy", images[:300])
    env = {**os.environ, "MINIGAN_CACHE": str(tmp_path / "cache"),
           "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    program = [sys.executable, str(REPO / "examples" / "evaluate.py")]
    done = subprocess.run(program + [str(tmp_path / "samples.npy"), str(tmp_path / "labels.npy"),
                                     "--retrain-evaluator"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    scores = dict(line.split(": ", 1) for line in done.stdout.splitlines())
    assert list(scores)[:4] == ["frechet_distance", "inception_score", "class_coverage",
                                "conditional_accuracy"]
    assert float(scores["conditional_accuracy"]) > 0.8
    assert "training" not in done.stderr  # the cached classifier was used
    assert f"test accuracy {tiny_classifier.test_accuracy:.2%}" in done.stderr
    done = subprocess.run(program + [str(tmp_path / "bad.npy")], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2
    assert "error: evaluate_samples: expected float images" in done.stderr


@pytest.mark.slow
def test_train_evaluator_writes_weights_that_read_back_as_measured(small_sets, tmp_path, monkeypatch):
    import importlib.util
    train_set, test_set, _ = small_sets
    spec = importlib.util.spec_from_file_location("train_evaluator", REPO / "benchmarks" / "train_evaluator.py")
    program = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(program)
    sets = {True: Subset(train_set, range(320)), False: Subset(test_set, range(200))}
    monkeypatch.setattr(program, "MNIST", lambda root, train: sets[train])
    program.main(["--max-epochs", "1", "--seed", "3", "--out", str(tmp_path)])  # 5 steps: below 99%
    path = tmp_path / "mnist_classifier.npz"
    record = json.loads((tmp_path / "mnist_classifier.json").read_text())
    assert record["seed"] == 3 and record["command"].endswith("--max-epochs 1 --seed 3 --out " + str(tmp_path))
    assert record["sha256"] == shipped.sha256_of(path) == shipped.expected_sha256(path)
    assert len(record["training_log"]) == 1 and "epoch 1/1" in record["training_log"][0]
    loaded = shipped.read_shipped(path)
    assert loaded.test_accuracy == record["test_accuracy"]
    assert classifier_module.accuracy(loaded, sets[False]) == loaded.test_accuracy  # what was measured
