"""The post-DCGAN tools as options of the training programs (minigan/gan/tools.py):
--ema, --spectral-norm, --loss hinge, --lr-d/--lr-g, --lr-decay, --g-steps, --top-k,
--r1/--r1-every, --augment and --recipe modern. Each changes what it says and nothing else, resumes bit
for bit, and is offered only to the models that read it (DCGAN and CGAN).

Runs are tiny (--train-size 256 at batch 32, 4 steps, no evaluation)."""
import copy
import json

import numpy as np
import pytest

import minigan as mg
from minigan.gan import (ACGAN, CGAN, CVAE, CVAEGAN, DCGAN, EBGAN, GAN, LAPGAN, VAE, WGAN,
                         WGANGP, InfoGAN, tools)
from minigan.gan.losses import (d_hinge_loss, d_loss, d_relativistic_loss, g_hinge_loss,
                                g_loss_non_saturating, g_relativistic_loss, r1_penalty, top_k)
from minigan.train import build_parser, load_checkpoint, main, read_steplog

from .helpers import checkpoint_weights, needs_mnist, resumed_in_halves, run_program

SMALL = ["--train-size", "256", "--batch-size", "32", "--max-steps", "4", "--no-eval",
         "--sample-every", "0"]
EVERY_OPTION = ["--ema", "0.9", "--spectral-norm", "--loss", "hinge", "--lr-d", "4e-4",
                "--lr-g", "1e-4", "--lr-decay", "linear", "--g-steps", "2", "--top-k", "0.5",
                "--r1", "1", "--r1-every", "2",
                "--augment", "translation,cutout,color"]
TOOL_FLAGS = ("--ema", "--spectral-norm", "--lr-d", "--lr-g", "--lr-decay", "--g-steps",
              "--top-k", "--r1", "--r1-every", "--augment", "--recipe")


def flags(model_cls):
    return {s for a in build_parser(model_cls)._actions for s in a.option_strings}


def config_for(model_cls=DCGAN, *argv):
    """The config a fresh run of `argv` trains with (the recipe filled in)."""
    parser = build_parser(model_cls)
    args = parser.parse_args(list(argv))
    from minigan.train.config import given_options
    return tools.apply_recipe(vars(args), given_options(parser, list(argv)))


def model_with(*argv, seed=0):
    mg.manual_seed(seed)
    return DCGAN(config_for(DCGAN, "--z-dim", "8", *argv))


def images(n=4, seed=1):
    rng = np.random.default_rng(seed)
    return mg.tensor(rng.uniform(-1, 1, (n, 1, 28, 28)).astype(np.float32))


# --- who is offered what --------------------------------------------------------------

@pytest.mark.parametrize("model_cls", [DCGAN, CGAN])
def test_dcgan_and_cgan_offer_every_tool(model_cls):
    assert set(TOOL_FLAGS) <= flags(model_cls)
    loss = next(a for a in build_parser(model_cls)._actions if a.dest == "loss")
    assert loss.choices == ("bce", "hinge", "relativistic") and loss.default == "bce"


@pytest.mark.parametrize("model_cls", [GAN, ACGAN, InfoGAN, WGAN, WGANGP, EBGAN, LAPGAN,
                                       VAE, CVAE, CVAEGAN])
def test_models_that_read_none_of_the_tools_are_not_offered_them(model_cls):
    assert not set(TOOL_FLAGS) & flags(model_cls)
    for action in build_parser(model_cls)._actions:  # the plain GAN's own --loss
        if action.dest == "loss":
            assert "hinge" not in action.choices


def test_acgan_is_refused_an_ema_it_would_ignore(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(ACGAN, [*SMALL, "--out", str(tmp_path), "--ema", "0.9"])
    assert stop.value.code == 2
    assert "unrecognized arguments: --ema 0.9" in capsys.readouterr().err


def test_help_writes_out_the_modern_recipe(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "400")  # one line per option: no wrap inside a flag
    with pytest.raises(SystemExit):
        main(DCGAN, ["--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "modern = " + tools.describe_recipe("modern") in text
    assert tools.describe_recipe("modern") == ("--r1 0.25 --r1-every 4 --lr-d 0.0008 --lr-g 0.0032 "
                                               "--clusters 10 --fine-clusters 200")


# --- the recipe ------------------------------------------------------------------------

def test_recipe_modern_sets_its_defaults_and_a_given_option_wins():
    modern = config_for(DCGAN, "--recipe", "modern")
    for dest, value in tools.RECIPES["modern"].items():
        assert modern[dest] == value
    mixed = config_for(DCGAN, "--recipe", "modern", "--r1", "2", "--ema", "0.9")
    assert mixed["r1"] == 2.0 and mixed["ema"] == 0.9
    assert (mixed["lr_d"], mixed["lr_g"]) == (8e-4, 3.2e-3)
    plain = config_for(DCGAN)
    assert (plain["ema"], plain["spectral_norm"], plain["loss"], plain["lr_d"], plain["lr_g"],
            plain["r1"], plain["augment"]) == (None, False, "bce", None, None,
                                               None, None)


@pytest.mark.parametrize("argv, expected", [
    (["--r1-every", "4"], "--r1-every K says how often the R1 penalty is added: add --r1"),
    (["--recipe", "modern", "--lr", "1e-3"],
     "--lr would be ignored: --lr-d is 0.0008 and --lr-g 0.0032"),
    (["--recipe", "modern", "--lr-d", "1e-3", "--lr", "1e-3"],
     "--lr would be ignored: --lr-d is 0.001 and --lr-g 0.0032"),
    (["--lr-d", "1e-3", "--lr-g", "1e-3", "--lr", "1e-3"], "--lr would be ignored"),
])
def test_an_option_that_would_be_ignored_is_one_error_line(tmp_path, capsys, argv, expected):
    assert main(DCGAN, [*SMALL, "--out", str(tmp_path / "run"), *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and expected in err[0]
    assert not (tmp_path / "run").exists()


def test_a_bad_augmentation_policy_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as stop:
        main(DCGAN, ["--augment", "translation,flip"])
    assert stop.value.code == 2
    assert "unknown augmentation 'flip'" in capsys.readouterr().err


# --- each option changes what it says, and nothing else -----------------------------------

def test_lr_d_and_lr_g_set_one_optimizer_each_and_default_to_lr():
    both = model_with("--lr", "3e-4")
    assert [both.optimizers[k].param_groups[0]["lr"] for k in "GD"] == [3e-4, 3e-4]
    split = model_with("--lr", "3e-4", "--lr-d", "5e-4")
    assert [split.optimizers[k].param_groups[0]["lr"] for k in "GD"] == [3e-4, 5e-4]
    split = model_with("--lr-g", "1e-4")
    assert [split.optimizers[k].param_groups[0]["lr"] for k in "GD"] == [1e-4, 2e-4]


def rates_each_step_uses(model, steps):
    """(G's rates, D's rates): the rate of every Adam step of G and of D that
    model.train_step takes over `steps`, each run as the trainer runs it, inside
    model.learning_rates_at(step)."""
    used = []
    for name in "GD":
        opt = model.optimizers[name]
        def step(opt=opt, name=name, original=opt.step):
            used.append((name, opt.param_groups[0]["lr"]))
            return original()
        opt.step = step
    model.train()
    for s in steps:
        with model.learning_rates_at(s):
            model.train_step(images(8), None, s)
    return ([lr for name, lr in used if name == "G"], [lr for name, lr in used if name == "D"])


def test_lr_decay_linear_falls_from_the_set_rates_to_zero_over_the_run():
    model = model_with("--lr-d", "4e-4", "--lr-g", "1e-3", "--lr-decay", "linear")
    model.total_steps = 4  # the trainer sets it: --epochs' steps
    g_rates, d_rates = rates_each_step_uses(model, [1, 2, 3, 4])
    np.testing.assert_allclose(g_rates, [1e-3, 0.75e-3, 0.5e-3, 0.25e-3], rtol=1e-12)
    np.testing.assert_allclose(d_rates, [4e-4, 3e-4, 2e-4, 1e-4], rtol=1e-12)
    # Between steps the optimizers hold the set rates: what a checkpoint saves.
    assert [model.optimizers[k].param_groups[0]["lr"] for k in "GD"] == [1e-3, 4e-4]


def test_without_lr_decay_every_step_takes_the_set_rates():
    model = model_with("--lr-d", "4e-4", "--lr-g", "1e-3")
    assert rates_each_step_uses(model, [1, 2, 3]) == ([1e-3] * 3, [4e-4] * 3)


def test_g_steps_takes_k_g_steps_on_fresh_z_after_each_d_step():
    model = model_with("--g-steps", "3", "--ema", "0.5")
    drawn, steps = [], []
    generate = model.generate
    model.generate = lambda z, labels=None: (drawn.append(z.numpy().copy()),
                                             generate(z, labels))[1]
    for name in "GD":
        original = model.optimizers[name].step
        model.optimizers[name].step = lambda name=name, original=original: (
            steps.append(name), original())[1]
    model.train()
    model.train_step(images(8), None, 1)
    assert steps == ["D", "G", "G", "G"]
    assert len(drawn) == 3 and not np.array_equal(drawn[1], drawn[2])  # fresh z each time
    assert int(model.G_ema.n_averaged.item()) == 3  # averaged after every G step
    one = model_with("--ema", "0.5")
    one.train()
    one.train_step(images(8), None, 1)
    assert int(one.G_ema.n_averaged.item()) == 1


def test_lr_decay_outside_the_trainer_asks_for_the_runs_length():
    model = model_with("--lr-decay", "linear")
    with pytest.raises(RuntimeError, match="total_steps"):
        with model.learning_rates_at(1):
            pass


@needs_mnist
def test_the_trainer_decays_over_the_epochs_not_over_max_steps(tmp_path):
    def losses(name, *argv):  # the step log's losses of steps 1-3 (--max-steps 3 or 4)
        assert run_program(DCGAN, tmp_path / name, "--lr-decay", "linear", *argv,
                           options=SMALL) == 0
        log = read_steplog(tmp_path / name / "log.jsonl")
        return [(r["loss_d"], r["loss_g"]) for r in log if "loss_d" in r][:3]
    # Step 2's G loss shows D's step-2 rate. --max-steps only cuts a run short: the rates
    # are 2 epochs' (16 steps') decay whether it stops after 3 steps or 4 ...
    three = losses("a", "--epochs", "2", "--max-steps", "3")
    assert three == losses("b", "--epochs", "2", "--max-steps", "4")
    # ... while 4 epochs decay more slowly, and the same steps move differently.
    four_epochs = losses("c", "--epochs", "4", "--max-steps", "3")
    assert three[0] == four_epochs[0] and three[1][1] != four_epochs[1][1]
    state = load_checkpoint(str(tmp_path / "a" / "checkpoint.npz"))
    assert state["optimizers"]["G"]["param_groups"][0]["lr"] == 2e-4  # the set rate, saved


def test_spectral_norm_normalises_d_and_replaces_its_batch_norm_only():
    plain, sn = model_with(), model_with("--spectral-norm")
    assert list(plain.D.state_dict()) == [
        "net.0.weight", "net.0.bias", "net.2.weight", "net.3.weight", "net.3.bias",
        "net.3.running_mean", "net.3.running_var", "net.3.num_batches_tracked",
        "net.6.weight", "net.6.bias"]
    assert sorted(sn.D.state_dict()) == sorted(
        [f"net.{i}.{k}" for i in (0, 2, 6) for k in ("weight_orig", "weight_u", "weight_v")]
        + ["net.0.bias", "net.6.bias"])
    for a, b in zip(plain.G.state_dict().values(), sn.G.state_dict().values()):
        np.testing.assert_array_equal(a.numpy(), b.numpy())  # G is untouched
    sn.D.train()
    for _ in range(30):  # one power iteration per training forward, from a random start
        sn.D(images())
    for i in (0, 2, 6):
        w = sn.D.net[i].weight.numpy()
        sigma = np.linalg.svd(w.reshape(w.shape[0], -1), compute_uv=False)[0]
        assert abs(sigma - 1) < 0.02, (i, sigma)


@needs_mnist
def test_ema_adds_an_averaged_generator_and_changes_no_trained_weight(tmp_path):
    assert run_program(DCGAN, tmp_path / "plain", options=SMALL) == 0
    assert run_program(DCGAN, tmp_path / "ema", "--ema", "0.9", options=SMALL) == 0
    plain, ema = checkpoint_weights(tmp_path / "plain"), checkpoint_weights(tmp_path / "ema")
    averaged = {k for k in ema if k.startswith("G_ema.")}
    assert averaged == {"G_ema.n_averaged"} | {"G_ema.module." + k[2:] for k in plain
                                               if k.startswith("G.")}
    assert ema["G_ema.n_averaged"] == 4  # once per G step
    for k in plain:
        np.testing.assert_array_equal(plain[k], ema[k], err_msg=k)
    assert not np.array_equal(ema["G_ema.module.net.0.weight"], ema["G.net.0.weight"])


def test_ema_follows_g_by_its_decay_after_every_g_step():
    model = model_with("--ema", "0.9", "--d-steps", "2")
    model.train()
    before = model.G.net[0].weight.numpy().copy()
    model.train_step(images(8), None, 1)  # a D step only: nothing to average
    assert int(model.G_ema.n_averaged.item()) == 0
    model.train_step(images(8), None, 2)  # D and G: the first update copies G
    assert int(model.G_ema.n_averaged.item()) == 1
    np.testing.assert_array_equal(model.G_ema.module.net[0].weight.numpy(),
                                  model.G.net[0].weight.numpy())
    ema_before = model.G_ema.module.net[0].weight.numpy().copy()
    model.train_step(images(8), None, 3)
    model.train_step(images(8), None, 4)
    np.testing.assert_allclose(model.G_ema.module.net[0].weight.numpy(),
                               0.9 * ema_before + 0.1 * model.G.net[0].weight.numpy(),
                               rtol=1e-6, atol=1e-8)
    assert not np.array_equal(before, model.G.net[0].weight.numpy())


def test_generate_draws_with_g_ema_in_eval_mode_and_with_g_in_train_mode():
    model = model_with("--ema", "0.5")
    model.train()
    model.train_step(images(8), None, 1)
    model.train_step(images(8), None, 2)
    z = mg.randn(6, 8)
    model.eval()
    with mg.no_grad():
        drawn = model.generate(z).numpy()
        model.G_ema.eval()
        np.testing.assert_array_equal(drawn, model.G_ema.module(z).numpy())
        model.G.eval()
        assert not np.allclose(drawn, model.G(z).numpy())
    model.train()
    np.testing.assert_array_equal(model.generate(z).numpy(), model.G(z).numpy())


def test_the_quality_report_and_latent_walks_sample_g_ema():
    from minigan.train import generate_samples, latent_walk
    model = model_with("--ema", "0.5")
    model.train()
    model.train_step(images(8), None, 1)
    model.train_step(images(8), None, 2)
    mg.manual_seed(1)
    drawn = generate_samples(model, 6)  # what evaluate_model scores
    walk, _ = latent_walk(model, rows=2, steps=3, seed=4)
    mg.manual_seed(1)
    z = model.sample_z(6)
    model.G_ema.eval()
    with mg.no_grad():
        np.testing.assert_array_equal(drawn, model.G_ema.module(z).numpy())
        model.G.eval()
        assert not np.allclose(drawn, model.G(z).numpy())
    model.train()
    model.G_ema.train()  # latent_walk put it in eval mode itself
    model.eval()
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((2, 8)), rng.standard_normal((2, 8))
    from minigan.train import slerp
    noise = np.stack([slerp(a[r], b[r], t) for r in range(2) for t in np.linspace(0, 1, 3)])
    with mg.no_grad():
        np.testing.assert_array_equal(
            walk, model.G_ema.module(mg.tensor(noise.astype(np.float32))).numpy())


@needs_mnist
def test_generate_writes_the_samples_of_the_ema_weights(tmp_path):
    out = tmp_path / "run"
    assert run_program(DCGAN, out, "--ema", "0.9", options=SMALL) == 0
    assert run_program(DCGAN, out, "--generate", 16, "--seed", 5) == 0
    samples = np.load(out / "samples.npy")
    state = load_checkpoint(out / "checkpoint.npz")
    mg.manual_seed(5)  # as --generate --seed 5: seed, build, restore, draw z
    model = DCGAN({**state["config"], "backend": "numpy"})
    model.load_state_dict(state, weights_only=True)
    model.G_ema.eval()
    model.G.eval()
    z = model.sample_z(16)
    with mg.no_grad():
        np.testing.assert_array_equal(samples, model.G_ema.module(z).numpy())
        assert np.abs(samples - model.G(z).numpy()).max() > 1e-3


# --- the hinge loss and R1 in the D step ------------------------------------------------------

def d_gradients(model):
    return [p.grad.numpy().copy() for p in model.D.parameters()]


def expected_d_gradients(model, real, fake, loss_fn, penalty_scale=None):
    """D's gradient of loss_fn(D(real), D(fake)) [+ penalty_scale * r1_penalty], on a copy."""
    twin = copy.deepcopy(model)
    twin.D.zero_grad()
    if penalty_scale is None:
        loss = loss_fn(twin.D(real), twin.D(fake))
    else:
        penalty, logits = r1_penalty(twin.D, real)
        loss = loss_fn(logits, twin.D(fake)) + penalty_scale * penalty
    loss.backward()
    return d_gradients(twin)


@pytest.mark.parametrize("argv, loss_fn", [([], d_loss), (["--loss", "hinge"], d_hinge_loss),
                                           (["--loss", "relativistic"], d_relativistic_loss)])
def test_the_d_step_follows_its_loss(argv, loss_fn):
    model = model_with(*argv)
    model.train()
    real, fake = images(4, seed=1), images(4, seed=2)
    expected = expected_d_gradients(model, real, fake, loss_fn)
    model.step = 1
    model.discriminator_step(real, fake, None)
    for got, want in zip(d_gradients(model), expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


def test_r1_every_k_adds_k_gamma_over_2_times_r1_penalty_to_ds_gradient():
    gamma, k = 0.5, 3
    model = model_with("--r1", str(gamma), "--r1-every", str(k))
    model.train()
    real, fake = images(4, seed=1), images(4, seed=2)
    for step in (1, 2, 3, 6):  # due on 3 and 6 only
        scale = k * gamma / 2 if step % k == 0 else None
        expected = expected_d_gradients(model, real, fake, d_loss, scale)
        model.step = step
        metrics = model.discriminator_step(real, fake, None)
        for got, want in zip(d_gradients(model), expected):
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
        assert ("r1" in metrics) == (step % k == 0)
    plain = expected_d_gradients(model, real, fake, d_loss)
    with_r1 = expected_d_gradients(model, real, fake, d_loss, k * gamma / 2)
    assert max(np.abs(a - b).max() for a, b in zip(plain, with_r1)) > 1e-4  # R1 matters


def test_the_hinge_g_step_minimises_minus_the_mean_logit():
    model = model_with("--loss", "hinge")
    model.train()
    fake = model.generate(mg.randn(4, 8))
    twin = copy.deepcopy(model)
    expected = g_hinge_loss(twin.D(fake.detach())).item()
    assert model.generator_step(fake, None) == pytest.approx(expected, rel=1e-6)


def softplus(x):  # -log sigma(-x) = BCE(x, label 0); BCE(x, label 1) = softplus(-x)
    return np.log1p(np.exp(x))


def test_the_relativistic_losses_compare_each_side_with_the_others_mean():
    real, fake = np.array([[2.0], [0.5], [-1.0]]), np.array([[0.25], [-3.0]])
    r, f = mg.tensor(real), mg.tensor(fake)
    d_expected = softplus(-(real - fake.mean())).mean() + softplus(fake - real.mean()).mean()
    g_expected = softplus(-(fake - real.mean())).mean() + softplus(real - fake.mean()).mean()
    assert d_relativistic_loss(r, f).item() == pytest.approx(d_expected, rel=1e-12)
    assert g_relativistic_loss(f, r).item() == pytest.approx(g_expected, rel=1e-12)
    # shifting every logit by the same amount changes neither: only differences count
    assert d_relativistic_loss(r + 5.0, f + 5.0).item() == pytest.approx(d_expected, rel=1e-12)


def test_the_relativistic_g_step_reads_d_on_the_steps_reals():
    model = model_with("--loss", "relativistic")
    model.train()
    real, fake = images(4, seed=1), model.generate(mg.randn(4, 8))
    with pytest.raises(RuntimeError, match="train_step sets model.real"):
        model.generator_step(fake, None)
    model.real = real
    twin = copy.deepcopy(model)
    expected = g_relativistic_loss(twin.D(fake.detach()), twin.D(real)).item()
    assert model.generator_step(fake, None) == pytest.approx(expected, rel=1e-6)


# --- top-k: the G loss over the fakes D likes best -------------------------------------------

def test_top_k_keeps_the_k_highest_logits_and_sends_the_others_no_gradient(backend):
    logits = mg.tensor(np.array([[0.5], [-2.0], [3.0], [0.5], [1.0]]), requires_grad=True)
    best = top_k(logits, 3)
    np.testing.assert_array_equal(best.numpy(), [[3.0], [1.0], [0.5]])  # tie: row 0 first
    (best * mg.tensor(np.array([[1.0], [2.0], [3.0]]))).sum().backward()
    np.testing.assert_array_equal(logits.grad.numpy(), [[3.0], [0.0], [1.0], [0.0], [2.0]])


@pytest.mark.parametrize("fraction, n, k", [(0.5, 128, 64), (0.3, 10, 3), (0.01, 4, 1),
                                            (1.0, 7, 7), (0.51, 4, 3)])
def test_top_k_keeps_ceil_of_the_fraction_of_the_batch(fraction, n, k):
    assert tools.top_k_count({"top_k": fraction}, n) == k


@pytest.mark.parametrize("argv, loss_fn", [(["--top-k", "0.5"], g_loss_non_saturating),
                                           (["--top-k", "0.5", "--loss", "hinge"], g_hinge_loss)])
def test_the_top_k_g_step_minimises_the_loss_of_the_half_d_scores_best(argv, loss_fn):
    model = model_with(*argv)
    model.train()
    fake = model.generate(mg.randn(8, 8))
    twin = copy.deepcopy(model)
    logits = twin.D(fake.detach()).numpy().ravel()
    best = np.sort(logits)[::-1][:4]
    expected = loss_fn(mg.tensor(best.reshape(4, 1))).item()
    assert model.generator_step(fake, None) == pytest.approx(expected, rel=1e-6)
    everything = loss_fn(mg.tensor(logits.reshape(8, 1))).item()
    assert abs(everything - expected) > 1e-3  # the four others would have changed it


def test_top_k_gives_g_the_gradient_of_the_chosen_fakes_alone():
    model = model_with("--top-k", "0.25")
    model.train()
    z = mg.randn(8, 8)
    twin = copy.deepcopy(model)
    model.generator_step(model.generate(z), None)
    fake = twin.generate(z)
    logits = twin.D(fake)
    chosen = np.argsort(-logits.numpy().ravel(), kind="stable")[:2]
    twin.optimizers["G"].zero_grad()
    g_loss_non_saturating(logits[mg.tensor(chosen)]).backward()
    twin.optimizers["G"].step()
    for (name, got), want in zip(model.G.state_dict().items(), twin.G.state_dict().values()):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=1e-7,
                                   err_msg=name)


# --- augmentation: real and fake alike, every D evaluation of a step, never when scoring -----

def test_augment_goes_over_real_and_fake_alike_in_the_d_and_g_steps(monkeypatch):
    calls = []

    def spy(batch, policy):
        calls.append((id(batch), policy))
        return tools.augment(batch, policy)

    monkeypatch.setattr(tools, "augment_images", spy)
    model = model_with("--augment", "translation,cutout,color", "--r1", "1", "--r1-every", "2")
    model.train()
    real = images(4)
    for step in (1, 2):  # step 2 adds R1: the reals still go through the same policy
        calls.clear()
        fake = model.generate(mg.randn(4, 8))
        model.step = step
        model.discriminator_step(real, fake, None)
        assert [p for _, p in calls] == ["translation,cutout,color"] * 2
        model.generator_step(fake, None)
        assert [p for _, p in calls] == ["translation,cutout,color"] * 3
    calls.clear()
    model.eval()
    model.score(real)  # --nice ranks the images themselves
    assert calls == []


def test_augment_draws_fresh_parameters_on_every_call():
    x = images(8)
    a = tools.augment_images(x, "translation,cutout,color").numpy()
    b = tools.augment_images(x, "translation,cutout,color").numpy()
    assert not np.array_equal(a, b)


# --- checkpoints ---------------------------------------------------------------------------

@needs_mnist
@pytest.mark.parametrize("model_cls, argv", [(DCGAN, EVERY_OPTION), (DCGAN, ["--recipe", "modern"]),
                                             (CGAN, EVERY_OPTION),
                                             (CGAN, ["--recipe", "modern", "--loss",
                                                     "relativistic", "--top-k", "0.5"])],
                         ids=["dcgan-every", "dcgan-modern", "cgan-every", "cgan-relativistic"])
def test_a_run_with_the_tools_resumes_bit_for_bit(tmp_path, model_cls, argv):
    a, halves = resumed_in_halves(model_cls, tmp_path, argv, SMALL)
    if argv is EVERY_OPTION:
        assert any(k.startswith("G_ema.") for k in a)
        assert not any("running_mean" in k for k in a if k.startswith("D."))  # SN: no BN
    log = read_steplog(halves / "log.jsonl")
    assert [r["step"] for r in log if "loss_d" in r] == [1, 2, 3, 4]


@needs_mnist
def test_the_tools_are_run_options_and_their_rates_may_change_on_resume(tmp_path, capsys):
    out = tmp_path / "run"
    assert run_program(DCGAN, out, *EVERY_OPTION, "--max-steps", 2, options=SMALL) == 0
    capsys.readouterr()
    assert run_program(DCGAN, out, "--resume", "--ema", "0.5", "--augment", "color") == 2
    err = capsys.readouterr().err
    assert "--ema is 0.9 in the checkpoint, not 0.5" in err
    assert "--augment is translation,cutout,color in the checkpoint, not color" in err
    assert run_program(DCGAN, out, "--resume", "--max-steps", 3, "--lr-g", "3e-4") == 0
    assert "--lr-g 0.0003 (was 0.0001)" in capsys.readouterr().err
    events = [r for r in read_steplog(out / "log.jsonl") if r.get("event") == "lr"]
    assert events == [{"step": 2, "event": "lr", "option": "lr_g", "optimizer": "G",
                       "lr": 3e-4, "was": 1e-4}]


@needs_mnist
def test_a_checkpoint_older_than_the_tools_resumes_as_the_plain_run_it_was(tmp_path, capsys):
    out = tmp_path / "old"
    assert run_program(DCGAN, out, "--max-steps", 2, options=SMALL) == 0
    path = out / "checkpoint.npz"
    state = mg.load(str(path))  # make it one written before the tools' options existed
    config = json.loads(state["config"])
    for dest in tools.OPTIONS:
        config.pop(dest, None)
    state["config"] = json.dumps(config, sort_keys=True)
    mg.save(state, str(path))
    capsys.readouterr()
    for argv in (["--recipe", "modern"], ["--spectral-norm"], ["--ema", "0.9"]):
        assert run_program(DCGAN, out, "--resume", "--max-steps", 3, *argv) == 2
        err = capsys.readouterr().err
        assert f"{argv[0]} " in err and f"predates {argv[0]}" in err, err
    # Not given: the recipe's defaults are not applied to it; it trains on, as plain.
    assert run_program(DCGAN, out, "--resume", "--max-steps", 3) == 0
    weights = checkpoint_weights(out)
    assert any("running_mean" in k for k in weights if k.startswith("D."))
    assert not any(k.startswith("G_ema.") for k in weights)
