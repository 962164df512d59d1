"""The nodes users print: names of grad_fn and the order of next_functions, as torch's.

Tutorials print `loss.grad_fn`, `loss.grad_fn.next_functions[0][0]` and so on; nn fuses
some of torch's composite operations into one node, and gives that node the name of torch's
last one, with its inputs in torch's order.
"""
import numpy as np
import pytest
import torch

import nn


def name(node):
    return None if node is None else type(node).__name__


def lib_F(lib):
    return torch.nn.functional if lib is torch else nn.functional


LOGITS = np.linspace(-2, 2, 24).reshape(4, 6)
CLASSES = np.array([0, 5, 2, 1])
PROBABILITIES = np.full((4, 6), 1 / 6)


@pytest.mark.parametrize("options", [
    {}, {"reduction": "sum"}, {"reduction": "none"}, {"label_smoothing": 0.1},
    {"weight": np.arange(1.0, 7.0)}, {"ignore_index": 2},
    {"label_smoothing": 0.2, "reduction": "none"},
], ids=repr)
@pytest.mark.parametrize("target", ["classes", "probabilities"])
@pytest.mark.parametrize("shape", ["2d", "4d", "1d"])
def test_cross_entropy_node_name(options, target, shape):
    if target == "probabilities" and "ignore_index" in options:
        pytest.skip("torch refuses ignore_index with probabilities")
    names = []
    for lib in (torch, nn):
        x, y = LOGITS, CLASSES if target == "classes" else PROBABILITIES
        if shape == "4d":  # (N, C, d1, d2)
            x = np.moveaxis(np.stack([x, x * 0.5]), 0, -1)[..., None]
            y = (np.stack([y, y], axis=-1)[..., None] if target == "classes"
                 else np.moveaxis(np.stack([y, y]), 0, -1)[..., None])
        elif shape == "1d":  # one sample
            x, y = x[0], y[0]
        kwargs = {k: lib.tensor(v) if isinstance(v, np.ndarray) else v
                  for k, v in options.items()}
        loss = lib_F(lib).cross_entropy(lib.tensor(x, requires_grad=True),
                                        lib.tensor(y), **kwargs)
        names.append(name(loss.grad_fn))
    assert names[1] == names[0]


@pytest.mark.parametrize("reduction", ["mean", "none"])
@pytest.mark.parametrize("ndim", [2, 3, 4, 5])
def test_nll_loss_node_name(reduction, ndim):
    names = []
    for lib in (torch, nn):
        x = np.linspace(-1, 0, 2 * 3 * 2 ** (ndim - 2)).reshape((2, 3) + (2,) * (ndim - 2))
        y = np.zeros((2,) + (2,) * (ndim - 2), dtype=np.int64)
        loss = lib_F(lib).nll_loss(lib.tensor(x, requires_grad=True), lib.tensor(y),
                                   reduction=reduction)
        names.append(name(loss.grad_fn))
    assert names[1] == names[0]


@pytest.mark.parametrize("bias", [True, False])
def test_linear_node_lists_its_inputs_in_torchs_order(bias):
    found = []
    for lib in (torch, nn):
        L = torch.nn if lib is torch else nn
        layer = L.Linear(3, 2, bias=bias)
        x = lib.ones(4, 3, requires_grad=True)
        y = layer(x)
        pairs = y.grad_fn.next_functions
        variables = [getattr(node, "variable", None) for node, _ in pairs]
        found.append((name(y.grad_fn), len(pairs),
                      [v is layer.bias for v in variables] if bias else None,
                      any(v is x for v in variables)))
    assert found[1] == found[0]


def test_the_tutorials_walk_back_through_the_graph():
    # torch's "Neural Networks" tutorial: loss -> Linear -> the bias's AccumulateGrad
    walks = []
    for lib in (torch, nn):
        L = torch.nn if lib is torch else nn
        model = L.Sequential(L.Linear(4, 3), L.ReLU(), L.Linear(3, 2))
        loss = L.MSELoss()(model(lib.ones(5, 4)), lib.zeros(5, 2))
        node = loss.grad_fn
        first = node.next_functions[0][0]
        walks.append([name(node), name(first), name(first.next_functions[0][0]),
                      name(first.next_functions[1][0])])
    assert walks[1] == walks[0]
