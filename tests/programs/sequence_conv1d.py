# A 1-D convolutional network on sequences: causal convolutions (F.pad on the left),
# Conv1d, MaxPool1d, global average pooling over time, RMSprop with a StepLR schedule,
# gradient accumulation over two batches, and parameters_to_vector. The task: tell
# a rising chirp, a falling chirp and a steady tone apart.
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import parameters_to_vector
from torch.utils.data import DataLoader, TensorDataset

# float64 throughout: in float32 one pre-activation of this run lands within 1e-8 of
# ReLU's kink, and which side the two libraries' roundings put it on decides the digits
# printed from the second epoch on.
torch.set_default_dtype(torch.float64)


def make_sequences(n, length=48, offset=0):
    index = torch.arange(offset, offset + n)
    kind = index % 3
    t = torch.linspace(0, 1, length).view(1, -1)
    base = 6.0 + (index % 4).float().view(-1, 1)
    rate = torch.tensor([8.0, -8.0, 0.0])[kind].view(-1, 1)
    phase = 2 * math.pi * (base * t + 0.5 * rate * t ** 2)
    wave = torch.sin(phase + 0.3 * index.float().view(-1, 1))
    envelope = 0.8 + 0.2 * torch.cos(3 * t + index.float().view(-1, 1))
    return (wave * envelope).unsqueeze(1), kind  # (n, 1, length), (n,)


class CausalConv1d(nn.Conv1d):
    "A convolution that sees only the past: pad (kernel_size - 1) * dilation on the left."

    def __init__(self, in_channels, out_channels, kernel_size, dilation=1):
        super().__init__(in_channels, out_channels, kernel_size, dilation=dilation)
        self.left = (kernel_size - 1) * dilation

    def forward(self, x):
        return super().forward(F.pad(x, (self.left, 0)))


class SequenceNet(nn.Module):
    def __init__(self, channels=8, classes=3):
        super().__init__()
        self.conv1 = CausalConv1d(1, channels, 5)
        self.pool = nn.MaxPool1d(2)
        self.conv2 = CausalConv1d(channels, channels, 3, dilation=2)
        self.head = nn.Linear(channels, classes)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))  # (N, C, L/2)
        x = F.relu(self.conv2(x))
        return self.head(x.mean(dim=2))  # average over time


x_train, y_train = make_sequences(96)
x_val, y_val = make_sequences(30, offset=500)
print(x_train.shape, y_train[:6], x_train[0, 0, :5])
train_loader = DataLoader(TensorDataset(x_train, y_train), batch_size=16)

model = SequenceNet()
with torch.no_grad():
    for k, p in enumerate(model.parameters()):
        fan_in = p[0].numel() if p.dim() > 1 else 10
        p.copy_(torch.cos(torch.arange(p.numel()) * 1.7 + k).view(p.shape))
        p.mul_(math.sqrt(3 / fan_in))
print(model)
print(model.conv2.weight.shape, model.conv2.dilation, model.conv2.padding)
print(parameters_to_vector(model.parameters()).shape)
with torch.no_grad():
    h = model.pool(F.relu(model.conv1(x_train[:2])))
print(h.shape, model(x_train[:2]).shape)

optimizer = torch.optim.RMSprop(model.parameters(), lr=0.01, alpha=0.9)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=4, gamma=0.5)
accumulate = 2
for epoch in range(12):
    model.train()
    optimizer.zero_grad()
    total = 0.0
    for i, (xb, yb) in enumerate(train_loader):
        loss = F.cross_entropy(model(xb), yb) / accumulate
        loss.backward()
        total += loss.item()
        if (i + 1) % accumulate == 0:
            optimizer.step()
            optimizer.zero_grad()
    scheduler.step()
    model.eval()
    with torch.no_grad():
        logits = model(x_val)
        val_loss = F.cross_entropy(logits, y_val).item()
        val_acc = (logits.argmax(1) == y_val).float().mean().item()
    if epoch % 2 == 1:
        print(f"epoch {epoch + 1:2d} train {total / len(train_loader) * accumulate:.4f} "
              f"val {val_loss:.4f} acc {val_acc:.3f} lr {scheduler.get_last_lr()[0]:.5f}")

state = optimizer.state_dict()
print(sorted(state["state"][0]), state["param_groups"][0]["alpha"])
print(model.head.bias.data, parameters_to_vector(model.parameters()).norm())
