"""Stochastic gradient descent, with momentum and Nesterov momentum (torch.optim.SGD)."""
from ..backend import get_array_module
from .optimizer import Optimizer, gradient_to_follow


class SGD(Optimizer):
    """SGD(params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
    maximize=False)

    One step, for each parameter p with gradient g (in PyTorch's order):

        g = -g                                     if maximize
        g = g + weight_decay * p                   if weight_decay != 0
        if momentum != 0:
            b = g                                  on the first step (a copy)
            b = momentum * b + (1 - dampening) * g on later steps
            g = g + momentum * b                   if nesterov, else g = b
        p = p - lr * g

    state: {'momentum_buffer': b} when momentum != 0, else nothing.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False):
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening,
                        weight_decay=weight_decay, nesterov=nesterov, maximize=maximize)
        super().__init__(params, defaults)

    def _check_group(self, group):
        self._check_nonnegative(group, "lr", "momentum", "weight_decay")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                "SGD: Nesterov momentum requires a momentum > 0 and zero dampening, got "
                f"momentum={group['momentum']!r}, dampening={group['dampening']!r}")

    def _update(self, param, grad, state, group):
        xp = get_array_module(param)
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        direction = gradient_to_follow(param, grad, group["weight_decay"], group["maximize"])
        owned = direction is not grad  # a new array, free to overwrite

        if momentum != 0:
            # BEGIN TASK 2.3
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = direction.copy()
            else:
                buf *= momentum
                buf += direction if dampening == 0 else (1.0 - dampening) * direction
            if group["nesterov"]:
                ahead = xp.multiply(buf, momentum)
                ahead += direction
                direction, owned = ahead, True
            else:
                direction, owned = buf, False
            # END TASK 2.3

        if owned:
            direction *= lr
            param -= direction
        else:
            param -= lr * direction
