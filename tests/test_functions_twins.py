"""Elementwise functions and reductions (chapter "Functions and reductions") against PyTorch: values, dtypes and gradients.

Inputs of functions with a kink or a domain edge are moved away from it (relu and abs at 0, clamp at
its bounds, log and sqrt at 0); what each library does exactly at a kink has its own test.
"""
import numpy as np
import pytest

from twin import arrays, code, same, twin, twin_raises

DTYPES = [np.float32, np.float64]
X = arrays((2, 3, 4))[0]


def away(values, *points, gap=0.15):
    "The values, with any that lie within `gap` of one of the points moved to `gap` from it."
    for p in points:
        near = np.abs(values - p) < gap
        values = np.where(near, p + np.where(values >= p, gap, -gap), values)
    return values


def check(expression, *values, dtype=np.float64, **tolerances):
    "twin() of a line of code over `x` (default: X) and further tensors y, z."
    values = values or (X,)
    twin(code(expression, "x y z"[:2 * len(values)]),
         *(v.astype(dtype) if v.dtype.kind == "f" else v for v in values), **tolerances)


def refuse(expression, *values):
    values = values or (X,)
    twin_raises(code(expression, "x y z"[:2 * len(values)]), *values)


# --- elementwise functions -------------------------------------------------------------------------
SMOOTH = ["exp", "tanh", "sigmoid", "sin", "cos"]
POSITIVE_ONLY = ["log", "sqrt"]
KINK_AT_0 = ["abs", "relu"]
INPUTS = {**{f: X for f in SMOOTH}, **{f: np.abs(X) + 0.2 for f in POSITIVE_ONLY}, **{f: away(X, 0) for f in KINK_AT_0}}


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("form", ["x.{}()", "lib.{}(x)"])
@pytest.mark.parametrize("function", INPUTS)
def test_elementwise_function(function, form, dtype):
    check(form.format(function), INPUTS[function], dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("expression", [
    "x.clamp(-0.5, 0.5)", "lib.clamp(x, -0.5, 0.5)", "x.clamp(min=-0.5)", "x.clamp(max=0.5)", "x.clamp(-0.5)",
    "lib.clamp(x, min=0.0, max=1.0)", "lib.clamp(x, max=0)", "x.clamp(-1, 1)",
])
def test_clamp(expression, dtype):
    check(expression, away(X, -1, -0.5, 0, 0.5, 1), dtype=dtype)


@pytest.mark.parametrize("function", INPUTS)
def test_elementwise_function_of_a_0d_tensor(function):
    check(f"x.{function}()", np.array(0.7))


def test_elementwise_functions_composed():
    check("(x.exp() + 1).log().sqrt() * x.tanh().abs() + x.sigmoid().relu() - x.sin().cos().clamp(0.6, 0.9)",
          away(X, 0))


@pytest.mark.parametrize("function", SMOOTH + POSITIVE_ONLY + KINK_AT_0)
@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_], ids=lambda d: d.__name__)
def test_elementwise_function_of_integers_follows_torchs_dtype(function, dtype):
    # exp, log, ... of integers give float32; abs and relu keep the integer dtype
    values = np.array([[1, 2, 3], [0, 4, 1]], dtype=dtype) if function in POSITIVE_ONLY or dtype == np.bool_ \
        else np.array([[1, -2, 3], [0, 4, -1]], dtype=dtype)
    if dtype == np.bool_ and function in KINK_AT_0:
        pytest.skip("torch has no abs or relu for bool")
    with np.errstate(divide="ignore"):
        check(f"lib.{function}(x)", values)


@pytest.mark.parametrize("expression", [
    "x.clamp(-1, 2)", "x.clamp(min=0)", "x.clamp(max=1)", "x.clamp(-0.5, 1.5)", "x.clamp(min=0.5)",
])
def test_clamp_of_integers_follows_torchs_dtype(expression):
    check(expression, np.array([-2, -1, 0, 1, 2, 3]))


def test_clamp_with_min_above_max_gives_max():
    check("x.clamp(0.5, -0.5)", X)


def test_clamp_without_bounds_raises():
    refuse("x.clamp()")


# --- what torch does exactly at kinks and domain edges ---------------------------------------------
@pytest.mark.parametrize("expression", [
    "x.relu()", "x.abs()", "x.clamp(-1.0, 1.0)", "x.clamp(min=0.0)", "x.clamp(max=1.0)",
    "lib.maximum(x, lib.zeros_like(x))",
])
def test_subgradient_at_kinks_is_torchs(expression):
    # relu'(0) = 0, abs'(0) = 0, clamp passes the gradient at its bounds
    check(expression, np.array([-1.0, 0.0, 1.0, 2.0, -2.0]))


@pytest.mark.parametrize("expression", ["x.sqrt()", "x.log()"])
def test_domain_edges_give_torchs_infinities_and_nans(expression):
    with np.errstate(divide="ignore", invalid="ignore"):
        check(expression, np.array([0.0, -1.0, 1.0]))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("function", ["sigmoid", "tanh", "exp"])
def test_saturating_functions_at_large_inputs(function, dtype):
    values = np.array([-1e4, -100.0, -30.0, 0.0, 30.0, 100.0]) if function == "exp" else \
        np.array([-1e4, -100.0, -30.0, 0.0, 30.0, 100.0, 1e4])
    with np.errstate(over="ignore"):
        check(f"x.{function}()", values, dtype=dtype)


# --- sum's siblings: mean, var, std ----------------------------------------------------------------
DIMS = [0, 1, 2, -1, -3, (0, 2), (-1, 0), (0, 1, 2), [1]]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", DIMS, ids=str)
def test_mean(dim, keepdim):
    check(f"x.mean({dim!r}, keepdim={keepdim})")
    check(f"lib.mean(x, dim={dim!r}, keepdim={keepdim})", dtype=np.float32)


@pytest.mark.parametrize("expression", ["x.mean()", "lib.mean(x)", "x.mean(dim=None)", "x.mean(())", "x.mean([])"])
def test_mean_over_everything(expression):
    check(expression)


def test_mean_of_a_0d_tensor():
    check("x.mean()", np.array(1.5))
    check("x.mean(0)", np.array(1.5))


@pytest.mark.parametrize("expression", ["x.mean()", "x.mean(0)", "lib.mean(x)", "x.var()", "x.std(0)"])
@pytest.mark.parametrize("dtype", [np.int64, np.bool_], ids=lambda d: d.__name__)
def test_mean_var_std_of_integers_raise(expression, dtype):
    refuse(expression, np.array([[1, 2, 3], [1, 0, 1]], dtype=dtype))


@pytest.mark.parametrize("function", ["var", "std"])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 1, -1, (0, 2), (0, 1, 2)], ids=str)
@pytest.mark.parametrize("correction", [0, 1, 2])
def test_var_and_std(function, dim, keepdim, correction):
    check(f"x.{function}({dim!r}, correction={correction}, keepdim={keepdim})")
    check(f"lib.{function}(x, dim={dim!r}, correction={correction}, keepdim={keepdim})", dtype=np.float32)


@pytest.mark.parametrize("function", ["var", "std"])
@pytest.mark.parametrize("expression", [
    "x.{}()", "lib.{}(x)", "x.{}(1)", "x.{}(dim=(0, 1))", "x.{}(unbiased=False)", "x.{}(unbiased=True)",
    "x.{}(1, unbiased=False)", "x.{}(dim=2, unbiased=False, keepdim=True)", "lib.{}(x, 0, unbiased=False)",
])
def test_var_and_std_defaults_and_unbiased(function, expression):
    # correction=1 by default; `unbiased=False` is torch's older spelling of correction=0
    check(expression.format(function))


# --- max, min, argmax, argmin ----------------------------------------------------------------------
TIES = np.array([[1.0, 5.0, 5.0, -2.0], [2.0, 2.0, 2.0, 2.0], [-3.0, 4.0, -3.0, 0.0]])


@pytest.mark.parametrize("function", ["max", "min"])
@pytest.mark.parametrize("form", ["x.{}()", "lib.{}(x)"])
def test_max_and_min_over_everything(function, form):
    check(form.format(function))
    check(form.format(function), TIES)         # ties share the gradient evenly
    check(form.format(function), np.full((2, 3), 1.5))
    check(form.format(function), np.array(2.5))


@pytest.mark.parametrize("function", ["max", "min"])
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -2])
def test_max_and_min_along_a_dim_give_values_and_indices(function, dim, keepdim):
    check(f"x.{function}({dim}, keepdim={keepdim})")
    check(f"lib.{function}(x, dim={dim}, keepdim={keepdim})", dtype=np.float32)
    check(f"x.{function}(dim={dim})")


@pytest.mark.parametrize("function", ["max", "min"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_max_and_min_along_a_dim_with_ties_pick_the_first_and_give_it_the_gradient(function, dim):
    check(f"x.{function}({dim})", TIES)
    check(f"lib.{function}(x, {dim}, True)", TIES)


@pytest.mark.parametrize("function", ["max", "min"])
def test_max_along_a_dim_names_values_and_indices(function):
    check(f"(x.{function}(1).values, x.{function}(1).indices)")
    check(f"x.{function}(dim=0)[0] * 2 + x.{function}(dim=0)[1]")


def test_max_and_min_of_a_0d_tensor_along_dim_0():
    check("x.max(0)", np.array(1.5))
    check("x.min(-1)", np.array(1.5))


@pytest.mark.parametrize("expression", ["x.max()", "x.min()", "x.max(1)", "x.min(0, keepdim=True)",
                                        "x.argmax()", "x.argmin(1)"])
def test_max_and_min_of_integers_keep_their_dtype(expression):
    check(expression, np.array([[1, 3, 3], [4, -1, 4]]))


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, 1, 2, -1])
@pytest.mark.parametrize("function", ["argmax", "argmin"])
def test_argmax_and_argmin(function, dim, keepdim):
    check(f"x.{function}({dim}, keepdim={keepdim})")
    check(f"lib.{function}(x, dim={dim}, keepdim={keepdim})")


@pytest.mark.parametrize("dim", [None, 0, 1])
@pytest.mark.parametrize("function", ["argmax", "argmin"])
def test_argmax_and_argmin_with_ties_pick_the_first(function, dim):
    check(f"x.{function}({dim})", TIES)


def test_argmax_of_a_0d_tensor():
    check("x.argmax()", np.array(1.5))
    check("x.argmin(0)", np.array(1.5))


# --- logsumexp, softmax, log_softmax ---------------------------------------------------------------
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [0, 1, 2, -1, (0, 2), (-1, 1), (0, 1, 2), [0]], ids=str)
def test_logsumexp(dim, keepdim):
    check(f"x.logsumexp({dim!r}, keepdim={keepdim})")
    check(f"lib.logsumexp(x, dim={dim!r}, keepdim={keepdim})", dtype=np.float32)


def test_logsumexp_of_a_0d_tensor_and_of_integers():
    check("x.logsumexp(0)", np.array(1.5))
    check("x.logsumexp(1)", np.array([[1, 2, 3], [0, 0, 5]]))


@pytest.mark.parametrize("function", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -2, -3])
def test_softmax_and_log_softmax_along_each_dim(function, dim):
    check(f"x.{function}({dim})")
    check(f"lib.{function}(x, {dim})", dtype=np.float32)
    check(f"lib.{function}(x, dim={dim})")
    check(f"x.{function}(dim={dim}) * x")


def test_softmax_of_a_0d_tensor():
    check("x.softmax(0)", np.array(1.5))
    check("x.log_softmax(-1)", np.array(1.5))


LOGITS = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, 1e4], [1e4, 1e4, 1e4], [-1e4, -1e4, -1e4]])


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("expression", [
    "x.softmax(0)", "x.softmax(1)", "x.log_softmax(0)", "x.log_softmax(1)", "x.logsumexp(0)", "x.logsumexp(1)",
    "x.logsumexp((0, 1))", "x.logsumexp(1, keepdim=True)", "x.log_softmax(-1) * x.softmax(-1)",
])
def test_stable_at_huge_logits(expression, dtype):
    # finite values and gradients, equal to torch's: the largest logit is subtracted before exp
    check(expression, LOGITS, dtype=dtype, rtol=1e-5, atol=1e-3)


def test_logsumexp_of_minus_infinity_is_minus_infinity():
    check("x.logsumexp(0)", np.array([-np.inf, -np.inf]))


# --- reductions refuse dims that do not exist -------------------------------------------------------
@pytest.mark.parametrize("expression", [
    "x.mean(3)", "x.mean((0, 3))", "x.var(-4)", "x.std(3)", "x.max(3)", "x.min(-4)", "x.argmax(3)",
    "x.argmin(-4)", "x.logsumexp(3)", "x.softmax(3)", "x.log_softmax(-4)", "x.mean((1, 1))", "x.logsumexp((0, -3))",
])
def test_reduction_over_a_missing_or_repeated_dim_raises(expression):
    refuse(expression)


def test_reductions_agree_on_the_same_input():
    # a numeric sanity check that does not depend on torch: log_softmax == x - logsumexp
    same(lambda lib: np.allclose(lib.tensor(X).log_softmax(1).numpy(),
                                 (lib.tensor(X) - lib.tensor(X).logsumexp(1, keepdim=True)).numpy()))
