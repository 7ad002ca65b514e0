"""`Dropout` and `Dropout2d`: zero elements (or whole channels) with probability p
while training (F.dropout, F.dropout2d)."""
from .. import functional as F
from .module import Module


class Dropout(Module):
    """Training: y = x * mask / (1 - p), mask ~ Bernoulli(1 - p) per element.
    Evaluation: y = x (the identity). The mask comes from the backend's seeded generator.
    `inplace` is accepted for PyTorch compatibility; the result is always a new tensor."""

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"Dropout: probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Dropout):
    """Training: zero each whole channel x[n, c] of an (N, C, H, W) input with
    probability p and scale the rest by 1 / (1 - p) (F.dropout2d); neighbouring pixels
    of a feature map are correlated, so dropping single pixels would barely regularise.
    Evaluation: the identity."""

    def forward(self, x):
        return F.dropout2d(x, self.p, self.training)
