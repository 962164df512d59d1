"""Every differentiable op against central finite differences (float64), and gradcheck's own teeth."""
import numpy as np
import pytest

import nn
from twin import arrays, numpy

MATMUL_CASES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
                ((3,), (5, 3, 4)), ((5, 2, 3), (3,)), ((2, 1, 4, 3), (5, 3, 2)), ((4, 3), (2, 3, 5))]
BROADCASTS = [((4, 3), (3,)), ((2, 1, 3), (4, 1)), ((), (2, 3)), ((1, 3), (4, 1)), ((2, 3), (2, 3))]

CHECKS = [  # (name, fn, inputs): each input a shape (standard normal values) or an array
    *[(f"add {s}", lambda x, y: nn.add(x, y), s) for s in BROADCASTS],
    *[(f"mul {s}", lambda x, y: nn.mul(x, y), s) for s in BROADCASTS],
    ("x * x + x", lambda x: x * x + x, [(2, 3)]),
    ("scalars", lambda x: 2.5 * x + 1.0, [(3,)]),
    ("sum", lambda x: x.sum(), [(2, 3, 4)]),
    ("sum(1)", lambda x: x.sum(1), [(2, 3, 4)]),
    ("sum(-1, keepdim)", lambda x: x.sum(-1, keepdim=True), [(2, 3, 4)]),
    ("sum((0, 2))", lambda x: x.sum((0, 2)), [(2, 3, 4)]),
    ("sum((0, 2), keepdim)", lambda x: x.sum((0, 2), keepdim=True), [(2, 3, 4)]),
    ("sum of a product", lambda x, y: (x * y).sum(0), [(4, 3), (3,)]),
    ("dot", lambda a, b: nn.dot(a, b), [(3,), (3,)]),
    ("mv", lambda a, b: nn.mv(a, b), [(2, 3), (3,)]),
    ("mm", lambda a, b: nn.mm(a, b), [(2, 3), (3, 4)]),
    ("bmm", lambda a, b: nn.bmm(a, b), [(5, 2, 3), (5, 3, 4)]),
    *[(f"matmul {s}", lambda a, b: nn.matmul(a, b), s) for s in MATMUL_CASES],
    ("matmul in a graph", lambda a, b: ((a * a) @ b).sum(-1), [(5, 2, 3), (3, 4)]),
]


def leaves(inputs, seed=0):
    "Leaves in float64: standard normal values for each shape in `inputs`, or the given arrays as they are."
    drawn = arrays(*(() if isinstance(i, np.ndarray) else i for i in inputs), seed=seed)
    return [nn.tensor(i if isinstance(i, np.ndarray) else a, requires_grad=True) for i, a in zip(inputs, drawn)]


def positive(shape, seed=1):
    "Values in about 0.5..3.5: inside the domain of log, sqrt and of a real power, far from its edge."
    return np.asarray(np.abs(arrays(shape, seed=seed)[0]) + 0.5)


def away(shape, *kinks, seed=2, gap=0.15):
    "Standard normal values, any within `gap` of a kink moved to `gap` from it (finite differences step over none)."
    values = np.asarray(arrays(shape, seed=seed)[0])
    for k in kinks:
        values = np.where(np.abs(values - k) < gap, k + np.where(values >= k, gap, -gap), values)
    return values


CHECKS += [
    # arithmetic (chapter "Broadcasting and elementwise arithmetic")
    *[(f"sub {s}", lambda x, y: nn.sub(x, y), s) for s in BROADCASTS],
    *[(f"div {s}", lambda x, y: x / y, [s[0], positive(s[1])]) for s in BROADCASTS],
    *[(f"pow {s}", lambda x, p: x ** p, [positive(s[0]), s[1]]) for s in BROADCASTS],
    *[(f"maximum {s}", lambda x, y: nn.maximum(x, y), s) for s in BROADCASTS],
    *[(f"minimum {s}", lambda x, y: nn.minimum(x, y), s) for s in BROADCASTS],
    ("neg", lambda x: -x, [(2, 3)]),
    ("scalar - x / scalar", lambda x: 1.5 - x / 3.0 - x, [(2, 3)]),
    ("scalar / x", lambda x: 2.0 / x, [positive((2, 3))]),
    ("x ** scalar", lambda x: x ** 3 + x ** -1.5 + x ** 0.5, [positive((2, 3))]),
    ("scalar ** x", lambda x: 2.0 ** x, [(2, 3)]),
    ("where", lambda x, y: nn.where(x > 0, x * y, y), [(4, 3), (3,)]),
    ("where broadcasting", lambda c, x, y: nn.where(c > 0, x, y), [(2, 1, 3), (4, 1), (3,)]),
    # shapes (chapter "Slicing and reshaping")
    ("x[1]", lambda x: x[1], [(2, 3, 4)]),
    ("x[:, 1:3, ::2]", lambda x: x[:, 1:3, ::2], [(2, 3, 4)]),
    ("x[None, ..., -1]", lambda x: x[None, ..., -1], [(2, 3, 4)]),
    ("x[[0, 0, 1]] repeats", lambda x: x[[0, 0, 1]], [(2, 3, 4)]),
    ("x[idx, :, idx]", lambda x: x[nn.tensor([1, 1, 0]), :, nn.tensor([3, 3, 0])], [(2, 3, 4)]),
    ("x[x > 0]", lambda x: x[x > 0], [(2, 3, 4)]),
    ("x[:, mask]", lambda x: x[:, np.array([True, False, True])], [(2, 3, 4)]),
    ("reshape", lambda x: x.reshape(4, -1), [(2, 3, 4)]),
    ("view", lambda x: x.view(6, 4), [(2, 3, 4)]),
    ("flatten(1)", lambda x: x.flatten(1), [(2, 3, 4)]),
    ("transpose", lambda x: x.transpose(0, 2), [(2, 3, 4)]),
    ("t", lambda x: x.t() * 2.0, [(2, 3)]),
    ("T", lambda x: x.T, [(2, 3)]),
    ("permute", lambda x: x.permute(1, 2, 0), [(2, 3, 4)]),
    ("unsqueeze", lambda x: x.unsqueeze(1), [(2, 3)]),
    ("squeeze", lambda x: x.squeeze(), [(1, 3, 1, 2)]),
    ("expand", lambda x: x.expand(2, 3, 4), [(3, 1)]),
    ("cat", lambda x, y: nn.cat([x, y, x], 1), [(2, 3), (2, 1)]),
    ("stack", lambda x, y: nn.stack([x, y, x], 1), [(2, 3), (2, 3)]),
    ("shape ops chained", lambda x: x.permute(2, 0, 1).reshape(4, 6).t()[1:, [0, 0, 3]].unsqueeze(0), [(2, 3, 4)]),
    # functions (chapter "Functions and reductions")
    ("exp", lambda x: x.exp(), [(2, 3)]),
    ("log", lambda x: x.log(), [positive((2, 3))]),
    ("sqrt", lambda x: nn.sqrt(x), [positive((2, 3))]),
    ("abs", lambda x: x.abs(), [away((2, 3), 0)]),
    ("tanh", lambda x: x.tanh(), [(2, 3)]),
    ("sigmoid", lambda x: nn.sigmoid(x), [(2, 3)]),
    ("relu", lambda x: x.relu(), [away((2, 3), 0)]),
    ("sin", lambda x: x.sin(), [(2, 3)]),
    ("cos", lambda x: nn.cos(x), [(2, 3)]),
    ("clamp", lambda x: x.clamp(-0.5, 0.5), [away((4, 5), -0.5, 0.5)]),
    ("clamp(min)", lambda x: x.clamp(min=0.2), [away((4, 5), 0.2)]),
    ("mean", lambda x: x.mean(), [(2, 3, 4)]),
    ("mean((0, 2), keepdim)", lambda x: x.mean((0, 2), keepdim=True), [(2, 3, 4)]),
    ("var", lambda x: x.var(), [(2, 3, 4)]),
    ("var(1, correction=0)", lambda x: x.var(1, correction=0), [(2, 3, 4)]),
    ("std(-1)", lambda x: x.std(-1), [(2, 3, 4)]),
    ("std((0, 1), keepdim)", lambda x: x.std((0, 1), keepdim=True), [(2, 3, 4)]),
    ("max", lambda x: x.max(), [(2, 3, 4)]),
    ("min", lambda x: x.min(), [(2, 3, 4)]),
    ("max(1) values", lambda x: x.max(1)[0], [(2, 3, 4)]),
    ("min(-1, keepdim) values", lambda x: x.min(-1, keepdim=True)[0], [(2, 3, 4)]),
    ("logsumexp(1)", lambda x: x.logsumexp(1), [(2, 3, 4)]),
    ("logsumexp((0, 2))", lambda x: nn.logsumexp(x, (0, 2)), [(2, 3, 4)]),
    ("softmax(1)", lambda x: x.softmax(1), [(2, 3, 4)]),
    ("softmax(-1)", lambda x: nn.softmax(x, -1), [(2, 3, 4)]),
    ("log_softmax(0)", lambda x: x.log_softmax(0), [(2, 3, 4)]),
    ("log_softmax(-1) of large logits", lambda x: nn.log_softmax(x * 100.0, -1), [(2, 3, 4)]),
    ("a small network", lambda x, w: ((x @ w).tanh().log_softmax(-1) * x[:, :2]).mean(0), [(4, 3), (3, 2)]),
]


@pytest.mark.parametrize("name, fn, inputs", CHECKS, ids=[name for name, _, _ in CHECKS])
def test_backward_matches_finite_differences(name, fn, inputs):
    assert nn.gradcheck(fn, leaves(inputs))


# --- gradcheck catches what it should --------------------------------------------------------------
def mm_with_transposes_swapped(a, b):
    "A matrix product whose vjp forgets to transpose: right shapes (for square inputs), wrong values."
    x, y = a._data, b._data
    return nn.engine.record(x @ y, (a, b), (lambda g, *_: g @ y, lambda g, *_: x @ g), "WrongMmBackward")


def mul_with_one_gradient_doubled(a, b):
    x, y = a._data, b._data
    return nn.engine.record(x * y, (a, b), (lambda g, *_: g * y, lambda g, *_: 2 * g * x), "WrongMulBackward")


def add_with_a_gradient_missing(a, b):
    x, y = a._data, b._data
    return nn.engine.record(x + y, (a, b), (lambda g, *_: g, lambda g, *_: np.zeros_like(g)), "WrongAddBackward")


@pytest.mark.parametrize("wrong_op", [mm_with_transposes_swapped, mul_with_one_gradient_doubled,
                                      add_with_a_gradient_missing])
def test_gradcheck_catches_a_wrong_vjp(wrong_op):
    with pytest.raises(nn.GradcheckError):
        nn.gradcheck(wrong_op, leaves([(3, 3), (3, 3)]))


def test_gradcheck_rejects_float32_inputs():
    x = nn.tensor(np.ones(3, np.float32), requires_grad=True)
    with pytest.raises(ValueError):
        nn.gradcheck(lambda x: x * x, [x])


def test_gradcheck_rejects_inputs_that_do_not_require_grad():
    with pytest.raises(ValueError):
        nn.gradcheck(lambda x: x * x, [nn.tensor(np.ones(3))])


def test_gradcheck_leaves_its_inputs_alone():
    x, y = leaves([(2, 3), (3,)])
    y.grad = nn.tensor(np.full(3, 7.0))
    before = numpy(x), numpy(y), numpy(y.grad)
    nn.gradcheck(lambda x, y: x * y, [x, y])
    assert x.grad is None
    for kept, now in zip(before, (numpy(x), numpy(y), numpy(y.grad))):
        np.testing.assert_array_equal(now, kept)
