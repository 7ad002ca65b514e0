"""The command line shared by every training program in examples/.

    python examples/mnist_dcgan.py --epochs 5                 # train
    python examples/mnist_dcgan.py --resume --epochs 10       # continue OUT/checkpoint.npz
    python examples/mnist_dcgan.py --resume --lr 1e-4         # ... at a new learning rate
    python examples/mnist_dcgan.py --overwrite                # a new run in place of OUT's
    python examples/mnist_dcgan.py --generate 64              # samples from OUT/checkpoint.npz
    python examples/mnist_cgan.py --generate 100 --digit 7    # only sevens
    python examples/mnist_dcgan.py --generate 64 --nice       # best 64 of 1280, ranked by D
    python examples/mnist_dcgan.py --interpolate              # latent walks (slerp)

An example program is `main(ModelClass)`; options a model needs beyond these it
adds itself in `ModelClass.add_arguments`, and of the optional shared ones
(--beta1, --d-steps, --nice) it is offered those in `ModelClass.common_options`.

On --resume the checkpoint is the truth: the options that define the run come
from it, and --epochs, --max-steps, the learning rates and the evaluation may
change (config.py). A fresh run never replaces a run in --out without
--overwrite. Whatever a user can get wrong ends in one `error: ...` line and
status 2 (a diverged run: status 1), with nothing half-written.
"""
import argparse
import json
import os
import sys

import numpy as np

import minigan as mg
from minigan._device import choose_backend
from minigan.backend import get_backend
from minigan.data.mnist import ChecksumError, DataNotFoundError
from minigan.gan import tools
from minigan.gan.options import positive_float, positive_int, unit_interval
from minigan.viz import save_grid

from .checkpoint import CheckpointError, check_model, load_checkpoint, restore
from .config import (OptionError, check_batch_fits, check_out_path, describe_files,
                     given_options, holds_a_run, make_out_folder, nothing_to_train, reconcile,
                     remove_run, run_files, shown)
from .guard import BOUNDS as DIVERGENCE_BOUNDS
from .sampling import generate_samples, latent_walk, nicest_samples
from .steplog import StepLogError, read_steplog
from .trainer import SAMPLE_EVERY, Trainer, TrainingDiverged, TrainingInterrupted

COMMON_DEFAULTS = {
    "epochs": 5, "batch_size": 128, "lr": 2e-4, "beta1": 0.5, "d_steps": 1, "seed": 0,
    "backend": "numpy", "z_dim": 100,
}


class Parser(argparse.ArgumentParser):
    """argparse, with its errors as the one line every minigan program prints."""

    def error(self, message):
        self.exit(2, f"error: {message} (see --help)\n")


def build_parser(model_cls):
    """The program's options: the shared ones the model reads (`model_cls.common_options`)
    and the model's own (`model_cls.add_arguments`). --help shows every default."""
    defaults = {**COMMON_DEFAULTS, **model_cls.defaults}
    uses = set(model_cls.common_options)
    p = Parser(
        prog=model_cls.program or f"mnist_{model_cls.name}.py",
        description=(model_cls.description
                     or f"Train {model_cls.name.upper()} on MNIST, or sample from a trained one.")
        + " On --resume the options that define the run come from the checkpoint; "
          "--epochs, --max-steps, the learning rates and the evaluation may change.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    train = p.add_argument_group("training")
    train.add_argument("--epochs", type=positive_int, default=defaults["epochs"],
                       help="passes over the training set")
    train.add_argument("--batch-size", type=positive_int, default=defaults["batch_size"],
                       help="images per step")
    train.add_argument("--lr", type=positive_float, default=defaults["lr"],
                       help="learning rate")
    if "beta1" in uses:
        train.add_argument("--beta1", type=unit_interval, default=defaults["beta1"],
                           help="Adam's beta1, in [0, 1)")
    if "d_steps" in uses:
        train.add_argument("--d-steps", type=positive_int, default=defaults["d_steps"],
                           help="discriminator (critic) steps per generator step")
    train.add_argument("--z-dim", type=positive_int, default=defaults["z_dim"],
                       help="latent size")
    train.add_argument("--seed", type=int, default=defaults["seed"],
                       help="seeds the weights, the data order and every random draw")
    train.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                       help="PyTorch's names: cuda is --backend cupy, cpu is numpy (or "
                            "strict); auto: cuda when CuPy finds a GPU, unless --backend says")
    train.add_argument("--backend", choices=("numpy", "cupy", "strict"), default=None,
                       help="numpy (CPU), cupy (NVIDIA GPU) or strict (CPU, checked like a "
                            "GPU); none given: from --device (they must agree)")
    train.add_argument("--data", default=None,
                       help="folder with the training data: the MNIST files (none given: "
                            "$MINIGAN_DATA, the cache, or download), or dcgan_images.py's "
                            "folder of images")
    train.add_argument("--out", default=os.path.join("runs", model_cls.name),
                       help="folder for samples, logs and the checkpoint")
    train.add_argument("--resume", action="store_true",
                       help="continue the run in OUT/checkpoint.npz (or --checkpoint)")
    train.add_argument("--overwrite", action="store_true",
                       help="start a new run in an OUT that holds one, deleting its files")
    train.add_argument("--max-steps", type=positive_int, default=None,
                       help="stop after this many steps")
    train.add_argument("--train-size", type=positive_int, default=None,
                       help="train on the first N images only (quick experiments)")
    train.add_argument("--no-eval", dest="no_eval", action="store_true", default=False,
                       help="skip the quality report at the end of training")
    train.add_argument("--eval", dest="no_eval", action="store_false",
                       default=argparse.SUPPRESS,  # --no-eval's dest: its default is shown there
                       help="do the quality report, the default (on --resume: undoes the "
                            "checkpoint's --no-eval)")
    train.add_argument("--eval-samples", type=positive_int, default=10000,
                       help="samples the quality report scores")
    train.add_argument("--retrain-evaluator", action="store_true",
                       help="judge samples with your own MNIST classifier (trained once, a few "
                            "minutes, and cached) instead of the one shipped with minigan")
    train.add_argument("--sample-every", type=_steps, default=SAMPLE_EVERY, metavar="N",
                       help="also draw the fixed-z grid (OUT/samples/step_NNNNNN.png) every N "
                            "steps, besides the start, every epoch's end and the last step; "
                            "0: never")
    p.epilog = (f"Training stops, keeping the last good checkpoint, when {DIVERGENCE_BOUNDS}. "
                "Ctrl-C or SIGTERM saves a checkpoint at the current step (exit status "
                "130 / 143); --resume continues from it.")
    train.add_argument("--textbook", action="store_true",
                       help="run conv, batch norm, max pooling and Adam on their readable, "
                            "slower textbook twins (minigan/textbook/)")
    many = p.add_argument_group("many processes (mpiexec -n N python ... --distributed)")
    many.add_argument("--distributed", action="store_true",
                      help="train data-parallel on the MPI ranks: --batch-size is the global "
                           "batch, split evenly; rank 0 prints and writes every file "
                           "(pip install -e \".[mpi]\")")
    many.add_argument("--sync-bn", action=argparse.BooleanOptionalAction, default=None,
                      help="batch norm over the global batch (SyncBatchNorm); none given: on "
                           "with --distributed")
    gen = p.add_argument_group("generation (from a checkpoint, no training)")
    gen.add_argument("--generate", type=positive_int, metavar="N", default=None,
                     help="write N samples to OUT/samples.npy and OUT/grid.png")
    gen.add_argument("--checkpoint", default=None,
                     help="the checkpoint --generate and --resume read (none given: "
                          "OUT/checkpoint.npz)")
    if "nice" in uses:
        gen.add_argument("--nice", action="store_true",
                         help="keep the best N of 20 N samples as ranked by the discriminator")
    gen.add_argument("--interpolate", action="store_true",
                     help="write a latent walk (slerp) grid to OUT/interpolation.png")
    if model_cls.conditional:
        gen.add_argument("--digit", type=int, default=None, choices=range(10),
                         help="generate only this digit (none given: N/10 of each)")
    tools.add_arguments(p, uses, defaults["lr"])
    model_cls.add_arguments(p)
    return p


def _steps(text):
    """argparse type of --sample-every: a whole number of steps, 0 or more."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of steps, got {text!r}")
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 (never) or more steps, got {value}")
    return value


def _check_combinations(args):
    """Options that would be ignored in this combination: OptionError."""
    generating = args.generate is not None or args.interpolate
    if generating and args.resume:
        raise OptionError("--resume trains; --generate and --interpolate only sample: "
                          "use one or the other")
    if generating and args.overwrite:
        raise OptionError("--overwrite starts a new training run; --generate and "
                          "--interpolate only sample")
    for name in ("nice", "digit"):
        if getattr(args, name, None) not in (None, False) and args.generate is None:
            raise OptionError(f"--{name} chooses what --generate N writes: add --generate N")
    if generating and args.distributed:
        raise OptionError("--distributed trains on many processes; --generate and "
                          "--interpolate sample on one")
    if args.sync_bn is not None and not args.distributed:
        raise OptionError("--sync-bn synchronises batch norm across the ranks of a "
                          "--distributed run: add --distributed")
    if args.checkpoint is not None and not (generating or args.resume):
        raise OptionError("--checkpoint is read by --resume, --generate and --interpolate; "
                          "a new run writes OUT/checkpoint.npz")


def main(model_cls, argv=None):
    parser = build_parser(model_cls)
    args = parser.parse_args(argv)
    given = given_options(parser, argv)
    tools.apply_recipe(vars(args), given)  # --recipe's defaults for the options not given
    with mg.textbook(args.textbook):  # the twins for this run only
        return _run(model_cls, parser, args, given)


def _run(model_cls, parser, args, given):
    try:
        _check_combinations(args)
        try:
            args.backend = choose_backend(args.device, args.backend)
        except ValueError as error:  # --device cuda without a GPU, or disagreeing options
            raise OptionError(str(error)) from None
        if "device" in given and args.device != "auto":
            given = given | {"backend"}  # so a resume checks it against the checkpoint's
        try:
            get_backend(args.backend)  # loads it (CuPy) without switching to it yet
        except (ImportError, RuntimeError) as error:  # no CuPy, or no GPU for it
            raise OptionError(f"--backend {args.backend}: {error}") from None
        if args.generate is not None or args.interpolate:
            mg.set_backend(args.backend)
            mg.manual_seed(args.seed)
            return _generate(parser, model_cls, vars(args), given)
        if args.distributed:
            config = _prepare_on_rank_0(parser, model_cls, vars(args), given)
        else:
            config = _prepare_training(parser, model_cls, vars(args), given)
        mg.set_backend(config["backend"])
        mg.manual_seed(config["seed"])
        return _train(model_cls, config)
    except TrainingDiverged as error:
        return _failed(args, f"\nerror: {error}", 1)
    except TrainingInterrupted as stop:  # Ctrl-C or SIGTERM: 130 / 143, as the shell reports
        return _failed(args, str(stop), stop.status, every_rank=True)
    except _EveryRankError as error:
        return _failed(args, f"error: {error}", 2, every_rank=True)
    except (OptionError, CheckpointError, StepLogError, ChecksumError, DataNotFoundError,
            OSError) as error:
        # What a user can cause: a bad combination, a missing or foreign checkpoint, an
        # unwritable or full --out, missing MNIST files. One line, status 2; every file
        # is written atomically, so nothing is left half-written.
        return _failed(args, f"error: {error}", 2)


class _EveryRankError(OptionError):
    """--distributed: an error rank 0 found and every rank raises together."""


def _failed(args, message, status, every_rank=False):
    """Print `message` and return `status`. In a run on many ranks, a failure that only
    this rank met (a full disk under rank 0's checkpoint) would leave the others
    waiting in their next collective forever: it ends every rank (MPI_Abort). One that
    every rank meets together (found by rank 0 before training, or an interrupt the
    ranks agreed on) is printed by rank 0 alone."""
    if getattr(args, "distributed", False):
        import minigan.distributed as dist
        if dist.world_size() > 1:
            if not every_rank:
                dist.abort(f"rank {dist.rank()}: {message.strip()}", status)
            if not dist.is_main():
                return status
    print(message, file=sys.stderr)
    return status


def _prepare_on_rank_0(parser, model_cls, args, given):
    """--distributed: rank 0 alone checks --out and the checkpoint (and deletes what
    --overwrite replaces), then every rank takes its config, or its error."""
    import minigan.distributed as dist
    dist.init()
    if args["sync_bn"] is None:
        args = {**args, "sync_bn": True}
    outcome = None
    if dist.is_main():
        try:
            outcome = ("config", _prepare_training(parser, model_cls, args, given))
        except (OptionError, CheckpointError, StepLogError, OSError) as error:
            outcome = ("error", f"{error}")
    kind, value = dist.comm.broadcast_object(outcome)
    if kind == "error":
        raise _EveryRankError(value)
    return value


def _prepare_training(parser, model_cls, args, given):
    """The config to train with, after every check that can be made before training:
    --out, the checkpoint and its options on --resume, the old run --overwrite replaces."""
    out = args["out"]
    check_out_path(out)
    if args["data"] is not None and not os.path.isdir(args["data"]):
        raise OptionError(f"--data {args['data']}: no such folder (expected the folder "
                          "holding the MNIST files)")
    own = os.path.join(out, "checkpoint.npz")
    source = args["checkpoint"] or own
    config = dict(args)
    if args["resume"]:
        state = load_checkpoint(source)
        check_model(state, model_cls.name, source)
        config, changes = reconcile(parser, model_cls, args, given, state["config"])
        why = nothing_to_train(config, state["epoch"], state["step"])
        if why:
            raise OptionError(f"nothing to train: {why}")
        if changes:
            print("resuming with " + ", ".join(
                f"{name} {shown(new)} (was {shown(old)})" for name, old, new in changes),
                file=sys.stderr)
        log = os.path.join(out, "log.jsonl")
        if os.path.exists(log):
            read_steplog(log)  # a damaged line: say which, before anything is written
    unused = tools.unused_options(config, given)
    if unused:
        raise OptionError(unused)
    if config["train_size"] is not None:
        check_batch_fits(config["batch_size"], config["train_size"], " with --train-size")
    make_out_folder(out)  # the last check: a folder is the first thing written
    continues_own = args["resume"] and os.path.abspath(source) == os.path.abspath(own)
    if not continues_own and holds_a_run(out):
        if args["overwrite"]:
            files = remove_run(out)
            print(f"--overwrite: deleted the previous run's files in {out}: "
                  f"{describe_files(files)}", file=sys.stderr)
        else:
            what = describe_files(run_files(out))
            raise OptionError(
                f"--out {out} already holds a run ({what}): continue it with --resume, "
                "replace it with --overwrite, or choose another --out")
    elif args["overwrite"] and continues_own:
        raise OptionError(f"--overwrite would delete the run in {out} that --resume "
                          "continues: use one or the other")
    return config


def _train(model_cls, config):
    model = model_cls(config)
    try:
        dataset = model.make_dataset()
    except ValueError as error:  # a model's own data check (the 64x64 DCGAN needs --data)
        raise OptionError(str(error)) from None
    trainer = Trainer(model, config, dataset=dataset)
    steps = trainer.fit()
    if not config["no_eval"] and model.mnist_quality_report and trainer.writes:
        _report_quality(model, config)
    return 0 if steps else 1


def _report_quality(model, config):
    from .quality import evaluate_model
    print("evaluating samples with the project's MNIST classifier ...", file=sys.stderr)
    results = evaluate_model(model, n=config["eval_samples"], data=config.get("data"),
                             retrain=config.get("retrain_evaluator", False))
    for key, value in results.items():
        print(f"{key:>24}: {value:.4f}" if isinstance(value, float) else f"{key:>24}: {value}")
    from minigan._atomic import atomic_write
    with atomic_write(os.path.join(config["out"], "quality.json"), "w") as f:
        json.dump(results, f, indent=2)


def _generate(parser, model_cls, config, given):
    """Samples from the checkpoint's model; --seed and --backend are this command's own,
    a model option given must be the checkpoint's (it cannot change a trained model)."""
    path = config["checkpoint"] or os.path.join(config["out"], "checkpoint.npz")
    state = load_checkpoint(path)
    check_model(state, model_cls.name, path)
    trained = state["config"]
    reconcile(parser, model_cls, config, given, trained, free={"seed", "backend"},
              doing="--generate samples the model the checkpoint holds",
              advice="Leave these options out")
    model = model_cls({**trained, "backend": config["backend"]})
    restore(model, state, weights_only=True)
    out = config["out"]
    os.makedirs(out, exist_ok=True)
    if config["interpolate"]:
        images, _ = latent_walk(model, seed=config["seed"])
        _require_finite(images, path)
        save_grid(images, os.path.join(out, "interpolation.png"), nrow=10, scale=2)
        print(f"wrote {os.path.join(out, 'interpolation.png')}")
    n = config["generate"]
    if n is None:
        return 0
    labels = _requested_labels(model, n, config.get("digit"))
    if config.get("nice"):
        images, labels = nicest_samples(model, n, labels)
    else:
        images = generate_samples(model, n, labels)
    _require_finite(images, path)
    _save_array(os.path.join(out, "samples.npy"), images)
    if labels is not None:
        _save_array(os.path.join(out, "labels.npy"), labels.astype(np.int64))
    shown = images[:100]
    save_grid(shown, os.path.join(out, "grid.png"),
              nrow=10 if model.conditional else int(np.ceil(np.sqrt(len(shown)))), scale=2)
    print(f"wrote {n} samples to {os.path.join(out, 'samples.npy')} and {os.path.join(out, 'grid.png')}")
    return 0


def _require_finite(images, path):
    """Samples with a NaN or an infinity are never written (main prints the one line)."""
    bad = int(np.count_nonzero(~np.isfinite(images)))
    if bad:
        raise CheckpointError(f"the generator of {path} drew {bad} non-finite pixel values "
                              f"(of {images.size}): its weights are broken; no samples written")


def _requested_labels(model, n, digit):
    if not model.conditional:
        return None
    if digit is not None:
        return np.full(n, digit, dtype=np.int64)
    return (np.arange(n) * model.num_classes // n).astype(np.int64)  # N/10 of each, sorted


def _save_array(path, array):
    from minigan._atomic import atomic_write
    with atomic_write(path) as f:
        np.save(f, array)
