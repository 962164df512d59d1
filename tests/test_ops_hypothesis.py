"""Every binary op and every reduction over random shapes, against PyTorch (float64).

Binary ops get shape pairs that broadcast (ranks 0 to 4, size-1 dims on either side); reductions get
shapes of rank 1 to 4 and random dims (an int, negative or not, or a tuple where torch takes one) with
and without keepdim. twin() compares values and gradients, and checks that every gradient has exactly
its input's shape and dtype.
"""
import math

import numpy as np
from hypothesis import assume, given, strategies as st

from test_broadcast_hypothesis import broadcastable_shapes, deterministic
from twin import arrays, twin

seeds = st.integers(0, 2**32 - 1)


def away_from_zero(a):
    "The values with their magnitudes raised by 0.5: safe denominators and positive bases (after abs)."
    return a + np.where(a >= 0, 0.5, -0.5)


BINARY = {  # name: (the op, how its operands are drawn)
    "add": (lambda lib, x, y: x + y, lambda x, y: (x, y)),
    "sub": (lambda lib, x, y: lib.sub(x, y), lambda x, y: (x, y)),
    "mul": (lambda lib, x, y: x * y, lambda x, y: (x, y)),
    "div": (lambda lib, x, y: x / y, lambda x, y: (x, away_from_zero(y))),
    "pow": (lambda lib, x, y: x ** y, lambda x, y: (np.abs(away_from_zero(x)), y)),
    "maximum": (lambda lib, x, y: lib.maximum(x, y), lambda x, y: (x, y)),
    "minimum": (lambda lib, x, y: lib.minimum(x, y), lambda x, y: (x, y)),
}


@deterministic
@given(broadcastable_shapes(), st.sampled_from(sorted(BINARY)), seeds)
def test_binary_op_matches_torch(shapes, name, seed):
    op, operands = BINARY[name]
    twin(op, *operands(*arrays(*shapes, seed=seed)), seed=seed)


@deterministic
@given(broadcastable_shapes(count=3), seeds)
def test_where_matches_torch(shapes, seed):
    condition, x, y = arrays(*shapes, seed=seed)
    twin(lambda lib, c, x, y: lib.where(c > 0, x, y), condition, x, y, seed=seed)


# --- reductions ------------------------------------------------------------------------------------
shapes_1_to_4 = st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple)


@st.composite
def shape_and_dim(draw, tuples=True, none=False):
    "A shape of rank 1-4 and a dim of it: an int (maybe negative), a tuple of them if `tuples`, None if `none`."
    shape = draw(shapes_1_to_4)
    rank = len(shape)
    kinds = ["int"] + (["tuple"] if tuples else []) + (["none"] if none else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "none":
        return shape, None
    if kind == "int":
        return shape, draw(st.integers(-rank, rank - 1))
    dims = draw(st.lists(st.integers(0, rank - 1), min_size=1, max_size=rank, unique=True))
    return shape, tuple(d - rank if draw(st.booleans()) else d for d in dims)


def reduced_size(shape, dim):
    "How many elements each output element of a reduction over `dim` sees."
    dims = range(len(shape)) if dim is None else (dim if isinstance(dim, tuple) else (dim,))
    return math.prod(shape[d] for d in dims)


@deterministic
@given(shape_and_dim(none=True), st.sampled_from(["sum", "mean", "logsumexp"]), st.booleans(), seeds)
def test_sum_mean_logsumexp_match_torch(shape_and_dim, name, keepdim, seed):
    shape, dim = shape_and_dim
    if dim is None and name == "logsumexp":
        dim = tuple(range(len(shape)))  # torch's logsumexp needs its dims
    twin(lambda lib, x: getattr(x, name)(dim, keepdim=keepdim), *arrays(shape, seed=seed), seed=seed)


@deterministic
@given(shape_and_dim(none=True), st.sampled_from(["var", "std"]), st.sampled_from([0, 1]), st.booleans(), seeds)
def test_var_std_match_torch(shape_and_dim, name, correction, keepdim, seed):
    shape, dim = shape_and_dim
    n = reduced_size(shape, dim)
    assume(n > correction and (name == "var" or n > 1))  # no division by zero degrees of freedom, no std of 0
    twin(lambda lib, x: getattr(x, name)(dim, correction=correction, keepdim=keepdim),
         *arrays(shape, seed=seed), seed=seed)


@deterministic
@given(shape_and_dim(tuples=False), st.sampled_from(["max", "min"]), st.booleans(), seeds)
def test_max_min_along_a_dim_match_torch(shape_and_dim, name, keepdim, seed):
    shape, dim = shape_and_dim
    twin(lambda lib, x: getattr(x, name)(dim, keepdim=keepdim), *arrays(shape, seed=seed), seed=seed)


@deterministic
@given(shapes_1_to_4, st.sampled_from(["max", "min"]), seeds)
def test_max_min_over_everything_match_torch(shape, name, seed):
    twin(lambda lib, x: getattr(x, name)(), *arrays(shape, seed=seed), seed=seed)


@deterministic
@given(shape_and_dim(tuples=False, none=True), st.sampled_from(["argmax", "argmin"]), st.booleans(), seeds)
def test_argmax_argmin_match_torch(shape_and_dim, name, keepdim, seed):
    shape, dim = shape_and_dim
    twin(lambda lib, x: getattr(x, name)(dim, keepdim=keepdim), *arrays(shape, seed=seed), seed=seed)


@deterministic
@given(shape_and_dim(tuples=False), st.sampled_from(["softmax", "log_softmax"]), seeds)
def test_softmax_log_softmax_match_torch(shape_and_dim, name, seed):
    shape, dim = shape_and_dim
    (x,) = arrays(shape, seed=seed)
    twin(lambda lib, x: getattr(lib, name)(x * 10, dim), x, seed=seed)
