"""The fast paths of a convolutional network's layers, against torch.

conv2d multiplies patch matrices laid out (N, C kH kW, H_out W_out) and hands the forward's patches
to the kernel's gradient for the array it read; max_pool2d pools windows that tile the input on a
reshaped view, the winners a mask; batch_norm in training is one op with a closed-form vjp. Each is
checked in values and gradients (first and second order) against torch, including the cases the
fast paths must hand back or get exactly right: ties, -inf, NaN, infinite gradients, in-place
changes after the forward, one input read by two convolutions, and layers without affine weights.
"""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from twin import F, arrays, assert_same, layers, numpy, twin, twin_raises

torch.set_num_threads(1)


# --- max pooling on tiles ------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(kernel=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       tiles=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       batched=st.booleans(), ties=st.booleans(), seed=st.integers(0, 1000))
def test_tiled_max_pool_matches_torch(kernel, tiles, batched, ties, seed):
    rng = np.random.default_rng(seed)
    shape = (2, 3)[:1 + batched] + (kernel[0] * tiles[0], kernel[1] * tiles[1])
    x = (rng.integers(0, 2, shape).astype(float) if ties else rng.standard_normal(shape))
    expected, actual = twin(lambda lib, x: F(lib).max_pool2d(x, kernel, return_indices=True),
                            x)
    assert actual[1].dtype == nn.int64


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_tiled_max_pool_of_minus_inf_and_nan_matches_torch(dtype):
    x = np.random.default_rng(0).standard_normal((2, 2, 4, 6)).astype(dtype)
    x[0, 0, :2, :2] = -np.inf                          # a tile of -inf: its first element
    x[0, 1, 0, 0] = x[0, 1, 1, 1] = np.nan             # two NaN in one tile: the last wins
    x[1, 0, 2, 3] = np.nan
    twin(lambda lib, x: F(lib).max_pool2d(x, 2, return_indices=True), x)


def test_tiled_max_pool_sends_an_infinite_gradient_to_the_winner_only():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    grads = []
    for lib in (torch, nn):
        t = lib.tensor(x, requires_grad=True)
        y = F(lib).max_pool2d(t, 2)
        y.backward(lib.tensor([[[[np.inf, 1.0], [2.0, -np.inf]]]]))
        grads.append(numpy(t.grad))
    np.testing.assert_array_equal(grads[1], grads[0])
    assert not np.isnan(grads[1]).any()


def test_tiled_max_pool_of_integers_matches_torch():
    x = np.random.default_rng(1).integers(-5, 5, (2, 3, 4, 4))
    twin(lambda lib, x: F(lib).max_pool2d(x, 2, return_indices=True), x)


def hessian_vector_products(lib, fn, values, seed=1):
    "d/dinputs <grad fn . u, v>, with create_graph, for random u, v: second derivatives."
    rng = np.random.default_rng(seed)
    inputs = [lib.tensor(v, requires_grad=True) for v in values]
    y = fn(lib, *inputs)
    u = lib.tensor(rng.standard_normal(tuple(y.shape)))
    grads = (lib.autograd.grad(y, inputs, u, create_graph=True))
    total = sum((g * lib.tensor(rng.standard_normal(tuple(g.shape)))).sum() for g in grads)
    return lib.autograd.grad(total, inputs, allow_unused=True)


def same_second_derivatives(fn, *values):
    for ours, theirs in zip(hessian_vector_products(nn, fn, values),
                            hessian_vector_products(torch, fn, values)):
        assert (ours is None) == (theirs is None)
        if ours is not None:
            assert_same(theirs, ours)


def test_tiled_max_pool_second_derivative_matches_torch():
    same_second_derivatives(lambda lib, x: F(lib).max_pool2d(x.sin(), (2, 3)).exp(),
                            *arrays((2, 2, 4, 6)))
    x = nn.tensor(arrays((1, 2, 4, 4))[0], requires_grad=True)
    assert nn.autograd.gradgradcheck(lambda x: nn.max_pool2d(x, 2).sin(), x)


# --- convolution ---------------------------------------------------------------------------------
@pytest.mark.parametrize("config", [dict(), dict(stride=2, padding=1), dict(groups=2, dilation=2),
                                    dict(padding="same", groups=4)])
def test_conv2d_second_derivative_matches_torch(config):
    groups = config.get("groups", 1)
    same_second_derivatives(
        lambda lib, x, w, b: F(lib).conv2d(x, w, b, **config).tanh(),
        *arrays((2, 4, 7, 6), (4, 4 // groups, 3, 2), (4,)))


def test_one_input_read_by_two_convolutions_matches_torch():
    twin(lambda lib, x, w, v: F(lib).conv2d(x, w, padding=1) * F(lib).conv2d(x, v, padding=1),
         *arrays((2, 3, 6, 5), (4, 3, 3, 3), (4, 3, 3, 3)))


def test_conv1d_and_an_unbatched_conv2d_match_torch():
    twin(lambda lib, x, w: F(lib).conv1d(x, w, padding=2, groups=2), *arrays((3, 4, 9), (6, 2, 3)))
    twin(lambda lib, x, w: F(lib).conv2d(x, w, stride=(2, 1)), *arrays((3, 7, 6), (5, 3, 2, 2)))


def test_conv2d_of_an_input_changed_in_place_after_the_forward_raises():
    for lib in (torch, nn):
        x, w = (lib.tensor(a, requires_grad=True) for a in arrays((1, 2, 5, 5), (3, 2, 3, 3)))
        h = x * 1
        y = F(lib).conv2d(h, w)
        with lib.no_grad():
            h.add_(1)
        with pytest.raises(RuntimeError):
            y.sum().backward()


def test_lenet_training_steps_match_torch():
    "Three SGD steps of the benchmark network in float64: same losses and weights as torch."
    results = {}
    for lib in (torch, nn):
        L = layers(lib)
        lib.manual_seed(0)
        model = L.Sequential(L.Conv2d(1, 6, 5, padding=2), L.BatchNorm2d(6), L.ReLU(),
                             L.MaxPool2d(2), L.Conv2d(6, 16, 5), L.BatchNorm2d(16), L.ReLU(),
                             L.MaxPool2d(2), L.Flatten(), L.Linear(400, 10)).double()
        optimizer = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        rng, losses = np.random.default_rng(0), []
        for _ in range(3):
            x = lib.tensor(rng.standard_normal((8, 1, 28, 28)))
            y = lib.tensor(rng.integers(0, 10, 8))
            loss = F(lib).cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        results[lib] = losses, [numpy(p) for p in model.parameters()]
    np.testing.assert_allclose(results[nn][0], results[torch][0], rtol=1e-10)
    for ours, theirs in zip(results[nn][1], results[torch][1]):
        np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-10)


# --- batch norm ----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (4, 3, 5, 2)])
@pytest.mark.parametrize("affine", ["both", "weight", "bias", "none"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_norm_training_matches_torch(shape, affine, dtype):
    x, w, b = arrays(shape, (3,), (3,), dtype=dtype)
    x = x * 3 + 2
    mean, var = np.zeros(3, dtype), np.ones(3, dtype)
    stats = {}

    def fn(lib, x, w, b):
        running = [lib.tensor(mean), lib.tensor(var)]
        y = F(lib).batch_norm(x, *running, w if affine in ("both", "weight") else None,
                              b if affine in ("both", "bias") else None, training=True,
                              momentum=0.3)
        stats[lib] = running
        return y
    expected, actual = twin(fn, x, w, b)
    assert actual[0].grad_fn.name() == expected[0].grad_fn.name() == "NativeBatchNormBackward0"
    for ours, theirs in zip(stats[nn], stats[torch]):
        assert_same(theirs, ours)


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 3, 2)])
def test_batch_norm_training_second_derivative_matches_torch(shape):
    same_second_derivatives(
        lambda lib, x, w, b: F(lib).batch_norm(x, None, None, w, b, training=True).sin(),
        *arrays(shape, (3,), (3,)))
    inputs = [nn.tensor(a, requires_grad=True) for a in arrays(shape, (3,), (3,))]
    assert nn.autograd.gradgradcheck(
        lambda x, w, b: nn.functional.batch_norm(x, None, None, w, b, training=True).sin(),
        inputs)


def test_batch_norm_of_an_input_changed_in_place_after_the_forward_raises():
    for lib in (torch, nn):
        x = lib.tensor(arrays((4, 3, 2, 2))[0], requires_grad=True)
        h = x * 1
        y = layers(lib).BatchNorm2d(3).double()(h)
        with lib.no_grad():
            h.mul_(2)
        with pytest.raises(RuntimeError):
            y.sum().backward()


@pytest.mark.parametrize("dtypes", [(np.float32, np.float64), (np.float64, np.float32),
                                    (np.float32, np.float16)])
def test_batch_norm_training_refuses_parameters_of_another_dtype(dtypes):
    x, w = arrays((4, 3, 2), (3,))
    twin_raises(lambda lib, x, w: F(lib).batch_norm(x, None, None, w, training=True),
                x.astype(dtypes[0]), w.astype(dtypes[1]))
    twin_raises(lambda lib, x, b: F(lib).batch_norm(x, None, None, None, b, training=True),
                x.astype(dtypes[0]), w.astype(dtypes[1]))
