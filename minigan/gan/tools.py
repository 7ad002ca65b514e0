"""The post-DCGAN training tools as options of a model: --ema, --spectral-norm, --loss
hinge, --lr-d/--lr-g, --lr-decay, --g-steps, --top-k, --r1/--r1-every, --augment,
--info-code/--info-weight, --clusters/--fine-clusters, and --recipe modern, their sum.

A model that reads them lists `OPTIONS` in its `common_options` (DCGAN, and so
CGAN); the programs of the others do not offer them. The tools themselves live in
the library, one idea each:

    --ema DECAY         minigan.optim.swa_utils.AveragedModel with get_ema_multi_avg_fn:
                        G_ema <- DECAY * G_ema + (1 - DECAY) * G after every G step;
                        the samples (grids, --generate, --nice, --interpolate, the quality
                        report) are drawn by G_ema in eval mode
    --spectral-norm     minigan.nn.utils.spectral_norm on D's conv and linear layers.
                        D's batch norm goes (an Identity takes its place): batch norm
                        divides by the batch's standard deviation, a factor no weight
                        bounds, so with it D would not be 1-Lipschitz per layer as
                        spectral norm intends (SN-GAN's D has none); it also mixes the
                        images of a batch, which an R1 gradient per image should not see
    --loss hinge        minigan.gan.losses.d_hinge_loss / g_hinge_loss (default: bce,
                        the DCGAN paper's BCE for D and -log D(G(z)) for G)
    --loss relativistic minigan.gan.losses.d_relativistic_loss / g_relativistic_loss, the
                        relativistic average GAN: each side's logits against the other's
                        mean; the G step then runs D on the step's real images too
    --lr-d, --lr-g      two time-scale learning rates (Heusel et al. 2017); none given:
                        --lr for both. Like --lr, they may change on --resume
    --lr-decay linear   both rates times 1 - (step - 1) / (the run's steps), within each
                        training step only (decayed_learning_rates): the full rate at
                        the first step, zero after the last of --epochs (CycleGAN's
                        and pix2pix's code decays so over a run's second half only)
    --g-steps K         K G steps after each D step (where one is due), each on a fresh
                        G(z): more training for a G that cannot keep up with its D
    --top-k FRACTION    minigan.gan.losses.top_k: each G step's loss over only the
                        ceil(FRACTION * N) fakes D scores most real (Sinha et al. 2020,
                        who let k fall from N over a long run; here it stays fixed)
    --r1 GAMMA          minigan.gan.losses.r1_penalty on the reals, lazily: every
    --r1-every K        K-th D step adds K * GAMMA / 2 * E||dD(x)/dx||^2 (StyleGAN2)
    --augment POLICY    minigan.gan.augment.augment on real AND fake images before every
                        D evaluation of a training step (D step and G step), fresh random
                        parameters per call
    --info-code C       InfoGAN's categorical code (Chen et al. 2016), without its
    --info-weight L     continuous codes: G's input becomes [z | one_hot(c)], c drawn
                        uniformly from 0..C-1, and a head Q on D's features must read c
                        back from G(z, c); D's and G's losses both add
                        L * CE(Q(G(z, c)), c) (L = 1, the paper's lambda). Unsupervised:
                        no label goes in. The hope: a G that must keep C kinds of image
                        apart draws fewer shapes halfway between two digits (measured:
                        no reliable gain, and worse with R1; README, seventh round)
    --clusters K        a self-conditioned GAN (Liu et al. 2020; minigan/gan/clusters.py):
                        K k-means clusters of the training images' pixels, fitted once
                        at the start without labels; G gets [z | one_hot(c)] and D the
                        image with K cluster planes, as the CGAN gets its digits, c being
                        a real image's nearest centroid and, for a sample, drawn with
                        each cluster's share of the training images (measured: the
                        best single run so far, and no reliable gain; README, eighth round)
    --fine-clusters M   the K clusters found by spectral clustering of M small k-means
                        clusters (minigan/data/spectral.py): groups whose most common
                        digit covers about 79% of their images, against k-means' 61%
                        (measured: --clusters 10 --fine-clusters 200 on R1 and the fast
                        rates is what took the recipe under a fifth of plain's distance)
"""
import argparse
import contextlib
import math

from .augment import augment, parse_policy
from .losses import (d_hinge_loss, d_loss, d_relativistic_loss, g_hinge_loss,
                     g_loss_non_saturating, g_relativistic_loss)
from .options import (fraction, nonnegative_float, nonnegative_int, positive_float,
                      positive_int, unit_interval)

# The dests a model lists in `common_options` to be offered these options.
OPTIONS = ("ema", "spectral_norm", "loss", "lr_d", "lr_g", "lr_decay", "g_steps", "top_k",
           "r1", "r1_every", "augment", "info_code", "info_weight", "clusters", "fine_clusters",
           "recipe")

D_LOSSES = {"bce": d_loss, "hinge": d_hinge_loss, "relativistic": d_relativistic_loss}
G_LOSSES = {"bce": g_loss_non_saturating, "hinge": g_hinge_loss,
            "relativistic": g_relativistic_loss}  # relativistic: (fake_logits, real_logits)

# --recipe NAME: defaults for the options above; any option given still wins.
# modern is the best combination measured after 5 epochs at batch 128 (README, "Post-DCGAN
# tools"; benchmarks/recipes.py): the R1 penalty on D (gamma 0.25) every 4th D step, D
# learning at 4x the paper's rate and G at 4x D's. Each other tool scored worse at 5
# epochs on this small DCGAN, alone or added to an earlier recipe. R1 every 4th D step
# instead of every 16th (--r1-every's default, the recipe of rounds 2-3) scored 53.5
# against 58.4 over three seeds (gamma 0.5), its worst seed 56.1 against 65.2, at about
# the same time per epoch; gamma 0.25 there 50.3 (48.7, 51.2, 51.1), better on every seed
# than 0.5's 50.9, 56.1, 53.7 (the fifth round). On top of the recipe, the hinge loss,
# Adam's beta1 at 0, --lr-decay linear, the EMA, --top-k 0.5 and the relativistic loss
# stayed within the seeds' spread or worse; R1 every D step scored like every 4th (54.2)
# at 1.28x the time; --g-steps 2 helped a little (52.3 against 58.4 on three seeds) at
# about 1.5x the time, the most a recipe may cost. InfoGAN's categorical code
# (--info-code 10) on top scored 65.7 and 55.4 on seeds 0-1 against 48.7 and 51.2, and
# 49.4 and 56.7 at --info-weight 0.1 (the seventh round); without R1 it took seed 0
# from 75.2 to 59.0 but seed 1 from 68.2 to 68.8. Self-conditioning on 10 k-means
# clusters (--clusters 10, the eighth round, another machine) scored 40.3, 62.0, 24.8 and
# 58.4 on seeds 0-3 against modern's 51.4 on seed 0 there: its best seed is the first
# run under the goal, its mean (46.4) within modern's spread. The ninth round found the
# clusters by spectral clustering of 200 small k-means clusters (--fine-clusters 200), 79%
# one digit against k-means' 61%, and that joined the recipe: see the README's ninth round.
RECIPES = {
    "plain": {},
    "modern": {"r1": 0.25, "r1_every": 4, "lr_d": 8e-4, "lr_g": 3.2e-3, "clusters": 10,
               "fine_clusters": 200},
}


def describe_recipe(name):
    """'--ema 0.99 --spectral-norm --loss hinge ...': a recipe as the options it sets."""
    parts = []
    for dest, value in RECIPES[name].items():
        flag = "--" + dest.replace("_", "-")
        if value is True:
            parts.append(flag)
        elif value is not None and value is not False:
            parts.append(f"{flag} {value}")
    return " ".join(parts) or "(the model's own defaults)"


def augment_policy(text):
    """argparse type of --augment: 'translation,cutout,color' (any subset), normalised."""
    try:
        names = parse_policy(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error).replace("augment: ", "")) from None
    if not names:
        raise argparse.ArgumentTypeError(f"expected a comma-separated list of "
                                         f"translation, cutout, color, got {text!r}")
    return ",".join(names)


def add_arguments(parser, uses, default_lr):
    """The options of `OPTIONS` that `uses` (a model's common_options) names."""
    if not set(OPTIONS) & set(uses):
        return
    group = parser.add_argument_group(
        "post-DCGAN tools (defaults: off, the paper's recipe; --recipe sets several)")
    if "recipe" in uses:
        group.add_argument("--recipe", choices=tuple(RECIPES), default="plain",
                           help="defaults for the options below, each of which may still be "
                                "given: plain = the paper's recipe; modern = "
                                + describe_recipe("modern"))
    if "ema" in uses:
        group.add_argument("--ema", type=unit_interval, default=None, metavar="DECAY",
                           help="keep an exponential moving average of G's weights and "
                                "buffers (updated after every G step) and draw every sample "
                                "with it; none given: off")
    if "spectral_norm" in uses:
        group.add_argument("--spectral-norm", action="store_true",
                           help="spectral normalisation of D's conv and linear layers "
                                "(D then has no batch norm)")
    if "loss" in uses:
        group.add_argument("--loss", choices=tuple(D_LOSSES), default="bce",
                           help="the adversarial loss: bce, the DCGAN paper's (D: BCE, G: "
                                "-log D(G(z))); hinge (D: relu(1 - D(x)) + relu(1 + "
                                "D(G(z))), G: -D(G(z))); or relativistic, the relativistic "
                                "average GAN (BCE of D(x) - mean D(G(z)) and of D(G(z)) - "
                                "mean D(x), labels swapped for G)")
    if "lr_d" in uses:
        group.add_argument("--lr-d", type=positive_float, default=None,
                           help=f"D's learning rate (none given: --lr, {default_lr})")
    if "lr_g" in uses:
        group.add_argument("--lr-g", type=positive_float, default=None,
                           help=f"G's learning rate (none given: --lr, {default_lr})")
    if "lr_decay" in uses:
        group.add_argument("--lr-decay", choices=("none", "linear"), default="none",
                           help="linear: both learning rates fall in a straight line from "
                                "their set values at the first step to zero after the last "
                                "of --epochs (--max-steps only cuts the run short)")
    if "g_steps" in uses:
        group.add_argument("--g-steps", type=positive_int, default=1, metavar="K",
                           help="generator steps each time G steps (after every --d-steps-th "
                                "D step), each on a fresh batch of z")
    if "top_k" in uses:
        group.add_argument("--top-k", type=fraction, default=None, metavar="FRACTION",
                           help="top-k training: each G step's loss over only the "
                                "ceil(FRACTION * batch) fakes D scores most real; none "
                                "given: every fake")
    if "r1" in uses:
        group.add_argument("--r1", type=nonnegative_float, default=None, metavar="GAMMA",
                           help="R1 penalty GAMMA / 2 * E||dD(x)/dx||^2 on the real images; "
                                "none given: off")
        group.add_argument("--r1-every", type=positive_int, default=16, metavar="K",
                           help="lazy R1: only every K-th D step, K times as strong")
    if "augment" in uses:
        group.add_argument("--augment", type=augment_policy, default=None, metavar="POLICY",
                           help="differentiable augmentation of real and fake images before "
                                "D: a comma-separated subset of translation,cutout,color; "
                                "none given: off")
    if "info_code" in uses:
        group.add_argument("--info-code", type=positive_int, default=None, metavar="C",
                           help="InfoGAN's categorical code: G also gets one_hot(c), c "
                                "uniform over 0..C-1, and a head Q on D must read c back "
                                "from the fake; none given: off")
    if "info_weight" in uses:
        group.add_argument("--info-weight", type=nonnegative_float, default=1.0,
                           metavar="LAMBDA",
                           help="weight of --info-code's loss in D's and G's (default 1, "
                                "the InfoGAN paper's)")
    if "clusters" in uses:
        group.add_argument("--clusters", type=nonnegative_int, default=None, metavar="K",
                           help="self-conditioning: fit K k-means clusters to the training "
                                "images' pixels (no labels) and condition G and D on each "
                                "image's cluster as the CGAN is on its digit; samples draw "
                                "clusters as often as the data has them; 0 or none "
                                "given: off")
    if "fine_clusters" in uses:
        group.add_argument("--fine-clusters", type=nonnegative_int, default=None,
                           metavar="M",
                           help="--clusters K found better: M small k-means clusters "
                                "(M > K, e.g. 200) joined into K by spectral clustering of "
                                "their images' nearest-neighbour graph (minigan/data/"
                                "spectral.py); 0 or none given: k-means' own K clusters")


def apply_recipe(args, given):
    """Fill in the recipe's values (args: vars(namespace)) for the options not given."""
    recipe = args.get("recipe")
    if recipe is None:
        return args
    for dest, value in RECIPES[recipe].items():
        if dest in args and dest not in given:
            args[dest] = value
    return args


def unused_options(config, given):
    """The one-line reason an option given would be ignored, or None."""
    if "r1_every" in given and not config.get("r1"):
        return "--r1-every K says how often the R1 penalty is added: add --r1 GAMMA"
    if "info_weight" in given and not config.get("info_code"):
        return "--info-weight LAMBDA weighs the code's loss: add --info-code C"
    if "fine_clusters" in given and config.get("fine_clusters") and not config.get("clusters"):
        return "--fine-clusters M says how --clusters K are found: add --clusters K"
    if config.get("clusters") and config.get("fine_clusters") \
            and config["fine_clusters"] <= config["clusters"]:
        return (f"--fine-clusters {config['fine_clusters']}: expected more small clusters "
                f"than --clusters ({config['clusters']})")
    if config.get("clusters") and config.get("info_code"):
        return ("--clusters K and --info-code C would both put a one-hot code after z on "
                "G's input: choose one (--clusters 0 turns off --recipe modern's)")
    if ("lr" in given and config.get("lr_d") is not None
            and config.get("lr_g") is not None):
        return (f"--lr would be ignored: --lr-d is {config['lr_d']} and --lr-g "
                f"{config['lr_g']} (from --recipe {config.get('recipe')} or given): set "
                "those instead")
    return None


# --- what the model calls ----------------------------------------------------------------

def learning_rates(config):
    """(G's, D's) learning rate: --lr-g / --lr-d, or --lr."""
    lr_g, lr_d = config.get("lr_g"), config.get("lr_d")
    return (config["lr"] if lr_g is None else lr_g), (config["lr"] if lr_d is None else lr_d)


@contextlib.contextmanager
def decayed_learning_rates(model, step):
    """--lr-decay linear: within it, G's and D's Adam rates are their set values times

        1 - (step - 1) / total        (step 1, 2, ... of model.total_steps)

    the full rate at the first step, falling in a straight line to zero after the last
    (the trainer sets total_steps to --epochs' steps; --max-steps only cuts the run
    short). The set values come back on leaving, so checkpoints, --resume and its
    rate changes see the rates the options set; and the factor is a closed form of
    the step, so a resumed run takes the same rates as an uninterrupted one. (Not an
    optim.lr_scheduler.LambdaLR: a scheduler leaves its rate in the optimizer between
    steps, which --resume would report as a changed --lr, and its count of steps would
    be one more state to checkpoint and keep in step with the trainer's.)"""
    if (model.config.get("lr_decay") or "none") == "none":
        yield
        return
    total = getattr(model, "total_steps", None)
    if not total:
        raise RuntimeError("--lr-decay linear needs the run's length: set model.total_steps "
                           "(minigan.train.Trainer does) before train_step")
    factor = max(0.0, 1.0 - (step - 1) / total)
    groups = [g for name in ("G", "D") for g in model.optimizers[name].param_groups]
    rates = [g["lr"] for g in groups]
    for group, rate in zip(groups, rates):
        group["lr"] = rate * factor
    try:
        yield
    finally:
        for group, rate in zip(groups, rates):
            group["lr"] = rate


def spectral_norm_layers(net):
    """Spectral norm on every Conv2d and Linear of `net` (in place); returns net."""
    from minigan import nn
    for module in list(net.modules()):
        if isinstance(module, (nn.Conv2d, nn.Linear)):
            nn.utils.spectral_norm(module)
    return net


def ema_generator(G, config):
    """An AveragedModel of G with the --ema decay (buffers averaged too), or None."""
    decay = config.get("ema")
    if decay is None:
        return None
    from minigan.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
    return AveragedModel(G, multi_avg_fn=get_ema_multi_avg_fn(decay), use_buffers=True)


def augment_images(images, policy):
    """The --augment policy applied to a batch (real or fake: the same function)."""
    return augment(images, policy)


def regularised_d(config):
    """Whether D's step differs from the paper's: another loss, an R1 penalty, or a code."""
    return (config.get("loss", "bce") != "bce" or bool(config.get("r1"))
            or bool(config.get("info_code")))


def regularised_g(config):
    """Whether G's step differs from the paper's: another loss, top-k, or a code."""
    return (config.get("loss", "bce") != "bce" or bool(config.get("top_k"))
            or bool(config.get("info_code")))


def top_k_count(config, batch_size):
    """--top-k FRACTION: how many of a batch's fakes the G loss keeps, ceil(FRACTION * N)
    (at least one; the 1e-9 keeps 0.3 * 10 = 3.0000000000000004 at 3, not 4)."""
    return min(batch_size, max(1, math.ceil(config["top_k"] * batch_size - 1e-9)))


def r1_due(config, step):
    """Whether D step `step` (1, 2, ...) adds the lazy R1 penalty."""
    return bool(config.get("r1")) and step % config.get("r1_every", 16) == 0
