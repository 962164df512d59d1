# A typical first PyTorch script: seed once, make random data, build a model with its default
# initialization, train it with shuffled mini-batches and dropout, then sample from it.
# Everything random comes from torch's generator after torch.manual_seed.
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset, random_split

torch.manual_seed(42)

# two interleaved classes: the sign of x0 * x1
X = torch.randn(400, 2)
y = (X[:, 0] * X[:, 1] > 0).long()
print(X[:3])
print(y[:10], y.float().mean())

dataset = TensorDataset(X, y)
train_set, val_set = random_split(dataset, [320, 80])
print(len(train_set), len(val_set), train_set.indices[:5])
train_loader = DataLoader(train_set, batch_size=32, shuffle=True)
val_loader = DataLoader(val_set, batch_size=80)

model = nn.Sequential(nn.Linear(2, 32), nn.ReLU(), nn.Dropout(0.1),
                      nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 2))
print(model[0].weight[:2], model[0].bias[:4])
print(sum(p.numel() for p in model.parameters()))
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)

for epoch in range(6):
    model.train()
    total, count = 0.0, 0
    for xb, yb in train_loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(yb)
        count += len(yb)
    model.eval()
    with torch.no_grad():
        xb, yb = next(iter(val_loader))
        accuracy = (model(xb).argmax(1) == yb).float().mean().item()
    print(f"epoch {epoch}: train loss {total / count:.4f}, val accuracy {accuracy:.3f}")

# sampling from the model's predictive distribution
with torch.no_grad():
    probs = F.softmax(model(torch.tensor([[1.0, 1.0], [1.0, -1.0], [0.1, 0.05]])), dim=1)
print(probs)
print(torch.multinomial(probs, 5, replacement=True))
print(torch.randint(0, 10, (8,)), torch.randperm(8), torch.rand(3))
