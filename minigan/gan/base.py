"""`GANModel`: what every model in minigan/gan gives the one shared training loop.

A model owns its networks and optimizers and knows how to take one training
step on a batch of real images. Everything else (epochs, progress bar, step
log, sample grids, checkpoints, resume, generation) is the same for every GAN
and lives once in `minigan/train/` (trainer.py, cli.py).

To add a model, subclass GANModel and define:

    name               the program's name ("dcgan")
    defaults           option values that differ from the common ones (lr, d_steps ...)
    common_options     which of the optional shared options it reads (--beta1, --d-steps,
                       --nice, and tools.OPTIONS: --ema, --spectral-norm, ... --recipe);
                       the program offers only those
    learning_rates     {option: optimizers it sets}: what --resume may change (--lr, --g-lr);
                       an option left at None gives way to the ones before it (--lr-d)
    build(config)      make self.networks and self.optimizers
    train_step(real, labels, step) -> dict of float metrics (loss_d, loss_g, ...)
    generate(z, labels=None) -> images in [-1, 1], shape (N, 1, 28, 28)

and, for a model trained on other data than MNIST's training set, make_dataset()
(DCGAN64 reads an image folder) and mnist_quality_report = False.
"""
import contextlib

import numpy as np

import minigan as mg


class GANModel:
    """Base class of the models trained by `minigan.train.Trainer`."""

    name = "gan"
    conditional = False            # draws the digit it is asked for
    num_classes = 10
    z_dim = 100
    defaults = {}                  # overrides of the common command-line defaults
    # The optional shared options this model reads; an option it would ignore is not
    # offered (WGAN's RMSprop has no beta1; the VAE has no D to step or to rank with).
    common_options = ("beta1", "d_steps", "nice")
    # The options that set a learning rate, and the optimizers each sets (None: all).
    learning_rates = {"lr": None}
    # The G step's loss goes through D, but D's parameter gradients from it would only be
    # thrown away (D's optimizer zeroes them before its next step): skip them, a third of
    # the G step's backward. The benchmark sets this False to time PyTorch's plain step.
    skip_discarded_grads = True
    plot_keys = ("loss_d", "loss_g")
    progress_keys = ("loss_d", "loss_g", "D(x)", "D(G(z))")
    program = None                 # the program's file name (default mnist_<name>.py)
    description = None             # its --help line (default: "Train <NAME> on MNIST ...")
    dataset_name = "MNIST"         # what the loss plot's title says it was trained on
    mnist_quality_report = True    # end training with minigan.metrics' MNIST scores

    def __init__(self, config):
        self.config = dict(config)
        self.z_dim = int(self.config.get("z_dim", self.z_dim))
        self.networks = {}
        self.optimizers = {}
        self.build(self.config)

    # --- what a subclass defines -------------------------------------------
    @classmethod
    def add_arguments(cls, parser):
        """Add model-specific command-line options (e.g. --loss for the plain GAN)."""

    def build(self, config):
        raise NotImplementedError(f"{type(self).__name__} must define build(config)")

    def train_step(self, real, labels, step):
        raise NotImplementedError(f"{type(self).__name__} must define train_step")

    def generate(self, z, labels=None):
        raise NotImplementedError(f"{type(self).__name__} must define generate")

    def walk_inputs(self, noise, rows):
        """Generator inputs for a latent walk: `noise` (n, z_dim) NumPy, slerped along
        each row; `rows` (n,) the row of each image. Conditional models draw one digit
        per row. Models whose latent holds more than noise (InfoGAN) extend it here."""
        z = mg.tensor(noise.astype(np.float32))
        if not self.conditional:
            return z, None
        return z, mg.tensor((rows % self.num_classes).astype(np.int64))

    def epoch_figures(self, out_dir, epoch):
        """Extra pictures a model draws at the end of each epoch (InfoGAN's code
        sweeps, LAPGAN's pyramid levels ...), written into out_dir. None by default."""

    def score(self, images, labels=None):
        """How real the discriminator finds each image (higher is more real), for --nice.
        Models without a discriminator return None."""
        return None

    def make_dataset(self):
        """The training set the shared loop draws batches from: MNIST's 60,000 digits
        (from --data, $MINIGAN_DATA, the cache or a download) unless a model says otherwise."""
        from minigan.data import MNIST
        data = self.config.get("data")
        # A folder given is where the files are: no download into somewhere else.
        return MNIST(root=data, train=True, download=data is None)

    # --- shared helpers ---------------------------------------------------------
    @contextlib.contextmanager
    def gradients_skipped(self, network):
        """Within it (if skip_discarded_grads), `network`'s parameters do not require
        grad, so a forward and backward through it computes no gradient for them and
        leaves their .grad as it was; gradients still flow through it to its inputs.
        Both the forward and the backward belong inside: minigan's backward asks each
        leaf's requires_grad when it runs. Each parameter's requires_grad is restored
        afterwards (a frozen layer stays frozen)."""
        params = list(network.parameters()) if self.skip_discarded_grads else []
        flags = [p.requires_grad for p in params]
        for p in params:
            p.requires_grad_(False)
        try:
            yield
        finally:
            for p, flag in zip(params, flags):
                p.requires_grad_(flag)

    def learning_rates_at(self, step):
        """A context the trainer runs training step `step` in: the optimizers' rates
        for that step (a learning-rate schedule), the set ones back on leaving. The
        rates as set by default; DCGAN and CGAN decay them with --lr-decay linear."""
        return contextlib.nullcontext()

    def sample_z(self, n):
        """n latent vectors z ~ N(0, 1) from the backend's seeded generator."""
        return mg.randn(n, self.z_dim)

    def fixed_inputs(self, n, seed):
        """The fixed (z, labels) drawn once and reused for every epoch's sample grid,
        so the grids show the same samples improving. Conditional models give one
        row per digit: labels 0..9 repeated down the rows."""
        rng = np.random.default_rng(seed)
        z = mg.tensor(rng.standard_normal((n, self.z_dim)).astype(np.float32))
        if not self.conditional:
            return z, None
        per_row = n // self.num_classes
        labels = np.repeat(np.arange(self.num_classes), per_row)
        return z, mg.tensor(labels.astype(np.int64))

    def grid_rows(self, n):
        """Images per row in the sample grid."""
        return n // self.num_classes if self.conditional else int(np.ceil(np.sqrt(n)))

    def train(self):
        for net in self.networks.values():
            net.train()

    def eval(self):
        for net in self.networks.values():
            net.eval()

    def state_dict(self):
        return {
            "networks": {k: net.state_dict() for k, net in self.networks.items()},
            "optimizers": {k: opt.state_dict() for k, opt in self.optimizers.items()},
        }

    def load_state_dict(self, state, weights_only=False):
        for k, net in self.networks.items():
            net.load_state_dict(state["networks"][k])
        if not weights_only:
            for k, opt in self.optimizers.items():
                opt.load_state_dict(state["optimizers"][k])

    def __repr__(self):
        body = "\n".join(f"  ({k}): " + repr(net).replace("\n", "\n  ")
                         for k, net in self.networks.items())
        return f"{type(self).__name__}(\n{body}\n)"


def init_dcgan_weights(module):
    """The DCGAN paper's initialisation: conv and linear weights ~ N(0, 0.02),
    BatchNorm gamma ~ N(1, 0.02) and beta = 0. Use as `net.apply(init_dcgan_weights)`."""
    from minigan import nn
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)
