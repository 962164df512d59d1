"""Convolutions and max pooling (chapter "Convolutions") against PyTorch: conv2d, max_pool2d, Conv2d, MaxPool2d.

Values, dtypes and gradients on a grid of settings and on random shapes (hypothesis), indices of
max pooling (ties included), finite-difference checks, the layers' repr and initialization, errors.
"""
import itertools
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import nn
from twin import F, arrays, layers, names_shape, same, twin, twin_raises

DTYPES = [np.float32, np.float64]
pytestmark = pytest.mark.filterwarnings("ignore:Using padding='same'")  # torch's note about its own speed
deterministic = settings(max_examples=40, deadline=None, derandomize=True, database=None)




def conv(**config):
    return lambda lib, *tensors: F(lib).conv2d(*tensors, **config)


def pool(**config):
    return lambda lib, x: F(lib).max_pool2d(x, **config)


# --- conv2d on a grid ------------------------------------------------------------------------------
CONV_GRID = [dict(stride=s, padding=p, dilation=d, groups=g)
             for s, p, d, g in itertools.product([1, 2, (2, 1)], [0, (1, 2), "same"], [1, (2, 1)], [1, 2])
             if not (p == "same" and s != 1)]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("config", CONV_GRID, ids=str)
def test_conv2d_matches_torch(config, dtype):
    groups = config["groups"]
    x, w, b = arrays((2, 4, 7, 6), (6, 4 // groups, 3, 2), (6,), dtype=dtype)
    twin(conv(**config), x, w, b)


@pytest.mark.parametrize("config", [dict(), dict(stride=2, padding=1, groups=2), dict(padding="same", dilation=2)], ids=str)
def test_conv2d_of_unbatched_input(config):
    x, w, b = arrays((4, 7, 6), (6, 4 // config.get("groups", 1), 3, 2), (6,))
    twin(conv(**config), x, w, b)


@pytest.mark.parametrize("config", [dict(), dict(stride=2, padding=1), dict(padding="same", groups=2),
                                    dict(padding="valid")], ids=str)
def test_conv2d_without_bias(config):
    twin(conv(**config), *arrays((2, 4, 6, 6), (4, 4 // config.get("groups", 1), 3, 3)))


@pytest.mark.parametrize("requires_grad", [(True, False, False), (False, True, True), (False, False, True)],
                         ids=["input only", "weight and bias", "bias only"])
def test_conv2d_gradient_of_some_inputs(requires_grad):
    twin(conv(padding=1), *arrays((2, 3, 5, 5), (4, 3, 3, 3), (4,)), requires_grad=requires_grad)


def test_conv2d_depthwise_and_one_by_one():
    twin(conv(groups=4, padding=1), *arrays((2, 4, 6, 5), (8, 1, 3, 3), (8,)))
    twin(conv(), *arrays((2, 4, 6, 5), (3, 4, 1, 1), (3,)))


def test_conv2d_kernel_as_large_as_the_input():
    twin(conv(), *arrays((2, 3, 4, 5), (2, 3, 4, 5), (2,)))
    twin(conv(padding=1, dilation=2), *arrays((1, 2, 3, 3), (2, 2, 3, 3)))


def test_conv2d_of_an_empty_batch():
    twin(conv(padding=1), *arrays((0, 3, 5, 5), (2, 3, 3, 3), (2,)))


def test_conv2d_of_integers():
    x = np.arange(2 * 3 * 5 * 5).reshape(2, 3, 5, 5) % 7 - 3
    w = np.arange(4 * 3 * 3 * 3).reshape(4, 3, 3, 3) % 5 - 2
    twin(conv(stride=2, padding=1), x, w, np.arange(4), requires_grad=False)


def test_conv2d_grad_fn_names():
    def names(lib):
        w = lib.ones(2, 3, 3, 3, requires_grad=True)
        return [F(lib).conv2d(lib.ones(*shape), w).grad_fn.name() for shape in [(1, 3, 5, 5), (3, 5, 5)]]
    same(names)


def test_conv2d_same_padding_keeps_the_size_with_even_kernels():
    twin(conv(padding="same", dilation=(1, 3)), *arrays((1, 2, 7, 8), (2, 2, 4, 2), (2,)))
    assert nn.conv2d(nn.ones(1, 2, 7, 8), nn.ones(2, 2, 4, 2), padding="same").shape == (1, 2, 7, 8)


# --- conv2d on random shapes -----------------------------------------------------------------------
@st.composite
def conv_cases(draw):
    "Shapes and settings torch's conv2d accepts: (x shape, w shape, with bias, config)."
    groups = draw(st.integers(1, 2))
    c_in, c_out = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    stride = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    dilation = draw(st.tuples(st.integers(1, 2), st.integers(1, 2)))
    padding = draw(st.tuples(st.integers(0, 2), st.integers(0, 2)))
    size = [max(1, d * (k - 1) + 1 - 2 * p + draw(st.integers(0, 4))) for k, d, p in zip(kernel, dilation, padding)]
    batch = draw(st.sampled_from([(), (1,), (2,)]))
    config = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return batch + (c_in, *size), (c_out, c_in // groups, *kernel), draw(st.booleans()), config


@deterministic
@given(conv_cases(), st.integers(0, 2**32 - 1))
def test_conv2d_on_random_shapes_matches_torch(case, seed):
    x_shape, w_shape, with_bias, config = case
    values = arrays(x_shape, w_shape, w_shape[:1], seed=seed)
    twin(conv(**config), *values[:3 if with_bias else 2], seed=seed)


# --- conv2d: finite differences --------------------------------------------------------------------
@pytest.mark.parametrize("config", [dict(), dict(stride=2, padding=1), dict(stride=(1, 3), padding=(2, 0), dilation=(1, 2)),
                                    dict(padding="same", dilation=2, groups=2), dict(stride=3, groups=4)], ids=str)
def test_conv2d_gradcheck(config):
    groups = config.get("groups", 1)
    x, w, b = (nn.tensor(a, requires_grad=True) for a in arrays((2, 4, 7, 8), (4, 4 // groups, 3, 2), (4,)))
    assert nn.gradcheck(lambda x, w, b: nn.conv2d(x, w, b, **config), (x, w, b))
    assert nn.gradcheck(lambda x, w: nn.conv2d(x[1], w, **config), (x, w))


def test_conv2d_input_gradient_is_the_transposed_convolution():
    x, w, g = arrays((2, 3, 9, 8), (5, 3, 3, 3), (2, 5, 5, 4))
    xt = nn.tensor(x, requires_grad=True)
    nn.conv2d(xt, nn.tensor(w), stride=2, padding=1).backward(nn.tensor(g))
    expected = torch.nn.functional.conv_transpose2d(torch.tensor(g), torch.tensor(w), stride=2, padding=1,
                                                    output_padding=(0, 1))
    np.testing.assert_allclose(xt.grad.numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)


# --- conv2d: errors --------------------------------------------------------------------------------
CONV_ERRORS = {
    "input of rank 2": lambda lib, x: F(lib).conv2d(x[0, 0], lib.ones(2, 3, 3, 3)),
    "input of rank 5": lambda lib, x: F(lib).conv2d(x[None], lib.ones(2, 3, 3, 3)),
    "weight of rank 3": lambda lib, x: F(lib).conv2d(x, lib.ones(2, 3, 3)),
    "channels": lambda lib, x: F(lib).conv2d(x, lib.ones(2, 4, 3, 3)),
    "channels, unbatched": lambda lib, x: F(lib).conv2d(x[0], lib.ones(2, 4, 3, 3)),
    "groups vs channels": lambda lib, x: F(lib).conv2d(x, lib.ones(4, 1, 3, 3), groups=2),
    "groups vs kernels": lambda lib, x: F(lib).conv2d(x[:, :2], lib.ones(3, 1, 3, 3), groups=2),
    "no kernels": lambda lib, x: F(lib).conv2d(x, lib.ones(0, 3, 3, 3)),
    "groups=0": lambda lib, x: F(lib).conv2d(x, lib.ones(2, 3, 3, 3), groups=0),
    "groups=-1": lambda lib, x: F(lib).conv2d(x, lib.ones(2, 3, 3, 3), groups=-1),
    "groups=1.0": lambda lib, x: F(lib).conv2d(x, lib.ones(2, 3, 3, 3), groups=1.0),
    "kernel too large": lambda lib, x: F(lib).conv2d(x, lib.ones(2, 3, 6, 3)),
    "dilated kernel too large": lambda lib, x: F(lib).conv2d(x, lib.ones(2, 3, 3, 3), dilation=(1, 3)),
    "kernel of height 0": lambda lib, x: F(lib).conv2d(x, lib.ones(2, 3, 0, 3)),
    "bias size": lambda lib, x: F(lib).conv2d(x, lib.ones(2, 3, 3, 3), lib.ones(3)),
    "bias rank": lambda lib, x: F(lib).conv2d(x, lib.ones(2, 3, 3, 3), lib.ones(1, 2)),
    "weight dtype": lambda lib, x: F(lib).conv2d(x, lib.ones(2, 3, 3, 3, dtype=lib.float64)),
    "bias dtype": lambda lib, x: F(lib).conv2d(x, lib.ones(2, 3, 3, 3), lib.ones(2, dtype=lib.float64)),
    "stride=0": lambda lib, x: F(lib).conv2d(x, lib.ones(2, 3, 3, 3), stride=0),
    "stride=(1, -1)": lambda lib, x: F(lib).conv2d(x, lib.ones(2, 3, 3, 3), stride=(1, -1)),
    "stride of 3": lambda lib, x: F(lib).conv2d(x, lib.ones(2, 3, 3, 3), stride=(1, 1, 1)),
    "stride=()": lambda lib, x: F(lib).conv2d(x, lib.ones(2, 3, 3, 3), stride=()),
    "stride=1.5": lambda lib, x: F(lib).conv2d(x, lib.ones(2, 3, 3, 3), stride=1.5),
    "padding=-1": lambda lib, x: F(lib).conv2d(x, lib.ones(2, 3, 3, 3), padding=-1),
    "padding=True": lambda lib, x: F(lib).conv2d(x, lib.ones(2, 3, 3, 3), padding=True),
    "'same' with stride 2": lambda lib, x: F(lib).conv2d(x, lib.ones(2, 3, 3, 3), stride=2, padding="same"),
    "'same' with stride (1, 2)": lambda lib, x: F(lib).conv2d(x, lib.ones(2, 3, 3, 3), stride=(1, 2), padding="same"),
    "padding='full'": lambda lib, x: F(lib).conv2d(x, lib.ones(2, 3, 3, 3), padding="full"),
    "dilation=0": lambda lib, x: F(lib).conv2d(x, lib.ones(2, 3, 3, 3), dilation=0),
    "input is a list": lambda lib, x: F(lib).conv2d([[1.0]], lib.ones(2, 3, 3, 3)),
    "weight is an array": lambda lib, x: F(lib).conv2d(x, np.ones((2, 3, 3, 3), np.float32)),
}


@pytest.mark.parametrize("case", CONV_ERRORS)
def test_conv2d_refuses_like_torch(case):
    twin_raises(CONV_ERRORS[case], np.ones((1, 3, 5, 5), np.float32))


def test_conv2d_channel_error_names_the_shapes():
    _, error = twin_raises(CONV_ERRORS["channels, unbatched"], np.ones((1, 3, 5, 5), np.float32))
    assert names_shape(error, (1, 3, 5, 5)) and names_shape(error, (2, 4, 3, 3))


# --- max_pool2d ------------------------------------------------------------------------------------
POOL_GRID = [dict(kernel_size=k, stride=s, padding=p, dilation=d, ceil_mode=c)
             for k, s, p, d, c in itertools.product([2, (3, 2)], [None, 1, (2, 1)], [0, 1], [1, 2], [False, True])]


def tied(shape, seed=0):
    "Small integers as floats: most windows hold several maxima."
    return np.random.default_rng(seed).integers(0, 3, shape).astype(np.float64)


@pytest.mark.parametrize("config", POOL_GRID, ids=str)
def test_max_pool2d_matches_torch(config):
    for x in (arrays((2, 3, 7, 6))[0], tied((2, 3, 7, 6)), tied((3, 7, 6))):  # random, ties, unbatched with ties
        twin(pool(return_indices=True, **config), x)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_max_pool2d_dtypes(dtype):
    twin(pool(kernel_size=2), arrays((2, 3, 6, 6), dtype=dtype)[0])


def test_max_pool2d_ties_go_to_the_first_maximum():
    x = np.array([[[[1.0, 3, 3], [3, 2, 3], [0, 3, 1]]]])
    torch_out, nn_out = twin(pool(kernel_size=2, stride=1, return_indices=True), x)
    assert nn_out[1].tolist() == [[[[1, 1], [3, 5]]]]


def test_max_pool2d_nan_minus_inf_and_integers():
    def corners(lib):
        p = F(lib).max_pool2d
        results = [p(lib.tensor([[[1.0, float("nan")], [3.0, float("nan")]]]), 2, return_indices=True),
                   p(lib.full((1, 2, 2), float("-inf")), 2, padding=1, return_indices=True),
                   p(lib.tensor([[[-5, -3], [-2, -7]]]), 2, padding=1, return_indices=True),
                   p(lib.arange(25.0).reshape(1, 5, 5), 2, padding=1, ceil_mode=True, return_indices=True)]
        return str([(str(v.dtype).removeprefix("torch.").removeprefix("nn."), v.tolist(), i.tolist()) for v, i in results])
    same(corners)


def test_max_pool2d_of_an_empty_batch_and_the_stride_defaults():
    twin(pool(kernel_size=2), arrays((0, 3, 4, 4))[0])
    for stride in (None, (), []):
        twin(pool(kernel_size=(2, 3), stride=stride), arrays((1, 2, 6, 6))[0])


def test_max_pool2d_grad_fn_name():
    same(lambda lib: [F(lib).max_pool2d(lib.ones(*shape, requires_grad=True), 2).grad_fn.name()
                      for shape in [(1, 2, 4, 4), (2, 4, 4)]])


@st.composite
def pool_cases(draw):
    "Shapes and settings for max_pool2d; the output may come out empty (then both must refuse)."
    kernel = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    dilation = draw(st.tuples(st.integers(1, 2), st.integers(1, 2)))
    size = draw(st.tuples(st.integers(1, 7), st.integers(1, 7)))
    batch = draw(st.sampled_from([(2,), (1, 2), (2, 1)]))
    config = dict(kernel_size=kernel, stride=stride, padding=padding, dilation=dilation, ceil_mode=draw(st.booleans()))
    return batch + size, config, draw(st.booleans())


def output_is_empty(shape, config):
    try:
        torch.nn.functional.max_pool2d(torch.ones(shape), **config)
    except RuntimeError:
        return True
    return False


@deterministic
@given(pool_cases(), st.integers(0, 2**32 - 1))
def test_max_pool2d_on_random_shapes_matches_torch(case, seed):
    shape, config, ties = case
    x = tied(shape, seed) if ties else arrays(shape, seed=seed)[0]
    if output_is_empty(shape, config):
        twin_raises(pool(**config), x)
    else:
        twin(pool(return_indices=True, **config), x, seed=seed)


@pytest.mark.parametrize("config", [dict(kernel_size=2), dict(kernel_size=3, stride=1, padding=1),
                                    dict(kernel_size=(3, 2), stride=(2, 1), dilation=2, ceil_mode=True)], ids=str)
def test_max_pool2d_gradcheck(config):
    x = nn.tensor(arrays((2, 3, 7, 6))[0], requires_grad=True)
    assert nn.gradcheck(lambda x: nn.max_pool2d(x, **config), x)
    assert nn.gradcheck(lambda x: nn.max_pool2d(x[0], **config), x)


POOL_ERRORS = {
    "input of rank 2": lambda lib, x: F(lib).max_pool2d(x[0, 0], 2),
    "input of rank 5": lambda lib, x: F(lib).max_pool2d(x[None], 2),
    "no channels": lambda lib, x: F(lib).max_pool2d(x[:, :0], 2),
    "no rows": lambda lib, x: F(lib).max_pool2d(x[:, :, :0], 2),
    "bool": lambda lib, x: F(lib).max_pool2d(x > 0, 2),
    "kernel of 3 sizes": lambda lib, x: F(lib).max_pool2d(x, (2, 2, 2)),
    "kernel 2.0": lambda lib, x: F(lib).max_pool2d(x, 2.0),
    "kernel 0": lambda lib, x: F(lib).max_pool2d(x, 0),
    "stride (1, 0)": lambda lib, x: F(lib).max_pool2d(x, 2, (1, 0)),
    "stride -1": lambda lib, x: F(lib).max_pool2d(x, 2, -1),
    "stride 2.5": lambda lib, x: F(lib).max_pool2d(x, 2, 2.5),
    "padding -1": lambda lib, x: F(lib).max_pool2d(x, 2, padding=-1),
    "padding 2 for kernel 3": lambda lib, x: F(lib).max_pool2d(x, 3, padding=2),
    "padding 2 for kernel 2, dilation 3": lambda lib, x: F(lib).max_pool2d(x, 2, padding=2, dilation=3),
    "dilation 0": lambda lib, x: F(lib).max_pool2d(x, 2, dilation=0),
    "kernel too large": lambda lib, x: F(lib).max_pool2d(x, 6),
    "dilated kernel too large": lambda lib, x: F(lib).max_pool2d(x, 3, dilation=3),
    "not a tensor": lambda lib, x: F(lib).max_pool2d(np.ones((1, 4, 4)), 2),
}


@pytest.mark.parametrize("case", POOL_ERRORS)
def test_max_pool2d_refuses_like_torch(case):
    twin_raises(POOL_ERRORS[case], np.ones((1, 3, 5, 5)))


# --- the layers ------------------------------------------------------------------------------------
LAYERS = [
    ("Conv2d", (3, 8, 3), {}),
    ("Conv2d", (4, 6, (3, 2)), dict(stride=2, padding=1, dilation=2, groups=2, bias=False)),
    ("Conv2d", (4, 4, 3), dict(stride=(1, 1), padding="same", groups=4, padding_mode="reflect")),
    ("Conv2d", (3, 4, 5), dict(stride=(1, 2), padding="valid", padding_mode="circular")),
    ("Conv2d", (2, 2, (2, 3)), dict(padding=(1, 2), padding_mode="replicate")),
    ("MaxPool2d", (2,), {}),
    ("MaxPool2d", ((3, 2), 1, 1, 2), dict(ceil_mode=True, return_indices=True)),
]


@pytest.mark.parametrize("name, args, kwargs", LAYERS, ids=lambda v: str(v))
def test_layer_repr_and_parameters(name, args, kwargs):
    same(lambda lib: (repr(getattr(layers(lib), name)(*args, **kwargs)),
                      [(n, tuple(p.shape), str(p.dtype).removeprefix("torch.").removeprefix("nn."))
                       for n, p in getattr(layers(lib), name)(*args, **kwargs).named_parameters()]))


@pytest.mark.parametrize("name, args, kwargs", LAYERS, ids=lambda v: str(v))
def test_layer_matches_torch_with_the_same_weights(name, args, kwargs):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    ours = getattr(nn, name)(*args, **kwargs).double()
    ours.load_state_dict({n: p.detach().numpy() for n, p in theirs.state_dict().items()})
    x = arrays((2, args[0] if name == "Conv2d" else 3, 7, 8))[0]
    twin(lambda lib, x: (ours if lib is nn else theirs)(x), x)
    for (n, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=n)


def test_conv2d_layer_on_unbatched_float32_input():
    torch.manual_seed(0)
    theirs = torch.nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect")
    ours = nn.Conv2d(3, 4, 3, padding=1, padding_mode="reflect")
    ours.load_state_dict({n: p.detach().numpy() for n, p in theirs.state_dict().items()})
    twin(lambda lib, x: (ours if lib is nn else theirs)(x), arrays((3, 5, 6), dtype=np.float32)[0])


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_copying_padding_gradcheck(mode):
    x, w = (nn.tensor(a, requires_grad=True) for a in arrays((2, 2, 5, 6), (3, 2, 3, 4)))
    assert nn.gradcheck(lambda x, w: nn.conv2d(nn.conv._pad_by_copying(x, ((2, 1), (1, 3)), mode), w), (x, w))


def test_conv2d_layer_initialization_follows_torch():
    nn.manual_seed(0)
    for args, kwargs in [((16, 32, 5), dict(groups=2)), ((3, 64, (3, 2)), {})]:
        layer = nn.Conv2d(*args, **kwargs)
        fan_in = args[0] // kwargs.get("groups", 1) * math.prod(layer.kernel_size)
        bound = 1 / math.sqrt(fan_in)
        weight, bias = layer.weight.detach().numpy(), layer.bias.detach().numpy()
        assert weight.dtype == bias.dtype == np.float32
        assert np.abs(weight).max() <= bound and np.abs(bias).max() <= bound
        assert abs(weight.std() * math.sqrt(3) / bound - 1) < 0.1  # uniform on [-bound, bound]
        assert layer.weight.requires_grad and layer.weight.is_leaf


def test_conv2d_layer_is_reproducible_with_manual_seed():
    draws = []
    for _ in range(2):
        nn.manual_seed(3)
        draws.append(nn.Conv2d(2, 3, 3).weight.detach().numpy().copy())
    np.testing.assert_array_equal(*draws)


@pytest.mark.parametrize("default", ["float64", "float32"])
def test_conv_layers_make_parameters_of_the_default_dtype(default):
    def made(lib):
        previous = lib.get_default_dtype()
        lib.set_default_dtype(getattr(lib, default))
        try:
            built = [layers(lib).Conv1d(2, 3, 3), layers(lib).Conv2d(2, 3, 3, bias=False),
                     layers(lib).Conv2d(2, 3, 3, dtype=lib.float32)]
            return [[str(p.dtype).split(".")[-1] for p in layer.parameters()]
                    for layer in built]
        finally:
            lib.set_default_dtype(previous)
    same(made)
    same(lambda lib: str(lib.get_default_dtype()).split(".")[-1])  # restored


LAYER_ERRORS = {
    "in_channels % groups": lambda lib, x: layers(lib).Conv2d(3, 4, 3, groups=2),
    "out_channels % groups": lambda lib, x: layers(lib).Conv2d(4, 3, 3, groups=2),
    "groups=0": lambda lib, x: layers(lib).Conv2d(4, 4, 3, groups=0),
    "padding='full'": lambda lib, x: layers(lib).Conv2d(4, 4, 3, padding="full"),
    "'same' with stride 2": lambda lib, x: layers(lib).Conv2d(4, 4, 3, stride=2, padding="same"),
    "padding_mode='mirror'": lambda lib, x: layers(lib).Conv2d(4, 4, 3, padding_mode="mirror"),
    "reflect padding 5 on 5": lambda lib, x: layers(lib).Conv2d(3, 2, 3, padding=5, padding_mode="reflect")(x),
    "circular padding 6 on 5": lambda lib, x: layers(lib).Conv2d(3, 2, 3, padding=6, padding_mode="circular")(x),
    "reflect on rank 2": lambda lib, x: layers(lib).Conv2d(3, 2, 3, padding=1, padding_mode="reflect")(x[0, 0]),
    "channels": lambda lib, x: layers(lib).Conv2d(2, 2, 3)(x),
    "MaxPool2d(6) on 5 x 5": lambda lib, x: layers(lib).MaxPool2d(6)(x),
}


@pytest.mark.parametrize("case", LAYER_ERRORS)
def test_layers_refuse_like_torch(case):
    twin_raises(LAYER_ERRORS[case], np.ones((1, 3, 5, 5), np.float32))
