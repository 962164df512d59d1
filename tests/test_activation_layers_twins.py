"""More activation layers, Unflatten and Dropout2d against PyTorch: values, gradients, reprs
and dtypes (twins), float64 gradcheck and gradgradcheck, Hessian-vector products with
create_graph=True, and Dropout2d's statistics."""
import warnings

import numpy as np
import pytest
import torch

import nn
from twin import F, arrays, assert_same, layers, twin, twin_raises

DTYPES = (np.float32, np.float64)

# (layer, args, kwargs) as torch spells them
LAYERS = [
    ("LeakyReLU", (), {}), ("LeakyReLU", (0.2,), {}), ("LeakyReLU", (), {"inplace": True}),
    ("ELU", (), {}), ("ELU", (0.5,), {}), ("ELU", (), {"alpha": 2.0, "inplace": True}),
    ("SiLU", (), {}), ("SiLU", (True,), {}),
    ("Softplus", (), {}), ("Softplus", (2.0, 3.0), {}),
    ("Hardtanh", (), {}), ("Hardtanh", (-0.5, 2.0), {}),
    ("Hardtanh", (), {"min_val": -2.0, "max_val": 0.5, "inplace": True}),
    ("ReLU6", (), {}), ("ReLU6", (True,), {}),
    ("Mish", (), {}), ("Mish", (True,), {}),
    ("GELU", (), {}), ("GELU", (), {"approximate": "tanh"}),
]
ids = [f"{name}{args}{kwargs}" for name, args, kwargs in LAYERS]

# functional forms: F.name(x, **kwargs)
FUNCTIONS = [
    ("leaky_relu", {}), ("leaky_relu", {"negative_slope": 0.3}),
    ("elu", {}), ("elu", {"alpha": 0.7}),
    ("hardtanh", {}), ("hardtanh", {"min_val": -0.3, "max_val": 1.5}),
    ("relu6", {}), ("silu", {}), ("softplus", {"beta": 2.0, "threshold": 3.0}),
    ("mish", {}), ("gelu", {}), ("gelu", {"approximate": "tanh"}),
]
fids = [f"{name}{kwargs}" for name, kwargs in FUNCTIONS]


def data(shape=(3, 4), dtype=np.float64, seed=0):
    "Values spread over every piece of the piecewise activations (up to about +-8)."
    return (arrays(shape, seed=seed)[0] * 3).astype(dtype)


def inplace_off(kwargs):
    return {k: v for k, v in kwargs.items() if k != "inplace"}


def positional_inplace_off(name, args):
    "ReLU6(True), SiLU(True), Mish(True): inplace given by position."
    return () if name in ("ReLU6", "SiLU", "Mish") else args


# --- layers -----------------------------------------------------------------------------
@pytest.mark.parametrize("name, args, kwargs", LAYERS, ids=ids)
def test_repr_matches_torch(name, args, kwargs):
    assert repr(getattr(nn, name)(*args, **kwargs)) == repr(
        getattr(torch.nn, name)(*args, **kwargs))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, args, kwargs", LAYERS, ids=ids)
def test_layer_values_gradients_and_dtypes_match_torch(name, args, kwargs, dtype):
    args, kwargs = positional_inplace_off(name, args), inplace_off(kwargs)
    twin(lambda lib, x: getattr(layers(lib), name)(*args, **kwargs)(x), data(dtype=dtype))


@pytest.mark.parametrize("name, args, kwargs", LAYERS, ids=ids)
def test_inplace_layers_overwrite_a_tensor_outside_autograd(name, args, kwargs):
    results = []
    for lib in (torch, nn):
        x = lib.tensor(data())
        y = getattr(layers(lib), name)(*args, **kwargs)(x)
        results.append((y, x, y is x))
    (ty, tx, t_same), (ny, nx, n_same) = results
    assert_same(ty, ny)
    assert_same(tx, nx)
    assert t_same == n_same


# --- functional forms -------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name, kwargs", FUNCTIONS, ids=fids)
def test_functional_matches_torch(name, kwargs, dtype):
    twin(lambda lib, x: getattr(F(lib), name)(x, **kwargs), data((2, 3, 4), dtype))


@pytest.mark.parametrize("name, kwargs", FUNCTIONS, ids=fids)
def test_gradcheck(name, kwargs):
    x = nn.tensor(data(), requires_grad=True)
    assert nn.gradcheck(lambda t: getattr(nn.functional, name)(t, **kwargs), (x,))


@pytest.mark.parametrize("name, kwargs", FUNCTIONS, ids=fids)
def test_gradgradcheck(name, kwargs):
    x = nn.tensor(data(), requires_grad=True)
    assert nn.autograd.gradgradcheck(lambda t: getattr(nn.functional, name)(t, **kwargs),
                                     (x,))


@pytest.mark.parametrize("name, kwargs", FUNCTIONS, ids=fids)
def test_hessian_vector_product_matches_torch(name, kwargs):
    seed, direction = arrays((3, 4), (3, 4), seed=5)
    results = []
    for lib in (torch, nn):
        x = lib.tensor(data(), requires_grad=True)
        # sin after the op: a piecewise-linear op's vjp must itself be recorded
        y = lib.sin(getattr(F(lib), name)(x, **kwargs))
        (g,) = lib.autograd.grad(y, x, lib.tensor(seed), create_graph=True)
        (hvp,) = lib.autograd.grad((g * lib.tensor(direction)).sum(), x)
        results.append((g, hvp))
    (tg, th), (ng, nh) = results
    assert_same(tg.detach(), ng.detach(), 1e-9, 1e-11)
    assert_same(th, nh, 1e-9, 1e-11)


def test_second_derivative_is_computed_not_zero():
    "ELU's second derivative: alpha e^x on the negative side, 0 on the positive."
    x = nn.tensor(np.array([-1.0, -0.5, 2.0]), requires_grad=True)
    (g,) = nn.autograd.grad(nn.functional.elu(x, alpha=2.0).sum(), x, create_graph=True)
    (h,) = nn.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), [2 * np.exp(-1), 2 * np.exp(-0.5), 0])


def test_kinks_take_torchs_side():
    values = np.array([-1.0, 0.0, 1.0, 6.0, -2.0, 0.5])
    for name, kwargs in FUNCTIONS:
        twin(lambda lib, x: getattr(F(lib), name)(x, **kwargs), values)


def test_integer_inputs_as_torch():
    ints = np.array([[1, -2, 3]])
    for name in ("leaky_relu", "elu"):
        twin_raises(lambda lib, x: getattr(F(lib), name)(x), ints)
    twin(lambda lib, x: F(lib).hardtanh(x), ints)


def test_hardtanh_refuses_min_above_max():
    twin_raises(lambda lib, x: F(lib).hardtanh(x, 2.0, 1.0), data())
    with pytest.raises(AssertionError):
        nn.Hardtanh(1.0, 0.5)


# --- Unflatten --------------------------------------------------------------------------
@pytest.mark.parametrize("dim, sizes", [(1, (2, 6)), (-1, [3, 2, 2]), (0, (2, -1))])
def test_unflatten_matches_torch(dim, sizes):
    twin(lambda lib, x: layers(lib).Unflatten(dim, sizes)(x), data((4, 12)))
    assert repr(nn.Unflatten(dim, sizes)) == repr(torch.nn.Unflatten(dim, sizes))


@pytest.mark.parametrize("sizes", [5, (2, 2.0)])
def test_unflatten_refuses_what_torch_refuses(sizes):
    for lib in (torch, nn):
        with pytest.raises(TypeError):
            layers(lib).Unflatten(1, sizes)


# --- Dropout2d --------------------------------------------------------------------------
def dropped(p, shape=(200, 50, 3, 4), dtype=np.float64):
    nn.manual_seed(0)
    x = nn.tensor(np.ones(shape, dtype), requires_grad=True)
    layer = nn.Dropout2d(p)
    y = layer(x)
    return layer, x, y


def test_dropout2d_zeroes_whole_channels_and_scales_the_rest():
    layer, x, y = dropped(0.3)
    values = y.detach().numpy()
    per_channel = values.reshape(200, 50, -1)
    assert np.all(per_channel == per_channel[..., :1]), "a channel is kept or zeroed whole"
    kept = per_channel[..., 0] != 0
    np.testing.assert_allclose(per_channel[kept], 1 / 0.7)
    assert abs((1 - kept.mean()) - 0.3) < 4 * np.sqrt(0.3 * 0.7 / kept.size)
    assert abs(values.mean() - 1) < 0.03


def test_dropout2d_gradient_uses_the_forward_mask():
    layer, x, y = dropped(0.5)
    g = np.random.default_rng(1).standard_normal(y.shape)
    y.backward(nn.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), g * y.detach().numpy())


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout2d_keeps_the_dtype(dtype):
    layer, x, y = dropped(0.5, (2, 3, 4, 4), dtype)
    assert str(y.dtype).split(".")[-1] == np.dtype(dtype).name


def test_dropout2d_eval_and_p0_are_the_identity():
    layer, x, y = dropped(0.5, (2, 3, 4, 4))
    assert layer.eval()(x) is x
    assert nn.functional.dropout2d(x, 0.0) is x
    assert nn.functional.dropout2d(x, 0.7, training=False) is x
    t = torch.ones(2, 3, 4, 4)
    assert torch.nn.functional.dropout2d(t, 0.7, training=False) is t


def test_dropout2d_p1_zeroes_everything():
    layer, x, y = dropped(1.0, (2, 3, 4, 4))
    assert not y.detach().numpy().any()


def test_dropout2d_repr_and_bad_probability_as_torch():
    assert repr(nn.Dropout2d(0.2)) == repr(torch.nn.Dropout2d(0.2))
    for lib in (torch, nn):
        with pytest.raises(ValueError):
            layers(lib).Dropout2d(1.5)
        with pytest.raises(ValueError):
            F(lib).dropout2d(lib.ones(2, 3, 4, 4), -0.1)


def test_dropout2d_warns_as_torch_on_3d_and_2d_inputs():
    for shape in ((2, 3, 4), (2, 3)):
        counts = []
        for lib in (torch, nn):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                F(lib).dropout2d(lib.ones(*shape), 0.5)
            counts.append(len(caught))
        assert counts[0] == counts[1] > 0


def test_dropout2d_of_3d_input_drops_channels_of_n_c_l():
    nn.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = nn.functional.dropout2d(nn.ones(100, 20, 5), 0.5).numpy()
    assert np.all(y == y[..., :1]) and 0 < (y == 0).mean() < 1


def test_dropout2d_refuses_a_1d_input_as_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        twin_raises(lambda lib, x: F(lib).dropout2d(x, 0.5), data((5,)))
