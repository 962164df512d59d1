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


def traced_growth(step, steps, checkpoint):
    "Bytes traced after `steps` calls step(1), step(2), ... less those after step `checkpoint`."
    tracemalloc.start()
    try:
        for i in range(1, steps + 1):
            step(i)
            if i == checkpoint:
                after_warm_up = traced_bytes()
        return traced_bytes() - after_warm_up
    finally:
        tracemalloc.stop()


def training_step(model, optimizer, batch_of):
    "step(i): one training step on batch_of(i) = (input, target); returns the loss."
    def step(i):
        x, y = batch_of(i)
        optimizer.zero_grad()
        logits = model(x)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        loss.backward()
        optimizer.step()
        assert np.isfinite(loss.item())
    return step


def test_memory_stays_flat_over_thousands_of_steps():
    model, data = mlp(), batches(8)
    optimizer = nn.optim.Adam(model.parameters(), lr=1e-3)
    growth = traced_growth(training_step(model, optimizer, lambda i: data[i % len(data)]),
                           STEPS, CHECKPOINT)
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


# The models of the later chapters record other kinds of nodes (attention, layer norm, GELU,
# recurrent steps, convolutions, pooling, batch norm): small versions of each, trained for
# 600 steps, must not grow after the first 200.
def small_gpt():
    "One pre-norm transformer block over embeddings, with a tied read-out."
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed, self.position = nn.Embedding(11, 16), nn.Embedding(8, 16)
            self.ln1, self.ln2 = nn.LayerNorm(16), nn.LayerNorm(16)
            self.qkv, self.mlp = nn.Linear(16, 48), nn.Sequential(nn.Linear(16, 32), nn.GELU(),
                                                                  nn.Linear(32, 16))

        def forward(self, idx):
            x = self.embed(idx) + self.position(nn.arange(idx.shape[1]))
            q, k, v = (t.reshape(*idx.shape, 2, 8).transpose(1, 2)
                       for t in self.qkv(self.ln1(x)).split(16, dim=2))
            attended = nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + attended.transpose(1, 2).reshape(*idx.shape, 16)
            x = x + self.mlp(self.ln2(x))
            return x @ self.embed.weight.T
    return Block()


def small_lstm():
    "An embedding, a two-layer LSTM and a read-out."
    class Recurrent(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed, self.lstm = nn.Embedding(11, 8), nn.LSTM(8, 16, 2, batch_first=True)
            self.out = nn.Linear(16, 11)

        def forward(self, idx):
            return self.out(self.lstm(self.embed(idx))[0])
    return Recurrent()


def small_cnn():
    "Convolution, batch norm, ReLU, max pooling, a linear read-out over 11 classes."
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 11))


def test_memory_stays_flat_for_attention_recurrent_and_convolutional_models():
    rng = np.random.default_rng(1)
    tokens = [nn.tensor(rng.integers(0, 11, (4, 8))) for _ in range(4)]
    images = [nn.tensor(rng.standard_normal((4, 1, 8, 8)).astype(np.float32)) for _ in range(4)]
    nn.manual_seed(0)
    for build, inputs in ((small_gpt, tokens), (small_lstm, tokens), (small_cnn, images)):
        model = build()
        targets = tokens if inputs is tokens else [y[:, 0] for y in tokens]
        step = training_step(model, nn.optim.AdamW(model.parameters(), lr=1e-3),
                             lambda i: (inputs[i % 4], targets[(i + 1) % 4]))
        growth = traced_growth(step, 600, 200)
        assert growth < ALLOWED_GROWTH, f"{build.__name__}: memory grew by {growth} bytes"
