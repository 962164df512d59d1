# Writing into tensors: assignment with every kind of index, in-place methods,
# views that share storage, and out= arguments.
import torch

x = torch.zeros(4, 5)
x[0] = 1                                  # an int: a whole row, a number
x[1, 2] = 7.5                             # two ints: one element
x[2, 1:4] = torch.tensor([1.0, 2.0, 3.0])  # a slice, tensor values
x[:, 0] = -1                              # a full slice
x[3, ::2] = torch.tensor(9.0)             # a step, a 0-d tensor broadcast
print(x)
x[x > 5] = 0                              # a bool mask
print(x)
x[torch.tensor([0, 3])] = torch.tensor([[1.0], [2.0]])  # an int tensor, broadcast
x[[1, 2], [4, 3]] = 4.0                   # two lists: paired elements
print(x)
x[..., -1] = 8                            # Ellipsis
x[1, None, 1:3] = torch.tensor([[5.0, 6.0]])  # None adds an axis to match
x[torch.tensor([True, False, True, False])] *= 10
print(x)
y = torch.arange(6).reshape(2, 3)
y[y % 2 == 0] = torch.tensor([10, 20, 30])  # as many values as True
y[:, [0, 2]] = y[:, [2, 0]]               # swap columns
print(y, y.dtype)

z = torch.ones(2, 3)
z.add_(1).mul_(torch.tensor([1.0, 2.0, 3.0]))
print(z, z.sum())
z.clamp_(min=2.5, max=5.0)
print(z)
z += 1
z -= torch.tensor([[0.5], [1.5]])
z /= 2
z **= 2
print(z)
z.masked_fill_(z > 4, -1.0)
print(z)
z.fill_(3).sub_(torch.ones(3), alpha=2)
print(z)
z.copy_(torch.tensor([[1, 2, 3], [4, 5, 6]]))
print(z, z.dtype)
z.zero_()
print(z.abs().sum().item())

# views share storage: writes through a view change the base
base = torch.arange(1.0, 7.0).reshape(2, 3)
base[0].zero_()
print(base)
base.view(-1).fill_(1)
print(base)
base.T[0] = 5
base[:, 1:].mul_(2)
base.diagonal().add_(0.5)
print(base)
flat = base.reshape(-1)
flat[0] = -3
col = base.select(1, 2)
col.neg_()
print(base, flat.data_ptr() == base.data_ptr())

# out= writes the result into an existing tensor
a = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
b = torch.tensor([[0.5, -1.0], [2.0, 1.0]])
result = torch.empty(2, 2)
torch.add(a, b, out=result)
print(result)
torch.matmul(a, b, out=result)
print(result)
total = torch.empty(2)
torch.sum(a, dim=0, out=total)
print(total)
torch.mul(a, 2, out=a)
print(a)
