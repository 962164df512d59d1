"""RMSprop, Adagrad, Adadelta and the Optimizer base (groups, state_dict, resuming) against torch.optim.

Every optimizer runs from the same weights in both libraries on the same small least-squares loss;
the weights must agree after every step, the state must have torch's keys, dtypes and values, and
`state_dict()` torch's layout. Resuming from a state_dict (in memory or through a file written by
`nn.save`) must give the uninterrupted run's weights bit for bit.
"""
import copy

import numpy as np
import pytest
import torch
from torch.optim.optimizer import required as torch_required

import nn
from twin import dtype_name, twin_raises

rng = np.random.default_rng(7)
A, Y = rng.standard_normal((8, 3)), rng.standard_normal((8, 2))
W0, B0, C0, UNUSED = (rng.standard_normal((3, 2)), rng.standard_normal(2), rng.standard_normal(2),
                      rng.standard_normal(4))
NEW = ["RMSprop", "Adagrad", "Adadelta"]


def loss(lib, W, b, c, dtype):
    "A least-squares loss in W and b, and a quadratic in c: every weight but the unused one moves."
    data, target = lib.tensor(A.astype(dtype)), lib.tensor(Y.astype(dtype))
    return ((data @ W + b - target) ** 2).sum() + ((c - 1) ** 2 * (c + 2) ** 2).sum()


def weights(lib, dtype):
    "W, b, c and a parameter that never gets a gradient, as leaf tensors of `lib`."
    return [lib.tensor(w.astype(dtype), requires_grad=True) for w in (W0, B0, C0, UNUSED)]


def run(lib, make_optimizer, dtype=np.float64, steps=8, params=None, optimizer=None):
    "Weights after each of `steps` steps; the optimizer and the parameters."
    params = weights(lib, dtype) if params is None else params
    optimizer = make_optimizer(lib, params) if optimizer is None else optimizer
    history = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss(lib, *params[:3], dtype).backward()
        optimizer.step()
        history.append([p.detach().numpy().copy() for p in params])
    return history, optimizer, params


def state_arrays(optimizer, params):
    "The state as {position: {key: array}} (only parameters that have a state)."
    return {i: {key: value.detach().numpy().copy() for key, value in optimizer.state[p].items()}
            for i, p in enumerate(params) if p in optimizer.state}


def assert_same_run(make_optimizer, dtype=np.float64, steps=8):
    "Both libraries: the weights after every step, then the state and the state_dict's groups."
    rtol = 1e-10 if dtype == np.float64 else 2e-5
    (ours, optimizer, params), (theirs, t_optimizer, t_params) = (
        run(lib, make_optimizer, dtype, steps) for lib in (nn, torch))
    for step, (mine, reference) in enumerate(zip(ours, theirs), 1):
        for w, w_torch in zip(mine, reference):
            assert w.dtype == w_torch.dtype == dtype
            np.testing.assert_allclose(w, w_torch, rtol=rtol, atol=rtol, err_msg=f"step {step}")
    assert not np.allclose(ours[-1][0], W0), "the weights moved"
    np.testing.assert_array_equal(ours[-1][3], UNUSED.astype(dtype))  # no gradient, no step
    mine, reference = state_arrays(optimizer, params), state_arrays(t_optimizer, t_params)
    assert {i: list(s) for i, s in mine.items()} == {i: list(s) for i, s in reference.items()}
    for i in reference:
        for key, expected in reference[i].items():
            assert mine[i][key].dtype == expected.dtype and mine[i][key].shape == expected.shape, key
            np.testing.assert_allclose(mine[i][key], expected, rtol=rtol, atol=rtol, err_msg=key)
    assert_same_layout(optimizer.state_dict(), t_optimizer.state_dict())


def assert_same_layout(ours, theirs):
    "Two state_dicts: same positions, same keys in each state, same groups (every option)."
    assert list(ours) == list(theirs) == ["state", "param_groups"]
    assert sorted(ours["state"]) == sorted(theirs["state"])
    for i in theirs["state"]:
        assert list(ours["state"][i]) == list(theirs["state"][i])
        for key, value in theirs["state"][i].items():
            assert dtype_name(ours["state"][i][key].dtype) == dtype_name(value.dtype), key
    assert ours["param_groups"] == theirs["param_groups"]
    assert [list(g) for g in ours["param_groups"]] == [list(g) for g in theirs["param_groups"]]


CONFIGURATIONS = [
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=0.02)),
    ("RMSprop", dict(lr=0.02, alpha=0.9, eps=1e-6)),
    ("RMSprop", dict(lr=0.01, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.8, weight_decay=0.05)),
    ("RMSprop", dict(lr=0.005, momentum=0.5, maximize=True)),
    ("RMSprop", dict(lr=0.01, alpha=0.0)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.2, weight_decay=0.05, initial_accumulator_value=0.1,
                     eps=1e-6)),
    ("Adagrad", dict(lr=0.01, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5)),
    ("Adadelta", dict(lr=1.0, rho=0.5, eps=1e-4)),
    ("Adadelta", dict(weight_decay=0.1)),
    ("Adadelta", dict(lr=0.1, maximize=True)),
    ("Adadelta", dict(lr=0.05, rho=1.0)),
    ("Adadelta", dict(lr=0.2, rho=0.0)),
    ("RMSprop", dict(lr=0.01, foreach=None, differentiable=False, capturable=False)),
    ("Adagrad", dict(lr=0.1, foreach=False, fused=None)),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("name, options", CONFIGURATIONS, ids=repr)
def test_every_step_and_the_state_match_torch(name, options, dtype):
    assert_same_run(lambda lib, params: getattr(lib.optim, name)(params, **options), dtype)


GROUPED = {
    "RMSprop": lambda lib, p: lib.optim.RMSprop(
        [{"params": [p[0]], "momentum": 0.9, "centered": True},
         {"params": [p[1], p[3]], "lr": 0.03, "weight_decay": 0.2},
         {"params": p[2], "alpha": 0.5, "maximize": False, "momentum": 0.3}], lr=0.01),
    "Adagrad": lambda lib, p: lib.optim.Adagrad(  # torch ignores a group's initial value
        [{"params": [p[0]], "lr_decay": 0.1},
         {"params": [p[1], p[3]], "lr": 0.3, "initial_accumulator_value": 2.0},
         {"params": p[2], "weight_decay": 0.5, "eps": 1e-3}], lr=0.1, initial_accumulator_value=0.25),
    "Adadelta": lambda lib, p: lib.optim.Adadelta(
        [{"params": [p[0]], "rho": 0.6},
         {"params": [p[1], p[3]], "lr": 0.3, "weight_decay": 0.1},
         {"params": p[2], "eps": 1e-3}]),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", NEW)
def test_parameter_groups_with_their_own_options(name, dtype):
    assert_same_run(GROUPED[name], dtype, steps=10)


@pytest.mark.parametrize("name", NEW)
def test_default_hyperparameters_are_torchs(name):
    groups = [getattr(lib.optim, name)([lib.tensor([1.0], requires_grad=True)]).param_groups[0]
              for lib in (nn, torch)]
    assert list(groups[0].items())[1:] == list(groups[1].items())[1:]


def test_step_counts_even_through_a_zero_gradient_and_skips_none(lib):
    w = lib.tensor([1.0, -1.0], requires_grad=True)
    never = lib.tensor([2.0], requires_grad=True)
    optimizer = lib.optim.RMSprop([w, never], lr=0.1)
    w.grad = lib.zeros(2)
    optimizer.step()
    assert optimizer.state[w]["step"].item() == 1.0 and w.tolist() == [1.0, -1.0]
    assert never not in optimizer.state and never.tolist() == [2.0]


def test_adagrad_state_exists_from_the_start():
    states = []
    for lib in (nn, torch):
        w, v = lib.tensor([1.0, 2.0], requires_grad=True), lib.tensor([3.0], requires_grad=True)
        optimizer = lib.optim.Adagrad([w, v], initial_accumulator_value=0.5)
        states.append({i: {k: (dtype_name(s.dtype), s.tolist()) for k, s in optimizer.state[p].items()}
                       for i, p in enumerate((w, v))})
    assert states[0] == states[1] == {0: {"step": ("float32", 0.0), "sum": ("float32", [0.5, 0.5])},
                                      1: {"step": ("float32", 0.0), "sum": ("float32", [0.5])}}


def test_the_step_counter_follows_the_default_dtype():
    found = []
    for lib in (nn, torch):
        previous = lib.get_default_dtype()
        lib.set_default_dtype(lib.float64)
        try:
            w = lib.tensor([1.0], requires_grad=True)
            optimizer = lib.optim.Adadelta([w])
            w.grad = lib.tensor([1.0])
            optimizer.step()
            found.append(dtype_name(optimizer.state[w]["step"].dtype))
        finally:
            lib.set_default_dtype(previous)
    assert found == ["float64", "float64"]


def test_closure_loss_is_returned(lib):
    w = lib.tensor([1.0, 2.0], requires_grad=True)
    optimizer = lib.optim.Adagrad([w], lr=0.5)

    def closure():
        optimizer.zero_grad()
        value = (w * w).sum()
        value.backward()
        return value
    assert optimizer.step(closure).item() == 5.0


# --- hyperparameter errors ---------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda lib, w: lib.optim.RMSprop([w], lr=-0.1),
    lambda lib, w: lib.optim.RMSprop([w], eps=-1.0),
    lambda lib, w: lib.optim.RMSprop([w], momentum=-0.1),
    lambda lib, w: lib.optim.RMSprop([w], weight_decay=-0.1),
    lambda lib, w: lib.optim.RMSprop([w], alpha=-0.5),
    lambda lib, w: lib.optim.Adagrad([w], lr=-0.1),
    lambda lib, w: lib.optim.Adagrad([w], lr_decay=-0.1),
    lambda lib, w: lib.optim.Adagrad([w], weight_decay=-0.1),
    lambda lib, w: lib.optim.Adagrad([w], initial_accumulator_value=-1.0),
    lambda lib, w: lib.optim.Adagrad([w], eps=-1e-10),
    lambda lib, w: lib.optim.Adagrad([w], foreach=True, fused=True),
    lambda lib, w: lib.optim.Adadelta([w], lr=-1.0),
    lambda lib, w: lib.optim.Adadelta([w], rho=1.5),
    lambda lib, w: lib.optim.Adadelta([w], rho=-0.1),
    lambda lib, w: lib.optim.Adadelta([w], eps=-1.0),
    lambda lib, w: lib.optim.Adadelta([w], weight_decay=-1.0),
    lambda lib, w: lib.optim.SGD([w], lr=0.1, foreach=True, fused=True),
    lambda lib, w: lib.optim.Adam([w], foreach=True, fused=True),
    lambda lib, w: lib.optim.RMSprop([], lr=0.1),
    lambda lib, w: lib.optim.Adadelta(w),
])
def test_errors_match_torch(make):
    torch_error, nn_error = twin_raises(make, np.ones(2))
    if not isinstance(torch_error, TypeError):  # a TypeError names torch's tensor type
        assert str(nn_error) == str(torch_error)


def test_differentiable_steps_are_refused_plainly():
    with pytest.raises(NotImplementedError, match="differentiable"):
        nn.optim.RMSprop([nn.tensor([1.0], requires_grad=True)], differentiable=True)


# --- add_param_group ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NEW + ["SGD", "Adam"])
def test_add_param_group_takes_the_defaults_and_its_own_options(name):
    def grown(lib, params):
        optimizer = getattr(lib.optim, name)([params[0]], lr=0.05)
        optimizer.add_param_group({"params": [params[1]], "lr": 0.01})
        optimizer.add_param_group({"params": (p for p in params[2:]), "weight_decay": 0.1})
        return optimizer
    assert_same_run(grown)


def test_adagrad_state_of_an_added_group_uses_the_optimizers_initial_value():
    found = []
    for lib in (nn, torch):
        w, v = lib.tensor([1.0], requires_grad=True), lib.tensor([2.0], requires_grad=True)
        optimizer = lib.optim.Adagrad([w], initial_accumulator_value=0.5)
        optimizer.add_param_group({"params": [v], "initial_accumulator_value": 3.0})
        assert v not in optimizer.state or not optimizer.state[v]  # filled at its first step
        v.grad = lib.tensor([1.0])
        optimizer.step()
        found.append((optimizer.state[v]["sum"].item(), optimizer.param_groups[1]["initial_accumulator_value"]))
    assert found[0] == found[1] == (1.5, 3.0)


def test_a_group_dict_joins_the_optimizer_itself(lib):
    w = lib.tensor([1.0], requires_grad=True)
    group = {"params": w, "lr": 0.5}
    optimizer = lib.optim.RMSprop([group])
    assert optimizer.param_groups[0] is group and group["params"] == [w] and group["alpha"] == 0.99


def test_named_parameters():
    def named(lib):
        w, v = lib.tensor([1.0, 2.0], requires_grad=True), lib.tensor([3.0], requires_grad=True)
        optimizer = lib.optim.Adadelta([("w", w)], lr=0.5)
        optimizer.add_param_group({"params": [("v", v)], "rho": 0.5})
        (w.sum() + v.sum()).backward()
        optimizer.step()
        saved = optimizer.state_dict()
        fresh = lib.optim.Adadelta([lib.tensor([0.0, 0.0], requires_grad=True)])
        fresh.add_param_group({"params": [lib.tensor([0.0], requires_grad=True)]})
        fresh.load_state_dict(saved)
        return ([g["param_names"] for g in saved["param_groups"]], saved["param_groups"][1]["params"],
                [g.get("param_names") for g in fresh.param_groups], repr(optimizer))
    ours, theirs = named(nn), named(torch)
    assert ours == theirs
    assert ours[0] == [["w"], ["v"]]


def added_group_errors(lib):
    "(name, call) pairs that add_param_group must refuse; w is already in the optimizer."
    w, v = lib.tensor([1.0], requires_grad=True), lib.tensor([2.0], requires_grad=True)
    return [("twice", lambda o: o.add_param_group({"params": [v, w], "lr": 0.1})),
            ("not a dict", lambda o: o.add_param_group([v])),
            ("a set", lambda o: o.add_param_group({"params": {v}})),
            ("not a tensor", lambda o: o.add_param_group({"params": [v, 3.0]})),
            ("non-leaf", lambda o: o.add_param_group({"params": [v * 2]})),
            ("named among unnamed", lambda o: o.add_param_group({"params": [("v", v)]})),
            ("some names missing", lambda o: o.add_param_group({"params": [("v", v), w]}))], w


@pytest.mark.parametrize("case", range(7))
@pytest.mark.parametrize("name", NEW)
def test_add_param_group_errors_match_torch_and_change_nothing(name, case):
    errors = []
    for lib in (nn, torch):
        calls, w = added_group_errors(lib)
        optimizer = getattr(lib.optim, name)([w], lr=0.1)
        before = copy.deepcopy(optimizer.state_dict())
        with pytest.raises(Exception) as raised:
            calls[case][1](optimizer)
        errors.append(raised.value)
        assert optimizer.state_dict() == before and len(optimizer.param_groups) == 1
    assert type(errors[0]) is type(errors[1]), calls[case][0]
    assert str(errors[0]) == str(errors[1])


def test_a_required_option_must_be_given_by_every_group():
    class Plain(nn.optim.Optimizer):
        def __init__(self, params, lr=nn.optim.required):
            super().__init__(params, dict(lr=lr))

    class PlainTorch(torch.optim.Optimizer):
        def __init__(self, params, lr=torch_required):
            super().__init__(params, dict(lr=lr))
    messages = []
    for cls, lib in ((Plain, nn), (PlainTorch, torch)):
        w, v = lib.tensor([1.0], requires_grad=True), lib.tensor([1.0], requires_grad=True)
        with pytest.raises(ValueError) as raised:
            cls([w])
        messages.append(str(raised.value))
        optimizer = cls([{"params": [w], "lr": 0.1}])
        with pytest.raises(ValueError):
            optimizer.add_param_group({"params": [v]})
        assert len(optimizer.param_groups) == 1
        optimizer.add_param_group({"params": [v], "lr": 0.2})
        assert [g["lr"] for g in optimizer.param_groups] == [0.1, 0.2]
    assert messages[0] == messages[1]
    assert repr(nn.optim.required) == repr(torch_required)


def test_duplicate_parameters_in_a_group_warn(lib):
    w = lib.tensor([1.0], requires_grad=True)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        lib.optim.Adagrad([w, w])


# --- state_dict and load_state_dict -------------------------------------------------------------------
@pytest.mark.parametrize("name", NEW)
def test_load_state_dict_refuses_a_mismatch_and_changes_nothing(name):
    for lib in (nn, torch):
        params = weights(lib, np.float64)
        _, optimizer, _ = run(lib, GROUPED[name], params=params, steps=2)
        before = copy.deepcopy(optimizer.state_dict())
        saved = copy.deepcopy(before)
        too_few = dict(saved, param_groups=saved["param_groups"][:2])
        wrong_size = dict(saved, param_groups=[dict(g) for g in saved["param_groups"]])
        wrong_size["param_groups"][1]["params"] = [1]
        for bad, message in ((too_few, "different number of parameter groups"),
                             (wrong_size, "doesn't match the size of optimizer's group")):
            with pytest.raises(ValueError, match=message):
                optimizer.load_state_dict(bad)
            after = optimizer.state_dict()
            assert after["param_groups"] == before["param_groups"]
            assert {i: {k: v.tolist() for k, v in s.items()} for i, s in after["state"].items()} == \
                {i: {k: v.tolist() for k, v in s.items()} for i, s in before["state"].items()}


@pytest.mark.parametrize("name", NEW + ["SGD", "Adam"])
def test_load_state_dict_casts_to_the_parameters_dtype_except_step(name):
    found = []
    for lib in (nn, torch):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        momentum = {"momentum": 0.9} if name in ("SGD", "RMSprop") else {}
        optimizer = getattr(lib.optim, name)([w], lr=0.1, **momentum)
        w.grad = lib.tensor([0.5, -0.5])
        optimizer.step()
        w64 = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        loaded = getattr(lib.optim, name)([w64])
        loaded.load_state_dict(optimizer.state_dict())
        found.append({key: dtype_name(value.dtype) for key, value in loaded.state[w64].items()})
    assert found[0] == found[1]
    assert found[0].pop("step", "float32") == "float32"  # the step counter is not cast
    assert set(found[0].values()) == {"float64"}


def test_state_that_belongs_to_no_parameter_is_kept(lib):
    w = lib.tensor([1.0], requires_grad=True)
    optimizer = lib.optim.Adadelta([w])
    optimizer.load_state_dict({"state": {"note": {"epoch": 3}}, "param_groups": [dict(
        lr=0.5, rho=0.9, eps=1e-6, weight_decay=0, maximize=False, capturable=False, foreach=None,
        differentiable=False, params=[0])]})
    assert optimizer.state["note"] == {"epoch": 3} and optimizer.param_groups[0]["lr"] == 0.5


# --- resuming: exactly the uninterrupted run ------------------------------------------------------------
RESUMABLE = [
    ("SGD", dict(lr=0.02, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.02, momentum=0.9, dampening=0.2, weight_decay=0.01)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1)),
    ("AdamW", dict(lr=0.05, amsgrad=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, weight_decay=0.1, maximize=False)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.1, initial_accumulator_value=0.1)),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.01)),
]


def train(lib, name, options, steps=12, stop=None, how="memory", path=None, schedule=False):
    "Weights after `steps` steps; `stop` rebuilds model, optimizer (and scheduler) from a checkpoint."
    dtype = np.float32
    model = [lib.tensor(w.astype(dtype), requires_grad=True) for w in (W0, B0, C0, UNUSED)]

    def build(params):
        optimizer = getattr(lib.optim, name)(
            [{"params": params[:2]}, {"params": params[2:], "lr": options["lr"] / 2}], **options)
        scheduler = lib.optim.lr_scheduler.StepLR(optimizer, 3, gamma=0.5) if schedule else None
        return optimizer, scheduler
    optimizer, scheduler = build(model)
    for step in range(steps):
        if step == stop:
            checkpoint = {"model": {str(i): p.detach() for i, p in enumerate(model)},
                          "optimizer": optimizer.state_dict(),
                          "scheduler": scheduler.state_dict() if schedule else None}
            if how == "memory":
                checkpoint = copy.deepcopy(checkpoint)
            else:
                lib.save(checkpoint, path)
                checkpoint = lib.load(path)
            model = [lib.tensor(np.zeros_like(w, dtype=dtype), requires_grad=True)
                     for w in (W0, B0, C0, UNUSED)]
            with lib.no_grad():
                for i, p in enumerate(model):
                    p.copy_(checkpoint["model"][str(i)])
            optimizer, scheduler = build(model)
            if schedule:
                scheduler.load_state_dict(checkpoint["scheduler"])
            optimizer.load_state_dict(checkpoint["optimizer"])
        optimizer.zero_grad()
        loss(lib, *model[:3], dtype).backward()
        optimizer.step()
        if schedule:
            scheduler.step()
    return np.concatenate([p.detach().numpy().ravel() for p in model]), optimizer


@pytest.mark.parametrize("schedule", [False, True], ids=["", "with StepLR"])
@pytest.mark.parametrize("name, options", RESUMABLE, ids=repr)
def test_resuming_from_a_state_dict_is_exact(name, options, schedule):
    straight, optimizer = train(nn, name, options, schedule=schedule)
    for stop in (1, 5):
        resumed, resumed_optimizer = train(nn, name, options, stop=stop, schedule=schedule)
        np.testing.assert_array_equal(resumed, straight)
        assert resumed_optimizer.state_dict()["param_groups"] == optimizer.state_dict()["param_groups"]
    theirs, _ = train(torch, name, options, stop=5, schedule=schedule)
    np.testing.assert_allclose(straight, theirs, rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("name, options", RESUMABLE, ids=repr)
def test_resuming_through_a_file_is_exact(name, options, tmp_path):
    straight, _ = train(nn, name, options, schedule=True)
    resumed, optimizer = train(nn, name, options, stop=5, how="file", path=tmp_path / "ckpt.npz",
                               schedule=True)
    np.testing.assert_array_equal(resumed, straight)
    groups = optimizer.state_dict()["param_groups"]
    assert all(type(g["betas"]) is tuple for g in groups if "betas" in g)
    assert all(g["foreach"] is None for g in groups)


def test_a_state_dict_loads_across_libraries():
    # torch's state_dict, its tensors turned into nn's, resumes nn's run where torch's stopped
    params = weights(torch, np.float32)
    _, t_optimizer, _ = run(torch, lambda lib, p: lib.optim.RMSprop(p, lr=0.01, centered=True,
                                                                     momentum=0.9),
                            np.float32, steps=3, params=params)
    saved = t_optimizer.state_dict()
    converted = {"state": {i: {k: nn.tensor(v.numpy()) for k, v in s.items()} for i, s in saved["state"].items()},
                 "param_groups": saved["param_groups"]}
    ours = [nn.tensor(p.detach().numpy(), requires_grad=True) for p in params]
    optimizer = nn.optim.RMSprop(ours)
    optimizer.load_state_dict(converted)
    history, _, _ = run(nn, None, np.float32, steps=3, params=ours, optimizer=optimizer)
    t_history, _, _ = run(torch, None, np.float32, steps=3, params=params, optimizer=t_optimizer)
    for mine, reference in zip(history[-1], t_history[-1]):
        np.testing.assert_allclose(mine, reference, rtol=2e-5, atol=2e-6)
