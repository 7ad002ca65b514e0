"""Sample from a DCGAN generator trained in PyTorch, in minigan, without PyTorch.

    # in PyTorch, after training:  torch.save(G.state_dict(), "generator.pth")
    python examples/load_pytorch_dcgan.py generator.pth                  # -> grid.png
    python examples/load_pytorch_dcgan.py generator.pth --n 100 --out samples.png --seed 3
    python examples/load_pytorch_dcgan.py generator.pth --safetensors generator.safetensors
    python examples/load_pytorch_dcgan.py generator.safetensors          # also reads these

The generator must be minigan.gan.dcgan.Generator's architecture written in
PyTorch (an nn.Sequential named `net`: Linear(z, 6272, bias=False),
BatchNorm1d, ReLU, Unflatten(1, (128, 7, 7)), ConvTranspose2d(128, 64, 4, 2, 1,
bias=False), BatchNorm2d, ReLU, ConvTranspose2d(64, 1, 4, 2, 1), Tanh), the twin
in benchmarks/bench_dcgan.py; the latent size is read from the weights.
The .pth file is read by mg.load_pth, which runs no code from it.
--safetensors also writes the weights as a safetensors file, which PyTorch reads
back with safetensors.torch.load_file (the key names are the same).
"""
import argparse
import sys

import numpy as np

import minigan as mg
from minigan.gan.dcgan import Generator
from minigan.viz import save_grid


def read_weights(path):
    """A generator state dict (name -> NumPy array) from a .pth or .safetensors file."""
    if str(path).endswith(".safetensors"):
        return mg.load_safetensors(path)
    return mg.load_pth(path)


def load_generator(path):
    """minigan's DCGAN Generator holding the weights of `path`, in eval mode."""
    state = read_weights(path)
    if not isinstance(state, dict) or "net.0.weight" not in state:
        keys = list(state)[:5] if isinstance(state, dict) else type(state).__name__
        raise ValueError(f"{path}: expected the state dict of a DCGAN generator (keys "
                         f"net.0.weight, net.1.running_mean, ...), got {keys}")
    G = Generator(in_features=int(state["net.0.weight"].shape[1]))
    G.load_state_dict(state)
    return G.eval()


def sample(G, n, seed):
    """n images (n, 1, 28, 28) in [-1, 1] from z ~ N(0, 1) drawn with `seed`."""
    mg.manual_seed(seed)
    z = mg.randn(n, G.net[0].in_features)
    with mg.no_grad():
        return G(z).numpy()


def main(argv=None):
    p = argparse.ArgumentParser(description="Sample from a PyTorch DCGAN generator in minigan.")
    p.add_argument("weights", help="the generator's state dict: a torch.save .pth file, or "
                                   ".safetensors")
    p.add_argument("--out", default="grid.png", help="the PNG grid to write")
    p.add_argument("--n", type=int, default=64, help="number of samples")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--safetensors", default=None, metavar="PATH",
                   help="also write the weights to PATH as a safetensors file")
    args = p.parse_args(argv)
    if args.n < 1:
        p.error(f"--n must be at least 1, got {args.n}")
    try:
        G = load_generator(args.weights)
        if args.safetensors:
            mg.save_safetensors(G.state_dict(), args.safetensors)
            print(f"wrote {args.safetensors}")
    except (OSError, ValueError, RuntimeError, ImportError) as error:
        print(f"error: {error}", file=sys.stderr)  # CheckpointError is a ValueError
        return 2
    images = sample(G, args.n, args.seed)
    save_grid(images, args.out, nrow=int(np.ceil(np.sqrt(args.n))), scale=2)
    print(f"wrote {args.n} samples to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
