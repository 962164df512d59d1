"""The GPT of chapter "A GPT, trained", built with torch and with nn: same weights after the
same seed, same losses over a few training steps, same gradients for every parameter."""
import math

import numpy as np
import pytest
import torch

import nn

VOCAB, BLOCK, EMBD, HEADS = 11, 12, 16, 2


def build(lib, n_layer=2):
    "A small pre-norm GPT with a tied head, as PyTorch code, made of `lib`'s layers."
    L = torch.nn if lib is torch else nn
    F = L.functional

    class Attention(L.Module):
        def __init__(self):
            super().__init__()
            self.qkv, self.proj = L.Linear(EMBD, 3 * EMBD), L.Linear(EMBD, EMBD)

        def forward(self, x):
            B, T, C = x.shape
            q, k, v = (t.reshape(B, T, HEADS, C // HEADS).transpose(1, 2)
                       for t in self.qkv(x).split(EMBD, dim=2))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.proj(y.transpose(1, 2).reshape(B, T, C))

    class Block(L.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.attn, self.ln2 = L.LayerNorm(EMBD), Attention(), L.LayerNorm(EMBD)
            self.mlp = L.Sequential(L.Linear(EMBD, 4 * EMBD), L.GELU(),
                                    L.Linear(4 * EMBD, EMBD), L.Dropout(0.0))

        def forward(self, x):
            x = x + self.attn(self.ln1(x))
            return x + self.mlp(self.ln2(x))

    class GPT(L.Module):
        def __init__(self):
            super().__init__()
            self.tok, self.pos = L.Embedding(VOCAB, EMBD), L.Embedding(BLOCK, EMBD)
            self.blocks = L.ModuleList([Block() for _ in range(n_layer)])
            self.ln_f = L.LayerNorm(EMBD)
            self.head = L.Linear(EMBD, VOCAB, bias=False)
            self.head.weight = self.tok.weight
            for module in self.modules():
                if isinstance(module, (L.Linear, L.Embedding)):
                    L.init.normal_(module.weight, std=0.02)
                if isinstance(module, L.Linear) and module.bias is not None:
                    L.init.zeros_(module.bias)

        def forward(self, idx):
            x = self.tok(idx) + self.pos(lib.arange(idx.shape[1]))
            for block in self.blocks:
                x = block(x)
            return self.head(self.ln_f(x))

    return GPT()


def seeded(lib, seed=0):
    "The GPT built with `lib` after manual_seed(seed)."
    lib.manual_seed(seed)
    return build(lib)


def twins():
    "A seeded torch GPT and an nn GPT holding exactly its weights."
    torch_model, nn_model = seeded(torch), seeded(nn)
    nn_model.load_state_dict({k: v.numpy() for k, v in torch_model.state_dict().items()})
    return torch_model, nn_model


def batch(step, size=16):
    "Sorting problems: inputs (size, 12) and targets with -100 on the unasked positions."
    rng = np.random.default_rng(step)
    digits = rng.integers(0, 10, size=(size, 6))
    seq = np.concatenate([digits, np.full((size, 1), 10), np.sort(digits, 1)], 1)
    targets = seq[:, 1:].copy()
    targets[:, :6] = -100
    return seq[:, :-1], targets


def loss_of(lib, model, step):
    "The cross-entropy of the model on batch `step`, answer positions only."
    inputs, targets = batch(step)
    logits = model(lib.tensor(inputs))
    F = torch.nn.functional if lib is torch else nn.functional
    return F.cross_entropy(logits.reshape(-1, VOCAB), lib.tensor(targets).reshape(-1))


def train(lib, model, steps):
    "AdamW with warm-up + cosine LambdaLR and clip_grad_norm_; the losses."
    L = torch.nn if lib is torch else nn
    optimizer = lib.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.1)
    factor = lambda s: min(1.0, (s + 1) / 3) * 0.5 * (1 + math.cos(math.pi * s / steps))
    scheduler = lib.optim.lr_scheduler.LambdaLR(optimizer, factor)
    losses = []
    for step in range(steps):
        loss = loss_of(lib, model, step)
        optimizer.zero_grad()
        loss.backward()
        L.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    return np.array(losses)


def test_same_seed_same_state_dict():
    ours, theirs = seeded(nn).state_dict(), seeded(torch).state_dict()
    assert list(ours) == list(theirs)
    for name in theirs:
        assert ours[name].shape == tuple(theirs[name].shape), name
        np.testing.assert_allclose(ours[name].numpy(), theirs[name].numpy(), rtol=0,
                                   atol=1e-7, err_msg=name)  # normals: last bit or so


def test_tied_head():
    model = seeded(nn)
    assert model.head.weight is model.tok.weight
    assert len(list(model.parameters())) == len(model.state_dict()) - 1


def test_five_steps_same_losses():
    torch_losses, nn_losses = train(torch, seeded(torch), 5), train(nn, seeded(nn), 5)
    np.testing.assert_allclose(nn_losses, torch_losses, rtol=1e-5)
    assert nn_losses[-1] < nn_losses[0]


def test_gradients_of_every_parameter():
    torch_model, nn_model = twins()
    loss_of(torch, torch_model, 0).backward()
    loss_of(nn, nn_model, 0).backward()
    theirs = dict(torch_model.named_parameters())
    ours = dict(nn_model.named_parameters())
    assert list(ours) == list(theirs)
    for name, p in theirs.items():
        assert ours[name].grad is not None, name
        np.testing.assert_allclose(ours[name].grad.numpy(), p.grad.numpy(), rtol=1e-4,
                                   atol=1e-7, err_msg=name)
