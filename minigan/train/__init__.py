"""The one training loop every GAN in minigan shares, and what it drives.

    trainer.py     Trainer: epochs, sample grids, interrupts that save, resume
    guard.py       the divergence guard: NaN, infinities and explosions stop the run
    cli.py         main(ModelClass): the command line of every program in examples/
    config.py      on --resume: which options the checkpoint fixes and which may change
    checkpoint.py  save_checkpoint / load_checkpoint / restore: one atomic .npz per run
    steplog.py     StepLog: OUT/log.jsonl, one JSON line per step
    progress.py    ProgressBar: the line redrawn in place while an epoch runs
    sampling.py    samples from a trained generator, --nice ranking, latent walks
    quality.py     evaluate_model: the end-of-training scores (minigan.metrics on samples)

    from minigan.gan import DCGAN
    from minigan.train import main
    main(DCGAN)    # what examples/mnist_dcgan.py runs
"""
from .checkpoint import CheckpointWriteError, load_checkpoint, restore, save_checkpoint
from .cli import COMMON_DEFAULTS, build_parser, main
from .config import OptionError
from .progress import ProgressBar, format_duration, format_metric
from .quality import evaluate_model
from .sampling import generate_samples, latent_walk, nicest_samples, score_samples, slerp
from .steplog import StepLog, StepLogError, read_steplog
from .trainer import Trainer, TrainingDiverged, TrainingInterrupted
