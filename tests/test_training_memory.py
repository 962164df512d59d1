"""Training does not leak: the graph, its saved arrays and non-leaf gradients are released every step."""
import gc
import tracemalloc
import weakref

import numpy as np

import nn

BATCH, STEPS, CHECKPOINT = 32, 3000, 500
ALLOWED_GROWTH = 100_000  # bytes between step CHECKPOINT and step STEPS


def mlp():
    "A 64-32-10 MLP with fixed weights."
    nn.manual_seed(0)
    return nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))


def batches(count):
    "`count` fixed batches of random inputs and labels, reused in turn."
    rng = np.random.default_rng(0)
    return [(nn.tensor(rng.standard_normal((BATCH, 64)).astype(np.float32)), nn.tensor(rng.integers(0, 10, BATCH)))
            for _ in range(count)]


def traced_bytes():
    "Bytes currently allocated through Python's allocator (NumPy's arrays included), after a full collection."
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def test_memory_stays_flat_over_thousands_of_steps():
    model, data = mlp(), batches(8)
    optimizer = nn.optim.Adam(model.parameters(), lr=1e-3)
    tracemalloc.start()
    try:
        for step in range(1, STEPS + 1):
            x, y = data[step % len(data)]
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            if step == CHECKPOINT:
                after_warm_up = traced_bytes()
        growth = traced_bytes() - after_warm_up
    finally:
        tracemalloc.stop()
    assert np.isfinite(loss.item())
    assert growth < ALLOWED_GROWTH, f"memory grew by {growth} bytes from step {CHECKPOINT} to step {STEPS}"


def forward_keeping_a_weakref(model, x, y):
    "The loss, and a weak reference to the hidden activation's array (nothing else holds the activation)."
    hidden = model[1](model[0](x))
    activation = weakref.ref(hidden._data)
    return nn.functional.cross_entropy(model[2](hidden), y), activation


def test_backward_frees_the_activations_while_the_loss_lives():
    model, [(x, y)] = mlp(), batches(1)
    loss, activation = forward_keeping_a_weakref(model, x, y)
    gc.collect()
    assert activation() is not None, "the graph must keep the activation until backward"
    loss.backward()
    assert activation() is None, "backward must release the arrays the graph saved"
    assert all(p.grad is not None for p in model.parameters())


def test_the_graph_dies_with_the_loss_without_backward():
    model, [(x, y)] = mlp(), batches(1)
    loss, activation = forward_keeping_a_weakref(model, x, y)
    del loss  # no gc.collect(): reference counting alone must free the graph (it has no cycles)
    assert activation() is None


def test_non_leaf_tensors_keep_no_gradient():
    model, [(x, y)] = mlp(), batches(1)
    hidden = model[1](model[0](x))
    loss = nn.functional.cross_entropy(model[2](hidden), y)
    loss.backward()
    assert hidden.grad is None and loss.grad is None
    assert model[0].weight.grad.shape == model[0].weight.shape
