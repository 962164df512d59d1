# Linear regression with nn.Linear and a hand-written training loop that updates
# the parameters through .data (the way many early PyTorch tutorials did).
import numpy as np
import torch
import torch.nn as nn

# y = 2 x1 - 3.4 x2 + 4.2 plus a little noise, from a fixed NumPy seed
rng = np.random.default_rng(0)
features = rng.normal(0, 1, (200, 2)).astype(np.float32)
true_w, true_b = np.array([2.0, -3.4], dtype=np.float32), 4.2
labels = features @ true_w + true_b + rng.normal(0, 0.01, 200).astype(np.float32)
X = torch.from_numpy(features)
y = torch.from_numpy(labels).reshape(-1, 1)
print(X.shape, y.shape, X.dtype, y.dtype, X[:2])


class LinearRegression(nn.Module):
    def __init__(self, in_features):
        super().__init__()
        self.linear = nn.Linear(in_features, 1)

    def forward(self, x):
        return self.linear(x)


model = LinearRegression(2)
with torch.no_grad():
    model.linear.weight.copy_(torch.tensor([[0.1, -0.2]]))
    model.linear.bias.fill_(0.0)
print(model)
print([name for name, _ in model.named_parameters()])
print(sum(p.numel() for p in model.parameters() if p.requires_grad))

criterion = nn.MSELoss()
learning_rate = 0.1
batch_size = 20
for epoch in range(5):
    for start in range(0, len(X), batch_size):
        xb, yb = X[start:start + batch_size], y[start:start + batch_size]
        loss = criterion(model(xb), yb)
        model.zero_grad()
        loss.backward()
        for param in model.parameters():
            param.data -= learning_rate * param.grad.data
    with torch.no_grad():
        train_loss = criterion(model(X), y)
    print(f"epoch {epoch + 1}, loss {train_loss.item():f}")

w = model.linear.weight.data
b = model.linear.bias.data
error = (w.reshape(true_w.shape) - torch.tensor(true_w)).abs()
print("estimated w:", w, "error:", error, (error < 0.01).all())
print("estimated b:", b.item(), "error:", abs(b.item() - true_b) < 0.01)
print(model.linear.weight.grad is not None, model.linear.weight.grad.shape)

# the closed form, for comparison: least squares through the normal equations
Xb = torch.cat([X, torch.ones(len(X), 1)], dim=1).double()
theta = torch.linalg.solve(Xb.T @ Xb, Xb.T @ y.double())
print(theta.squeeze(), theta.dtype)
with torch.no_grad():
    predictions = model(torch.tensor([[1.0, 1.0], [0.0, 0.0]]))
print(predictions, predictions.requires_grad)
