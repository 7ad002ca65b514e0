"""RMSprop: the gradient divided by a running RMS of it (torch.optim.RMSprop)."""
from ..backend import get_array_module
from .optimizer import Optimizer, gradient_to_follow, in_chunks, lerp_


class RMSprop(Optimizer):
    """RMSprop(params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
    centered=False, *, maximize=False)

    One step for each parameter p with gradient g (in PyTorch's order):

        g = -g                                  if maximize
        g = g + weight_decay * p                if weight_decay != 0
        v = alpha * v + (1 - alpha) * g * g
        if centered:                            (divide by the standard deviation instead)
            a = a + (1 - alpha) * (g - a)       (running mean of g, as torch.lerp_)
            avg = sqrt(v - a * a) + eps
        else:
            avg = sqrt(v) + eps
        if momentum > 0:
            b = momentum * b + g / avg
            p = p - lr * b
        else:
            p = p - lr * g / avg

    state: {'step', 'square_avg': v, 'momentum_buffer': b (momentum > 0),
            'grad_avg': a (centered)}.
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, *, maximize=False):
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                        momentum=momentum, centered=centered, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        self._check_nonnegative(group, "lr", "alpha", "eps", "weight_decay", "momentum")

    def _init_state(self, param, group):
        xp = get_array_module(param)
        state = {"step": 0, "square_avg": xp.zeros_like(param)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = xp.zeros_like(param)
        if group["centered"]:
            state["grad_avg"] = xp.zeros_like(param)
        return state

    def _update(self, param, grad, state, group):
        xp = get_array_module(param)
        alpha, momentum, centered = group["alpha"], group["momentum"], group["centered"]
        state["step"] += 1
        buffers = state["square_avg"], state.get("momentum_buffer"), state.get("grad_avg")

        for p, g, square_avg, buf, grad_avg in in_chunks(param, grad, *buffers):
            g = gradient_to_follow(p, g, group["weight_decay"], group["maximize"])
            scratch = xp.empty_like(p)
            square_avg *= alpha
            xp.multiply(g, g, out=scratch)
            scratch *= 1.0 - alpha
            square_avg += scratch

            if centered:
                lerp_(grad_avg, g, 1.0 - alpha, scratch)
                xp.multiply(grad_avg, grad_avg, out=scratch)
                xp.subtract(square_avg, scratch, out=scratch)
                avg = xp.sqrt(scratch, out=scratch)
            else:
                avg = xp.sqrt(square_avg, out=scratch)
            avg += group["eps"]

            scaled = xp.divide(g, avg, out=scratch)
            if momentum > 0:
                buf *= momentum
                buf += scaled
                scaled = xp.multiply(buf, group["lr"], out=scratch)
            else:
                scaled *= group["lr"]
            p -= scaled
