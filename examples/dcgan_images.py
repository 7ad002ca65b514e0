"""Train the DCGAN paper's 64x64 networks on a folder of images (CelebA, LSUN, your own).

    python examples/make_shapes.py data/shapes                      # or any folder of PNG/JPEG
    python examples/dcgan_images.py --data data/shapes --image-size 64 --channels 3
    python examples/dcgan_images.py --data data/shapes --generate 64 --nice

The folder is decoded once (resized, centre-cropped) and cached in
~/.cache/minigan/image_folders. Writes runs/dcgan64/: samples/epoch_NNN.png,
progress.gif, losses.png, log.jsonl, checkpoint.npz; --resume, --generate,
--nice and --interpolate work as for the MNIST programs. `--help` lists every
option. The model is in minigan/gan/dcgan64.py.
"""
import sys

from minigan.gan import DCGAN64
from minigan.train import main

if __name__ == "__main__":
    sys.exit(main(DCGAN64))
