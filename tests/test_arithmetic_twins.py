"""sub, div, pow, neg, maximum, minimum, where and the comparisons (chapter "Broadcasting
and elementwise arithmetic") against PyTorch."""
import warnings

import numpy as np
import pytest
import torch

import nn
from test_engine_twins import BROADCASTS, PROMOTIONS, is_tensor, spec_id, with_operands
from twin import arrays, code, numpy, same, twin, twin_raises

DTYPES = [np.float32, np.float64]


def positive(*shapes, dtype=np.float64, seed=0):
    "Arrays of values in about 0.5..3.5: bases for pow, denominators for div."
    return [np.abs(a).astype(dtype) + 0.5 for a in arrays(*shapes, dtype=dtype, seed=seed)]


def torch_raises(fn, values):
    "True if torch refuses `fn(torch, *tensors)`: then nn must refuse it too."
    try:
        fn(torch, *(torch.tensor(v) for v in values))
    except Exception:
        return True
    return False


def like_torch(fn, *values):
    "twin() where torch computes a result, twin_raises() where torch raises."
    if torch_raises(fn, values):
        twin_raises(fn, *values)
    else:
        twin(fn, *values)


# Every binary op, in its three spellings: operator (where there is one), function, method.
BINARY = {
    "x - y": lambda lib, x, y: x - y, "lib.sub": lambda lib, x, y: lib.sub(x, y),
    "x.sub": lambda lib, x, y: x.sub(y),
    "x / y": lambda lib, x, y: x / y, "lib.div": lambda lib, x, y: lib.div(x, y),
    "x.div": lambda lib, x, y: x.div(y),
    "x ** y": lambda lib, x, y: x ** y, "lib.pow": lambda lib, x, y: lib.pow(x, y),
    "x.pow": lambda lib, x, y: x.pow(y),
    "lib.maximum": lambda lib, x, y: lib.maximum(x, y), "x.maximum": lambda lib, x, y: x.maximum(y),
    "lib.minimum": lambda lib, x, y: lib.minimum(x, y), "x.minimum": lambda lib, x, y: x.minimum(y),
}


# --- values and gradients, with broadcasting -------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("shapes", BROADCASTS, ids=str)
@pytest.mark.parametrize("op", BINARY)
def test_binary_op_broadcasts_values_and_gradients(op, shapes, dtype):
    # positive operands: a real power, and no division by numbers near zero
    twin(BINARY[op], *positive(*shapes, dtype=dtype))


@pytest.mark.parametrize("shapes", BROADCASTS, ids=str)
def test_operators_inside_a_graph(shapes):
    twin(lambda lib, x, y: (x - y) / (x * x + 1.0) - (-y) ** 2 + x ** y, *positive(*shapes))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("form", ["-x", "lib.neg", "x.neg"])
def test_neg(form, dtype):
    fn = {"-x": lambda lib, x: -x, "lib.neg": lambda lib, x: lib.neg(x), "x.neg": lambda lib, x: x.neg()}[form]
    twin(fn, *arrays((2, 3), dtype=dtype))
    twin(fn, np.array(2.5, dtype=dtype))


@pytest.mark.parametrize("op", ["lib.sub", "lib.div", "lib.pow", "lib.maximum", "x - y", "x ** y"])
def test_gradient_only_for_the_input_that_requires_it(op):
    twin(BINARY[op], *positive((4, 3), (3,)), requires_grad=(False, True))
    twin(BINARY[op], *positive((4, 3), (3,)), requires_grad=(True, False))


# --- Python scalars and NumPy arrays on either side ------------------------------------------------
@pytest.mark.parametrize("expression", [
    "x - 2", "2 - x", "x - 2.5", "2.5 - x", "x / 2", "2 / x", "x / 0.5", "1.5 / x", "x ** 2", "x ** 3.0",
    "x ** 0.5", "x ** -1", "x ** -1.5", "x ** 0", "x ** 1", "2 ** x", "0.5 ** x", "x - np.float64(2.0)",
    "np.float32(2.0) / x", "x ** np.int64(2)", "np.float64(3.0) ** x", "-x - 1", "1 - x / 3 ** x",
])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_operators_take_python_and_numpy_scalars(expression, dtype):
    twin(code(expression), *positive((2, 3), dtype=dtype))


def array_operand(lib, a):
    "nn takes a NumPy array as it is; torch is given it as a tensor (it refuses or bypasses autograd)."
    return torch.from_numpy(a) if lib is torch else a


OPERATORS = {"-": lambda x, y: x - y, "/": lambda x, y: x / y, "**": lambda x, y: x ** y}


@pytest.mark.parametrize("operator", OPERATORS)
@pytest.mark.parametrize("dtypes", [(np.float32, np.float32), (np.float32, np.float64), (np.float64, np.float32),
                                    (np.float32, np.int64)], ids=str)
@pytest.mark.parametrize("shapes", [((3,), (3,)), ((3,), (2, 1)), ((2, 3), ())], ids=str)
def test_operators_take_numpy_arrays_on_either_side(operator, dtypes, shapes):
    x, a = positive(*shapes)
    a = np.asarray(np.round(a), dtype=dtypes[1])
    x = x.astype(dtypes[0])
    op = OPERATORS[operator]
    twin(lambda lib, x: op(x, array_operand(lib, a)), x)
    # torch refuses `ndarray OP Tensor`; nn accepts it and gives a Tensor
    _, (out,) = twin(lambda lib, x: op(array_operand(lib, a), x), x)
    assert isinstance(out, nn.Tensor)


# --- dtype promotion -------------------------------------------------------------------------------
def absolute(apply, values):
    "The same operands made non-negative (pow of negative integers to negative powers is its own test)."
    return apply, [np.abs(v) for v in values]


@pytest.mark.parametrize("op", ["sub", "div", "pow"])
@pytest.mark.parametrize("left, right", PROMOTIONS, ids=spec_id)
def test_promotion_follows_torch(op, left, right):
    apply, values = with_operands(lambda lib, x, y: getattr(lib, op)(x, y), left, right)
    if op == "pow":
        if not any(is_tensor(s) and np.dtype(s[0] if isinstance(s, tuple) else s) != np.bool_ for s in (left, right)):
            pytest.skip("torch has no pow kernel for bool ** bool: a gap, not a rule to copy")
        apply, values = absolute(apply, values)
    like_torch(apply, *values)  # torch refuses `-` with a bool tensor


@pytest.mark.parametrize("op", ["maximum", "minimum"])
@pytest.mark.parametrize("left, right", [p for p in PROMOTIONS if is_tensor(p[0]) and is_tensor(p[1])], ids=spec_id)
def test_maximum_minimum_promotion_follows_torch(op, left, right):
    apply, values = with_operands(lambda lib, x, y: getattr(lib, op)(x, y), left, right)
    like_torch(apply, *values)


@pytest.mark.parametrize("expression", [
    lambda x, y: x / y, lambda x, y: x / 2, lambda x, y: 3 / x, lambda x, y: x ** 2, lambda x, y: x ** 2.5,
    lambda x, y: 2 ** x, lambda x, y: 2.5 ** x, lambda x, y: x ** y, lambda x, y: x - 1.5, lambda x, y: x - y,
    lambda x, y: -x,
])
def test_integer_operands_promote_like_torch(expression):
    # int / int is float32 (true division); int ** float is float32; int ** int stays int64
    twin(lambda lib, x, y: expression(x, y), np.array([1, 2, 3, 4]), np.array([2, 1, 3, 2]))


def test_integer_division_by_zero_gives_inf_and_nan():
    twin(lambda lib, x, y: x / y, np.array([1, -2, 0]), np.array([0, 0, 0]))


def test_division_by_zero_is_silent_like_torch():
    # torch gives inf and nan without a word; NumPy's RuntimeWarnings must not leak through nn
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        twin(lambda lib, x, y: x / y, np.array([1.0, 0.0, -1.0]), np.array([0.0, 0.0, 0.0]))


def test_integer_to_a_negative_scalar_power_raises():
    twin_raises(lambda lib, x: x ** -1, np.array([1, 2, 3]))
    twin_raises(lambda lib, x: lib.pow(x, -2), np.array([1, 2, 3]))


def test_integer_to_negative_integer_tensor_powers_computes_in_integers():
    # torch refuses only a negative Python exponent; with an integer tensor exponent it computes
    # in integers: 1 ** -1 = 1, (-1) ** -1 = -1, and every other base gives 0.
    twin(lambda lib, x, p: x ** p, np.array([-2, -1, 0, 1, 2, 3]), np.array([-1, -1, -1, -1, -1, -2]))


# --- bool arithmetic: what torch refuses -----------------------------------------------------------
BOOLS = np.array([True, False, True])


@pytest.mark.parametrize("expression", [
    "b - b", "-b", "lib.sub(b, b)", "b.neg()", "lib.neg(b)", "b - 1", "1 - b", "b - 1.5", "x - True",
    "b - lib.tensor([1, 2, 3])", "lib.tensor([1.0, 2.0, 3.0]) - b", "x - b", "b.sub(x)",
])
def test_bool_subtraction_and_negation_raise(expression):
    # torch refuses `-` with a bool tensor on either side, whatever the other operand is
    twin_raises(code(expression, "b x"), BOOLS, *arrays((3,)))


@pytest.mark.parametrize("expression", [
    "b + b", "b * b", "b / b", "b ** 2", "2 ** b", "b + 1", "b * 2.5", "b / 2", "b * x",
    "lib.maximum(b, b == False)",
])
def test_bool_arithmetic_that_torch_allows(expression):
    twin(code(expression, "b x"), BOOLS, *arrays((3,)))


# --- pow's corner cases ----------------------------------------------------------------------------
def test_pow_at_zero_base_and_zero_exponent():
    # d/dx x**p is 0 where p == 0 (even at x == 0); d/dp x**p is 0 where x == 0 and p >= 0
    twin(lambda lib, x, p: x ** p, np.array([0.0, 0.0, 0.0, 2.0, 0.0]), np.array([0.0, 2.0, 1.0, 0.0, 3.0]))


@pytest.mark.parametrize("exponent", [0, 0.0, 1, 2, 2.0, 3])
def test_pow_of_zero_to_a_scalar_power(exponent):
    twin(lambda lib, x: x ** exponent, np.array([0.0, 1.5, -2.0]))


@pytest.mark.parametrize("exponent", [0.5, -1.0, -2])
def test_pow_of_zero_to_a_power_whose_slope_is_infinite(exponent):
    twin(lambda lib, x: x ** exponent, np.array([0.0, 1.5]))


def test_pow_of_zero_to_a_negative_tensor_power():
    twin(lambda lib, x, p: x ** p, np.array([0.0, 0.0]), np.array([-1.0, -0.5]))


def test_pow_of_negative_base_with_tensor_exponent():
    # integer-valued exponents give real values, but d/dp = x**p * log(x) is nan for x < 0
    twin(lambda lib, x, p: x ** p, np.array([-2.0, -1.5, -3.0]), np.array([2.0, 3.0, 0.5]))


def test_pow_of_negative_base_with_integer_scalar_exponent():
    twin(lambda lib, x: x ** 3, np.array([-2.0, -1.5, 0.5]))
    twin(lambda lib, x: x ** 2.0, np.array([-2.0, -1.5, 0.5]))


def test_scalar_to_a_tensor_power_differentiates_the_exponent():
    twin(lambda lib, p: 2.0 ** p + 0 ** p, np.array([0.0, 1.0, -1.5, 2.0]))


# --- maximum and minimum: ties split the gradient ---------------------------------------------------
@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_maximum_minimum_ties_split_the_gradient_in_half(op):
    x, y = np.array([1.0, 2.0, 3.0, -1.0, 0.0]), np.array([1.0, 5.0, 3.0, -2.0, 0.0])
    twin(lambda lib, x, y: getattr(lib, op)(x, y), x, y)


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_maximum_minimum_ties_under_broadcasting(op):
    x, y = np.array([[1.0, 2.0, 3.0], [2.0, 2.0, 0.0]]), np.array([2.0, 2.0, 1.0])
    twin(lambda lib, x, y: getattr(lib, op)(x, y), x, y)
    twin(lambda lib, x, y: getattr(lib, op)(x, y), np.array(2.0), x)


@pytest.mark.parametrize("op", ["maximum", "minimum"])
def test_maximum_minimum_of_a_tensor_with_itself(op):
    twin(lambda lib, x: getattr(lib, op)(x, x), *arrays((3,)))


# --- where -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("shapes", [((2, 3), (2, 3), (2, 3)), ((3,), (2, 3), (2, 1)), ((2, 1), (3,), ()),
                                    ((), (2, 3), (3,)), ((2, 1, 3), (4, 1), (1,))], ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_where_broadcasts_condition_and_both_branches(shapes, dtype):
    c, x, y = arrays(*shapes, dtype=dtype)
    twin(lambda lib, c, x, y: lib.where(c > 0, x, y), c, x, y)


def test_where_with_a_bool_tensor_and_as_method():
    condition = np.array([[True, False, True], [False, False, True]])
    x, y = arrays((2, 3), (3,))
    twin(lambda lib, c, x, y: lib.where(c, x, y), condition, x, y)
    twin(lambda lib, c, x, y: x.where(c, y), condition, x, y)


@pytest.mark.parametrize("expression", [
    "lib.where(c, x, 0.0)", "lib.where(c, 1.5, x)", "lib.where(c, x, 2)", "lib.where(c, x, x * 2.0)",
    "lib.where(c, x, lib.tensor(0.5, dtype=lib.float64))",
    "lib.where(c, x, lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64))",
])
def test_where_with_scalars_and_promotion(expression):
    twin(code(expression, "c x"), np.array([True, False, True]), np.array([1.0, -2.0, 3.0], np.float32))


def test_where_in_a_graph_gives_the_gradient_to_the_chosen_branch():
    twin(lambda lib, x, y: lib.where(x > y, x * x, y - x), *arrays((4, 3), (3,)))


@pytest.mark.parametrize("condition", [np.array([1.0, 0.0, 1.0]), np.array([1, 0, 1])], ids=["float", "int"])
def test_where_with_a_non_bool_condition_raises(condition):
    twin_raises(lambda lib, c, x, y: lib.where(c, x, y), condition, *arrays((3,), (3,)))


def test_where_with_shapes_that_do_not_broadcast_raises():
    twin_raises(lambda lib, x, y: lib.where(x > 0, x, y), *arrays((2,), (3,)))
    twin_raises(lambda lib, c, x, y: lib.where(c > 0, x, y), *arrays((4,), (3,), (3,)))


# --- comparisons -----------------------------------------------------------------------------------
COMPARISONS = {
    "<": lambda x, y: x < y, "<=": lambda x, y: x <= y, ">": lambda x, y: x > y, ">=": lambda x, y: x >= y,
    "==": lambda x, y: x == y, "!=": lambda x, y: x != y,
}
COMPARISON_NAMES = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge", "==": "eq", "!=": "ne"}


def with_ties(*shapes, dtype=np.float64):
    "Arrays of small integers (stored as `dtype`): comparisons see equal values as well as unequal ones."
    return [np.round(a * 1.5).astype(dtype) for a in arrays(*shapes)]


@pytest.mark.parametrize("shapes", [((2, 3), (2, 3)), ((4, 3), (3,)), ((3, 1), (1, 4)), ((), (2, 3)), ((2, 3), ())],
                         ids=str)
@pytest.mark.parametrize("op", COMPARISONS)
def test_comparison_gives_a_bool_tensor_without_grad(op, shapes):
    _, (out,) = twin(lambda lib, x, y: COMPARISONS[op](x, y), *with_ties(*shapes))
    assert out.dtype == nn.bool and not out.requires_grad and out.grad_fn is None


@pytest.mark.parametrize("op", COMPARISONS)
def test_comparison_as_function_and_method(op):
    name = COMPARISON_NAMES[op]
    twin(lambda lib, x, y: getattr(lib, name)(x, y), *with_ties((4, 3), (3,)))
    twin(lambda lib, x, y: getattr(x, name)(y), *with_ties((4, 3), (3,)))
    twin(lambda lib, x: getattr(lib, name)(x, 0.0), *with_ties((4, 3)))


@pytest.mark.parametrize("scalar", [0, 0.5, -1.0, True, np.float64(1.0)], ids=repr)
@pytest.mark.parametrize("op", COMPARISONS)
def test_comparison_with_scalars_on_either_side(op, scalar):
    twin(lambda lib, x: COMPARISONS[op](x, scalar), *with_ties((2, 3)))
    twin(lambda lib, x: COMPARISONS[op](scalar, x), *with_ties((2, 3)))


@pytest.mark.parametrize("dtypes", [(np.int64, np.float32), (np.float32, np.float64), (np.bool_, np.int64),
                                    (np.int64, np.int64), (np.bool_, np.bool_)], ids=str)
@pytest.mark.parametrize("op", COMPARISONS)
def test_comparison_across_dtypes(op, dtypes):
    x, y = with_ties((2, 3), (3,))
    twin(lambda lib, x, y: COMPARISONS[op](x, y), x.astype(dtypes[0]), y.astype(dtypes[1]))
    twin(lambda lib, x: COMPARISONS[op](x, 0.5), x.astype(dtypes[0]))


@pytest.mark.parametrize("op", COMPARISONS)
def test_comparison_with_numpy_arrays_on_either_side(op):
    x, a = with_ties((2, 3), (3,))
    twin(lambda lib, x: COMPARISONS[op](x, array_operand(lib, a)), x)
    _, (out,) = twin(lambda lib, x: COMPARISONS[op](array_operand(lib, a), x), x)
    assert isinstance(out, nn.Tensor)


def test_comparison_of_nan_is_false_except_not_equal():
    values = np.array([np.nan, 1.0, np.nan]), np.array([np.nan, np.nan, 1.0])
    for op in COMPARISONS.values():
        twin(lambda lib, x, y: op(x, y), *values)


@pytest.mark.parametrize("op", COMPARISONS)
def test_comparison_with_shapes_that_do_not_broadcast_raises(op):
    twin_raises(lambda lib, x, y: COMPARISONS[op](x, y), *arrays((2, 3), (4,)))


def test_equality_with_none_is_false_and_inequality_true():
    same(lambda lib: (lib.tensor([1.0, 2.0]) == None, lib.tensor([1.0, 2.0]) != None))  # noqa: E711


def test_equality_with_a_string_is_false_and_inequality_true():
    same(lambda lib: (lib.tensor([1.0, 2.0]) == "a", lib.tensor([1.0, 2.0]) != "a"))


@pytest.mark.parametrize("op", ["<", "<=", ">", ">="])
def test_ordering_against_none_raises_type_error(op):
    twin_raises(lambda lib, x: COMPARISONS[op](x, None), *arrays((3,)))


@pytest.mark.parametrize("expression", ["x + None", "None - x", "x * None", "x / None", "x ** None", "x < 'a'",
                                        "x - 'a'", "x - [1.0, 2.0, 3.0]", "[1.0, 2.0, 3.0] / x"])
def test_operators_with_operands_that_are_not_numbers_raise_type_error(expression):
    twin_raises(code(expression), *arrays((3,)))


def test_comparison_result_feeds_arithmetic_and_where():
    twin(lambda lib, x: (x > 0) * x + (x <= 0) * 0.1 * x, *arrays((2, 3)))


# --- shape errors, before anything changes ---------------------------------------------------------
@pytest.mark.parametrize("op", BINARY)
def test_binary_op_with_shapes_that_do_not_broadcast_raises(op):
    twin_raises(BINARY[op], *positive((2, 3), (4,)))
    twin_raises(BINARY[op], *positive((2, 3), (3, 2)))


def test_gradients_of_repeated_use_accumulate():
    def graph(lib, x, y):
        h = x / y - y
        return lib.maximum(h, x) ** 2 - h / x
    twin(graph, *positive((3, 4), (4,)))


def test_values_agree_with_numpy_in_float64():
    x, y = positive((3,), (3,))
    out = (nn.tensor(x) - nn.tensor(y)) / nn.tensor(y) ** nn.tensor(x)
    np.testing.assert_allclose(numpy(out), (x - y) / y ** x)
