"""The language models of chapter "Language models of names", typed once as PyTorch code and
run with torch and with nn: the bigram net, the context-window MLP and the GRU over padded names
give the same losses and gradients from the same weights and batches, and the sampling loop
(temperature, top-k with -inf, multinomial with a seeded generator) draws the same names."""
import pathlib

import numpy as np
import pytest
import torch

import nn

NAMES = (pathlib.Path(__file__).resolve().parent.parent / "book" / "data" / "names.txt")
WORDS = NAMES.read_text().split()[::40]  # 130 names spread over the alphabet
STOI = {".": 0} | {letter: i + 1 for i, letter in enumerate("abcdefghijklmnopqrstuvwxyz")}
V, BLOCK, T = 27, 3, 12


def layers(lib):
    return torch.nn if lib is torch else nn


def functional(lib):
    return torch.nn.functional if lib is torch else nn.functional


def bigrams(names):
    "Previous and next symbols of every pair, as NumPy arrays."
    xs, ys = [], []
    for name in names:
        symbols = [0] + [STOI[c] for c in name] + [0]
        xs += symbols[:-1]
        ys += symbols[1:]
    return np.array(xs), np.array(ys)


def windows(names):
    "Contexts of the last BLOCK symbols and the next symbol, as NumPy arrays."
    contexts, targets = [], []
    for name in names:
        context = [0] * BLOCK
        for symbol in [STOI[c] for c in name] + [0]:
            contexts.append(context)
            targets.append(symbol)
            context = context[1:] + [symbol]
    return np.array(contexts), np.array(targets)


def padded(names):
    "Inputs ('.' then the name, 0-padded) and targets (the name then '.', -100-padded)."
    inputs, targets = np.zeros((len(names), T), np.int64), np.full((len(names), T), -100)
    for row, name in enumerate(names):
        symbols = [STOI[c] for c in name]
        inputs[row, 1:len(symbols) + 1] = symbols
        targets[row, :len(symbols) + 1] = symbols + [0]
    return inputs, targets


def make_mlp(lib):
    L = layers(lib)
    return L.Sequential(L.Embedding(V, 10), L.Flatten(), L.Linear(BLOCK * 10, 32), L.Tanh(),
                        L.Linear(32, V))


def make_gru(lib):
    L = layers(lib)

    class GRUModel(L.Module):
        def __init__(self):
            super().__init__()
            self.embedding = L.Embedding(V, 8)
            self.gru = L.GRU(8, 16, batch_first=True)
            self.head = L.Linear(16, V)

        def forward(self, x, state=None):
            output, state = self.gru(self.embedding(x), state)
            return self.head(output), state

    return GRUModel()


def twin_models(make):
    "torch's model after manual_seed(0), and nn's holding exactly its weights."
    torch.manual_seed(0)
    theirs = make(torch)
    nn.manual_seed(0)
    ours = make(nn)
    ours.load_state_dict({key: nn.tensor(value.numpy())
                          for key, value in theirs.state_dict().items()})
    return {torch: theirs, nn: ours}


def assert_same(ours, theirs, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(),
                               rtol=rtol, atol=atol)


def test_the_bigram_net_gives_torchs_loss_and_gradient():
    xs, ys = bigrams(WORDS)
    weights = np.random.default_rng(0).standard_normal((V, V)).astype(np.float32)
    results = {}
    for lib in (torch, nn):
        F = functional(lib)
        W = lib.tensor(weights, requires_grad=True)
        logits = F.one_hot(lib.tensor(xs), num_classes=V).float() @ W
        loss = F.cross_entropy(logits, lib.tensor(ys)) - F.log_softmax(W, dim=1).sum() / len(xs)
        loss.backward()
        results[lib] = loss, W.grad
    for ours, theirs in zip(results[nn], results[torch]):
        assert_same(ours, theirs)
    assert results[nn][1].dtype == nn.float32


def test_the_bigram_net_reaches_the_smoothed_counts():
    "The pseudo-count regularizer's minimum is the table smoothed with alpha = 1."
    xs, ys = bigrams(WORDS)
    counts = np.bincount(xs * V + ys, minlength=V * V).reshape(V, V) + 1.0
    F = nn.functional
    W = nn.zeros(V, V, requires_grad=True)
    optimizer = nn.optim.Adam([W], lr=0.3)
    inputs, targets = F.one_hot(nn.tensor(xs), V).float(), nn.tensor(ys)
    for _ in range(300):
        loss = F.cross_entropy(inputs @ W, targets) - F.log_softmax(W, 1).sum() / len(xs)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    table = counts / counts.sum(axis=1, keepdims=True)
    assert np.abs(F.softmax(W.detach(), 1).numpy() - table).max() < 2e-3


@pytest.mark.parametrize("make", [make_mlp, make_gru], ids=["mlp", "gru"])
def test_models_give_torchs_losses_and_gradients_over_steps(make):
    "Three SGD steps on the same batches: the same loss at each, the same final gradients."
    models = twin_models(make)
    optimizers = {lib: (torch.optim if lib is torch else nn.optim).SGD(
        models[lib].parameters(), lr=0.5) for lib in models}
    rng = np.random.default_rng(1)
    for step in range(3):
        chosen = [WORDS[i] for i in rng.integers(0, len(WORDS), 16)]
        inputs, targets = windows(chosen) if make is make_mlp else padded(chosen)
        losses = {}
        for lib, model in models.items():
            output = model(lib.tensor(inputs))
            logits = output if make is make_mlp else output[0].reshape(-1, V)
            losses[lib] = functional(lib).cross_entropy(
                logits, lib.tensor(targets).reshape(-1), ignore_index=-100)
            optimizers[lib].zero_grad()
            losses[lib].backward()
        assert_same(losses[nn], losses[torch])
        for (name, ours), theirs in zip(models[nn].named_parameters(),
                                        models[torch].parameters()):
            assert_same(ours.grad, theirs.grad, rtol=1e-4, atol=1e-6)
        for optimizer in optimizers.values():
            optimizer.step()


def test_ignore_index_averages_over_the_real_targets_only():
    models = twin_models(make_gru)
    inputs, targets = padded(WORDS[:8])
    real = targets != -100
    for lib, model in models.items():
        with lib.no_grad():
            logits = model(lib.tensor(inputs))[0]
        F = functional(lib)
        loss = F.cross_entropy(logits.reshape(-1, V), lib.tensor(targets).reshape(-1))
        summed = F.cross_entropy(logits[lib.tensor(real)], lib.tensor(targets[real]),
                                 reduction="sum")
        assert abs(loss.item() - summed.item() / real.sum()) < 1e-5


def sample(lib, next_logits, count, generator, temperature=1.0, top_k=None):
    "The chapter's sampling loop: count rows of T + 1 symbols, starting with '.'."
    prefix = lib.zeros(count, 1, dtype=lib.int64)
    with lib.no_grad():
        for _ in range(T):
            logits = next_logits(prefix) / temperature
            if top_k is not None:
                kth_largest = logits.topk(top_k, dim=1).values[:, -1:]
                logits = logits.masked_fill(logits < kth_largest, -lib.inf)
            probs = functional(lib).softmax(logits, dim=1)
            drawn = lib.multinomial(probs, 1, generator=generator)
            prefix = lib.cat([prefix, drawn], dim=1)
    return prefix.tolist()


@pytest.mark.parametrize("temperature, top_k", [(1.0, None), (0.5, None), (2.0, None),
                                                (1.0, 3), (0.8, 5), (1.0, 1)])
def test_sampling_draws_torchs_names(temperature, top_k):
    table = np.random.default_rng(2).standard_normal((V, V)).astype(np.float32) * 2
    samples = {}
    for lib in (torch, nn):
        W = lib.tensor(table)
        generator = lib.Generator().manual_seed(7)
        samples[lib] = sample(lib, lambda prefix: W[prefix[:, -1]], 50, generator,
                              temperature, top_k)
    assert samples[nn] == samples[torch]
    if top_k is not None:  # only the k largest logits of each row were ever drawn
        allowed = np.argsort(-table, axis=1)[:, :top_k]
        rows = np.array(samples[nn])
        assert all(b in allowed[a] for a, b in zip(rows[:, :-1].ravel(), rows[:, 1:].ravel()))


def test_sampling_the_models_draws_torchs_names():
    for make in (make_mlp, make_gru):
        models = twin_models(make)
        samples = {}
        for lib, model in models.items():
            if make is make_mlp:
                def next_logits(prefix, lib=lib, model=model):
                    padding = lib.zeros(len(prefix), BLOCK - 1, dtype=prefix.dtype)
                    return model(lib.cat([padding, prefix], dim=1)[:, -BLOCK:])
            else:
                def next_logits(prefix, model=model):
                    return model(prefix)[0][:, -1]
            samples[lib] = sample(lib, next_logits, 20, lib.Generator().manual_seed(3),
                                  temperature=0.9, top_k=10)
        assert samples[nn] == samples[torch]


def test_torchs_constants():
    for name in ("inf", "nan", "pi", "e", "newaxis"):
        ours, theirs = getattr(nn, name), getattr(torch, name)
        assert type(ours) is type(theirs) and (ours == theirs or ours != ours)
    masked = nn.tensor([1.0, 2.0]).masked_fill(nn.tensor([True, False]), -nn.inf)
    assert masked.tolist() == [-float("inf"), 2.0]
    assert nn.arange(3)[:, nn.newaxis].shape == torch.arange(3)[:, torch.newaxis].shape
