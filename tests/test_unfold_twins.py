"""Tensor.unfold (sliding windows, chapter "Slicing and reshaping") against PyTorch.

Values, dtypes and gradients (twin, overlapping windows included), the view it is (shared
memory and version counter, strides), grad_fn name, float64 gradcheck, second derivatives
(Hessian-vector products against torch with create_graph=True, and gradgradcheck),
hypothesis over shapes, dims, sizes and steps, and torch's exception types on bad input.
"""
import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st

import nn
from test_broadcast_hypothesis import deterministic
from twin import arrays, code, same, twin, twin_raises

X = arrays((2, 3, 7))[0]

CASES = [
    "x.unfold(2, 3, 1)", "x.unfold(2, 3, 2)", "x.unfold(-1, 2, 5)", "x.unfold(0, 2, 1)",
    "x.unfold(1, 1, 1)", "x.unfold(2, 7, 1)", "x.unfold(2, 0, 3)", "x.unfold(1, 3, 4)",
    "x.unfold(2, 3, 1).unfold(1, 2, 1)", "x.transpose(0, 2).unfold(0, 4, 3)",
    "x[:, :, ::2].unfold(2, 2, 1)", "x.sum().unfold(0, 1, 1)", "x.sum().unfold(-1, 1, 3)",
    "x.sum().unfold(0, 0, 1)", "x[:, :0].unfold(1, 0, 1)",
    "x.unfold(dimension=2, size=3, step=2)",
]


@pytest.mark.parametrize("expression", CASES)
def test_values_and_gradients(expression):
    twin(code(expression), X)


@pytest.mark.parametrize("dtype", [np.float32, np.int64, np.bool_],
                         ids=lambda d: d.__name__)
def test_other_dtypes(dtype):
    twin(code("x.unfold(2, 3, 2)"), (X > 0).astype(dtype) if dtype is np.bool_
         else (X * 10).astype(dtype))


VIEWS = ["x.unfold(2, 3, 1)", "x.unfold(2, 3, 2)", "x.unfold(0, 2, 1)", "x.unfold(2, 7, 1)",
         "x.transpose(0, 2).unfold(0, 4, 3)", "x.unfold(2, 3, 1).unfold(1, 2, 1)"]


def storage_is_shared(lib, expression):
    "Whether the expression over a fresh tensor shares its storage (and counter, in nn)."
    x = lib.tensor(X, requires_grad=True)
    y = code(expression)(lib, x)
    if lib is torch:
        return y.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()
    memory = np.shares_memory(y._data, x._data)
    assert memory == (y._versions is x._versions), "memory and counter go together"
    return memory


@pytest.mark.parametrize("expression", VIEWS)
def test_a_view_shares_memory_and_the_version_counter(expression):
    assert storage_is_shared(torch, expression), "torch: not a view (the list is wrong)"
    assert storage_is_shared(nn, expression)


def test_a_0d_tensor_unfolds_into_a_view_of_itself():
    def view_of_0d(lib):
        x = lib.tensor(2.5)
        y = x.unfold(0, 1, 1)
        x.add_(1.0)
        return y.tolist(), tuple(y.shape)
    same(view_of_0d)


@pytest.mark.parametrize("expression", CASES[:4])
def test_strides_shape_and_contiguity_are_torch_s(expression):
    same(lambda lib: [(tuple(y.shape), tuple(y.stride()), y.is_contiguous())
                      for y in [code(expression)(lib, lib.tensor(X))]])


def test_a_change_of_the_base_shows_in_every_window():
    def changed(lib):
        x = lib.arange(6.0)
        windows = x.unfold(0, 3, 1)
        x[2] = 100.0
        return windows.tolist(), windows._version if lib is torch else windows._versions[0]
    same(changed)


def test_overlapping_windows_add_their_gradients():
    def grads(lib):
        x = lib.tensor(np.arange(7.0), requires_grad=True)
        (x.unfold(0, 3, 2) * lib.tensor([1.0, 10.0, 100.0])).sum().backward()
        return x.grad.tolist()
    same(grads)
    assert grads(nn) == [1.0, 10.0, 101.0, 10.0, 101.0, 10.0, 100.0]


def test_grad_fn_name_and_no_function_form():
    same(lambda lib: lib.tensor(X, requires_grad=True).unfold(1, 2, 1).grad_fn.name())
    same(lambda lib: hasattr(lib, "unfold"))


# float64 gradcheck and second derivatives: with the other shape ops, in
# test_more_shapes_twins.py


@st.composite
def windows(draw):
    "A shape of rank 1-3, a dim of it, a window size that fits and a step."
    shape = tuple(draw(st.lists(st.integers(0, 6), min_size=1, max_size=3)))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    return shape, dim, draw(st.integers(0, shape[dim])), draw(st.integers(1, 4))


@deterministic
@given(windows(), st.integers(0, 2**32 - 1))
def test_unfold_matches_torch(windows, seed):
    shape, dim, size, step = windows
    twin(lambda lib, x: x.unfold(dim, size, step), *arrays(shape, seed=seed), seed=seed)


@pytest.mark.parametrize("expression", [
    "x.unfold(3, 1, 1)", "x.unfold(-4, 1, 1)", "x.unfold(2, 8, 1)", "x.unfold(2, -1, 1)",
    "x.unfold(2, 2, 0)", "x.unfold(2, 2, -1)", "x.unfold(2, 8, 0)", "x.unfold(5, -1, 0)",
    "x.sum().unfold(0, 2, 1)", "x.sum().unfold(1, 1, 1)",
])
def test_bad_input_raises_torch_s_error(expression):
    twin_raises(code(expression), X)


def test_errors_name_the_sizes():
    _, error = twin_raises(code("x.unfold(2, 8, 1)"), X)
    assert "maximum size for tensor at dimension 2 is 7 but size is 8" in str(error)
    _, error = twin_raises(code("x.unfold(2, 2, 0)"), X)
    assert "step is 0 but must be > 0" in str(error)
