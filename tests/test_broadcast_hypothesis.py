"""add, mul and sum over random shapes: ranks 0 to 4, size-1 dims, broadcasting either way."""
from hypothesis import given, settings, strategies as st

from twin import arrays, twin

deterministic = settings(max_examples=60, deadline=None, derandomize=True, database=None)

shapes = st.lists(st.integers(1, 4), max_size=4).map(tuple)


@st.composite
def broadcastable_shapes(draw, count=2):
    "`count` shapes that broadcast together: each drops leading dims of a common shape, some sizes set to 1."
    common = draw(shapes)

    def operand():
        rank = draw(st.integers(0, len(common)))
        return tuple(1 if draw(st.booleans()) else n for n in common[len(common) - rank:])
    return tuple(operand() for _ in range(count))


@st.composite
def shape_and_dims(draw):
    "A shape and a set of its dims (as a tuple, some negative) to reduce over."
    shape = draw(shapes)
    dims = draw(st.lists(st.sampled_from(range(len(shape))), unique=True)) if shape else []
    return shape, tuple(d - len(shape) if draw(st.booleans()) else d for d in dims)


@deterministic
@given(broadcastable_shapes(), st.sampled_from(["add", "mul"]), st.integers(0, 2**32 - 1))
def test_broadcasting_op_matches_torch(shapes, op, seed):
    twin(lambda lib, x, y: getattr(lib, op)(x, y), *arrays(*shapes, seed=seed), seed=seed)


@deterministic
@given(shape_and_dims(), st.booleans(), st.integers(0, 2**32 - 1))
def test_sum_over_dims_matches_torch(shape_and_dims, keepdim, seed):
    shape, dims = shape_and_dims
    if dims:  # (an empty tuple of dims means all dims in torch: test_engine_twins checks that)
        twin(lambda lib, x: x.sum(dims, keepdim=keepdim), *arrays(shape, seed=seed), seed=seed)
    else:
        twin(lambda lib, x: x.sum(), *arrays(shape, seed=seed), seed=seed)
