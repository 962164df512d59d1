"""Views and the further shape operations of chapter "Slicing and reshaping" against PyTorch.

Views: every operation that torch makes a view shares memory and the version counter with its
input in nn, and every operation torch makes a copy shares neither. Then split, chunk, unbind,
narrow, select, movedim/moveaxis, swapaxes/swapdims, unflatten, flip/fliplr/flipud, roll, repeat,
tile, repeat_interleave, diagonal, diag, trace, outer/ger, broadcast_to, meshgrid and
atleast_1d/2d/3d: values, dtypes and gradients (twin), grad_fn names, float64 gradcheck, second
derivatives (Hessian-vector products against torch with create_graph=True, and gradgradcheck),
hypothesis over shapes and dims, and torch's exception types on bad input.
"""
import warnings

import numpy as np
import pytest
import torch
from hypothesis import given, strategies as st

import nn
from test_broadcast_hypothesis import deterministic
from test_higher_order import assert_all_same, leaves, second_derivatives
from twin import arrays, code, same, twin, twin_raises

X = arrays((2, 3, 4))[0]
DTYPES = [np.float32, np.float64]


def check(expression, *values, dtype=np.float64):
    "twin() of a line of code over `x` (default: X) and any further tensors named y, z."
    values = values or (X,)
    twin(code(expression, "x y z"[:2 * len(values)]),
         *(v.astype(dtype) if v.dtype.kind == "f" else v for v in values))


def refuse(expression, *values):
    "twin_raises() of a line of code over `x` (default: X) and y, z."
    values = values or (X,)
    twin_raises(code(expression, "x y z"[:2 * len(values)]), *values)


# --- views share storage and the version counter ----------------------------------------------
VIEWS = [
    "x[0]", "x[1:3]", "x[:, ::2]", "x[1:, :, ::3]", "x[..., None]", "x[None, 0]", "x[1, 2, 3]",
    "x[1, 2]", "x[()]", "x[...]", "x[0, ..., 1]", "x[0, :, 1:3]", "list(x)[1]",
    "x.view(6, 4)", "x.view(-1)", "x.reshape(4, 6)", "x.reshape(-1)", "x[:, :, ::2].reshape(-1)",
    "x.flatten()", "x.flatten(1)", "x.view_as(lib.ones(4, 6))", "x.reshape_as(lib.ones(24))",
    "x.transpose(0, 2)", "lib.transpose(x, 1, 2)", "x.permute(2, 0, 1)", "x[0].t()", "x[0].T",
    "x.mT", "x[:, :1].squeeze()", "x[:, :1].squeeze(1)", "x[:, :1].squeeze((0, 1))",
    "x.unsqueeze(1)", "x[0, 0, 0].unsqueeze(0)", "x[:, :1].expand(2, 5, 4)",
    "x[:1].expand_as(x)", "x.detach()", "x.narrow(1, 1, 2)", "lib.narrow(x, -1, 1, 2)",
    "x.select(2, 1)", "lib.select(x, 0, -1)", "x.split(2, 2)[1]", "x.split([1, 2], 1)[1]",
    "lib.split(x, 1)[0]", "x.chunk(2, 2)[0]", "lib.chunk(x, 3, 1)[2]", "x.unbind(1)[2]",
    "lib.unbind(x)[0]", "x.diagonal()", "x.diagonal(1, 1, 2)", "lib.diagonal(x, -1, 2, 0)",
    "x.movedim(0, 2)", "lib.moveaxis(x, (0, 1), (2, 0))", "x.swapaxes(0, 1)",
    "lib.swapdims(x, 1, 2)", "x.unflatten(2, (2, 2))", "lib.unflatten(x, 1, (-1, 1))",
    "x[:, :1].broadcast_to(3, 2, 3, 4)", "lib.broadcast_to(x, (2, 2, 3, 4))",
    "lib.meshgrid(x[0, 0], x[1, 1], indexing='ij')[0]", "lib.meshgrid(x[0, 0], indexing='xy')[0]",
    "lib.atleast_3d(x[0])", "lib.atleast_2d(x[0, 0])", "lib.atleast_1d(x[0, 0, 0])",
    "x.transpose(0, 2)[1:].unsqueeze(0).select(1, 1).diagonal()",
]
COPIES = [
    "x[[0, 1]]", "x[lib.tensor([1, 0])]", "x[x > 0]", "x[:, [True, False, True]]", "x[0, :, [1, 2]]",
    "x.transpose(0, 2).reshape(-1)", "x.transpose(0, 1).contiguous()", "x.flip(0)",
    "lib.flip(x, ())", "x.fliplr()", "x.roll(1)", "lib.roll(x, (1, 2), (0, 2))",
    "x.repeat(1, 1, 1)", "x.tile(2)", "x.repeat_interleave(1, 1)",
    "x.repeat_interleave(lib.tensor([1, 1, 1]), 1)", "x[0].diag()", "x[0, 0].diag()",
    "x[0].trace()", "lib.outer(x[0, 0], x[0, 1])",
]


def storage_is_shared(lib, expression):
    "Whether the result of the expression over a fresh tensor shares its input's storage."
    x = lib.tensor(X, requires_grad=True) if lib is nn else torch.tensor(X, requires_grad=True)
    y = code(expression)(lib, x)
    if lib is torch:
        return y.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()
    memory = np.shares_memory(y._data, x._data)
    # a tensor that was never viewed still has the class's default counter
    counter = y._versions is x._versions and x._versions is not nn.Tensor._versions
    assert memory == counter, "memory and version counter go together"
    return memory


@pytest.mark.parametrize("expression", VIEWS)
def test_a_view_shares_memory_and_the_version_counter(expression):
    assert storage_is_shared(torch, expression), "torch: not a view (the list is wrong)"
    assert storage_is_shared(nn, expression)


@pytest.mark.parametrize("expression", COPIES)
def test_a_copy_shares_neither(expression):
    assert not storage_is_shared(torch, expression), "torch: a view (the list is wrong)"
    assert not storage_is_shared(nn, expression)


def test_views_of_views_share_one_counter_with_the_base():
    base = nn.tensor(X)
    first = base.transpose(0, 1)
    second = first[1:].diagonal()
    assert first._versions is base._versions is second._versions
    assert nn.tensor(X)._versions is not base._versions


def test_a_view_is_a_view_in_no_grad_mode_too():
    x = nn.tensor(X, requires_grad=True)
    with nn.no_grad():
        y = x.narrow(0, 1, 1)
    assert y._versions is x._versions and y.grad_fn is None


def test_a_diagonal_view_is_writable_and_writes_into_its_base():
    # the in-place chapter builds on writing through views
    x = nn.zeros(3, 3)
    x.diagonal()._data[...] = 1
    assert x.tolist() == np.eye(3).tolist()


# --- values and gradients against torch ---------------------------------------------------------
CASES = [
    # split, chunk, unbind: all pieces, each backpropagated
    "x.split(2, 2)", "x.split(1)", "x.split(3, -1)", "x.split(5, 2)", "x.split([1, 2], 1)",
    "x.split((3, 0, 1), 2)", "lib.split(x, 2, dim=2)", "lib.split(x, [2], 0)",
    "lib.split(x, split_size_or_sections=[2, 1], dim=1)", "x.split(split_size=2, dim=-1)",
    "x.chunk(2, 2)", "x.chunk(3, 2)", "x.chunk(5, 2)", "x.chunk(1)", "lib.chunk(x, 2, dim=1)",
    "lib.chunk(x, chunks=3, dim=-2)", "x.unbind()", "x.unbind(1)", "lib.unbind(x, -1)",
    "x.split(2, 2)[1] * 2", "x.unbind(2)[3].sin()",
    # narrow, select
    "x.narrow(1, 1, 2)", "x.narrow(2, -3, 3)", "x.narrow(0, 2, 0)", "lib.narrow(x, -1, 0, 4)",
    "x.narrow(2, lib.tensor(1), 2)", "x.select(0, 1)", "x.select(-1, -4)", "lib.select(x, 1, 2)",
    # movedim, swapaxes, unflatten
    "x.movedim(0, 2)", "x.movedim(-1, 0)", "x.movedim((0, 1), (2, 0))", "x.movedim([2], [0])",
    "lib.movedim(x, (0, 2), (-1, -2))", "x.moveaxis(1, 1)", "lib.moveaxis(x, 0, -1)",
    "x.swapaxes(0, 2)", "lib.swapaxes(x, -1, 1)", "x.swapdims(1, 1)", "lib.swapdims(x, 0, 1)",
    "x.unflatten(2, (2, 2))", "x.unflatten(-1, (2, -1))", "lib.unflatten(x, 1, (3, 1))",
    "x.unflatten(0, [1, 2, 1])", "x.transpose(0, 2).unflatten(0, (2, 2))",
    # flip, fliplr, flipud, roll
    "x.flip(0)", "x.flip(0, 2)", "x.flip((1, -1))", "x.flip([2])", "lib.flip(x, (0, 1, 2))",
    "lib.flip(x, ())", "x.fliplr()", "lib.fliplr(x[0])", "x.flipud()", "lib.flipud(x[0, 0])",
    "x.roll(1)", "x.roll(-5)", "x.roll(30)", "x.roll(1, 0)", "x.roll((1, -1), (0, 2))",
    "lib.roll(x, (2,), (1,))", "lib.roll(x, [1, 1], [2, 2])", "lib.roll(x, shifts=3, dims=-1)",
    "x.roll(1, 1) * x",
    # repeat, tile, repeat_interleave
    "x.repeat(2, 1, 1)", "x.repeat(1, 2, 3)", "x.repeat(2, 1, 1, 2)", "x.repeat((1, 2, 1))",
    "x.repeat([3, 1, 1, 1])", "x.repeat(1, 0, 2)", "x[0, 0].repeat(3)", "x[0, 0].repeat(2, 2)",
    "x.tile(2)", "x.tile(2, 1)", "x.tile((2, 1, 1, 1))", "lib.tile(x, (2, 1))", "lib.tile(x, [])",
    "x.repeat_interleave(2)", "x.repeat_interleave(2, 1)", "x.repeat_interleave(3, -1)",
    "x.repeat_interleave(0, 0)", "lib.repeat_interleave(x, 2, dim=0)",
    "x.repeat_interleave(lib.tensor([1, 0, 2]), 1)", "x.repeat_interleave(lib.tensor([2]), 1)",
    "x.repeat_interleave(lib.tensor(2), 2)", "x.repeat_interleave(lib.tensor([3, 1]), dim=0)",
    "lib.repeat_interleave(x, lib.tensor([1, 2] * 12))",
    "x.repeat_interleave(lib.tensor(np.array([1, 2, 3], np.int32)), 1)",
    # diagonal, diag, trace
    "x.diagonal()", "x.diagonal(1)", "x.diagonal(-1)", "x.diagonal(0, 1, 2)", "x.diagonal(2, 2, 1)",
    "x.diagonal(offset=-1, dim1=-1, dim2=0)", "lib.diagonal(x, 9)", "lib.diagonal(x, -5, 1, 2)",
    "x[0].diag()", "x[0].diag(1)", "x[0].diag(-2)", "lib.diag(x[0], 7)", "x[0, 0].diag()",
    "x[0, 0].diag(2)", "lib.diag(x[0, 0], diagonal=-1)", "x[0].diag().diag()",
    "x[0].trace()", "lib.trace(x[:, 0])", "x[0].t().trace()",
    # outer, ger, broadcast_to
    "lib.outer(x[0, 0], x[0, 1])", "x[0, 0].outer(x[1, 1, :2])", "lib.ger(x[0, 0], x[1, 2])",
    "x[0, 0].ger(x[0, 0])", "x[:, :1].broadcast_to(2, 3, 4)", "x.broadcast_to((2, 2, 3, 4))",
    "lib.broadcast_to(x[0, 0], [3, 4])", "x[0, :, :1].broadcast_to(-1, 5)",
    # meshgrid, atleast_nd
    "lib.meshgrid(x[0, 0], x[1, 1, :3], indexing='ij')",
    "lib.meshgrid(x[0, 0], x[1, 1, :3], indexing='xy')",
    "lib.meshgrid([x[0, 0], x[1, 1, :3], x[1, 2, :2]], indexing='xy')",
    "lib.meshgrid((x[0, 0], x[1, 0, 0]), indexing='ij')", "lib.meshgrid(x[0, 0], indexing='xy')",
    "lib.atleast_1d(x[0, 0, 0])", "lib.atleast_1d(x)", "lib.atleast_1d(x[0, 0, 0], x[0])",
    "lib.atleast_2d(x[0, 0])", "lib.atleast_2d(x[0, 0, 0])", "lib.atleast_2d([x[0], x[0, 0]])",
    "lib.atleast_3d(x[0, 0, 0])", "lib.atleast_3d(x[0, 0])", "lib.atleast_3d(x[0])",
    "lib.atleast_3d(x[None])", "lib.atleast_3d((x[0, 0],))",
]


@pytest.mark.parametrize("expression", CASES)
def test_values_and_gradients(expression):
    check(expression)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("expression", [
    "x.split([1, 3], 2)", "x.chunk(2, 1)", "x.unbind(0)", "x.flip(1)", "x.roll(2, 2)",
    "x.repeat(1, 2, 1)", "x.repeat_interleave(2, 0)", "x.diagonal(0, 0, 2)", "x[0].diag()",
    "x[0].trace()", "lib.outer(x[0, 0], x[1, 0])", "lib.meshgrid(x[0, 0], x[1, 0], indexing='xy')",
])
def test_float32_and_float64(expression, dtype):
    check(expression, dtype=dtype)


INTEGERS = np.arange(24).reshape(2, 3, 4)


@pytest.mark.parametrize("expression", [
    "x.split(2, 2)", "x.chunk(2, 1)", "x.unbind(2)", "x.narrow(1, 0, 2)", "x.select(0, 1)",
    "x.movedim(0, 1)", "x.unflatten(2, (2, 2))", "x.flip(1)", "x.roll(3)", "x.repeat(2, 1, 1)",
    "x.tile(2)", "x.repeat_interleave(2)", "x.diagonal()", "x[0].diag()", "x[0, 0].diag()",
    "x[0].trace()", "(x[0] > 5).diag()", "lib.outer(x[0, 0], x[1, 0])",
    "lib.outer(x[0, 0] > 1, x[1, 0] > 13)", "lib.meshgrid(x[0, 0], x[1, 1], indexing='ij')",
    "lib.atleast_3d(x[0])", "x[1].trace()",
])
def test_integer_and_bool_tensors(expression):
    check(expression, INTEGERS)


@pytest.mark.parametrize("dtypes", [(np.float32, np.float64), (np.int64, np.float32),
                                    (np.float64, np.int64)], ids=str)
def test_outer_promotes_like_torch(dtypes):
    x, y = arrays((3,), (2,))
    twin(code("lib.outer(x, y)", "x y"), *(np.asarray(v * 3, dtype=d) for v, d in zip((x, y), dtypes)))


def test_trace_of_small_integers_is_int64():
    same(lambda lib: lib.tensor(np.ones((2, 3), np.int32)).trace().dtype)
    same(lambda lib: lib.tensor(np.arange(6, dtype=np.uint8).reshape(2, 3)).trace().item())


def test_operations_on_0d_and_empty_tensors():
    check("x.roll(1)", np.array(1.5))
    check("x.flip(0)", np.array(1.5))
    check("x.flip(())", np.array(1.5))
    check("x.repeat(())", np.array(1.5))
    check("x.repeat(2, 3)", np.array(1.5))
    check("x.repeat_interleave(3)", np.array(1.5))
    check("x.tile(())", np.array(1.5))
    check("lib.atleast_2d(x)", np.array(1.5))
    check("x.chunk(3)", np.zeros(0))
    check("x.split(2)", np.zeros(0))
    check("x.split(0)", np.zeros(0))
    check("x.unbind(1)", np.zeros((2, 0)))
    check("x.roll(1, 1)", np.zeros((2, 0)))
    check("x.flip(1)", np.zeros((2, 0)))
    check("x.roll(1, 5)", np.zeros((2, 0)))  # torch copies an empty tensor before it checks dims
    check("x.diagonal()", np.zeros((0, 3)))
    check("x.diag()", np.zeros(0))
    check("x.repeat_interleave(lib.tensor([], dtype=lib.int64), 1)", np.zeros((2, 0)))


def test_repeat_interleave_with_only_repeats_gives_positions():
    same(lambda lib: lib.repeat_interleave(lib.tensor([1, 0, 3])).tolist())
    same(lambda lib: lib.repeat_interleave(lib.tensor([2, 2])).dtype)


def test_pieces_not_used_get_zeros():
    check("x.split([1, 2, 1], 2)[1]")
    check("x.unbind(1)[0] * x.unbind(1)[2]")


def test_split_gradient_is_the_concatenation_of_the_pieces_gradients():
    x = nn.tensor(X, requires_grad=True)
    pieces = x.split([1, 3], 2)
    seeds = [nn.tensor(a) for a in arrays((2, 3, 1), (2, 3, 3), seed=3)]
    (gradient,) = nn.autograd.grad(pieces, x, seeds)
    assert np.array_equal(gradient.numpy(), nn.cat(seeds, 2).numpy())


NAMED = [
    "x.split(2, 2)[0]", "x.split([1, 3], 2)[0]", "x.chunk(2)[0]", "x.unbind(1)[0]",
    "x.narrow(1, 0, 2)", "x.select(2, 1)", "x.movedim(0, 2)", "x.swapaxes(0, 1)", "x.swapdims(0, 1)",
    "x.unflatten(2, (2, 2))", "x.flip(0)", "x.fliplr()", "x.roll(1)", "x.repeat(1, 2, 1)", "x.tile(2)",
    "x.repeat_interleave(2, 1)", "x.repeat_interleave(lib.tensor([1, 0, 2]), 1)", "x.diagonal()",
    "x[0].diag()", "x[0, 0].diag()", "x[0].trace()", "lib.outer(x[0, 0], x[0, 1])",
    "x[:1].broadcast_to(2, 3, 4)", "lib.meshgrid(x[0, 0], x[0, 1], indexing='xy')[0]",
    "lib.atleast_1d(x[0, 0, 0])", "lib.atleast_2d(x[0, 0])", "lib.atleast_3d(x[0])",
]


@pytest.mark.parametrize("expression", NAMED)
def test_grad_fn_names_are_torch_s(expression):
    same(lambda lib: code(expression)(lib, lib.tensor(X, requires_grad=True)).grad_fn.name())


def test_atleast_returns_tensors_with_enough_dims_themselves():
    x = nn.tensor(X, requires_grad=True)
    assert nn.atleast_1d(x) is x and nn.atleast_3d(x) is x
    assert nn.atleast_2d(x, x[0, 0])[0] is x
    assert nn.atleast_1d() == ()


# --- function and method forms, NumPy's twins --------------------------------------------------
METHODS = """split chunk unbind narrow select movedim moveaxis swapaxes swapdims unflatten flip fliplr
    flipud roll repeat tile repeat_interleave diagonal diag trace outer ger broadcast_to""".split()
FUNCTIONS = [m for m in METHODS if m != "repeat"] + "meshgrid atleast_1d atleast_2d atleast_3d".split()


@pytest.mark.parametrize("name", METHODS)
def test_method_exists_where_torch_has_it(name):
    assert callable(getattr(torch.Tensor, name))
    assert callable(getattr(nn.Tensor, name, None)), f"nn.Tensor.{name} is missing"


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_exists_where_torch_has_it(name):
    assert callable(getattr(torch, name))
    assert callable(getattr(nn, name, None)), f"nn.{name} is missing"


@pytest.mark.parametrize("numpy_call, torch_call", [
    ("np.flip(x, 1)", "x.flip(1)"), ("np.flip(x)", "x.flip(0, 1, 2)"), ("np.fliplr(x)", "x.fliplr()"),
    ("np.flipud(x)", "x.flipud()"), ("np.roll(x, 2, 1)", "x.roll(2, 1)"), ("np.roll(x, 5)", "x.roll(5)"),
    ("np.tile(x, 2)", "x.tile(2)"), ("np.tile(x, (2, 1, 1))", "x.repeat(2, 1, 1)"),
    ("np.repeat(x, 2, 1)", "x.repeat_interleave(2, 1)"),
    ("np.repeat(x, [1, 0, 2], axis=1)", "x.repeat_interleave(torch.tensor([1, 0, 2]), 1)"),
    ("np.diagonal(x, 1, 1, 2)", "x.diagonal(1, 1, 2)"), ("np.diag(x[0])", "x[0].diag()"),
    ("np.trace(x[0])", "x[0].trace()"), ("np.trace(x, 1, 1, 2)", "x.diagonal(1, 1, 2).sum(-1)"),
    ("np.moveaxis(x, 0, 2)", "x.movedim(0, 2)"),
])
def test_numpy_functions_on_tensors_are_the_recorded_operations(numpy_call, torch_call):
    nn_x, torch_x = nn.tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    ours = eval(numpy_call, {"np": np, "x": nn_x})
    theirs = eval(torch_call, {"torch": torch, "x": torch_x})
    assert isinstance(ours, nn.Tensor) and ours.requires_grad
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy())
    seed = arrays(tuple(theirs.shape), seed=1)[0]
    ours.backward(nn.tensor(seed))
    theirs.backward(torch.tensor(seed))
    np.testing.assert_allclose(nn_x.grad.numpy(), torch_x.grad.numpy())


def test_meshgrid_without_indexing_warns_once_and_reads_ij():
    nn.shapes._warned.discard(nn.shapes._MESHGRID_NO_INDEXING)
    a, b = nn.arange(3.0), nn.arange(2.0)
    with pytest.warns(UserWarning, match="indexing argument"):
        first = nn.meshgrid(a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        second = nn.meshgrid(a, b)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.meshgrid(torch.arange(3.0), torch.arange(2.0))
    for grids in (first, second):
        assert [g.tolist() for g in grids] == [g.tolist() for g in theirs]


# --- float64 gradcheck and second derivatives ---------------------------------------------------
DIFFERENTIABLE = [  # (expression over a, b, c; input shapes); pieces are joined into one output
    ("lib.cat(a.split(2, 2), 1)", [(2, 3, 4)]), ("lib.cat(a.split([1, 3], 2)[::-1], 2)", [(2, 3, 4)]),
    ("lib.cat(a.chunk(3, 1), 2)", [(2, 3, 4)]), ("lib.stack(a.unbind(1), 0)", [(2, 3, 4)]),
    ("a.split(2, 2)[1] * a.split(2, 2)[0]", [(2, 3, 4)]), ("a.unbind()[1] * a.unbind()[0]", [(2, 3)]),
    ("a.narrow(1, 1, 2)", [(2, 3, 4)]), ("a.select(2, -1)", [(2, 3, 4)]),
    ("a.movedim((0, 1), (2, 0))", [(2, 3, 4)]), ("a.swapaxes(0, 2)", [(2, 3, 4)]),
    ("a.swapdims(1, 2)", [(2, 3, 4)]), ("a.unflatten(2, (2, -1))", [(2, 3, 4)]),
    ("a.flip(0, 2)", [(2, 3, 4)]), ("a.fliplr()", [(2, 3, 4)]), ("a.flipud()", [(3,)]),
    ("a.roll(2)", [(2, 3, 4)]), ("a.roll((1, -2), (0, 2))", [(2, 3, 4)]),
    ("a.repeat(2, 1, 3)", [(2, 3, 4)]), ("a.repeat(2, 1, 1, 2)", [(2, 3, 4)]), ("a.tile(2)", [(3,)]),
    ("a.repeat_interleave(2, 1)", [(2, 3, 4)]), ("a.repeat_interleave(3)", [(2, 3)]),
    ("a.repeat_interleave(lib.tensor([2, 0, 3]), 1)", [(2, 3, 4)]),
    ("a.diagonal()", [(3, 4)]), ("a.diagonal(1, 2, 0)", [(2, 3, 4)]), ("a.diagonal(-1, 1, 2)", [(2, 3, 4)]),
    ("a.diag(1)", [(3,)]), ("a.diag(-1)", [(3, 4)]), ("a.trace()", [(3, 4)]),
    ("lib.outer(a, b)", [(3,), (4,)]), ("a.ger(b)", [(3,), (2,)]),
    ("a.broadcast_to(2, 3, 4)", [(3, 1)]),
    ("lib.stack(lib.meshgrid(a, b, indexing='xy'))", [(3,), (3,)]),
    ("lib.cat(lib.meshgrid(a, b, c, indexing='ij'), 1)", [(3,), (2,), (2,)]),
    ("lib.atleast_3d(a) * 2", [(3,)]), ("lib.atleast_2d(a) * 2", [()]),
    ("lib.atleast_1d(a) * 2", [()]), ("lib.moveaxis(a, 0, -1)", [(2, 3, 4)]),
    ("lib.select(a, 0, 1) * lib.narrow(a, 0, 0, 1)", [(2, 3)]),
    ("a.unfold(1, 3, 2)", [(2, 6)]), ("a.unfold(0, 2, 1)", [(3, 2)]),
    ("a.unfold(-1, 2, 1).unfold(0, 2, 2)", [(4, 5)]), ("a.unfold(0, 1, 1) * 2", [()]),
]
FUNCTIONS_OF_TENSORS = [pytest.param(expression, shapes, id=expression)
                        for expression, shapes in DIFFERENTIABLE]


def case(expression, nonlinear):
    "The expression as fn(lib, *tensors); with sin after it when `nonlinear` (for 2nd order)."
    def fn(lib, *tensors):
        out = eval(expression, {"lib": lib}, dict(zip("abc", tensors)))
        return out.sin() if nonlinear else out
    return fn


@pytest.mark.parametrize("expression, shapes", FUNCTIONS_OF_TENSORS)
def test_gradcheck_float64(expression, shapes):
    fn = case(expression, nonlinear=False)
    assert nn.gradcheck(lambda *xs: fn(nn, *xs), leaves(nn, arrays(*shapes, seed=2)))


@pytest.mark.parametrize("expression, shapes", FUNCTIONS_OF_TENSORS)
def test_hessian_vector_product_matches_torch(expression, shapes):
    # a linear op has no second derivative of its own: sin after it makes its vjp differentiated
    fn, values = case(expression, nonlinear=True), arrays(*shapes, seed=2)
    (torch_grads, torch_hvp), (nn_grads, nn_hvp) = (second_derivatives(lib, fn, values)
                                                    for lib in (torch, nn))
    assert_all_same(torch_grads, nn_grads, "first gradient of input")
    assert_all_same(torch_hvp, nn_hvp, "Hessian-vector product, input")


@pytest.mark.parametrize("expression, shapes", FUNCTIONS_OF_TENSORS)
def test_gradgradcheck(expression, shapes):
    fn = case(expression, nonlinear=True)
    assert nn.autograd.gradgradcheck(lambda *xs: fn(nn, *xs), leaves(nn, arrays(*shapes, seed=2)))


# --- hypothesis over shapes and dims ------------------------------------------------------------
seeds = st.integers(0, 2**32 - 1)


@st.composite
def shape_and_dim(draw, min_size=0):
    "A shape of rank 1-4 (sizes min_size..4) and a dim of it, maybe negative."
    shape = tuple(draw(st.lists(st.integers(min_size, 4), min_size=1, max_size=4)))
    return shape, draw(st.integers(-len(shape), len(shape) - 1))


@st.composite
def sections(draw):
    "A shape, a dim and a list of sizes adding up to that dim's size."
    shape, dim = draw(shape_and_dim())
    sizes, left = [], shape[dim]
    while left:
        sizes.append(draw(st.integers(0, left)))
        left -= sizes[-1]
    return shape, dim, sizes + draw(st.lists(st.just(0), min_size=not sizes, max_size=1))


@deterministic
@given(shape_and_dim(), st.integers(1, 5), seeds)
def test_split_into_equal_pieces_matches_torch(shape_and_dim, size, seed):
    shape, dim = shape_and_dim
    twin(lambda lib, x: x.split(size, dim), *arrays(shape, seed=seed), seed=seed)


@deterministic
@given(sections(), seeds)
def test_split_with_sizes_and_cat_back_matches_torch(sections, seed):
    shape, dim, sizes = sections
    twin(lambda lib, x: x.split(sizes, dim), *arrays(shape, seed=seed), seed=seed)
    twin(lambda lib, x: lib.cat(x.split(sizes, dim), dim) * x, *arrays(shape, seed=seed), seed=seed)


@deterministic
@given(shape_and_dim(), st.integers(1, 6), seeds)
def test_chunk_matches_torch(shape_and_dim, chunks, seed):
    shape, dim = shape_and_dim
    twin(lambda lib, x: x.chunk(chunks, dim), *arrays(shape, seed=seed), seed=seed)


@deterministic
@given(shape_and_dim(min_size=1), st.data(), seeds)
def test_roll_matches_torch(shape_and_dim, data, seed):
    shape, _ = shape_and_dim
    rank = len(shape)
    dims = data.draw(st.one_of(st.none(), st.integers(-rank, rank - 1),
                               st.lists(st.integers(-rank, rank - 1), min_size=1, max_size=3)))
    count = 1 if dims is None or isinstance(dims, int) else len(dims)
    shifts = data.draw(st.lists(st.integers(-9, 9), min_size=count, max_size=count))
    shifts = shifts[0] if count == 1 and data.draw(st.booleans()) else tuple(shifts)
    twin(lambda lib, x: x.roll(shifts, dims), *arrays(shape, seed=seed), seed=seed)


@deterministic
@given(shape_and_dim(), st.data(), seeds)
def test_repeat_and_tile_match_torch(shape_and_dim, data, seed):
    shape, _ = shape_and_dim
    sizes = tuple(data.draw(st.lists(st.integers(0, 3), min_size=len(shape), max_size=len(shape) + 2)))
    twin(lambda lib, x: x.repeat(sizes), *arrays(shape, seed=seed), seed=seed)
    twin(lambda lib, x: x.tile(sizes[len(sizes) - len(shape) + 1:]), *arrays(shape, seed=seed), seed=seed)


@deterministic
@given(shape_and_dim(), st.data(), seeds)
def test_repeat_interleave_matches_torch(shape_and_dim, data, seed):
    shape, dim = shape_and_dim
    counts = data.draw(st.one_of(st.integers(0, 3), st.lists(st.integers(0, 3), min_size=shape[dim],
                                                                max_size=shape[dim])))
    twin(lambda lib, x: x.repeat_interleave(counts if isinstance(counts, int) else lib.tensor(counts, dtype=lib.int64), dim),
         *arrays(shape, seed=seed), seed=seed)


# --- errors -------------------------------------------------------------------------------------
@pytest.mark.parametrize("expression", [
    # split, chunk, unbind
    "x.split(2, 3)", "x.split(2, -4)", "x.split(0, 2)", "x.split(-1)", "x.split([1, 2], 2)",
    "x.split([5, -1], 2)", "x.split([1, 1, 1, 2], 2)", "x.sum().split(1)", "x.chunk(0)", "x.chunk(-2, 1)",
    "x.chunk(2, 3)", "x.sum().chunk(1)", "x.unbind(3)", "x.unbind(-4)", "x.sum().unbind()",
    # narrow, select
    "x.narrow(2, 3, 2)", "x.narrow(2, 5, 0)", "x.narrow(2, -5, 1)", "x.narrow(2, 1, -1)", "x.narrow(3, 0, 1)",
    "x.sum().narrow(0, 0, 1)", "x.select(1, 3)", "x.select(1, -4)", "x.select(3, 0)", "x.sum().select(0, 0)",
    # movedim, swapaxes, unflatten
    "x.movedim(3, 0)", "x.movedim(0, -4)", "x.movedim((0, 1), (2,))", "x.movedim((0, 0), (1, 2))",
    "x.movedim((0, 1), (2, 2))", "x.movedim((0, 1), 2)", "x.swapaxes(0, 3)", "lib.swapdims(x, -4, 0)",
    "x.unflatten(2, (3, 2))", "x.unflatten(2, ())", "x.unflatten(2, (-1, -1))", "x.unflatten(3, (2, 2))",
    "x.unflatten(2, (-2, -2))", "x.unflatten(2, (3, -1))", "x.sum().unflatten(0, (1,))",
    # flip, roll
    "lib.flip(x, 0)", "x.flip(0, 0)", "x.flip(0, -3)", "x.flip(3)", "x.flip()", "x[0, 0].fliplr()",
    "x.sum().flipud()", "x.roll((1, -1), 0)", "x.roll(1, (0, 1))", "x.roll((1, 2))", "x.roll(1, 3)",
    "x.roll((), ())", "x.sum().roll(1, 0)",
    # repeat, tile, repeat_interleave
    "x.repeat(2, 1)", "x.repeat(2, -1, 1)", "x.repeat()", "x.tile(-1)", "lib.tile(x, 2)",
    "x.repeat_interleave(-1, 1)", "x.repeat_interleave(lib.tensor([1, -1, 2]), 1)",
    "x.repeat_interleave(lib.tensor([1, 2]), 1)", "x.repeat_interleave(lib.tensor([[1, 2, 3]]), 1)",
    "x.repeat_interleave(lib.tensor([1.0, 2.0, 3.0]), 1)", "x.repeat_interleave([1, 2, 3], 1)",
    "x.repeat_interleave(2, 3)", "lib.repeat_interleave(lib.tensor([[1, 2]]))",
    "lib.repeat_interleave(lib.tensor([1.0, 2.0]))",
    # diagonal, diag, trace
    "x.diagonal(0, 1, 1)", "x.diagonal(0, 1, -2)", "x.diagonal(0, 1, 3)", "x[0, 0].diagonal()",
    "x.diag()", "x.sum().diag()", "x.trace()", "x[0, 0].trace()", "(x[0] > 0).trace()",
    # outer, broadcast_to, meshgrid
    "lib.outer(x[0], x[0, 0])", "lib.outer(x[0, 0], x[0])", "lib.outer(x.sum(), x[0, 0])",
    "lib.broadcast_to(x, (3, 4))", "x.broadcast_to(2, 2, 4)",
    "lib.meshgrid(x[0], x[0, 0], indexing='ij')", "lib.meshgrid(x[0, 0], x[0, 0], indexing='xx')",
    "lib.meshgrid(indexing='ij')", "lib.meshgrid([1, 2], indexing='ij')",
    "lib.meshgrid(x[0, 0], x[0, 0].sum() > 0, indexing='ij')",
    # which check comes first, when two fail
    "x.split(-1, 5)", "x.narrow(5, 0, -1)", "x.sum().flip(1)", "x.sum().flip(0, -1)",
    "x.sum().unflatten(2, (1,))", "x.sum().repeat_interleave(-1, 0)", "x.sum().repeat_interleave(-1, 2)",
    "x.repeat_interleave(-1, 5)", "x.sum().roll(1, 3)", "x[:, :0].roll((1, 2), 0)",
])
def test_bad_input_raises_torch_s_error(expression):
    refuse(expression)


def test_errors_name_the_sizes():
    _, error = twin_raises(code("x.split([1, 2], 2)"), X)
    assert "[1, 2]" in str(error) and "4" in str(error)
    _, error = twin_raises(code("x.narrow(2, 3, 2)"), X)
    assert "start (3) + length (2) exceeds dimension size (4)" in str(error)
