"""Higher-order derivatives against PyTorch (float64): create_graph, autograd.grad,
gradgradcheck and autograd.functional.

Each op's second derivative is a Hessian-vector product: first gradients of the output
seeded with a fixed random array, made with create_graph=True, then the gradient of
their dot product with fixed random directions. A linear op (a shape op, a sum, an
index) has no second derivative of its own, so its case applies sin after it: then the
op's vjp itself must be recorded and differentiated.
"""
import gc
import tracemalloc

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import nn
from test_gradcheck import away, positive
from twin import F, arrays, as_tuple, assert_same, numpy, twin_raises

RTOL, ATOL = 1e-9, 1e-11  # float64: summation orders differ by a few roundings


# --- inputs and constants -------------------------------------------------------------
def probabilities(shape, seed=3):
    "Rows of positive values that sum to 1 (class-probability targets)."
    p = positive(shape, seed=seed)
    return p / p.sum(-1, keepdims=True)


def fractions(shape, seed=4):
    "Values strictly between 0 and 1 (binary targets)."
    return 1 / (1 + np.exp(-arrays(shape, seed=seed)[0]))


CONSTANTS = {  # arrays the cases' code can name; lib.tensor makes them constants
    "T": np.array([0, 2, 1, 2]),  # class indices for 4 samples of 5 classes
    "W": np.array([0.5, 1.0, 2.0, 1.5, 0.7]),  # class weights
    "IDX": np.array([[0, 2, 1], [3, 1, 1]]),  # embedding indices
    "BW": positive((4, 3), seed=5),  # elementwise loss weights
    "POS": positive((3,), seed=6),  # pos_weight
}
LO, HI = np.linspace(-0.7, -0.3, 5), np.linspace(0.3, 0.7, 5)  # tensor bounds of clamp


def op(expression, *inputs):
    """A case: a line of torch code over `lib`, `F`, the CONSTANTS and tensors a, b,
    c, d made from `inputs` (a shape: standard normal values; an array: its values)."""
    def fn(lib, *tensors):
        scope = {"lib": lib, "F": F(lib), "np": np, **CONSTANTS}
        return eval(expression, scope, dict(zip("abcd", tensors)))
    drawn = arrays(*(() if isinstance(i, np.ndarray) else i for i in inputs))
    values = [i if isinstance(i, np.ndarray) else a for i, a in zip(inputs, drawn)]
    return pytest.param(fn, values, id=expression)


OPS = [
    # arithmetic, with broadcasting
    op("a + b", (4, 3), (3,)),
    op("(a + b).sin()", (4, 3), (3,)),
    op("a - b", (2, 1, 3), (4, 1)),
    op("(a - b).sin()", (2, 1, 3), (4, 1)),
    op("a * b", (2, 1, 3), (4, 1)),
    op("a / b", (4, 3), positive((3,))),
    op("a / b", (2, 1, 3), positive((4, 1))),
    op("a ** b", positive((4, 3)), (3,)),
    op("a ** b", positive((2, 1, 3)), (4, 1)),
    op("a ** 3", (2, 3)),
    op("2.0 ** a", (2, 3)),
    op("-a", (2, 3)),
    op("(-a).sin()", (2, 3)),
    op("lib.maximum(a, b).sin()", (4, 3), (3,)),
    op("lib.minimum(a, b).sin()", (2, 1, 3), (4, 1)),
    op("lib.maximum(a, b) * a", (4, 3), (3,)),
    op("lib.where(a > 0, a, b).sin()", (4, 3), (3,)),
    op("lib.where(a > 0, a, b) * b", (4, 3), (3,)),
    # products
    op("lib.dot(a, b)", (3,), (3,)),
    op("lib.mv(a, b)", (2, 3), (3,)),
    op("lib.mm(a, b)", (2, 3), (3, 4)),
    op("lib.bmm(a, b)", (5, 2, 3), (5, 3, 4)),
    op("a @ b", (3,), (3, 4)),
    op("a @ b", (2, 3), (3,)),
    op("lib.matmul(a, b)", (2, 1, 4, 3), (5, 3, 2)),
    op("(a @ b).sin()", (2, 1, 4, 3), (5, 3, 2)),
    # elementwise functions
    op("a.exp()", (2, 3)),
    op("lib.log(a)", positive((2, 3))),
    op("a.log1p()", positive((2, 3))),
    op("lib.sqrt(a)", positive((2, 3))),
    op("a.tanh()", (2, 3)),
    op("lib.sigmoid(a)", (2, 3)),
    op("a.sin()", (2, 3)),
    op("lib.cos(a)", (2, 3)),
    op("a.abs()", away((2, 3), 0)),
    op("a.abs() * a", away((2, 3), 0)),
    op("lib.relu(a)", away((2, 3), 0)),
    op("lib.relu(a).sin()", away((2, 3), 0)),
    op("a.sign()", away((2, 3), 0)),
    op("a.sign() * a * a", away((2, 3), 0)),
    op("lib.erf(a)", (2, 3)),
    op("a.clamp(-0.5, 0.5).sin()", away((4, 5), -0.5, 0.5)),
    op("a.clamp(min=0.2) ** 2", away((4, 5), 0.2)),
    op("lib.clamp(a, b, c).sin()", away((4, 5), LO, HI), LO, HI),
    # reductions
    op("a.sum().sin()", (2, 3, 4)),
    op("a.sum(1).sin()", (2, 3, 4)),
    op("a.sum((0, 2), keepdim=True).sin()", (2, 3, 4)),
    op("a.mean().sin()", (2, 3, 4)),
    op("a.mean(-1, keepdim=True).sin()", (2, 3, 4)),
    op("a.var()", (2, 3, 4)),
    op("a.var(1)", (2, 3, 4)),
    op("a.var((0, 2), keepdim=True, correction=0)", (2, 3, 4)),
    op("a.std()", (2, 3, 4)),
    op("a.std(-1, keepdim=True)", (2, 3, 4)),
    op("a.max().sin()", (2, 3, 4)),
    op("a.max(1)[0].sin()", (2, 3, 4)),
    op("a.min(-1, keepdim=True)[0].sin()", (2, 3, 4)),
    op("a.logsumexp(1)", (2, 3, 4)),
    op("lib.logsumexp(a, (0, 2), keepdim=True)", (2, 3, 4)),
    op("a.softmax(-1)", (2, 3, 4)),
    op("lib.softmax(a, 0)", (2, 3, 4)),
    op("a.log_softmax(1)", (2, 3, 4)),
    # indexing
    op("a[1:, ::2].sin()", (3, 4)),
    op("a[[0, 0, 2]].sin()", (3, 4)),
    op("a[a > 0].sin()", away((3, 4), 0)),
    op("a[None, 1].sin()", (3, 4)),
    # shapes
    op("a.reshape(4, -1).sin()", (2, 3, 4)),
    op("a.reshape(4, -1)", (2, 3, 4)),
    op("a.view(6, 4).sin()", (2, 3, 4)),
    op("a.flatten().sin()", (2, 3, 4)),
    op("a.flatten(1).sin()", (2, 3, 4)),
    op("a.squeeze().sin()", (1, 3, 1, 2)),
    op("a.unsqueeze(1).sin()", (2, 3)),
    op("a.permute(1, 2, 0).sin()", (2, 3, 4)),
    op("a.transpose(0, 2).sin()", (2, 3, 4)),
    op("a.t().sin()", (2, 3)),
    op("a.T.sin()", (2, 3)),
    op("a.mT.sin()", (2, 3, 4)),
    op("a.expand(2, 3, 4).sin()", (3, 1)),
    op("a.permute(1, 0).contiguous().sin()", (2, 3)),
    op("lib.cat([a, b, a], 1).sin()", (2, 3), (2, 1)),
    op("lib.stack([a, b, a], 1).sin()", (2, 3), (2, 3)),
    # layers and losses
    op("F.linear(a, b, c)", (2, 4, 3), (5, 3), (5,)),
    op("F.linear(a, b)", (2, 4, 3), (5, 3)),
    op("F.linear(a, b, c).sin()", (2, 4, 3), (5, 3), (5,)),
    op("F.gelu(a)", (2, 3)),
    op("F.gelu(a, approximate='tanh')", (2, 3)),
    op("F.embedding(lib.tensor(IDX), a, padding_idx=1).sin()", (4, 3)),
    op("F.layer_norm(a, (4,), b, c)", (2, 3, 4), (4,), (4,)),
    op("F.layer_norm(a, (3, 4), b, c)", (2, 3, 4), (3, 4), (3, 4)),
    op("F.batch_norm(a, None, None, b, c, training=True)", (4, 3), (3,), (3,)),
    op("F.batch_norm(a, None, None, b, c, training=True)", (4, 3, 2), (3,), (3,)),
    op("F.mse_loss(a, b)", (4, 3), (4, 3)),
    op("F.mse_loss(a, b, weight=lib.tensor(BW))", (4, 3), (4, 3)),
    op("F.nll_loss(a, lib.tensor(T)).sin()", (4, 5)),
    op("F.nll_loss(a, lib.tensor(T), weight=lib.tensor(W)).sin()", (4, 5)),
    op("F.cross_entropy(a, lib.tensor(T))", (4, 5)),
    op("F.cross_entropy(a, lib.tensor(T), weight=lib.tensor(W))", (4, 5)),
    op("F.cross_entropy(a, lib.tensor(T), ignore_index=2)", (4, 5)),
    op("F.cross_entropy(a, lib.tensor(T), label_smoothing=0.1)", (4, 5)),
    op("F.cross_entropy(a, b)", (4, 5), probabilities((4, 5))),
    op("F.cross_entropy(a, b, weight=lib.tensor(W), label_smoothing=0.2)",
       (4, 5), probabilities((4, 5))),
    op("F.binary_cross_entropy_with_logits(a, b)", (4, 3), fractions((4, 3))),
    op("F.binary_cross_entropy_with_logits(a, b, weight=lib.tensor(BW), "
       "pos_weight=lib.tensor(POS))", (4, 3), fractions((4, 3))),
    op("F.conv2d(a, b, c, stride=2, padding=1, dilation=2, groups=2)",
       (2, 4, 7, 7), (6, 2, 3, 3), (6,)),
    op("F.conv2d(a, b).sin()", (1, 2, 5, 4), (3, 2, 2, 3)),
    op("F.max_pool2d(a, 2, padding=1).sin()", (2, 3, 5, 5)),
]


# --- second derivatives ---------------------------------------------------------------
def leaves(lib, values):
    "Every value as a `lib` leaf that requires grad."
    return [lib.tensor(v, requires_grad=True) for v in values]


def random_like(lib, tensors, seed):
    "Fixed random `lib` tensors (constants) with the tensors' shapes, in float64."
    rng = np.random.default_rng(seed)
    return [lib.tensor(rng.standard_normal(tuple(t.shape))) for t in tensors]


def differentiate(lib, tensors, directions, inputs, create_graph=False):
    """The gradient of sum_i <tensors_i, directions_i> with respect to the inputs (None
    for an unused input); all None if that sum does not require grad (a constant)."""
    pairs = [(t, d) for t, d in zip(tensors, directions) if t is not None]
    total = sum((t * d).sum() for t, d in pairs)
    if not (isinstance(total, (torch.Tensor, nn.Tensor)) and total.requires_grad):
        return (None,) * len(inputs)
    return lib.autograd.grad(total, inputs, create_graph=create_graph,
                             allow_unused=True)


def gradients(lib, fn, inputs, create_graph, seed=0):
    "The gradients of fn's output at the inputs, seeded with a fixed random array."
    out = fn(lib, *inputs)
    [w] = random_like(lib, [out], seed)
    return lib.autograd.grad(out, inputs, grad_outputs=w, create_graph=create_graph)


def first_gradients(lib, fn, values, create_graph, seed=0):
    "The gradients of fn's output at new leaves holding the values; and the leaves."
    inputs = leaves(lib, values)
    return gradients(lib, fn, inputs, create_graph, seed), inputs


def second_derivatives(lib, fn, values, seed=0):
    "The first gradients (create_graph=True) and a Hessian-vector product."
    grads, inputs = first_gradients(lib, fn, values, create_graph=True, seed=seed)
    return grads, differentiate(lib, grads, random_like(lib, inputs, seed + 1), inputs)


def dense(t):
    "A torch tensor as an ordinary one (torch may give an all-zeros ZeroTensor)."
    return None if t is None else torch.from_numpy(t.detach().numpy(force=True).copy())


def assert_same_or_zero(expected, actual, what):
    "Torch's and nn's gradients agree; None in one library only if the other is 0."
    expected = dense(expected)
    if expected is None or actual is None:
        other = expected if actual is None else actual
        assert other is None or not numpy(other).any(), f"{what}: None in one library"
    else:
        assert_same(expected, actual, RTOL, ATOL, what)


def assert_all_same(expected, actual, what):
    assert len(expected) == len(actual), f"{what}: count"
    for i, (e, a) in enumerate(zip(expected, actual)):
        assert_same_or_zero(e, a, f"{what} {i}")


@pytest.mark.parametrize("fn, values", OPS)
def test_second_derivative_matches_torch(fn, values):
    (torch_grads, torch_hvp), (nn_grads, nn_hvp) = (
        second_derivatives(lib, fn, values) for lib in (torch, nn))
    assert_all_same(torch_grads, nn_grads, "first gradient of input")
    assert_all_same(torch_hvp, nn_hvp, "Hessian-vector product, input")


@pytest.mark.parametrize("fn, values", OPS)
def test_create_graph_does_not_change_first_gradients(fn, values):
    plain, _ = first_gradients(nn, fn, values, create_graph=False)
    graphed, _ = first_gradients(nn, fn, values, create_graph=True)
    for i, (p, g) in enumerate(zip(plain, graphed)):
        assert np.array_equal(numpy(p), numpy(g)), (
            f"input {i}: create_graph changes the gradient by up to "
            f"{np.max(np.abs(numpy(p) - numpy(g))):.3g}")


@pytest.mark.parametrize("fn, values", OPS)
def test_gradgradcheck_passes(fn, values):
    assert nn.autograd.gradgradcheck(lambda *xs: fn(nn, *xs), leaves(nn, values))


# --- gradgradcheck catches a wrong second derivative ----------------------------------
def constant(value):
    "The value with its graph cut: a vjp reading it gets only first derivatives right."
    return np.asarray(value)


def cube_with_a_constant_factor(x):
    "x ** 3 whose vjp reads x ** 2 as a constant: d/dx of the gradient misses 6 x g."
    vjp = lambda g, y, x: g * 3 * x * constant(x)
    return nn.engine.record(x._data ** 3, (x,), (vjp,), "WrongPowBackward")


def exp_with_a_constant_output(x):
    "exp(x) whose vjp reads its output as a constant."
    return nn.engine.record(np.exp(x._data), (x,), (lambda g, y, x: g * constant(y),),
                            "WrongExpBackward")


def tanh_with_a_constant_output(x):
    "tanh(x) whose vjp reads its output as a constant."
    vjp = lambda g, y, x: g * (1 - constant(y) ** 2)
    return nn.engine.record(np.tanh(x._data), (x,), (vjp,), "WrongTanhBackward")


def mul_with_a_constant_gradient(x, y):
    "x * y whose vjps read g as a constant: the derivative along the seed is lost."
    vjps = (lambda g, z, x, y: constant(g) * y), (lambda g, z, x, y: constant(g) * x)
    return nn.engine.record(x._data * y._data, (x, y), vjps, "WrongMulBackward")


WRONG_OPS = [cube_with_a_constant_factor, exp_with_a_constant_output,
             tanh_with_a_constant_output, mul_with_a_constant_gradient]


@pytest.mark.parametrize("wrong_op", WRONG_OPS, ids=lambda f: f.__name__)
def test_gradgradcheck_catches_a_wrong_second_derivative(wrong_op):
    count = wrong_op.__code__.co_argcount
    inputs = leaves(nn, arrays(*[(2, 3)] * count, seed=7))
    assert nn.gradcheck(wrong_op, inputs), "the first derivative must be right"
    with pytest.raises(nn.GradcheckError):
        nn.autograd.gradgradcheck(wrong_op, inputs)


# --- third derivatives ----------------------------------------------------------------
THIRD = [
    op("a.exp()", (2, 3)),
    op("a.tanh()", (2, 3)),
    op("lib.sigmoid(a)", (2, 3)),
    op("a * b * c", (2, 3), (3,), (2, 1)),
    op("(a * b).exp() * c", (2, 3), (3,), (2, 1)),
    op("a.softmax(-1)", (2, 3, 4)),
    op("a @ b", (2, 4, 3), (3, 2)),
    op("(a @ b).tanh()", (2, 4, 3), (3, 2)),
    op("F.gelu(a)", (2, 3)),
    op("F.gelu(a, approximate='tanh')", (2, 3)),
]


def third_derivatives(lib, fn, values):
    "Three nested gradients, each of the last one's dot product with random directions."
    grads, inputs = first_gradients(lib, fn, values, create_graph=True)
    second = differentiate(lib, grads, random_like(lib, inputs, 1), inputs,
                           create_graph=True)
    return second, differentiate(lib, second, random_like(lib, inputs, 2), inputs)


@pytest.mark.parametrize("fn, values", THIRD)
def test_third_derivative_matches_torch(fn, values):
    (torch_second, torch_third), (nn_second, nn_third) = (
        third_derivatives(lib, fn, values) for lib in (torch, nn))
    assert_all_same(torch_second, nn_second, "second derivative, input")
    assert_all_same(torch_third, nn_third, "third derivative, input")


NORMS = [
    op("F.layer_norm(a, (4,), b, c)", (2, 3, 4), (4,), (4,)),
    op("F.batch_norm(a, None, None, b, c, training=True)", (4, 3, 2), (3,), (3,)),
]


@pytest.mark.parametrize("fn, values", NORMS)
def test_third_derivative_of_a_norm_matches_finite_differences(fn, values):
    """torch's third derivatives of layer_norm and of batch_norm in training are wrong
    (pytorch/pytorch#175754, #186256); nn's are checked against finite differences of
    its Hessian-vector product, which test_second_derivative_matches_torch checks."""
    def hessian_vector_product(*inputs):
        with nn.enable_grad():
            inputs = [x if x.requires_grad else x.detach().requires_grad_()
                      for x in inputs]
            grads = gradients(nn, fn, inputs, create_graph=True)
            products = differentiate(nn, grads, random_like(nn, inputs, 1), inputs,
                                     create_graph=True)
        return nn.cat([(nn.zeros_like(x) if p is None else p).reshape(-1)
                       for p, x in zip(products, inputs)])
    assert nn.gradcheck(hessian_vector_product, leaves(nn, values))


# --- random chains of ops -------------------------------------------------------------
UNARY = {
    "exp": lambda lib, x: x.exp(),
    "tanh": lambda lib, x: x.tanh(),
    "sigmoid": lambda lib, x: lib.sigmoid(x),
    "sin": lambda lib, x: x.sin(),
    "square": lambda lib, x: x * x,
}
BINARY = {  # the chain's value x and a new leaf y (positive as a divisor or a base)
    "add": lambda lib, x, y: x + y,
    "sub": lambda lib, x, y: y - x,
    "mul": lambda lib, x, y: x * y,
    "div": lambda lib, x, y: x / y,
    "pow": lambda lib, x, y: y ** x,
    "maximum": lambda lib, x, y: lib.maximum(x, y),
}
POSITIVE_LEAF = {"div", "pow"}
sizes = st.integers(1, 4)


@st.composite
def broadcasting_with(draw, shape):
    "A shape that broadcasts with `shape`: a dim dropped or dims added in front, 1s."
    rank = draw(st.integers(max(len(shape) - 1, 0), 3))
    aligned = ((None,) * max(rank - len(shape), 0) + shape)[-rank:] if rank else ()
    return tuple(draw(sizes) if n in (None, 1) else draw(st.sampled_from([1, n]))
                 for n in aligned)


@st.composite
def chains(draw):
    """The leaves' shapes and 2-4 steps: ("unary", name), ("binary", name, leaf),
    ("sum" or "mean", dim, keepdim), ("softmax", dim)."""
    shape = tuple(draw(st.lists(sizes, min_size=1, max_size=3)))
    shapes, steps = [shape], []
    for kind in draw(st.lists(st.sampled_from(["unary", "binary", "reduce", "softmax"]),
                              min_size=2, max_size=4)):
        rank = len(shape)
        if kind == "binary":
            name = draw(st.sampled_from(sorted(BINARY)))
            other = draw(broadcasting_with(shape))
            steps.append(("binary", name, len(shapes)))
            shapes.append(other)
            shape = np.broadcast_shapes(shape, other)
        elif kind == "unary" or rank == 0:
            steps.append(("unary", draw(st.sampled_from(sorted(UNARY)))))
        elif kind == "reduce":
            dim, keepdim = draw(st.integers(-rank, rank - 1)), draw(st.booleans())
            steps.append((draw(st.sampled_from(["sum", "mean"])), dim, keepdim))
            shape = tuple(1 if i == dim % rank else n for i, n in enumerate(shape)
                          if keepdim or i != dim % rank)
        else:
            steps.append(("softmax", draw(st.integers(-rank, rank - 1))))
    return shapes, steps


def run_chain(steps):
    "The chain as code over `lib` and its leaves."
    def fn(lib, x, *others):
        for step in steps:
            if step[0] == "unary":
                x = UNARY[step[1]](lib, x)
            elif step[0] == "binary":
                x = BINARY[step[1]](lib, x, others[step[2] - 1])
            elif step[0] == "softmax":
                x = x.softmax(step[1])
            else:
                x = getattr(x, step[0])(step[1], keepdim=step[2])
        return x
    return fn


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(chains(), st.integers(0, 2**32 - 1))
def test_random_chain_second_derivative_matches_torch(chain, seed):
    shapes, steps = chain
    values = arrays(*shapes, seed=seed)
    for step in steps:
        if step[0] == "binary" and step[1] in POSITIVE_LEAF:
            values[step[2]] = np.abs(values[step[2]]) + 0.5
    fn = run_chain(steps)
    (torch_grads, torch_hvp), (nn_grads, nn_hvp) = (
        second_derivatives(lib, fn, values, seed=seed % 1000) for lib in (torch, nn))
    assert_all_same(torch_grads, nn_grads, f"{steps}: first gradient of input")
    assert_all_same(torch_hvp, nn_hvp, f"{steps}: Hessian-vector product, input")


# --- memory ---------------------------------------------------------------------------
STEPS, CHECKPOINT = 2000, 400
ALLOWED_GROWTH = 100_000  # bytes between step CHECKPOINT and step STEPS


def traced_bytes():
    "Bytes allocated through Python's allocator (NumPy's arrays too), after a gc."
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def test_memory_stays_flat_with_a_gradient_penalty():
    nn.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 1))
    optimizer = nn.optim.SGD(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    data = [(nn.tensor(rng.standard_normal((16, 8)), nn.float32, requires_grad=True),
             nn.tensor(rng.standard_normal((16, 1)), nn.float32)) for _ in range(4)]
    tracemalloc.start()
    try:
        for step in range(1, STEPS + 1):
            x, y = data[step % len(data)]
            optimizer.zero_grad()
            loss = nn.functional.mse_loss(model(x), y)
            (slope,) = nn.autograd.grad(loss, x, create_graph=True)
            (loss + (slope ** 2).sum()).backward()
            optimizer.step()
            if step == CHECKPOINT:
                after_warm_up = traced_bytes()
        growth = traced_bytes() - after_warm_up
    finally:
        tracemalloc.stop()
    assert np.isfinite(loss.item()) and x.grad is not None and x.grad.grad_fn is None
    assert all(p.grad.grad_fn is None for p in model.parameters())
    assert growth < ALLOWED_GROWTH, (
        f"memory grew by {growth} bytes from step {CHECKPOINT} to step {STEPS}")


# --- autograd.functional --------------------------------------------------------------
FUNCTIONS = {  # the inputs' shapes, a function of them, and one to a single number
    "one tensor": ([(3,)],
                   lambda x: x.sin() * (x ** 2).sum(),
                   lambda x: (x.sin() * x).sum() * x.sum()),
    "tuples": ([(3,), (2, 3)],
               lambda x, y: ((x * y).tanh(), (y @ x.exp()).sin()),
               lambda x, y: (x * y).tanh().sum() + (y @ x.exp()).sin().sum() * x.sum()),
}
TO_ONE_NUMBER = {"hessian", "hvp", "vhp"}
FUNCTIONALS = ["jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"]


def one_or_tuple(tensors):
    "One tensor as itself, more as a tuple: how torch.autograd.functional takes them."
    return tensors[0] if len(tensors) == 1 else tuple(tensors)


def call_functional(lib, name, kind, create_graph):
    "The inputs, and what lib.autograd.functional.<name> returns for FUNCTIONS[kind]."
    shapes, function, to_one_number = FUNCTIONS[kind]
    fn = to_one_number if name in TO_ONE_NUMBER else function
    inputs = leaves(lib, arrays(*shapes, seed=8))
    compute = getattr(lib.autograd.functional, name)
    if name in ("jacobian", "hessian"):
        return inputs, compute(fn, one_or_tuple(inputs), create_graph=create_graph)
    like = as_tuple(fn(*inputs)) if name == "vjp" else inputs  # the shapes of v
    v = one_or_tuple(random_like(lib, like, seed=9))
    return inputs, compute(fn, one_or_tuple(inputs), v, create_graph=create_graph)


def flat(result):
    "The tensors in a nested tuple, in order."
    if not isinstance(result, tuple):
        return [result]
    return [t for r in result for t in flat(r)]


def nesting(result):
    "The nesting of tuples, with each tensor's shape: comparable across libraries."
    if not isinstance(result, tuple):
        return tuple(result.shape)
    return tuple(map(nesting, result))


@pytest.mark.parametrize("create_graph", [False, True], ids=["", "create_graph"])
@pytest.mark.parametrize("kind", sorted(FUNCTIONS))
@pytest.mark.parametrize("name", FUNCTIONALS)
def test_functional_matches_torch(name, kind, create_graph):
    (torch_inputs, expected), (nn_inputs, actual) = (
        call_functional(lib, name, kind, create_graph) for lib in (torch, nn))
    assert nesting(actual) == nesting(expected), "nesting of tuples and shapes"
    assert_all_same(flat(expected), flat(actual), f"{name}: result")
    if not create_graph:
        assert not any(t.requires_grad for t in flat(actual)), "results require grad"
        return
    runs = [(torch, torch_inputs, flat(expected)), (nn, nn_inputs, flat(actual))]
    torch_derivative, nn_derivative = (
        differentiate(lib, results, random_like(lib, results, seed=10), inputs)
        for lib, inputs, results in runs)
    assert any(d is not None for d in torch_derivative), "the case must differentiate"
    assert_all_same(torch_derivative, nn_derivative, f"{name}: its derivative, input")


@pytest.mark.parametrize("name", FUNCTIONALS)
def test_functional_strict_refuses_an_unused_input(name):
    def compute(lib, x, y):
        fn = (lambda x, y: x.sin().sum()) if name in TO_ONE_NUMBER else (
            lambda x, y: x.sin())
        v = {"jacobian": (), "hessian": (), "vjp": (lib.ones_like(x),)}.get(
            name, ((lib.ones_like(x), lib.ones_like(y)),))
        return getattr(lib.autograd.functional, name)(fn, (x, y), *v, strict=True)
    torch_error, _ = twin_raises(compute, *arrays((3,), (2,)))
    assert isinstance(torch_error, RuntimeError)


@pytest.mark.parametrize("name", sorted(TO_ONE_NUMBER))
def test_functional_of_a_function_to_many_numbers_raises(name):
    def compute(lib, x):
        v = () if name == "hessian" else (lib.ones_like(x),)
        return getattr(lib.autograd.functional, name)(lambda x: x.sin(), x, *v)
    torch_error, _ = twin_raises(compute, *arrays((3,)))
    assert isinstance(torch_error, RuntimeError)


# --- errors and defaults, as torch ----------------------------------------------------
def leaf(lib):
    return lib.tensor(np.array([1.0, -2.0, 0.5]), requires_grad=True)


def test_backward_through_a_released_graph_raises(lib):
    y = (leaf(lib) ** 3).sum()
    y.backward()
    with pytest.raises(RuntimeError):
        y.backward()


def test_differentiating_a_released_gradient_graph_raises(lib):
    x = leaf(lib)
    (g,) = lib.autograd.grad((x ** 3).sum(), x, create_graph=True)
    g.sum().backward()
    with pytest.raises(RuntimeError):
        g.sum().backward()


def test_grad_of_an_output_that_does_not_require_grad_raises(lib):
    x = leaf(lib)
    with pytest.raises(RuntimeError):
        lib.autograd.grad((x.detach() * 2).sum(), x)


def test_grad_of_a_constant_gradient_raises(lib):
    x = leaf(lib)
    (g,) = lib.autograd.grad((x * 3).sum(), x, create_graph=True)
    with pytest.raises(RuntimeError):
        lib.autograd.grad(g.sum(), x)


CYCLE_WARNING = "ignore:Using backward\\(\\) with create_graph=True:UserWarning"


@pytest.mark.filterwarnings(CYCLE_WARNING)
def test_backward_with_create_graph_gives_grad_a_grad_fn(lib):
    x = leaf(lib)
    (x ** 3).sum().backward(create_graph=True)
    assert x.grad.grad_fn is not None and x.grad.requires_grad
    (second,) = lib.autograd.grad(x.grad.sum(), x)
    np.testing.assert_allclose(numpy(second), 6 * numpy(x), rtol=RTOL)


@pytest.mark.filterwarnings(CYCLE_WARNING)
def test_retain_graph_defaults_to_create_graph(lib):
    x = leaf(lib)
    y = (x ** 3).sum()
    y.backward(create_graph=True)
    y.backward()
    np.testing.assert_allclose(numpy(x.grad), 6 * numpy(x) ** 2, rtol=RTOL)
