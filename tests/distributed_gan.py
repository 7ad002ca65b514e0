"""A tiny GAN step written once and run two ways by the data-parallel tests: on one
process at global batch B, and on N ranks at B / N each with SyncBatchNorm, a
DistributedOptimizer, a sharded DataLoader and sharded random draws."""
import numpy as np

import minigan as mg
import minigan.functional as F
from minigan import nn, optim
from minigan.data import DataLoader

Z = 8


class Pixels:
    """A dataset of 64 random 8x8 uint8 images (the DataLoader's protocol)."""

    def __init__(self, n=64, seed=1):
        rng = np.random.default_rng(seed)
        self.images = rng.integers(0, 256, (n, 8, 8), dtype=np.uint8)
        self.labels = rng.integers(0, 10, n)

    def arrays(self):
        return self.images, self.labels


def make_gan(seed=0):
    """Layers before a batch norm have no bias, as in the DCGAN: its gradient would be
    zero up to rounding, and Adam would turn that rounding into steps of full size."""
    mg.manual_seed(seed)
    G = nn.Sequential(nn.Linear(Z, 16, bias=False), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 64),
                      nn.Tanh(), nn.Unflatten(1, (1, 8, 8)))
    D = nn.Sequential(nn.Conv2d(1, 4, 3, 2, 1, bias=False), nn.BatchNorm2d(4), nn.LeakyReLU(0.2),
                      nn.Dropout(0.25), nn.Flatten(), nn.Linear(64, 1))
    return G, D


def train(G, D, loader, steps, wrap=lambda opt: opt, shard=None):
    """`steps` D+G steps; returns the two optimizers. shard: (rank, world) or None."""
    opt_g = wrap(optim.Adam(G.parameters(), lr=1e-2, betas=(0.5, 0.999)))
    opt_d = wrap(optim.Adam(D.parameters(), lr=1e-2, betas=(0.5, 0.999)))
    done = 0
    while done < steps:
        for real, _ in loader:
            real = mg.tensor(real.numpy().astype(mg.get_default_dtype()))
            with (mg.backend.sharded_draws(*shard) if shard else _nothing()):
                fake = G(mg.randn(real.shape[0], Z))
                real_logits, fake_logits = D(real), D(fake.detach())
                ones, zeros = mg.ones_like(real_logits), mg.zeros_like(fake_logits)
                loss_d = (F.binary_cross_entropy_with_logits(real_logits, ones)
                          + F.binary_cross_entropy_with_logits(fake_logits, zeros))
                opt_d.zero_grad()
                loss_d.backward()
                opt_d.step()
                loss_g = F.binary_cross_entropy_with_logits(D(fake), mg.ones_like(fake_logits))
                opt_g.zero_grad()
                loss_g.backward()
                opt_g.step()
            done += 1
            if done == steps:
                break
    return opt_g, opt_d


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


def everything(G, D, opt_g, opt_d):
    """{name: NumPy array} of weights, buffers and Adam moments."""
    out = {}
    for tag, net in (("G", G), ("D", D)):
        for k, v in net.state_dict().items():
            out[f"{tag}.{k}"] = mg.to_numpy(v.data)
    for tag, opt in (("G", opt_g), ("D", opt_d)):
        for i, (p, state) in enumerate(getattr(opt, "optimizer", opt).state.items()):
            for k, v in state.items():
                if hasattr(v, "shape"):
                    out[f"opt{tag}.{i}.{k}"] = mg.to_numpy(v)
    return out


def loader(batch_size, num_replicas=1, rank=0):
    return DataLoader(Pixels(), batch_size=batch_size, shuffle=True, drop_last=True, seed=3,
                      num_replicas=num_replicas, rank=rank)
