"""The DCGAN paper's experiments (Radford, Metz & Chintala 2015) on a trained MNIST DCGAN.

    python examples/mnist_dcgan.py --epochs 5                  # train first
    python examples/dcgan_paper.py features --labels 1000     # D as a feature extractor
    python examples/dcgan_paper.py arithmetic                  # vector arithmetic on z
    python examples/dcgan_paper.py filters                     # filters and guided backprop
    python examples/dcgan_paper.py forget                      # forgetting to draw holes
    python examples/dcgan_paper.py walk                        # latent walks
    python examples/dcgan_paper.py neighbours                  # nearest training images

Pictures go to runs/dcgan/paper/. `--help` after a subcommand lists its options;
the experiments are in minigan/analysis/.
"""
import sys

from minigan.analysis.cli import main

if __name__ == "__main__":
    sys.exit(main())
