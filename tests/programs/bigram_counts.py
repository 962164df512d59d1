# A character-level bigram model of names, counted and then learned
# (after Andrej Karpathy's makemore, part 1).
import numpy as np
import torch
import torch.nn.functional as F

words = """emma olivia ava isabella sophia charlotte mia amelia harper evelyn abigail
emily elizabeth mila ella avery sofia camila aria scarlett victoria madison luna grace
chloe penelope layla riley zoey nora lily hazel violet aurora quinn xavier jackson
kevin william felix oliver noah liam james benjamin lucas henry theodore jack levi
alexander mateo""".split()
print(len(words), min(len(w) for w in words), max(len(w) for w in words))

chars = sorted(list(set(''.join(words))))
stoi = {s: i + 1 for i, s in enumerate(chars)}
stoi['.'] = 0
itos = {i: s for s, i in stoi.items()}

N = torch.zeros((27, 27), dtype=torch.int32)
for w in words:
    chs = ['.'] + list(w) + ['.']
    for ch1, ch2 in zip(chs, chs[1:]):
        ix1 = stoi[ch1]
        ix2 = stoi[ch2]
        N[ix1, ix2] += 1
print(N.dtype, N.sum().item(), N[0, :8], N[stoi['a']].argmax().item())
print(N[0, 1], N[0, 1].item(), N.max(), (N > 0).sum())

P = (N + 1).float()
P /= P.sum(1, keepdims=True)
print(P.shape, P[0].sum().item(), P[0, :4])

log_likelihood = 0.0
n = 0
for w in words:
    chs = ['.'] + list(w) + ['.']
    for ch1, ch2 in zip(chs, chs[1:]):
        prob = P[stoi[ch1], stoi[ch2]]
        logprob = torch.log(prob)
        log_likelihood += logprob
        n += 1
print(f'{log_likelihood=}')
nll = -log_likelihood
print(f'{nll=}')
print(f'{nll/n}')

g = torch.Generator().manual_seed(2147483647)
samples = []
for i in range(20):
    out = []
    ix = 0
    while True:
        p = P[ix]
        ix = torch.multinomial(p, num_samples=1, replacement=True, generator=g).item()
        out.append(itos[ix])
        if ix == 0:
            break
    samples.append(''.join(out))
print(len(samples), all(s.endswith('.') and '.' not in s[:-1] for s in samples))

# the same model as a one-layer neural net trained by gradient descent
xs, ys = [], []
for w in words:
    chs = ['.'] + list(w) + ['.']
    for ch1, ch2 in zip(chs, chs[1:]):
        xs.append(stoi[ch1])
        ys.append(stoi[ch2])
xs = torch.tensor(xs)
ys = torch.tensor(ys)
num = xs.nelement()
print('number of examples:', num, xs.dtype)

rng = np.random.default_rng(2147483647)
W = torch.tensor(rng.standard_normal((27, 27)), dtype=torch.float32,
                 requires_grad=True)
for k in range(30):
    # forward pass
    # input to the network: one-hot encoding
    xenc = F.one_hot(xs, num_classes=27).float()
    logits = xenc @ W  # predict log-counts
    counts = logits.exp()  # counts, equivalent to N
    probs = counts / counts.sum(1, keepdims=True)  # probabilities for next character
    loss = -probs[torch.arange(num), ys].log().mean() + 0.01 * (W ** 2).mean()
    if k % 5 == 0:
        print(k, loss.item())
    # backward pass
    W.grad = None  # set to zero the gradient
    loss.backward()
    # update
    W.data += -50 * W.grad
print(f"final loss {loss.item():.4f}, counts model nll {(nll / n).item():.4f}")
