"""Optimizers (chapter "Optimizers") against torch.optim: every step, parameter groups, zero_grad, state_dict, errors.

Each optimizer runs from the same initial weights in both libraries, with gradients from the same
small random quadratic loss computed by each library, and the weights must agree after every step.
"""
import copy

import numpy as np
import pytest
import torch

import nn
from twin import same, twin_raises

rng = np.random.default_rng(0)
A, Y = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
W0, B0, UNUSED = rng.standard_normal((3, 2)), rng.standard_normal(2), rng.standard_normal(4)
OUR_KEYS = {"lr", "momentum", "dampening", "weight_decay", "nesterov", "maximize", "betas", "eps", "amsgrad",
            "decoupled_weight_decay"}


def quadratic(lib, W, b, dtype=np.float64):
    "The least-squares loss ||A W + b - Y||², a quadratic in W and b."
    return ((lib.tensor(A.astype(dtype)) @ W + b - lib.tensor(Y.astype(dtype))) ** 2).sum()


def trajectory(lib, make_optimizer, dtype=np.float64, steps=10):
    "The weights [W, b, unused] after each step of `make_optimizer(lib, params)` on the quadratic loss."
    params = [lib.tensor(w.astype(dtype), requires_grad=True) for w in (W0, B0, UNUSED)]
    optimizer = make_optimizer(lib, params)
    history = []
    for _ in range(steps):
        optimizer.zero_grad()
        quadratic(lib, *params[:2], dtype=dtype).backward()
        optimizer.step()
        history.append([p.detach().numpy().copy() for p in params])
    return history, optimizer, params


def assert_same_steps(make_optimizer, dtype=np.float64, steps=10):
    rtol = 1e-10 if dtype == np.float64 else 1e-5
    (ours, _, _), (theirs, _, _) = (trajectory(lib, make_optimizer, dtype, steps) for lib in (nn, torch))
    for step, (mine, reference) in enumerate(zip(ours, theirs), 1):
        for w, w_torch in zip(mine, reference):
            assert w.dtype == w_torch.dtype == dtype
            np.testing.assert_allclose(w, w_torch, rtol=rtol, atol=rtol / 10, err_msg=f"step {step}")
    assert not np.allclose(ours[-1][0], W0), "the weights moved"
    np.testing.assert_array_equal(ours[-1][2], UNUSED.astype(dtype))  # no gradient, no step


CONFIGURATIONS = [
    ("SGD", dict(lr=0.02)),
    ("SGD", dict(lr=0.02, momentum=0.9)),
    ("SGD", dict(lr=0.02, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.02, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.02, weight_decay=0.1)),
    ("SGD", dict(lr=0.02, momentum=0.7, weight_decay=0.1, nesterov=True)),
    ("SGD", dict(lr=0.001, momentum=0.5, maximize=True)),
    ("SGD", dict()),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.05, betas=(0.8, 0.99), eps=1e-6)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.01, maximize=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict()),
    ("AdamW", dict(lr=0.05, weight_decay=0.3, amsgrad=True, maximize=True)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("name, options", CONFIGURATIONS, ids=lambda c: repr(c))
def test_every_step_matches_torch(name, options, dtype):
    assert_same_steps(lambda lib, params: getattr(lib.optim, name)(params, **options), dtype)


@pytest.mark.parametrize("name, options", CONFIGURATIONS, ids=lambda c: repr(c))
def test_state_has_torchs_keys_dtypes_and_values(name, options):
    def state(lib):
        _, optimizer, params = trajectory(lib, lambda lib, p: getattr(lib.optim, name)(p, **options), np.float32, 3)
        return {i: {key: value.detach().numpy() for key, value in optimizer.state[p].items()}
                for i, p in enumerate(params) if p in optimizer.state}
    ours, theirs = state(nn), state(torch)
    assert {i: sorted(s) for i, s in ours.items()} == {i: sorted(s) for i, s in theirs.items()}
    for i in theirs:
        for key in theirs[i]:
            assert ours[i][key].dtype == theirs[i][key].dtype == np.float32, key
            np.testing.assert_allclose(ours[i][key], theirs[i][key], rtol=1e-5, atol=1e-6, err_msg=key)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW"])
def test_default_hyperparameters_are_torchs(name):
    def defaults(lib):
        optimizer = getattr(lib.optim, name)([lib.tensor([1.0], requires_grad=True)])
        return sorted((k, v) for k, v in optimizer.param_groups[0].items() if k in OUR_KEYS)
    same(defaults)


def test_closure_is_evaluated_with_grad_and_its_loss_returned():
    def with_closure(lib):
        W, b = (lib.tensor(w, requires_grad=True) for w in (W0, B0))
        optimizer = lib.optim.Adam([W, b], lr=0.1)

        def closure():
            optimizer.zero_grad()
            loss = quadratic(lib, W, b)
            loss.backward()
            return loss
        with lib.no_grad():
            losses = [optimizer.step(closure).item() for _ in range(3)]
        return np.round(losses, 8).tolist(), lib.is_grad_enabled()
    same(with_closure)


# --- parameter groups ------------------------------------------------------------------------------
def test_parameter_groups_have_their_own_hyperparameters():
    def grouped(lib, params):
        W, b, unused = params
        return lib.optim.SGD([{"params": [W], "lr": 0.05, "momentum": 0.5}, {"params": [b, unused]}],
                             lr=0.01, nesterov=False)
    assert_same_steps(grouped)

    def groups(lib):
        _, optimizer, _ = trajectory(lib, grouped, steps=1)
        return [sorted((k, v) for k, v in g.items() if k in OUR_KEYS) for g in optimizer.param_groups]
    same(groups)


def test_changing_a_groups_lr_between_steps():
    def schedule(lib):
        W, b = (lib.tensor(w, requires_grad=True) for w in (W0, B0))
        optimizer = lib.optim.Adam([{"params": W}, {"params": b, "lr": 0.1}], lr=0.01)
        for step in range(6):
            for group in optimizer.param_groups:
                group["lr"] *= 0.5
            optimizer.zero_grad()
            quadratic(lib, W, b).backward()
            optimizer.step()
        return np.concatenate([W.detach().numpy().ravel(), b.detach().numpy()])
    np.testing.assert_allclose(schedule(nn), schedule(torch), rtol=1e-10)


def test_a_generator_of_parameters_is_accepted():
    def from_generator(lib, params):
        return lib.optim.SGD((p for p in params), lr=0.02, momentum=0.9)
    assert_same_steps(from_generator)


def test_add_param_group():
    def added(lib, params):
        W, b, unused = params
        optimizer = lib.optim.Adam([W], lr=0.05)
        optimizer.add_param_group({"params": [b], "amsgrad": True})
        return optimizer
    assert_same_steps(added)


# --- zero_grad ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("set_to_none", [True, False])
def test_zero_grad(set_to_none):
    def zeroed(lib):
        w = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        never = lib.tensor([3.0], dtype=lib.float64, requires_grad=True)
        optimizer = lib.optim.SGD([w, never], lr=0.1, momentum=0.9)
        (w * w).sum().backward()
        optimizer.step()
        grad = w.grad
        optimizer.zero_grad(set_to_none=set_to_none)
        result = [w.grad is grad, None if w.grad is None else w.grad.tolist(), never.grad]
        optimizer.step()  # skipped after set_to_none=True; a zero gradient still moves w through momentum
        return result + [np.round(w.detach().numpy(), 10).tolist()]
    same(zeroed)


def test_zero_grad_default_sets_to_none(lib):
    w = lib.tensor([1.0], requires_grad=True)
    optimizer = lib.optim.Adam([w])
    (w * 2).sum().backward()
    optimizer.zero_grad()
    assert w.grad is None


# --- state_dict ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, options", [("SGD", dict(lr=0.02, momentum=0.9, nesterov=True)),
                                           ("SGD", dict(lr=0.02)),
                                           ("Adam", dict(lr=0.05, amsgrad=True)),
                                           ("AdamW", dict(lr=0.05, weight_decay=0.1))])
def test_state_dict_round_trip_resumes_exactly(name, options):
    def resumed(lib, interrupt):
        W, b = (lib.tensor(w, requires_grad=True) for w in (W0, B0))
        optimizer = getattr(lib.optim, name)([{"params": [W]}, {"params": [b], "lr": 0.01}], **options)
        for step in range(10):
            if interrupt and step == 5:
                saved = copy.deepcopy(optimizer.state_dict())
                W, b = (lib.tensor(p.detach().numpy().copy(), requires_grad=True) for p in (W, b))
                optimizer = getattr(lib.optim, name)([{"params": [W]}, {"params": [b]}], lr=1.0)
                optimizer.load_state_dict(saved)
            optimizer.zero_grad()
            quadratic(lib, W, b).backward()
            optimizer.step()
        return np.concatenate([W.detach().numpy().ravel(), b.detach().numpy()])
    straight = resumed(nn, interrupt=False)
    np.testing.assert_array_equal(resumed(nn, interrupt=True), straight)
    np.testing.assert_allclose(straight, resumed(torch, interrupt=True), rtol=1e-10)


@pytest.mark.parametrize("name", ["SGD", "Adam"])
def test_state_dict_has_torchs_layout(name):
    def layout(lib):
        w, b, c = (lib.tensor([1.0, 2.0], requires_grad=True) for _ in range(3))
        optimizer = getattr(lib.optim, name)([{"params": [w, b]}, {"params": [c], "lr": 0.5}], momentum=0.9) \
            if name == "SGD" else lib.optim.Adam([{"params": [w, b]}, {"params": [c], "lr": 0.5}])
        (w.sum() + 3 * c.sum()).backward()  # b gets no gradient: no state
        optimizer.step()
        saved = optimizer.state_dict()
        return (sorted(saved), {i: sorted(s) for i, s in saved["state"].items()},
                [g["params"] for g in saved["param_groups"]],
                [sorted((k, v) for k, v in g.items() if k in OUR_KEYS) for g in saved["param_groups"]])
    same(layout)


def test_load_state_dict_casts_to_the_parameters_dtype_except_step(lib):
    w = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
    optimizer = lib.optim.Adam([w])
    w.grad = lib.tensor([0.5, -0.5], dtype=lib.float64)
    optimizer.step()
    w32 = lib.tensor([1.0, 2.0], requires_grad=True)
    loaded = lib.optim.Adam([w32])
    loaded.load_state_dict(optimizer.state_dict())
    dtypes = {key: str(value.dtype).removeprefix("torch.").removeprefix("nn.") for key, value in loaded.state[w32].items()}
    assert dtypes == {"step": "float32", "exp_avg": "float32", "exp_avg_sq": "float32"}


def test_nn_load_state_dict_copies_the_state():
    # torch keeps using the loaded tensors (two optimizers can end up sharing buffers); nn copies them
    w, v = nn.tensor([1.0], requires_grad=True), nn.tensor([1.0], requires_grad=True)
    first, second = nn.optim.SGD([w], lr=0.1, momentum=0.9), nn.optim.SGD([v], lr=0.1, momentum=0.9)
    w.grad = nn.tensor([1.0])
    first.step()
    saved = first.state_dict()
    assert saved["state"][0]["momentum_buffer"] is first.state[w]["momentum_buffer"]  # like torch: no copy
    second.load_state_dict(saved)
    first.step()
    assert second.state[v]["momentum_buffer"].item() == 1.0


def test_hyperparameters_come_from_the_loaded_state_dict(lib):
    w = lib.tensor([1.0], requires_grad=True)
    saved = lib.optim.SGD([w], lr=0.25, momentum=0.5).state_dict()
    optimizer = lib.optim.SGD([w], lr=1.0)
    optimizer.load_state_dict(saved)
    assert optimizer.param_groups[0]["lr"] == 0.25 and optimizer.param_groups[0]["momentum"] == 0.5
    assert optimizer.param_groups[0]["params"][0] is w


# --- errors ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda lib, w: lib.optim.SGD([w], lr=-0.1),
    lambda lib, w: lib.optim.SGD([w], momentum=-0.5),
    lambda lib, w: lib.optim.SGD([w], weight_decay=-1e-4),
    lambda lib, w: lib.optim.SGD([w], lr=0.1, nesterov=True),
    lambda lib, w: lib.optim.SGD([w], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True),
    lambda lib, w: lib.optim.Adam([w], lr=-1.0),
    lambda lib, w: lib.optim.Adam([w], eps=-1e-8),
    lambda lib, w: lib.optim.Adam([w], betas=(1.0, 0.999)),
    lambda lib, w: lib.optim.Adam([w], betas=(-0.1, 0.999)),
    lambda lib, w: lib.optim.Adam([w], betas=(0.9, 1.0)),
    lambda lib, w: lib.optim.Adam([w], weight_decay=-0.1),
    lambda lib, w: lib.optim.AdamW([w], lr=-1e-3),
    lambda lib, w: lib.optim.AdamW([w], weight_decay=-0.01),
    lambda lib, w: lib.optim.SGD([], lr=0.1),
    lambda lib, w: lib.optim.Adam([]),
    lambda lib, w: lib.optim.SGD(w, lr=0.1),
    lambda lib, w: lib.optim.SGD([np.ones(2)], lr=0.1),
    lambda lib, w: lib.optim.SGD([w * 2], lr=0.1),
    lambda lib, w: lib.optim.SGD([{"params": {w}}], lr=0.1),
    lambda lib, w: lib.optim.SGD([{"params": [w]}, {"params": [w]}], lr=0.1),
    lambda lib, w: lib.optim.SGD([w]).add_param_group([w]),
    lambda lib, w: lib.optim.SGD([w]).load_state_dict({"state": {}, "param_groups": []}),
    lambda lib, w: lib.optim.SGD([w]).load_state_dict({"state": {}, "param_groups": [{"lr": 0.1, "params": [0, 1]}]}),
])
def test_errors_match_torch(make):
    torch_error, nn_error = twin_raises(make, np.ones(2))
    if isinstance(torch_error, ValueError):
        assert str(nn_error) == str(torch_error)


def test_base_class_step_is_abstract(lib):
    optimizer = lib.optim.Optimizer([lib.tensor([1.0], requires_grad=True)], {"lr": 0.1})
    with pytest.raises(NotImplementedError):
        optimizer.step()
