"""The second set of functions and reductions (chapters on matmul, functions and the functional interface) against PyTorch: values, dtypes,
gradients, the NumPy spellings of reductions' arguments, errors, and finite differences in float64.

Inputs of functions with a kink, a jump or a domain edge are moved away from it; what each library
does exactly there has its own tests.
"""
import math

import numpy as np
import pytest
import torch

import nn
from twin import LIBS, F, arrays, code, same, twin, twin_raises

DTYPES = [np.float32, np.float64]
X = arrays((2, 3, 4))[0]
INF, NAN = math.inf, math.nan


def away(values, *points, gap=0.15):
    "The values, with any that lie within `gap` of one of the points moved to `gap` from it."
    for p in points:
        near = np.abs(values - p) < gap
        values = np.where(near, p + np.where(values >= p, gap, -gap), values)
    return values


def away_from_integers(values, gap=0.1):
    "Values whose fractional part keeps `gap` from 0 and 1 (no jump of floor, round, fmod nearby)."
    whole = np.floor(values)
    return whole + np.clip(values - whole, gap, 1 - gap)


def away_from_halves(values, gap=0.1):
    "Values keeping `gap` from every n + 1/2 (where round jumps)."
    return away_from_integers(values + 0.5, gap) - 0.5


POSITIVE = np.abs(X) + 0.3
UNIT = np.tanh(X) * 0.9            # inside (-1, 1): asin, acos
PROBABILITY = 1 / (1 + np.exp(-X))  # inside (0, 1): logit
NONZERO = away(X, 0, gap=0.3)


def check(expression, *values, dtype=np.float64, **tolerances):
    "twin() of a line of code over `x` (default: X) and further tensors y, z, w."
    values = values or (X,)
    twin(code(expression, "x y z w"[:2 * len(values)]),
         *(v.astype(dtype) if v.dtype.kind == "f" else v for v in values), **tolerances)


def refuse(expression, *values):
    values = values or (X,)
    return twin_raises(code(expression, "x y z w"[:2 * len(values)]), *values)


def check_or_refuse(expression, *values):
    "The twin test where torch accepts the code; where it raises, nn raises the same type."
    try:
        code(expression, "x y z w"[:2 * len(values)])(torch, *(torch.tensor(v) for v in values))
    except Exception:
        refuse(expression, *values)
    else:
        check(expression, *values)


def leaf(values):
    "A float64 leaf for gradcheck."
    return nn.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


# --- which forms exist: the same as torch's ---------------------------------------------------------
NAMES = """log2 log10 log1p expm1 rsqrt square reciprocal sign floor ceil round trunc frac erf sinh cosh asin
           acos atan atan2 arctan2 softplus silu mish logit nan_to_num isnan isinf isfinite lerp addcmul
           addcdiv fmod remainder allclose isclose equal any all prod amax amin median norm count_nonzero
           aminmax addmm baddbmm sum mean var std max min argmax argmin logsumexp""".split()


@pytest.mark.parametrize("name", NAMES)
def test_function_and_method_forms_are_torchs(name):
    assert hasattr(nn, name) == hasattr(torch, name), f"nn.{name}: torch.{name} exists: {hasattr(torch, name)}"
    assert hasattr(nn.Tensor, name) == hasattr(torch.Tensor, name), f"nn.Tensor.{name}"


@pytest.mark.parametrize("name", ["softplus", "silu", "mish"])
def test_activations_live_in_functional(name):
    assert callable(getattr(nn.functional, name))
    assert name in nn.functional.__all__


@pytest.mark.parametrize("name", ["norm", "vector_norm", "matrix_norm"])
def test_linalg_is_a_module_with_torchs_names(name):
    import nn.linalg as linalg
    assert linalg is nn.linalg and type(linalg) is type(nn)
    assert callable(getattr(torch.linalg, name)) and callable(getattr(nn.linalg, name))


def test_mod_operator_is_remainder():
    check("x % 1.5 * x", away_from_integers(X * 2) * 1.5)
    check("2.5 % (x.abs() + 1)", X, requires_grad=False)
    check("x % 3", np.array([-7, -3, 0, 4, 8]))
    refuse("x % 'a'")


# --- elementwise functions of one tensor ----------------------------------------------------------
UNARY = {
    "log2": POSITIVE, "log10": POSITIVE, "log1p": POSITIVE, "expm1": X, "rsqrt": POSITIVE, "square": X,
    "reciprocal": NONZERO, "sinh": X, "cosh": X, "asin": UNIT, "acos": UNIT, "atan": X * 3, "erf": X,
    "logit": PROBABILITY, "frac": away_from_integers(X * 3), "floor": away_from_integers(X * 3),
    "ceil": away_from_integers(X * 3), "trunc": away_from_integers(X * 3), "round": away_from_halves(X * 3),
    "sign": NONZERO, "nan_to_num": X,
}
STEPS = ["floor", "ceil", "trunc", "round", "sign"]  # zero gradient


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("form", ["x.{}()", "lib.{}(x)", "lib.{}(x) * x"])
@pytest.mark.parametrize("function", UNARY)
def test_elementwise_function(function, form, dtype):
    check(form.format(function), UNARY[function], dtype=dtype)


@pytest.mark.parametrize("function", UNARY)
def test_elementwise_function_of_a_0d_tensor(function):
    check(f"x.{function}()", np.asarray(UNARY[function][0, 0, 0]))


INTEGERS = {"int64": np.array([[1, -2, 3], [0, 4, -1]]), "int32": np.array([[1, -2, 3], [0, 4, -1]], np.int32),
            "uint8": np.array([[1, 2, 3], [0, 4, 1]], np.uint8), "bool": np.array([[True, False, True], [False, True, True]])}


@pytest.mark.parametrize("kind", INTEGERS)
@pytest.mark.parametrize("function", [*UNARY, "isnan", "isinf", "isfinite"])
def test_elementwise_function_of_integers_follows_torchs_dtype(function, kind):
    # computed in float32 (log2, asin, ...), kept (floor, square, sign), or refused (frac)
    with np.errstate(all="ignore"):
        check_or_refuse(f"lib.{function}(x)", INTEGERS[kind])


@pytest.mark.parametrize("function", STEPS)
def test_steps_have_a_zero_gradient_not_none(function):
    x = nn.tensor(UNARY[function], requires_grad=True)
    getattr(x, function)().sum().backward()
    assert x.grad is not None and not x.grad.numpy().any()


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("decimals", [0, 1, 2, 3, -1, -2])
def test_round_with_decimals(decimals, dtype):
    values = np.array([0.125, 2.5, 3.5, -2.5, 1.25, 1.35, 125.0, 135.0, -0.5, 1e30, 7.0])
    check(f"lib.round(x, decimals={decimals})", values, dtype=dtype)
    check(f"x.round(decimals={decimals}) * x", X * 100, dtype=dtype)


def test_round_of_integers():
    check("x.round()", INTEGERS["int64"])
    refuse("x.round(decimals=1)", INTEGERS["int64"])
    refuse("x.round()", INTEGERS["bool"])


@pytest.mark.parametrize("expression", ["lib.round(x, 1)", "lib.round(x, decimals=1.5)"])
def test_round_takes_decimals_by_keyword_as_an_int(expression):
    refuse(expression)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("eps", [None, 0.0, 0.1, 0.3, 0.6, -0.1])
def test_logit_with_eps(eps, dtype):
    values = np.array([0.0, 0.05, 0.2, 0.5, 0.75, 0.95, 1.0, 0.35, 0.65])
    with np.errstate(divide="ignore"):
        check(f"lib.logit(x, eps={eps})", values, dtype=dtype)
        check(f"x.logit({eps})", values, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("arguments", ["", "2.0", "nan=-1.0, posinf=5.0", "neginf=-7.5", "1.0, 2.0, 3.0", "posinf=1e300"])
def test_nan_to_num(arguments, dtype):
    values = np.array([NAN, INF, -INF, 1.5, -2.0, 0.0])
    with np.errstate(over="ignore"):
        check(f"lib.nan_to_num(x, {arguments})", values, dtype=dtype)
        check(f"x.nan_to_num({arguments}) * 2", values, dtype=dtype)


@pytest.mark.parametrize("expression", ["x.rsqrt()", "x.reciprocal()", "x.asin()", "x.acos()", "x.log2()",
                                        "x.log10()", "x.logit()", "x.atan()", "x.expm1()", "x.sign()"])
def test_domain_edges_give_torchs_infinities_and_nans(expression):
    with np.errstate(all="ignore"):
        check(expression, np.array([0.0, -0.0, 1.0, -1.0, 2.0, INF, -INF, NAN]))


@pytest.mark.parametrize("expression", ["x.expm1()", "x.log1p()", "x.sinh()", "x.cosh()", "x.square()"])
def test_small_and_large_inputs(expression):
    with np.errstate(over="ignore"):
        check(expression, np.array([1e-10, -1e-12, 1e-30, 50.0, -50.0, 100.0]))
        check(expression, np.array([1e-10, -1e-12, 1e-30, 50.0, -50.0]), dtype=np.float32)


# --- functions of two and three tensors -------------------------------------------------------------
Y = arrays((3, 4), seed=1)[0]
B = [((2, 3, 4), (3, 4)), ((4,), (3, 1)), ((), (2, 3)), ((2, 3), ())]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("expression", ["lib.atan2(x, y)", "x.atan2(y)", "lib.arctan2(x, y)", "x.arctan2(y) * y"])
@pytest.mark.parametrize("shapes", B, ids=str)
def test_atan2(expression, shapes, dtype):
    check(expression, *arrays(*shapes, seed=3), dtype=dtype)


def test_atan2_at_the_origin_and_on_the_axes():
    zeros_and_signs = np.array([0.0, -0.0, 1.0, -1.0, 0.0, 0.0])
    check("lib.atan2(x, y)", zeros_and_signs, np.array([0.0, 0.0, 0.0, 0.0, 1.0, -1.0]))


def test_atan2_of_integers_and_mixed_dtypes():
    check("lib.atan2(x, y)", INTEGERS["int64"], INTEGERS["int32"])
    check("lib.atan2(x, y)", X.astype(np.float32), Y)
    check("lib.atan2(x, y)", INTEGERS["bool"], INTEGERS["int64"])


@pytest.mark.parametrize("function", ["fmod", "remainder"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_fmod_and_remainder(function, dtype):
    # fmod has the sign of the dividend, remainder the sign of the divisor
    x, y = away_from_integers(X * 4), away(Y, 0, gap=0.4)
    check(f"lib.{function}(x, y)", x, y, dtype=dtype, atol=1e-4)
    check(f"x.{function}(y) * y", x, y, dtype=dtype, atol=1e-4)
    check(f"lib.{function}(x, 1.5)", away_from_integers(X * 4 / 1.5) * 1.5, dtype=dtype)
    check(f"x.{function}(-2)", away_from_integers(X * 2) * 2, dtype=dtype)


@pytest.mark.parametrize("function", ["fmod", "remainder"])
def test_fmod_and_remainder_signs_and_corners(function):
    x = np.array([5.0, -5.0, 5.0, -5.0, 0.0, -0.0, 6.0, -6.0, 1e-20, -1e-20, INF, 1.0, -1.0, 3.0])
    y = np.array([3.0, 3.0, -3.0, -3.0, 3.0, -3.0, 3.0, -3.0, 3.0, 3.0, 3.0, INF, INF, 0.0])
    with np.errstate(invalid="ignore"):
        check(f"lib.{function}(x, y)", x, y, requires_grad=False)


@pytest.mark.parametrize("function", ["fmod", "remainder"])
def test_fmod_and_remainder_of_integers(function):
    x, y = np.array([5, -5, 5, -5, 0, 7, -2 ** 63]), np.array([3, 3, -3, -3, 2, 7, -1])
    check(f"lib.{function}(x, y)", x, y)
    check(f"lib.{function}(x, 2)", x)
    check(f"lib.{function}(x, 2.5)", x)
    check(f"lib.{function}(x, y)", x.astype(np.int32), y)
    refuse(f"lib.{function}(x, y)", x, np.array([3, 0, 1, 1, 1, 1, 1]))
    refuse(f"lib.{function}(x, 0)", x)
    refuse(f"lib.{function}(x, y)", INTEGERS["bool"], INTEGERS["bool"])


def test_remainder_of_a_number_by_a_tensor():
    check("lib.remainder(2.5, x)", NONZERO, requires_grad=False)
    check("lib.remainder(-7, x)", np.array([2, -3, 5]))
    refuse("lib.fmod(2, x)")
    # torch computes it, then has no derivative for it: backward raises
    refuse("lib.remainder(2.5, x).sum().backward()", NONZERO)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("weight", ["0.3", "0.7", "-0.5", "1.5", "0", "1", "w", "w * 3 - 1"])
def test_lerp(weight, dtype):
    w = np.linspace(-0.2, 1.2, 12).reshape(3, 4)
    weight = weight.replace("w", "z")
    check(f"lib.lerp(x, y, {weight})", X, Y, w, dtype=dtype)
    check(f"x.lerp(y, {weight}) * y", Y, X[0], w, dtype=dtype)


def test_lerp_with_a_0d_weight_and_broadcasting():
    check("lib.lerp(x, y, z)", X, Y[:1], np.asarray(0.25))
    check("lib.lerp(x, y, z)", X[0, 0], Y, X[:, :1, :1])
    check("lib.lerp(x, y, z)", X.astype(np.float32), Y.astype(np.float32), np.asarray(0.25))


@pytest.mark.parametrize("expression, values", [
    ("lib.lerp(x, y, 0.5)", [INTEGERS["int64"], INTEGERS["int64"]]),
    ("lib.lerp(x, y, 0.5)", [X.astype(np.float32), Y]),
    ("lib.lerp(x, 2.0, 0.5)", [X]),
    ("lib.lerp(x, y, z)", [X.astype(np.float32), Y.astype(np.float32), Y]),
    ("lib.lerp(x, y, z)", [X, Y[:2], Y]),
])
def test_lerp_refuses_integers_mixed_dtypes_and_numbers_for_end(expression, values):
    refuse(expression, *values)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("function", ["addcmul", "addcdiv"])
@pytest.mark.parametrize("value", ["", ", value=0.5", ", value=-2", ", value=3"])
def test_addcmul_and_addcdiv(function, value, dtype):
    check(f"lib.{function}(x, y, z{value})", X, Y, away(X[0], 0, gap=0.4), dtype=dtype)
    check(f"x.{function}(y, z{value})", Y[0], X, away(Y, 0, gap=0.4), dtype=dtype)


def test_addcmul_and_addcdiv_dtypes():
    i = INTEGERS["int64"]
    check("lib.addcmul(x, y, z)", i, i, i)
    check("lib.addcmul(x, y, z, value=2)", i, i, i)
    check("lib.addcmul(x, y, z, value=0.5)", i, i, i)   # the value becomes the int 0
    check("lib.addcmul(x, y, z)", X[0, :2, :3], i, i)
    check("lib.addcmul(x, y, z)", X[0, :2, :3].astype(np.float32), i, X[0, :2, :3])
    check("lib.addcdiv(x, y, z)", i, i, away(X[0, :2, :3], 0, gap=0.4))
    refuse("lib.addcdiv(x, y, z)", i, i, i)
    refuse("lib.addcdiv(x, y, z)", X[0, :2, :3], i, INTEGERS["int32"])


@pytest.mark.parametrize("expression", ["lib.addcmul(x, 2.0, x)", "lib.addcmul(x, x, x, 2)", "lib.addcmul(x, x, x, value=x)",
                                        "lib.addcdiv(x, x, x[:, :2])", "lib.atan2(x, 2)", "x.atan2(2.0)"])
def test_pointwise_functions_refuse_bad_arguments(expression):
    refuse(expression)


# --- tests and comparisons ------------------------------------------------------------------------
SPECIAL = np.array([NAN, INF, -INF, 0.0, -0.0, 1.5, 1e300])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("function", ["isnan", "isinf", "isfinite"])
def test_isnan_isinf_isfinite(function, dtype):
    with np.errstate(over="ignore"):
        check(f"lib.{function}(x)", SPECIAL, dtype=dtype)
        check(f"x.{function}()", SPECIAL, dtype=dtype)


CLOSE = (np.array([1.0, 1.0, 1.0, INF, INF, -INF, NAN, NAN, 0.0, 1e-9, 100.0, 1.0]),
         np.array([1.0, 1.000001, 1.1, INF, -INF, -INF, NAN, 1.0, 1e-9, 0.0, 100.001, INF]))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("arguments", ["", ", equal_nan=True", ", rtol=0.2", ", 0, 0", ", atol=1e-3", ", 1e-2, 1e-2, True",
                                       ", rtol=0, atol=0, equal_nan=True"])
def test_isclose(arguments, dtype):
    check(f"lib.isclose(x, y{arguments})", *CLOSE, dtype=dtype)
    check(f"x.isclose(y{arguments})", *CLOSE, dtype=dtype)


@pytest.mark.parametrize("arguments", ["", ", equal_nan=True", ", rtol=0.2", ", atol=1e-3", ", 0, 0"])
def test_allclose_and_equal(arguments):
    for x, y in [CLOSE, (X, X), (X, X + 1e-7), (X, X[0]), (X, X[:1] + 1e-9), (CLOSE[0][:3], CLOSE[0][:3])]:
        scope = {"x": x, "y": y}
        same(lambda lib: eval(f"lib.allclose(lib.tensor(x), lib.tensor(y){arguments})", {"lib": lib}, scope))
        same(lambda lib: eval(f"lib.tensor(x).allclose(lib.tensor(y){arguments})", {"lib": lib}, scope))
        same(lambda lib: (lib.equal(lib.tensor(x), lib.tensor(y)), lib.tensor(x).equal(lib.tensor(y))))


def test_isclose_and_equal_of_integers_and_bools():
    i = INTEGERS["int64"]
    check("lib.isclose(x, y)", i, i + np.array([0, 1, 2]))
    check("lib.isclose(x, y, atol=1)", i, i + np.array([0, 1, 2]))
    check("lib.isclose(x, y, atol=1)", INTEGERS["bool"], ~INTEGERS["bool"])
    check("lib.isclose(x, y)", np.array([10 ** 10]), np.array([10 ** 10 + 1]))
    same(lambda lib: lib.equal(lib.tensor(i), lib.tensor(i, dtype=lib.float32)))
    same(lambda lib: lib.equal(lib.tensor([NAN]), lib.tensor([NAN])))
    same(lambda lib: lib.equal(lib.tensor(i), lib.tensor(i)[:1]))


@pytest.mark.parametrize("expression", ["lib.isclose(x, y)", "lib.allclose(x, y)", "lib.isclose(x, 2)", "lib.allclose(x, 1.0)",
                                        "lib.isclose(x, x[:, :2])", "lib.isclose(x, x, rtol=-1)", "lib.isclose(x, x, 1e-5, -1)",
                                        "lib.equal(x, 1)"])
def test_comparisons_refuse_bad_arguments(expression):
    refuse(expression, INTEGERS["int64"].astype(np.float64), INTEGERS["int64"].astype(np.float32))


# --- any and all ----------------------------------------------------------------------------------
TRUTHS = {"float": np.array([[0.0, 1.5, 0.0], [0.0, 0.0, 0.0], [2.0, -1.0, NAN]]), "int": INTEGERS["int64"],
          "bool": INTEGERS["bool"], "uint8": INTEGERS["uint8"], "empty": np.zeros((0, 3))}


@pytest.mark.parametrize("kind", TRUTHS)
@pytest.mark.parametrize("function", ["any", "all"])
@pytest.mark.parametrize("arguments", ["", "0", "1", "-1", "(0, 1)", "1, True", "dim=0, keepdim=True", "dim=None", "()"])
def test_any_and_all(function, arguments, kind):
    check(f"lib.{function}(x{', ' if arguments else ''}{arguments})", TRUTHS[kind])
    check(f"x.{function}({arguments})", TRUTHS[kind])


# --- prod -----------------------------------------------------------------------------------------
ZEROS = {"none": X, "one": np.where(np.arange(24).reshape(2, 3, 4) == 5, 0.0, X),
         "two in a line": np.where(np.isin(np.arange(24).reshape(2, 3, 4), [4, 6]), 0.0, X),
         "three in a line": np.where(np.isin(np.arange(24).reshape(2, 3, 4), [4, 5, 7, 13, 17]), 0.0, X),
         "all": np.zeros((2, 3, 4))}


@pytest.mark.parametrize("zeros", ZEROS)
@pytest.mark.parametrize("arguments", ["", "0", "1", "-1", "2, True", "dim=1, keepdim=True"])
def test_prod_with_zeros_in_the_input(arguments, zeros):
    check(f"lib.prod(x{', ' if arguments else ''}{arguments})", ZEROS[zeros])
    check(f"x.prod({arguments}) * 2", ZEROS[zeros], dtype=np.float32)


def test_prod_of_a_0d_tensor_and_dtypes():
    check("x.prod()", np.array(1.5))
    check("x.prod(0)", np.array(1.5))
    for kind in ("int64", "int32", "uint8", "bool"):
        check("x.prod()", INTEGERS[kind])
        check("x.prod(1)", INTEGERS[kind])
    check("x.prod(dtype=lib.float64)", X.astype(np.float32))
    check("x.prod(1, dtype=lib.float32)", INTEGERS["int64"])
    check("x.prod()", np.zeros((0, 3)))


def test_prod_takes_one_int_dim():
    refuse("x.prod((0, 1))")
    refuse("lib.prod(x, 3)")


# --- amax, amin, aminmax ----------------------------------------------------------------------------
TIES = np.array([[1.0, 5.0, 5.0, -2.0], [2.0, 2.0, 2.0, 2.0], [-3.0, 4.0, -3.0, 0.0]])


@pytest.mark.parametrize("values", [X, TIES[None]], ids=["distinct", "ties"])
@pytest.mark.parametrize("function", ["amax", "amin"])
@pytest.mark.parametrize("arguments", ["", "()", "0", "1", "-1", "(0, 2)", "(1, 2), True", "dim=[0, 1, 2]"])
def test_amax_and_amin_share_the_gradient_among_ties(function, arguments, values):
    check(f"lib.{function}(x{', ' if arguments else ''}{arguments})", values)
    check(f"x.{function}({arguments})", values, dtype=np.float32)


def test_amax_and_amin_of_integers_bools_nans_and_0d_tensors():
    for kind in ("int64", "uint8", "bool"):
        check("x.amax()", INTEGERS[kind])
        check("x.amin(1)", INTEGERS[kind])
    check("x.amax(0)", np.array(1.5))
    with np.errstate(invalid="ignore"):
        check("x.amax()", np.array([1.0, NAN, 3.0]))
        check("x.amin(1)", np.array([[1.0, NAN, 3.0], [1.0, 2.0, 0.5]]))
    check("x.amax(1)", np.zeros((0, 3)))


@pytest.mark.parametrize("arguments", ["", "dim=0", "dim=1", "dim=-1, keepdim=True", "dim=0, keepdim=False"])
@pytest.mark.parametrize("values", [X[0], TIES], ids=["distinct", "ties"])
def test_aminmax(arguments, values):
    check(f"tuple(lib.aminmax(x, {arguments}))", values)
    check(f"x.aminmax({arguments}).min * 2 + x.aminmax({arguments}).max", values)
    check(f"lib.aminmax(x, {arguments})", INTEGERS["int64"])
    check(f"lib.aminmax(x, {arguments})", INTEGERS["bool"])


@pytest.mark.parametrize("expression", ["x.amax(3)", "x.amin((0, 0))", "lib.amax(x[:0])", "x[:0].amin(0)", "x.aminmax(dim=(0, 1))",
                                        "lib.aminmax(x, 1)", "x[:0].aminmax()", "x.aminmax(dim=5)"])
def test_amax_amin_aminmax_refuse(expression):
    refuse(expression)


# --- median -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("values", [X, TIES[None], np.array([[3.0, 1.0, 1.0, 3.0, 1.0, 3.0]]),
                                    np.array([[5.0, 2.0, 9.0, 2.0, 7.0, 2.0, 2.0]])],
                         ids=["distinct", "ties", "ties even", "ties odd"])
@pytest.mark.parametrize("arguments", ["", "0", "1", "-1", "dim=1, keepdim=True", "-1, True"])
def test_median(arguments, values):
    # no dim: the lower median, its gradient shared among the elements equal to it; with dim: the
    # index of torch's choice among ties (the middle of a stable sort), and the gradient goes there
    check(f"lib.median(x{', ' if arguments else ''}{arguments})", values)
    check(f"x.median({arguments})", values, dtype=np.float32)


def test_median_ties_match_torch_on_random_lines():
    rng = np.random.default_rng(5)
    for n in range(1, 9):
        check("x.median(1)", rng.integers(0, 3, (6, n)).astype(np.float64))
        check("x.median(0)", rng.integers(0, 3, (n, 4)))


def test_median_of_nans_integers_empties_and_0d_tensors():
    with np.errstate(invalid="ignore"):
        check("x.median()", np.array([1.0, NAN, 3.0]))
        check("x.median(1)", np.array([[1.0, NAN, 3.0], [NAN, 2.0, NAN], [3.0, 1.0, 2.0]]))
    check("x.median()", INTEGERS["int64"])
    check("x.median(0)", INTEGERS["int64"])
    check("x.median()", np.zeros(0))
    check("x.median(1)", np.zeros((0, 3)))
    check("x.median(0)", np.array(1.5))
    check("x.median(1).values * 2 + x.median(1).indices", X[0])


@pytest.mark.parametrize("expression", ["x.median((0, 1))", "x.median(3)", "x[:0].median(0)"])
def test_median_refuses(expression):
    refuse(expression)
    refuse("x.median()", INTEGERS["bool"])


# --- count_nonzero ----------------------------------------------------------------------------------
@pytest.mark.parametrize("arguments", ["", "0", "1", "(0, 1)", "dim=-1", "axis=0"])
@pytest.mark.parametrize("kind", TRUTHS)
def test_count_nonzero(arguments, kind):
    check(f"lib.count_nonzero(x{', ' if arguments else ''}{arguments})", TRUTHS[kind])
    check(f"x.count_nonzero({arguments})", TRUTHS[kind])


# --- norms ------------------------------------------------------------------------------------------
ZERO_ROW = np.array([[1.0, -5.0, 5.0, -2.0], [0.0, 0.0, 0.0, 0.0], [-3.0, 4.0, -3.5, 0.5]])
ORDS = ["2", "1", "float('inf')", "-float('inf')", "0", "3", "2.5", "1.5", "0.5", "-1", "-2.5"]


@pytest.mark.parametrize("ord", ORDS)
@pytest.mark.parametrize("dims", ["", "dim=1", "dim=0, keepdim=True", "dim=(0, 1)", "dim=-1, keepdim=True"])
def test_norm_of_every_order(ord, dims):
    # a row of zeros: the gradient there is 0, as torch makes it; ord 0 has no gradient at all
    values = away(X[0], 0, gap=0.2)
    for fn in ("lib.norm(x, {}, {})", "x.norm({}, {})", "lib.linalg.vector_norm(x, {}, {})"):
        check(fn.format(ord, dims).replace(", )", ")"), values)
        check(fn.format(ord, dims).replace(", )", ")"), ZERO_ROW if ord not in ("0.5", "-1", "-2.5") else
              np.abs(ZERO_ROW) + 0.5, dtype=np.float32)


@pytest.mark.parametrize("expression", [
    "lib.norm(x)", "x.norm()", "lib.norm(x, 'fro')", "lib.norm(x, 'fro', (0, 1))", "lib.norm(x, 'fro', 1)",
    "lib.norm(x, p=None)", "lib.norm(x, dim=1, keepdim=True)", "lib.norm(x, 2, dim=(0, 1), keepdim=True)",
    "lib.norm(x, dtype=lib.float64)", "x.norm(p=1, dim=0)",
])
def test_norm_spellings(expression):
    check(expression, ZERO_ROW)
    check(expression, ZERO_ROW.astype(np.float32))


def test_norm_of_a_zero_vector_has_gradient_0():
    for ord in ORDS:
        check(f"lib.linalg.vector_norm(x, {ord})", np.zeros(3))
    check("lib.norm(x, dim=1)", np.zeros((2, 3)))


def test_norm_of_order_0_sends_no_gradient():
    # torch defines none: the output requires grad, yet the input's grad stays None
    check("lib.norm(x, 0)", X)
    with pytest.raises(RuntimeError):
        nn.autograd.grad(nn.norm(nn.tensor(X, requires_grad=True), 0), nn.tensor(X, requires_grad=True))


@pytest.mark.parametrize("expression", [
    "lib.linalg.norm(x)", "lib.linalg.norm(x, 'fro')", "lib.linalg.norm(x, 1)", "lib.linalg.norm(x, -1)",
    "lib.linalg.norm(x, INF)", "lib.linalg.norm(x, -INF)", "lib.linalg.norm(x, dim=1)", "lib.linalg.norm(x, 3, dim=1)",
    "lib.linalg.norm(x, 1, dim=(0, 1))", "lib.linalg.norm(x, 1, dim=(1, 0))", "lib.linalg.norm(x, INF, dim=(1, 0), keepdim=True)",
    "lib.linalg.norm(x[0], 3)", "lib.linalg.norm(x, dim=(0, 1))", "lib.linalg.norm(x, ord=-INF, dim=(-1, -2))",
    "lib.linalg.matrix_norm(x)", "lib.linalg.matrix_norm(x, 1)", "lib.linalg.matrix_norm(x, -INF, keepdim=True)",
    "lib.linalg.matrix_norm(x, 'fro', dim=(1, 0))", "lib.linalg.vector_norm(x, dim=(0, 1))", "lib.linalg.vector_norm(x, INF, 1)",
])
def test_linalg_norms(expression):
    values = ZERO_ROW + np.array([0.0, 0.01, 0.02, 0.03])  # no ties among line sums
    check(expression.replace("INF", "float('inf')"), values)
    if "dim" in expression or expression.endswith("(x)"):  # a batch of two matrices
        check(expression.replace("INF", "float('inf')"), np.stack([values, -values * 2]))


def test_norms_refuse_integers():
    refuse("lib.norm(x)", INTEGERS["int64"])
    refuse("lib.linalg.vector_norm(x)", INTEGERS["int64"])
    refuse("lib.linalg.vector_norm(x, dtype=lib.float64)", INTEGERS["int64"])
    refuse("x.norm(dtype=lib.float32)", ZERO_ROW)


@pytest.mark.parametrize("expression", [
    "lib.linalg.vector_norm(x, 'fro')",
    "lib.linalg.vector_norm(x[:0], float('inf'))", "lib.linalg.vector_norm(x[:0], -float('inf'))",
    "lib.linalg.vector_norm(x, dim=(0, 0))", "lib.linalg.vector_norm(x, dim=2)", "lib.norm(x, 'fro', (0, 1, 1))",
    "lib.norm(x, 'abc')", "lib.norm(x, 2, (0, 0))", "lib.linalg.norm(x, 3)", "lib.linalg.norm(x[0], 'fro')",
    "lib.linalg.norm(x, 'fro', dim=1)", "lib.linalg.norm(x, 1, dim=(0, 0))", "lib.linalg.norm(x.reshape(1, 2, -1), 1)",
    "lib.linalg.matrix_norm(x, 3)", "lib.linalg.vector_norm(x, dtype=lib.int64)", "lib.norm(x, dtype=lib.int64)",
    "lib.linalg.norm(x, dim=(0, 1, 0))", "lib.norm(x, axis=1)",
    "lib.norm(x, dim=1, keepdims=True)", "x.norm(axis=1)",
])
def test_norms_refuse(expression):
    refuse(expression, ZERO_ROW)


@pytest.mark.parametrize("expression", ["lib.linalg.norm(x, 'nuc')", "lib.linalg.norm(x, 2)", "lib.norm(x, 'nuc')"])
def test_norms_that_need_singular_values_are_not_implemented(expression):
    with pytest.raises(NotImplementedError):
        code(expression)(nn, nn.tensor(ZERO_ROW))


# --- every reduction: dim or axis, keepdim or keepdims ----------------------------------------------
REDUCTIONS = ["sum", "mean", "var", "std", "max", "min", "argmax", "argmin", "logsumexp", "prod", "amax", "amin",
              "median", "any", "all"]


@pytest.mark.parametrize("spelling", ["dim={d}, keepdim={k}", "axis={d}, keepdim={k}", "dim={d}, keepdims={k}",
                                      "axis={d}, keepdims={k}"])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_every_reduction_takes_dim_axis_keepdim_and_keepdims(reduction, keepdim, spelling):
    arguments = spelling.format(d=1, k=keepdim)
    check(f"lib.{reduction}(x, {arguments})", X)
    check(f"x.{reduction}({arguments})", X)


@pytest.mark.parametrize("expression", [
    "lib.aminmax(x, axis=1)", "x.aminmax(axis=0, keepdims=True)", "lib.count_nonzero(x, axis=(0, 1))",
    "lib.softmax(x, axis=1)", "x.log_softmax(axis=0)", "lib.linalg.vector_norm(x, axis=1, keepdims=True)",
    "lib.linalg.norm(x, axis=(1, 2))", "lib.linalg.matrix_norm(x, dim=(0, 2), keepdims=True)",
    "x.amax(axis=(0, 2))", "x.var(axis=(0, 1), keepdims=True, correction=0)",
])
def test_numpy_spellings_of_other_reductions(expression):
    check(expression, X)


@pytest.mark.parametrize("reduction", [r for r in REDUCTIONS if r != "sum"])
def test_dim_and_axis_together_raise(reduction):
    refuse(f"x.{reduction}(1, axis=1)")
    refuse(f"lib.{reduction}(x, dim=1, axis=0)")
    refuse(f"x.{reduction}(1, keepdim=True, keepdims=True)")


# --- addmm and baddbmm (chapter "Matrix · matrix and beyond") -----------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("scales", ["", ", beta=0.5, alpha=2", ", alpha=-1", ", beta=0", ", beta=2", ", beta=0, alpha=0"])
@pytest.mark.parametrize("input_shape", [(2, 4), (4,), (1, 4), (2, 1), ()], ids=str)
def test_addmm(input_shape, scales, dtype):
    c, a, b = arrays(input_shape, (2, 3), (3, 4), seed=4)
    check(f"lib.addmm(x, y, z{scales})", c, a, b, dtype=dtype)
    check(f"x.addmm(y, z{scales}) * 2", c, a, b, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("scales", ["", ", beta=0.5, alpha=2", ", beta=0", ", alpha=0.1"])
@pytest.mark.parametrize("input_shape", [(5, 2, 4), (4,), (2, 1), (5, 1, 4), ()], ids=str)
def test_baddbmm(input_shape, scales, dtype):
    c, a, b = arrays(input_shape, (5, 2, 3), (5, 3, 4), seed=6)
    check(f"lib.baddbmm(x, y, z{scales})", c, a, b, dtype=dtype)
    check(f"x.baddbmm(y, z{scales}) * 2", c, a, b, dtype=dtype)


def test_addmm_ignores_a_nan_input_when_beta_is_0_and_computes_integers():
    check("lib.addmm(x, y, z, beta=0)", np.array([NAN]), *arrays((2, 3), (3, 4)))
    i, j = np.arange(6).reshape(2, 3), np.arange(12).reshape(3, 4)
    check("lib.addmm(x, y, z)", np.arange(4), i, j)
    check("lib.addmm(x, y, z, beta=0.5, alpha=2.0)", np.arange(4), i, j)   # the scales become ints
    check("lib.baddbmm(x, y, z, beta=2, alpha=3)", np.arange(4), i[None], j[None])


@pytest.mark.parametrize("expression", [
    "lib.addmm(x[:3], y, z)", "lib.addmm(x, y, z[:2])", "lib.addmm(x, y[0], z)", "lib.addmm(x[None, None], y, z)",
    "lib.addmm(x, y, z, 0.5, 2)", "lib.baddbmm(x, y[None], z[None].expand(2, 3, 4))", "lib.baddbmm(x, y, z)",
    "lib.baddbmm(x[:3, None, None], y[None], z[None])", "lib.addmm(x, y, 2.0)", "lib.addmm(x, y, z.T)",
])
def test_addmm_and_baddbmm_refuse(expression):
    refuse(expression, *arrays((4,), (2, 3), (3, 4), dtype=np.float32))


@pytest.mark.parametrize("expression", ["lib.addmm(x, y, z)", "lib.baddbmm(x, y[None], z[None])"])
@pytest.mark.parametrize("dtypes", [(np.float64, np.float32, np.float32), (np.float32, np.float64, np.float32),
                                    (np.float32, np.float32, np.float64), (np.bool_, np.bool_, np.bool_)], ids=str)
def test_addmm_and_baddbmm_refuse_mixed_dtypes_and_bools(expression, dtypes):
    refuse(expression, *(a.astype(d) for a, d in zip(arrays((4,), (2, 3), (3, 4)), dtypes)))


# --- softplus, silu, mish (chapter "The functional interface") -------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("expression", [
    "F.softplus(x)", "F.softplus(x, beta=2)", "F.softplus(x, 0.5, 1)", "F.softplus(x, beta=-1)",
    "F.softplus(x, threshold=0.5)", "F.softplus(x * 30)", "F.silu(x)", "F.silu(x * 40)", "F.mish(x)", "F.mish(x * 30)",
])
def test_smooth_activations(expression, dtype):
    values = np.concatenate([X.ravel(), [0.0, 0.5, 1.0, -0.5, 20.0, -20.0, 25.0, -30.0, 100.0, -100.0]])
    with np.errstate(over="ignore"):
        twin(lambda lib, x: eval(expression, {"F": F(lib)}, {"x": x}), values.astype(dtype), atol=1e-6)


@pytest.mark.parametrize("function", ["softplus", "silu", "mish"])
def test_smooth_activations_refuse_integers(function):
    twin_raises(lambda lib, x: getattr(F(lib), function)(x), INTEGERS["int64"])


# --- against finite differences, in float64 ---------------------------------------------------------
def positive(shape, seed=1):
    return np.abs(arrays(shape, seed=seed)[0]) + 0.5


GRADCHECKS = [
    ("log2", lambda x: x.log2(), [positive((2, 3))]),
    ("log10", lambda x: nn.log10(x), [positive((2, 3))]),
    ("expm1", lambda x: x.expm1(), [X]),
    ("rsqrt", lambda x: nn.rsqrt(x), [positive((2, 3))]),
    ("square", lambda x: x.square(), [X]),
    ("reciprocal", lambda x: x.reciprocal(), [NONZERO]),
    ("sinh", lambda x: x.sinh(), [X]),
    ("cosh", lambda x: nn.cosh(x), [X]),
    ("asin", lambda x: x.asin(), [UNIT]),
    ("acos", lambda x: nn.acos(x), [UNIT]),
    ("atan", lambda x: x.atan(), [X * 3]),
    ("frac", lambda x: x.frac(), [away_from_integers(X * 3)]),
    ("floor", lambda x: x.floor() * x, [away_from_integers(X * 3)]),
    ("ceil", lambda x: x.ceil() * x, [away_from_integers(X * 3)]),
    ("trunc", lambda x: x.trunc() * x, [away_from_integers(X * 3)]),
    ("round", lambda x: x.round() * x, [away_from_halves(X * 3)]),
    ("round(decimals=1)", lambda x: x.round(decimals=1) * x, [away_from_halves(X * 30) / 10]),
    ("sign", lambda x: x.sign() * x, [NONZERO]),
    ("logit", lambda x: x.logit(), [PROBABILITY]),
    ("logit(eps)", lambda x: x.logit(0.2), [away(PROBABILITY, 0.2, 0.8, gap=0.02)]),
    ("nan_to_num", lambda x: nn.nan_to_num(x, 1.0) * x, [X]),
    ("atan2", lambda y, x: nn.atan2(y, x), [Y, X]),
    ("atan2 broadcast", lambda y, x: y.arctan2(x), [Y[0], X[:, :2, :1]]),
    ("fmod", lambda x, y: nn.fmod(x, y), [away_from_integers(X * 4), away(Y, 0, gap=0.4)]),
    ("remainder", lambda x, y: nn.remainder(x, y), [away_from_integers(X * 4), away(Y, 0, gap=0.4)]),
    ("fmod scalar", lambda x: x.fmod(1.5), [away_from_integers(X * 4 / 1.5) * 1.5]),
    ("remainder scalar", lambda x: x % -1.5, [away_from_integers(X * 4 / 1.5) * 1.5]),
    ("lerp", lambda x, y, w: nn.lerp(x, y, w), [X, Y, np.linspace(-0.2, 1.2, 12).reshape(3, 4)]),
    ("lerp scalar", lambda x, y: x.lerp(y, 0.7), [X, Y]),
    ("addcmul", lambda x, y, z: nn.addcmul(x, y, z, value=0.5), [X, Y, X[0]]),
    ("addcdiv", lambda x, y, z: nn.addcdiv(x, y, z, value=-2), [X, Y, away(X[0], 0, gap=0.4)]),
    ("prod", lambda x: x.prod(), [X]),
    ("prod(1)", lambda x: x.prod(1), [X]),
    ("prod one zero", lambda x: x.prod(1, keepdim=True), [ZEROS["one"]]),
    ("prod two zeros", lambda x: x.prod(-1), [ZEROS["two in a line"]]),
    ("amax", lambda x: x.amax((0, 2)), [X]),
    ("amin", lambda x: nn.amin(x, 1, keepdim=True), [X]),
    ("aminmax", lambda x: nn.aminmax(x, dim=1).min * 2 + x.aminmax(dim=1).max, [X]),
    ("median", lambda x: x.median(), [X]),
    ("median(1)", lambda x: x.median(1).values, [X]),
    *[(f"vector_norm {ord}", lambda x, ord=ord: nn.linalg.vector_norm(x, ord, dim=-1), [X + np.sign(X) * 0.2])
      for ord in [2, 1, INF, -INF, 3, 2.5, 1.5, 0.5, -1, -2.5]],
    ("norm fro", lambda x: x.norm(), [X]),
    ("matrix_norm 1", lambda x: nn.linalg.matrix_norm(x, 1), [X]),
    ("matrix_norm -inf", lambda x: nn.linalg.matrix_norm(x, -INF, dim=(0, 2)), [X]),
    ("linalg.norm", lambda x: nn.linalg.norm(x, dim=(1, 2)), [X]),
    ("addmm", lambda c, a, b: nn.addmm(c, a, b, beta=0.5, alpha=2), [X[0, 0], X[0, :2, :3], Y[:3]]),
    ("baddbmm", lambda c, a, b: nn.baddbmm(c, a, b, beta=-1, alpha=0.5), [arrays((2, 1, 5))[0], X[:, :, :3], arrays((2, 3, 5))[0]]),
    ("softplus", lambda x: nn.functional.softplus(x, beta=2, threshold=3), [away(X, 1.5, gap=0.05)]),
    ("silu", lambda x: nn.functional.silu(x), [X * 3]),
    ("mish", lambda x: nn.functional.mish(x), [X * 3]),
]


@pytest.mark.parametrize("name, fn, inputs", GRADCHECKS, ids=[name for name, _, _ in GRADCHECKS])
def test_backward_matches_finite_differences(name, fn, inputs):
    assert nn.gradcheck(fn, [leaf(v) for v in inputs])
