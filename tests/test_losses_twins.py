"""The losses (chapter "Losses") against PyTorch: every loss x reduction x option, in float32 and float64,
values and gradients (with respect to the input, and the target and weight where torch gives one),
random shapes, finite differences, the modules, and the errors.

torch keeps the functional losses in torch.nn.functional and the modules in torch.nn; nn has both in
its own namespace. `F(lib)` and `modules(lib)` pick the right one, so each test reads as torch code.
"""
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional
from hypothesis import given, settings, strategies as st

import nn
from twin import F, arrays, same, twin, twin_raises
from twin import layers as modules

DTYPES = [np.float32, np.float64]
REDUCTIONS = ["none", "mean", "sum"]
deterministic = settings(max_examples=15, deadline=None, derandomize=True, database=None)




rng = np.random.default_rng(0)
LOGITS = rng.standard_normal((5, 4))
TARGETS = np.array([0, 3, -100, 1, 2])               # one sample ignored by the default ignore_index
TARGETS_1 = np.array([0, 3, 1, 1, 2])                # class 1 ignored when ignore_index=1
CLASS_WEIGHTS = rng.random(4) + 0.5
PROBABILITIES = rng.dirichlet(np.ones(4), size=5)
SPATIAL = rng.standard_normal((2, 4, 3, 2))
SPATIAL_TARGETS = rng.integers(0, 4, (2, 3, 2))
SPATIAL_TARGETS[0, 1, 1] = -100


def typed(dtype, *values):
    "The floating arrays in `dtype`, the integer ones as they are."
    return [v.astype(dtype) if v.dtype.kind == "f" else v for v in values]


# --- mse_loss --------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_loss(reduction, dtype):
    twin(lambda lib, x, y: F(lib).mse_loss(x, y, reduction=reduction), *typed(dtype, *arrays((4, 3), (4, 3))))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_loss_with_weight_differentiates_input_target_and_weight(reduction, dtype):
    x, y = arrays((4, 3), (4, 3))
    twin(lambda lib, x, y, w: F(lib).mse_loss(x, y, reduction=reduction, weight=w),
         *typed(dtype, x, y, rng.random((4, 3))))


@pytest.mark.parametrize("shapes", [((4, 1), (3,)), ((3,), (2, 3)), ((2, 1, 3), (4, 1)), ((), (3,))], ids=str)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_loss_broadcasts_with_torchs_warning(shapes, reduction):
    for lib in (torch, nn):
        with pytest.warns(UserWarning, match="different to the input size"):
            F(lib).mse_loss(lib.ones(shapes[0]), lib.ones(shapes[1]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        twin(lambda lib, x, y: F(lib).mse_loss(x, y, reduction=reduction), *arrays(*shapes))
        if shapes[0]:
            twin(lambda lib, x, y, w: F(lib).mse_loss(x, y, reduction=reduction, weight=w),
                 *arrays(*shapes), rng.random(shapes[0]))


def test_mse_loss_promotes_dtypes_like_torch():
    twin(lambda lib, x, y: F(lib).mse_loss(x, y), *typed(np.float32, *arrays((3,))), *arrays((3,)))
    twin(lambda lib, x, y: F(lib).mse_loss(x, y), *arrays((3,)), np.array([1, 2, 3]))


def test_mse_loss_of_nothing_is_nan():
    twin(lambda lib, x, y: F(lib).mse_loss(x, y), np.zeros(0), np.zeros(0))


# --- nll_loss and cross_entropy with class indices --------------------------------------------------
INDEX_OPTIONS = {
    "plain": {},
    "weight": {"weight": True},
    "ignore_index=1": {"ignore_index": 1},
    "weight, ignore_index=3": {"weight": True, "ignore_index": 3},
    "label_smoothing=0.2": {"label_smoothing": 0.2},
    "weight, label_smoothing=0.3": {"weight": True, "label_smoothing": 0.3},
    "all three": {"weight": True, "ignore_index": 1, "label_smoothing": 0.1},
    "negative label_smoothing (ignored)": {"label_smoothing": -0.5},
    "label_smoothing=1": {"label_smoothing": 1.0},
}


def class_loss(name, options, reduction):
    "A loss over (input, target, weight); options['weight'] = True passes the weight tensor."
    def run(lib, x, y, w):
        extra = {k: v for k, v in options.items() if k != "weight"}
        if options.get("weight"):
            extra["weight"] = w
        return getattr(F(lib), name)(x, y, reduction=reduction, **extra)
    return run


def index_targets(options, targets):
    "The targets, with the ignored sample marked by the ignore_index the options use."
    return TARGETS_1 if options.get("ignore_index") == 1 else np.where(targets < 0, options.get("ignore_index", -100),
                                                                        targets)


LOSS_AND_OPTIONS = [(loss, name) for loss in ("cross_entropy", "nll_loss") for name, options in INDEX_OPTIONS.items()
                    if loss == "cross_entropy" or "label_smoothing" not in options]  # nll_loss has no smoothing


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("loss, options", LOSS_AND_OPTIONS, ids=" ".join)
def test_class_index_losses(loss, options, reduction, dtype):
    options = INDEX_OPTIONS[options]
    values = LOGITS if loss == "cross_entropy" else np.log(PROBABILITIES)
    twin(class_loss(loss, options, reduction), *typed(dtype, values, index_targets(options, TARGETS), CLASS_WEIGHTS),
         requires_grad=(True, False, False))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", ["plain", "weight", "all three"])
@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_class_index_losses_over_spatial_dims(loss, options, reduction):
    options = INDEX_OPTIONS[options]
    if loss == "nll_loss":
        options = {k: v for k, v in options.items() if k != "label_smoothing"}
    targets = np.where(SPATIAL_TARGETS < 0, options.get("ignore_index", -100), SPATIAL_TARGETS)
    twin(class_loss(loss, options, reduction), SPATIAL, targets, CLASS_WEIGHTS, requires_grad=(True, False, False))
    twin(class_loss(loss, options, reduction), SPATIAL[:, :, 0], targets[:, 0], CLASS_WEIGHTS,
         requires_grad=(True, False, False))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("target", [np.array(2), np.array(-100)], ids=["class 2", "ignored"])
@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_class_index_losses_of_one_unbatched_sample(loss, target, reduction):
    twin(class_loss(loss, {"weight": True}, reduction), LOGITS[0], target, CLASS_WEIGHTS,
         requires_grad=(True, False, False))


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_unbatched_sample_with_a_target_of_shape_1(loss):
    # torch's forward accepts target [1] for input (C,); its backward then fails, so compare values only
    for reduction in REDUCTIONS:
        expected = getattr(F(torch), loss)(torch.tensor(LOGITS[0]), torch.tensor([3]), reduction=reduction)
        actual = getattr(F(nn), loss)(nn.tensor(LOGITS[0]), nn.tensor([3]), reduction=reduction)
        assert actual.shape == tuple(expected.shape)
        np.testing.assert_allclose(actual.numpy(), expected.numpy(), rtol=1e-12)


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_uint8_targets_are_accepted_like_torch(loss):
    twin(class_loss(loss, {}, "mean"), LOGITS, TARGETS_1.astype(np.uint8), CLASS_WEIGHTS,
         requires_grad=(True, False, False))


@pytest.mark.parametrize("loss, options", [("cross_entropy", {}), ("cross_entropy", {"label_smoothing": 0.1}),
                                           ("cross_entropy", {"weight": True}), ("nll_loss", {}),
                                           ("nll_loss", {"weight": True})], ids=str)
def test_all_targets_ignored_gives_nan_and_no_gradient(loss, options):
    twin(class_loss(loss, options, "mean"), LOGITS[:3], np.full(3, -100), CLASS_WEIGHTS,
         requires_grad=(True, False, False))


@pytest.mark.parametrize("target", ["indices", "probabilities"])
def test_an_empty_batch(target):
    targets = np.zeros(0, dtype=np.int64) if target == "indices" else np.zeros((0, 4))
    for reduction in REDUCTIONS:
        twin(lambda lib, x, y: F(lib).cross_entropy(x, y, reduction=reduction), np.zeros((0, 4)), targets,
             requires_grad=(True, False))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_cross_entropy_is_finite_at_extreme_logits(dtype):
    logits = np.array([[1e4, 0, -1e4, 5], [-1e4, 1e4, 0, 0], [3e4, -3e4, 1, 2]])
    for options in ({}, {"weight": True, "label_smoothing": 0.1}):
        expected, actual = twin(class_loss("cross_entropy", options, "none"), *typed(dtype, logits, np.array([2, 1, 0]),
                                                                                     CLASS_WEIGHTS),
                                requires_grad=(True, False, False))
        assert np.isfinite(actual[0].detach().numpy()).all()


# --- cross_entropy with class probabilities ---------------------------------------------------------
PROBABILITY_OPTIONS = {"plain": {}, "weight": {"weight": True}, "label_smoothing=0.2": {"label_smoothing": 0.2},
                       "weight, label_smoothing=0.2": {"weight": True, "label_smoothing": 0.2}}


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("options", PROBABILITY_OPTIONS, ids=str)
def test_cross_entropy_with_probabilities_differentiates_input_and_target(options, reduction, dtype):
    twin(class_loss("cross_entropy", PROBABILITY_OPTIONS[options], reduction),
         *typed(dtype, LOGITS, PROBABILITIES, CLASS_WEIGHTS), requires_grad=(True, True, False))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_with_probabilities_differentiates_the_weight(reduction):
    twin(class_loss("cross_entropy", {"weight": True, "label_smoothing": 0.1}, reduction),
         LOGITS, PROBABILITIES, CLASS_WEIGHTS)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_with_probabilities_spatial_and_unbatched(reduction):
    spatial_probabilities = rng.dirichlet(np.ones(4), size=(2, 3, 2)).transpose(0, 3, 1, 2)
    twin(class_loss("cross_entropy", {"weight": True}, reduction), SPATIAL, spatial_probabilities, CLASS_WEIGHTS)
    twin(class_loss("cross_entropy", {"weight": True}, reduction), LOGITS[0], PROBABILITIES[0], CLASS_WEIGHTS)


def test_cross_entropy_with_probabilities_promotes_dtypes_like_torch():
    # (torch computes part of it in float32 and promotes after: agreement to float32's precision)
    twin(class_loss("cross_entropy", {}, "mean"), *typed(np.float32, LOGITS), PROBABILITIES, CLASS_WEIGHTS,
         requires_grad=(True, True, False), rtol=1e-6, atol=1e-7)
    twin(class_loss("cross_entropy", {}, "mean"), LOGITS, *typed(np.float32, PROBABILITIES), CLASS_WEIGHTS,
         requires_grad=(True, True, False), rtol=1e-6, atol=1e-7)


def test_cross_entropy_with_indices_is_probabilities_minus_onehot():
    x = nn.tensor(LOGITS, requires_grad=True)
    nn.functional.cross_entropy(x, nn.tensor(TARGETS_1)).backward()
    p = np.exp(LOGITS) / np.exp(LOGITS).sum(1, keepdims=True)
    np.testing.assert_allclose(x.grad.numpy(), (p - np.eye(4)[TARGETS_1]) / 5, rtol=1e-12, atol=1e-15)
    assert x.grad.grad_fn is None and nn.functional.cross_entropy(x, nn.tensor(TARGETS_1)).grad_fn.inputs == (x,)


# --- binary_cross_entropy_with_logits ---------------------------------------------------------------
BCE_WEIGHTS = {"plain": {}, "weight (C,)": {"weight": rng.random(3)},
               "pos_weight (C,)": {"pos_weight": 3 * rng.random(3)},
               "weight (N, 1), pos_weight (C,)": {"weight": rng.random((4, 1)), "pos_weight": 3 * rng.random(3)},
               "0-d pos_weight": {"pos_weight": np.array(2.5)}}


def bce(weights, reduction):
    def run(lib, x, y):
        tensors = {name: lib.tensor(value, dtype=x.dtype) for name, value in weights.items()}
        return F(lib).binary_cross_entropy_with_logits(x, y, reduction=reduction, **tensors)
    return run


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weights", BCE_WEIGHTS, ids=str)
def test_binary_cross_entropy_with_logits(weights, reduction, dtype):
    twin(bce(BCE_WEIGHTS[weights], reduction), *typed(dtype, 3 * LOGITS[:4, :3], rng.random((4, 3))))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("weights", ["plain", "pos_weight (C,)"])
def test_binary_cross_entropy_with_logits_is_finite_at_extreme_logits(weights, dtype):
    logits = np.array([[-1e4, -30.0, 30.0], [1e4, 1e4, 0.0], [-1e4, 20.0, -20.0], [0.5, -88.0, 88.0]])
    targets = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0], [1.0, 0.3, 0.7]])
    expected, actual = twin(bce(BCE_WEIGHTS[weights], "none"), *typed(dtype, logits, targets))
    assert np.isfinite(actual[0].detach().numpy()).all()


def test_binary_cross_entropy_with_logits_has_the_targets_dtype():
    # (torch computes part of it in float32: agreement to float32's precision)
    tolerance = {"rtol": 1e-6, "atol": 1e-7}
    twin(bce({}, "mean"), LOGITS[:4, :3], rng.random((4, 3)).astype(np.float32), **tolerance)
    twin(bce({}, "mean"), LOGITS[:4, :3].astype(np.float32), rng.random((4, 3)), **tolerance)
    twin(bce({"pos_weight": np.ones(3)}, "sum"), LOGITS[:4, :3].astype(np.float32), rng.random((4, 3)), **tolerance)


# --- random shapes ----------------------------------------------------------------------------------
class_shapes = st.tuples(st.integers(1, 4), st.integers(1, 5), st.lists(st.integers(1, 3), max_size=2))


@deterministic
@given(class_shapes, st.sampled_from(REDUCTIONS), st.sampled_from(["cross_entropy", "nll_loss"]),
       st.booleans(), st.sampled_from([0.0, 0.3]), st.integers(0, 2**32 - 1))
def test_class_losses_over_random_shapes(shape, reduction, loss, weighted, smoothing, seed):
    n, c, spatial = shape
    r = np.random.default_rng(seed)
    logits = r.standard_normal((n, c, *spatial))
    targets = np.where(r.random((n, *spatial)) < 0.2, -100, r.integers(0, c, (n, *spatial)))
    options = {"weight": weighted, **({"label_smoothing": smoothing} if loss == "cross_entropy" else {})}
    twin(class_loss(loss, options, reduction), logits, targets, r.random(c) + 0.1, requires_grad=(True, False, False),
         seed=seed)


@deterministic
@given(class_shapes, st.sampled_from(REDUCTIONS), st.booleans(), st.integers(0, 2**32 - 1))
def test_cross_entropy_with_probabilities_over_random_shapes(shape, reduction, weighted, seed):
    n, c, spatial = shape
    r = np.random.default_rng(seed)
    probabilities = np.moveaxis(r.dirichlet(np.ones(c), size=(n, *spatial)), -1, 1)
    twin(class_loss("cross_entropy", {"weight": weighted}, reduction), r.standard_normal((n, c, *spatial)),
         probabilities, r.random(c) + 0.1, requires_grad=(True, True, weighted), seed=seed)


@deterministic
@given(st.lists(st.integers(1, 4), max_size=4).map(tuple), st.sampled_from(REDUCTIONS), st.booleans(),
       st.integers(0, 2**32 - 1))
def test_mse_and_bce_over_random_shapes(shape, reduction, pos_weighted, seed):
    r = np.random.default_rng(seed)
    x, y = r.standard_normal(shape), r.random(shape)
    twin(lambda lib, x, y: F(lib).mse_loss(x, y, reduction=reduction), x, y, seed=seed)
    weights = {"pos_weight": r.random(shape[-1:]) * 3} if pos_weighted else {}
    twin(bce(weights, reduction), 4 * x, y, seed=seed)


# --- finite differences -----------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_of_every_loss(reduction):
    x, y, w = (nn.tensor(a, requires_grad=True) for a in (LOGITS, PROBABILITIES, rng.random((5, 4))))
    weight = nn.tensor(CLASS_WEIGHTS)
    targets, spatial_targets = nn.tensor(TARGETS), nn.tensor(SPATIAL_TARGETS)
    spatial = nn.tensor(SPATIAL, requires_grad=True)
    checks = [
        (lambda x, y: nn.functional.mse_loss(x, y, reduction=reduction), (x, y)),
        (lambda x, y, w: nn.functional.mse_loss(x, y, reduction=reduction, weight=w), (x, y, w)),
        (lambda x: nn.functional.nll_loss(x, targets, weight=weight, reduction=reduction), (x,)),
        (lambda x: nn.functional.nll_loss(x, spatial_targets, reduction=reduction), (spatial,)),
        (lambda x: nn.functional.cross_entropy(x, targets, weight=weight, reduction=reduction, label_smoothing=0.2), (x,)),
        (lambda x: nn.functional.cross_entropy(x, spatial_targets, reduction=reduction), (spatial,)),
        (lambda x: nn.functional.cross_entropy(x[0], targets[0], reduction=reduction), (x,)),
        (lambda x, y, w: nn.functional.cross_entropy(x, y, weight=w, reduction=reduction, label_smoothing=0.1),
         (x, y, nn.tensor(CLASS_WEIGHTS, requires_grad=True))),
        (lambda x, y: nn.binary_cross_entropy_with_logits(x, y, reduction=reduction), (x, y)),
        (lambda x, y: nn.binary_cross_entropy_with_logits(x, y, weight=weight, pos_weight=weight * 2,
                                                          reduction=reduction), (x, y)),
    ]
    for fn, inputs in checks:
        assert nn.gradcheck(fn, inputs)


# --- the modules ------------------------------------------------------------------------------------
MODULES = {
    "MSELoss": (lambda m, w: m.MSELoss(), PROBABILITIES),
    "NLLLoss": (lambda m, w: m.NLLLoss(w, ignore_index=3), TARGETS_1),
    "CrossEntropyLoss": (lambda m, w: m.CrossEntropyLoss(w, ignore_index=1, label_smoothing=0.2), TARGETS_1),
    "CrossEntropyLoss, probabilities": (lambda m, w: m.CrossEntropyLoss(weight=w), PROBABILITIES),
    "BCEWithLogitsLoss": (lambda m, w: m.BCEWithLogitsLoss(w, pos_weight=w + 1), PROBABILITIES),
}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", MODULES)
def test_loss_modules(name, reduction):
    make, targets = MODULES[name]

    def run(lib, x, y, w):
        criterion = make(modules(lib), w)
        criterion.reduction = reduction
        return criterion(x, y)
    twin(run, LOGITS, targets, CLASS_WEIGHTS, requires_grad=(True, name == "MSELoss", False))


@pytest.mark.parametrize("name", MODULES)
def test_loss_modules_keep_weights_as_buffers(name):
    make = MODULES[name][0]

    def description(lib):
        criterion = make(modules(lib), lib.tensor(CLASS_WEIGHTS.astype(np.float32)))
        before = [b.dtype for b in criterion.buffers()]
        criterion.double()
        return (repr(criterion), [n for n, _ in criterion.named_buffers()], list(criterion.state_dict()),
                len(list(criterion.parameters())), before, [b.dtype for b in criterion.buffers()],
                criterion.reduction, isinstance(criterion, modules(lib).Module))
    same(description)


def test_loss_module_constructors_match_torchs():
    def constructed(lib):
        m = modules(lib)
        cross_entropy = [m.CrossEntropyLoss(), m.CrossEntropyLoss(None, None, 7, None, "sum", 0.1)]
        nll = [m.NLLLoss(), m.NLLLoss(reduction="none")]
        bce = [m.BCEWithLogitsLoss(), m.BCEWithLogitsLoss(reduction="sum")]
        mse = [m.MSELoss(), m.MSELoss(reduction="none"), m.MSELoss(reduce=False), m.MSELoss(size_average=False)]
        return ([(c.reduction, c.ignore_index, c.label_smoothing, c.weight) for c in cross_entropy] +
                [(c.reduction, c.ignore_index, c.weight) for c in nll] +
                [(c.reduction, c.weight, c.pos_weight) for c in bce] + [c.reduction for c in mse])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        same(constructed)


def test_unknown_reduction_in_a_module_is_reported_when_the_loss_is_computed():
    for lib in (torch, nn):
        criterion = modules(lib).MSELoss(reduction="avg")
        with pytest.raises(ValueError, match="avg is not a valid value for reduction"):
            criterion(lib.ones(2), lib.ones(2))


# --- the deprecated size_average and reduce ---------------------------------------------------------
@pytest.mark.parametrize("flags", [{"size_average": False}, {"reduce": False}, {"size_average": True},
                                   {"size_average": False, "reduce": True}, {"reduce": True}], ids=str)
def test_deprecated_flags_choose_the_reduction_with_a_warning(flags):
    x, y = arrays((4, 3), (4, 3))
    for loss, args in [("mse_loss", (x, y)), ("binary_cross_entropy_with_logits", (x, np.abs(y) / 3)),
                       ("cross_entropy", (LOGITS, TARGETS)), ("nll_loss", (LOGITS, TARGETS))]:
        for lib in (torch, nn):
            with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
                getattr(F(lib), loss)(*[lib.tensor(a) for a in args], **flags)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            twin(lambda lib, a, b: getattr(F(lib), loss)(a, b, **flags), *args, requires_grad=(True, False))


# --- errors -----------------------------------------------------------------------------------------
BAD_CALLS = {
    "batch sizes differ": "F.cross_entropy(x, lib.tensor([0, 1, 2, 3]))",
    "nll: batch sizes differ": "F.nll_loss(x, lib.tensor([0, 1, 2, 3]))",
    "0-d target for a batch": "F.cross_entropy(x, lib.tensor(1))",
    "target out of range": "F.cross_entropy(x, lib.tensor([0, 1, 5]))",
    "nll: target out of range": "F.nll_loss(x, lib.tensor([0, 4, 1]))",
    "negative target": "F.cross_entropy(x, lib.tensor([0, -1, 2]))",
    "target out of range, smoothing": "F.cross_entropy(x, lib.tensor([0, 9, 2]), label_smoothing=0.1)",
    "uint8 target out of range": "F.nll_loss(x, lib.tensor(np.array([0, 200, 1], dtype=np.uint8)))",
    "float target of another shape": "F.cross_entropy(x, lib.tensor([0.0, 1.0, 2.0]))",
    "nll: float target": "F.nll_loss(x, lib.tensor([0.0, 1.0, 2.0]))",
    "int32 target": "F.cross_entropy(x, lib.tensor(np.array([0, 1, 2], dtype=np.int32)))",
    "bool target": "F.nll_loss(x, lib.tensor([True, False, True]))",
    "int target of the input's shape": "F.cross_entropy(x, lib.zeros(3, 4, dtype=lib.int64))",
    "2-D target for a 2-D input": "F.nll_loss(x, lib.zeros(3, 1, dtype=lib.int64))",
    "spatial target of another shape": "F.cross_entropy(x.reshape(3, 2, 2), lib.zeros(3, 3, dtype=lib.int64))",
    "spatial target with fewer dims": "F.nll_loss(x.reshape(3, 2, 2), lib.zeros(3, dtype=lib.int64))",
    "0-d input": "F.nll_loss(x[0, 0], lib.tensor(0))",
    "0-d input, cross_entropy": "F.cross_entropy(x[0, 0], lib.tensor(0))",
    "0-d input, 0-d float target": "F.cross_entropy(x[0, 0], lib.tensor(0.5))",
    "1-D input, two targets": "F.cross_entropy(x[0], lib.tensor([0, 1]))",
    "1-D input, 2-D target": "F.nll_loss(x[0], lib.zeros(1, 1, dtype=lib.int64))",
    "weight of another length": "F.cross_entropy(x, lib.tensor([0, 1, 2]), weight=lib.ones(3))",
    "2-D weight": "F.nll_loss(x, lib.tensor([0, 1, 2]), weight=lib.ones(1, 4))",
    "weight of another length, probabilities": "F.cross_entropy(x, x.detach().softmax(1), weight=lib.ones(3))",
    "float64 weight": "F.cross_entropy(x, lib.tensor([0, 1, 2]), weight=lib.ones(4, dtype=lib.float64))",
    "weight requires grad": "F.cross_entropy(x, lib.tensor([0, 1, 2]), weight=lib.ones(4, requires_grad=True))",
    "label_smoothing above 1": "F.cross_entropy(x, lib.tensor([0, 1, 2]), label_smoothing=1.5)",
    "label_smoothing above 1, probabilities": "F.cross_entropy(x, x.detach().softmax(1), label_smoothing=2.0)",
    "ignore_index with probabilities": "F.cross_entropy(x, x.detach().softmax(1), ignore_index=0)",
    "integer probabilities": "F.cross_entropy(x, lib.ones(3, 4, dtype=lib.int64))",
    "integer logits": "F.cross_entropy(lib.ones(3, 4, dtype=lib.int64), lib.tensor([0, 1, 2]))",
    "integer log-probabilities": "F.nll_loss(lib.ones(3, 4, dtype=lib.int64), lib.tensor([0, 1, 2]))",
    "unknown reduction": "F.cross_entropy(x, lib.tensor([0, 1, 2]), reduction='avg')",
    "unknown reduction and bad shape": "F.nll_loss(x, lib.tensor([0]), reduction='avg')",
    "reduction None": "F.nll_loss(x, lib.tensor([0, 1, 2]), reduction=None)",
    "target not a tensor": "F.cross_entropy(x, [0, 1, 2])",
    "mse: shapes don't broadcast": "F.mse_loss(x, lib.ones(4, 3))",
    "mse: unknown reduction": "F.mse_loss(x, x, reduction='elementwise')",
    "mse: weight's shape": "F.mse_loss(x, x, weight=lib.ones(4))",
    "mse: int64": "F.mse_loss(lib.ones(3, dtype=lib.int64), lib.ones(3, dtype=lib.int64))",
    "bce: target's shape": "F.binary_cross_entropy_with_logits(x, lib.ones(3, 1))",
    "bce: int64 target": "F.binary_cross_entropy_with_logits(x, lib.ones(3, 4, dtype=lib.int64))",
    "bce: int64 logits": "F.binary_cross_entropy_with_logits(lib.ones(3, 4, dtype=lib.int64), lib.ones(3, 4))",
    "bce: pos_weight's shape": "F.binary_cross_entropy_with_logits(x, x.detach(), pos_weight=lib.ones(3))",
    "bce: weight enlarges the shape": "F.binary_cross_entropy_with_logits(x, x.detach(), weight=lib.ones(2, 3, 4))",
    "bce: weight requires grad":
        "F.binary_cross_entropy_with_logits(x, x.detach(), weight=lib.ones(4, requires_grad=True))",
    "bce: pos_weight requires grad":
        "F.binary_cross_entropy_with_logits(x, x.detach(), pos_weight=lib.ones(4, requires_grad=True))",
    "bce: unknown reduction": "F.binary_cross_entropy_with_logits(x, x.detach(), reduction='mean ')",
}


@pytest.mark.parametrize("call", BAD_CALLS.values(), ids=BAD_CALLS.keys())
def test_errors_have_torchs_type(call):
    def run(lib, x):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # mse_loss warns about the shapes before refusing them
            return eval(call, {"np": np, "lib": lib, "F": F(lib)}, {"x": x})
    twin_raises(run, LOGITS[:3].astype(np.float32))


def test_error_messages_name_what_is_wrong():
    _, error = twin_raises(lambda lib, x: F(lib).cross_entropy(x, lib.tensor([0, 1, 2, 3])), LOGITS[:3])
    assert str(error) == "Expected input batch_size (3) to match target batch_size (4)."
    _, error = twin_raises(lambda lib, x: F(lib).nll_loss(x, lib.tensor([0, 5, 1])), LOGITS[:3])
    assert str(error) == "Target 5 is out of bounds."
    _, error = twin_raises(lambda lib, x: F(lib).mse_loss(x, x, reduction="avg"), LOGITS[:3])
    assert str(error) == "avg is not a valid value for reduction"


def test_weights_that_require_grad_are_allowed_without_grad_mode():
    for lib in (torch, nn):
        with lib.no_grad():
            F(lib).cross_entropy(lib.ones(2, 3), lib.tensor([0, 1]), weight=lib.ones(3, requires_grad=True))
