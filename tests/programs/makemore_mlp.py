# A character-level MLP language model of names: embeddings, a tanh hidden layer,
# cross-entropy, minibatches (after Andrej Karpathy's makemore, part 2).
import numpy as np
import torch
import torch.nn.functional as F

words = """emma olivia ava isabella sophia charlotte mia amelia harper evelyn abigail
emily elizabeth mila ella avery sofia camila aria scarlett victoria madison luna grace
chloe penelope layla riley zoey nora lily hazel violet aurora quinn xavier jackson
kevin william felix oliver noah liam james benjamin lucas henry theodore jack levi
alexander mateo""".split()
chars = sorted(list(set(''.join(words))))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi['.'] = 0
itos = {i: s for s, i in stoi.items()}

block_size = 3  # context length: how many characters we take to predict the next one


def build_dataset(words):
    X, Y = [], []
    for w in words:
        context = [0] * block_size
        for ch in w + '.':
            ix = stoi[ch]
            X.append(context)
            Y.append(ix)
            context = context[1:] + [ix]  # crop and append
    X = torch.tensor(X)
    Y = torch.tensor(Y)
    print(X.shape, Y.shape)
    return X, Y


Xtr, Ytr = build_dataset(words[:44])
Xdev, Ydev = build_dataset(words[44:])

rng = np.random.default_rng(2147483647)  # the tutorial uses torch.Generator and randn
C = torch.tensor(rng.standard_normal((27, 10)), dtype=torch.float32)
W1 = torch.tensor(rng.standard_normal((30, 64)) * 0.2, dtype=torch.float32)
b1 = torch.tensor(rng.standard_normal(64) * 0.01, dtype=torch.float32)
W2 = torch.tensor(rng.standard_normal((64, 27)) * 0.1, dtype=torch.float32)
b2 = torch.zeros(27)
parameters = [C, W1, b1, W2, b2]
print(sum(p.nelement() for p in parameters))  # number of parameters in total
for p in parameters:
    p.requires_grad = True

lossi = []
for i in range(300):
    # minibatch construct (a fixed pattern instead of torch.randint)
    ix = (torch.arange(32) * 7 + i * 32) % Xtr.shape[0]
    # forward pass
    emb = C[Xtr[ix]]  # (32, 3, 10)
    h = torch.tanh(emb.view(-1, 30) @ W1 + b1)  # (32, 64)
    logits = h @ W2 + b2  # (32, 27)
    loss = F.cross_entropy(logits, Ytr[ix])
    # backward pass
    for p in parameters:
        p.grad = None
    loss.backward()
    # update
    lr = 0.1 if i < 200 else 0.01
    for p in parameters:
        p.data += -lr * p.grad
    lossi.append(loss.log10().item())
    if i % 50 == 0:
        print(f"{i:4d} {loss.item():.4f} {lossi[-1]:.4f}")


@torch.no_grad()  # this decorator disables gradient tracking
def split_loss(X, Y):
    emb = C[X]
    h = torch.tanh(emb.view(emb.shape[0], -1) @ W1 + b1)
    return F.cross_entropy(h @ W2 + b2, Y).item()


print(f"train {split_loss(Xtr, Ytr):.4f} dev {split_loss(Xdev, Ydev):.4f}")

# sample from the model
g = torch.Generator().manual_seed(2147483647 + 10)
names = []
for _ in range(10):
    out = []
    context = [0] * block_size  # initialize with all ...
    while True:
        emb = C[torch.tensor([context])]  # (1, block_size, d)
        h = torch.tanh(emb.view(1, -1) @ W1 + b1)
        probs = F.softmax(h @ W2 + b2, dim=1)
        ix = torch.multinomial(probs, num_samples=1, generator=g).item()
        context = context[1:] + [ix]
        out.append(ix)
        if ix == 0 or len(out) > 30:
            break
    names.append(''.join(itos[i] for i in out))
print(len(names), all(set(n) <= set(stoi) for n in names))
print(probs.shape, probs.requires_grad)
