"""One training step of three models in nn and in PyTorch (CPU, eager): the same code, run by both.

    (gpt)  a GPT: vocabulary 65, context 64, 4 layers, 4 heads, width 128, batch 16; AdamW
    (lstm) a character LSTM: embedding 64, hidden 256, sequence 64, batch 32; Adam
    (cnn)  a LeNet-style CNN with batch norm on 1x28x28 inputs, batch 64; SGD with momentum

Each model is written once, as PyTorch code, in a function of the library. Both libraries are seeded
alike (nn draws PyTorch's random numbers) and nn is then given torch's state_dict, so both start
from the same weights; they see the same batches of random tokens or images, and one step of each is
checked to give the same loss and weights before timing. Runs are interleaved (one repeat of each
library in turn, each after a short untimed settling run) and the table reports the median time per
step. The script also profiles nn on each model, and with --memory follows nn's memory over
thousands of steps.

    python bench/models.py              # about eight minutes; writes results-models.json, profile-models.txt
    python bench/models.py --quick      # a short run; prints the table, writes nothing
    python bench/models.py --threads 1  # BLAS and torch on one thread (needs threadpoolctl)
    python bench/models.py --memory 3000 --only lstm   # memory over 3000 steps (tracemalloc)

Nothing here is a test, and no test asserts a timing.
"""
import argparse
import gc
import json
import math
import os
import sys
import time
import tracemalloc

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from train import (blas_threads, busy_seconds, describe, machine, median_seconds,  # noqa: E402
                   others_share, profiled, short_name)
import nn  # noqa: E402  (the checkout's nn, put on the path by train)

BATCHES = 4  # distinct batches per model, used in turn
MEMORY_STEPS = 2000  # steps over which a full run follows nn's memory
AIMS = {"gpt": 1.25, "lstm": 1.25, "cnn": 1.5}  # largest nn/torch aimed at: reported, never asserted
MODELS = {
    "gpt": "GPT: vocab 65, context 64, 4 layers x 4 heads, width 128, batch 16, AdamW",
    "lstm": "char LSTM: embedding 64, hidden 256, sequence 64, batch 32, Adam",
    "cnn": "LeNet CNN + BatchNorm2d: 1x28x28, batch 64, SGD momentum",
}


# --- the models, written once as PyTorch code ------------------------------------------------------
def layers_of(lib):
    "torch.nn for torch; nn is its own torch.nn."
    return torch.nn if lib is torch else nn


def gpt(lib, vocab=65, context=64, width=128, heads=4, depth=4):
    "A pre-LayerNorm GPT with causal self-attention, a GELU MLP and a tied output layer."
    L = layers_of(lib)
    F = L.functional

    class SelfAttention(L.Module):
        def __init__(self):
            super().__init__()
            self.qkv, self.proj = L.Linear(width, 3 * width), L.Linear(width, width)

        def forward(self, x):
            B, T, C = x.shape
            q, k, v = (part.reshape(B, T, heads, C // heads).transpose(1, 2)
                       for part in self.qkv(x).split(C, dim=2))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.proj(y.transpose(1, 2).reshape(B, T, C))

    class Block(L.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.attn, self.ln2 = L.LayerNorm(width), SelfAttention(), L.LayerNorm(width)
            self.mlp = L.Sequential(L.Linear(width, 4 * width), L.GELU(), L.Linear(4 * width, width))

        def forward(self, x):
            x = x + self.attn(self.ln1(x))
            return x + self.mlp(self.ln2(x))

    class GPT(L.Module):
        def __init__(self):
            super().__init__()
            self.tok, self.pos = L.Embedding(vocab, width), L.Embedding(context, width)
            self.blocks = L.ModuleList([Block() for _ in range(depth)])
            self.ln_f, self.head = L.LayerNorm(width), L.Linear(width, vocab, bias=False)
            self.head.weight = self.tok.weight

        def forward(self, idx):
            x = self.tok(idx) + self.pos(lib.arange(idx.shape[1]))
            for block in self.blocks:
                x = block(x)
            return self.head(self.ln_f(x))

    return GPT()


def char_lstm(lib, vocab=65, embedding=64, hidden=256):
    "Embedding, one LSTM layer, a linear read-out at every position."
    L = layers_of(lib)

    class CharLSTM(L.Module):
        def __init__(self):
            super().__init__()
            self.embed = L.Embedding(vocab, embedding)
            self.lstm = L.LSTM(embedding, hidden, batch_first=True)
            self.out = L.Linear(hidden, vocab)

        def forward(self, idx):
            states, _ = self.lstm(self.embed(idx))
            return self.out(states)

    return CharLSTM()


def lenet(lib):
    "Two convolution blocks with batch norm and max pooling, then three linear layers."
    L = layers_of(lib)
    return L.Sequential(
        L.Conv2d(1, 6, 5, padding=2), L.BatchNorm2d(6), L.ReLU(), L.MaxPool2d(2),
        L.Conv2d(6, 16, 5), L.BatchNorm2d(16), L.ReLU(), L.MaxPool2d(2), L.Flatten(),
        L.Linear(400, 120), L.ReLU(), L.Linear(120, 84), L.ReLU(), L.Linear(84, 10))


def batches(kind, rng):
    "BATCHES (input, target) pairs as NumPy arrays: random tokens, or random images and labels."
    if kind == "cnn":
        return [(rng.standard_normal((64, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, 64))
                for _ in range(BATCHES)]
    batch = 16 if kind == "gpt" else 32
    return [(rng.integers(0, 65, (batch, 64)), rng.integers(0, 65, (batch, 64)))
            for _ in range(BATCHES)]


def build(lib, kind):
    "The model and its optimizer."
    lib.manual_seed(0)
    model = {"gpt": gpt, "lstm": char_lstm, "cnn": lenet}[kind](lib)
    if kind == "gpt":
        optimizer = lib.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.1)
    elif kind == "lstm":
        optimizer = lib.optim.Adam(model.parameters(), lr=1e-3)
    else:
        optimizer = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return model, optimizer


def trainer(lib, kind, model, optimizer, data):
    "step(i): one training step of `model` on batch i (mod BATCHES); returns the loss."
    F = layers_of(lib).functional
    tensors = [(lib.tensor(x), lib.tensor(y)) for x, y in data]

    def step(i):
        x, y = tensors[i % len(tensors)]
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss
    return step


def twins(kind):
    "torch's and nn's (model, step) for one model, from the same weights and the same batches."
    data = batches(kind, np.random.default_rng(0))
    torch_model, torch_optimizer = build(torch, kind)
    nn_model, nn_optimizer = build(nn, kind)
    nn_model.load_state_dict({k: v.numpy() for k, v in torch_model.state_dict().items()})
    return ((torch_model, trainer(torch, kind, torch_model, torch_optimizer, data)),
            (nn_model, trainer(nn, kind, nn_model, nn_optimizer, data)))


def check_same_step(kind):
    "From the same start, the same loss and the same gradient for every parameter."
    data = batches(kind, np.random.default_rng(0))[:1]
    (torch_model, torch_step), (nn_model, nn_step) = twins(kind)
    losses = []
    for lib, model in ((torch, torch_model), (nn, nn_model)):
        (x, y), = data
        logits = model(lib.tensor(x))
        loss = layers_of(lib).functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                                       lib.tensor(y).reshape(-1))
        loss.backward()
        losses.append(loss.item())
    assert math.isclose(*losses, rel_tol=1e-5), f"{kind}: losses differ: {losses}"
    theirs = dict(torch_model.named_parameters())
    for name, ours in nn_model.named_parameters():
        np.testing.assert_allclose(ours.grad.numpy(), theirs[name].grad.numpy(), rtol=1e-3,
                                   atol=1e-6, err_msg=f"{kind}: the gradient of {name}")


# --- timing, profile, memory --------------------------------------------------------------------
def time_model(kind, repeats, seconds_per_repeat):
    "Median seconds per step of torch and nn on one model, interleaved."
    check_same_step(kind)
    (_, torch_step), (_, nn_step) = twins(kind)
    torch_s, nn_s = median_seconds([torch_step, nn_step], repeats, seconds_per_repeat)
    return {"model": kind, "name": MODELS[kind], "torch_ms": round(torch_s * 1e3, 2),
            "nn_ms": round(nn_s * 1e3, 2), "nn/torch": round(nn_s / torch_s, 3),
            "aim": f"nn within {AIMS[kind]}x of torch", "aim_met": nn_s / torch_s <= AIMS[kind]}


def profile_model(kind, steps, top=12):
    "A short text: the nn functions with the largest own time over `steps` steps of one model."
    _, (_, step) = twins(kind)
    stats, rows = profiled(step, steps, 3, top)
    total = stats.total_tt
    lines = [f"({kind}) {MODELS[kind]}: {total / steps * 1e3:,.1f} ms per step under the profiler",
             f"{'calls/step':>10} {'own ms/step':>11} {'own %':>6}  function"]
    for (filename, line, function), (_, calls, own, _, _) in rows:
        lines.append(f"{calls / steps:>10.0f} {own / steps * 1e3:>11.2f} {100 * own / total:>5.1f}%  "
                     f"{short_name(filename, line, function)}")
    return "\n".join(lines) + "\n"


def traced_bytes():
    "Bytes allocated through Python's allocator (NumPy's arrays included), after a full collection."
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def follow_memory(kind, steps, every):
    "nn's traced memory (MiB) every `every` steps over `steps` training steps of one model."
    _, (_, step) = twins(kind)
    tracemalloc.start()
    try:
        trace = []
        for i in range(1, steps + 1):
            step(i)
            if i % every == 0:
                trace.append((i, round(traced_bytes() / 2**20, 3)))
    finally:
        tracemalloc.stop()
    return trace


def table(results):
    "The results as a small text table."
    header = f"{'model':<78} {'torch':>9} {'nn':>9} {'nn/torch':>8}  aim"
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(f"({r['model']}) {r['name']:<{75 - len(r['model'])}} {r['torch_ms']:>6.1f} ms "
                     f"{r['nn_ms']:>6.1f} ms {r['nn/torch']:>8.2f}  "
                     f"{'met' if r['aim_met'] else 'missed'}: {r['aim']}")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run that prints the table and writes nothing")
    parser.add_argument("--threads", type=int, help="BLAS and torch threads (default: NumPy's BLAS default)")
    parser.add_argument("--only", choices=sorted(MODELS), action="append", help="time only these models")
    parser.add_argument("--memory", type=int, metavar="STEPS", help="follow nn's memory over STEPS steps instead")
    args = parser.parse_args()
    if args.threads:
        from threadpoolctl import threadpool_limits
        limits = threadpool_limits(args.threads, user_api="blas")  # noqa: F841  (in force while it lives)
    threads, source = blas_threads()
    torch.set_num_threads(threads)
    kinds = args.only or list(MODELS)
    if args.memory:
        for kind in kinds:
            trace = follow_memory(kind, args.memory, max(1, args.memory // 10))
            print(f"({kind}) traced MiB at steps {', '.join(f'{s}: {m}' for s, m in trace)}")
        return
    repeats, seconds_per_repeat = (3, 0.3) if args.quick else (11, 1.0)
    settings = f"float32; median of {repeats} interleaved repeats of about {seconds_per_repeat} s"
    info = machine(threads, source)
    print(describe(info, settings), "\n")
    busy, start = busy_seconds(), time.perf_counter()
    results = []
    for kind in kinds:
        results.append(time_model(kind, repeats, seconds_per_repeat))
        print(f"  ({kind}) done", file=sys.stderr)
    share = others_share(busy, busy_seconds(), time.perf_counter() - start)
    info["other_processes_cpu_share"] = None if share is None else round(share, 3)
    print(table(results))
    if share is not None and share > 0.05:
        print(f"\nwarning: other processes used {share:.0%} of the CPUs during the run")
    if args.quick:
        return
    profiles = "".join(profile_model(kind, 20) + "\n" for kind in kinds)
    print("\n" + profiles)
    memory = {kind: follow_memory(kind, MEMORY_STEPS, MEMORY_STEPS // 10) for kind in kinds}
    for kind, trace in memory.items():
        print(f"({kind}) traced MiB at steps {', '.join(f'{s}: {m}' for s, m in trace)}")
    with open(os.path.join(HERE, "results-models.json"), "w") as f:
        json.dump({"machine": info, "settings": settings, "results": results,
                   "memory_steps": MEMORY_STEPS, "memory_mib": memory}, f, indent=1)
    with open(os.path.join(HERE, "profile-models.txt"), "w") as f:
        f.write(profiles)


if __name__ == "__main__":
    main()
