"""Subset: part of a dataset, as torch.utils.data.Subset (for quick runs and tests)."""
import numpy as np


class Subset:
    """The examples of `dataset` at `indices` (an int array, a range or a list)."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)

    def arrays(self):
        images, labels = self.dataset.arrays()
        return images[self.indices], labels[self.indices]

    def __len__(self):
        return len(self.indices)

    def __repr__(self):
        return f"Subset({self.dataset!r}, {len(self)} examples)"

    @property
    def transform(self):
        """The dataset's transform, applied to the subset's batches too."""
        return getattr(self.dataset, "transform", None)
