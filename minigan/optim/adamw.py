"""AdamW: Adam with decoupled weight decay (Loshchilov & Hutter; torch.optim.AdamW)."""
from .adam import Adam


class AdamW(Adam):
    """AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
    amsgrad=False, *, maximize=False)

    Adam's step, except that weight decay shrinks the parameter itself instead of
    being added to the gradient (where Adam's scaling by 1/sqrt(v) would weaken it
    for parameters with large gradients), in PyTorch's order:

        p = p * (1 - lr * weight_decay)         (before the update, from the old lr)
        then Adam's update of m, v and p with weight_decay = 0

    Note the default weight_decay = 0.01 (Adam's is 0), as in PyTorch.
    The state and state_dict are Adam's.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize)

    def _update(self, param, grad, state, group):
        if group["weight_decay"] != 0:
            param *= 1.0 - group["lr"] * group["weight_decay"]
        super()._update(param, grad, state, {**group, "weight_decay": 0})
