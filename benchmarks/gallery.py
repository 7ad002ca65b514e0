"""The README's gallery: samples, scores and time per epoch of every trained model.

Train the models first (each command below writes runs/NAME/), then

    python benchmarks/gallery.py                 # the markdown table on stdout
    python benchmarks/gallery.py --images docs/gallery   # and one sample strip per model

For every run found it reads

  - checkpoint.npz    the trained generator; 20 samples from seed 0 (conditional
                      models: the digits 0..9 twice) become NAME.png, 10 across;
  - quality.json      the scores the training program printed at the end of the
                      run (10,000 samples, `minigan.train.evaluate_model`); if it
                      is missing or older than the checkpoint, it evaluates now;
  - log.jsonl         the time of the run's last epoch (each record carries the
                      seconds since its epoch began); for the LONGER runs, that of
                      the 5-epoch run they continue.

Runs that are missing are skipped with a note on stderr, so the table can be
built while some models are still training.
"""
import argparse
import json
import os
import sys

import numpy as np

import minigan as mg
from minigan.gan import (ACGAN, CGAN, CVAE, CVAEGAN, DCGAN, EBGAN, GAN, LAPGAN, VAE, WGAN,
                         InfoGAN, WGANGP)
from minigan.train import generate_samples, load_checkpoint, read_steplog, restore
from minigan.viz import save_grid

PAPERS = {
    "DCGAN": "Radford et al. 2015", "CGAN": "Mirza & Osindero 2014",
    "GAN": "Goodfellow et al. 2014", "ACGAN": "Odena et al. 2017",
    "InfoGAN": "Chen et al. 2016", "WGAN": "Arjovsky et al. 2017",
    "WGAN-GP": "Gulrajani et al. 2017", "EBGAN": "Zhao et al. 2017",
    "LAPGAN": "Denton et al. 2015", "VAE": "Kingma & Welling 2014",
    "CVAE": "Sohn et al. 2015", "CVAE-GAN": "Bao et al. 2017",
}

# (row name, model class, run folder, the command that trains it)
RUNS = [
    ("DCGAN", DCGAN, "runs/dcgan", "python examples/mnist_dcgan.py --epochs 5"),
    ("CGAN", CGAN, "runs/cgan", "python examples/mnist_cgan.py --epochs 5"),
    ("GAN", GAN, "runs/gan", "python examples/mnist_gan.py --epochs 5"),
    ("GAN, minimax loss", GAN, "runs/gan_minimax",
     "python examples/mnist_gan.py --epochs 5 --loss minimax --out runs/gan_minimax"),
    ("ACGAN", ACGAN, "runs/acgan", "python examples/mnist_acgan.py --epochs 5"),
    ("InfoGAN", InfoGAN, "runs/infogan", "python examples/mnist_infogan.py --epochs 5"),
    ("WGAN", WGAN, "runs/wgan", "python examples/mnist_wgan.py --epochs 5"),
    ("WGAN-GP", WGANGP, "runs/wgan_gp", "python examples/mnist_wgan_gp.py --epochs 5"),
    ("EBGAN", EBGAN, "runs/ebgan", "python examples/mnist_ebgan.py --epochs 5"),
    ("LAPGAN", LAPGAN, "runs/lapgan", "python examples/mnist_lapgan.py --epochs 5"),
    ("VAE", VAE, "runs/vae", "python examples/mnist_vae.py --epochs 5"),
    ("CVAE", CVAE, "runs/cvae",
     "python examples/mnist_vae.py --conditional --epochs 5 --out runs/cvae"),
    ("CVAE-GAN", CVAEGAN, "runs/cvae_gan", "python examples/mnist_cvae_gan.py --epochs 5"),
]

# The slow starters trained on (`--resume` from a copy of the 5-epoch run, which
# continues it bit for bit), and WGAN once more at 4x the paper's learning rate.
# Their epochs cost what the 5-epoch run's did; their time column is read from
# that run, since these ran while more jobs than cores shared the machine.
LONGER = [
    ("GAN, longer", GAN, "runs/gan_15",
     "python examples/mnist_gan.py --epochs 15 --out runs/gan_15", "runs/gan"),
    ("WGAN, longer", WGAN, "runs/wgan_15",
     "python examples/mnist_wgan.py --epochs 15 --out runs/wgan_15", "runs/wgan"),
    ("WGAN, longer, lr 2e-4", WGAN, "runs/wgan_lr2e-4",
     "python examples/mnist_wgan.py --epochs 15 --lr 2e-4 --out runs/wgan_lr2e-4", "runs/wgan"),
    ("WGAN-GP, longer", WGANGP, "runs/wgan_gp_15",
     "python examples/mnist_wgan_gp.py --epochs 15 --out runs/wgan_gp_15", "runs/wgan_gp"),
    ("CVAE, longer", CVAE, "runs/cvae_15",
     "python examples/mnist_vae.py --conditional --epochs 15 --out runs/cvae_15", "runs/cvae"),
]


def load_model(model_cls, run_dir):
    state = load_checkpoint(os.path.join(run_dir, "checkpoint.npz"))
    model = model_cls({**state["config"], "backend": "numpy"})
    restore(model, state, weights_only=True)
    return model, state


def sample_strip(model, seed=0, n=20):
    """n samples from seed `seed`, generator in eval mode; conditional: 0..9, 0..9."""
    mg.manual_seed(seed)
    labels = (np.arange(n) % model.num_classes).astype(np.int64) if model.conditional else None
    return generate_samples(model, n, labels)


def quality(model, run_dir, data=None):
    """The run's quality.json, or a fresh evaluation if it predates the checkpoint."""
    path = os.path.join(run_dir, "quality.json")
    checkpoint = os.path.join(run_dir, "checkpoint.npz")
    if os.path.exists(path) and os.path.getmtime(path) >= os.path.getmtime(checkpoint):
        with open(path) as f:
            return json.load(f)
    from minigan.train import evaluate_model
    print(f"{run_dir}: evaluating 10,000 samples", file=sys.stderr)
    mg.manual_seed(0)
    results = evaluate_model(model, n=10000, data=data)
    with open(path, "w") as f:
        json.dump(results, f, indent=2)
    return results


def last_epoch_seconds(run_dir):
    """(epoch, seconds) of the last complete epoch in the run's step log."""
    end = {}
    for record in read_steplog(os.path.join(run_dir, "log.jsonl")):
        end[record["epoch"]] = record["time"]
    epoch = max(end)
    return epoch, end[epoch]


def row(name, command, epochs, scores, seconds, image):
    acc = scores.get("conditional_accuracy")
    paper = PAPERS[name.split(",")[0]]
    picture = f'<img src="{image}" width="302">' if image else ""
    return (f"| {name} | {paper} | `{command}` | {picture} | {epochs} | "
            f"{scores['frechet_distance']:.1f} | {scores['inception_score']:.2f} | "
            f"{'' if acc is None else f'{100 * acc:.1f}%'} | {seconds / 60:.1f} min |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", default=None,
                        help="folder for one PNG strip of samples per model (e.g. docs/gallery)")
    parser.add_argument("--data", default=None, help="MNIST folder (for a fresh evaluation)")
    parser.add_argument("--only", nargs="+", default=None, metavar="FOLDER",
                        help="only these runs, by folder name (dcgan cgan ...)")
    args = parser.parse_args(argv)
    print("| model | paper | command | samples (seed 0) | epochs | Fréchet | IS | cond. acc. "
          "| time per epoch |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    rows = [(*r, r[2]) for r in RUNS] + LONGER
    for name, model_cls, run_dir, command, timing_dir in rows:
        if args.only and os.path.basename(run_dir) not in args.only:
            continue
        if not os.path.exists(os.path.join(run_dir, "checkpoint.npz")):
            print(f"{run_dir}: no checkpoint, skipped", file=sys.stderr)
            continue
        model, state = load_model(model_cls, run_dir)
        image = None
        if args.images:
            os.makedirs(args.images, exist_ok=True)
            image = os.path.join(args.images, os.path.basename(run_dir) + ".png")
            save_grid(sample_strip(model), image, nrow=10, scale=1)
        _, seconds = last_epoch_seconds(timing_dir)
        scores = quality(model, run_dir, args.data)
        print(row(name, command, state["epoch"], scores, seconds, image), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
