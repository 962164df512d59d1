"""Activations with inplace=True, and Tensor.relu_, inside a tracked graph, against torch.

The result is written into the input's storage and the input takes the activation's node,
so gradients of every order flow as for the out-of-place function; a leaf that requires
grad is refused, and a tensor outside autograd is simply overwritten.
"""
import subprocess
import sys

import numpy as np
import pytest
import torch

import nn

X = np.array([[-1.5, -0.2, 0.3, 2.0, 7.0, -3.0]])
WEIGHTS = np.arange(1.0, 7.0)
ACTIVATIONS = [("relu", {}), ("leaky_relu", {"negative_slope": 0.1}), ("elu", {}),
               ("elu", {"alpha": 0.5}), ("hardtanh", {"min_val": -0.5, "max_val": 2.5}),
               ("relu6", {}), ("silu", {}), ("mish", {})]


def functional(lib):
    return torch.nn.functional if lib is torch else nn.functional


def in_place_run(lib, name, options, dtype):
    "The activation written over an intermediate h = 1.5 x; gradients of two orders."
    x = lib.tensor(X.astype(dtype), requires_grad=True)
    h = x * 1.5
    version = h._version
    y = getattr(functional(lib), name)(h, inplace=True, **options)
    assert y is h and h._version > version
    out = (y * lib.tensor(WEIGHTS.astype(dtype))).sum()
    gx, = lib.autograd.grad(out, x, create_graph=True)
    if gx.requires_grad:
        gg, = lib.autograd.grad((gx ** 2).sum(), x)
        gg = gg.numpy()
    else:  # piecewise-linear activations: the gradient is constant
        gg = np.zeros_like(X)
    return y.detach().numpy(), gx.detach().numpy(), gg, type(y.grad_fn).__name__


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, options", ACTIVATIONS, ids=lambda v: str(v))
def test_in_place_activation_inside_a_graph_matches_torch(name, options, dtype):
    ours = in_place_run(nn, name, options, dtype)
    theirs = in_place_run(torch, name, options, dtype)
    rtol = 1e-4 if dtype == np.float32 else 1e-12
    for a, b in zip(ours[:3], theirs[:3]):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)
    assert ours[3] == theirs[3].replace("Backward1", "Backward0")


@pytest.mark.parametrize("name, options", ACTIVATIONS, ids=lambda v: str(v))
def test_in_place_on_a_leaf_that_requires_grad_is_refused(name, options):
    for lib in (torch, nn):
        x = lib.tensor(X, requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf"):
            getattr(functional(lib), name)(x, inplace=True, **options)
        np.testing.assert_array_equal(x.detach().numpy(), X)


@pytest.mark.parametrize("name, options", ACTIVATIONS, ids=lambda v: str(v))
def test_in_place_outside_autograd_overwrites_the_tensor(name, options):
    results = []
    for lib in (torch, nn):
        x = lib.tensor(X)
        y = getattr(functional(lib), name)(x, inplace=True, **options)
        assert y is x and not y.requires_grad and x._version == 1
        results.append(x.numpy())
    np.testing.assert_allclose(results[1], results[0], rtol=1e-6)


def test_relu_module_in_place_in_a_network_matches_torch():
    def run(lib):
        L = torch.nn if lib is torch else nn
        model = L.Sequential(L.Linear(3, 4), L.ReLU(inplace=True), L.Linear(4, 2),
                             L.ReLU(inplace=True))
        with lib.no_grad():
            for p in model.parameters():
                p.copy_(lib.linspace(-1, 1, p.numel()).reshape(p.shape))
        out = model(lib.linspace(-2, 2, 6).reshape(2, 3)).sum()
        out.backward()
        return [repr(model)] + [p.grad.numpy() for p in model.parameters()]
    ours, theirs = run(nn), run(torch)
    assert ours[0] == theirs[0]
    assert "ReLU(inplace=True)" in ours[0]
    for a, b in zip(ours[1:], theirs[1:]):
        np.testing.assert_allclose(a, b, rtol=1e-6)


@pytest.mark.parametrize("module", ["Dropout", "Dropout2d"])
def test_dropout_in_place_in_eval_mode_is_the_identity(module):
    layer = getattr(nn, module)(0.5, inplace=True).eval()
    x = nn.tensor(X.reshape(1, 1, 2, 3))
    assert layer(x) is x
    np.testing.assert_array_equal(x.numpy(), X.reshape(1, 1, 2, 3))


def test_dropout_in_place_in_training_writes_its_own_output():
    nn.manual_seed(0)
    x = nn.tensor(np.ones((4, 50)), requires_grad=True)
    h = x * 1
    y = nn.functional.dropout(h, 0.5, training=True, inplace=True)
    assert y is h
    values = set(np.unique(y.detach().numpy()))
    assert values == {0.0, 2.0}
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())


def test_the_first_in_place_change_of_a_process_works():
    # nodes recorded before any in-place change carry no version list: the first
    # change of the process must give the adopted node one
    program = ("import nn; x = nn.tensor([-1.0, 2.0], requires_grad=True); "
               "y = (x * 2).relu_(); y.sum().backward(); print(x.grad.tolist())")
    out = subprocess.run([sys.executable, "-c", program], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "[0.0, 2.0]"
