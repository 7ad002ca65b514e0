"""optim.lr_scheduler: StepLR, MultiStepLR, ExponentialLR, LambdaLR, CosineAnnealingLR.

The rates after each step equal PyTorch's (when torch is installed) and the closed
forms worked out by hand; last_epoch, get_last_lr, 'initial_lr', step(epoch) and
state_dict/load_state_dict (also through mg.save / mg.load) behave as PyTorch's.
"""
import math

import pytest

import minigan as mg
from minigan import optim
from minigan.optim import lr_scheduler

SCHEDULES = {
    "StepLR": dict(step_size=3, gamma=0.5),
    "MultiStepLR": dict(milestones=[2, 5, 5], gamma=0.3),
    "ExponentialLR": dict(gamma=0.9),
    "CosineAnnealingLR": dict(T_max=4, eta_min=0.01),
    "LambdaLR": dict(lr_lambda=lambda epoch: 1.0 / (epoch + 1)),
}


def sgd(lr=0.1, groups=1):
    params = [{"params": [mg.zeros(2, requires_grad=True)], "lr": lr * (i + 1)}
              for i in range(groups)]
    return optim.SGD(params, lr=lr)


def rates(scheduler, steps):
    """get_last_lr() after each of `steps` (optimizer step, scheduler step) pairs."""
    out = []
    for _ in range(steps):
        scheduler.optimizer.step()
        scheduler.step()
        out.append(scheduler.get_last_lr())
    return out


def test_step_lr_multiplies_by_gamma_every_step_size_epochs():
    scheduler = lr_scheduler.StepLR(sgd(0.1), step_size=2, gamma=0.5)
    assert scheduler.last_epoch == 0 and scheduler.get_last_lr() == [0.1]
    assert [r[0] for r in rates(scheduler, 6)] == pytest.approx(
        [0.1, 0.05, 0.05, 0.025, 0.025, 0.0125])
    assert scheduler.last_epoch == 6


def test_multistep_lr_multiplies_at_each_milestone_counted_with_repeats():
    scheduler = lr_scheduler.MultiStepLR(sgd(1.0), milestones=[2, 4, 4], gamma=0.1)
    assert [r[0] for r in rates(scheduler, 5)] == pytest.approx([1.0, 0.1, 0.1, 0.001, 0.001])


def test_exponential_lr_is_base_times_gamma_to_the_epoch():
    scheduler = lr_scheduler.ExponentialLR(sgd(0.2), gamma=0.5)
    assert [r[0] for r in rates(scheduler, 3)] == pytest.approx([0.1, 0.05, 0.025])


def test_lambda_lr_scales_the_initial_rate_per_group():
    scheduler = lr_scheduler.LambdaLR(sgd(0.1, groups=2), [lambda e: 0.5 ** e, lambda e: e])
    assert scheduler.get_last_lr() == [0.1, 0.0]  # epoch 0: 0.1 * 1, 0.2 * 0
    assert rates(scheduler, 2) == [pytest.approx([0.05, 0.2]), pytest.approx([0.025, 0.4])]
    with pytest.raises(ValueError, match="Expected 2 lr_lambdas, but got 1"):
        lr_scheduler.LambdaLR(sgd(0.1, groups=2), [lambda e: 1.0])


def test_cosine_annealing_follows_the_closed_form_down_and_back_up():
    base, low, T = 0.1, 0.01, 4
    scheduler = lr_scheduler.CosineAnnealingLR(sgd(base), T_max=T, eta_min=low)
    expected = [low + (base - low) * (1 + math.cos(math.pi * t / T)) / 2 for t in range(1, 9)]
    assert [r[0] for r in rates(scheduler, 8)] == pytest.approx(expected, abs=1e-12)
    assert expected[T - 1] == pytest.approx(low)


def test_creating_a_scheduler_records_initial_lr_and_resuming_needs_it():
    opt = sgd(0.1)
    lr_scheduler.StepLR(opt, step_size=1)
    assert opt.param_groups[0]["initial_lr"] == 0.1
    with pytest.raises(KeyError, match="param 'initial_lr' is not specified in param_groups"):
        lr_scheduler.StepLR(sgd(0.1), step_size=1, last_epoch=3)


def test_step_with_an_epoch_jumps_there_with_the_closed_form_and_warns():
    scheduler = lr_scheduler.StepLR(sgd(1.0), step_size=2, gamma=0.1)
    with pytest.warns(UserWarning, match="epoch parameter in `scheduler.step\\(\\)`"):
        scheduler.step(5)
    assert scheduler.last_epoch == 5 and scheduler.get_last_lr() == pytest.approx([0.01])


def test_bad_settings_are_refused():
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        lr_scheduler.ExponentialLR([], gamma=0.5)
    with pytest.raises(ValueError, match="step_size must be a positive int, got 0"):
        lr_scheduler.StepLR(sgd(), step_size=0)
    with pytest.raises(ValueError, match="T_max must be a positive int, got 0"):
        lr_scheduler.CosineAnnealingLR(sgd(), T_max=0)


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_state_dict_resumes_the_schedule_through_mg_save(name, tmp_path):
    straight = getattr(lr_scheduler, name)(sgd(0.1, groups=2), **SCHEDULES[name])
    expected = rates(straight, 9)

    first = getattr(lr_scheduler, name)(sgd(0.1, groups=2), **SCHEDULES[name])
    head = rates(first, 4)
    mg.save({"opt": first.optimizer.state_dict(), "sched": first.state_dict()},
            tmp_path / "ckpt.npz")
    saved = mg.load(tmp_path / "ckpt.npz")
    opt = sgd(0.1, groups=2)
    resumed = getattr(lr_scheduler, name)(opt, **SCHEDULES[name])
    opt.load_state_dict(saved["opt"])
    resumed.load_state_dict(saved["sched"])
    assert resumed.last_epoch == 4
    assert head + rates(resumed, 5) == [pytest.approx(r) for r in expected]


def test_state_dict_has_pytorchs_keys():
    state = lr_scheduler.StepLR(sgd(), step_size=2).state_dict()
    assert {"base_lrs", "last_epoch", "_step_count", "_last_lr", "step_size",
            "gamma"} <= set(state)
    assert "optimizer" not in state
    assert lr_scheduler.LambdaLR(sgd(), lambda e: 1.0).state_dict()["lr_lambdas"] == [None]


def test_lambda_lr_state_keeps_a_callable_objects_attributes():
    class Warmup:
        def __init__(self):
            self.steps = 3

        def __call__(self, epoch):
            return min(1.0, (epoch + 1) / self.steps)

    scheduler = lr_scheduler.LambdaLR(sgd(), Warmup())
    scheduler.lr_lambdas[0].steps = 7
    state = scheduler.state_dict()
    assert state["lr_lambdas"] == [{"steps": 7}]
    other = lr_scheduler.LambdaLR(sgd(), Warmup())
    other.load_state_dict(state)
    assert other.lr_lambdas[0].steps == 7


@pytest.mark.torch
@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_rates_match_torch(torch, name):
    ours = getattr(lr_scheduler, name)(sgd(0.1, groups=2), **SCHEDULES[name])
    p = [torch.zeros(2, requires_grad=True) for _ in range(2)]
    t_opt = torch.optim.SGD([{"params": [p[0]], "lr": 0.1}, {"params": [p[1]], "lr": 0.2}],
                            lr=0.1)
    theirs = getattr(torch.optim.lr_scheduler, name)(t_opt, **SCHEDULES[name])
    assert ours.get_last_lr() == theirs.get_last_lr()
    for _ in range(13):
        ours.optimizer.step()
        t_opt.step()
        ours.step()
        theirs.step()
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-15, abs=1e-18)
        assert ours.last_epoch == theirs.last_epoch
    common = {"base_lrs", "last_epoch", "_step_count", "_last_lr"}
    mine, reference = ours.state_dict(), theirs.state_dict()
    for key in common:
        assert mine[key] == pytest.approx(reference[key])


@pytest.mark.torch
def test_two_schedulers_on_one_optimizer_compose_as_in_torch(torch):
    opt = sgd(1.0)
    a, b = lr_scheduler.ExponentialLR(opt, gamma=0.9), lr_scheduler.StepLR(opt, 2, gamma=0.5)
    p = torch.zeros(1, requires_grad=True)
    t_opt = torch.optim.SGD([p], lr=1.0)
    ta = torch.optim.lr_scheduler.ExponentialLR(t_opt, gamma=0.9)
    tb = torch.optim.lr_scheduler.StepLR(t_opt, 2, gamma=0.5)
    for _ in range(6):
        opt.step()
        t_opt.step()
        for s in (a, b, ta, tb):
            s.step()
        assert opt.param_groups[0]["lr"] == pytest.approx(t_opt.param_groups[0]["lr"])
