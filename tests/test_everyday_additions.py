"Twin tests of the smaller everyday names: linalg.solve, index_add, masks with & | ^, //, where(c), stride, printing."
import numpy as np
import pytest
import torch

import nn
from twin import LIBS


def both(code):
    "Run code(lib) with torch and nn; return both results."
    return code(torch), code(nn)


@pytest.mark.parametrize("b_shape", [(3,), (3, 2), (4, 3, 2)])
def test_linalg_solve_values_and_gradients(b_shape):
    rng = np.random.default_rng(0)
    batch = b_shape[:-2] if len(b_shape) == 3 else ()
    A = rng.standard_normal(batch + (3, 3)) + 3 * np.eye(3)
    B = rng.standard_normal(b_shape)

    def run(lib):
        a, b = lib.tensor(A, requires_grad=True), lib.tensor(B, requires_grad=True)
        x = lib.linalg.solve(a, b)
        (x ** 2).sum().backward()
        return x.detach().numpy(), a.grad.numpy(), b.grad.numpy()
    for theirs, ours in zip(*both(run)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_linalg_solve_differentiates_twice():
    rng = np.random.default_rng(1)
    a = nn.tensor(rng.standard_normal((3, 3)) + 3 * np.eye(3), requires_grad=True)
    b = nn.tensor(rng.standard_normal((3, 2)), requires_grad=True)
    assert nn.gradcheck(nn.linalg.solve, (a, b))
    assert nn.autograd.gradgradcheck(nn.linalg.solve, (a, b))


def test_linalg_solve_refuses_non_square_matrices():
    for lib in LIBS:
        with pytest.raises(RuntimeError):
            lib.linalg.solve(lib.ones(2, 3, dtype=lib.float64), lib.ones(2, dtype=lib.float64))


def test_index_add_values_gradients_and_in_place_form():
    def run(lib):
        x = lib.zeros(3, 2, dtype=lib.float64, requires_grad=True)
        s = lib.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
        y = x.index_add(0, lib.tensor([0, 2, 0]), s, alpha=2)
        (y * y).sum().backward()
        z = lib.zeros(3)
        z.index_add_(0, lib.tensor([1, 1]), lib.ones(2))
        return y.tolist(), x.grad.tolist(), s.grad.tolist(), z.tolist()
    theirs, ours = both(run)
    assert ours == theirs


def test_mask_operators_floor_division_and_where_with_one_argument():
    def run(lib):
        x = lib.tensor([-1.0, 0.5, 2.0, 3.5])
        mask = (x > 0) & (x < 3) | (x == -1)
        flips = mask ^ (x > 1)
        ints = lib.tensor([6, 5, -7])
        return (mask.tolist(), flips.tolist(), (ints & 3).tolist(), (ints | 8).tolist(),
                (ints // 2).tolist(), (x // 2).tolist(), [t.tolist() for t in lib.where(x > 0)],
                lib.logical_and(x, x > 1).tolist())
    theirs, ours = both(run)
    assert ours == theirs


def test_bitwise_operators_refuse_floats_as_torch_does():
    for lib in LIBS:
        with pytest.raises((RuntimeError, NotImplementedError)):
            lib.ones(2) & lib.ones(2)


def test_in_place_bitwise_and_floor_division_change_the_tensor_itself():
    def run(lib):
        t = lib.tensor([6, 5, 7])
        before = id(t)
        t //= 2
        t &= 3
        t |= 4
        return t.tolist(), id(t) == before, t._version
    theirs, ours = both(run)
    assert ours == theirs


def test_stride_and_data_ptr_describe_views():
    def run(lib):
        x = lib.arange(12.0).reshape(3, 4)
        return (x.stride(), x.t().stride(), x[:, ::2].stride(), x.stride(1),
                x[1].data_ptr() - x.data_ptr(), x.view(-1).data_ptr() == x.data_ptr())
    theirs, ours = both(run)
    assert ours == theirs


@pytest.mark.parametrize("shape", [(30,), (3, 40), (2, 2, 25), (100,)])
def test_long_tensors_print_as_torch_prints_them(shape):
    values = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    theirs, ours = repr(torch.tensor(values)), repr(nn.tensor(values))
    assert ours == theirs


def test_named_tuples_print_as_torchs_return_types():
    theirs, ours = both(lambda lib: repr(lib.max(lib.tensor([[1.0, 3.0], [2.0, 0.0]]), 1)))
    assert ours == theirs.replace("torch.", "nn.")


def test_grad_fn_type_is_named_as_the_node():
    theirs, ours = both(lambda lib: type((lib.ones(2, requires_grad=True) * 2).grad_fn).__name__)
    assert ours == theirs
