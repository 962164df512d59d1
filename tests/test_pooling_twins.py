"""One-dimensional convolution and pooling, average and adaptive pooling, BatchNorm2d (chapter "Convolutions")
against PyTorch: conv1d, max_pool1d, avg_pool1d/2d, adaptive_avg_pool1d/2d and their layers.

Values, dtypes and gradients on grids of settings (odd sizes, ceil_mode, padding, count_include_pad,
divisor_override, adaptive sizes that do not divide the input, None in output_size), float64
gradcheck and gradgradcheck, Hessian-vector products against torch, the layers' reprs and state,
BatchNorm2d over several training steps then in eval mode, and torch's exception types.
"""
import itertools

import numpy as np
import pytest
import torch

import nn
from test_higher_order import assert_all_same, leaves, second_derivatives
from test_modules_twins import compare_states, input_array, step, torch_pair
from twin import F, arrays, layers, same, twin, twin_raises

DTYPES = [np.float32, np.float64]
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")


def call(name, *args, **kwargs):
    "F.name(tensors..., *args, **kwargs) in either library."
    return lambda lib, *tensors: getattr(F(lib), name)(*tensors, *args, **kwargs)


# --- conv1d ------------------------------------------------------------------------------------
CONV1D_GRID = [dict(stride=s, padding=p, dilation=d, groups=g)
               for s, p, d, g in itertools.product([1, 2, (3,)], [0, 2, (1,), "same", "valid"],
                                                   [1, 2], [1, 2])
               if not (p == "same" and s != 1)]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("config", CONV1D_GRID, ids=str)
def test_conv1d_matches_torch(config, dtype):
    x, w, b = arrays((2, 4, 9), (6, 4 // config["groups"], 3), (6,), dtype=dtype)
    twin(call("conv1d", **config), x, w, b)
    twin(call("conv1d", **config), x[0], w)   # unbatched, no bias


def test_conv1d_even_kernel_same_padding_and_empty_batch():
    twin(call("conv1d", padding="same", dilation=3), *arrays((2, 3, 8), (2, 3, 4), (2,)))
    twin(call("conv1d", padding=1), *arrays((0, 3, 5), (2, 3, 3), (2,)))


@pytest.mark.parametrize("requires_grad", [(True, False, False), (False, True, True)])
def test_conv1d_gradient_of_some_inputs(requires_grad):
    twin(call("conv1d", padding=1), *arrays((2, 3, 6), (4, 3, 3), (4,)), requires_grad=requires_grad)


def test_conv1d_grad_fn_names_are_torchs():
    same(lambda lib: [F(lib).conv1d(x, lib.ones(2, 3, 3)).grad_fn.name()
                      for x in (lib.ones(1, 3, 5, requires_grad=True), lib.ones(3, 5, requires_grad=True))])


# --- max_pool1d --------------------------------------------------------------------------------
MAX_POOL1D_GRID = [dict(kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=c)
                   for k, s, p, d, c in itertools.product([2, 3, (3,)], [None, 1, 2], [0, 1], [1, 2],
                                                          [False, True])]


@pytest.mark.parametrize("config", MAX_POOL1D_GRID, ids=str)
def test_max_pool1d_matches_torch(config):
    for dtype in DTYPES:
        x, = arrays((2, 3, 10), dtype=dtype)
        twin(call("max_pool1d", return_indices=True, **config), x)
        twin(call("max_pool1d", **config), x[0])
    ties = (np.arange(30).reshape(3, 10) % 4).astype(np.float64)
    twin(call("max_pool1d", return_indices=True, **config), ties)


def test_max_pool1d_integers_and_grad_fn():
    x = np.arange(-6, 9).reshape(1, 3, 5)
    twin(call("max_pool1d", 2, 1, 1, return_indices=True), x)
    same(lambda lib: F(lib).max_pool1d(lib.ones(1, 3, 5, requires_grad=True), 2).grad_fn.name())


# --- avg_pool2d and avg_pool1d -----------------------------------------------------------------
AVG_GRID = [dict(kernel_size=k, stride=s, padding=p, ceil_mode=c, count_include_pad=i)
            for k, s, p, c, i in itertools.product([2, 3, (3, 2)], [None, 1, 2, (2, 1)], [0, 1],
                                                   [False, True], [True, False])]


@pytest.mark.parametrize("config", AVG_GRID, ids=str)
def test_avg_pool2d_matches_torch(config):
    for dtype in DTYPES:
        x, = arrays((2, 3, 7, 6), dtype=dtype)
        twin(call("avg_pool2d", **config), x)
        twin(call("avg_pool2d", **config), x[0])


@pytest.mark.parametrize("divisor", [1, 3, 5])
@pytest.mark.parametrize("config", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                                    dict(kernel_size=(3, 2), stride=1, padding=(1, 0))], ids=str)
def test_avg_pool2d_divisor_override(config, divisor):
    for dtype in DTYPES:
        twin(call("avg_pool2d", divisor_override=divisor, **config), *arrays((2, 3, 7, 5), dtype=dtype))


def test_avg_pool2d_ceil_mode_windows_and_their_divisors():
    # windows that hang over the end count only up to `padding` zeros (or only the input)
    for config in [dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                   dict(kernel_size=2, stride=2, padding=1, ceil_mode=True),
                   dict(kernel_size=3, stride=3, ceil_mode=True)]:
        for include in (True, False):
            twin(call("avg_pool2d", count_include_pad=include, **config), np.ones((1, 1, 5, 4)))
            twin(call("avg_pool2d", count_include_pad=include, **config), *arrays((1, 2, 6, 7)))


def test_avg_pool2d_of_integers_rounds_toward_zero():
    x = np.arange(-20, 16).reshape(1, 4, 9) * 7 % 23 - 11
    for config in [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1),
                   dict(kernel_size=2, divisor_override=3), dict(kernel_size=3, padding=1, count_include_pad=False)]:
        twin(call("avg_pool2d", **config), x)
        twin(call("avg_pool1d", **{k: v for k, v in config.items() if k != "divisor_override"}), x)


def test_avg_pool2d_of_an_empty_batch_and_grad_fn():
    twin(call("avg_pool2d", 2), *arrays((0, 3, 5, 4)))
    same(lambda lib: F(lib).avg_pool2d(lib.ones(1, 3, 4, 4, requires_grad=True), 2).grad_fn.name())
    same(lambda lib: F(lib).avg_pool1d(lib.ones(1, 3, 4, requires_grad=True), 2).grad_fn.name())


AVG1D_GRID = [dict(kernel_size=k, stride=s, padding=p, ceil_mode=c, count_include_pad=i)
              for k, s, p, c, i in itertools.product([2, 3, (3,)], [None, 1, 2], [0, 1], [False, True],
                                                     [True, False])]


@pytest.mark.parametrize("config", AVG1D_GRID, ids=str)
def test_avg_pool1d_matches_torch(config):
    for dtype in DTYPES:
        x, = arrays((2, 3, 9), dtype=dtype)
        twin(call("avg_pool1d", **config), x)
        twin(call("avg_pool1d", **config), x[0])


# --- adaptive average pooling ------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("output_size", [1, 2, 3, 4, (3, 2), (5, 7), (None, 3), (2, None), [4, 1], (9, 11), 0,
                                         (0, 3)], ids=str)
def test_adaptive_avg_pool2d_matches_torch(output_size, dtype):
    x, = arrays((2, 3, 7, 5), dtype=dtype)
    # torch's backward refuses an empty output; the forward is compared then
    backward = 0 not in np.atleast_1d(output_size)
    twin(call("adaptive_avg_pool2d", output_size), x, requires_grad=backward)
    twin(call("adaptive_avg_pool2d", output_size), x[0], requires_grad=backward)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("output_size", [1, 2, 3, 4, 7, 12, (5,), 0], ids=str)
def test_adaptive_avg_pool1d_matches_torch(output_size, dtype):
    x, = arrays((2, 3, 7), dtype=dtype)
    backward = output_size != 0   # torch's backward refuses an empty output
    twin(call("adaptive_avg_pool1d", output_size), x, requires_grad=backward)
    twin(call("adaptive_avg_pool1d", output_size), x[0], requires_grad=backward)


def test_adaptive_pooling_of_an_empty_batch_and_grad_fn():
    twin(call("adaptive_avg_pool2d", 2), *arrays((0, 3, 5, 4)))
    same(lambda lib: [F(lib).adaptive_avg_pool2d(lib.ones(1, 3, 4, 4, requires_grad=True), 3).grad_fn.name(),
                      F(lib).adaptive_avg_pool1d(lib.ones(3, 4, requires_grad=True), 3).grad_fn.name()])


def test_adaptive_pool_equals_avg_pool_when_the_size_divides():
    x = nn.tensor(arrays((2, 3, 8, 6))[0])
    np.testing.assert_allclose(nn.functional.adaptive_avg_pool2d(x, (4, 3)).numpy(),
                               nn.functional.avg_pool2d(x, 2).numpy(), rtol=1e-12)


# --- finite differences and second order -------------------------------------------------------
DIFFERENTIABLE = [
    (call("conv1d", stride=2, padding=1, dilation=2, groups=2), [(2, 4, 9), (6, 2, 3), (6,)]),
    (call("conv1d", padding="same"), [(3, 8), (2, 3, 4)]),
    (lambda lib, x, w: F(lib).conv1d(x, w).sin(), [(1, 2, 6), (3, 2, 2)]),
    (lambda lib, x: F(lib).max_pool1d(x, 3, 2, 1, ceil_mode=True).sin(), [(2, 3, 8)]),
    (lambda lib, x: F(lib).avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False).sin(),
     [(2, 3, 7, 6)]),
    (lambda lib, x: F(lib).avg_pool2d(x, (3, 2), 1, (1, 0), divisor_override=4).sin(), [(2, 5, 4)]),
    (lambda lib, x: F(lib).avg_pool1d(x, 2, 1, 1, True, False).sin(), [(2, 3, 7)]),
    (lambda lib, x: F(lib).adaptive_avg_pool2d(x, (3, None)).sin(), [(2, 3, 7, 5)]),
    (lambda lib, x: F(lib).adaptive_avg_pool2d(x, 4).sin(), [(3, 5, 6)]),
    (lambda lib, x: F(lib).adaptive_avg_pool1d(x, 3).sin(), [(2, 3, 7)]),
    (lambda lib, x, w, b: F(lib).batch_norm(x, None, None, w, b, training=True),
     [(3, 2, 4, 3), (2,), (2,)]),
]
IDS = ["conv1d", "conv1d same", "conv1d sin", "max_pool1d", "avg_pool2d", "avg_pool2d divisor",
       "avg_pool1d", "adaptive_avg_pool2d", "adaptive_avg_pool2d unbatched", "adaptive_avg_pool1d",
       "batch_norm 4d"]


@pytest.mark.parametrize("fn, shapes", DIFFERENTIABLE, ids=IDS)
def test_gradcheck_and_gradgradcheck(fn, shapes):
    inputs = leaves(nn, arrays(*shapes, seed=3))
    assert nn.gradcheck(lambda *xs: fn(nn, *xs), inputs)
    assert nn.autograd.gradgradcheck(lambda *xs: fn(nn, *xs), inputs)


@pytest.mark.parametrize("fn, shapes", DIFFERENTIABLE, ids=IDS)
def test_hessian_vector_products_match_torch(fn, shapes):
    values = arrays(*shapes, seed=4)
    (torch_grads, torch_hvp), (nn_grads, nn_hvp) = (second_derivatives(lib, fn, values) for lib in (torch, nn))
    assert_all_same(torch_grads, nn_grads, "first gradient")
    assert_all_same(torch_hvp, nn_hvp, "Hessian-vector product")


def test_a_wrong_averaging_matrix_fails_gradcheck():
    "The checks can fail: a backward that forgets the divisor is caught."
    from nn.conv import _average_by_matrices, _averaging_matrix
    from nn.engine import record

    def wrong(x):
        rows, cols = _averaging_matrix(7, 3, np.float64), _averaging_matrix(5, 2, np.float64)
        right = _average_by_matrices(x, rows, cols, "AdaptiveAvgPool2DBackward0")
        return record(right._data, (x,), (lambda g, *_: (rows > 0).T @ g @ cols,), "Wrong")
    with pytest.raises(nn.GradcheckError):
        nn.gradcheck(wrong, leaves(nn, arrays((2, 7, 5))))


# --- the layers --------------------------------------------------------------------------------
LAYERS = [
    ("Conv1d", (3, 4, 3), {}),
    ("Conv1d", (4, 6, 3), dict(stride=2, padding=1, dilation=2, groups=2, bias=False)),
    ("Conv1d", (2, 3, 4), dict(padding="same", padding_mode="reflect")),
    ("Conv1d", (2, 2, 3), dict(padding=2, padding_mode="circular")),
    ("Conv1d", (2, 2, 3), dict(padding=(3,), padding_mode="replicate", dilation=2)),
    ("MaxPool1d", (2,), {}),
    ("MaxPool1d", (3, 2, 1, 2), dict(ceil_mode=True, return_indices=True)),
    ("AvgPool1d", (3, 2, 1, True, False), {}),
    ("AvgPool1d", (2,), {}),
    ("AvgPool2d", (2,), {}),
    ("AvgPool2d", ((3, 2), 1, (1, 0)), dict(ceil_mode=True, count_include_pad=False)),
    ("AvgPool2d", (3, 2, 1), dict(divisor_override=2)),
    ("AdaptiveAvgPool2d", ((3, None),), {}),
    ("AdaptiveAvgPool2d", (4,), {}),
    ("AdaptiveAvgPool1d", (3,), {}),
]


@pytest.mark.parametrize("name, args, kwargs", LAYERS, ids=str)
def test_layer_repr_and_parameters(name, args, kwargs):
    same(lambda lib: (repr(getattr(layers(lib), name)(*args, **kwargs)),
                      [(n, tuple(p.shape)) for n, p in getattr(layers(lib), name)(*args, **kwargs).named_parameters()]))


@pytest.mark.parametrize("name, args, kwargs", LAYERS, ids=str)
def test_layer_matches_torch_with_the_same_weights(name, args, kwargs):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    ours = getattr(nn, name)(*args, **kwargs).double()
    ours.load_state_dict({n: p.detach().numpy() for n, p in theirs.state_dict().items()})
    channels = args[0] if name == "Conv1d" else 3
    shape = (2, channels, 9) if name.endswith("1d") else (2, channels, 7, 8)
    x, = arrays(shape)
    twin(lambda lib, x: (ours if lib is nn else theirs)(x), x)
    twin(lambda lib, x: (ours if lib is nn else theirs)(x), x[0])


def test_conv1d_layer_initialization_bounds():
    layer = nn.Conv1d(3, 500, 4)
    bound = 1 / np.sqrt(3 * 4)
    for p in (layer.weight, layer.bias):
        assert np.abs(p.detach().numpy()).max() <= bound
        assert abs(p.detach().numpy().std() - bound / np.sqrt(3)) < 0.05 * bound


def test_layers_are_not_each_others_subclasses():
    assert not isinstance(nn.Conv1d(1, 1, 1), nn.Conv2d)
    assert not isinstance(nn.MaxPool1d(2), nn.MaxPool2d)
    assert not isinstance(nn.BatchNorm2d(2), nn.BatchNorm1d)
    assert not isinstance(nn.AdaptiveAvgPool1d(2), nn.AdaptiveAvgPool2d)


# --- BatchNorm2d -------------------------------------------------------------------------------
BATCH_NORMS = ["BatchNorm2d(3)", "BatchNorm2d(3, momentum=0.3, eps=1e-3)", "BatchNorm2d(3, momentum=None)",
               "BatchNorm2d(3, affine=False)", "BatchNorm2d(3, track_running_stats=False)",
               "BatchNorm2d(3, bias=False)", "BatchNorm2d(3, affine=False, momentum=None)"]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("shape", [(4, 3, 5, 3), (2, 3, 1, 2), (1, 3, 3, 4)], ids=str)
@pytest.mark.parametrize("expression", BATCH_NORMS)
def test_batch_norm2d_training_steps_then_eval(expression, shape, dtype):
    pair = torch_pair(lambda L: eval(f"L.{expression}", {"L": L}), dtype, randomize=True)
    tolerances = {"rtol": 1e-4, "atol": 1e-5} if dtype == np.float32 else {}
    for i in range(4):   # batches of different means and spreads
        step(pair, input_array(shape, dtype, seed=10 + i, scale=i + 1, shift=2 * i - 1), seed=i, **tolerances)
        compare_states(*pair, **tolerances)
    running = {name: v.numpy().copy() for name, v in pair[1].state_dict().items()}
    for layer in pair:
        layer.eval()
    for i in range(2):   # running statistics (if tracked), which stay as they are
        step(pair, input_array(shape, dtype, seed=20 + i, scale=2.0, shift=0.5), seed=5 + i, **tolerances)
        compare_states(*pair, **tolerances)
    for name, value in pair[1].state_dict().items():
        np.testing.assert_array_equal(value.numpy(), running[name], err_msg=f"{name} changed in eval mode")
    pair[0].train(), pair[1].train()
    step(pair, input_array(shape, dtype, seed=30), **tolerances)
    compare_states(*pair, **tolerances)


def test_batch_norm2d_state_dict_and_repr():
    def described(lib):
        layer = layers(lib).BatchNorm2d(4)
        for _ in range(3):
            layer(lib.tensor(input_array((2, 4, 3, 3), np.float32)))
        return (repr(layer), [(k, tuple(v.shape), str(v.dtype).split(".")[-1])
                              for k, v in layer.state_dict().items()],
                layer.num_batches_tracked.item(),
                [repr(layers(lib).BatchNorm2d(4, **kw)) for kw in
                 (dict(affine=False), dict(track_running_stats=False), dict(momentum=None, eps=0.1))],
                list(layers(lib).BatchNorm2d(2, track_running_stats=False).state_dict()))
    same(described)


def test_batch_norm2d_in_a_convolutional_network():
    def network(L):
        return L.Sequential(L.Conv2d(2, 4, 3, padding=1), L.BatchNorm2d(4), L.ReLU(), L.AvgPool2d(2),
                            L.Conv2d(4, 6, 3), L.BatchNorm2d(6, momentum=None), L.ReLU(),
                            L.AdaptiveAvgPool2d(1), L.Flatten(), L.Linear(6, 3))
    pair = torch_pair(network, np.float64)
    for i in range(3):
        step(pair, input_array((5, 2, 9, 8), np.float64, seed=i), seed=i)
        compare_states(*pair)
    pair[0].eval(), pair[1].eval()
    step(pair, input_array((2, 2, 9, 8), np.float64, seed=7))


def test_functional_batch_norm_on_images_updates_running_stats():
    mean, var = arrays((3,))[0], np.abs(arrays((3,), seed=1)[0]) + 0.5
    x, = arrays((4, 3, 5, 2), seed=2)
    results = {}
    for lib in (torch, nn):
        running_mean, running_var = lib.tensor(mean), lib.tensor(var)
        train = F(lib).batch_norm(lib.tensor(x), running_mean, running_var, training=True, momentum=0.2)
        evaluated = F(lib).batch_norm(lib.tensor(x), running_mean, running_var)
        results[lib] = [t.numpy() for t in (train, evaluated, running_mean, running_var)]
    for theirs, ours in zip(results[torch], results[nn]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


# --- errors ------------------------------------------------------------------------------------
ERRORS = [
    "F.conv1d(x[0, 0], lib.ones(2, 3, 3))",
    "F.conv1d(x[None], lib.ones(2, 3, 3))",
    "F.conv1d(x, lib.ones(2, 3, 3, 3))",
    "F.conv1d(x, lib.ones(2, 4, 3))",
    "F.conv1d(x, lib.ones(2, 3, 7))",
    "F.conv1d(x, lib.ones(2, 3, 3), stride=(1, 1))",
    "F.conv1d(x, lib.ones(2, 3, 3), stride=0)",
    "F.conv1d(x, lib.ones(2, 3, 3), padding=-1)",
    "F.conv1d(x, lib.ones(2, 3, 3), padding=(1, 1))",
    "F.conv1d(x, lib.ones(2, 3, 3), padding='same', stride=2)",
    "F.conv1d(x, lib.ones(2, 3, 3), padding='full')",
    "F.conv1d(x, lib.ones(2, 3, 3), dilation=0)",
    "F.conv1d(x, lib.ones(2, 3, 0))",
    "F.conv1d(x, lib.ones(2, 3, 3, dtype=lib.float64))",
    "F.conv1d(x, lib.ones(2, 1, 3), groups=2)",
    "F.max_pool1d(x[0, 0], 2)",
    "F.max_pool1d(x[None], 2)",
    "F.max_pool1d(x[:, :0], 2)",
    "F.max_pool1d(x > 0, 2)",
    "F.max_pool1d(x, (2, 2))",
    "F.max_pool1d(x, 2.0)",
    "F.max_pool1d(x, 0)",
    "F.max_pool1d(x, 2, stride=0)",
    "F.max_pool1d(x, 6)",
    "F.max_pool1d(x, 3, padding=2)",
    "F.avg_pool1d(x[0, 0], 2)",
    "F.avg_pool1d(x[None], 2)",
    "F.avg_pool1d(x, (2, 2))",
    "F.avg_pool1d(x, 6)",
    "F.avg_pool1d(x, 3, padding=2)",
    "F.avg_pool1d(x, 2, divisor_override=2)",
    "F.avg_pool2d(x[0], 2)",
    "F.avg_pool2d(x[None, None], 2)",
    "F.avg_pool2d(x[None], 6)",
    "F.avg_pool2d(x[None], 3, padding=2)",
    "F.avg_pool2d(x[None], 2, divisor_override=0)",
    "F.avg_pool2d(x[None], 2, stride=0)",
    "F.avg_pool2d(x[None], 2, padding=-1)",
    "F.avg_pool2d(x[None], (2, 2, 2))",
    "F.avg_pool2d(x[None], 2.0)",
    "F.avg_pool2d(x[None] > 0, 2)",
    "F.avg_pool2d(x[None].int(), 2)",
    "F.avg_pool2d(lib.ones(1, 1, 0, 4), 2)",
    "F.adaptive_avg_pool2d(x[0], 2)",
    "F.adaptive_avg_pool2d(x[None, None], 2)",
    "F.adaptive_avg_pool2d(x[None], (2, 2, 2))",
    "F.adaptive_avg_pool2d(x[None], [3])",
    "F.adaptive_avg_pool2d(x[None], -1)",
    "F.adaptive_avg_pool2d(x[None], None)",
    "F.adaptive_avg_pool2d(x[None], 2.5)",
    "F.adaptive_avg_pool2d(x[None].long(), 2)",
    "F.adaptive_avg_pool2d(x[None][:, :, :0], 2)",
    "F.adaptive_avg_pool1d(x[0, 0], 2)",
    "F.adaptive_avg_pool1d(x, (2, 2))",
    "F.adaptive_avg_pool1d(x, None)",
    "L.BatchNorm2d(3)(x)",
    "L.BatchNorm2d(3)(x[None, None])",
    "L.BatchNorm2d(4)(x[None])",
    "L.BatchNorm2d(1)(x[:1, :1, None, :1])",
    "L.Conv1d(3, 4, 3, groups=2)",
    "L.Conv1d(4, 4, 3, stride=2, padding='same')",
    "L.Conv1d(4, 4, 3, padding_mode='mirror')",
    "L.Conv1d(3, 2, 3, padding=5, padding_mode='reflect')(x)",
    "L.Conv1d(3, 2, 3, padding=(1, 1))(x)",
    "L.Conv1d(2, 2, 3)(x)",
]


@pytest.mark.parametrize("expression", ERRORS)
def test_refuses_like_torch(expression):
    def run(lib, x):
        return eval(expression, {"lib": lib, "F": F(lib), "L": layers(lib)}, {"x": x})
    twin_raises(run, np.ones((2, 3, 5), dtype=np.float32))
