"""l1_loss, smooth_l1_loss, huber_loss, binary_cross_entropy and kl_div (and their modules) against
PyTorch: values and gradients with respect to input and target for every reduction, in float32 and
float64, torch's broadcasting warnings and error types, finite differences to first and second
order, and Hessian-vector products with create_graph=True.
"""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional

import nn
from twin import F, arrays, assert_same, twin, twin_raises
from twin import layers as modules

DTYPES = [np.float32, np.float64]
REDUCTIONS = ["none", "mean", "sum"]
rng = np.random.default_rng(0)
X, Y = 2 * rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
PROBABILITIES = rng.uniform(0.05, 0.95, (4, 3))
LABELS = rng.uniform(0, 1, (4, 3))
LOG_P = np.log(rng.dirichlet(np.ones(3), size=4))
Q = rng.dirichlet(np.ones(3), size=4)
Q_WITH_ZEROS = Q.copy()
Q_WITH_ZEROS[0, 1] = 0.0

REGRESSION = {
    "l1_loss": lambda lib, x, y, r: F(lib).l1_loss(x, y, reduction=r),
    "smooth_l1_loss": lambda lib, x, y, r: F(lib).smooth_l1_loss(x, y, reduction=r),
    "smooth_l1_loss beta 0.5": lambda lib, x, y, r:
        F(lib).smooth_l1_loss(x, y, reduction=r, beta=0.5),
    "smooth_l1_loss beta 0": lambda lib, x, y, r:
        F(lib).smooth_l1_loss(x, y, reduction=r, beta=0.0),
    "huber_loss": lambda lib, x, y, r: F(lib).huber_loss(x, y, reduction=r),
    "huber_loss delta 0.5": lambda lib, x, y, r:
        F(lib).huber_loss(x, y, reduction=r, delta=0.5),
    "huber_loss delta 3": lambda lib, x, y, r: F(lib).huber_loss(x, y, reduction=r, delta=3.0),
}


def typed(dtype, *values):
    return [v.astype(dtype) for v in values]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss", REGRESSION)
def test_regression_losses(loss, reduction, dtype):
    fn = REGRESSION[loss]
    twin(lambda lib, x, y: fn(lib, x, y, reduction), *typed(dtype, X, Y))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss", ["l1_loss", "huber_loss"])
def test_weighted_losses_differentiate_the_weight(loss, reduction, dtype):
    twin(lambda lib, x, y, w: getattr(F(lib), loss)(x, y, reduction=reduction, weight=w),
         *typed(dtype, X, Y, rng.random((4, 3))))


@pytest.mark.parametrize("shapes", [((4, 1), (3,)), ((3,), (2, 3)), ((), (3,))], ids=str)
@pytest.mark.parametrize("loss", REGRESSION)
def test_regression_losses_broadcast_with_torchs_warning(loss, shapes):
    fn = REGRESSION[loss]
    for lib in (torch, nn):
        with pytest.warns(UserWarning, match="different to the input size"):
            fn(lib, lib.ones(shapes[0]), lib.zeros(shapes[1]), "mean")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for reduction in REDUCTIONS:
            twin(lambda lib, x, y: fn(lib, x, y, reduction), *arrays(*shapes))


def test_regression_losses_promote_like_torch():
    for loss in ("l1_loss", "smooth_l1_loss"):
        twin(lambda lib, x, y: getattr(F(lib), loss)(x, y),
             X.astype(np.float32), Y)
        with pytest.warns(UserWarning, match="different to the input size"):
            twin(lambda lib, x, y: getattr(F(lib), loss)(x, y), X, np.array(3))


def test_huber_loss_keeps_the_inputs_dtype_like_torch():
    # (torch's own backward fails on mixed dtypes here, so values only)
    twin(lambda lib, x, y: F(lib).huber_loss(x, y), X.astype(np.float32), Y,
         requires_grad=False)


def test_kinks_have_torchs_gradients():
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0, 2.0])
    for loss in REGRESSION:
        twin(lambda lib, x, y: REGRESSION[loss](lib, x, y, "sum"), x, np.zeros(6))


# --- binary_cross_entropy ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy(weighted, reduction, dtype):
    weight = {"weight": torch.tensor(rng.random(3), dtype=getattr(torch, dtype.__name__))}

    def run(lib, x, y):
        w = {"weight": lib.tensor(weight["weight"].numpy())} if weighted else {}
        return F(lib).binary_cross_entropy(x, y, reduction=reduction, **w)
    twin(run, *typed(dtype, PROBABILITIES, LABELS))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_binary_cross_entropy_at_0_and_1_clamps_the_log_like_torch(dtype):
    x, y = np.array([0.0, 1.0, 0.0, 1.0, 0.5]), np.array([0.0, 1.0, 1.0, 0.0, 0.3])
    twin(lambda lib, x, y: F(lib).binary_cross_entropy(x, y, reduction="none"),
         *typed(dtype, x, y), requires_grad=[True, False], rtol=1e-8)
    twin(lambda lib, x, y: F(lib).binary_cross_entropy(x, y, reduction="sum"),
         *typed(dtype, x[:2], y[:2]))


# --- kl_div ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(log_target, reduction, dtype):
    target = np.log(Q) if log_target else Q
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        twin(lambda lib, x, t: F(lib).kl_div(x, t, reduction=reduction, log_target=log_target),
             *typed(dtype, LOG_P, target))


def test_kl_div_with_zeros_in_the_target_gives_torchs_nan_gradient():
    twin(lambda lib, x, t: F(lib).kl_div(x, t, reduction="batchmean"), LOG_P, Q_WITH_ZEROS)


def test_kl_div_mean_warns_like_torch():
    for lib in (torch, nn):
        with pytest.warns(UserWarning, match="batchmean"):
            F(lib).kl_div(lib.tensor(LOG_P), lib.tensor(Q))


@pytest.mark.parametrize("reduction", REDUCTIONS + ["batchmean"])
def test_kl_div_broadcasts_and_takes_0d(reduction):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        twin(lambda lib, x, t: F(lib).kl_div(x, t, reduction=reduction), LOG_P[:1], Q)
        twin(lambda lib, x, t: F(lib).kl_div(x, t, reduction=reduction),
             np.array(-0.5), np.array(0.3))


# --- finite differences, first and second order ----------------------------------------------------
def differentiable_cases(reduction):
    kl_reduction = "batchmean" if reduction == "mean" else reduction
    cases = [(lambda lib, x, y, loss=loss: REGRESSION[loss](lib, x, y, reduction), (X, Y))
             for loss in REGRESSION]
    cases += [
        (lambda lib, x, y, w: F(lib).l1_loss(x, y, reduction=reduction, weight=w),
         (X, Y, rng.random((4, 3)) + 0.5)),
        (lambda lib, x, y, w: F(lib).huber_loss(x, y, reduction=reduction, weight=w),
         (X, Y, rng.random((4, 3)) + 0.5)),
        (lambda lib, x, y: F(lib).binary_cross_entropy(x, y, reduction=reduction),
         (PROBABILITIES, LABELS)),
        (lambda lib, x, y: F(lib).binary_cross_entropy(
            x, y, reduction=reduction, weight=lib.tensor([0.5, 1.0, 2.0], dtype=lib.float64)),
         (PROBABILITIES, LABELS)),
        (lambda lib, x, t: F(lib).kl_div(x, t, reduction=kl_reduction), (LOG_P, Q)),
        (lambda lib, x, t: F(lib).kl_div(x, t, reduction=kl_reduction, log_target=True),
         (LOG_P, np.log(Q))),
    ]
    return cases


CASES = [(r, i) for r in REDUCTIONS for i in range(len(differentiable_cases(r)))]


def case(reduction, i):
    return differentiable_cases(reduction)[i]


@pytest.mark.parametrize("reduction, i", CASES)
def test_gradcheck_and_gradgradcheck(reduction, i):
    fn, values = case(reduction, i)
    inputs = [nn.tensor(v, requires_grad=True) for v in values]
    assert nn.gradcheck(lambda *xs: fn(nn, *xs), inputs)
    assert nn.autograd.gradgradcheck(lambda *xs: fn(nn, *xs), inputs)


def hessian_vector_product(lib, fn, values):
    "First gradients (create_graph=True), then the gradient of their dot with fixed vectors."
    r = np.random.default_rng(1)
    inputs = [lib.tensor(v, requires_grad=True) for v in values]
    out = fn(lib, *inputs)
    seed = lib.tensor(r.standard_normal(tuple(out.shape)))
    grads = lib.autograd.grad(out, inputs, grad_outputs=seed, create_graph=True)
    total = sum((g * lib.tensor(r.standard_normal(tuple(g.shape)))).sum() for g in grads)
    if not total.requires_grad:
        return grads, [None] * len(inputs)
    return grads, lib.autograd.grad(total, inputs, allow_unused=True)


@pytest.mark.parametrize("reduction, i", CASES)
def test_hessian_vector_products_match_torch(reduction, i):
    fn, values = case(reduction, i)
    (torch_grads, torch_hvp), (nn_grads, nn_hvp) = (
        hessian_vector_product(lib, fn, values) for lib in (torch, nn))
    for e, a in zip(torch_grads, nn_grads):
        assert_same(e, a, what="first gradient")
    for e, a in zip(torch_hvp, nn_hvp):
        if e is None or a is None:
            other = e if a is None else a
            assert other is None or not other.detach().numpy(force=True).any()
        else:
            assert_same(torch.from_numpy(e.detach().numpy(force=True).copy()), a,
                        rtol=1e-8, atol=1e-10, what="HVP")


# --- the modules --------------------------------------------------------------------------------------
MODULES = {
    "L1Loss": (lambda m, r: m.L1Loss(reduction=r), X, Y),
    "SmoothL1Loss": (lambda m, r: m.SmoothL1Loss(reduction=r, beta=0.5), X, Y),
    "HuberLoss": (lambda m, r: m.HuberLoss(reduction=r, delta=0.5), X, Y),
    "BCELoss": (lambda m, r: m.BCELoss(reduction=r), PROBABILITIES, LABELS),
    "KLDivLoss": (lambda m, r: m.KLDivLoss(reduction=r, log_target=True), LOG_P, np.log(Q)),
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", MODULES)
def test_loss_modules(name, reduction):
    make, x, y = MODULES[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        twin(lambda lib, x, y: make(modules(lib), reduction)(x, y), x, y)


def test_module_reprs_and_attributes():
    for lib in (torch, nn):
        m = modules(lib)
        assert m.SmoothL1Loss(beta=2.0).beta == 2.0 and m.HuberLoss(delta=0.5).delta == 0.5
        assert m.KLDivLoss(log_target=True).log_target is True
        assert m.KLDivLoss(reduction="batchmean").reduction == "batchmean"
    assert [repr(c()) for c in (nn.L1Loss, nn.SmoothL1Loss, nn.HuberLoss, nn.BCELoss,
                                nn.KLDivLoss)] == [
        "L1Loss()", "SmoothL1Loss()", "HuberLoss()", "BCELoss()", "KLDivLoss()"]


# --- errors ----------------------------------------------------------------------------------------
BAD = {
    "l1 of int64": (lambda lib, x: F(lib).l1_loss(x.long(), x.long())),
    "smooth_l1 of int64": (lambda lib, x: F(lib).smooth_l1_loss(x.long(), x.long())),
    "huber of int64": (lambda lib, x: F(lib).huber_loss(x.long(), x.long())),
    "shapes don't broadcast": (lambda lib, x: F(lib).l1_loss(x, lib.ones(4))),
    "unknown reduction": (lambda lib, x: F(lib).smooth_l1_loss(x, x, reduction="avg")),
    "huber: unknown reduction": (lambda lib, x: F(lib).huber_loss(x, x, reduction="x")),
    "negative beta": (lambda lib, x: F(lib).smooth_l1_loss(x, x, beta=-1.0)),
    "delta 0": (lambda lib, x: F(lib).huber_loss(x, x, delta=0.0)),
    "l1 weight's shape": (lambda lib, x: F(lib).l1_loss(x, x, weight=lib.ones(1))),
    "bce: target's shape": (lambda lib, x:
                            F(lib).binary_cross_entropy(x.sigmoid(), lib.ones(3, 1))),
    "bce: input above 1": (lambda lib, x: F(lib).binary_cross_entropy(x * 0 + 2, x * 0)),
    "bce: float64 target": (lambda lib, x:
                            F(lib).binary_cross_entropy(x.sigmoid(), x.double())),
    "bce: int64": (lambda lib, x: F(lib).binary_cross_entropy(x.long(), x.long())),
    "bce: weight enlarges": (lambda lib, x: F(lib).binary_cross_entropy(
        x.sigmoid(), x * 0, weight=lib.ones(2, 3))),
    "bce: weight requires grad": (lambda lib, x: F(lib).binary_cross_entropy(
        x.sigmoid(), x * 0, weight=lib.ones(3, requires_grad=True))),
    "bce: unknown reduction": (lambda lib, x: F(lib).binary_cross_entropy(
        x.sigmoid(), x * 0, reduction="x")),
    "kl of int64": (lambda lib, x: F(lib).kl_div(x.long(), x.long())),
    "kl: unknown reduction": (lambda lib, x: F(lib).kl_div(x, x, reduction="x")),
    "kl: shapes": (lambda lib, x: F(lib).kl_div(x, lib.ones(4))),
}


@pytest.mark.parametrize("name", BAD)
def test_errors_have_torchs_type(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        twin_raises(BAD[name], np.array([0.2, 0.5, 0.7], dtype=np.float32))


@pytest.mark.parametrize("flags", [{"reduce": False}, {"size_average": False}, {"size_average": True}],
                         ids=str)
@pytest.mark.parametrize("reduction", ["batchmean", "mean"])
def test_kl_div_deprecated_flags_like_torch(flags, reduction):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        twin(lambda lib, x, t: F(lib).kl_div(x, t, reduction=reduction, **flags), LOG_P, Q)


@pytest.mark.parametrize("flags", [{"reduce": False}, {"size_average": False}], ids=str)
def test_deprecated_flags_of_the_other_losses(flags):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        twin(lambda lib, x, y: F(lib).l1_loss(x, y, **flags), X, Y)
        twin(lambda lib, x, y: F(lib).smooth_l1_loss(x, y, beta=0.5, **flags), X, Y)
        twin(lambda lib, x, y: F(lib).binary_cross_entropy(x, y, **flags), PROBABILITIES, LABELS)


def test_kl_div_mean_warns_only_without_deprecated_flags():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        nn.functional.kl_div(nn.tensor(LOG_P), nn.tensor(Q), size_average=True)
    assert not any("batchmean" in str(w.message) for w in caught)


@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none"])
def test_empty_batches_like_torch(reduction):
    twin(lambda lib, x, t: F(lib).kl_div(x, t, reduction=reduction), np.zeros((0, 3)), np.zeros((0, 3)))
    for loss in ("l1_loss", "huber_loss", "binary_cross_entropy"):
        twin(lambda lib, x, y: getattr(F(lib), loss)(x, y, reduction=reduction.replace("batch", "")),
             np.zeros(0), np.zeros(0))


@pytest.mark.parametrize("values", [([0.5], [2.0]), ([0.5], [-0.5]), ([0.5], [np.nan]), ([np.nan], [0.5])],
                         ids=str)
def test_binary_cross_entropy_refuses_values_outside_0_1(values):
    twin_raises(lambda lib, x, y: F(lib).binary_cross_entropy(x, y), *map(np.array, values))
