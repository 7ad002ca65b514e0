"""`Embedding`: a table of learned vectors looked up by integer index
(the conditional GAN's label embedding)."""
from .. import functional as F
from ..tensor import Tensor
from . import init
from .linear import _empty_parameter
from .module import Module


class Embedding(Module):
    """y = weight[indices].

    indices: an integer Tensor of any shape (...) -> y: (..., embedding_dim)
    weight: (num_embeddings, embedding_dim), drawn from N(0, 1) as in PyTorch.
    The gradient reaches the weight through indexing (F.getitem): the rows that
    were looked up receive the upstream gradient, summed over repeats.
    """

    def __init__(self, num_embeddings, embedding_dim):
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.weight = _empty_parameter(num_embeddings, embedding_dim)
        self.reset_parameters()

    def reset_parameters(self):
        init.normal_(self.weight)

    def forward(self, indices):
        if not isinstance(indices, Tensor) or indices.dtype.kind not in "iu":
            got = indices.dtype if isinstance(indices, Tensor) else type(indices).__name__
            raise TypeError(f"Embedding: expected an integer Tensor of indices, got {got}")
        if indices.numel() and (int(indices.data.min()) < 0
                                or int(indices.data.max()) >= self.num_embeddings):
            # Checked here because CuPy would silently wrap an index that is out of range.
            raise IndexError(
                f"Embedding: indices must be in [0, {self.num_embeddings}), got values from "
                f"{int(indices.data.min())} to {int(indices.data.max())}")
        return F.getitem(self.weight, indices)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"
