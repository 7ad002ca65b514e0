"""Adam: momentum on the gradient, scaled by a running RMS of it (torch.optim.Adam)."""
from ..backend import get_array_module
from ..functional import _twins
from .optimizer import Optimizer, each_chunk, gradient_to_follow, lerp_


class Adam(Optimizer):
    """Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
    maximize=False)

    One step t = 1, 2, ... for each parameter p with gradient g (in PyTorch's order):

        g = -g                                  if maximize
        g = g + weight_decay * p                if weight_decay != 0 (L2, not AdamW)
        m = m + (1 - beta1) * (g - m)           (= beta1 m + (1 - beta1) g, as torch.lerp_)
        v = beta2 * v + (1 - beta2) * g * g
        v_max = max(v_max, v)                   if amsgrad; then v_max replaces v below
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    state: {'step': t, 'exp_avg': m, 'exp_avg_sq': v, 'max_exp_avg_sq': v_max (amsgrad)}.
    Made under mg.textbook(), it steps with the textbook update (minigan/textbook/adam.py).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, maximize=False):
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                        amsgrad=amsgrad, maximize=maximize)
        super().__init__(params, defaults)
        textbook = _twins.twin("adam_update")
        if textbook is not None:  # chosen once: this optimizer keeps it, switch or not
            self._update = textbook

    def _check_group(self, group):
        self._check_nonnegative(group, "lr", "eps", "weight_decay")
        betas = group["betas"]
        self._expect(len(betas) == 2, "betas", betas, "a pair (beta1, beta2)")
        for i, beta in enumerate(betas):
            self._expect(0.0 <= beta < 1.0, f"betas[{i}]", beta, f"0 <= betas[{i}] < 1")

    def _init_state(self, param, group):
        xp = get_array_module(param)
        state = {"step": 0, "exp_avg": xp.zeros_like(param), "exp_avg_sq": xp.zeros_like(param)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = xp.zeros_like(param)
        return state

    def _update(self, param, grad, state, group):
        xp = get_array_module(param)
        beta1, beta2 = group["betas"]
        state["step"] += 1
        bias_correction1 = 1.0 - beta1 ** state["step"]
        bias_correction2 = 1.0 - beta2 ** state["step"]
        step_size = group["lr"] / bias_correction1
        buffers = state["exp_avg"], state["exp_avg_sq"], state.get("max_exp_avg_sq")

        def step_chunk(p, g, exp_avg, exp_avg_sq, max_exp_avg_sq):  # one chunk of each
            g = gradient_to_follow(p, g, group["weight_decay"], group["maximize"])
            scratch = xp.empty_like(p)
            lerp_(exp_avg, g, 1.0 - beta1, scratch)
            exp_avg_sq *= beta2
            xp.multiply(g, g, out=scratch)
            scratch *= 1.0 - beta2
            exp_avg_sq += scratch
            if group["amsgrad"]:
                xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
                exp_avg_sq = max_exp_avg_sq

            denom = xp.sqrt(exp_avg_sq, out=scratch)
            denom /= bias_correction2 ** 0.5
            denom += group["eps"]
            update = xp.divide(exp_avg, denom, out=scratch)
            update *= step_size
            p -= update

        each_chunk(step_chunk, param, grad, *buffers)  # large parameters: on several threads
