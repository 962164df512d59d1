"""Views taken under `no_grad()` of a tensor that requires grad, against PyTorch.

Such a view shares its base's storage, so torch shows it as a leaf with `requires_grad=True`
and no `grad_fn`; no gradient flows through it (backward runs and fills no `.grad`); changing
it in place is an error with grad mode on and allowed under `no_grad()`, after which the view
has no valid `grad_fn`. Each test is code typed once against `lib`, run with torch and with nn,
and what it returns (values, flags, reprs, exception types and messages) must be equal.
"""
import numpy as np
import pytest
import torch

import nn

X = np.random.default_rng(0).uniform(0.5, 1.5, (3, 2)).astype(np.float32)

# views in torch and in nn: the code of each, on the base `p` of shape (3, 2)
VIEWS = ["p[0]", "p[:, 1]", "p[1:]", "p[None]", "p[..., 0]", "p.view(6)", "p.view(2, 3)",
         "p.t()", "p.T", "p.mT", "p.narrow(0, 1, 2)", "p.unsqueeze(0)", "p.reshape(6)",
         "p.transpose(0, 1)", "p.diagonal()", "p.expand(2, 3, 2)", "p.select(1, 0)",
         "p.squeeze()", "p.unbind(0)[1]", "p.split(1)[0]", "p.chunk(2, 1)[0]",
         "p.movedim(0, 1)", "p.flatten()", "p.permute(1, 0)", "p.view_as(p)",
         "p.unflatten(0, (3, 1))", "p.swapaxes(0, 1)", "p.expand_as(p)", "p.unfold(0, 2, 1)"]
# views that can be changed in place (an expanded view has elements written twice)
WRITABLE = [v for v in VIEWS if "expand" not in v and "unfold" not in v]
NOT_VIEWS = ["p * 2", "p.exp()", "p.clone()", "p[[0, 2]]", "p[p > 1]", "p.sum(0)",
             "p.t().contiguous()", "p.t().reshape(6)", "p.detach()", "p.double()"]
BASES = ["leaf", "non-leaf"]


def base(lib, kind):
    "The leaf that requires grad, and the tensor views are taken of (it, or a result of it)."
    leaf = lib.tensor(X, requires_grad=True)
    return leaf, (leaf if kind == "leaf" else leaf * 1)


def no_grad_view(lib, code, p):
    "The view `code` of `p`, taken under no_grad."
    with lib.no_grad():
        return eval(code, {"p": p, "lib": lib})


def outcome(action):
    "What `action()` returns, or the type and message of the exception it raises."
    try:
        return action()
    except Exception as error:  # compared between the libraries
        return type(error).__name__, str(error)


def both(test, *args):
    "Run `test(lib, *args)` with torch and with nn; the results must be equal."
    expected, got = test(torch, *args), test(nn, *args)
    assert got == expected


def shown(t):
    "The tensor as printed, with its dtype named alike in both libraries."
    return repr(t).replace("torch.", "nn.")


def values(t):
    return None if t is None else t.detach().numpy().round(4).tolist()


def grad_fn_name(t):
    return None if t.grad_fn is None else t.grad_fn.name()


# --- what such a view is ---------------------------------------------------------------------
@pytest.mark.parametrize("kind", BASES)
@pytest.mark.parametrize("code", VIEWS)
def test_a_no_grad_view_is_a_leaf_that_requires_grad(code, kind):
    def test(lib, code, kind):
        leaf, p = base(lib, kind)
        v = no_grad_view(lib, code, p)
        return (v.requires_grad, v.is_leaf, v.grad_fn, shown(v), list(v.shape),
                v.retains_grad, v.grad, v._version == p._version)
    both(test, code, kind)


@pytest.mark.parametrize("code", NOT_VIEWS)
@pytest.mark.parametrize("kind", BASES)
def test_other_operations_under_no_grad_are_unchanged(code, kind):
    def test(lib, code, kind):
        leaf, p = base(lib, kind)
        r = no_grad_view(lib, code, p)
        changed = outcome(lambda: round(r.mul_(2).sum().item(), 4))
        return r.requires_grad, r.is_leaf, r.grad_fn, shown(r), changed
    both(test, code, kind)


def test_a_view_of_a_base_that_requires_no_grad_requires_none():
    def test(lib):
        x = lib.tensor(X)
        with lib.no_grad():
            v = x[0]
        return v.requires_grad, shown(v), values(v.mul_(2)), values(x)
    both(test)


def test_what_printing_a_parameter_row_under_no_grad_shows():
    def test(lib):
        conv = (torch.nn if lib is torch else nn).Conv2d(1, 2, 3)
        with lib.no_grad():
            conv.weight.fill_(0.5)
            return shown(conv.weight[0, 0, 0]), shown(conv.weight[0, 0, 0] * 2)
    both(test)


# --- no gradient flows through it --------------------------------------------------------------
@pytest.mark.parametrize("kind", BASES)
@pytest.mark.parametrize("code", VIEWS)
def test_backward_through_a_no_grad_view_fills_no_grad(code, kind):
    def test(lib, code, kind):
        leaf, p = base(lib, kind)
        v = no_grad_view(lib, code, p)
        y = (v * v * 3).sum()
        y.backward()
        return grad_fn_name(y), values(y), v.grad, leaf.grad, p.grad if kind == "leaf" else None
    both(test, code, kind)


@pytest.mark.parametrize("kind", BASES)
@pytest.mark.parametrize("code", ["p[0]", "p.t()", "p.view(6)"])
def test_the_base_still_receives_its_own_gradient(code, kind):
    def test(lib, code, kind):
        leaf, p = base(lib, kind)
        v = no_grad_view(lib, code, p)
        (v.sum() * 5 + (p * p).sum()).backward()
        return values(leaf.grad), v.grad
    both(test, code, kind)


@pytest.mark.parametrize("kind", BASES)
def test_a_view_with_grad_of_a_no_grad_view_passes_nothing_on(kind):
    def test(lib, kind):
        leaf, p = base(lib, kind)
        v = no_grad_view(lib, "p[0]", p)
        w = v[1:]
        w.retain_grad()
        (w * 2).sum().backward()
        return w.requires_grad, w.is_leaf, grad_fn_name(w), values(w.grad), v.grad, leaf.grad
    both(test, kind)


def test_hooks_retain_grad_and_requires_grad_():
    def test(lib):
        p = lib.tensor(X, requires_grad=True)
        v = no_grad_view(lib, "p[0]", p)
        called = []
        v.register_hook(called.append)
        v.retain_grad()
        (v * 2).sum().backward()
        unfrozen = v.requires_grad_(False).requires_grad   # the view follows its base
        d = v.detach()
        return len(called), v.grad, unfrozen, d.requires_grad, values(d.mul_(2)), values(p[0])
    both(test)


def test_backward_from_the_view_itself_and_grad_with_respect_to_it_raise():
    def test(lib):
        p = lib.tensor(X, requires_grad=True)
        v = no_grad_view(lib, "p[0]", p)
        y = (v * 2).sum()
        grad = torch.autograd.grad if lib is torch else nn.autograd.grad
        return (outcome(lambda: v.backward(lib.ones(2))),
                outcome(lambda: grad(y, v, retain_graph=True)),
                outcome(lambda: grad(y, p, retain_graph=True)),
                outcome(lambda: grad(y, [v], allow_unused=True)), v.grad)
    both(test)


def test_a_given_gradient_can_be_assigned():
    def test(lib):
        p = lib.tensor(X, requires_grad=True)
        v = no_grad_view(lib, "p[0]", p)
        v.grad = lib.ones(2)
        return values(v.grad), p.grad
    both(test)


# --- changing it in place -------------------------------------------------------------------------
IN_PLACE = ["v.mul_(2)", "v.add_(1)", "v.zero_()", "v.copy_(v * 0 + 3)", "v.exp_()",
            "v.clamp_(0, 1)", "v.fill_(7)", "v[...] = 4", "v[:] = 4", "v[()] = 4",
            "v[0] = 4", "v[v > 1] = 4", "v += 1"]


@pytest.mark.parametrize("change", IN_PLACE)
@pytest.mark.parametrize("kind", BASES)
@pytest.mark.parametrize("code", WRITABLE)
def test_changing_it_in_place_with_grad_mode_on_is_refused(code, kind, change):
    def test(lib, code, kind, change):
        leaf, p = base(lib, kind)
        v = no_grad_view(lib, code, p)
        before = p._version
        refused = outcome(lambda: exec(change, {"v": v}))
        return refused, values(p), p._version == before
    both(test, code, kind, change)


@pytest.mark.parametrize("kind", BASES)
@pytest.mark.parametrize("code", ["p[0]", "p.t()", "p[:, 1]", "p.unsqueeze(0)"])
@pytest.mark.parametrize("view_of_view", ["v[0:1]", "v.t()", "v.unsqueeze(0)", "v.view(-1)"])
def test_a_view_with_grad_of_it_is_refused_too(code, kind, view_of_view):
    def test(lib, code, kind, view_of_view):
        leaf, p = base(lib, kind)
        v = no_grad_view(lib, code, p)
        w = outcome(lambda: eval(view_of_view, {"v": v}))
        if not isinstance(w, lib.Tensor):
            return w  # a view both libraries refuse to take
        return outcome(lambda: w.mul_(2)), outcome(lambda: w.__setitem__(0, 1.0)), values(p)
    both(test, code, kind, view_of_view)


@pytest.mark.parametrize("change", IN_PLACE)
@pytest.mark.parametrize("kind", BASES)
@pytest.mark.parametrize("code", WRITABLE)
def test_changing_it_in_place_under_no_grad_changes_the_base(code, kind, change):
    def test(lib, code, kind, change):
        leaf, p = base(lib, kind)
        v = no_grad_view(lib, code, p)
        with lib.no_grad():
            exec(change, {"v": v})
        return values(p), values(v), p._version, v._version, shown(v)
    both(test, code, kind, change)


@pytest.mark.parametrize("kind", BASES)
@pytest.mark.parametrize("changed", ["v", "p", "p[2]"])
def test_after_a_change_in_place_the_view_has_no_valid_grad_fn(kind, changed):
    def test(lib, kind, changed):
        leaf, p = base(lib, kind)
        v = no_grad_view(lib, "p[0]", p)
        with lib.no_grad():
            eval(changed, {"v": v, "p": p}).add_(1)
            under_no_grad = values(v * 2), v.grad, outcome(lambda: v.requires_grad)
        return (shown(v), outcome(lambda: v.grad_fn), outcome(lambda: v.is_leaf),
                outcome(lambda: v.requires_grad), outcome(lambda: v * 2), under_no_grad)
    both(test, kind, changed)


def test_a_view_of_a_view_made_under_no_grad_is_one_too():
    def test(lib):
        p = lib.tensor(X, requires_grad=True)
        with lib.no_grad():
            v = p[0]
            w = v[0:1]
        return w.requires_grad, w.is_leaf, outcome(lambda: w.mul_(2)), values(p)
    both(test)


def test_a_no_grad_view_follows_its_base_when_the_base_is_frozen_later():
    def test(lib):
        p = lib.tensor(X, requires_grad=True)
        v = no_grad_view(lib, "p[0]", p)
        p.requires_grad_(False)
        return v.requires_grad, shown(v)
    both(test)
