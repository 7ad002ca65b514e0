"""Write a synthetic image set (coloured shapes on striped backgrounds) to train the 64x64 DCGAN on.

    python examples/make_shapes.py data/shapes --n 2000 --seed 0
    python examples/dcgan_images.py --data data/shapes --image-size 64 --channels 3

The pictures are drawn by minigan/data/synthetic.py.
"""
import argparse
import sys

from minigan.data.synthetic import write_shapes


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="where to write <shape>/<index>.png")
    parser.add_argument("--n", type=int, default=2000, help="how many pictures")
    parser.add_argument("--size", type=int, default=64, help="their width and height in pixels")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.n < 1 or args.size < 8:
        parser.error(f"expected --n >= 1 and --size >= 8, got --n {args.n} --size {args.size}")
    paths = write_shapes(args.folder, n=args.n, size=args.size, seed=args.seed)
    print(f"wrote {len(paths)} pictures under {args.folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
