"""Indexing, reshaping, transposing, squeezing, expanding, cat and stack (chapter "Slicing and reshaping") against PyTorch.

Each case is a line of PyTorch code over `x` (a (2, 3, 4) tensor of distinct values unless said
otherwise); twin() runs it with torch and with nn and compares values, then gradients.
"""
import numpy as np
import pytest

from twin import arrays, code, same, twin, twin_raises

X = arrays((2, 3, 4))[0]
DTYPES = [np.float32, np.float64]


def check(expression, *values, dtype=np.float64):
    "twin() of a line of code over `x` (default: X) and any further tensors named y, z."
    values = values or (X,)
    twin(code(expression, "x y z"[:2 * len(values)]), *(v.astype(dtype) if v.dtype.kind == "f" else v
                                                         for v in values))


def refuse(expression, *values):
    "twin_raises() of a line of code over `x` (default: X) and y, z."
    values = values or (X,)
    twin_raises(code(expression, "x y z"[:2 * len(values)]), *values)


# --- indexing --------------------------------------------------------------------------------------
BASIC_INDEXES = [
    "x[1]", "x[-1]", "x[0, 2]", "x[1, -1, -4]", "x[1:]", "x[:1]", "x[-2:]", "x[1:10]", "x[5:]", "x[:, 1:3]",
    "x[::2]", "x[:, ::2]", "x[..., 1::2]", "x[:, -2:, ::3]", "x[0, :, 1:4:2]", "x[None]", "x[:, None]",
    "x[..., None]", "x[None, :, None]", "x[...]", "x[..., 0]", "x[0, ...]", "x[1, ..., 2]", "x[..., None, 1]",
    "x[()]", "x[1, 2, 3]", "x[0, :, None, ::2]", "x[None, 1, ..., ::3]", "x[0][1:][::2]",
]
ADVANCED_INDEXES = [
    "x[[0, 0, 1]]", "x[[1, -1]]", "x[np.array([0, 0, 1])]", "x[np.array([1, 1], np.int32)]",
    "x[lib.tensor([0, 0, 1])]", "x[lib.tensor([[0, 1], [1, 1]])]", "x[lib.tensor(1)]", "x[np.array(1)]",
    "x[:, [2, 0, 2]]", "x[..., [3, 3, 0]]", "x[:, :, lib.tensor([-1, 0, -1])]", "x[[0, 1], [2, 2]]",
    "x[[1, 1], [2, 2], [3, 3]]", "x[[0, 1], :, [1, 1]]", "x[:, [0, 2], [1, 1]]", "x[0, :, [1, 2]]",
    "x[[1, 0], 1:]", "x[None, [1, 1]]", "x[lib.tensor([[1], [0]]), lib.tensor([0, 2, 2])]",
    "x[:, 1][[0, 0, 1]]",
]
MASK_INDEXES = [
    "x[x > 0]", "x[np.array([True, False])]", "x[lib.tensor([False, True])]", "x[[True, True]]",
    "x[:, [True, False, True]]", "x[:, lib.tensor([True, False, True]), 1:]", "x[x[:, :, 0] > 0]",
    "x[1][x[1] > 0]", "x[..., lib.tensor([True, False, False, True])]", "x[x < -10]", "x[0, x[0, :, 0] > 0]",
]


@pytest.mark.parametrize("expression", BASIC_INDEXES + ADVANCED_INDEXES + MASK_INDEXES)
def test_indexing_values_and_gradients(expression):
    # repeated indices make the gradient accumulate
    check(expression)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("expression", ["x[1, ::2]", "x[[0, 0]]", "x[x > 0]", "x[..., None, [1, 1]]"])
def test_indexing_in_float32_and_float64(expression, dtype):
    check(expression, dtype=dtype)


@pytest.mark.parametrize("expression", ["x[y]", "x[:, y]", "x[y, y]", "x[..., y[:3]]", "x[y[:2] > 0]"])
def test_indexing_with_an_index_tensor_passed_in(expression):
    check(expression, X, np.array([1, 0, 1, 1]))


def test_indexing_a_1d_and_a_0d_tensor():
    v = np.arange(5.0) - 2.0
    for expression in ["x[2]", "x[-1]", "x[1:4]", "x[::2]", "x[[4, 4, 0]]", "x[x > 0]", "x[None]", "x[..., None]"]:
        check(expression, v)
    for expression in ["x[None]", "x[...]", "x[()]", "x[..., None]"]:
        check(expression, np.array(2.5))


def test_index_used_twice_accumulates_both_gradients():
    check("x[0] * x[0] + x[[0, 0]].sum(0) + x[:, 1:].sum()")


def test_indexing_integer_and_bool_tensors():
    check("x[1:, [0, 0]]", np.arange(12).reshape(3, 4))
    check("x[x > 5]", np.arange(12).reshape(3, 4))
    check("x[[True, False, True]]", np.array([True, False, True]))


@pytest.mark.parametrize("expression", [
    "x[2]", "x[-3]", "x[0, 3]", "x[1, 1, 4]", "x[[0, 2]]", "x[np.array([0, -3])]", "x[lib.tensor([0, 5])]",
    "x[:, [3]]", "x[0, 0, 0, 0]", "x[..., 0, 0, 0, 0]",
])
def test_indexing_out_of_bounds_raises_index_error(expression):
    refuse(expression)


@pytest.mark.parametrize("expression", [
    "x[lib.tensor([True, False, True])]", "x[:, lib.tensor([True, False])]",
    "x[lib.tensor([0.0, 1.0])]",
])
def test_indexing_with_a_wrong_mask_or_a_float_index_raises_index_error(expression):
    refuse(expression)


def test_indexing_with_a_negative_step_raises_value_error():
    refuse("x[::-1]")


# --- reshape and view ------------------------------------------------------------------------------
@pytest.mark.parametrize("expression", [
    "x.reshape(6, 4)", "x.reshape((6, 4))", "x.reshape([4, 6])", "x.reshape(-1)", "x.reshape(2, -1, 3)",
    "x.reshape(24)", "x.reshape(4, 3, 2)", "x.reshape(1, 24, 1)", "x.reshape(-1, 1)", "lib.reshape(x, (3, 8))",
    "lib.reshape(x, (-1,))", "x.view(6, 4)", "x.view(-1)", "x.view((2, 12))", "x.view(2, -1)", "x.view(2, 3, 4)",
    "x[0].view(-1)", "x[1:].view(3, 4)", "x.transpose(0, 1).reshape(-1)", "x.permute(2, 0, 1).reshape(4, 6)",
    "x[:, :, ::2].reshape(3, 4)", "x.reshape(6, 4).t().reshape(24)",
])
def test_reshape_and_view(expression):
    check(expression)


@pytest.mark.parametrize("expression", [
    # views of non-contiguous tensors that torch allows: the strides still fit the new shape
    "x.reshape(6, 4).t().view(4, 6)", "x.reshape(6, 4).t().view(4, 1, 6)", "x.permute(1, 0, 2).view(3, 2, 2, 2)",
    "x[:, :, ::2].view(-1)", "x[1].t().view(4, 3)", "x.transpose(0, 2).view(4, 3, 2)",
])
def test_view_of_a_non_contiguous_tensor_where_strides_allow(expression):
    check(expression)


@pytest.mark.parametrize("expression", [
    "x.transpose(0, 1).view(-1)", "x.reshape(6, 4).t().view(24)", "x.permute(1, 0, 2).view(3, 8)",
    "x[:, :, 1:3].view(-1)", "x.transpose(1, 2).view(2, 12)",
])
def test_view_that_needs_a_copy_raises(expression):
    refuse(expression)


@pytest.mark.parametrize("expression", ["x.reshape(1)", "x.reshape(())", "x.view(1, 1)", "x.reshape(-1)"])
def test_reshape_a_0d_tensor(expression):
    check(expression, np.array(1.5))


def test_reshape_to_0d():
    check("x.reshape(())", np.ones((1, 1)))
    check("x.view([])", np.ones((1,)))


@pytest.mark.parametrize("expression", [
    "x.reshape(5, 5)", "x.reshape(-1, -1)", "x.view(7)", "x.reshape(-1, 5)", "x.view(2, -1, 5)",
])
def test_reshape_to_a_wrong_size_raises(expression):
    refuse(expression)


# --- flatten ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("expression", [
    "x.flatten()", "x.flatten(1)", "x.flatten(0, 1)", "x.flatten(-2, -1)", "x.flatten(1, 1)", "x.flatten(0, -1)",
    "x.flatten(start_dim=1, end_dim=-1)", "x.flatten(end_dim=1)", "lib.flatten(x, 1)", "lib.flatten(x)",
    "x.transpose(0, 2).flatten(1)",
])
def test_flatten(expression):
    check(expression)


def test_flatten_a_0d_tensor_gives_one_element():
    check("x.flatten()", np.array(1.5))


def test_flatten_with_bad_dims_raises():
    refuse("x.flatten(2, 1)")   # RuntimeError: start after end
    refuse("x.flatten(0, 3)")   # IndexError
    refuse("x.flatten(-4)")


# --- transpose, t, T, permute ----------------------------------------------------------------------
@pytest.mark.parametrize("expression", [
    "x.transpose(0, 1)", "x.transpose(-1, 0)", "x.transpose(1, 1)", "x.transpose(2, 1)", "lib.transpose(x, 0, 2)",
    "x[0].t()", "lib.t(x[0])", "x[0].T", "x[0].T.T", "x[0, 0].t()", "x[0, 0, 0].t()",
    "x.permute(2, 0, 1)", "x.permute((2, 0, 1))", "x.permute([1, 0, 2])", "x.permute(-1, 0, 1)",
    "x.permute(0, 1, 2)", "lib.permute(x, (1, 2, 0))", "x.permute(2, 0, 1).permute(2, 0, 1)",
    "x.permute(2, 0, 1)[1:, ::2]",
])
def test_transpose_and_permute(expression):
    check(expression)


@pytest.mark.parametrize("expression", [
    "x.transpose(0, 3)", "x.transpose(-4, 0)", "x.t()", "x.permute(0, 1)", "x.permute(0, 0, 1)",
    "x.permute(0, 1, 3)", "x.permute(0, 1, 2, 3)",
])
def test_transpose_and_permute_with_bad_dims_raise(expression):
    refuse(expression)


# --- unsqueeze, squeeze, expand --------------------------------------------------------------------
@pytest.mark.parametrize("expression", [
    "x.unsqueeze(0)", "x.unsqueeze(1)", "x.unsqueeze(3)", "x.unsqueeze(-1)", "x.unsqueeze(-4)", "x.unsqueeze(-2)",
    "lib.unsqueeze(x, 2)", "x.unsqueeze(dim=0)", "x.unsqueeze(0).unsqueeze(-1)",
])
def test_unsqueeze(expression):
    check(expression)


def test_unsqueeze_a_0d_tensor():
    check("x.unsqueeze(0)", np.array(1.5))
    check("x.unsqueeze(-1)", np.array(1.5))


@pytest.mark.parametrize("expression", ["x.unsqueeze(4)", "x.unsqueeze(-5)"])
def test_unsqueeze_out_of_range_raises_index_error(expression):
    refuse(expression)


Y = arrays((1, 3, 1, 2))[0]


@pytest.mark.parametrize("expression", [
    "x.squeeze()", "x.squeeze(0)", "x.squeeze(1)", "x.squeeze(-2)", "x.squeeze(-1)", "x.squeeze((0, 2))",
    "x.squeeze((0, 1))", "x.squeeze([2, 0])", "x.squeeze(dim=2)", "lib.squeeze(x, 0)", "lib.squeeze(x)",
])
def test_squeeze(expression):
    # a dim whose size is not 1 is left alone
    check(expression, Y)


def test_squeeze_a_0d_tensor_and_all_ones():
    check("x.squeeze()", np.array(1.5))
    check("x.squeeze(0)", np.array(1.5))
    check("x.squeeze()", np.ones((1, 1, 1)))


@pytest.mark.parametrize("expression", ["x.squeeze(4)", "x.squeeze(-5)", "x.squeeze((0, 0))", "x.squeeze((0, 4))"])
def test_squeeze_with_bad_dims_raises(expression):
    refuse(expression, Y)


Z = arrays((3, 1))[0]


@pytest.mark.parametrize("expression", [
    "x.expand(3, 4)", "x.expand(-1, 4)", "x.expand(2, 3, 4)", "x.expand((2, 3, 4))", "x.expand(3, 1)",
    "x.expand(-1, -1)", "x.expand(2, -1, 5)", "x.expand([1, 3, 2])", "x.expand(3, 0)", "x.t().expand(3, 3)",
    "x.expand(3, 4) * x",
])
def test_expand(expression):
    # the gradient sums over every expanded dim
    check(expression, Z)


def test_expand_a_0d_tensor():
    check("x.expand(2, 3)", np.array(1.5))
    check("x.expand(())", np.array(1.5))


@pytest.mark.parametrize("expression", ["x.expand(4, 4)", "x.expand(4)", "x.expand(-1, 3, 4)", "x.expand(3, 4, 2)"])
def test_expand_to_an_impossible_shape_raises(expression):
    refuse(expression, Z)


# --- cat and stack ---------------------------------------------------------------------------------
@pytest.mark.parametrize("expression, shapes", [
    ("lib.cat([x, y], 0)", ((2, 3), (4, 3))), ("lib.cat([x, y], 1)", ((2, 3), (2, 1))),
    ("lib.cat([x, y], -1)", ((2, 3, 1), (2, 3, 2))), ("lib.cat((x, y, z))", ((1, 2), (3, 2), (1, 2))),
    ("lib.cat([x, y, z], dim=1)", ((2, 1), (2, 3), (2, 2))), ("lib.cat([x, y, x], -2)", ((1, 3), (2, 3))),
    ("lib.cat([x], 0)", ((2, 3),)), ("lib.cat([x, y], 0)", ((3,), (2,))), ("lib.cat([x, y], 0)", ((0, 3), (2, 3))),
    ("lib.cat([x * 2, y[:, :2]], 1)", ((2, 3), (2, 3))),
])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_cat(expression, shapes, dtype):
    check(expression, *arrays(*shapes), dtype=dtype)


@pytest.mark.parametrize("dtypes", [(np.float32, np.float64), (np.int64, np.float32), (np.bool_, np.int64),
                                    (np.float64, np.int64), (np.int64, np.int64)], ids=str)
def test_cat_promotes_like_torch(dtypes):
    x, y = arrays((2, 3), (1, 3))
    twin(code("lib.cat([x, y])", "x y"), *(np.asarray(v * 3, dtype=d) for v, d in zip((x, y), dtypes)))


@pytest.mark.parametrize("expression, shapes", [
    ("lib.cat([x, y], 0)", ((2, 3), (2, 1))), ("lib.cat([x, y], 1)", ((2, 3), (3, 3))),
    ("lib.cat([x, y])", ((2, 3), (3,))), ("lib.cat([x, y])", ((), ())), ("lib.cat([x, y], 2)", ((2, 3), (2, 3))),
    ("lib.cat([x, y], -3)", ((2, 3), (2, 3))),
])
def test_cat_refuses_like_torch(expression, shapes):
    refuse(expression, *arrays(*shapes))


def test_cat_of_nothing_raises():
    twin_raises(lambda lib: lib.cat([]))


@pytest.mark.parametrize("dim", [0, 1, 2, -1, -2, -3])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_stack(dim, dtype):
    check(f"lib.stack([x, y, z], {dim})", *arrays((2, 3), (2, 3), (2, 3)), dtype=dtype)
    check(f"lib.stack((x, y * x), dim={dim})", *arrays((2, 3), (2, 3)), dtype=dtype)


def test_stack_of_0d_and_1d_tensors_and_one_tensor():
    check("lib.stack([x, y])", np.array(1.5), np.array(-2.0))
    check("lib.stack([x, y, x], 1)", *arrays((3,), (3,)))
    check("lib.stack([x])", *arrays((2, 3)))


@pytest.mark.parametrize("dtypes", [(np.float32, np.float64), (np.int64, np.float32), (np.bool_, np.int64)], ids=str)
def test_stack_promotes_like_torch(dtypes):
    x, y = arrays((2, 3), (2, 3))
    twin(code("lib.stack([x, y], 1)", "x y"), *(np.asarray(v * 3, dtype=d) for v, d in zip((x, y), dtypes)))


@pytest.mark.parametrize("expression, shapes", [
    ("lib.stack([x, y])", ((2, 3), (3, 2))), ("lib.stack([x, y])", ((2, 3), (2,))),
    ("lib.stack([x, y], 3)", ((2, 3), (2, 3))), ("lib.stack([x, y], -4)", ((2, 3), (2, 3))),
])
def test_stack_refuses_like_torch(expression, shapes):
    refuse(expression, *arrays(*shapes))


def test_stack_of_nothing_raises():
    twin_raises(lambda lib: lib.stack([]))


# --- everything together ---------------------------------------------------------------------------
def test_a_chain_of_shape_ops_passes_the_gradient_back():
    check("lib.cat([x.permute(2, 0, 1).reshape(4, 6).t()[1:, ::2],"
          "         x[1, 0, None, [1, 1]].expand(3, 2).unsqueeze(0).squeeze(0)], 0).T[..., [2, 2, 0]]")


# --- torch's other spellings that nn also has -------------------------------------------------------
@pytest.mark.parametrize("expression", [
    "x.reshape_as(y)", "x.view_as(y)", "x.transpose(0, 2).contiguous().view(-1)", "x.mT", "x[0].mT",
    "x[:, :1].expand_as(x)", "lib.stack(list(x), 2)", "lib.cat(tuple(x[0]))",
])
def test_other_spellings(expression):
    check(expression, X, np.zeros((4, 6)))


def test_is_contiguous_after_views():
    same(lambda lib: [t.is_contiguous() for t in (lib.ones(2, 3), lib.ones(2, 3).t(), lib.ones(2, 3)[:, ::2],
                                                   lib.ones(2, 3)[1], lib.ones(2, 3).t().contiguous())])
