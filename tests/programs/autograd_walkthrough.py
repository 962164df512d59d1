# A walk through autograd (after "A Gentle Introduction to torch.autograd" and
# "Autograd mechanics" in the PyTorch documentation).
import torch

a = torch.tensor([2., 3.], requires_grad=True)
b = torch.tensor([6., 4.], requires_grad=True)
Q = 3 * a ** 3 - b ** 2
print(Q)
print(Q.grad_fn, Q.grad_fn.next_functions)
print(a.grad_fn, a.is_leaf, Q.is_leaf, Q.requires_grad)

external_grad = torch.tensor([1., 1.])
Q.backward(gradient=external_grad)
# check if collected gradients are correct
print(9 * a ** 2 == a.grad)
print(-2 * b == b.grad)
print(a.grad, b.grad)

# Only leaves keep .grad; retain_grad asks an intermediate result to keep it too.
x = torch.tensor([1.0, -2.0, 0.5], requires_grad=True)
h = x * x
h.retain_grad()
out = (h * torch.tensor([1.0, 2.0, 3.0])).sum()
out.backward()
print(h.grad, x.grad, h.is_leaf, out.grad_fn.name())

# A hook sees the gradient flowing into a tensor and may replace it.
x.grad = None
handle = x.register_hook(lambda grad: grad * 10)
(x ** 2).sum().backward()
print("hooked:", x.grad)
handle.remove()
x.grad.zero_()
(x ** 2).sum().backward()
print("unhooked:", x.grad)

# Turning recording off.
with torch.no_grad():
    z = x * 2
print(z.requires_grad, z.grad_fn, torch.is_grad_enabled())
with torch.set_grad_enabled(False):
    print((x * 2).requires_grad)
torch.set_grad_enabled(False)
print(torch.is_grad_enabled(), (x + 1).requires_grad)
torch.set_grad_enabled(True)
with torch.inference_mode():
    w = x * 3
print(w.requires_grad, (x * 3).requires_grad)
d = x.detach()
print(d.requires_grad, d.is_leaf, d)

# In-place operations bump a version counter that views share.
v = torch.ones(3)
print(v._version)
v.add_(1)
v[0] = 5
v.mul_(2)
print(v._version, v)
row = v[1:]
row.zero_()
print(v._version, row._version, v)

# Modifying a tensor that backward still needs is caught at backward time.
p = torch.tensor([0.5, 1.5], requires_grad=True)
e = p.exp()
loss = (e * e).sum()
e.add_(1)
try:
    loss.backward()
except Exception as error:
    print("modified saved tensor:", type(error).__name__)

# micrograd-style gradient descent on .data
params = [torch.tensor([1.0, -1.0], requires_grad=True),
          torch.tensor(0.5, requires_grad=True)]
lr = 0.02
for step in range(5):
    w, bias = params
    loss = ((w * torch.tensor([2.0, 3.0])).sum() + bias - 1.0) ** 2
    for p in params:
        p.grad = None
    loss.backward()
    for p in params:
        p.data += -lr * p.grad
    print(step, round(loss.item(), 6), params[0].data, params[1].item())
