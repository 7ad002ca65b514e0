"""The benchmark programs run end to end at tiny settings, and what they report holds
together: every op and model is there, both libraries computed the same numbers,
and the JSON says what the table says. (Timings themselves are not checked: at
batch 4 with one repeat they are noise.) Skipped without PyTorch.
"""
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from .helpers import needs_mnist

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
# One thread: no thread pools spinning against each other, so the smoke runs stay light.
TINY = ["--repeats", "1", "--warmup", "0", "--batch-size", "4", "--settle", "0", "--threads", "1"]


def load(name, monkeypatch):
    """Import benchmarks/<name>.py (a script folder, not a package)."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # for their `from common import ...`
    spec = importlib.util.spec_from_file_location(f"benchmarks_{name}", BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def threads_restored(monkeypatch):
    """The benchmarks set the thread counts of NumPy's BLAS and PyTorch for the whole
    process: give the other tests back what they had."""
    common = load("common", monkeypatch)
    blas = common.blas_threads()
    try:
        import torch
    except ImportError:
        torch = None
    torch_threads = torch.get_num_threads() if torch is not None else None
    yield
    if blas is not None:
        common.set_blas_threads(blas)
    if torch_threads is not None:
        torch.set_num_threads(torch_threads)


@pytest.mark.torch
def test_bench_ops_times_every_dcgan_op_on_both_libraries_and_their_outputs_agree(
        torch, monkeypatch, capsys):
    bench_ops = load("bench_ops", monkeypatch)
    result = bench_ops.main(TINY + ["--min-time", "0", "--json", "-"])
    captured = capsys.readouterr()
    assert json.loads(captured.out) == json.loads(json.dumps(result))  # stdout: only the JSON
    assert "minigan fwd+bwd" in captured.err                             # the table: stderr

    names = [r["op"] for r in result["ops"]]
    assert names == ["linear", "linear", "conv2d", "conv2d", "conv_transpose2d",
                     "conv_transpose2d", "batch_norm (1d)", "batch_norm (2d)",
                     "batch_norm (2d)", "leaky_relu(0.2)", "tanh", "bce_with_logits"]
    for row in result["ops"]:
        assert row["outputs_agree"], (row["op"], row["shapes"], row["max_abs_diff"])
        for lib in ("minigan", "torch"):
            assert row[lib]["forward_ms"] > 0 and row[lib]["forward_backward_ms"] > 0
        assert row["ratio"]["forward"] > 0
    assert result["adam"]["shapes"].startswith("15 tensors")  # every G and D parameter
    assert result["settings"]["batch_size"] == 4
    assert result["machine"]["torch"] == torch.__version__


def run_bench_dcgan(monkeypatch, tmp_path, *options):
    bench_dcgan = load("bench_dcgan", monkeypatch)
    path = tmp_path / "dcgan.json"
    result = bench_dcgan.main(TINY + list(options) + ["--json", str(path)])
    assert json.loads(path.read_text()) == json.loads(json.dumps(result))
    (row,) = result["models"]
    # Same initial weights, data and noise: the first step's losses agree to float32
    # round-off (about 1e-6); a different architecture or loss would be off by ~0.1.
    assert row["first_step"]["max_abs_diff"] < 1e-4, row["first_step"]
    assert set(row["first_step"]["minigan"]) == {"loss_d", "loss_g", "D(x)", "D(G(z))"}
    for lib in ("minigan", "torch"):
        assert row[lib]["ms_per_step"] > 0
        assert row[lib]["images_per_s"] == pytest.approx(4000 / row[lib]["ms_per_step"])
    return row


@pytest.mark.torch
def test_bench_dcgan_steps_the_dcgan_from_the_same_weights_and_measures_memory_apart(
        torch, monkeypatch, tmp_path):
    row = run_bench_dcgan(monkeypatch, tmp_path, "--model", "dcgan", "--memory-steps", "1")
    assert row["model"] == "dcgan"
    for lib in ("minigan", "torch"):
        memory = row["memory"][lib]
        assert memory["library"] == lib and memory["steps"] == 1
        assert memory["peak_rss_mb"] >= memory["rss_after_imports_mb"] > 0
    # each child measures only itself: minigan's never holds PyTorch's libraries
    assert row["memory"]["minigan"]["peak_rss_mb"] < row["memory"]["torch"]["rss_after_imports_mb"]


@pytest.mark.torch
def test_bench_dcgan_steps_the_conditional_gan_with_its_label_inputs(
        torch, monkeypatch, tmp_path):
    row = run_bench_dcgan(monkeypatch, tmp_path, "--model", "cgan", "--memory-steps", "0")
    assert row["model"] == "cgan" and "memory" not in row


def test_bench_dcgan_profile_prints_the_top_functions_by_own_time(monkeypatch, capsys):
    bench_dcgan = load("bench_dcgan", monkeypatch)
    bench_dcgan.main(["--profile", "1", "--model", "dcgan", "--batch-size", "4",
                      "--warmup", "0"])
    out = capsys.readouterr().out
    assert "cProfile of 1 minigan dcgan step(s), batch 4" in out
    header, table = out.split("filename:lineno(function)")
    rows = [line for line in table.splitlines() if line.strip()]
    assert "tottime" in header and len(rows) == 15  # the top 15 of many more functions


@pytest.mark.torch
def test_bench_dcgan64_steps_the_papers_networks_from_the_same_weights_as_torchs_example(
        torch, monkeypatch, tmp_path):
    bench = load("bench_dcgan64", monkeypatch)
    path = tmp_path / "dcgan64.json"
    result = bench.main(TINY + ["--ngf", "4", "--ndf", "4", "--json", str(path)])
    assert json.loads(path.read_text()) == json.loads(json.dumps(result))
    row = result["row"]
    assert (row["model"], row["ngf"], row["ndf"], row["nc"], row["batch_size"]) == ("dcgan64", 4, 4, 3, 4)
    assert row["first_step"]["max_abs_diff"] < 1e-4, row["first_step"]
    for lib in ("minigan", "torch"):
        assert row[lib]["ms_per_step"] > 0


def test_bench_dcgan_scaling_times_the_dcgan_and_the_64x64_dcgan_at_each_batch_size(
        torch, monkeypatch, tmp_path, capsys):
    bench_dcgan = load("bench_dcgan", monkeypatch)
    tiny = [a for a in TINY if a not in ("--batch-size", "4")]
    result = bench_dcgan.main(tiny + ["--scaling", "2,3", "--json", str(tmp_path / "s.json")])
    rows = result["models"]
    assert [(r["model"], r["batch_size"]) for r in rows] == [
        ("dcgan", 2), ("dcgan", 3), ("dcgan64", 2), ("dcgan64", 3)]
    for r in rows:
        assert "memory" not in r and r["first_step"]["max_abs_diff"] < 1e-4
        assert r["repeats"] == 1  # --repeats given: every model times that many
        for lib in ("minigan", "torch"):
            assert r[lib]["images_per_s"] == pytest.approx(
                1000 * r["batch_size"] / r[lib]["ms_per_step"])
    out = capsys.readouterr().out
    assert "minigan ms/img" in out and "dcgan64: the paper's 64x64 networks" in out


def test_bench_dcgan_scaling_defaults_give_each_model_its_own_sizes_and_repeats(monkeypatch):
    bench_dcgan = load("bench_dcgan", monkeypatch)
    args = bench_dcgan.parse_args(["--scaling"])
    assert args.models == ["dcgan", "dcgan64"] and args.memory_steps == 0
    assert args.batch_sizes == {"dcgan": [32, 64, 128, 256, 512], "dcgan64": [16, 32, 64, 128]}
    assert args.repeats_given is None and bench_dcgan.REPEATS == {
        "dcgan": 20, "cgan": 20, "dcgan64": 5}
    args = bench_dcgan.parse_args(["--model", "dcgan64"])
    assert args.batch_sizes == {"dcgan64": [64]} and args.memory_steps == 3
    assert bench_dcgan.parse_args([]).batch_sizes == {"dcgan": [128], "cgan": [128]}


@pytest.mark.torch
def test_bench_dcgan64_times_the_plain_step_with_ds_g_step_gradients(torch, monkeypatch):
    """Both sides do the same work: minigan's training programs skip D's discarded
    G-step gradients, the benchmark's minigan side must compute them as PyTorch's does."""
    bench = load("bench_dcgan64", monkeypatch)
    monkeypatch.setattr(bench, "TorchDCGAN64", lambda *a: type("T", (), {
        "load_minigan_weights": lambda self, m: None})())
    monkeypatch.setattr(bench, "timed_row", lambda mg_model, *rest: mg_model)
    args = bench.parse_args(TINY + ["--ngf", "2", "--ndf", "2"])
    assert bench.bench(args).skip_discarded_grads is False


def test_bench_dcgan_scaling_refuses_a_batch_size_it_would_ignore(monkeypatch, capsys):
    bench_dcgan = load("bench_dcgan", monkeypatch)
    with pytest.raises(SystemExit) as stop:
        bench_dcgan.parse_args(["--scaling", "--batch-size", "64"])
    assert stop.value.code == 2
    assert "give it SIZES, not --batch-size" in capsys.readouterr().err


@pytest.mark.torch
@needs_mnist
def test_bench_epoch_times_both_training_programs(torch, monkeypatch, capsys):
    bench_epoch = load("bench_epoch", monkeypatch)
    assert bench_epoch.main(["--steps", "2", "--threads", "1"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| ") and "---" not in line]
    assert [r.split(" | ")[0] for r in rows[1:]] == [
        "| minigan examples/mnist_dcgan.py", "| PyTorch, the same program"]
    assert all(r.split(" | ")[1] == "2" for r in rows[1:])  # both timed 2 steps
    assert "ratio minigan / PyTorch" in out


def test_recipes_only_picks_the_rows_by_the_first_word_of_their_name(monkeypatch, capsys):
    recipes = load("recipes", monkeypatch)
    recipes.main(["--commands", "--only", "plain,modern", "--runs", "R"])
    lines = capsys.readouterr().out.splitlines()
    assert lines == [recipes.command("mnist_dcgan.py", options, seed,
                                     f"R/{recipes.run_name('mnist_dcgan.py', options, seed)}")
                     for options, seeds in (("", (0, 1, 2)), ("--recipe modern", (0, 1, 2, 3)))
                     for seed in seeds]
    with pytest.raises(SystemExit) as stop:
        recipes.main(["--commands", "--only", "nothing"])
    assert stop.value.code == 2 and "no row's name starts with" in capsys.readouterr().err


def test_interleaved_rewarms_for_its_seconds_after_each_rest_then_times(monkeypatch):
    common = load("common", monkeypatch)
    events = []
    monkeypatch.setattr(common.time, "sleep", lambda seconds: events.append("rest"))
    readings = iter(range(10**6))  # the rewarm's clock: 0.02 s more at every reading
    monkeypatch.setattr(common.time, "perf_counter", lambda: 0.02 * next(readings))
    real_timed = common._timed

    def timed(fn, number, sync, clock):
        events.append("timed:")
        return real_timed(fn, number, sync, clock)

    monkeypatch.setattr(common, "_timed", timed)
    cases = {"a": lambda: events.append("a"), "b": lambda: events.append("b")}
    times = common.interleaved(cases, repeats=2, warmup=1, settle=0.1, rewarm=0.05)
    assert {name: len(samples) for name, samples in times.items()} == {"a": 2, "b": 2}
    # after each rest: calls until 0.05 s have passed (at 0, 0.02, 0.04), then the sample
    one_round = ["rest", "a", "a", "a", "timed:", "a", "rest", "b", "b", "b", "timed:", "b"]
    assert events == one_round * 3  # the calibrating warm-up round, then 2 timed ones
    events.clear()
    common.interleaved(cases, repeats=1, warmup=1, settle=0.1, rewarm=0)
    assert events == ["rest", "timed:", "a", "rest", "timed:", "b"] * 2


@pytest.mark.torch
def test_bench_floor_counts_every_gemm_of_the_dcgan_step_and_adds_their_times(
        torch, monkeypatch, capsys):
    import numpy as np
    bench_floor = load("bench_floor", monkeypatch)
    plain = np.matmul
    result = bench_floor.main(TINY + ["--model", "dcgan", "--json", "-"])
    assert "its GEMMs alone ms" in capsys.readouterr().err
    (row,) = result["rows"]
    gemms = {(tuple(g["a"]), g["a_order"], tuple(g["b"]), g["b_order"]): g["per_step"]
             for g in row["gemms"]}
    n = 4  # the batch; D's 64 -> 128 layer: 7 * 7 * n windows of 64 * 4 * 4 numbers
    # its forward on real, fake and fake again (G step), and conv2d of G's first
    # transposed convolution's gradient: four products of one shape
    assert gemms[((128, 1024), "C", (1024, 49 * n), "C")] == 4
    # G's first transposed convolution, and D's 64 -> 128 input gradient three times
    assert gemms[((1024, 128), "F", (128, 49 * n), "C")] == 4
    # the weight gradients of those four (the longer side first)
    assert gemms[((1024, 49 * n), "C", (49 * n, 128), "F")] == 4
    # D's last layer (6272 -> 1): forward three times; its input gradient is an
    # outer product (inner size 1), a multiply, not a GEMM
    assert gemms[((n, 6272), "F", (6272, 1), "C")] == 3
    assert sum(gemms.values()) == 30
    assert np.isclose(row["gemm_floor_ms"], sum(g["ms_per_step"] for g in row["gemms"]))
    assert all(g["ms_per_step"] == g["ms_each"] * g["per_step"] > 0 for g in row["gemms"])
    assert np.isclose(row["above_floor_ms"], row["minigan"]["ms_per_step"] - row["gemm_floor_ms"])
    assert np.matmul is plain  # put back after the recorded step


def test_bench_floor_puts_numpys_matmul_back_when_the_step_fails(monkeypatch):
    import numpy as np
    bench_floor = load("bench_floor", monkeypatch)
    plain = np.matmul

    def failing_step():
        np.matmul(np.ones((2, 3)), np.ones((3, 4)))
        raise RuntimeError("the step failed")

    with pytest.raises(RuntimeError, match="the step failed"):
        bench_floor.record_products(failing_step)
    assert np.matmul is plain


def test_sample_selection_truncates_z_and_accepts_by_exp_of_the_logits_excess(monkeypatch):
    selection = load("sample_selection", monkeypatch)
    rng = np.random.default_rng(0)
    z = selection.truncated_normal(rng, (2000, 16), 1.0)
    assert np.abs(z).max() <= 1.0 and z.std() < 0.6  # N(0,1) cut at 1 has std 0.54
    assert np.abs(selection.truncated_normal(rng, (2000, 16), None)).max() > 2.0
    logits = np.array([-3.0, 0.0, 1.0, 2.0])
    u = np.array([0.04, 0.3, 0.999, 0.5])  # exp(-4) = 0.018, exp(-1) = 0.37, then 1, 1
    np.testing.assert_array_equal(selection.accepted(logits, 1.0, u), [1, 2, 3])


def test_sample_selection_asks_for_a_run(monkeypatch, capsys):
    selection = load("sample_selection", monkeypatch)
    with pytest.raises(SystemExit) as stop:
        selection.main([])
    assert stop.value.code == 2 and "give --rejection RUN or --truncation RUN" in \
        capsys.readouterr().err


@needs_mnist
def test_clusters_scores_both_ways_of_clustering(monkeypatch, capsys):
    clusters = load("clusters", monkeypatch)
    assert clusters.main(["--images", "400", "--k", "3", "--fine", "20", "--seeds", "0,1"]) == 0
    rows = [line.split(" | ") for line in capsys.readouterr().out.splitlines()[2:]]
    assert [r[0] for r in rows] == ["| 0", "| 1"]
    for row in rows:  # purities in (0, 1]: at least a third of 3 clusters' best digits
        assert all(0.1 < float(row[i]) <= 1.0 for i in (1, 3))
    assert clusters.purity(np.array([0, 0, 1, 1]), np.array([5, 5, 5, 7])) == 0.75


@pytest.mark.parametrize("cpu_avx512, core, forced, warned", [
    (True, "Haswell", "Haswell", True),     # AVX2 kernels forced on an AVX-512 CPU
    (True, "SkylakeX", None, False),        # OpenBLAS's own choice
    (True, "SkylakeX", "SkylakeX", False),  # forced, but to the AVX-512 kernels
    (True, "Haswell", None, False),         # OpenBLAS chose it itself: not the user's doing
    (False, "Haswell", "Haswell", False),   # an AVX2 CPU: nothing lost
])
def test_the_machine_line_warns_when_avx2_kernels_are_forced_on_an_avx512_cpu(
        monkeypatch, cpu_avx512, core, forced, warned):
    common = load("common", monkeypatch)
    info = {"cpu": "some CPU", "cpu_avx512": cpu_avx512, "cores_available": 2,
            "cores_total": 2, "python": "3.11", "numpy": "2.4", "numpy_blas": "openblas",
            "numpy_blas_threads": 2, "numpy_blas_core": core,
            "openblas_coretype_env": forced}
    text = common.format_machine(info)
    assert ("warning: this CPU has AVX-512" in text) == warned
    if warned:
        assert f"OPENBLAS_CORETYPE={forced}" in text.splitlines()[-1]
