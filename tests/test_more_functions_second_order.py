"""Second derivatives of the second set of functions and reductions, against PyTorch (float64).

As in test_higher_order: first gradients with create_graph=True, then a Hessian-vector product,
compared with torch's; and nn.autograd.gradgradcheck against finite differences of the gradient.
An op whose second derivative is 0 (floor, a sum of |x|, amax, ...) is followed by a smooth
function, so that its vjp itself must be recorded and differentiated.
"""
import math

import numpy as np
import pytest
import torch

import nn
from test_higher_order import assert_all_same, leaves, second_derivatives
from twin import F, arrays

INF = math.inf


def positive(shape, seed=1):
    return np.abs(arrays(shape, seed=seed)[0]) + 0.5


def nonzero(shape, seed=2, gap=0.3):
    "Standard normal values pushed at least `gap` away from 0."
    values = arrays(shape, seed=seed)[0]
    return values + np.sign(values) * gap


def fractional(shape, seed=3, gap=0.1):
    "Values whose fractional part stays `gap` from 0 and 1 (and so from every jump of floor)."
    values = arrays(shape, seed=seed)[0] * 3
    whole = np.floor(values)
    return whole + np.clip(values - whole, gap, 1 - gap)


def with_zeros(shape, positions, seed=4):
    "Standard normal values with exact zeros at the flat `positions`."
    values = arrays(shape, seed=seed)[0].ravel()
    values[list(positions)] = 0.0
    return values.reshape(shape)


UNIT = np.tanh(arrays((2, 3), seed=5)[0]) * 0.9
PROBABILITY = 1 / (1 + np.exp(-arrays((2, 3), seed=6)[0]))


def op(expression, *inputs):
    """A case: torch code over `lib`, `F` and tensors a, b, c made from `inputs` (a shape:
    standard normal values; an array: its values)."""
    def fn(lib, *tensors):
        return eval(expression, {"lib": lib, "F": F(lib), "np": np, "INF": INF},
                    dict(zip("abcd", tensors)))
    drawn = arrays(*(() if isinstance(i, np.ndarray) else i for i in inputs), seed=7)
    values = [i if isinstance(i, np.ndarray) else a for i, a in zip(inputs, drawn)]
    return pytest.param(fn, values, id=expression)


OPS = [
    # elementwise functions of one tensor
    op("a.log2()", positive((2, 3))),
    op("lib.log10(a)", positive((2, 3))),
    op("a.expm1()", (2, 3)),
    op("lib.rsqrt(a)", positive((2, 3))),
    op("a.square()", (2, 3)),
    op("lib.square(a).sin()", (2, 3)),
    op("a.reciprocal()", nonzero((2, 3))),
    op("a.sinh()", (2, 3)),
    op("lib.cosh(a)", (2, 3)),
    op("a.asin()", UNIT),
    op("lib.acos(a)", UNIT),
    op("a.atan()", (2, 3)),
    op("a.frac().sin()", fractional((2, 3))),
    op("a.floor() * a * a", fractional((2, 3))),
    op("lib.ceil(a) * a.sin()", fractional((2, 3))),
    op("a.trunc() * a * a", fractional((2, 3))),
    op("a.round() * a * a", fractional((2, 3)) + 0.5),
    op("lib.round(a, decimals=1) * a * a", fractional((2, 3)) / 10 + 0.05),
    op("a.sign() * a * a", nonzero((2, 3))),
    op("a.logit()", PROBABILITY),
    op("lib.logit(a, eps=0.05)", PROBABILITY),
    op("lib.logit(a * 1.5 - 0.25, eps=0.1)", np.array([0.05, 0.3, 0.5, 0.7, 0.95])),
    op("lib.nan_to_num(a, 1.0) * a * a", (2, 3)),
    # functions of two and three tensors
    op("lib.atan2(a, b)", (2, 3), (2, 3)),
    op("a.arctan2(b)", (4, 3), (3,)),
    op("lib.fmod(a, b) * a * b", fractional((2, 3)) * 2, nonzero((2, 3))),
    op("lib.remainder(a, b) * a * b", fractional((2, 3)) * 2, nonzero((2, 3))),
    op("(a % 1.5).sin()", fractional((2, 3)) * 1.5),
    op("a.fmod(-2.0) * a", fractional((2, 3)) * 2),
    op("lib.lerp(a, b, c)", (2, 3), (2, 3), (2, 3)),
    op("lib.lerp(a, b, c)", (4, 3), (3,), (4, 1)),
    op("a.lerp(b, 0.3).sin()", (2, 3), (2, 3)),
    op("lib.lerp(a, b, 0.8) * a", (2, 3), (2, 3)),
    op("lib.addcmul(a, b, c, value=0.5)", (2, 3), (2, 3), (3,)),
    op("lib.addcmul(a, b, c).sin()", (2, 3), (2, 1), (3,)),
    op("lib.addcdiv(a, b, c, value=-2)", (2, 3), (2, 3), nonzero((3,))),
    op("a.addcdiv(b, c)", (4, 3), (3,), nonzero((4, 1))),
    # reductions
    op("a.prod()", (2, 3)),
    op("a.prod(1)", (2, 3, 4)),
    op("lib.prod(a, 0, keepdim=True)", (3, 4)),
    op("a.prod()", with_zeros((2, 3), [4])),
    op("a.prod(1)", with_zeros((3, 4), [1, 6, 7, 8, 9, 10])),  # lines with 1, 2 and 3 zeros
    op("a.prod(-1).sin()", with_zeros((3, 4), [2, 5, 6])),
    op("a.prod(0, dtype=lib.float64)", with_zeros((3, 4), [0, 4])),
    op("(a * a).prod(1)", with_zeros((2, 5), [3, 7, 9])),
    op("a.amax().sin()", (2, 3, 4)),
    op("lib.amax(a, (0, 2)).sin()", (2, 3, 4)),
    op("a.amin(1, keepdim=True).sin()", (2, 3, 4)),
    op("lib.amax(a, 1) * lib.amin(a, 1)", (2, 3)),
    op("lib.aminmax(a, dim=1).min.sin() + a.aminmax(dim=1).max ** 2", (2, 3, 4)),
    op("a.median().sin()", (2, 3, 4)),
    op("a.median(1).values.sin()", (2, 3, 4)),
    op("lib.median(a, -1, keepdim=True)[0] ** 2", (2, 3, 4)),
    # norms
    *[op(f"lib.linalg.vector_norm(a, {ord}, dim=-1)", nonzero((2, 3, 4)))
      for ord in ["2", "1", "INF", "-INF", "3", "2.5", "1.5", "0.5", "-1", "-2.5"]],
    op("lib.linalg.vector_norm(a, 1).sin()", nonzero((2, 3))),
    op("lib.linalg.vector_norm(a, INF).sin()", nonzero((2, 3))),
    op("a.norm()", (2, 3)),
    op("lib.norm(a, 3, dim=(0, 1), keepdim=True)", nonzero((2, 3, 4))),
    op("lib.norm(a, 'fro', 1)", (2, 3)),
    op("lib.linalg.matrix_norm(a, 1).sin()", (2, 3, 4)),
    op("lib.linalg.matrix_norm(a, -INF) ** 2", (2, 3, 4)),
    op("lib.linalg.norm(a, dim=(1, 2))", (2, 3, 4)),
    op("lib.linalg.norm(a, INF).sin()", (3, 4)),
    # products plus a tensor
    op("lib.addmm(a, b, c)", (4,), (2, 3), (3, 4)),
    op("lib.addmm(a, b, c, beta=0.5, alpha=-2).sin()", (2, 1), (2, 3), (3, 4)),
    op("a.addmm(b, c, beta=0)", (2, 4), (2, 3), (3, 4)),
    op("lib.baddbmm(a, b, c, beta=2, alpha=0.5)", (5, 1, 4), (5, 2, 3), (5, 3, 4)),
    op("lib.baddbmm(a, b, c).sin()", (4,), (5, 2, 3), (5, 3, 4)),
    # smooth activations
    op("F.softplus(a)", (2, 3)),
    op("F.softplus(a * 4, beta=2, threshold=3)", np.array([-3.0, -0.5, 0.0, 0.3, 1.0, 5.0])),
    op("F.softplus(a, beta=-1.5)", (2, 3)),
    op("F.silu(a)", (2, 3)),
    op("F.silu(a * 20)", (2, 3)),
    op("F.mish(a)", (2, 3)),
    op("F.mish(a * 10)", (2, 3)),
]


# ties: no derivative exists there (finite differences break the tie), but torch's choice does
AT_TIES = [
    op("lib.amax(a, 1) * lib.amin(a, 1)", np.array([[1.0, 3.0, 3.0], [2.0, 2.0, -1.0]])),
    op("lib.aminmax(a).max * a", np.array([[1.0, 3.0, 3.0], [2.0, 2.0, -1.0]])),
    op("a.median() * a", np.array([[1.0, 2.0, 3.0], [2.0, 2.0, -1.0]])),
    op("lib.linalg.vector_norm(a, INF, dim=1) * a.sum(1)", np.array([[1.0, -3.0, 3.0], [2.0, 2.0, -1.0]])),
]


@pytest.mark.parametrize("fn, values", OPS + AT_TIES)
def test_second_derivative_matches_torch(fn, values):
    (torch_grads, torch_hvp), (nn_grads, nn_hvp) = (
        second_derivatives(lib, fn, values) for lib in (torch, nn))
    assert_all_same(torch_grads, nn_grads, "first gradient of input")
    assert_all_same(torch_hvp, nn_hvp, "Hessian-vector product, input")


@pytest.mark.parametrize("fn, values", OPS)
def test_gradgradcheck_passes(fn, values):
    assert nn.autograd.gradgradcheck(lambda *xs: fn(nn, *xs), leaves(nn, values))


@pytest.mark.parametrize("fn, values", OPS)
def test_create_graph_does_not_change_first_gradients(fn, values):
    gradients = []
    for create_graph in (False, True):
        inputs = leaves(nn, values)
        gradients.append(nn.autograd.grad(fn(nn, *inputs).sum(), inputs, create_graph=create_graph))
    for plain, graphed in zip(*gradients):
        np.testing.assert_allclose(graphed.detach().numpy(), plain.numpy(), rtol=1e-13, atol=1e-15)


def test_cofactors_of_prod_are_exact_at_zeros():
    # d^2 prod / dx_i dx_j = product of the others: with zeros at i and j it is the rest's product
    x = nn.tensor([0.0, 2.0, 0.0, 3.0], requires_grad=True)
    (g,) = nn.autograd.grad(x.prod(), x, create_graph=True)
    hessian = np.stack([nn.autograd.grad(g[i], x, retain_graph=True)[0].numpy() for i in range(4)])
    expected = np.array([[0, 0, 6, 0], [0, 0, 0, 0], [6, 0, 0, 0], [0, 0, 0, 0]], dtype=float)
    np.testing.assert_array_equal(hessian, expected)
