"""Optimizers, as in `torch.optim`: each moves the parameters along their gradients.

    opt = optim.Adam(model.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt.zero_grad(); loss.backward(); opt.step()

    optimizer  Optimizer: parameter groups, state, zero_grad, state_dict/load_state_dict
    sgd        SGD (momentum, dampening, Nesterov)
    adam       Adam (AMSGrad)
    adamw      AdamW (decoupled weight decay)
    rmsprop    RMSprop (momentum, centered)
    adagrad    Adagrad
    adadelta   Adadelta
    swa_utils  AveragedModel and the EMA update (get_ema_multi_avg_fn)
    lr_scheduler  StepLR, MultiStepLR, ExponentialLR, LambdaLR, CosineAnnealingLR
"""
from .optimizer import Optimizer
from .sgd import SGD
from .adam import Adam
from .adamw import AdamW
from .rmsprop import RMSprop
from .adagrad import Adagrad
from .adadelta import Adadelta
from . import lr_scheduler, swa_utils

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "lr_scheduler",
           "swa_utils"]
