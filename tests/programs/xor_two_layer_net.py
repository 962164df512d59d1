# XOR with a two-layer network written with tensors only: the weights are plain
# tensors with requires_grad, the loss is cross-entropy, the update is by hand.
import torch
import torch.nn.functional as F

X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
y = torch.tensor([0, 1, 1, 0])

W1 = torch.tensor([[0.5, -0.4, 0.3, 0.8], [-0.6, 0.7, 0.9, -0.2]], requires_grad=True)
b1 = torch.tensor([0.1, -0.1, 0.0, 0.05], requires_grad=True)
W2 = torch.tensor([[0.3, -0.5], [-0.4, 0.6], [0.7, 0.2], [-0.1, -0.8]],
                  requires_grad=True)
b2 = torch.zeros(2, requires_grad=True)
params = [W1, b1, W2, b2]
print(sum(p.numel() for p in params), [tuple(p.shape) for p in params])


def forward(x):
    hidden = torch.tanh(x @ W1 + b1)
    return hidden @ W2 + b2


learning_rate = 0.5
for step in range(301):
    logits = forward(X)
    loss = F.cross_entropy(logits, y)
    for p in params:
        p.grad = None
    loss.backward()
    with torch.no_grad():
        for p in params:
            p.data = p.data - learning_rate * p.grad
    if step % 50 == 0:
        accuracy = (logits.argmax(dim=1) == y).sum().item() / len(y)
        print(f"step {step:3d}  loss {loss.item():.5f}  accuracy {accuracy:.2f}")

with torch.no_grad():
    probs = F.softmax(forward(X), dim=1)
print(probs)
print(probs.argmax(dim=1).tolist(), y.tolist())
print(W1.grad.abs().max().item() < 0.1, loss.requires_grad, probs.requires_grad)
print(W2.detach(), b2.detach(), sep="\n")
