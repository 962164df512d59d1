# Classifying two interleaved spirals with a small MLP: Dataset, DataLoader, an
# optimizer with momentum, a learning-rate schedule, gradient clipping, train/eval.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset, TensorDataset


class Spirals(Dataset):
    "Two spirals of n points each; the points are computed, not drawn."

    def __init__(self, n):
        t = torch.linspace(0.25, 2 * math.pi, n)
        arm = torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1) / (2 * math.pi)
        # alternate the classes, so that every batch holds both
        self.x = torch.stack([arm, -arm], dim=1).reshape(-1, 2)
        self.y = torch.tensor([0, 1]).repeat(n)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.x[i], self.y[i]


train = Spirals(64)
print(len(train), train[0][0].shape, train[0][1].dtype, train[70])
loader = DataLoader(train, batch_size=32, shuffle=False)
xb, yb = next(iter(loader))
print(len(loader), xb.shape, yb.shape, yb[:4])

model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(),
                      nn.Linear(16, 2))
with torch.no_grad():
    for k, p in enumerate(model.parameters()):
        p.copy_(0.4 * torch.sin(torch.arange(p.numel()) * 0.7 + k).reshape(p.shape))
print(model[0], sum(p.numel() for p in model.parameters()))

optimizer = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=50, gamma=0.5)
loss_fn = nn.CrossEntropyLoss()
for epoch in range(150):
    model.train()
    total = 0.0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=2.0)
        optimizer.step()
        total += loss.item() * len(yb)
    scheduler.step()
    if epoch % 30 == 29:
        print(f"epoch {epoch + 1:3d} loss {total / len(train):.4f} "
              f"lr {scheduler.get_last_lr()[0]:.4f} grad norm {norm:.4f}")

model.eval()
with torch.no_grad():
    logits = model(train.x)
    probs = F.softmax(logits, dim=1)
    accuracy = (logits.argmax(dim=1) == train.y).float().mean()
print(f"accuracy {accuracy.item():.3f}", probs[:3], probs.sum(dim=1)[:3])

# the same data as a TensorDataset, evaluated in batches
test = TensorDataset(train.x[::4], train.y[::4])
correct = sum((model(x).argmax(1) == y).sum().item() for x, y in DataLoader(test, 10))
state = optimizer.state_dict()["state"]
print(len(test), correct, optimizer.param_groups[0]["lr"])
print(sorted(state), state[0]["momentum_buffer"].shape)
