# A character-level language model on a short text: a vocabulary, encode/decode, a
# bigram model (nn.Embedding as a lookup table of logits), then a small MLP over a
# context of a few characters, trained with AdamW, and greedy generation.
import torch
import torch.nn as nn
import torch.nn.functional as F

text = """First Citizen:
Before we proceed any further, hear me speak.

All:
Speak, speak.

First Citizen:
You are all resolved rather to die than to famish?

All:
Resolved. resolved.

First Citizen:
First, you know Caius Marcius is chief enemy to the people.

All:
We know't, we know't.

First Citizen:
Let us kill him, and we'll have corn at our own price.
Is't a verdict?

All:
No more talking on't; let it be done: away, away!
"""

# here are all the unique characters that occur in this text
chars = sorted(list(set(text)))
vocab_size = len(chars)
print(''.join(chars))
print(vocab_size, len(text))
# create a mapping from characters to integers
stoi = {ch: i for i, ch in enumerate(chars)}
itos = {i: ch for i, ch in enumerate(chars)}
encode = lambda s: [stoi[c] for c in s]  # encoder: take a string, output a list of integers
decode = lambda l: ''.join([itos[i] for i in l])  # decoder: take a list of integers, output a string
print(encode("hear me"))
print(decode(encode("hear me")))

data = torch.tensor(encode(text), dtype=torch.long)
print(data.shape, data.dtype)
print(data[:20])
n = int(0.9 * len(data))  # first 90% will be train, rest val
train_data = data[:n]
val_data = data[n:]

block_size = 8
batch_size = 16


def get_batch(split, step):
    # a fixed walk through the data instead of torch.randint
    data = train_data if split == 'train' else val_data
    ix = (torch.arange(batch_size) * 37 + step * 11) % (len(data) - block_size)
    x = torch.stack([data[i:i + block_size] for i in ix])
    y = torch.stack([data[i + 1:i + block_size + 1] for i in ix])
    return x, y


xb, yb = get_batch('train', 0)
print('inputs:', xb.shape)
print(xb[:2])
print('targets:', yb.shape)
print(yb[:2])
for t in range(3):
    context = xb[0, :t + 1]
    target = yb[0, t]
    print(f"when input is {context.tolist()} the target: {target}")


def fill_(model, scale):
    "Deterministic weights: each parameter gets a cosine pattern of its own."
    with torch.no_grad():
        for k, (name, p) in enumerate(model.named_parameters()):
            values = torch.cos(torch.arange(p.numel(), dtype=torch.float32) * 0.83 + k)
            p.copy_(scale * values.view(p.shape) if 'weight' in name else 0 * p)


class BigramLanguageModel(nn.Module):

    def __init__(self, vocab_size):
        super().__init__()
        # each token directly reads off the logits for the next token from a lookup table
        self.token_embedding_table = nn.Embedding(vocab_size, vocab_size)

    def forward(self, idx, targets=None):
        # idx and targets are both (B,T) tensor of integers
        logits = self.token_embedding_table(idx)  # (B,T,C)
        if targets is None:
            loss = None
        else:
            B, T, C = logits.shape
            logits = logits.view(B * T, C)
            targets = targets.view(B * T)
            loss = F.cross_entropy(logits, targets)
        return logits, loss

    def generate(self, idx, max_new_tokens):
        # idx is (B, T) array of indices in the current context
        for _ in range(max_new_tokens):
            logits, loss = self(idx)
            logits = logits[:, -1, :]  # becomes (B, C)
            idx_next = torch.argmax(logits, dim=-1, keepdim=True)  # greedy: (B, 1)
            idx = torch.cat((idx, idx_next), dim=1)  # (B, T+1)
        return idx


m = BigramLanguageModel(vocab_size)
fill_(m, 0.1)
logits, loss = m(xb, yb)
print(logits.shape)
print(loss)
idx = torch.tensor([[stoi['W']]])
print(repr(decode(m.generate(idx, max_new_tokens=20)[0].tolist())))

optimizer = torch.optim.AdamW(m.parameters(), lr=1e-2)
for steps in range(300):
    xb, yb = get_batch('train', steps)
    logits, loss = m(xb, yb)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    if steps % 50 == 0 or steps == 299:
        print(steps, f"{loss.item():.4f}")
print(repr(decode(m.generate(idx, max_new_tokens=40)[0].tolist())))


# An MLP over the last few characters
class MLPLanguageModel(nn.Module):

    def __init__(self, vocab_size, n_embd=16, context=4, n_hidden=64):
        super().__init__()
        self.context = context
        self.embedding = nn.Embedding(vocab_size, n_embd)
        self.mlp = nn.Sequential(
            nn.Linear(context * n_embd, n_hidden),
            nn.Tanh(),
            nn.Linear(n_hidden, vocab_size),
        )

    def forward(self, idx, targets=None):
        # pad on the left with the first token so that every position sees `context`
        B, T = idx.shape
        padded = torch.cat([idx[:, :1].expand(B, self.context - 1), idx], dim=1)
        windows = padded.unfold(1, self.context, 1)  # (B, T, context)
        emb = self.embedding(windows)  # (B, T, context, n_embd)
        logits = self.mlp(emb.flatten(start_dim=2))  # (B, T, vocab_size)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.view(B * T, -1), targets.view(B * T))
        return logits, loss

    @torch.no_grad()
    def generate(self, idx, max_new_tokens):
        for _ in range(max_new_tokens):
            logits, _ = self(idx[:, -block_size:])
            idx_next = logits[:, -1, :].argmax(dim=-1, keepdim=True)
            idx = torch.cat((idx, idx_next), dim=1)
        return idx


@torch.no_grad()
def estimate_loss(model):
    out = {}
    model.eval()
    for split in ['train', 'val']:
        losses = torch.zeros(5)
        for k in range(5):
            X, Y = get_batch(split, k)
            logits, loss = model(X, Y)
            losses[k] = loss.item()
        out[split] = losses.mean()
    model.train()
    return out


model = MLPLanguageModel(vocab_size)
fill_(model, 0.2)
print(sum(p.numel() for p in model.parameters()), 'parameters')
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
for iter in range(400):
    if iter % 100 == 0 or iter == 399:
        losses = estimate_loss(model)
        print(f"step {iter}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}")
    xb, yb = get_batch('train', iter)
    logits, loss = model(xb, yb)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()

context = torch.tensor([encode("First Citizen:\n")], dtype=torch.long)
print(repr(decode(model.generate(context, max_new_tokens=60)[0].tolist())))
print(model.embedding.weight[stoi['a'], :4])
