"""matmul over random shapes: every rank from 1 to 4 on each side, size-1 dims, broadcast batch dims."""
import numpy as np
from hypothesis import given, settings, strategies as st

from twin import arrays, twin, twin_raises

# Deterministic (the same examples on every run, nothing saved between runs), and no per-example
# deadline: the first call into torch is slow.
deterministic = settings(max_examples=60, deadline=None, derandomize=True, database=None)

sizes = st.integers(1, 4)


@st.composite
def batch_of(draw, batch, rank):
    "An operand's batch dims: the last `rank - 2` of `batch`, some of them replaced by 1."
    kept = batch[len(batch) - (rank - 2):] if rank > 2 else []
    return tuple(1 if draw(st.booleans()) else n for n in kept)


@st.composite
def matmul_shapes(draw, inner_mismatch=False):
    "Shapes (a, b) that torch.matmul accepts (or, with inner_mismatch, refuses only for the inner dim)."
    batch = draw(st.lists(sizes, min_size=2, max_size=2))
    n, k, m = draw(sizes), draw(sizes), draw(sizes)
    k_b = k + draw(st.integers(1, 3)) if inner_mismatch else k
    rank_a, rank_b = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    a = (k,) if rank_a == 1 else draw(batch_of(batch, rank_a)) + (n, k)
    b = (k_b,) if rank_b == 1 else draw(batch_of(batch, rank_b)) + (k_b, m)
    return a, b


@deterministic
@given(matmul_shapes(), st.integers(0, 2**32 - 1))
def test_matmul_matches_torch(shapes, seed):
    _, (out,) = twin(lambda lib, a, b: a @ b, *arrays(*shapes, seed=seed), seed=seed)
    expected_shape = np.matmul(np.zeros(shapes[0]), np.zeros(shapes[1])).shape
    assert out.shape == expected_shape


@deterministic
@given(matmul_shapes(), st.integers(0, 2**32 - 1))
def test_matmul_in_float32_matches_torch(shapes, seed):
    twin(lambda lib, a, b: lib.matmul(a, b), *arrays(*shapes, dtype=np.float32, seed=seed), seed=seed)


@settings(deterministic, max_examples=30)
@given(matmul_shapes(inner_mismatch=True))
def test_matmul_refuses_mismatched_inner_dims_like_torch(shapes):
    twin_raises(lambda lib, a, b: a @ b, *arrays(*shapes))
