"""Adadelta: steps in the units of the parameter, no learning rate to tune (torch.optim)."""
from ..backend import get_array_module
from .optimizer import Optimizer, gradient_to_follow, in_chunks


class Adadelta(Optimizer):
    """Adadelta(params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False)

    One step for each parameter p with gradient g (in PyTorch's order):

        g = -g                                    if maximize
        g = g + weight_decay * p                  if weight_decay != 0
        v = rho * v + (1 - rho) * g * g           (running mean of squared gradients)
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta   (running mean of squared steps)
        p = p - lr * delta

    state: {'step', 'square_avg': v, 'acc_delta': u}.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False):
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        self._check_nonnegative(group, "lr", "eps", "weight_decay")
        self._expect(0.0 <= group["rho"] <= 1.0, "rho", group["rho"], "0 <= rho <= 1")

    def _init_state(self, param, group):
        xp = get_array_module(param)
        return {"step": 0, "square_avg": xp.zeros_like(param), "acc_delta": xp.zeros_like(param)}

    def _update(self, param, grad, state, group):
        xp = get_array_module(param)
        rho, eps = group["rho"], group["eps"]
        state["step"] += 1

        for p, g, square_avg, acc_delta in in_chunks(param, grad, state["square_avg"],
                                                     state["acc_delta"]):
            g = gradient_to_follow(p, g, group["weight_decay"], group["maximize"])
            scratch = xp.multiply(g, g)
            square_avg *= rho
            scratch *= 1.0 - rho
            square_avg += scratch
            std = xp.add(square_avg, eps, out=scratch)
            xp.sqrt(std, out=std)
            delta = xp.add(acc_delta, eps)
            xp.sqrt(delta, out=delta)
            delta /= std
            delta *= g
            acc_delta *= rho
            xp.multiply(delta, delta, out=scratch)
            scratch *= 1.0 - rho
            acc_delta += scratch
            delta *= group["lr"]
            p -= delta
