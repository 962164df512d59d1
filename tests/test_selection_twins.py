"""Selecting, sorting and sampling against PyTorch.

Every differentiable op: values, dtypes and gradients (twin), float64 gradcheck, second
derivatives (Hessian-vector products vs torch with create_graph=True, and gradgradcheck).
The index-valued ops: values and int64 dtypes. Bad input: torch's exception types, nothing
changed. The samplers: nn's streams are its own, so they are checked by their invariants
(ranges, distinctness, dtypes, shapes, reproducibility) and by statistics at fixed seeds.
"""
import math

import numpy as np
import pytest
import torch

import nn
from test_higher_order import assert_all_same
from twin import F, arrays, numpy, same, twin, twin_raises

RNG = np.random.default_rng(11)


def ints(*values):
    "An int64 array."
    return np.array(values, dtype=np.int64)


def distinct(shape, seed=5):
    "Standard normal values, all different (so sorting has no ties)."
    values = arrays(shape, seed=seed)[0]
    assert len(np.unique(values)) == values.size
    return values


def with_zeros(values, *positions):
    "A copy of the values with zeros at the flat positions."
    values = np.array(values)
    values.flat[list(positions)] = 0.0
    return values


MASK = arrays((3, 4), seed=9)[0] > 0
ROW_MASK = np.array([[True], [False], [True]])
UNIQUE_COLUMNS = ints([0, 3], [2, 1], [1, 0])        # per row, no repeats
REPEATS = ints([0, 3, 3], [2, 2, 0], [1, 0, 3])
# (3, 2, 4) with values in [0, 2): gathers from a (3, 2, 4) tensor along dim 1
DEEP = np.random.default_rng(3).integers(0, 2, (3, 2, 4))


def case(expression, *inputs, id=None):
    """A line of torch code over `lib`, `F`, np and tensors a, b, c, d made from the
    inputs (a shape: standard normal float64 values; an array: its values)."""
    def fn(lib, *tensors):
        scope = {"lib": lib, "F": F(lib), "np": np}
        return eval(expression, scope, dict(zip("abcd", tensors)))
    drawn = arrays(*(() if isinstance(i, np.ndarray) else i for i in inputs))
    values = [i if isinstance(i, np.ndarray) else a for i, a in zip(inputs, drawn)]
    return pytest.param(fn, values, id=id or expression)


# --- differentiable ops ----------------------------------------------------------------
DIFFERENTIABLE = [
    # gather and scatter
    case("lib.gather(a, 1, b)", (3, 4), REPEATS),
    case("a.gather(0, b)", (3, 4), ints([0, 2, 1, 1], [2, 2, 0, 1])),
    case("a.gather(1, b)", (3, 2, 4), DEEP),
    case("a.gather(-1, b)", (2, 3, 4), np.random.default_rng(1).integers(0, 4, (2, 2, 6))),
    case("lib.gather(a, 0, b)", (5,), np.array(3)),
    case("a.scatter(1, b, c)", (3, 4), UNIQUE_COLUMNS, (3, 2)),
    case("lib.scatter(a, 0, b, c)", (3, 4), ints([2, 0, 1, 0]), (1, 4)),
    case("a.scatter(1, b, 2.5)", (3, 4), REPEATS),
    case("lib.scatter(a, -1, b, value=-1.0)", (3, 4), UNIQUE_COLUMNS),
    case("a.scatter_add(1, b, c)", (3, 4), REPEATS, (3, 3)),
    case("lib.scatter_add(a, 0, b, c)", (3, 4), ints([0, 0, 2, 0], [0, 2, 2, 1]), (2, 4)),
    case("a.scatter_add(1, b, c)", (3, 2, 4), DEEP, (3, 2, 4)),
    case("a.index_select(1, b)", (3, 4), ints(2, 0, 2)),
    case("lib.index_select(a, 0, b)", (3, 4), np.array([1, 1], dtype=np.int32)),
    case("a.index_select(-1, b)", (2, 3), np.array(1)),
    case("lib.take_along_dim(a, b)", (3, 4), ints([11, 0], [0, 5])),
    case("lib.take_along_dim(a, b, 1)", (3, 4), ints([0, -1, 3]).repeat(3, 0)),
    case("a.take_along_dim(b, dim=0)", (3, 1), ints([2, 0, 1, 0])),
    case("lib.take_along_dim(a, b, dim=-1)", (2, 1, 4), ints([[3, 3]], [[0, 1]])),
    # masks
    case("a.masked_select(b)", (3, 4), MASK),
    case("lib.masked_select(a, b)", (4,), ROW_MASK),
    case("a.masked_fill(b, 2.0)", (3, 4), MASK),
    case("lib.masked_fill(a, b, c)", (3, 4), MASK, ()),
    case("a.masked_fill(b, c)", (4,), ROW_MASK, ()),
    case("a.tril()", (3, 4)),
    case("lib.triu(a, 1)", (2, 3, 4)),
    case("lib.tril(a, diagonal=-1)", (4, 3)),
    case("a.triu(-2)", (3, 3)),
    # sorting
    case("a.sort()", distinct((3, 4))),
    case("a.sort(0, descending=True)", distinct((3, 4))),
    case("lib.sort(a, dim=1, stable=True, descending=True)", distinct((2, 3, 4))),
    case("lib.sort(a, -1)", distinct(())),
    case("a.topk(2)", distinct((3, 4))),
    case("lib.topk(a, 3, dim=0, largest=False)", distinct((4, 3))),
    case("a.topk(1, -2)", distinct((2, 3, 4))),
    case("a.kthvalue(2)", distinct((3, 4))),
    case("lib.kthvalue(a, 1, 0, True)", distinct((3, 4))),
    case("a.kthvalue(3, dim=1)", distinct((2, 3, 4))),
    case("a.max(1).values", distinct((3, 4))),
    # running sums and products
    case("a.cumsum(1)", (3, 4)),
    case("lib.cumsum(a, 0)", (3, 4)),
    case("lib.cumsum(a, -1, dtype=lib.float64)", arrays((2, 3, 4))[0].astype(np.float32)),
    case("a.cumsum(0)", ()),
    case("a.cumprod(1)", (3, 4)),
    case("lib.cumprod(a, -1)", with_zeros(arrays((3, 5))[0], 2, 5, 8, 12, 13)),
    case("a.cumprod(0)", with_zeros(arrays((4, 2, 3))[0], 1, 7, 12)),
    case("a.cumprod(1)", with_zeros(arrays((2, 4))[0], 0, 3, 7)),
    # einsum and tensordot
    case("lib.einsum('ij,jk->ik', a, b)", (2, 3), (3, 4)),
    case("lib.einsum('ij,jk', [a, b])", (2, 3), (3, 4)),
    case("lib.einsum('ii->i', a)", (3, 3)),
    case("lib.einsum('ii->', a)", (3, 3)),
    case("lib.einsum('ii', a)", (3, 3)),
    case("lib.einsum('ij->', a)", (2, 3)),
    case("lib.einsum('ij->i', a)", (2, 3)),
    case("lib.einsum('ij->ji', a)", (2, 3)),
    case("lib.einsum('ba', a)", (2, 3)),
    case("lib.einsum('iij->j', a)", (3, 3, 2)),
    case("lib.einsum('iji->ij', a)", (3, 2, 3)),
    case("lib.einsum('bij,bjk->bik', a, b)", (5, 2, 3), (5, 3, 4)),
    case("lib.einsum('i,j->ij', a, b)", (2,), (3,)),
    case("lib.einsum('i,i->', a, b)", (4,), (4,)),
    case("lib.einsum('i,i->i', a, b)", (4,), (1,)),
    case("lib.einsum('ij,jk', a, b)", (2, 3), (1, 4)),
    case("lib.einsum('ij,ij->ij', a, a)", (2, 3)),
    case("lib.einsum('ii,i->i', a, b)", (3, 3), (3,)),
    case("lib.einsum('ij,jk,kl->il', a, b, c)", (2, 3), (3, 4), (4, 2)),
    case("lib.einsum('...ij,...jk->...ik', a, b)", (5, 1, 2, 3), (4, 3, 2)),
    case("lib.einsum('...ij->...ji', a)", (2, 3, 4)),
    case("lib.einsum('i...->i', a)", (2, 3, 4)),
    case("lib.einsum('...i', a)", (2, 3)),
    case("lib.einsum('b...,...', a, b)", (2, 3), (3,)),
    case("lib.einsum(' i j -> j ', a)", (2, 3)),
    case("lib.einsum('bii->b', a)", (2, 3, 3)),
    case("lib.einsum('->', a)", ()),
    case("lib.einsum('Ab,bA->A', a, b)", (2, 3), (3, 2)),
    case("lib.tensordot(a, b)", (2, 3, 4), (3, 4, 5)),
    case("lib.tensordot(a, b, 1)", (2, 3), (3, 4)),
    case("lib.tensordot(a, b, dims=0)", (2,), (3,)),
    case("lib.tensordot(a, b, dims=([2, 0], [1, 0]))", (2, 3, 4), (2, 4, 5)),
    case("lib.tensordot(a, b, [[1], [0]])", (2, 3), (3, 4)),
]
FLOAT64 = [p for p in DIFFERENTIABLE if all(v.dtype != np.float32 for v in p.values[1])]
# linear ops have no second derivative of their own: sin after them makes their vjp
# part of what is differentiated twice
SECOND_ORDER = [
    pytest.param(lambda lib, *t, fn=p.values[0]: _first(fn(lib, *t)).sin(), p.values[1],
                 id=p.id + ".sin()") for p in FLOAT64
]
PRODUCTS = [p for p in FLOAT64 if "einsum" in p.id or "tensordot" in p.id]


def _first(result):
    "The first (value) output of a result: sort and topk return (values, indices)."
    return result[0] if isinstance(result, tuple) else result


@pytest.mark.parametrize("fn, values", DIFFERENTIABLE)
def test_values_and_gradients_match_torch(fn, values):
    twin(fn, *values)


def test_float32_values_and_gradients_match_torch():
    x = arrays((3, 4))[0].astype(np.float32)
    for fn in (lambda lib, a: a.cumprod(1), lambda lib, a: a.sort(0),
               lambda lib, a: lib.einsum("ij,kj->ik", a, a),
               lambda lib, a: a.gather(1, lib.tensor(REPEATS)).cumsum(0)):
        twin(fn, x)


def float_leaves(values):
    "nn leaves for the float values; the others (indices, masks) as constants."
    return [nn.tensor(v, requires_grad=v.dtype.kind == "f") for v in values]


def with_leaves(fn, values):
    "fn over nn, taking only the float inputs (the others are fixed)."
    def run(*leaves):
        leaves, tensors = iter(leaves), []
        for v in values:
            tensors.append(next(leaves) if v.dtype.kind == "f" else nn.tensor(v))
        return _first(fn(nn, *tensors))
    return run


@pytest.mark.parametrize("fn, values", FLOAT64)
def test_gradcheck(fn, values):
    leaves = [t for t in float_leaves(values) if t.requires_grad]
    assert nn.gradcheck(with_leaves(fn, values), leaves)


def hessian_vector_product(lib, fn, values, seed=0):
    "First gradients (create_graph=True) of fn's first output and a Hessian-vector product."
    tensors = [lib.tensor(v, requires_grad=v.dtype.kind == "f") for v in values]
    inputs = [t for t in tensors if t.requires_grad]
    out = _first(fn(lib, *tensors))
    rng = np.random.default_rng(seed)
    seed_gradient = lib.tensor(rng.standard_normal(tuple(out.shape)))
    grads = lib.autograd.grad(out, inputs, seed_gradient, create_graph=True,
                              allow_unused=True)
    total = sum((g * lib.tensor(rng.standard_normal(tuple(g.shape)))).sum()
                for g in grads if g is not None)
    if not (isinstance(total, (torch.Tensor, nn.Tensor)) and total.requires_grad):
        return grads, (None,) * len(inputs)
    return grads, lib.autograd.grad(total, inputs, allow_unused=True)


@pytest.mark.parametrize("fn, values", SECOND_ORDER + PRODUCTS)
def test_second_derivative_matches_torch(fn, values):
    (torch_grads, torch_hvp), (nn_grads, nn_hvp) = (
        hessian_vector_product(lib, fn, values) for lib in (torch, nn))
    assert_all_same(torch_grads, nn_grads, "first gradient of input")
    assert_all_same(torch_hvp, nn_hvp, "Hessian-vector product, input")


@pytest.mark.parametrize("fn, values", SECOND_ORDER)
def test_gradgradcheck(fn, values):
    leaves = [t for t in float_leaves(values) if t.requires_grad]
    assert nn.autograd.gradgradcheck(with_leaves(fn, values), leaves)


def test_third_derivative_of_einsum_and_cumprod_matches_torch():
    x = arrays((3, 3))[0]

    def third(lib):
        a = lib.tensor(x, requires_grad=True)
        y = lib.einsum("ij,jk,ki->", a, a, a) + lib.cumprod(a, 1).sum()
        g, = lib.autograd.grad(y, a, create_graph=True)
        h, = lib.autograd.grad(g.sin().sum(), a, create_graph=True)
        return h, lib.autograd.grad(h.sum(), a)[0]
    for expected, actual in zip(third(torch), third(nn)):
        np.testing.assert_allclose(numpy(actual), numpy(expected), rtol=1e-9)


def test_scatter_src_larger_than_index_gets_a_padded_gradient():
    # torch's backward refuses this case; the gradient is checked by finite differences
    a, src = (nn.tensor(v, requires_grad=True) for v in arrays((2, 3), (3, 4)))
    index = nn.tensor(ints([0], [2]))
    assert nn.gradcheck(lambda a, s: a.scatter(1, index, s), (a, src))
    assert nn.gradcheck(lambda a, s: a.scatter_add(1, index, s), (a, src))
    assert nn.autograd.gradgradcheck(lambda a, s: a.scatter_add(1, index, s).sin(),
                                     (a, src))
    twin(lambda lib, a, s: a.scatter(1, lib.tensor(ints([0], [2])), s),
         *arrays((2, 3), (3, 4)), requires_grad=False)


def test_cumprod_gradient_is_exact_at_zeros():
    x = nn.tensor([2.0, 0.0, 3.0, 0.0, 4.0], dtype=nn.float64, requires_grad=True)
    nn.cumprod(x, 0).backward(nn.tensor([1.0, 2.0, 3.0, 4.0, 5.0], dtype=nn.float64))
    # x̄_i = sum over k >= i of ȳ_k times the product of x_j, j <= k, j != i
    assert x.grad.tolist() == [1.0, 22.0, 0.0, 0.0, 0.0]


def test_cumprod_backward_with_zeros_is_linear_in_memory():
    import tracemalloc
    values = arrays((6000,))[0]
    values[[10, 3000]] = 0.0
    x = nn.tensor(values, requires_grad=True)
    y = x.cumprod(0)
    tracemalloc.start()
    try:
        y.backward(nn.ones_like(y))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * values.nbytes, f"backward used {peak} bytes"  # n x n: 6000 x


def test_grad_fn_names():
    x = nn.tensor(distinct((3, 4)), requires_grad=True)
    index = nn.tensor(UNIQUE_COLUMNS)
    names = {
        "GatherBackward0": x.gather(1, index), "ScatterBackward0": x.scatter(1, index, x),
        "ScatterBackward1": x.scatter(1, index, 1.0),
        "ScatterAddBackward0": x.scatter_add(1, index, x),
        "IndexSelectBackward0": x.index_select(0, nn.tensor([1])),
        "MaskedSelectBackward0": x.masked_select(nn.tensor(MASK)),
        "MaskedFillBackward0": x.masked_fill(nn.tensor(MASK), 1.0),
        "SortBackward0": x.sort().values, "TopkBackward0": x.topk(2).values,
        "KthvalueBackward0": x.kthvalue(2).values, "CumsumBackward0": x.cumsum(0),
        "CumprodBackward0": x.cumprod(0), "TrilBackward0": x.tril(),
        "TriuBackward0": x.triu(), "GatherBackward0 ": nn.take_along_dim(x, index, 1),
    }
    for name, result in names.items():
        assert result.grad_fn.name() == name.strip()


# --- function and method forms, and namedtuples -------------------------------------------
METHODS = """gather scatter scatter_add index_select masked_select masked_fill take_along_dim
             nonzero unique bincount sort argsort topk kthvalue cumsum cumprod tril triu
             multinomial bernoulli""".split()
FUNCTIONS = METHODS + """searchsorted einsum tensordot randint randint_like randperm
                         normal""".split()


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_exists_where_torch_has_it(name):
    assert hasattr(torch, name) and callable(getattr(nn, name, None)), name


@pytest.mark.parametrize("name", METHODS)
def test_method_exists_where_torch_has_it(name):
    assert hasattr(torch.Tensor, name) and callable(getattr(nn.Tensor, name, None)), name


def test_one_hot_is_functional_not_a_top_level_function():
    assert not hasattr(torch, "one_hot") and not hasattr(nn, "one_hot")
    assert callable(nn.selection.one_hot)
    if hasattr(nn.functional, "one_hot"):
        assert nn.functional.one_hot is nn.selection.one_hot


@pytest.mark.parametrize("name, args", [
    ("gather", (1, REPEATS)), ("scatter_add", (1, REPEATS, "x")), ("index_select", (0, ints(2, 0))),
    ("masked_select", (MASK,)), ("masked_fill", (MASK, 3.0)), ("take_along_dim", (REPEATS, 1)),
    ("nonzero", ()), ("unique", ()), ("sort", (0, True)), ("argsort", (1,)), ("topk", (2,)),
    ("kthvalue", (2, 0)), ("cumsum", (1,)), ("cumprod", (0,)), ("tril", (1,)), ("triu", (-1,)),
], ids=lambda v: v if isinstance(v, str) else "")
def test_function_and_method_agree(name, args):
    x = nn.tensor(distinct((3, 4)))
    args = [x if isinstance(a, str) else nn.tensor(a) if isinstance(a, np.ndarray) else a
            for a in args]
    by_function, by_method = getattr(nn, name)(x, *args), getattr(x, name)(*args)
    for f, m in zip(*(r if isinstance(r, tuple) else (r,)
                      for r in (by_function, by_method))):
        np.testing.assert_array_equal(numpy(f), numpy(m))


def test_namedtuples():
    x = nn.tensor(distinct((3, 4)))
    for result, name in ((x.sort(), "sort"), (x.topk(2), "topk"),
                         (x.kthvalue(1), "kthvalue")):
        assert type(result).__name__ == name and result._fields == ("values", "indices")
        assert result.indices.dtype == nn.int64 and result[0] is result.values
    assert nn.return_types.sort is type(x.sort())


# --- index-valued ops --------------------------------------------------------------------
INDEX_VALUED = [
    case("a.nonzero()", with_zeros(arrays((3, 4))[0], 1, 5, 6)),
    case("lib.nonzero(a, as_tuple=True)", with_zeros(arrays((3, 4))[0], 1, 5, 6)),
    case("lib.nonzero(a)", np.array(0.0)),
    case("a.nonzero(as_tuple=True)", np.array(2.0)),
    case("a.nonzero()", np.zeros((2, 0))),
    case("lib.nonzero(a)", np.array([True, False, True])),
    case("lib.unique(a)", ints(3, 1, 2, 3, 1, 5)),
    case("a.unique(sorted=False)", ints(5, 2, 7, 2, 9, 5, 1)),
    case("lib.unique(a, return_inverse=True, return_counts=True)", ints(3, 1, 2, 3, 1)),
    case("lib.unique(a, return_inverse=True)", ints([1, 2], [2, 3])),
    case("a.unique(True, False, True)", np.array([1.0, np.nan, np.nan, 1.0])),
    case("lib.unique(a, dim=0, return_inverse=True, return_counts=True)",
         ints([1, 2], [1, 2], [0, 3])),
    case("lib.unique(a, dim=1, return_counts=True)", ints([1, 1, 2], [0, 0, 3])),
    case("lib.unique(a, return_inverse=True, return_counts=True)", np.array(3.0)),
    case("lib.unique(a)", np.array([True, False, True])),
    case("lib.bincount(a)", ints(0, 1, 1, 3)),
    case("a.bincount(minlength=6)", ints(0, 1, 1, 3)),
    case("a.bincount(b)", ints(0, 1, 1, 3), np.array([0.5, 1.0, 2.0, 3.0])),
    case("a.bincount(b)", ints(0, 1, 1, 3), np.array([0.5, 1.0, 2.0, 3.0], np.float32)),
    case("lib.bincount(a, b, 2)", ints(0, 1, 1, 3), ints(1, 2, 3, 4)),
    case("lib.bincount(a)", np.array([1, 2], dtype=np.int32)),
    case("lib.bincount(a)", np.zeros(0, dtype=np.int64)),
    case("lib.searchsorted(a, b)", np.array([1.0, 3, 5, 7]), np.array([3.0, 6, 9, 0])),
    case("lib.searchsorted(a, b, right=True)", np.array([1.0, 3, 5, 7]),
         np.array([3.0, 6, 9, 0])),
    case("lib.searchsorted(a, b, side='right')", np.array([1.0, 3, 5, 7]),
         np.array([[3.0, 6], [1, 7]])),
    case("lib.searchsorted(a, 3)", np.array([1.0, 3, 5, 7])),
    case("lib.searchsorted(a, 3.5, out_int32=True)", np.array([1.0, 3, 5, 7])),
    case("lib.searchsorted(a, b)", ints(1, 3, 5), np.array([3.0, 6])),
    case("lib.searchsorted(a, b)", np.array([[1.0, 3, 5], [2, 4, 6]]),
         np.array([[3.0, 4, 5, 6], [3, 4, 5, 6]])),
    case("lib.searchsorted(a, b, right=True)", np.array([[1.0, 3, 5], [2, 4, 6]]),
         np.array([[3.0], [np.nan]])),
    case("lib.searchsorted(a, b)", np.array([1.0, 3]), np.array([np.nan, np.inf])),
    case("lib.searchsorted(a, b, sorter=c)", np.array([3.0, 1, 2]), np.array([2.5, 0]),
         ints(1, 2, 0)),
    case("lib.argsort(a, descending=True)", np.array([[3.0, 1, 2, 1], [0, np.nan, -1, 0]])),
    case("lib.sort(a)", np.array([[3.0, 1, 2, 1], [0, np.nan, -1, 0]])),
    case("lib.sort(a, descending=True)", np.array([[3.0, 1, 2, 1], [0, np.nan, -1, 0]])),
    case("a.sort(0, descending=True)", ints([3, 1, 2], [3, 0, 2])),
    case("lib.sort(a)", np.array([True, False, True])),
    case("a.argsort(dim=0)", np.array([[3.0, 1, 2, 1], [0, np.nan, -1, 0]])),
    case("a.topk(2)", np.array([[3.0, 1, 2, 1], [0, np.nan, -1, 0.5]])),
    case("a.topk(0)", (2, 3)),
    case("a.topk(1)", np.array(3.0)),
    case("lib.topk(a, 2)", ints(3, 1, 2)),
    case("a.kthvalue(1)", np.array(3.0)),
    case("a.kthvalue(2)", ints(3, 1)),
    case("a.kthvalue(3)", np.array([1.0, np.nan, 0])),
    case("a.cumsum(0)", np.array([1, 2], dtype=np.int32)),
    case("a.cumsum(0)", np.array([True, True])),
    case("lib.cumsum(a, 0, dtype=lib.float64)", ints(1, 2)),
    case("a.cumprod(0)", np.array([2, 3], dtype=np.int32)),
    case("lib.cumprod(a, 0, dtype=lib.int64)", np.array([1.0, 2.0])),
    case("lib.tril(a)", np.array([[True, True], [True, True]])),
    case("lib.einsum('ij,jk', a, b)", ints([1, 2]), ints([3], [4])),
]


@pytest.mark.parametrize("fn, values", INDEX_VALUED)
def test_index_valued_results_match_torch(fn, values):
    twin(fn, *values, requires_grad=False)


@pytest.mark.parametrize("classes", [-1, 3, 5])
def test_one_hot_matches_torch(classes):
    labels = ints([0, 2], [1, 0])
    expected = torch.nn.functional.one_hot(torch.tensor(labels), classes)
    actual = nn.selection.one_hot(nn.tensor(labels), classes)
    assert actual.dtype == nn.int64 and actual.shape == tuple(expected.shape)
    np.testing.assert_array_equal(numpy(actual), expected.numpy())


def test_one_hot_of_a_0d_tensor_and_of_no_elements():
    assert nn.selection.one_hot(nn.tensor(2), 3).tolist() == [0, 0, 1]
    assert nn.selection.one_hot(nn.tensor(ints()), 3).shape == (0, 3)


@pytest.mark.parametrize("labels, classes", [
    (ints(0, 3), 3), (ints(0, -1), 3), (np.array([0, 1], np.int32), 3),
    (np.array([0.0, 1.0]), 3), (ints(), -1), (ints(0, 1), 0),
], ids=["too large", "negative", "int32", "float", "empty, inferred", "no classes"])
def test_one_hot_errors_match_torch(labels, classes):
    errors = []
    for run in (lambda: torch.nn.functional.one_hot(torch.tensor(labels), classes),
                lambda: nn.selection.one_hot(nn.tensor(labels), classes)):
        with pytest.raises(Exception) as raised:
            run()
        errors.append(raised.value)
    assert isinstance(errors[1], type(errors[0])), errors


def test_topk_unsorted_returns_the_same_elements():
    x = np.array([4.0, 1.0, 3.0, 2.0, 5.0, 0.0])
    for largest in (True, False):
        ours = nn.tensor(x).topk(3, sorted=False, largest=largest)
        theirs = torch.tensor(x).topk(3, sorted=False, largest=largest)
        assert sorted(ours.indices.tolist()) == sorted(theirs.indices.tolist())
        np.testing.assert_array_equal(x[ours.indices.numpy()], ours.values.numpy())


def test_sort_is_stable_and_puts_nan_last():
    x = nn.tensor([2.0, np.nan, 1.0, 2.0, 1.0, np.nan])
    assert x.sort().indices.tolist() == [2, 4, 0, 3, 1, 5]
    assert x.sort(descending=True).indices.tolist() == [1, 5, 0, 3, 2, 4]


def test_non_differentiable_outputs_refuse_backward_as_torch_does():
    for fn in (lambda lib, x: lib.unique(x),
               lambda lib, x: lib.tensor(ints(0, 1, 1)).bincount(x),
               lambda lib, x: lib.bernoulli(x, 0.5)):
        errors = []
        for lib in (torch, nn):
            x = lib.tensor([0.25, 0.5, 0.25], requires_grad=True)
            out = fn(lib, x)
            assert out.requires_grad and out.grad_fn is not None
            with pytest.raises(Exception) as raised:
                out.sum().backward()
            errors.append(raised.value)
        assert isinstance(errors[1], type(errors[0])), errors


def test_integer_results_carry_no_gradient():
    x = nn.tensor(distinct((3, 4)), requires_grad=True)
    for result in (x.argsort(), x.sort().indices, x.nonzero(), x.topk(2).indices,
                   nn.searchsorted(x[0].sort().values, x), x.kthvalue(1).indices):
        assert result.dtype == nn.int64 and not result.requires_grad


# --- bad input -----------------------------------------------------------------------------
BAD = [
    ("gather: index out of range", "a.gather(1, lib.tensor([[0], [4], [1]]))"),
    ("gather: negative index", "a.gather(1, lib.tensor([[0], [-1], [1]]))"),
    ("gather: float index", "a.gather(1, lib.tensor([[0.0]]))"),
    ("gather: int16 index", "a.gather(1, lib.tensor(np.array([[0]], np.int16)))"),
    ("gather: index ndim", "a.gather(1, lib.tensor([0, 1]))"),
    ("gather: index too large", "a.gather(0, lib.tensor([[0, 1, 1, 0, 1]]))"),
    ("gather: dim out of range", "a.gather(2, lib.tensor([[0]]))"),
    ("scatter: dtypes differ", "a.scatter(1, lib.tensor([[0]]), lib.ones(1, 1))"),
    ("scatter: src smaller than index", "a.scatter(1, lib.tensor([[0, 1]]), a[:1, :1])"),
    ("scatter: index out of range", "a.scatter(1, lib.tensor([[4]]), 1.0)"),
    ("scatter_add: a number src", "a.scatter_add(1, lib.tensor([[0]]), 1.0)"),
    ("scatter_add: index larger than src", "a.scatter_add(0, lib.tensor([[0, 1]]), a[:1, :1])"),
    ("index_select: 2-d index", "a.index_select(1, lib.tensor([[1]]))"),
    ("index_select: float index", "a.index_select(1, lib.tensor([1.0]))"),
    ("index_select: out of range", "a.index_select(1, lib.tensor([4]))"),
    ("index_select: 0-d input, two indices", "a[0, 0].index_select(0, lib.tensor([0, 0]))"),
    ("masked_select: int mask", "a.masked_select(lib.tensor([1, 0, 1, 0]))"),
    ("masked_select: shapes", "a.masked_select(lib.ones(2, dtype=lib.bool))"),
    ("masked_fill: int mask", "a.masked_fill(lib.tensor([1, 0, 1, 0]), 1.0)"),
    ("masked_fill: 1-d value", "a.masked_fill(a > 0, lib.ones(1))"),
    ("masked_fill: shapes", "a.masked_fill(lib.ones(3, dtype=lib.bool), 1.0)"),
    ("take_along_dim: int32 indices", "lib.take_along_dim(a, lib.tensor(np.array([[1]], np.int32)), 1)"),
    ("take_along_dim: ndim", "lib.take_along_dim(a, lib.tensor([1]), 1)"),
    ("take_along_dim: shapes", "lib.take_along_dim(a, lib.tensor([[0, 1]] * 2), 0)"),
    ("take_along_dim: out of range", "lib.take_along_dim(a, lib.tensor([12]))"),
    ("take_along_dim: negative, flat", "lib.take_along_dim(a, lib.tensor([-1]))"),
    ("take_along_dim: 0-d with dim", "lib.take_along_dim(a[0, 0], lib.tensor(0), 0)"),
    ("tril: 1-d", "a[0].tril()"),
    ("triu: 0-d", "lib.triu(a[0, 0])"),
    ("bincount: negative", "lib.tensor([-1, 2]).bincount()"),
    ("bincount: 2-d", "lib.tensor([[1, 2]]).bincount()"),
    ("bincount: float", "a[0].bincount()"),
    ("bincount: bool", "lib.tensor([True]).bincount()"),
    ("bincount: minlength", "lib.tensor([1, 2]).bincount(minlength=-1)"),
    ("bincount: weights length", "lib.tensor([1, 2]).bincount(a[0])"),
    ("searchsorted: side", "lib.searchsorted(a[0], a, side='middle')"),
    ("searchsorted: side and right", "lib.searchsorted(a[0], a, side='left', right=True)"),
    ("searchsorted: 0-d boundaries", "lib.searchsorted(a[0, 0], a)"),
    ("searchsorted: leading dims", "lib.searchsorted(a, a[0])"),
    ("searchsorted: scalar, N-d", "lib.searchsorted(a, 3.0)"),
    ("sort: dim", "a.sort(2)"),
    ("topk: k too large", "a.topk(5)"),
    ("topk: negative k", "a.topk(-1)"),
    ("topk: bool", "(a > 0).topk(1)"),
    ("kthvalue: k too large", "a.kthvalue(5)"),
    ("kthvalue: k = 0", "a.kthvalue(0)"),
    ("kthvalue: bool", "(a > 0).kthvalue(1)"),
    ("cumsum: dim", "a.cumsum(2)"),
    ("cumprod: no dim", "lib.cumprod(a)"),
    ("einsum: dtypes", "lib.einsum('ij,jk', a, lib.tensor(np.ones((4, 3), np.float32)))"),
    ("einsum: broadcast", "lib.einsum('ij,jk', a, lib.ones(3, 2, dtype=lib.float64))"),
    ("einsum: repeated sizes", "lib.einsum('ii->i', a)"),
    ("einsum: output repeated", "lib.einsum('ij->ii', a)"),
    ("einsum: output unknown", "lib.einsum('ij->k', a)"),
    ("einsum: more operands", "lib.einsum('ij', a, a)"),
    ("einsum: fewer operands", "lib.einsum('ij,jk', a)"),
    ("einsum: subscript count", "lib.einsum('ijk', a)"),
    ("einsum: invalid subscript", "lib.einsum('i1', a)"),
    ("einsum: stray dot", "lib.einsum('i.j', a)"),
    ("einsum: too many subscripts", "lib.einsum('ijk...', a)"),
    ("tensordot: sizes", "lib.tensordot(a, a, dims=([0], [1]))"),
    ("tensordot: negative dims", "lib.tensordot(a, a, -1)"),
    ("tensordot: dims too large", "lib.tensordot(a, a, 3)"),
    ("tensordot: list lengths", "lib.tensordot(a, a, ([1], [0, 1]))"),
    ("tensordot: repeated dim", "lib.tensordot(a, a.T, ([1, 1], [0, 0]))"),
    ("tensordot: dims of ints", "lib.tensordot(a, a.T, (1, 0))"),
    ("tensordot: dtypes", "lib.tensordot(a, lib.tensor(np.ones((4, 3), np.float32)), 1)"),
    ("tensordot: dim out of range", "lib.tensordot(a, a, ([2], [0]))"),
    ("multinomial: negative", "lib.multinomial(lib.tensor([0.1, -0.1]), 1)"),
    ("multinomial: nan", "lib.multinomial(lib.tensor([0.1, float('nan')]), 1)"),
    ("multinomial: inf", "lib.multinomial(lib.tensor([0.1, float('inf')]), 1)"),
    ("multinomial: zero sum", "lib.multinomial(lib.tensor([[0.0, 0.0], [1.0, 1.0]]), 1)"),
    ("multinomial: too many", "lib.multinomial(lib.tensor([0.2, 0.8]), 3)"),
    ("multinomial: no samples", "lib.multinomial(lib.tensor([0.2, 0.8]), 0)"),
    ("multinomial: ints", "lib.multinomial(lib.tensor([1, 2]), 1)"),
    ("multinomial: 3-d", "lib.multinomial(lib.ones(2, 2, 2), 1)"),
    ("multinomial: 0-d", "lib.multinomial(lib.tensor(1.0), 1)"),
    ("randint: low >= high", "lib.randint(5, 5, (2,))"),
    ("randint: size an int", "lib.randint(5, 2)"),
    ("randint: float high", "lib.randint(3.5, (3,))"),
    ("randint: bool out of range", "lib.randint(5, (2,), dtype=lib.bool)"),
    ("randperm: negative", "lib.randperm(-1)"),
    ("normal: negative std", "lib.normal(a, -1.0)"),
    ("normal: negative std tensor", "lib.normal(a, -a.abs() - 1)"),
    ("normal: negative std, numbers", "lib.normal(0.0, -1.0, (2,))"),
    ("normal: two numbers, no size", "lib.normal(0.0, 1.0)"),
    ("normal: tensor and size", "lib.normal(a, 1.0, (2,))"),
    ("normal: shapes", "lib.normal(a, lib.ones(3))"),
    ("normal: int mean", "lib.normal(lib.tensor([1, 2]), 1.0)"),
    ("bernoulli: p > 1", "lib.bernoulli(a.abs() + 1)"),
    ("bernoulli: nan", "lib.bernoulli(lib.tensor([float('nan')]))"),
    ("bernoulli: ints", "lib.bernoulli(lib.tensor([1, 0]))"),
    ("bernoulli: p argument", "lib.bernoulli(a, 1.5)"),
]


@pytest.mark.parametrize("expression", [pytest.param(e, id=i) for i, e in BAD])
def test_bad_input_raises_torchs_error_type(expression):
    def fn(lib, a):
        return eval(expression, {"lib": lib, "np": np}, {"a": a})
    twin_raises(fn, arrays((3, 4))[0])


# --- hypothesis: gather, scatter_add and einsum over shapes ----------------------------
from hypothesis import given, settings, strategies as st  # noqa: E402

deterministic = settings(max_examples=50, deadline=None, derandomize=True, database=None)


@st.composite
def gathers(draw):
    "An input shape, a dim, and an index shape that fits it (any size along dim)."
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    index_shape = tuple(draw(st.integers(1, 4)) if d == dim % len(shape)
                        else draw(st.integers(1, n)) for d, n in enumerate(shape))
    return shape, dim, index_shape


@deterministic
@given(gathers(), st.integers(0, 2**32 - 1))
def test_gather_scatter_and_scatter_add_over_shapes(shapes, seed):
    shape, dim, index_shape = shapes
    rng = np.random.default_rng(seed)
    index = rng.integers(0, shape[dim], index_shape)
    x, src = arrays(shape, index_shape, seed=seed)
    twin(lambda lib, x, i: x.gather(dim, i), x, index)
    twin(lambda lib, x, i, s: lib.scatter_add(x, dim, i, s), x, index, src)
    # scatter overwrites: an index without repeats along dim (else the result is unspecified)
    axis = dim % len(shape)
    if index_shape[axis] <= shape[axis]:
        keys = rng.random(_sized(index_shape, axis, shape[axis]))
        unique = np.take(np.argsort(keys, axis), np.arange(index_shape[axis]), axis)
        twin(lambda lib, x, i, s: x.scatter(dim, i, s), x, unique, src)
        twin(lambda lib, x, i: lib.scatter(x, dim, i, value=1.5), x, unique)
    # <gather(x), s> = <x, scatter_add(0, s)>: the two are each other's transpose
    gathered = numpy(nn.tensor(x).gather(dim, nn.tensor(index)))
    scattered = numpy(nn.zeros(*shape, dtype=nn.float64).scatter_add(
        dim, nn.tensor(index), nn.tensor(src)))
    assert np.isclose((gathered * src).sum(), (x * scattered).sum())


def _sized(shape, axis, size):
    "`shape` with `size` at `axis`."
    return shape[:axis] + (size,) + shape[axis + 1:]


@st.composite
def equations(draw):
    """An einsum equation (explicit or implicit, with repeated labels, size-1 broadcast
    and ellipses) and its operands' shapes."""
    letters = "abcd"
    sizes = {c: draw(st.integers(1, 3)) for c in letters}
    batch = tuple(draw(st.lists(st.integers(1, 3), max_size=2)))
    terms, shapes = [], []
    for _ in range(draw(st.integers(1, 3))):
        term = "".join(draw(st.lists(st.sampled_from(letters), max_size=3)))
        shape = [1 if draw(st.integers(0, 4)) == 0 else sizes[c] for c in term]
        for c, n in zip(term, shape):  # a repeated label: one size for all its dims
            shape = [n if t == c else m for t, m in zip(term, shape)]
        if batch and draw(st.booleans()):
            kept = batch[draw(st.integers(0, len(batch))):]
            term, shape = "..." + term, list(kept) + shape
        terms.append(term)
        shapes.append(tuple(shape))
    used = sorted(set("".join(terms).replace(".", "")))
    equation = ",".join(terms)
    if draw(st.booleans()):
        output = draw(st.permutations(used))[:draw(st.integers(0, len(used)))]
        dots = "..." if any("..." in t for t in terms) and draw(st.booleans()) else ""
        equation += "->" + dots + "".join(output)
    return equation, shapes


@deterministic
@given(equations(), st.integers(0, 2**32 - 1))
def test_einsum_over_subscripts(case, seed):
    equation, shapes = case
    twin(lambda lib, *xs: lib.einsum(equation, *xs), *arrays(*shapes, seed=seed),
         seed=seed)


# --- sampling --------------------------------------------------------------------------------
def chi_square(counts, expected):
    "Pearson's statistic."
    return float(((counts - expected) ** 2 / expected).sum())


# the 0.999 quantiles of the chi-square distribution with k degrees of freedom
CHI2_999 = {3: 16.27, 4: 18.47, 5: 20.52, 9: 27.88}


def test_multinomial_with_replacement_follows_the_weights():
    weights = np.array([0.1, 0.0, 0.5, 0.3, 0.1, 0.0])
    nn.manual_seed(0)
    samples = nn.multinomial(nn.tensor(weights), 20000, replacement=True)
    assert samples.dtype == nn.int64 and samples.shape == (20000,)
    counts = np.bincount(samples.numpy(), minlength=6)
    assert counts[1] == counts[5] == 0, "a category of weight 0 was drawn"
    positive = weights > 0
    assert chi_square(counts[positive], 20000 * weights[positive]) < CHI2_999[3]


def test_multinomial_without_replacement_draws_distinct_categories_in_weight_order():
    weights = np.array([[1.0, 2.0, 3.0, 4.0], [4.0, 0.0, 1.0, 5.0]])
    nn.manual_seed(1)
    draws = nn.multinomial(nn.tensor(np.repeat(weights, 5000, 0)), 2)
    draws = draws.numpy().reshape(2, 5000, 2)
    assert (draws[..., 0] != draws[..., 1]).all(), "a category was drawn twice"
    assert not (draws[1] == 1).any(), "a category of weight 0 was drawn"
    for row, w in zip(draws, weights):
        p = w / w.sum()
        first = np.bincount(row[:, 0], minlength=4)
        assert chi_square(first[p > 0], 5000 * p[p > 0]) < CHI2_999[3]
        # P(i among the two) = p_i + sum over j != i of p_j p_i / (1 - p_j)
        inclusion = p + np.array([sum(p[j] * p[i] / (1 - p[j]) for j in range(4) if j != i)
                                  for i in range(4)])
        included = np.bincount(row.ravel(), minlength=4)
        assert np.allclose(included / 5000, inclusion, atol=0.025)


def test_multinomial_without_replacement_takes_all_categories_last_the_zero_weights():
    samples = nn.multinomial(nn.tensor([0.1, 0.0, 0.5, 0.4]), 4)
    assert sorted(samples.tolist()) == [0, 1, 2, 3] and samples[-1].item() == 1


def test_multinomial_shapes_match_torch():
    for weights, n, replacement in (((3, 4), 2, False), ((3, 4), 7, True), ((4,), 4, False),
                                    ((0, 3), 2, True)):
        same(lambda lib: tuple(lib.multinomial(lib.ones(*weights), n, replacement).shape))
        same(lambda lib: lib.multinomial(lib.ones(*weights), n, replacement).dtype)


def test_a_generator_gives_its_own_reproducible_stream():
    first = nn.Generator().manual_seed(7)
    draws = nn.multinomial(nn.ones(10), 5, generator=first).tolist()
    nn.manual_seed(0)
    default = nn.randperm(10).tolist()
    for name, draw in (("multinomial", lambda g: nn.multinomial(nn.ones(10), 5, generator=g)),
                       ("randint", lambda g: nn.randint(0, 9, (6,), generator=g)),
                       ("randperm", lambda g: nn.randperm(8, generator=g)),
                       ("normal", lambda g: nn.normal(0.0, 1.0, (4,), generator=g)),
                       ("bernoulli", lambda g: nn.bernoulli(nn.ones(6) / 2, generator=g))):
        a, b = (draw(nn.Generator().manual_seed(3)) for _ in range(2))
        assert a.tolist() == b.tolist(), f"{name}: one seed, two streams"
        c, d = (draw(nn.Generator().manual_seed(s)) for s in (3, 4))
        assert c.tolist() != d.tolist(), f"{name}: two seeds, one stream"
    assert nn.multinomial(nn.ones(10), 5, generator=nn.Generator().manual_seed(7)
                          ).tolist() == draws
    nn.manual_seed(0)
    assert nn.randperm(10).tolist() == default, "a generator advanced the default stream"


def test_manual_seed_makes_every_sampler_reproducible():
    def draws():
        return [nn.multinomial(nn.ones(2, 5), 3).tolist(), nn.randint(10, (4,)).tolist(),
                nn.randint_like(nn.ones(3), 2, 9).tolist(), nn.randperm(6).tolist(),
                nn.normal(nn.zeros(3), nn.ones(3)).tolist(),
                nn.bernoulli(nn.ones(4) / 2).tolist()]
    nn.manual_seed(5)
    first = draws()
    nn.manual_seed(5)
    assert draws() == first
    assert draws() != first


def test_randint_range_dtype_and_uniformity():
    nn.manual_seed(2)
    x = nn.randint(-3, 7, (20000,))
    assert x.dtype == nn.int64 and x.shape == (20000,)
    assert x.numpy().min() == -3 and x.numpy().max() == 6
    assert chi_square(np.bincount(x.numpy() + 3), np.full(10, 2000.0)) < CHI2_999[9]
    assert nn.randint(5, size=(2, 3)).shape == (2, 3)
    assert nn.randint(high=5, size=(2,), dtype=nn.float32).dtype == nn.float32
    assert nn.randint(low=1, high=2, size=(3,)).tolist() == [1, 1, 1]
    assert nn.randint(2, (3,), dtype=nn.bool).dtype == nn.bool
    y = nn.randint(0, 2, (3,), dtype=nn.float32, requires_grad=True)
    assert y.requires_grad and y.is_leaf


def test_randint_like_takes_input_shape_and_dtype():
    for args, kwargs in (((5,), {}), ((3, 5), {}), ((3, 5), {"dtype": "int64"}),
                         ((), {"high": 5}), ((), {"low": 3, "high": 5})):
        for input in (lambda lib: lib.ones(2, 3), lambda lib: lib.tensor(np.ones(4, np.int32))):
            def draw(lib):
                options = {k: getattr(lib, v) if k == "dtype" else v for k, v in kwargs.items()}
                return lib.randint_like(input(lib), *args, **options)
            same(lambda lib: (draw(lib).dtype, tuple(draw(lib).shape)))
    x = nn.randint_like(nn.ones(1000), 3, 5)
    assert set(x.tolist()) == {3.0, 4.0}


def test_randperm_is_a_uniform_permutation():
    nn.manual_seed(3)
    perms = np.stack([nn.randperm(4).numpy() for _ in range(4000)])
    assert (np.sort(perms, 1) == np.arange(4)).all()
    assert perms.dtype == np.int64
    # where 0 lands: uniform over the 4 positions
    assert chi_square(np.bincount(np.argmax(perms == 0, 1)), np.full(4, 1000.0)) < CHI2_999[3]
    same(lambda lib: (lib.randperm(0).shape, lib.randperm(4, dtype=lib.float32).dtype))


def test_normal_overloads_shapes_dtypes_and_moments():
    nn.manual_seed(4)
    mean = nn.tensor(np.linspace(-2, 2, 5))
    std = nn.tensor(np.linspace(0.5, 1.5, 5))
    x = nn.normal(mean.expand(20000, 5), std)
    assert x.dtype == nn.float64 and x.shape == (20000, 5)
    np.testing.assert_allclose(x.numpy().mean(0), mean.numpy(), atol=0.05)
    np.testing.assert_allclose(x.numpy().std(0), std.numpy(), rtol=0.03)
    y = nn.normal(3.0, 2.0, (20000,))
    assert y.dtype == nn.float32 and abs(y.numpy().mean() - 3) < 0.05
    assert abs(y.numpy().std() - 2) < 0.05
    assert nn.normal(1.0, nn.zeros(3)).tolist() == [1.0, 1.0, 1.0]
    for call in (lambda lib: lib.normal(lib.zeros(2, 1), lib.ones(3)),
                 lambda lib: lib.normal(lib.zeros(2), 2.0),
                 lambda lib: lib.normal(mean=lib.zeros(2, dtype=lib.float64)),
                 lambda lib: lib.normal(2.0, lib.ones(2, dtype=lib.float64)),
                 lambda lib: lib.normal(lib.zeros(2, dtype=lib.float64), lib.ones(2)),
                 lambda lib: lib.normal(0, 1, (2, 3)),
                 lambda lib: lib.normal(0.0, 1.0, size=(2,), dtype=lib.float64)):
        same(lambda lib: (tuple(call(lib).shape), call(lib).dtype))


def test_normal_and_bernoulli_give_zero_gradients_as_torch_does():
    for call in (lambda lib, m, s: lib.normal(m, s), lambda lib, m, s: lib.normal(m, 2.0),
                 lambda lib, m, s: lib.normal(0.0, s), lambda lib, m, s: lib.bernoulli(s / 2)):
        names = []
        for lib in (torch, nn):
            m, s = (lib.tensor(v, requires_grad=True) for v in ([0.0, 1.0], [1.0, 1.5]))
            out = call(lib, m, s)
            out.sum().backward()
            names.append(type(out.grad_fn).__name__ if lib is torch else out.grad_fn.name())
            for t in (m, s):
                assert t.grad is None or not numpy(t.grad).any()
        assert names[0] == names[1]


def test_bernoulli_frequencies_dtypes_and_certain_outcomes():
    nn.manual_seed(6)
    p = nn.tensor(np.array([0.0, 0.1, 0.5, 0.9, 1.0]))
    x = nn.bernoulli(p.expand(20000, 5))
    assert x.dtype == nn.float64 and set(np.unique(x.numpy())) <= {0.0, 1.0}
    assert x.numpy()[:, 0].sum() == 0 and x.numpy()[:, 4].sum() == 20000
    np.testing.assert_allclose(x.numpy().mean(0), p.numpy(), atol=0.015)
    assert nn.bernoulli(p, 1.0).tolist() == [1.0] * 5
    assert p.bernoulli(0.0).tolist() == [0.0] * 5
    assert nn.bernoulli(nn.tensor([1, 0]), 0.5).dtype == nn.int64
    assert nn.bernoulli(nn.tensor(0.7)).shape == ()


def test_samplers_accept_the_default_generator_after_manual_seed():
    nn.manual_seed(8)
    a = nn.normal(nn.zeros(3)).tolist()
    nn.manual_seed(8)
    assert nn.normal(nn.zeros(3), generator=None).tolist() == a
    assert math.isfinite(a[0])
