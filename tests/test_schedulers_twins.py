"""Learning-rate schedulers and gradient clipping, twinned with torch.

Each scheduler runs the same loop in both libraries (an optimizer step on a tiny parameter,
then a scheduler step); the lrs (and OneCycleLR's momentum) must agree at every step.
"""
import copy
import math
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import nn

SCHEDULERS = {
    "StepLR": lambda S, o: S.StepLR(o, step_size=3, gamma=0.5),
    "MultiStepLR": lambda S, o: S.MultiStepLR(o, milestones=[2, 5, 5, 9], gamma=0.3),
    "ExponentialLR": lambda S, o: S.ExponentialLR(o, gamma=0.9),
    "LambdaLR": lambda S, o: S.LambdaLR(o, lambda e: 0.95 ** e + 0.1 * (e % 3)),
    "LambdaLR per group": lambda S, o: S.LambdaLR(
        o, [lambda e: 1 / (1 + e), lambda e: 0.9 ** e]),
    "CosineAnnealingLR": lambda S, o: S.CosineAnnealingLR(o, T_max=5),
    "CosineAnnealingLR eta_min": lambda S, o: S.CosineAnnealingLR(o, 4, eta_min=0.01),
    "LinearLR": lambda S, o: S.LinearLR(o),
    "LinearLR down": lambda S, o: S.LinearLR(o, 1.0, 0.05, total_iters=7),
    "OneCycleLR": lambda S, o: S.OneCycleLR(o, max_lr=1.0, total_steps=25),
    "OneCycleLR linear three phase": lambda S, o: S.OneCycleLR(
        o, max_lr=[0.5, 2.0], epochs=5, steps_per_epoch=5, pct_start=0.25,
        anneal_strategy="linear", three_phase=True, div_factor=10.0),
    "OneCycleLR no momentum": lambda S, o: S.OneCycleLR(
        o, 0.3, total_steps=25, cycle_momentum=False, final_div_factor=100.0),
    "MultiplicativeLR": lambda S, o: S.MultiplicativeLR(o, lambda e: 0.9 + 0.01 * e),
    "ConstantLR": lambda S, o: S.ConstantLR(o),
    "ConstantLR 0.5 at 3": lambda S, o: S.ConstantLR(o, factor=0.5, total_iters=3),
    "PolynomialLR": lambda S, o: S.PolynomialLR(o),
    "PolynomialLR power 2": lambda S, o: S.PolynomialLR(o, total_iters=9, power=2.0),
    "SequentialLR constant poly": lambda S, o: S.SequentialLR(
        o, [S.ConstantLR(o, 0.1, 4), S.PolynomialLR(o, 12, 0.5),
            S.MultiStepLR(o, [2, 4])], [4, 14]),
    "SequentialLR": lambda S, o: S.SequentialLR(
        o, [S.LinearLR(o, 0.1, total_iters=4), S.ExponentialLR(o, 0.8)], [4]),
    "SequentialLR three": lambda S, o: S.SequentialLR(
        o, [S.ExponentialLR(o, 0.5), S.StepLR(o, 2, 0.1),
            S.CosineAnnealingLR(o, 6)], [3, 10]),
}
OPTIMIZERS = {
    "SGD": lambda lib, groups: lib.optim.SGD(groups, lr=0.1, momentum=0.9),
    "Adam": lambda lib, groups: lib.optim.Adam(groups, lr=0.01),
}


def groups(lib):
    "Two parameter groups with different lrs."
    w = lib.tensor([1.0, -2.0], dtype=lib.float64, requires_grad=True)
    b = lib.tensor([0.5], dtype=lib.float64, requires_grad=True)
    return [{"params": [w]}, {"params": [b], "lr": 0.05}]


def observe(optimizer, scheduler):
    "What a step leaves: last lrs, the groups' lrs, momenta, and last_epoch."
    momenta = [g["betas"][0] if "betas" in g else g.get("momentum")
               for g in optimizer.param_groups]
    return (list(scheduler.get_last_lr()), [g["lr"] for g in optimizer.param_groups],
            momenta, scheduler.last_epoch)


def advance(optimizer, scheduler, steps):
    "`steps` rounds of (gradient, optimizer step, scheduler step), observed after each."
    seen = []
    for _ in range(steps):
        for group in optimizer.param_groups:
            for p in group["params"]:
                p.grad = (p.detach() * 0 + 1)
        optimizer.step()
        scheduler.step()
        seen.append(observe(optimizer, scheduler))
    return seen


def run(lib, make_scheduler, make_optimizer, steps=24):
    optimizer = make_optimizer(lib, groups(lib))
    scheduler = make_scheduler(lib.optim.lr_scheduler, optimizer)
    return [observe(optimizer, scheduler)] + advance(optimizer, scheduler, steps), \
        optimizer, scheduler


def assert_same(ours, theirs):
    assert len(ours) == len(theirs)
    for step, (a, b) in enumerate(zip(ours, theirs)):
        for x, y in zip(a[:3], b[:3]):
            np.testing.assert_allclose(np.array(x, float), np.array(y, float),
                                       rtol=1e-12, atol=1e-15, err_msg=f"step {step}")
        assert a[3] == b[3], f"last_epoch at step {step}"


@pytest.mark.parametrize("optimizer_name", OPTIMIZERS)
@pytest.mark.parametrize("name", SCHEDULERS)
def test_schedule_equals_torch(name, optimizer_name):
    ours, opt, sched = run(nn, SCHEDULERS[name], OPTIMIZERS[optimizer_name])
    theirs, t_opt, t_sched = run(torch, SCHEDULERS[name], OPTIMIZERS[optimizer_name])
    assert_same(ours, theirs)
    assert hasattr(sched, "base_lrs") == hasattr(t_sched, "base_lrs")
    assert getattr(sched, "base_lrs", []) == pytest.approx(
        getattr(t_sched, "base_lrs", []), rel=1e-15)
    assert ([g["initial_lr"] for g in opt.param_groups]
            == pytest.approx([g["initial_lr"] for g in t_opt.param_groups], rel=1e-15))


@pytest.mark.parametrize("name", [n for n in SCHEDULERS if "Lambda" not in n])
def test_state_dict_resumes(name):
    "Save at step 10, rebuild optimizer and scheduler, load both: steps 11.. are equal."
    make = SCHEDULERS[name]
    _, optimizer, scheduler = run(nn, make, OPTIMIZERS["SGD"], steps=10)
    saved = copy.deepcopy((optimizer.state_dict(), scheduler.state_dict()))
    expected = advance(optimizer, scheduler, 10)
    fresh = OPTIMIZERS["SGD"](nn, groups(nn))
    resumed = make(nn.optim.lr_scheduler, fresh)
    fresh.load_state_dict(saved[0])
    resumed.load_state_dict(saved[1])
    assert_same(advance(fresh, resumed, 10), expected)
    _, t_opt, t_sched = run(torch, make, OPTIMIZERS["SGD"], steps=20)
    assert resumed.last_epoch == t_sched.last_epoch
    assert resumed.get_last_lr() == pytest.approx(t_sched.get_last_lr(), rel=1e-12)


def test_lambda_state_dict_saves_callable_objects_only():
    class Decay:
        def __init__(self):
            self.rate = 0.5

        def __call__(self, epoch):
            return self.rate ** epoch

    for lib in (nn, torch):
        optimizer = OPTIMIZERS["SGD"](lib, groups(lib))
        scheduler = lib.optim.lr_scheduler.LambdaLR(optimizer, [Decay(), lambda e: 1.0])
        state = scheduler.state_dict()
        assert state["lr_lambdas"] == [{"rate": 0.5}, None]
        state["lr_lambdas"][0]["rate"] = 0.25
        scheduler.load_state_dict(state)
        assert scheduler.lr_lambdas[0].rate == 0.25


PLATEAU = {
    "min rel": dict(factor=0.5, patience=2),
    "min abs cooldown": dict(threshold=0.05, threshold_mode="abs", cooldown=2, patience=1),
    "max rel": dict(mode="max", patience=0, factor=0.2, min_lr=[0.001, 0.02]),
    "max abs eps": dict(mode="max", threshold_mode="abs", threshold=0.0, patience=1,
                        eps=0.01, min_lr=0.0),
}
LOSSES = [1.0, 0.9, 0.89995, 0.9, 0.95, 0.85, 0.85, 0.84, 0.86, 0.8, 0.8, 0.8, 0.8,
          0.81, 0.79, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8, 0.8]


def plateau(lib, options):
    optimizer = OPTIMIZERS["SGD"](lib, groups(lib))
    scheduler = lib.optim.lr_scheduler.ReduceLROnPlateau(optimizer, **options)
    seen = []
    for loss in LOSSES:
        scheduler.step(lib.tensor(loss) if loss > 0.85 else loss)
        seen.append((list(scheduler.get_last_lr()), scheduler.num_bad_epochs,
                     scheduler.cooldown_counter, scheduler.best, scheduler.last_epoch))
    return seen, scheduler


@pytest.mark.parametrize("name", PLATEAU)
def test_reduce_lr_on_plateau(name):
    ours, scheduler = plateau(nn, PLATEAU[name])
    theirs, _ = plateau(torch, PLATEAU[name])
    for a, b in zip(ours, theirs):
        assert a[0] == pytest.approx(b[0], rel=1e-15) and a[1:] == b[1:]
    state = copy.deepcopy(scheduler.state_dict())
    optimizer = OPTIMIZERS["SGD"](nn, groups(nn))
    fresh = nn.optim.lr_scheduler.ReduceLROnPlateau(optimizer)
    fresh.load_state_dict(state)
    assert (fresh.mode, fresh.best, fresh.patience) == (
        scheduler.mode, scheduler.best, scheduler.patience)


BAD = {
    "not an optimizer": (TypeError, lambda S, o: S.StepLR(object(), 3)),
    "LinearLR start 0": (ValueError, lambda S, o: S.LinearLR(o, start_factor=0.0)),
    "LinearLR end 2": (ValueError, lambda S, o: S.LinearLR(o, end_factor=2.0)),
    "OneCycleLR no steps": (ValueError, lambda S, o: S.OneCycleLR(o, 1.0)),
    "OneCycleLR total 0": (ValueError, lambda S, o: S.OneCycleLR(o, 1.0, 0)),
    "OneCycleLR pct": (ValueError, lambda S, o: S.OneCycleLR(o, 1.0, 9, pct_start=1)),
    "OneCycleLR strategy": (ValueError,
                            lambda S, o: S.OneCycleLR(o, 1.0, 9, anneal_strategy="x")),
    "OneCycleLR max_lr list": (ValueError, lambda S, o: S.OneCycleLR(o, [1.0], 9)),
    "plateau factor": (ValueError, lambda S, o: S.ReduceLROnPlateau(o, factor=1.0)),
    "plateau mode": (ValueError, lambda S, o: S.ReduceLROnPlateau(o, mode="up")),
    "plateau min_lr": (ValueError, lambda S, o: S.ReduceLROnPlateau(o, min_lr=[0.1])),
    "LambdaLR count": (ValueError, lambda S, o: S.LambdaLR(o, [lambda e: 1.0])),
    "LambdaLR not callable": (TypeError, lambda S, o: S.LambdaLR(o, 0.5)),
    "MultiplicativeLR count": (ValueError,
                               lambda S, o: S.MultiplicativeLR(o, [lambda e: 1.0])),
    "ConstantLR factor": (ValueError, lambda S, o: S.ConstantLR(o, factor=1.5)),
    "SequentialLR none": (ValueError, lambda S, o: S.SequentialLR(o, [], [])),
    "SequentialLR milestones": (ValueError, lambda S, o: S.SequentialLR(
        o, [S.StepLR(o, 2), S.StepLR(o, 3)], [])),
    "resume without initial_lr": (KeyError, lambda S, o: S.StepLR(o, 2, last_epoch=3)),
}


@pytest.mark.parametrize("name", BAD)
def test_bad_arguments(name):
    error, make = BAD[name]
    for lib in (torch, nn):
        optimizer = OPTIMIZERS["SGD"](lib, groups(lib))
        with pytest.raises(error):
            make(lib.optim.lr_scheduler, optimizer)


def test_one_cycle_too_many_steps_and_no_momentum():
    for lib in (torch, nn):
        optimizer = OPTIMIZERS["SGD"](lib, groups(lib))
        scheduler = lib.optim.lr_scheduler.OneCycleLR(optimizer, 1.0, total_steps=3)
        advance(optimizer, scheduler, 3)
        with pytest.raises(ValueError):
            scheduler.step()
        plain = lib.optim.Adagrad if lib is torch else None
        if plain is not None:
            with pytest.raises(ValueError):
                lib.optim.lr_scheduler.OneCycleLR(plain(groups(lib)), 1.0, 5)


def test_import_forms(tmp_path):
    "torch's spellings work under the shim: torch.optim.lr_scheduler, torch.nn.utils."
    assert nn.optim.lr_scheduler.StepLR is nn.lr_scheduler.StepLR
    assert nn.utils.clip_grad_norm_ is nn.utils.clip_grad.clip_grad_norm_
    program = tmp_path / "program.py"
    program.write_text(
        "import torch\n"
        "from torch.optim.lr_scheduler import StepLR\n"
        "from torch.nn.utils import clip_grad_norm_\n"
        "import torch.optim.lr_scheduler as S\n"
        "w = torch.tensor([3.0, 4.0], requires_grad=True)\n"
        "w.grad = w.detach() * 1\n"
        "o = torch.optim.SGD([w], lr=1.0)\n"
        "print(S.StepLR is StepLR, StepLR(o, 1).get_last_lr(),\n"
        "      clip_grad_norm_(w, 1.0).item(), torch.nn.utils.clip_grad_value_)\n")
    shim = Path(__file__).parent / "programs" / "torch_shim.py"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parent.parent))
    done = subprocess.run([sys.executable, str(shim), str(program)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("True [1.0] 5.0 <function clip_grad_value_")


# ---- gradient clipping and parameter vectors ----

def grads_case(lib, dtype, scale):
    rng = np.random.default_rng(0)
    params = []
    for shape in [(3, 4), (5,), ()]:
        p = lib.tensor(rng.standard_normal(shape), dtype=getattr(lib, dtype),
                       requires_grad=True)
        p.grad = lib.tensor(scale * rng.standard_normal(shape), dtype=getattr(lib, dtype))
        params.append(p)
    no_grad = lib.tensor([1.0], requires_grad=True)  # has no grad: skipped
    return params + [no_grad]


def utils_of(lib):
    return torch.nn.utils if lib is torch else nn.utils


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf, "inf", 0.5])
@pytest.mark.parametrize("max_norm,scale", [(1.0, 10.0), (100.0, 1.0), (0.5, 1e-3)])
def test_clip_grad_norm(dtype, norm_type, max_norm, scale):
    results = {}
    for lib in (torch, nn):
        params = grads_case(lib, dtype, scale)
        total = utils_of(lib).clip_grad_norm_(params, max_norm, norm_type=norm_type)
        results[lib] = (total, [p.grad for p in params[:-1]], params[-1].grad)
    (t_total, t_grads, t_none), (n_total, n_grads, n_none) = results[torch], results[nn]
    assert n_none is None and t_none is None
    rtol = 1e-5 if dtype == "float32" else 1e-12
    assert isinstance(n_total, nn.Tensor) and n_total.shape == ()
    assert str(n_total.dtype).split(".")[-1] == str(t_total.dtype).split(".")[-1]
    np.testing.assert_allclose(n_total.numpy(), t_total.numpy(), rtol=rtol)
    for a, b in zip(n_grads, t_grads):
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=rtol, atol=1e-30)


def test_clip_grad_norm_single_tensor_and_no_grads():
    for lib in (torch, nn):
        p = lib.tensor([3.0, 4.0], requires_grad=True)
        p.grad = lib.tensor([3.0, 4.0])
        total = utils_of(lib).clip_grad_norm_(p, 1.0)
        assert total.item() == 5.0
        np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.8], rtol=1e-6)
        empty = utils_of(lib).clip_grad_norm_([lib.tensor([1.0], requires_grad=True)], 1)
        assert empty.item() == 0.0 and str(empty.dtype).endswith("float32")


@pytest.mark.parametrize("bad", [math.inf, math.nan])
def test_clip_grad_norm_nonfinite(bad):
    for lib in (torch, nn):
        p = lib.tensor([1.0, 2.0], requires_grad=True)
        p.grad = lib.tensor([bad, 1.0])
        with pytest.raises(RuntimeError, match="non-finite"):
            utils_of(lib).clip_grad_norm_([p], 1.0, error_if_nonfinite=True)
        assert p.grad[1].item() == 1.0  # nothing clipped
    ours = nn.tensor([1.0, 2.0], requires_grad=True)
    theirs = torch.tensor([1.0, 2.0], requires_grad=True)
    ours.grad, theirs.grad = nn.tensor([bad, 1.0]), torch.tensor([bad, 1.0])
    n = nn.utils.clip_grad_norm_([ours], 1.0)
    t = torch.nn.utils.clip_grad_norm_([theirs], 1.0)
    np.testing.assert_array_equal(n.numpy(), t.numpy())
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


@pytest.mark.parametrize("clip_value", [0.5, 2, 100.0])
def test_clip_grad_value(clip_value):
    found = []
    for lib in (torch, nn):
        params = grads_case(lib, "float32", 3.0)
        assert utils_of(lib).clip_grad_value_(params, clip_value) is None
        found.append([p.grad.numpy() for p in params[:-1]])
    for a, b in zip(*found):
        np.testing.assert_array_equal(a, b)


def test_parameters_to_vector_and_back():
    found = []
    for lib in (torch, nn):
        params = grads_case(lib, "float64", 1.0)[:-1]
        vec = utils_of(lib).parameters_to_vector(params)
        (vec ** 2).sum().backward()
        new = lib.arange(vec.numel(), dtype=lib.float64)
        utils_of(lib).vector_to_parameters(new, params)
        found.append((vec.detach().numpy(), [p.grad.numpy() for p in params],
                      [p.detach().numpy() for p in params], params[0].requires_grad))
        with pytest.raises(TypeError):
            utils_of(lib).vector_to_parameters([1.0], params)
    (a_vec, a_grads, a_vals, a_rg), (b_vec, b_grads, b_vals, b_rg) = found
    np.testing.assert_allclose(a_vec, b_vec)
    for x, y in zip(a_grads + a_vals, b_grads + b_vals):
        np.testing.assert_allclose(x, y)
    assert a_rg == b_rg


def test_stepping_the_scheduler_first_warns():
    for lib in (torch, nn):
        optimizer = OPTIMIZERS["SGD"](lib, groups(lib))
        scheduler = lib.optim.lr_scheduler.StepLR(optimizer, 2)
        with pytest.warns(UserWarning, match="before `optimizer.step"):
            scheduler.step()
        optimizer = OPTIMIZERS["SGD"](lib, groups(lib))
        scheduler = lib.optim.lr_scheduler.ExponentialLR(optimizer, 0.5)
        optimizer.step()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            scheduler.step()
            lib.optim.lr_scheduler.StepLR(optimizer, 3)  # wraps step only once
        assert optimizer.step._wrapped_by_lr_sched
