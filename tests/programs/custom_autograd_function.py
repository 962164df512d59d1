# Custom autograd Functions (after "Learning PyTorch with Examples", PyTorch: Defining
# new autograd Functions, and the torch.autograd.Function documentation).
import math

import torch


class LegendrePolynomial3(torch.autograd.Function):
    """
    We can implement our own custom autograd Functions by subclassing
    torch.autograd.Function and implementing the forward and backward passes
    which operate on Tensors.
    """

    @staticmethod
    def forward(ctx, input):
        ctx.save_for_backward(input)
        return 0.5 * (5 * input ** 3 - 3 * input)

    @staticmethod
    def backward(ctx, grad_output):
        input, = ctx.saved_tensors
        return grad_output * 1.5 * (5 * input ** 2 - 1)


class ScaledRowMax(torch.autograd.Function):
    "The maximum of each row times a scale; the argmax is returned, not differentiable."

    @staticmethod
    def forward(ctx, x, scale):
        values, indices = x.max(dim=1)
        ctx.mark_non_differentiable(indices)
        ctx.save_for_backward(x, indices, scale)
        return values * scale, indices

    @staticmethod
    def backward(ctx, grad_values, grad_indices):
        x, indices, scale = ctx.saved_tensors
        if VERBOSE:
            print("needs_input_grad:", ctx.needs_input_grad)
        grad_x = grad_scale = None
        rows = torch.arange(x.shape[0])
        if ctx.needs_input_grad[0]:
            grad_x = torch.zeros_like(x)
            grad_x[rows, indices] = grad_values * scale
        if ctx.needs_input_grad[1]:
            grad_scale = (grad_values * x[rows, indices]).sum()
        return grad_x, grad_scale


VERBOSE = True
dtype = torch.float
x = torch.linspace(-math.pi, math.pi, 2000, dtype=dtype)
y = torch.sin(x)

# Weights initialized not too far from the correct result to ensure convergence.
a = torch.full((), 0.0, dtype=dtype, requires_grad=True)
b = torch.full((), -1.0, dtype=dtype, requires_grad=True)
c = torch.full((), 0.0, dtype=dtype, requires_grad=True)
d = torch.full((), 0.3, dtype=dtype, requires_grad=True)

learning_rate = 5e-6
for t in range(2000):
    # To apply our Function, we use Function.apply method. We alias this as 'P3'.
    P3 = LegendrePolynomial3.apply
    y_pred = a + b * P3(c + d * x)
    loss = (y_pred - y).pow(2).sum()
    if t % 100 == 99:
        print(t, loss.item())
    loss.backward()
    with torch.no_grad():
        for w in (a, b, c, d):
            w -= learning_rate * w.grad
            w.grad = None
print(f"Result: y = {a.item():.4f} + {b.item():.4f} * P3({c.item():.4f} "
      f"+ {d.item():.4f} x)")
print(type(y_pred.grad_fn).__name__, y_pred.grad_fn.next_functions[1][0].name())

m = torch.tensor([[1.0, 4.0, 2.0], [3.0, -1.0, 0.5]], requires_grad=True)
s = torch.tensor(2.0)
values, indices = ScaledRowMax.apply(m, s)
print(values, indices, indices.requires_grad)
values.sum().backward()
print(m.grad)
VERBOSE = False
m64 = m.detach().double().requires_grad_()
s64 = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
print(torch.autograd.gradcheck(lambda m, s: ScaledRowMax.apply(m, s)[0], (m64, s64)))
