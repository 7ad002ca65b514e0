"""TensorDataset: examples given as arrays with one row each, as torch.utils.data.TensorDataset."""
import operator

import numpy as np

import minigan as mg


class TensorDataset:
    """TensorDataset(*tensors): example i is (tensors[0][i], tensors[1][i], ...).

    Each argument is a Tensor or array whose first axis indexes the examples;
    all must have the same length. DataLoader serves batches as tuples of
    Tensors, one per argument, gathered in one indexing per argument (no
    conversion: dtypes stay as given, so float images stay as they are).
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        arrays = tuple(t.numpy() if isinstance(t, mg.Tensor) else np.asarray(t) for t in tensors)
        lengths = [a.shape[0] if a.ndim else None for a in arrays]
        if None in lengths or len(set(lengths)) != 1:
            shapes = ", ".join(str(a.shape) for a in arrays)
            raise ValueError(f"TensorDataset: expected tensors with the same first dimension, got shapes {shapes}")
        self.tensors = arrays

    def columns(self):
        """The arrays, one per argument, each (N, ...): what DataLoader gathers batches from."""
        return self.tensors

    def __len__(self):
        return len(self.tensors[0])

    def __getitem__(self, i):
        i = operator.index(i)
        return tuple(mg.tensor(a[i]) for a in self.tensors)

    def __repr__(self):
        shapes = ", ".join(str(a.shape) for a in self.tensors)
        return f"TensorDataset({shapes})"
