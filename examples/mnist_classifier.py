"""A PyTorch user's MNIST classifier, on minigan: only the imports differ.

    python examples/mnist_classifier.py                    # 1 epoch, then the test accuracy
    python examples/mnist_classifier.py --epochs 3 --device cuda

The training code below is what one writes for PyTorch from memory; with
`import torch`, `from torch import nn, optim`, `from torch.optim.lr_scheduler
import StepLR` and torchvision's MNIST it runs there unchanged. The data come
from minigan.data: the images are float32 (B, 1, 28, 28) in [-1, 1], the labels
int64 (B,).
"""
import argparse
import sys

import minigan as mg
from minigan import nn, optim
from minigan.data import MNIST, DataLoader, Subset
from minigan.optim.lr_scheduler import StepLR


def parse_args(argv):
    p = argparse.ArgumentParser(description="Train a small CNN to classify MNIST digits.")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="auto: cuda when CuPy finds a GPU, else cpu")
    p.add_argument("--data", default=None, help="MNIST folder (default: $MINIGAN_DATA, the "
                                                "cache, or download)")
    p.add_argument("--max-steps", type=int, default=None, help="stop each epoch after N steps")
    p.add_argument("--test-size", type=int, default=None, help="test on the first N images")
    args = p.parse_args(argv)
    for name in ("epochs", "batch_size", "max_steps", "test_size"):
        value = getattr(args, name)
        if value is not None and value < 1:
            p.error(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.device == "cuda" and not mg.cuda.is_available():
        print("error: --device cuda needs CuPy and an NVIDIA GPU, and none was found; "
              "use --device cpu", file=sys.stderr)
        return 2
    device = "cuda" if args.device == "cuda" or (args.device == "auto"
                                                 and mg.cuda.is_available()) else "cpu"
    mg.manual_seed(args.seed)
    test_set = MNIST(args.data, train=False)
    if args.test_size is not None:
        test_set = Subset(test_set, range(min(args.test_size, len(test_set))))
    train_loader = DataLoader(MNIST(args.data, train=True), batch_size=args.batch_size,
                              shuffle=True, seed=args.seed)
    test_loader = DataLoader(test_set, batch_size=1000)

    # --- from here on, the same code as for PyTorch ---
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),     # (32, 14, 14)
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),    # (64, 7, 7)
        nn.Dropout2d(0.25), nn.Flatten(),
        nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Dropout(0.5), nn.Linear(128, 10),
    ).to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.AdamW(model.parameters(), lr=args.lr)
    scheduler = StepLR(optimizer, step_size=1, gamma=0.7)

    for epoch in range(1, args.epochs + 1):
        model.train()
        for step, (x, y) in enumerate(train_loader):
            x, y = x.to(device), y.to(device)
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            if step % 100 == 0:
                print(f"epoch {epoch} step {step}/{len(train_loader)} loss {loss.item():.4f}")
            if args.max_steps is not None and step + 1 >= args.max_steps:
                break
        scheduler.step()

        model.eval()
        correct = 0
        with mg.no_grad():
            for x, y in test_loader:
                x, y = x.to(device), y.to(device)
                correct += model(x).argmax(1).eq(y).sum().item()
        print(f"epoch {epoch}: test accuracy {correct / len(test_set):.4f} "
              f"({correct}/{len(test_set)}), lr now {scheduler.get_last_lr()[0]:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
