"""DataLoader: a dataset's examples in batches, as Tensors, in a seeded order.

The dataset protocol
--------------------
A dataset the loader can read has a method `arrays()` returning
`(images, labels)`, two NumPy arrays with one row per example:

    images  uint8, (N, H, W) or (N, C, H, W), pixel values 0..255
    labels  integers, (N,)

(`minigan.data.MNIST`, `FashionMNIST` and `ImageFolder` are such datasets.)
The loader takes a whole batch at once by fancy-indexing these arrays with the
batch's indices, so no Python code runs per example; the only per-batch work
is one gather, one conversion to float32 in [-1, 1] and one move to the backend.

A dataset with a `transform` (torchvision's `transform=` argument, see
minigan.data.transforms) gets its batch as uint8 (B, H, W, C), the HWC layout
torchvision's transforms see, and the loader serves what the transform returns
(e.g. ToTensor's float (B, C, H, W) in [0, 1]); the transform runs once per
batch, vectorized. Without one, the fast path above serves [-1, 1] floats.

A dataset with a method `columns()` (`TensorDataset`) is served as it is: each
batch is a tuple of Tensors, one per column, gathered from the column arrays.

Shuffling
---------
With `shuffle=True`, the order of epoch e is `default_rng([seed, e]).permutation(N)`:
it depends on nothing but the seed and the epoch number. Each pass over the
loader uses the current epoch and then advances it by one, and
`set_epoch(e)` chooses the epoch of the next pass, so a run resumed at epoch e
(after `loader.set_epoch(e)`) sees exactly the batches an uninterrupted run sees.

Sharding (data-parallel training)
---------------------------------
`DataLoader(..., num_replicas=N, rank=r)` serves rank r's share of each global
batch of N * batch_size examples: global batch k is
`order[k*G : (k+1)*G]` (G = N * batch_size) of the same permutation a one-process
loader with batch size G draws, and rank r gets its r-th slice of batch_size
examples. The shards are disjoint and together are exactly what the one-process
loader serves, batch by batch. A last, partial global batch (drop_last=False)
is split as evenly as possible (np.array_split).
"""
import math
import numbers

import numpy as np


def images_to_float(images):
    """uint8 pixels 0..255 -> float32 in [-1, 1], as x / 127.5 - 1 (0 -> -1, 255 -> 1).

    [-1, 1] is the range of a generator's final tanh, so real and generated
    images are compared on the same scale. Works on any shape.
    """
    return images.astype(np.float32) / np.float32(127.5) - np.float32(1.0)


# torch.utils.data.DataLoader's options that this loader does not have, and why a
# script that passes them should hear about it rather than have them ignored.
UNSUPPORTED = {
    "sampler": "shuffle=True or a Subset gives the orders it serves",
    "batch_sampler": "batches are consecutive slices of the (shuffled) order",
    "num_workers": "batches are gathered in the main process, one vectorized indexing each",
    "collate_fn": "batches are gathered from the dataset's arrays, never collated from examples",
    "pin_memory": "arrays move to the backend directly",
    "timeout": "there are no worker processes to wait for",
    "worker_init_fn": "there are no worker processes",
    "multiprocessing_context": "there are no worker processes",
    "generator": "the order comes from seed= and the epoch",
    "prefetch_factor": "there are no worker processes",
    "persistent_workers": "there are no worker processes",
    "pin_memory_device": "arrays move to the backend directly",
}
_HARMLESS = {"num_workers": 0, "pin_memory": False, "timeout": 0, "persistent_workers": False,
             "sampler": None, "batch_sampler": None, "collate_fn": None, "worker_init_fn": None,
             "multiprocessing_context": None, "generator": None, "prefetch_factor": None,
             "pin_memory_device": ""}


class DataLoader:
    """Iterate over a dataset in batches of (images, labels) Tensors.

    DataLoader(dataset, batch_size=1, shuffle=False, drop_last=False, seed=0,
               num_replicas=1, rank=0)

    Each batch is `(images, labels)`: images float32 (B, C, H, W) in [-1, 1]
    (a channel axis C = 1 is added to (N, H, W) images), labels int64 (B,), both
    on the current backend; or, for a dataset with a transform, what the
    transform makes of the uint8 (B, H, W, C) batch; or, for a TensorDataset,
    one Tensor per column. The last batch is smaller when batch_size does not
    divide N, unless drop_last=True drops it. len(loader) is the number of batches.
    num_replicas, rank: serve only rank's shard of each global batch of
    num_replicas * batch_size examples (see "Sharding" above).

    torch's other options (num_workers, sampler, collate_fn, ...) are refused
    with one line naming the option, unless given their default value
    (num_workers=0, pin_memory=False, sampler=None ...), which means what it says.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, seed=0,
                 num_replicas=1, rank=0, **options):
        for name, value in options.items():
            if name not in UNSUPPORTED:
                raise TypeError(f"DataLoader: unexpected keyword argument {name!r}")
            if not _is_default(name, value):
                raise ValueError(f"DataLoader: {name}={value!r} is not supported ({UNSUPPORTED[name]})")
        _check_integer("batch_size", batch_size, minimum=1)
        _check_bool("shuffle", shuffle)
        _check_bool("drop_last", drop_last)
        _check_integer("seed", seed, minimum=0)
        _check_integer("num_replicas", num_replicas, minimum=1)
        _check_integer("rank", rank, minimum=0)
        if rank >= num_replicas:
            raise ValueError(f"DataLoader: expected rank in 0..{num_replicas - 1} for "
                             f"num_replicas={num_replicas}, got {rank}")
        self.dataset = dataset
        self.columns = None
        if callable(getattr(dataset, "columns", None)):
            self.columns = tuple(dataset.columns())
            self.images, self.labels = None, self.columns[0]
        else:
            self.images, self.labels = _dataset_arrays(dataset)
        self.transform = getattr(dataset, "transform", None)
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.seed = int(seed)
        self.num_replicas = int(num_replicas)
        self.rank = int(rank)
        self.epoch = 0

    def set_epoch(self, epoch):
        """Make the next pass over the loader epoch `epoch` (its shuffled order included)."""
        _check_integer("epoch", epoch, minimum=0)
        self.epoch = int(epoch)

    def order(self, epoch):
        """The example indices of epoch `epoch`, in the order they are served, (N,) int64."""
        n = len(self.labels)
        if not self.shuffle:
            return np.arange(n)
        return np.random.default_rng([self.seed, epoch]).permutation(n)

    @property
    def global_batch_size(self):
        """Examples per step over all replicas: batch_size * num_replicas."""
        return self.batch_size * self.num_replicas

    def __len__(self):
        n, size = len(self.labels), self.global_batch_size
        return n // size if self.drop_last else math.ceil(n / size)

    def batch_indices(self, order, k):
        """The indices of this rank's part of global batch k of `order`."""
        size = self.global_batch_size
        chunk = order[k * size:(k + 1) * size]
        if len(chunk) == size:
            return chunk[self.rank * self.batch_size:(self.rank + 1) * self.batch_size]
        return np.array_split(chunk, self.num_replicas)[self.rank]

    def __iter__(self):
        # The order is fixed here, when the pass starts, not lazily at the first batch.
        order = self.order(self.epoch)
        self.epoch += 1
        return self._batches(order)

    def _batches(self, order):
        import minigan

        for k in range(len(self)):
            indices = self.batch_indices(order, k)
            if self.columns is not None:
                yield tuple(minigan.tensor(column[indices]) for column in self.columns)
                continue
            labels = minigan.tensor(self.labels[indices].astype(np.int64))
            if self.transform is not None:
                images = self.transform(channels_last(self.images[indices]))
                yield (images if isinstance(images, minigan.Tensor) else minigan.tensor(images)), labels
                continue
            images = images_to_float(self.images[indices])
            if images.ndim == 3:
                images = images[:, None]
            yield minigan.tensor(images), labels

    def __repr__(self):
        return (
            f"DataLoader({type(self.dataset).__name__}, batch_size={self.batch_size}, "
            f"shuffle={self.shuffle}, drop_last={self.drop_last}, seed={self.seed}"
            + (f", num_replicas={self.num_replicas}, rank={self.rank})"
               if self.num_replicas > 1 else ")")
        )


def channels_last(images):
    """uint8 (N, H, W) or (N, C, H, W) -> (N, H, W, C): the HWC layout torchvision's
    transforms take (a view, no copy)."""
    return images[..., None] if images.ndim == 3 else np.moveaxis(images, 1, -1)


def _is_default(name, value):
    default = _HARMLESS[name]
    return type(value) is type(default) and value == default


def _dataset_arrays(dataset):
    """Fetch (images, labels) from a dataset following the protocol, checking them."""
    name = type(dataset).__name__
    if not callable(getattr(dataset, "arrays", None)):
        raise TypeError(
            f"DataLoader: expected a dataset with a method arrays() returning (images, labels) "
            f"(such as MNIST or ImageFolder) or a TensorDataset, got a {name} without one"
        )
    images, labels = dataset.arrays()
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim not in (3, 4):
        raise TypeError(
            f"DataLoader: expected {name}.arrays() images as a uint8 NumPy array of shape (N, H, W) "
            f"or (N, C, H, W), got {_describe(images)}"
        )
    if not isinstance(labels, np.ndarray) or labels.dtype.kind not in "iu" or labels.shape != images.shape[:1]:
        raise TypeError(
            f"DataLoader: expected {name}.arrays() labels as an integer NumPy array of shape "
            f"({len(images)},), got {_describe(labels)}"
        )
    return images, labels


def _describe(array):
    if isinstance(array, np.ndarray):
        return f"{array.dtype} array of shape {array.shape}"
    return type(array).__name__


def _check_integer(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"DataLoader: expected {name} to be an integer >= {minimum}, got {value!r}")


def _check_bool(name, value):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"DataLoader: expected {name} to be True or False, got {value!r}")
