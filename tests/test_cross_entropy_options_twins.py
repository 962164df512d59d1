"""cross_entropy (and CrossEntropyLoss) and nll_loss (and NLLLoss) with their options against
PyTorch, in every combination: class weights, ignore_index, label_smoothing, class-index and
probability targets, inputs (C,), (N, C) and (N, C, d1, d2), the three reductions, float32 and
float64. Values and gradients (of the input, and of soft targets and their weights), the nan of
a mean over only ignored targets, and second order: Hessian-vector products against torch with
create_graph=True, and gradgradcheck.
"""
import itertools

import numpy as np
import pytest
import torch

import nn
from twin import F, arrays, assert_same, twin, twin_raises
from twin import layers as modules

DTYPES = [np.float32, np.float64]
REDUCTIONS = ["none", "mean", "sum"]
C = 4
rng = np.random.default_rng(0)
SHAPES = {"(N, C)": (5, C), "(C,)": (C,), "(N, C, d1, d2)": (3, C, 2, 3)}
LOGITS = {name: 2 * rng.standard_normal(shape) for name, shape in SHAPES.items()}
# class indices with the class 1 present (so that ignore_index=1 ignores some), one per sample
INDICES = {"(N, C)": np.array([1, 0, 3, 1, 2]), "(C,)": np.array(1),
           "(N, C, d1, d2)": np.array([[[1, 0, 3], [2, 1, 1]], [[0, 0, 2], [3, 1, 2]],
                                       [[1, 2, 3], [0, 1, 3]]])}


def probabilities(shape):
    "Random class probabilities along the class dim (1, or 0 for an unbatched (C,))."
    if len(shape) == 1:
        return rng.dirichlet(np.ones(C))
    return np.moveaxis(rng.dirichlet(np.ones(C), size=shape[:1] + shape[2:]), -1, 1)


PROBABILITIES = {name: probabilities(shape) for name, shape in SHAPES.items()}
WEIGHT = rng.uniform(0.5, 2.0, C)

WEIGHTS = {"no weight": None, "weight": WEIGHT}
IGNORES = {"no ignore": -100, "ignore 1": 1}
SMOOTHINGS = {"no smoothing": 0.0, "smoothing 0.2": 0.2}


def options(weight, ignore_index, smoothing, reduction):
    settings = {"reduction": reduction}
    if ignore_index != -100:
        settings["ignore_index"] = ignore_index
    if smoothing:
        settings["label_smoothing"] = smoothing
    return settings


def typed(dtype, *values):
    return [np.asarray(v).astype(dtype) if np.asarray(v).dtype.kind == "f" else v
            for v in values]


INDEX_COMBINATIONS = list(itertools.product(SHAPES, WEIGHTS, IGNORES, SMOOTHINGS, REDUCTIONS))


def index_case_id(case):
    return ", ".join(case)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("case", INDEX_COMBINATIONS, ids=index_case_id)
def test_cross_entropy_on_class_indices(case, dtype):
    shape, weight, ignore, smoothing, reduction = case
    settings = options(WEIGHTS[weight], IGNORES[ignore], SMOOTHINGS[smoothing], reduction)
    values = typed(dtype, LOGITS[shape], INDICES[shape])
    if WEIGHTS[weight] is None:
        twin(lambda lib, x, y: F(lib).cross_entropy(x, y, **settings), *values)
        twin(lambda lib, x, y: modules(lib).CrossEntropyLoss(**settings)(x, y), *values)
    else:  # torch refuses a weight that requires grad with class indices
        values += typed(dtype, WEIGHTS[weight])
        flags = (True, False, False)
        twin(lambda lib, x, y, w: F(lib).cross_entropy(x, y, w, **settings), *values,
             requires_grad=flags)
        twin(lambda lib, x, y, w: modules(lib).CrossEntropyLoss(w, **settings)(x, y),
             *values, requires_grad=flags)


PROBABILITY_COMBINATIONS = list(itertools.product(SHAPES, WEIGHTS, SMOOTHINGS, REDUCTIONS))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("case", PROBABILITY_COMBINATIONS, ids=index_case_id)
def test_cross_entropy_on_probabilities(case, dtype):
    "Soft targets: gradients of the input, the target and the weight, all compared."
    shape, weight, smoothing, reduction = case
    settings = options(None, -100, SMOOTHINGS[smoothing], reduction)
    values = typed(dtype, LOGITS[shape], PROBABILITIES[shape])
    if WEIGHTS[weight] is None:
        twin(lambda lib, x, q: F(lib).cross_entropy(x, q, **settings), *values)
    else:
        values += typed(dtype, WEIGHTS[weight])
        twin(lambda lib, x, q, w: F(lib).cross_entropy(x, q, w, **settings), *values)
        twin(lambda lib, x, q, w: modules(lib).CrossEntropyLoss(w, **settings)(x, q),
             *values, requires_grad=(True, True, False))


NLL_COMBINATIONS = list(itertools.product(SHAPES, WEIGHTS, IGNORES, REDUCTIONS))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("case", NLL_COMBINATIONS, ids=index_case_id)
def test_nll_loss(case, dtype):
    shape, weight, ignore, reduction = case
    settings = options(None, IGNORES[ignore], 0.0, reduction)
    log_p = typed(dtype, torch.log_softmax(torch.tensor(LOGITS[shape]), 0 if shape == "(C,)"
                                           else 1).numpy())[0]
    values = [log_p, INDICES[shape]]
    if WEIGHTS[weight] is None:
        twin(lambda lib, x, y: F(lib).nll_loss(x, y, **settings), *values)
        twin(lambda lib, x, y: modules(lib).NLLLoss(**settings)(x, y), *values)
    else:
        values += typed(dtype, WEIGHTS[weight])
        flags = (True, False, False)
        twin(lambda lib, x, y, w: F(lib).nll_loss(x, y, w, **settings), *values,
             requires_grad=flags)
        twin(lambda lib, x, y, w: modules(lib).NLLLoss(w, **settings)(x, y), *values,
             requires_grad=flags)


# --- every target ignored ------------------------------------------------------------------
ALL_IGNORED = {name: np.full_like(INDICES[name], 2) for name in SHAPES}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", SMOOTHINGS)
@pytest.mark.parametrize("weight", WEIGHTS)
@pytest.mark.parametrize("shape", SHAPES)
def test_every_target_ignored(shape, weight, smoothing, reduction):
    "A mean over nothing is nan in both; the sum and the losses are zeros."
    settings = options(None, 2, SMOOTHINGS[smoothing], reduction)
    values = [LOGITS[shape], ALL_IGNORED[shape]]
    w = WEIGHTS[weight]
    expected, _ = twin(lambda lib, x, y: F(lib).cross_entropy(
        x, y, None if w is None else lib.tensor(w), **settings), *values)
    if reduction == "mean":
        assert np.isnan(expected[0].item())
    nll_settings = options(None, 2, 0.0, reduction)
    expected, _ = twin(lambda lib, x, y: F(lib).nll_loss(
        x, y, None if w is None else lib.tensor(w), **nll_settings), *values)
    if reduction == "mean":
        assert np.isnan(expected[0].item())


def test_ignored_samples_get_no_gradient_even_with_smoothing():
    x = nn.tensor(LOGITS["(N, C)"], requires_grad=True)
    y = nn.tensor(INDICES["(N, C)"])
    nn.functional.cross_entropy(x, y, ignore_index=1, label_smoothing=0.3).backward()
    assert not x.grad.numpy()[INDICES["(N, C)"] == 1].any()


# --- errors --------------------------------------------------------------------------------
def test_option_errors():
    x, y, q = LOGITS["(N, C)"], INDICES["(N, C)"], PROBABILITIES["(N, C)"]
    twin_raises(lambda lib, x, y: F(lib).cross_entropy(x, y, label_smoothing=1.5), x, y)
    twin_raises(lambda lib, x, q: F(lib).cross_entropy(x, q, ignore_index=1), x, q)
    twin_raises(lambda lib, x, y, w: F(lib).cross_entropy(x, y, w), x, y, WEIGHT[:3],
                requires_grad=False)
    twin_raises(lambda lib, x, y, w: F(lib).nll_loss(x, y, w), x, y, WEIGHT[:3],
                requires_grad=False)
    twin_raises(lambda lib, x, y: F(lib).cross_entropy(x, y, reduction="avg"), x, y)
    twin_raises(lambda lib, x, y: F(lib).nll_loss(x, y), x, np.array([0, 1, 4, 1, 0]))
    twin_raises(lambda lib, x, y: F(lib).cross_entropy(x, y), LOGITS["(N, C, d1, d2)"],
                INDICES["(N, C, d1, d2)"][:, :1])


def test_weight_that_requires_grad_is_refused_with_class_indices():
    twin_raises(lambda lib, x, y, w: F(lib).cross_entropy(x, y, w), LOGITS["(N, C)"],
                INDICES["(N, C)"], WEIGHT)


# --- second order --------------------------------------------------------------------------
def second_order_cases():
    cases = {}
    for shape, weight, ignore, smoothing, reduction in INDEX_COMBINATIONS:
        w, settings = WEIGHTS[weight], options(None, IGNORES[ignore], SMOOTHINGS[smoothing],
                                               reduction)
        cases[f"cross_entropy indices {shape}, {weight}, {ignore}, {smoothing}, {reduction}"] = (
            lambda lib, x, shape=shape, w=w, settings=settings: F(lib).cross_entropy(
                x, lib.tensor(INDICES[shape]), None if w is None else lib.tensor(w),
                **settings))
    for shape, weight, smoothing, reduction in PROBABILITY_COMBINATIONS:
        w, settings = WEIGHTS[weight], options(None, -100, SMOOTHINGS[smoothing], reduction)
        cases[f"cross_entropy probabilities {shape}, {weight}, {smoothing}, {reduction}"] = (
            lambda lib, x, shape=shape, w=w, settings=settings: F(lib).cross_entropy(
                x, lib.tensor(PROBABILITIES[shape]), None if w is None else lib.tensor(w),
                **settings))
    for shape, weight, ignore, reduction in NLL_COMBINATIONS:
        w, settings = WEIGHTS[weight], options(None, IGNORES[ignore], 0.0, reduction)
        # nll_loss is linear: differentiate it through log_softmax (second order non-zero)
        cases[f"nll_loss {shape}, {weight}, {ignore}, {reduction}"] = (
            lambda lib, x, shape=shape, w=w, settings=settings: F(lib).nll_loss(
                F(lib).log_softmax(x, 0 if shape == "(C,)" else 1),
                lib.tensor(INDICES[shape]), None if w is None else lib.tensor(w),
                **settings))
    return cases


SECOND_ORDER = second_order_cases()


def hessian_vector_product(lib, fn, x):
    "The first gradient (create_graph=True) and the gradient of <grad, v> for a fixed v."
    x = lib.tensor(x, requires_grad=True)
    out = fn(lib, x)
    w = lib.tensor(np.cos(np.arange(out.numel()) + 1.0).reshape(tuple(out.shape)))
    (grad,) = lib.autograd.grad(out, x, grad_outputs=w, create_graph=True)
    v = lib.tensor(np.sin(np.arange(x.numel()) + 1.0).reshape(tuple(x.shape)))
    (hvp,) = lib.autograd.grad((grad * v).sum(), x)
    return grad, hvp


def logits_for(case):
    return LOGITS[next(shape for shape in SHAPES if shape in case)]


@pytest.mark.parametrize("case", SECOND_ORDER)
def test_hessian_vector_product_matches_torch(case):
    fn, x = SECOND_ORDER[case], logits_for(case)
    (torch_grad, torch_hvp), (nn_grad, nn_hvp) = (hessian_vector_product(lib, fn, x)
                                                  for lib in (torch, nn))
    assert_same(torch_grad, nn_grad, what="first gradient")
    assert_same(torch_hvp, nn_hvp, what="Hessian-vector product")


GRADGRADCHECKED = [case for case in SECOND_ORDER if "(N, C, d1" not in case
                   or case.endswith("sum")]


@pytest.mark.parametrize("case", GRADGRADCHECKED)
def test_gradgradcheck(case):
    fn, x = SECOND_ORDER[case], nn.tensor(logits_for(case), requires_grad=True)
    assert nn.autograd.gradgradcheck(lambda x: fn(nn, x), x)


@pytest.mark.parametrize("smoothing", SMOOTHINGS)
@pytest.mark.parametrize("weight", WEIGHTS)
def test_soft_targets_second_order_in_the_target(weight, smoothing):
    "Mixed second derivatives: through the target, and the target's own gradient."
    x, q = LOGITS["(N, C, d1, d2)"], PROBABILITIES["(N, C, d1, d2)"]
    w, s = WEIGHTS[weight], SMOOTHINGS[smoothing]

    def run(lib):
        inputs = [lib.tensor(v, requires_grad=True) for v in (x, q)]
        out = F(lib).cross_entropy(*inputs, None if w is None else lib.tensor(w),
                                   label_smoothing=s)
        grads = lib.autograd.grad(out, inputs, create_graph=True)
        total = sum((g * lib.tensor(np.cos(np.arange(g.numel())).reshape(tuple(g.shape))))
                    .sum() for g in grads)
        return grads + lib.autograd.grad(total, inputs)
    for expected, actual in zip(run(torch), run(nn)):
        assert_same(expected, actual)
    assert nn.autograd.gradgradcheck(
        lambda x, q: nn.functional.cross_entropy(x, q, None if w is None else nn.tensor(w),
                                                 label_smoothing=s),
        [nn.tensor(v, requires_grad=True) for v in (x, q)])
