"""Changing tensors in place, against PyTorch: in-place methods and augmented assignment,
`t[index] = value`, writes through views, version counters, `.data`, `out=`, torch's autograd
rules for in-place changes, and nothing modified when an in-place change is refused.

Each test is code typed once against `lib`, run with torch and with nn; `both` (outcomes.py)
compares what it returns: the changed tensors, their `_version`s, gradients, whether an
object is the same one, and the type of an exception.
"""
import warnings

import numpy as np
import pytest
import torch

import nn
from outcomes import Raised, attempt, both, compare, lambda_id
from twin import numpy

RNG = np.random.default_rng(0)
X = RNG.uniform(0.1, 0.9, (3, 4))    # inside every unary function's domain
Y = RNG.uniform(0.1, 0.9, (3, 4))
Z = RNG.uniform(0.1, 0.9, (3, 4))
C = RNG.standard_normal((3, 4))       # weights of the loss, so no gradient is all ones
INTS = np.array([[3, -2, 0, 7], [1, 5, -4, 2], [0, 9, 6, -1]])


def scope(lib, **names):
    "The names the code of a case can use."
    return {"lib": lib, "np": np, **names}


def run(code, lib, **names):
    "Execute the statements `code` with `names`; return the names afterwards."
    names = scope(lib, **names)
    exec(code, names)
    return names


def versions(*tensors):
    return [t._version for t in tensors]


def state(names):
    "Each tensor's values, shape, dtype, version and place in the graph."
    return {name: (numpy(t).tobytes(), tuple(t.shape), str(t.dtype), t._version,
                   t.requires_grad, t.grad_fn)
            for name, t in names.items() if isinstance(t, nn.Tensor)}


def refused_and_unchanged(make, code):
    """torch refuses `code`; nn refuses it with torch's exception type (or a subclass) and
    leaves every tensor of `make(nn)` as it was: values, shape, dtype, version, graph."""
    refusal = attempt(lambda: run(code, torch, **make(torch)))
    assert isinstance(refusal, Raised), f"torch accepts {code}: the case is wrong"
    names = make(nn)
    before = state(names)
    outcome = attempt(lambda: run(code, nn, **names))
    compare(refusal, outcome)
    assert state(names) == before, f"nn changed a tensor, then raised {outcome!r}"
    return names


# --- in-place methods -------------------------------------------------------------------
IN_PLACE = [  # x, y, z: float64 (3, 4) in (0.1, 0.9); every case returns the changed tensor
    "x.add_(y)", "x.add_(y, alpha=2)", "x.add_(2)", "x.add_(y[0])", "x.add_(lib.tensor(1.5))",
    "x.add_(y, alpha=-0.5)", "x.sub_(y)", "x.sub_(y, alpha=0.5)", "x.sub_(1)", "x.sub_(y[:, :1])",
    "x.mul_(y)", "x.mul_(3)", "x.mul_(y[1])", "x.div_(y)", "x.div_(4)", "x.div_(y[:, 2:3])",
    "x.pow_(2)", "x.pow_(y)", "x.pow_(0.5)", "x.pow_(y[0])", "x.exp_()", "x.neg_()", "x.abs_()",
    "x.log_()", "x.log1p_()", "x.sqrt_()", "x.sin_()", "x.cos_()", "x.tanh_()", "x.sigmoid_()",
    "x.relu_()", "x.sign_()", "x.erf_()", "x.clamp_(0.3, 0.6)", "x.clamp_(min=0.4)",
    "x.clamp_(max=0.5)", "x.clamp_(y, y + 0.2)", "x.zero_()", "x.fill_(2.5)",
    "x.fill_(lib.tensor(1.5))", "x.fill_(3)", "x.copy_(y)", "x.copy_(y[0])",
    "x.copy_(lib.tensor(np.arange(4)))", "x.copy_(y.float())",
    # the in-place forms torch has of out-of-place operations nn has
    "x.eq_(y)", "x.ne_(0.5)", "x.lt_(y)", "x.le_(0.5)", "x.gt_(y)", "x.ge_(0.5)",
    "x.logical_not_()", "x.floor_()", "x.ceil_()", "x.round_()", "x.trunc_()", "x.frac_()",
    "x.reciprocal_()", "x.square_()", "x.rsqrt_()", "x.expm1_()", "x.log2_()", "x.log10_()",
    "x.sinh_()", "x.cosh_()", "x.asin_()", "x.acos_()", "x.atan_()", "x.atan2_(y)",
    "x.fmod_(0.3)", "x.remainder_(0.3)", "x.lerp_(y, 0.3)", "x.addcmul_(y, z, value=2)",
    "x.addcdiv_(y, z, value=0.5)", "x.logit_()", "x.nan_to_num_()", "x.clip_(0.3, 0.6)",
    "x.masked_fill_(y > 0.5, 0.0)", "x.tril_()", "x.triu_(1)", "x.floor_divide_(0.3)",
    "x.mul_(y).add_(z)", "x.index_fill_(0, lib.tensor([0, 2]), 1.5)",
]
METHOD = {case: case.split(".")[1].split("(")[0] for case in IN_PLACE}


def has_out_of_place_form(case):
    "True if nn has the out-of-place method the case's in-place method belongs to."
    name = METHOD[case].removesuffix("_")
    return name in ("zero", "fill", "copy") or hasattr(nn.Tensor, name)


NN_CASES = [case for case in IN_PLACE if has_out_of_place_form(case)]


def test_every_in_place_form_torch_has_of_an_nn_method_exists():
    "For each method of nn.Tensor with an in-place form in torch, nn has the in-place form."
    shape_ops = {"t", "transpose", "squeeze", "unsqueeze", "detach", "requires_grad", "resize",
                 "set", "share_memory", "as_strided", "swapaxes", "swapdims", "put", "map"}
    missing = [name + "_" for name in dir(nn.Tensor)
               if not name.startswith("_") and name not in shape_ops
               and hasattr(torch.Tensor, name + "_") and not hasattr(nn.Tensor, name + "_")]
    assert not missing, f"nn.Tensor lacks the in-place forms {missing}"


@pytest.mark.parametrize("case", NN_CASES)
def test_in_place_method_changes_the_tensor_itself(case):
    def changed(lib):
        x, y, z = lib.tensor(X), lib.tensor(Y), lib.tensor(Z)
        result = eval(case, scope(lib, x=x, y=y, z=z))
        return result is x, x, versions(x, y, z)
    both(changed)


@pytest.mark.parametrize("case", NN_CASES)
def test_in_place_method_in_float32_on_a_view(case):
    def changed(lib):
        base = lib.tensor(np.stack([X, Y]), dtype=lib.float32)
        x, y, z = base[1], lib.tensor(Y, dtype=lib.float32), lib.tensor(Z, dtype=lib.float32)
        result = eval(case, scope(lib, x=x, y=y, z=z))
        return result is x, base, versions(base, x, y)
    both(changed)


@pytest.mark.parametrize("case", NN_CASES)
def test_in_place_method_on_a_non_leaf_is_differentiated(case):
    def gradients(lib):
        x0, y, z = (lib.tensor(v, requires_grad=True) for v in (X, Y, Z))
        x = x0 * 1
        result = eval(case, scope(lib, x=x, y=y, z=z))
        (x * lib.tensor(C)).sum().backward()
        return result is x, x, x.requires_grad, x0.grad, y.grad, z.grad, versions(x, y)
    both(gradients)


@pytest.mark.parametrize("case", NN_CASES + [
    "x[0] = y[0]", "x[:, 1:3] = y[0, :2]", "x[[0, 1]] = y[:2]", "x[x > 0.5] = 0", "x[0].mul_(y[0])",
    "x.T.add_(1)", "x.view(-1)[2:5] = 0", "x[0, [1, 2]] = y[0, :2]", "x += y", "x *= 2"])
def test_grad_fn_of_a_non_leaf_changed_in_place(case):
    def name(lib):
        x0, y, z = (lib.tensor(v, requires_grad=True) for v in (X, Y, Z))
        x = x0 * 1
        run(case, lib, x=x, y=y, z=z)
        return x.grad_fn.name(), [n is None for n, _ in x.grad_fn.next_functions]
    both(name)


@pytest.mark.parametrize("case", [
    "i.add_(2)", "i.sub_(3)", "i.mul_(-2)", "i.add_(i)", "i.neg_()", "i.abs_()",
    "i.zero_()", "i.fill_(4)", "i.fill_(2.7)", "i.copy_(lib.tensor(X) * 10)", "i.clamp_(-1, 3)",
    "i.sign_()", "i.pow_(2)", "i.add_(True)", "i.mul_(lib.tensor(2, dtype=lib.int8))",
    "i.add_(i.short())", "i.mul_(i[0].clone())", "f.add_(i)", "f.mul_(b)", "f.div_(i + 10)", "f.add_(d)", "d.add_(f)",
    "b.mul_(b)", "b.copy_(i)", "b.fill_(0.5)", "f.copy_(b)", "f.fill_(True)", "h.add_(f)",
    "f.add_(lib.tensor(2.5, dtype=lib.float64))", "i.add_(lib.tensor(1))",
])
def test_in_place_methods_keep_the_tensors_dtype(case):
    def changed(lib):
        names = dict(i=lib.tensor(INTS), f=lib.tensor(X, dtype=lib.float32),
                     d=lib.tensor(Y, dtype=lib.float64), b=lib.tensor(INTS > 0),
                     h=lib.tensor(X, dtype=lib.float16))
        result = eval(case, scope(lib, **names))
        changed = names[case[0]]
        return result is changed, changed, changed._version
    both(changed)


# --- augmented assignment ---------------------------------------------------------------
@pytest.mark.parametrize("operator", ["+=", "-=", "*=", "/=", "**=", "//=", "%="])
@pytest.mark.parametrize("other", ["y", "2", "y[0]", "lib.tensor(0.5)", "np.float64(1.5)"])
def test_augmented_assignment_changes_the_same_object(operator, other):
    def changed(lib):
        x = lib.tensor(X)
        names = run(f"x {operator} {other}", lib, x=x, y=lib.tensor(Y))
        return names["x"] is x, names["x"], x._version
    both(changed)


@pytest.mark.parametrize("operator", ["+=", "-=", "*=", "//=", "%=", "&=", "|=", "^=", "<<=",
                                      ">>="])
def test_augmented_assignment_on_integers(operator):
    def changed(lib):
        i = lib.tensor(INTS).abs()
        names = run(f"i {operator} lib.tensor([1, 2, 3, 1])", lib, i=i)
        return names["i"] is i, names["i"], i._version
    both(changed)


@pytest.mark.parametrize("operator", ["+=", "-=", "*=", "/="])
def test_augmented_assignment_on_a_non_leaf_is_differentiated(operator):
    def gradients(lib):
        x0, y = lib.tensor(X, requires_grad=True), lib.tensor(Y, requires_grad=True)
        x = x0 * 2
        names = run(f"x {operator} y", lib, x=x, y=y)
        (names["x"] * lib.tensor(C)).sum().backward()
        return names["x"] is x, x, x0.grad, y.grad
    both(gradients)


# --- t[index] = value -------------------------------------------------------------------
INDICES = [  # into x of shape (2, 3, 4)
    "0", "-1", "1, 2", "0, -1, 3", "1:", ":, 1", "::2", ":, ::2, 1:3", "..., 0", "0, ...",
    "None", "None, 1", ":, None, 2", "..., None", "1, ..., None, 2", "x > 10", "x[0] > 5",
    "lib.tensor([True, False])", ":, lib.tensor([True, False, True])",
    "lib.tensor([1, 0])", "lib.tensor([[0], [1]])", "[1, 0]", "[0]", "(0, 1)", "[0, 1], 2",
    "0, [2, 0]", "0, :, [3, 1]", "[0, 1], :, [1, 3]", "[[0], [1]], [0, 2]", ":, [0, 2], [1, 3]",
    "[0, 1], [2, 0], [3, 1]", "1, [True, False, True]", "lib.tensor(1)", "lib.tensor(1), 2",
    "..., [0, 3]", "None, [1, 0]", "[0, 1], None, [1, 2]", "0, 1, lib.tensor([3, 0])",
    "lib.tensor([0, 1]), lib.tensor([[2], [1]])", "x[..., 0] > 5", "-1:",
    ":, -2:, ::3", "True", "False", "..., lib.tensor([True, False, True, True])",
]
VALUES = ["7.5", "-1", "lib.tensor(2.0)", "lib.tensor(3)", "True"]


@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize("index", INDICES)
def test_setitem_with_a_number(index, value):
    def assigned(lib):
        x = lib.arange(24.0).reshape(2, 3, 4)
        run(f"x[{index}] = {value}", lib, x=x)
        return x, x._version
    both(assigned)


@pytest.mark.parametrize("index", INDICES)
def test_setitem_with_a_tensor_of_the_selected_shape(index):
    def assigned(lib):
        x = lib.arange(24.0).reshape(2, 3, 4)
        shape = eval(f"x[{index}]", scope(lib, x=x)).shape
        value = lib.tensor(-np.arange(1.0, 1 + int(np.prod(shape))).reshape(shape), dtype=x.dtype)
        run(f"x[{index}] = value", lib, x=x, value=value)
        return x, x._version, value._version
    both(assigned)


@pytest.mark.parametrize("index, value", [
    ("0", "lib.ones(4)"), ("0", "lib.arange(3.0)[:, None]"), (":, 1", "lib.tensor([1.0, 2.0])[:, None]"),
    ("0", "np.arange(4.0)"), ("0", "[1.0, 2.0, 3.0, 4.0]"), ("[0, 1]", "lib.tensor([5.0, 6.0, 7.0, 8.0])"),
    ("x > 10", "lib.tensor([-1.0])"), ("x > 10", "lib.tensor(-2.0)"),
    ("x > 10", "lib.arange(13.0)"), ("..., 0", "lib.tensor([[9.0], [8.0]])"),
    ("0, [2, 0]", "lib.tensor([1.0, 2.0, 3.0, 4.0])"), ("0", "np.array(4.5)"),
    ("0", "lib.ones(1, 3, 4)"), ("0", "lib.ones(1, 1, 1, 4)"), ("[1, 0]", "lib.ones(2, 1, 1)"),
    ("0", "lib.tensor([1, 2, 3, 4])"), ("0", "lib.tensor([True, False, True, False])"),
    ("0", "lib.tensor([1.5, 2.5, 3.5, 4.5], dtype=lib.float64)"), ("0", "np.arange(4)"),
    ("[0, 1], [1, 2]", "lib.tensor([[1.0], [2.0]]).T"), ("1, 2", "lib.ones(1, 4)"),
])
def test_setitem_broadcasts_and_converts_values(index, value):
    def assigned(lib):
        x = lib.arange(24.0).reshape(2, 3, 4)
        run(f"x[{index}] = {value}", lib, x=x)
        return x, x._version
    both(assigned)


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8", "bool", "float64", "float16"])
@pytest.mark.parametrize("index, value", [
    ("0", "2.7"), ("0", "-1.5"), ("x > 5", "lib.tensor(3.9)"), ("[1, 0]", "lib.tensor([[1.5], [0.0]])"),
    ("..., 1", "True"), ("0, 1", "lib.tensor(1.0, dtype=lib.float64)"), ("1:", "np.array([0.25, 1.75, 3, 4])"),
])
def test_setitem_casts_values_to_the_tensors_dtype(dtype, index, value):
    def assigned(lib):
        x = lib.arange(12).reshape(3, 4).to(getattr(lib, dtype))
        run(f"x[{index}] = {value}", lib, x=x)
        return x, x._version
    both(assigned)


def test_counting_with_augmented_setitem():
    def counted(lib):
        n = lib.zeros(3, 3, dtype=lib.int32)
        for a, b in [(0, 1), (1, 2), (0, 1), (2, 2)]:
            n[a, b] += 1
        m = lib.zeros(3, 3, dtype=lib.int64)
        m[[0, 1, 0], [1, 2, 1]] += 1  # a repeated pair counts once
        n[0, n[0] > 1] = -1
        return n, m, n._version, m._version
    both(counted)


SETITEM_ERRORS = [  # x: float32 (2, 3, 4)
    "x[2] = 0", "x[0, 3] = 0", "x[0, 0, 4] = 0", "x[-3] = 0", "x[0, 0, 0, 0] = 1",
    "x[0] = lib.ones(5)", "x[0] = lib.ones(2, 3, 4)", "x[[0, 1]] = lib.ones(3)",
    "x[x[0] > 0] = 0", "x[lib.tensor([True, False, True])] = 0", "x[[0, 2]] = 1",
    "x[:, [0, 3]] = 1", "x[1.5] = 0", "x['a'] = 0", "x[lib.tensor([0.0])] = 1",
    "x[0, :, [1, 7]] = 0", "x[x > 5] = lib.ones(3)", "x[0] = 'a'", "x[[0, 1], [0, 1, 2]] = 0",
    "x[0] = lib.ones(3, 4, dtype=lib.int64)[:, :3]", "x[lib.tensor([[0, 1]]), [[0], [1]], [0, 1, 2]] = 0",
]


@pytest.mark.parametrize("code", SETITEM_ERRORS)
def test_setitem_refused_changes_nothing(code):
    refused_and_unchanged(lambda lib: dict(x=lib.arange(24.0).reshape(2, 3, 4)), code)


@pytest.mark.parametrize("index, value", [
    ("1", "w[0] * 2"), ("0, 1:3", "w[:2] ** 2"), (":, 2", "w[:3].exp()"), ("x0 > 0.5", "w[0]"),
    ("[2, 0]", "w.sin()"), ("0, [3, 1]", "w[1:3] * w[0]"), ("..., 0", "w[:3]"),
    ("[0, 2], [1, 3]", "w[2:]"), ("None, 1", "w * 3"), (":, lib.tensor([True, False, True, False])",
                                                      "w[:2]"),
    ("lib.tensor([1, 2]), 0", "w[0] + w[1]"), ("1:, ::2", "w[:2].cos()"),
    # constants written over values that had gradients: those elements get none
    # (not zeros: the loss's gradient at a zero is zero, whichever graph it flows through)
    ("1", "1.5"), ("0, 1:3", "lib.tensor([1.0, 2.0], dtype=lib.float64)"), ("x0 > 0.5", "0.75"),
    ("[2, 0]", "-1.0"), ("..., 0", "lib.full((3,), 2.0, dtype=lib.float64)"), ("0, [3, 1]", "5.0"),
])
def test_setitem_on_a_non_leaf_is_differentiated(index, value):
    def gradients(lib):
        x0 = lib.tensor(X, requires_grad=True)
        w = lib.tensor(Y[0], requires_grad=True)
        x = x0 * 1
        run(f"x[{index}] = {value}", lib, x=x, x0=x0.detach(), w=w)
        (x * x * lib.tensor(C)).sum().backward()
        return x, x0.grad, w.grad, x._version
    both(gradients)


@pytest.mark.parametrize("index", ["1", "[1]", "x0 > 0.5", "..., 0"])
def test_setitem_into_a_tensor_without_grad_records_the_value(index):
    def gradients(lib):
        w = lib.tensor(Y, requires_grad=True)
        x = lib.zeros(3, 4, dtype=lib.float64)
        run(f"x[{index}] = w[{index}] * 2", lib, x=x, x0=lib.tensor(X), w=w)
        (x * lib.tensor(C)).sum().backward()
        return x, x.requires_grad, x.is_leaf, w.grad
    both(gradients)


# --- views share storage and a version counter ------------------------------------------
VIEWS = [  # of x with shape (3, 4)
    "x[0]", "x[:, 1]", "x[1:, ::2]", "x[..., 0]", "x[None]", "x[1][2:]", "x[-1, -1]", "x[0:0]",
    "x.T", "x.t()", "x.mT", "x.view(-1)", "x.view(4, 3)", "x.view(2, 2, 3)", "x.view_as(x)",
    "x.reshape(-1)", "x.reshape(6, 2)", "x.flatten()", "x.transpose(0, 1)", "x.permute(1, 0)",
    "x.unsqueeze(0)", "x.unsqueeze(1).squeeze(1)", "x.squeeze()", "x.view(-1)[::3]",
    "x.T[1:]", "x.T.T", "x.detach()", "x.expand(1, 3, 4)",
    "x.diagonal()", "x.diagonal(1)", "x.narrow(1, 1, 2)", "x.select(0, 1)", "x.split(2)[0]",
    "x.split(2, dim=1)[1]", "x.chunk(2, 1)[1]", "x.unbind(0)[1]", "x.unbind(1)[3]",
    "x.movedim(0, 1)", "x.swapaxes(0, 1)", "x.swapdims(0, 1)", "x.unflatten(1, (2, 2))",
    "x.view(2, 6)[1]", "x.as_strided((2, 2), (1, 4))", "x.contiguous()", "x.real",
]


@pytest.mark.parametrize("view", VIEWS)
def test_writing_into_a_view_writes_into_its_base(view):
    def written(lib):
        x = lib.arange(12.0).reshape(3, 4)
        v = eval(view, scope(lib, x=x))
        v.add_(100)
        v.mul_(-1)
        return x, v, x._version, v._version, v._base is x, x._base is None
    both(written)


@pytest.mark.parametrize("view", VIEWS)
def test_writing_into_the_base_shows_in_the_view(view):
    def written(lib):
        x = lib.arange(12.0).reshape(3, 4)
        v = eval(view, scope(lib, x=x))
        x[1] = -1
        x.mul_(2)
        return v, v._version
    both(written)


@pytest.mark.parametrize("copy", ["x[[0, 1]]", "x[x > 5]", "x[lib.tensor([0])]", "x[:, [1]]",
                                  "x.clone()", "x.T.reshape(-1)", "x.T.flatten()",
                                  "x.to(lib.float64)", "x[[True, False, True]]"])
def test_writing_into_a_copy_leaves_the_tensor(copy):
    def written(lib):
        x = lib.arange(12.0).reshape(3, 4)
        c = eval(copy, scope(lib, x=x))
        c.fill_(-5)
        return x, c, x._version, c._version
    both(written)


def test_writing_into_an_expanded_view_is_refused():
    def refused(lib):
        x = lib.arange(4.0)
        v = x.expand(3, 4)
        return attempt(lambda: v.add_(1)), x, x._version
    both(refused)


@pytest.mark.parametrize("view", [v for v in VIEWS if v not in
                                  ("x.detach()", "x[0:0]", "x.contiguous()")])
def test_writing_through_a_view_updates_the_bases_gradient(view):
    def gradients(lib):
        x0 = lib.tensor(X, requires_grad=True)
        w = lib.tensor(1.7, dtype=lib.float64, requires_grad=True)
        y = x0 * 1
        v = eval(view, scope(lib, x=y))
        v.mul_(w)
        v.add_(w * w)
        (y * y * lib.tensor(C)).sum().backward()
        return y, x0.grad, w.grad, y._version
    both(gradients)


@pytest.mark.parametrize("view", ["x[0]", "x.T", "x[:, 1:3]", "x.view(-1)", "x.T[1]"])
def test_reading_a_view_after_writing_through_it(view):
    def gradients(lib):
        x0 = lib.tensor(X, requires_grad=True)
        w = lib.tensor(Y, requires_grad=True)
        y = x0 * 1
        v = eval(view, scope(lib, x=y))
        v.mul_(2)
        out = (v * v).sum() + (y * w).sum()
        v.sub_(1)
        out = out + (v.exp() * 3).sum() + (y.sin() * lib.tensor(C)).sum()
        out.backward()
        return y, v, x0.grad, w.grad
    both(gradients)


@pytest.mark.parametrize("change", ["y.mul_(w)", "y[:, 1].mul_(w[:2])", "y.T[0].add_(w[:2])",
                                    "y[1] = w", "y += w", "y[0, [0, 2]] = w[:2]", "y.exp_()"])
@pytest.mark.parametrize("view", ["y[0]", "y[:, 1:]", "y.T", "y.view(-1)", "y[0][1:]"])
def test_a_view_read_after_its_base_changed_sees_the_change(view, change):
    "The view was taken before the change: its values and its gradient follow the change."
    def gradients(lib):
        x = lib.tensor(np.arange(1.0, 7.0).reshape(2, 3), requires_grad=True)
        w = lib.tensor([2.0, 3.0, 4.0], dtype=lib.float64, requires_grad=True)
        y = x * 1
        v = eval(view, scope(lib, y=y))
        run(change, lib, y=y, w=w)
        (v * lib.arange(1.0, 1.0 + v.numel(), dtype=lib.float64).reshape(v.shape)).sum().backward()
        return v, x.grad, w.grad, v._version
    both(gradients)


def test_views_of_one_base_see_each_others_writes_and_gradients():
    def gradients(lib):
        x0 = lib.tensor(X, requires_grad=True)
        y = x0 * 1
        row, column = y[1], y[:, 2]
        row.mul_(3)
        column.add_(row[0])
        (y * lib.tensor(C)).sum().backward()
        return y, row, column, x0.grad, versions(y, row, column)
    both(gradients)


# --- torch's rules ----------------------------------------------------------------------
ON_A_LEAF = [  # x: a float64 leaf (3, 4) that requires grad; y: another tensor
    "x.add_(1)", "x.sub_(y)", "x.mul_(2)", "x.div_(y)", "x.pow_(2)", "x.exp_()", "x.neg_()",
    "x.clamp_(0.2, 0.5)", "x.zero_()", "x.fill_(1)", "x.copy_(y)", "x.normal_()", "x.uniform_()",
    "x.sigmoid_()", "x.relu_()", "x[0] = 1", "x[x > 0.5] = 0", "x[[0, 1]] = y[:2]",
    "x += 1", "x *= y", "x -= y", "x /= 2", "x **= 2", "x[0].add_(1)", "x.view(-1).fill_(0)",
    "x.T.zero_()", "x[:, 1].mul_(2)", "x[1:][0].neg_()", "x[0][1] = 5",
]


@pytest.mark.parametrize("code", ON_A_LEAF)
def test_in_place_on_a_leaf_that_requires_grad_is_refused(code):
    refused_and_unchanged(lambda lib: dict(x=lib.tensor(X, requires_grad=True), y=lib.tensor(Y)),
                          code)


@pytest.mark.parametrize("code", [c for c in ON_A_LEAF if "normal_" not in c and "uniform_" not in c])
def test_in_place_on_a_leaf_is_fine_under_no_grad(code):
    def updated(lib):
        x, y = lib.tensor(X, requires_grad=True), lib.tensor(Y)
        with lib.no_grad():
            names = run(code, lib, x=x, y=y)
        (names["x"] * 2).sum().backward()
        return (names["x"] is x, x, x._version, x.is_leaf, x.grad_fn is None, x.requires_grad,
                x.grad)
    both(updated)


@pytest.mark.parametrize("draw", ["normal_", "uniform_"])
def test_random_fills_under_no_grad_keep_the_leaf(draw):
    def filled(lib):
        x = lib.tensor(X, requires_grad=True)
        with lib.no_grad():
            result = getattr(x, draw)()
        return result is x, x.shape, x._version, x.is_leaf, x.requires_grad, x.dtype
    both(filled)


SAVED_THEN_CHANGED = [  # x, w: leaves that require grad; returns what backward starts from
    "y = x.exp(); y.add_(1); out = y.sum()",
    "y = x.sigmoid(); y.mul_(2); out = y.sum()",
    "y = x.tanh(); y[0] = 0; out = y.sum()",
    "a = x * 1; b = a.sin(); a.add_(1); out = b.sum()",
    "a = x * 1; b = a * w; a.add_(1); out = b.sum()",
    "a = x * 1; b = a * w; w2 = w * 1; out = b.sum()",
    "a = x * 1; b = a * 2; a.add_(1); out = b.sum()",
    "a = x * 1; b = a + w; a.mul_(2); out = b.sum()",
    "a = x * 1; b = a.exp(); a[0].add_(1); out = b.sum()",
    "a = x * 1; b = a[0].sin(); a.add_(1); out = b.sum()",
    "a = x * 1; b = a[0].sin(); a[1].add_(1); out = b.sum()",
    "a = x * 1; b = a.T.exp(); a.view(-1)[0] = 1; out = b.sum()",
    "a = x * 1; b = a ** 2; a.detach().zero_(); out = b.sum()",
    "a = x * 1; b = a ** 2; a.data.zero_(); out = b.sum()",
    "a = x * 1; b = a ** 2; a[[0]] = 0.5; out = b.sum()",
    "a = x * 1; b = (a * a).sum(); a.mul_(w); out = b + a.sum()",
    "y = x.exp(); y.exp_(); out = y.sum()",
    "y = x.relu(); y.add_(1); out = y.sum()",
    "y = x.sqrt(); y += 1; out = y.sum()",
    "a = x * 1; b = a.sum(); a.add_(1); out = b",
    "a = x * 1; b = a @ w.T; a.zero_(); out = b.sum()",
    # each backward below reads only values that stay as they were: torch accepts them
    "a = x * 1; b = a.exp(); a.add_(1); out = b.sum()",
    "a = x * 1; b = a.log(); b.add_(1); out = b.sum()",
    "a = x * 1; b = a.sqrt(); a.add_(1); out = b.sum()",
    "a = x * 1; b = a.tanh(); a.mul_(2); out = b.sum()",
    "a = x * 1; b = a.sigmoid(); a.zero_(); out = b.sum()",
    "a = x * 1; b = a.sin(); b.add_(1); out = b.sum()",
    "a = x * 1; b = a.relu(); a.add_(1); out = b.sum()",
    "a = x * 1; b = a / w; b.add_(1); out = b.sum()",
    "a = x * 1; b = a ** 2; b.add_(1); out = b.sum()",
    "a = x * 1; b = a * w; b.mul_(2); out = b.sum()",
]


@pytest.mark.parametrize("code", SAVED_THEN_CHANGED)
def test_a_value_saved_for_backward_then_changed_is_caught_at_backward(code):
    def backward(lib):
        x, w = lib.tensor(X, requires_grad=True), lib.tensor(Y, requires_grad=True)
        names = run(code, lib, x=x, w=w)
        outcome = attempt(names["out"].backward)
        return outcome if isinstance(outcome, Raised) else (x.grad, w.grad)
    both(backward)


def test_detach_shares_the_version_counter_data_does_not():
    def counters(lib):
        x = lib.tensor(X, requires_grad=True)
        d = x.detach()
        d.add_(1)
        after_detach = versions(x, d)
        data = x.data
        data.add_(1)
        return after_detach, versions(x, data), x.detach()._version, x.data._version, x
    both(counters)


# --- .data ------------------------------------------------------------------------------
def test_data_is_a_tensor_outside_the_graph_sharing_storage():
    def outside(lib):
        p = lib.tensor(X, requires_grad=True)
        d = p.data
        described = (type(d).__name__, d.requires_grad, d.grad_fn is None, d.is_leaf,
                     d is p.data)
        d[0] = 5.0
        d.mul_(2)
        return described, p, d, versions(p, d), p.is_leaf, p.requires_grad
    both(outside)


def test_updating_parameters_through_data_with_grad_mode_on():
    def trained(lib):
        p = lib.tensor(X, requires_grad=True)
        for _ in range(3):
            p.grad = None
            (p * p * lib.tensor(C)).sum().backward()
            p.data += -0.1 * p.grad
            p.data[0] = p.data[0].clamp(0.2, 0.6)
        return p, p._version, p.grad, p.is_leaf
    both(trained)


def test_data_of_a_non_leaf():
    def non_leaf(lib):
        x = lib.tensor(X, requires_grad=True)
        y = x * 2
        y.data.fill_(1.0)
        (y * lib.tensor(C)).sum().backward()
        return y, y._version, y.data.requires_grad, x.grad
    both(non_leaf)


@pytest.mark.parametrize("new", ["lib.tensor(Y)", "lib.zeros(5)", "lib.arange(6.0).reshape(2, 3)",
                                 "lib.tensor(Y).T", "lib.tensor(INTS)", "lib.tensor(Y).float()"])
def test_assigning_data_gives_the_tensor_new_storage(new):
    def assigned(lib):
        p = lib.tensor(X, requires_grad=True)
        t = eval(new, scope(lib, Y=Y, INTS=INTS))
        outcome = attempt(lambda: setattr(p, "data", t))
        if isinstance(outcome, Raised):
            return outcome, p
        t.mul_(-1)  # p shares t's storage now
        (p * 2).sum().backward()
        return p, p.shape, p.dtype, p.requires_grad, p.is_leaf, p.grad, p._version
    both(assigned)


def test_assigning_data_a_non_tensor_is_refused():
    def refused(lib):
        p = lib.tensor(X, requires_grad=True)
        return attempt(lambda: setattr(p, "data", X)), p, p._version
    both(refused)


def test_in_place_on_a_leaf_without_requires_grad_then_requires_grad():
    def later(lib):
        x = lib.tensor(X)
        x.add_(1)
        x.requires_grad_()
        (x * x).sum().backward()
        return x, x._version, x.grad
    both(later)


# --- out= -------------------------------------------------------------------------------
A, B = RNG.uniform(0.1, 0.9, (3, 4)), RNG.uniform(0.1, 0.9, (3, 4))
OUT_CASES = [  # a, b: float32 (3, 4); v: (4,); m: (4, 2); s: a stack (2, 3, 4)
    "lib.add(a, b, out=o)", "lib.add(a, v, out=o)", "lib.add(a, 2, out=o)", "lib.sub(a, b, out=o)",
    "lib.mul(a, b, out=o)", "lib.div(a, b, out=o)", "lib.pow(a, 2, out=o)", "lib.pow(a, b, out=o)",
    "lib.neg(a, out=o)", "lib.exp(a, out=o)", "lib.log(a, out=o)", "lib.log1p(a, out=o)",
    "lib.sqrt(a, out=o)", "lib.abs(a, out=o)", "lib.sign(a - 0.5, out=o)", "lib.sin(a, out=o)",
    "lib.cos(a, out=o)", "lib.tanh(a, out=o)", "lib.sigmoid(a, out=o)", "lib.erf(a, out=o)",
    "lib.clamp(a, 0.3, 0.6, out=o)", "lib.maximum(a, b, out=o)", "lib.minimum(a, b, out=o)",
    "lib.eq(a, b, out=o)", "lib.ne(a, b, out=o)", "lib.lt(a, b, out=o)", "lib.le(a, 0.5, out=o)",
    "lib.gt(a, b, out=o)", "lib.ge(a, b, out=o)", "lib.sum(a, 0, out=o)",
    "lib.sum(a, (0, 1), out=o)", "lib.sum(a, 1, keepdim=True, out=o)", "lib.mean(a, 1, out=o)",
    "lib.var(a, 0, out=o)", "lib.std(a, 1, out=o)", "lib.logsumexp(a, 1, out=o)",
    "lib.dot(v, v, out=o)", "lib.mv(a, v, out=o)", "lib.mm(a, m, out=o)", "lib.bmm(s, s.mT, out=o)",
    "lib.matmul(a, m, out=o)", "lib.matmul(s, v, out=o)", "lib.cat([a, b], out=o)",
    "lib.cat([a, b], 1, out=o)", "lib.stack([a, b], out=o)", "lib.stack([v, v], 1, out=o)",
]


def written_out(lib, code, names, o):
    """Run `code` (which writes into `o`): (result is o, o, o's version); if it raises, the
    exception, and nn must have left `o` as it was (torch sometimes writes, then raises)."""
    before = o.tolist(), o._version  # (not .numpy(): torch cannot resize a shared storage)
    outcome = attempt(lambda: eval(code, scope(lib, o=o, **names)))
    if isinstance(outcome, Raised):
        if lib is nn:
            assert (o.tolist(), o._version) == before, "nn changed out=, then raised"
        return outcome
    return outcome is o, o, o._version


def out_operands(lib, dtype=None):
    a, b = lib.tensor(A, dtype=dtype), lib.tensor(B, dtype=dtype)
    return dict(a=a, b=b, v=b[0], m=a.T[:, :2] * 1, s=lib.stack([a, b]))


@pytest.mark.parametrize("out", ["empty", "right shape", "wrong shape"])
@pytest.mark.parametrize("case", OUT_CASES)
def test_out_receives_the_result(case, out):
    def written(lib):
        names = out_operands(lib, lib.float32)
        shape = eval(case.replace(", out=o", ""), scope(lib, **names)).shape
        made = {"empty": (0,), "right shape": shape, "wrong shape": (7,)}[out]
        o = lib.full(made, -1.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns when it resizes a non-empty out
            result = eval(case, scope(lib, o=o, **names))
        return result is o, o, o._version
    both(written)


@pytest.mark.parametrize("case", OUT_CASES)
@pytest.mark.parametrize("dtype", ["float64", "int64", "int32", "bool", "float16"])
def test_out_casts_the_result_as_torch_allows(case, dtype):
    def cast(lib):
        names = out_operands(lib)
        shape = eval(case.replace(", out=o", ""), scope(lib, **names)).shape
        o = lib.zeros(shape, dtype=getattr(lib, dtype))
        return written_out(lib, case, names, o)
    both(cast)


@pytest.mark.parametrize("case", ["lib.add(i, j, out=o)", "lib.mul(i, 2, out=o)",
                                  "lib.sum(i, 0, out=o)", "lib.eq(i, j, out=o)",
                                  "lib.matmul(i, j.T, out=o)", "lib.neg(i, out=o)",
                                  "lib.maximum(i, j, out=o)", "lib.cat([i, j], out=o)"])
@pytest.mark.parametrize("dtype", ["float32", "int64", "int16", "bool", "uint8"])
def test_out_of_an_integer_operation(case, dtype):
    def cast(lib):
        i, j = lib.tensor(INTS), lib.tensor(INTS[::-1].copy())
        o = lib.zeros(0, dtype=getattr(lib, dtype))
        return written_out(lib, case, dict(i=i, j=j), o)
    both(cast)


@pytest.mark.parametrize("case", ["lib.add(a, b, out=o)", "lib.exp(a, out=o)",
                                  "lib.sum(a, 0, out=o)", "lib.matmul(a, m, out=o)",
                                  "lib.mean(a, 1, out=o)", "lib.cat([a, b], out=o)"])
@pytest.mark.parametrize("grad", ["a", "out", "no_grad"])
def test_out_with_an_argument_that_requires_grad(case, grad):
    def refused(lib):
        names = out_operands(lib, lib.float64)
        names["a"].requires_grad_(grad != "out")
        o = lib.full((2,), -1.0, dtype=lib.float64, requires_grad=grad == "out")
        with lib.set_grad_enabled(grad != "no_grad"):
            return written_out(lib, case, names, o)
    both(refused)


@pytest.mark.parametrize("out", ["[0.0]", "np.zeros(3)", "None"])
def test_out_must_be_a_tensor(out):
    def refused(lib):
        a = lib.tensor(A)
        return attempt(lambda: eval(f"lib.add(a, a, out={out})", scope(lib, a=a)))
    both(refused)


def test_out_can_be_an_input():
    def aliased(lib):
        a, b = lib.tensor(A), lib.tensor(B)
        lib.add(a, b, out=a)
        lib.mul(b, b, out=b)
        lib.exp(a[0], out=a[1])
        return a, b, versions(a, b)
    both(aliased)


def test_out_into_a_view_writes_into_its_base():
    def into_view(lib):
        a, b = lib.tensor(A), lib.tensor(B)
        lib.add(a[0], b[0], out=b[1])
        lib.mul(a[:, 0], 2, out=a[:, 1])
        return a, b, versions(a, b)
    both(into_view)


# --- nothing modified on failure --------------------------------------------------------
FAILING = [  # x: float32 (3, 4); i: int64 (3, 4); b: bool (3, 4)
    "x.add_(lib.ones(5))", "x.add_(lib.ones(2, 3, 4))", "x.mul_(lib.ones(3, 1, 1))",
    "x.sub_(lib.ones(4, 4))", "x.copy_(lib.ones(5))", "x.copy_(lib.ones(2, 3, 4))",
    "x.fill_(lib.ones(2))", "x.masked_fill_(lib.ones(5, dtype=lib.bool), 0)",
    "x.masked_fill_(x > 0.5, lib.ones(2))", "x.clamp_(lib.ones(5))",
    "x.add_(lib.ones(4), alpha=lib.ones(2))", "x += lib.ones(2, 1, 4)", "x *= lib.ones(3, 3)",
    "x.div_(lib.ones(5))", "x.pow_(lib.ones(2))", "x.add_('a')", "x.add_(None)", "x += [1]",
    "i.add_(1.5)", "i.div_(2)", "i.mul_(0.5)", "i += 0.5", "i /= 2", "i.exp_()", "i.sqrt_()",
    "i.sigmoid_()", "i.add_(lib.tensor(1.5))", "i.pow_(0.5)",
    "b.add_(1)", "b.mul_(2)", "b.neg_()", "b.sub_(b)", "x.add_(1j)",
    "x.mul_(lib.tensor([1j]))", "i.fill_(lib.ones(3))", "x.zero_(1)", "x.exp_(2)",
    "x.normal_(0, -1)", "x.uniform_(2, 1)", "x.tanh_(lib.ones(4))", "x.add_(lib.ones(3))",
    "x.T.add_(lib.ones(4))", "x[0].add_(lib.ones(3))", "x.view(-1).mul_(lib.ones(4))",
    "x.relu_(1)", "x.sign_(x)",
]


@pytest.mark.parametrize("code", FAILING)
def test_a_refused_in_place_change_modifies_nothing(code):
    refused_and_unchanged(lambda lib: dict(x=lib.tensor(X, dtype=lib.float32), i=lib.tensor(INTS),
                                           b=lib.tensor(INTS > 0)), code)


@pytest.mark.parametrize("code", ["y.add_(lib.ones(5))", "y[5] = 1", "y[y > 0] = lib.ones(2)",
                                  "y.copy_(lib.ones(2))", "y.mul_(w[:2])", "y += w[:, :2]",
                                  "y.view(-1)[20] = 0", "y.T.sub_(w)"])
def test_a_refused_change_of_a_non_leaf_keeps_its_graph(code):
    def make(lib):
        x, w = lib.tensor(X, requires_grad=True), lib.tensor(Y, requires_grad=True)
        return dict(x=x, w=w, y=x * 2)
    names = refused_and_unchanged(make, code)
    (names["y"] * nn.tensor(C)).sum().backward()
    np.testing.assert_allclose(numpy(names["x"].grad), 2 * C)
    assert names["w"].grad is None


# --- derivatives: finite differences (float64), first and second order, and torch -------
def in_place_mul_then_exp(x, w):
    y = x * 1
    y.mul_(w)
    y.exp_()
    return y


def setitem_basic(x, w):
    y = x * 1
    y[0] = w * 2
    y[:, 1] = w[:3].sin()
    return y * y


def setitem_advanced(x, w):
    y = x.clone()
    y[[0, 2]] = w * w
    y[y > 0.5] = w[0]
    y[1, [3, 0]] = w[1:3].exp()
    return y.sum(0) * w


def augmented_setitem(x, w):
    y = x * 1
    y[[0, 2]] += w
    y[1] *= w
    y[:, 0] -= w[:3] ** 2
    return y


def writes_through_views(x, w):
    y = x * 1
    y.T[1].add_(w[:3] ** 2)
    y.diagonal().mul_(w[:3])
    y.view(-1)[2:5] = w[:3].cos()
    y[1:, ::2].div_(w[1:3] + 2)
    return (y * y).sum(1)


def view_of_a_view(x, w):
    y = x * 1
    r = y[1:]
    c = r[:, 2]
    c.mul_(w[0])
    r[0].add_(w)
    return y.exp() + c.sum()


def in_place_then_read_again(x, w):
    y = x.sin()
    y.mul_(w)
    z = y.exp()        # saves its output, not y
    y.add_(w * 3)
    return z + y.tanh()


def arithmetic_in_place(x, w):
    y = x * w
    y.add_(w)
    y.mul_(2)
    y.sub_(x, alpha=0.5)
    y.div_(w + 1)
    return y


def masked_and_clamped(x, w):
    y = x * w
    y.clamp_(-0.5, 0.5)
    y.masked_fill_(x > 1.0, 0.25)
    y.sub_(w, alpha=2)
    return y


def copy_and_fill(x, w):
    y = x * 1
    y[0].copy_(w)
    y[1].fill_(w[0])
    y[2].zero_()
    y[2] += w * x[0]
    return y * x


def ellipsis_none_and_masks(x, w):
    y = x * 2
    y[..., 1] = w[:3]
    y[None, 2] = w * w
    y[:, x[0] > 0] = 0.5 * w[0]
    return y ** 2


DERIVATIVE_CASES = [in_place_mul_then_exp, arithmetic_in_place, setitem_basic, setitem_advanced, augmented_setitem,
                    writes_through_views, view_of_a_view, in_place_then_read_again,
                    masked_and_clamped, copy_and_fill, ellipsis_none_and_masks]


def inputs(lib):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 4))
    w = rng.uniform(0.5, 1.5, 4)
    return (lib.tensor(x, requires_grad=True), lib.tensor(w, requires_grad=True))


@pytest.mark.parametrize("fn", DERIVATIVE_CASES, ids=lambda fn: fn.__name__)
def test_gradcheck_of_in_place_changes_of_non_leaves(fn):
    assert nn.gradcheck(fn, inputs(nn))
    assert torch.autograd.gradcheck(fn, inputs(torch))  # the case itself is well posed


@pytest.mark.parametrize("fn", DERIVATIVE_CASES, ids=lambda fn: fn.__name__)
def test_gradgradcheck_of_in_place_changes_of_non_leaves(fn):
    assert nn.autograd.gradgradcheck(fn, inputs(nn))
    assert torch.autograd.gradgradcheck(fn, inputs(torch))


@pytest.mark.parametrize("fn", DERIVATIVE_CASES, ids=lambda fn: fn.__name__)
def test_in_place_gradients_and_hessian_vector_products_match_torch(fn):
    def derivatives(lib):
        x, w = inputs(lib)
        out = fn(x, w)
        seed = lib.tensor(np.random.default_rng(6).standard_normal(tuple(out.shape)))
        gx, gw = lib.autograd.grad(out, (x, w), seed, create_graph=True)
        directions = np.random.default_rng(7).standard_normal((3, 4))
        (gx * lib.tensor(directions)).sum().add(gw.sum()).backward()
        return out, gx, gw, x.grad, w.grad
    both(derivatives)
