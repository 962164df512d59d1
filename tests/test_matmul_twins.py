"""dot, mv, mm, bmm, matmul and `@` against PyTorch: values, gradients, and the errors torch raises."""
import re

import numpy as np
import pytest
import torch

import nn
from twin import arrays, names_shape, twin, twin_raises

DTYPES = [np.float32, np.float64]

# Every case of torch.matmul's rules: 1-D@1-D, 2-D@1-D, 1-D@2-D, 2-D@2-D, then batched with
# broadcast batch dims, a 1-D operand on either side of a batch, and size-1 and empty dims.
MATMUL_CASES = [
    ((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)),
    ((5, 2, 3), (3, 4)), ((3,), (5, 3, 4)), ((5, 2, 3), (3,)), ((2, 1, 4, 3), (5, 3, 2)),
    ((4, 3), (2, 3, 5)), ((5, 2, 3), (5, 3, 4)), ((1, 2, 3), (4, 3, 2)), ((3, 1, 2, 3), (1, 4, 3, 1)),
    ((1,), (1,)), ((1, 1), (1, 1)), ((3, 1), (1, 3)), ((1, 3), (3, 1)), ((2, 0), (0, 3)), ((0, 3), (3, 2)),
]
MATMUL_FORMS = {
    "nn.matmul": lambda lib, a, b: lib.matmul(a, b),
    "@": lambda lib, a, b: a @ b,
    "Tensor.matmul": lambda lib, a, b: a.matmul(b),
}
OP_CASES = {  # op: its shapes
    "dot": [((3,), (3,)), ((1,), (1,)), ((0,), (0,))],
    "mv": [((2, 3), (3,)), ((1, 1), (1,)), ((4, 1), (1,))],
    "mm": [((2, 3), (3, 4)), ((1, 1), (1, 1)), ((3, 1), (1, 3)), ((1, 3), (3, 1)), ((2, 0), (0, 3))],
    "bmm": [((5, 2, 3), (5, 3, 4)), ((1, 1, 1), (1, 1, 1)), ((3, 1, 2), (3, 2, 1))],
}


def cases(table):
    return [(op, shapes) for op, all_shapes in table.items() for shapes in all_shapes]


# --- values and gradients --------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("op, shapes", cases(OP_CASES), ids=str)
def test_op_as_function(op, shapes, dtype):
    twin(lambda lib, a, b: getattr(lib, op)(a, b), *arrays(*shapes, dtype=dtype))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("op, shapes", cases(OP_CASES), ids=str)
def test_op_as_method(op, shapes, dtype):
    twin(lambda lib, a, b: getattr(a, op)(b), *arrays(*shapes, dtype=dtype))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("form", MATMUL_FORMS)
@pytest.mark.parametrize("shapes", MATMUL_CASES, ids=str)
def test_matmul_rules(shapes, form, dtype):
    twin(MATMUL_FORMS[form], *arrays(*shapes, dtype=dtype))


@pytest.mark.parametrize("requires_grad", [(True, False), (False, True)], ids=str)
@pytest.mark.parametrize("shapes", [((2, 3), (3, 4)), ((5, 2, 3), (3,)), ((2, 1, 4, 3), (5, 3, 2))], ids=str)
def test_matmul_gradient_only_where_required(shapes, requires_grad):
    twin(lambda lib, a, b: a @ b, *arrays(*shapes), requires_grad=requires_grad)


@pytest.mark.parametrize("shapes", [((2, 3), (3, 4)), ((5, 2, 3), (3,)), ((3,), (3,))], ids=str)
def test_matmul_inside_a_graph(shapes):
    twin(lambda lib, a, b: (a * 2.0) @ (b * b) + (a @ b), *arrays(*shapes))


@pytest.mark.parametrize("op, shapes", [("dot", ((3,), (3,))), ("mv", ((2, 3), (3,))), ("mm", ((2, 3), (3, 4))),
                                         ("bmm", ((5, 2, 3), (5, 3, 4))), ("matmul", ((5, 2, 3), (3,)))], ids=str)
def test_integer_operands_give_exact_integers(op, shapes):
    values = [np.asarray(a * 5, dtype=np.int64) for a in arrays(*shapes)]
    twin(lambda lib, a, b: getattr(lib, op)(a, b), *values)


# --- NumPy operands --------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("shapes", [((2, 3), (3, 4)), ((3,), (3,)), ((5, 2, 3), (3,))], ids=str)
def test_matmul_with_a_numpy_array_on_the_right(shapes, dtype):
    # torch sends `Tensor @ ndarray` through NumPy (no graph), so torch is given the array as a tensor.
    x, a = arrays(*shapes, dtype=dtype)
    _, (out,) = twin(lambda lib, x: x @ (a if lib is nn else torch.from_numpy(a)), x)
    assert isinstance(out, nn.Tensor)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("shapes", [((2, 3), (3, 4)), ((3,), (3,)), ((3,), (5, 3, 4))], ids=str)
def test_matmul_with_a_numpy_array_on_the_left_gives_an_nn_tensor(shapes, dtype):
    # torch refuses `ndarray @ Tensor`: it is asked with the array turned into a tensor.
    a, x = arrays(*shapes, dtype=dtype)
    _, (out,) = twin(lambda lib, x: (a if lib is nn else torch.from_numpy(a)) @ x, x)
    assert isinstance(out, nn.Tensor)


# --- errors ----------------------------------------------------------------------------------------
SIZE_ERRORS = [  # (op, shapes): ranks torch accepts, sizes it refuses
    ("dot", ((3,), (4,))), ("mv", ((2, 3), (4,))), ("mm", ((2, 3), (4, 5))),
    ("bmm", ((5, 2, 3), (4, 3, 2))), ("bmm", ((5, 2, 3), (5, 4, 2))),
    ("matmul", ((3,), (4,))), ("matmul", ((2, 3), (4,))), ("matmul", ((3,), (4, 5))),
    ("matmul", ((2, 3), (4, 5))), ("matmul", ((5, 2, 3), (4, 2))), ("matmul", ((2, 3, 4), (3, 4, 5))),
    ("matmul", ((2, 1, 4, 3), (5, 4, 2))),
]
RANK_ERRORS = [  # (op, shapes, which): torch refuses the rank of operand `which` (the first such)
    ("dot", ((2, 3), (2, 3)), 0), ("dot", ((3,), (1, 3)), 1), ("mv", ((3,), (3,)), 0),
    ("mv", ((2, 3), (1, 3)), 1), ("mm", ((3,), (3, 5)), 0), ("mm", ((2, 3), (3,)), 1),
    ("mm", ((1, 2, 3), (3, 4)), 0), ("bmm", ((2, 3), (3, 2)), 0), ("bmm", ((5, 2, 3), (3, 2)), 1),
    ("matmul", ((), (3,)), 0), ("matmul", ((3,), ()), 1), ("matmul", ((), ()), 0),
]


def describes(message, shape):
    "The message names the shape ('2x3', '(2, 3)', '[2, 3]') or at least its rank ('2D', '2-d')."
    return names_shape(message, shape) or re.search(rf"(?<!\d){len(shape)}-?d\b", str(message), re.I)


@pytest.mark.parametrize("op, shapes", SIZE_ERRORS, ids=str)
def test_size_mismatch_is_refused_naming_both_shapes(op, shapes):
    _, error = twin_raises(lambda lib, a, b: getattr(lib, op)(a, b), *arrays(*shapes))
    assert all(names_shape(error, shape) for shape in shapes), f"message {error!r} does not name {shapes}"


@pytest.mark.parametrize("op, shapes, which", RANK_ERRORS, ids=str)
def test_wrong_rank_is_refused_naming_the_operand(op, shapes, which):
    _, error = twin_raises(lambda lib, a, b: getattr(lib, op)(a, b), *arrays(*shapes))
    assert describes(error, shapes[which]), f"message {error!r} does not describe {shapes[which]}"


@pytest.mark.parametrize("shapes", [((2, 3), (4, 5)), ((2, 3, 4), (3, 4, 5)), ((3,), ())], ids=str)
def test_shape_error_from_the_operator(shapes):
    twin_raises(lambda lib, a, b: a @ b, *arrays(*shapes))


@pytest.mark.parametrize("op, shapes", [(op, all_shapes[0]) for op, all_shapes in OP_CASES.items()], ids=str)
def test_op_refuses_a_list_or_an_array_like_torch(op, shapes):
    x, other = arrays(*shapes)
    twin_raises(lambda lib, x: getattr(lib, op)(x, other), x)
    twin_raises(lambda lib, x: getattr(lib, op)(x, other.tolist()), x)


DTYPE_ERRORS = [("dot", ((3,), (3,))), ("mv", ((2, 3), (3,))), ("mm", ((2, 3), (3, 4))),
                ("bmm", ((5, 2, 3), (5, 3, 4))), ("matmul", ((2, 3), (3, 4))), ("matmul", ((3,), (3,))),
                ("matmul", ((5, 2, 3), (3,)))]


@pytest.mark.parametrize("swap", [False, True])
@pytest.mark.parametrize("op, shapes", DTYPE_ERRORS, ids=str)
def test_mixed_float_dtypes_are_refused(op, shapes, swap):
    a, b = arrays(*shapes)
    a, b = (a.astype(np.float32), b) if not swap else (a, b.astype(np.float32))
    _, error = twin_raises(lambda lib, a, b: getattr(lib, op)(a, b), a, b)
    assert re.search("float64|double", str(error), re.I), f"message {error} does not name the dtypes"


def test_refused_matmul_leaves_the_graph_usable(lib):
    x = lib.ones(2, 3, requires_grad=True)
    h = x * 2.0
    with pytest.raises(RuntimeError):
        lib.matmul(h, lib.ones(4, 5))
    assert h.grad_fn is not None and x.grad is None
    h.sum().backward()
    assert x.grad.tolist() == [[2.0] * 3] * 2
