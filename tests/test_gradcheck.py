"""Every differentiable op against central finite differences (float64), and gradcheck's own teeth."""
import numpy as np
import pytest

import nn
from twin import arrays, numpy

MATMUL_CASES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
                ((3,), (5, 3, 4)), ((5, 2, 3), (3,)), ((2, 1, 4, 3), (5, 3, 2)), ((4, 3), (2, 3, 5))]
BROADCASTS = [((4, 3), (3,)), ((2, 1, 3), (4, 1)), ((), (2, 3)), ((1, 3), (4, 1)), ((2, 3), (2, 3))]

CHECKS = [  # (name, fn, shapes)
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


def leaves(shapes, seed=0):
    return [nn.tensor(a, requires_grad=True) for a in arrays(*shapes, seed=seed)]


@pytest.mark.parametrize("name, fn, shapes", CHECKS, ids=[name for name, _, _ in CHECKS])
def test_backward_matches_finite_differences(name, fn, shapes):
    assert nn.gradcheck(fn, leaves(shapes))


# --- gradcheck catches what it should --------------------------------------------------------------
def mm_with_transposes_swapped(a, b):
    "A matrix product whose vjp forgets to transpose: right shapes (for square inputs), wrong values."
    x, y = a.data, b.data
    return nn.engine.record(x @ y, (a, b), (lambda g: g @ y, lambda g: x @ g), "WrongMmBackward")


def mul_with_one_gradient_doubled(a, b):
    x, y = a.data, b.data
    return nn.engine.record(x * y, (a, b), (lambda g: g * y, lambda g: 2 * g * x), "WrongMulBackward")


def add_with_a_gradient_missing(a, b):
    x, y = a.data, b.data
    return nn.engine.record(x + y, (a, b), (lambda g: g, lambda g: np.zeros_like(g)), "WrongAddBackward")


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
