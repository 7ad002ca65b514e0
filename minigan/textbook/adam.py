"""The Adam update as lesson 4 derives it (Kingma and Ba, 2015, Algorithm 1).

For one parameter p with gradient g, at step t = 1, 2, ...:

    m     = beta1 m + (1 - beta1) g          a running mean of g (momentum)
    v     = beta2 v + (1 - beta2) g^2        a running mean of g^2
    m_hat = m / (1 - beta1^t)                m and v start at 0; this undoes their
    v_hat = v / (1 - beta2^t)                pull towards 0 in the first steps
    p     = p - lr m_hat / (sqrt(v_hat) + eps)

optim.Adam keeps the parameter groups and the state (m, v, t), and under
mg.textbook() it calls `adam_update` below for every step instead of its own
fast, chunked update (minigan/optim/adam.py). This file is a plain function,
not an Optimizer subclass: the textbook layer comes before the optimizers.
"""
from ..backend import get_array_module

__all__ = ["adam_update"]


def adam_update(param, grad, state, group):
    """One Adam step for one parameter, in place, with torch.optim.Adam's options.

    param, grad: arrays of one shape; state: {'step': t, 'exp_avg': m, 'exp_avg_sq': v,
    'max_exp_avg_sq': v_max (amsgrad)}, updated in place; group: lr, betas, eps,
    weight_decay, amsgrad, maximize. In PyTorch's order:
        g = -g                     if maximize
        g = g + weight_decay p     if weight_decay != 0 (L2 on the loss, not AdamW)
        v_max = max(v_max, v)      if amsgrad, and v_max replaces v in the step
    """
    # BEGIN TASK 4.3
    xp = get_array_module(param)
    lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
    state["step"] += 1
    t = state["step"]
    g = -grad if group["maximize"] else grad
    if group["weight_decay"] != 0:
        g = g + group["weight_decay"] * param
    m, v = state["exp_avg"], state["exp_avg_sq"]
    m[...] = beta1 * m + (1 - beta1) * g
    v[...] = beta2 * v + (1 - beta2) * g * g
    if group["amsgrad"]:
        v_max = state["max_exp_avg_sq"]
        v_max[...] = xp.maximum(v_max, v)
        v = v_max
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    param -= lr * m_hat / (xp.sqrt(v_hat) + eps)
    # END TASK 4.3
