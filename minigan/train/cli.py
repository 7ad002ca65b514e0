"""The command line shared by every training program in examples/.

    python examples/mnist_dcgan.py --epochs 5                 # train
    python examples/mnist_dcgan.py --resume                   # continue OUT/checkpoint.npz
    python examples/mnist_dcgan.py --generate 64              # samples from OUT/checkpoint.npz
    python examples/mnist_cgan.py --generate 100 --digit 7    # only sevens
    python examples/mnist_dcgan.py --generate 64 --nice       # best 64 of 1280, ranked by D
    python examples/mnist_dcgan.py --interpolate              # latent walks (slerp)

An example program is `main(ModelClass)`; options a model needs beyond these it
adds itself in `ModelClass.add_arguments`.
"""
import argparse
import json
import os
import sys

import numpy as np

import minigan as mg
from minigan.viz import save_grid

from .checkpoint import load_checkpoint, restore
from .sampling import generate_samples, latent_walk, nicest_samples
from .trainer import Trainer, TrainingDiverged

COMMON_DEFAULTS = {
    "epochs": 5, "batch_size": 128, "lr": 2e-4, "beta1": 0.5, "d_steps": 1, "seed": 0,
    "backend": "numpy", "z_dim": 100,
}


def build_parser(model_cls):
    defaults = {**COMMON_DEFAULTS, **model_cls.defaults}
    p = argparse.ArgumentParser(
        prog=model_cls.program or f"mnist_{model_cls.name}.py",
        description=(model_cls.description
                     or f"Train {model_cls.name.upper()} on MNIST, or sample from a trained one."),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    train = p.add_argument_group("training")
    train.add_argument("--epochs", type=int, default=defaults["epochs"])
    train.add_argument("--batch-size", type=int, default=defaults["batch_size"])
    train.add_argument("--lr", type=float, default=defaults["lr"], help="learning rate")
    train.add_argument("--beta1", type=float, default=defaults["beta1"], help="Adam's beta1")
    train.add_argument("--d-steps", type=int, default=defaults["d_steps"],
                       help="discriminator (critic) steps per generator step")
    train.add_argument("--z-dim", type=int, default=defaults["z_dim"], help="latent size")
    train.add_argument("--seed", type=int, default=defaults["seed"])
    train.add_argument("--backend", choices=("numpy", "cupy", "strict"),
                       default=defaults["backend"])
    train.add_argument("--data", default=None,
                       help="folder with the MNIST files (default: $MINIGAN_DATA, the cache, "
                            "or download)")
    train.add_argument("--out", default=os.path.join("runs", model_cls.name),
                       help="folder for samples, logs and the checkpoint")
    train.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.npz")
    train.add_argument("--max-steps", type=int, default=None, help="stop after this many steps")
    train.add_argument("--train-size", type=int, default=None,
                       help="train on the first N images only (quick experiments)")
    train.add_argument("--no-eval", action="store_true",
                       help="skip the quality report at the end of training")
    train.add_argument("--eval-samples", type=int, default=10000)
    train.add_argument("--retrain-evaluator", action="store_true",
                       help="judge samples with your own MNIST classifier (trained once, a few "
                            "minutes, and cached) instead of the one shipped with minigan")
    gen = p.add_argument_group("generation (from a checkpoint, no training)")
    gen.add_argument("--generate", type=int, metavar="N", default=None,
                     help="write N samples to OUT/samples.npy and OUT/grid.png")
    gen.add_argument("--checkpoint", default=None, help="default: OUT/checkpoint.npz")
    gen.add_argument("--nice", action="store_true",
                     help="keep the best N of 20 N samples as ranked by the discriminator")
    gen.add_argument("--interpolate", action="store_true",
                     help="write a latent walk (slerp) grid to OUT/interpolation.png")
    if model_cls.conditional:
        gen.add_argument("--digit", type=int, default=None, choices=range(10),
                         help="generate only this digit (default: N/10 of each)")
    model_cls.add_arguments(p)
    return p


def _check_args(args, parser):
    for name in ("epochs", "batch_size", "d_steps", "z_dim", "eval_samples"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    for name in ("max_steps", "train_size"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}")
    if args.lr <= 0:
        parser.error(f"--lr must be positive, got {args.lr}")
    if args.generate is not None and args.generate < 1:
        parser.error(f"--generate N needs N >= 1, got {args.generate}")


def main(model_cls, argv=None):
    parser = build_parser(model_cls)
    args = parser.parse_args(argv)
    _check_args(args, parser)
    mg.set_backend(args.backend)
    mg.manual_seed(args.seed)
    config = vars(args)
    if args.generate is not None or args.interpolate:
        try:
            return _generate(model_cls, config)
        except (OSError, ValueError) as error:  # no checkpoint, another model's, --nice without D
            print(f"error: {error}", file=sys.stderr)
            return 2
    try:
        return _train(model_cls, config)
    except TrainingDiverged as error:
        print(f"\nerror: {error}", file=sys.stderr)
        return 1


def _train(model_cls, config):
    model = model_cls(config)
    try:
        dataset = model.make_dataset()
    except (OSError, ValueError, RuntimeError) as error:  # no such folder, a corrupt file, no MNIST
        print(f"error: {error}", file=sys.stderr)
        return 2
    steps = Trainer(model, config, dataset=dataset).fit()
    if not config["no_eval"] and model.mnist_quality_report:
        _report_quality(model, config)
    return 0 if steps else 1


def _report_quality(model, config):
    from .quality import evaluate_model
    print("evaluating samples with the project's MNIST classifier ...", file=sys.stderr)
    results = evaluate_model(model, n=config["eval_samples"], data=config.get("data"),
                             retrain=config.get("retrain_evaluator", False))
    for key, value in results.items():
        print(f"{key:>24}: {value:.4f}" if isinstance(value, float) else f"{key:>24}: {value}")
    with open(os.path.join(config["out"], "quality.json"), "w") as f:
        json.dump(results, f, indent=2)


def _generate(model_cls, config):
    path = config["checkpoint"] or os.path.join(config["out"], "checkpoint.npz")
    state = load_checkpoint(path)
    trained = state["config"]
    model = model_cls({**trained, "backend": config["backend"]})
    restore(model, state, weights_only=True)
    out = config["out"]
    os.makedirs(out, exist_ok=True)
    if config["interpolate"]:
        images, _ = latent_walk(model, seed=config["seed"])
        save_grid(images, os.path.join(out, "interpolation.png"), nrow=10, scale=2)
        print(f"wrote {os.path.join(out, 'interpolation.png')}")
    n = config["generate"]
    if n is None:
        return 0
    labels = _requested_labels(model, n, config.get("digit"))
    if config["nice"]:
        images, labels = nicest_samples(model, n, labels)
    else:
        images = generate_samples(model, n, labels)
    _save_array(os.path.join(out, "samples.npy"), images)
    if labels is not None:
        _save_array(os.path.join(out, "labels.npy"), labels.astype(np.int64))
    shown = images[:100]
    save_grid(shown, os.path.join(out, "grid.png"),
              nrow=10 if model.conditional else int(np.ceil(np.sqrt(len(shown)))), scale=2)
    print(f"wrote {n} samples to {os.path.join(out, 'samples.npy')} and {os.path.join(out, 'grid.png')}")
    return 0


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
