# Fit y = sin(x) with a third-order polynomial by gradient descent, updating the
# weights by hand (after "Learning PyTorch with Examples": Tensors and autograd).
import math

import torch

dtype = torch.float
device = torch.device("cpu")
# device = torch.device("cuda:0")  # Uncomment this to run on GPU

# Create Tensors to hold input and outputs.
x = torch.linspace(-math.pi, math.pi, 2000, device=device, dtype=dtype)
y = torch.sin(x)

# Tensors for the weights; requires_grad=True: we want gradients with respect to them.
# (The tutorial draws them with torch.randn; fixed values keep the run reproducible.)
a = torch.tensor(0.3, device=device, dtype=dtype, requires_grad=True)
b = torch.tensor(-0.2, device=device, dtype=dtype, requires_grad=True)
c = torch.tensor(0.1, device=device, dtype=dtype, requires_grad=True)
d = torch.tensor(0.05, device=device, dtype=dtype, requires_grad=True)

learning_rate = 1e-6
for t in range(2000):
    # Forward pass: compute predicted y using operations on Tensors.
    y_pred = a + b * x + c * x ** 2 + d * x ** 3

    # Compute and print loss using operations on Tensors.
    # Now loss is a Tensor of shape (1,); loss.item() gets the scalar value.
    loss = (y_pred - y).pow(2).sum()
    if t % 100 == 99:
        print(t, loss.item())

    # Use autograd to compute the backward pass.
    loss.backward()

    # Manually update weights using gradient descent. Wrap in torch.no_grad()
    # because weights have requires_grad=True, but we don't need to track this.
    with torch.no_grad():
        a -= learning_rate * a.grad
        b -= learning_rate * b.grad
        c -= learning_rate * c.grad
        d -= learning_rate * d.grad

        # Manually zero the gradients after updating weights
        a.grad = None
        b.grad = None
        c.grad = None
        d.grad = None

print(f"Result: y = {a.item():.4f} + {b.item():.4f} x + {c.item():.4f} x^2 "
      f"+ {d.item():.4f} x^3")
print(a.requires_grad, a.is_leaf, a.grad, y_pred.requires_grad)

# The same fit in float64, with the weights in a list and gradients zeroed in place.
x64 = x.to(torch.float64)
y64 = torch.sin(x64)
weights = [torch.tensor(v, dtype=torch.float64, requires_grad=True)
           for v in (0.3, -0.2, 0.1, 0.05)]
for t in range(1000):
    a, b, c, d = weights
    loss = (a + b * x64 + c * x64 ** 2 + d * x64 ** 3 - y64).pow(2).sum()
    loss.backward()
    if t % 250 == 0:
        print(f"step {t:4d}  loss {loss:.3f}  grad of d {d.grad:.5e}")
    with torch.no_grad():
        for w in weights:
            w -= learning_rate * w.grad
            w.grad.zero_()
print(f"float64: loss {loss.item():.6f}, d = {weights[3].item():.6f}, "
      f"dtype {loss.dtype}, grad {weights[3].grad}")
