"""Adagrad: each coordinate's step shrinks with its summed squared gradients (torch.optim)."""
from ..backend import get_array_module
from .optimizer import Optimizer, gradient_to_follow, in_chunks


class Adagrad(Optimizer):
    """Adagrad(params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
    eps=1e-10, *, maximize=False)

    One step t = 1, 2, ... for each parameter p with gradient g (in PyTorch's order):

        g = -g                                  if maximize
        g = g + weight_decay * p                if weight_decay != 0
        s = s + g * g                           (s starts at initial_accumulator_value)
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)

    state: {'step': t, 'sum': s}, made when the optimizer is (as in PyTorch).
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, *, maximize=False):
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps,
                        maximize=maximize)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p] = self._init_state(p.data, group)

    def _check_group(self, group):
        self._check_nonnegative(group, "lr", "lr_decay", "weight_decay",
                                "initial_accumulator_value", "eps")

    def _init_state(self, param, group):
        xp = get_array_module(param)
        return {"step": 0, "sum": xp.full_like(param, group["initial_accumulator_value"])}

    def _update(self, param, grad, state, group):
        xp = get_array_module(param)
        state["step"] += 1
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])

        for p, g, state_sum in in_chunks(param, grad, state["sum"]):
            g = gradient_to_follow(p, g, group["weight_decay"], group["maximize"])
            scratch = xp.multiply(g, g)
            state_sum += scratch
            std = xp.sqrt(state_sum, out=scratch)
            std += group["eps"]
            update = xp.divide(g, std, out=scratch)
            update *= clr
            p -= update
