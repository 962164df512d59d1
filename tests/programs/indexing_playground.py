# A playground of the tensor functions that pick, sort and contract:
# einsum, gather, scatter, topk, sort, index_select, masked_select, where, cumsum.
import torch

x = torch.tensor([[0.5, -1.0, 2.0, 0.0],
                  [3.0, 1.5, -0.5, 2.5],
                  [-2.0, 0.25, 1.0, 4.0]])
w = torch.linspace(-1, 1, 8).reshape(4, 2)

print(torch.einsum("ij,jk->ik", x, w))
print(torch.einsum("ij->j", x), torch.einsum("ii->i", x[:, :3]))
print(torch.einsum("ij,ij->", x, x), torch.einsum("ii", x[:, 1:]))
print(torch.einsum("bi,bj->bij", x[:2, :2], x[:2, 2:]))
print(torch.einsum("i,j->ij", torch.arange(3.0), torch.arange(2.0)))

values, indices = torch.topk(x, k=2, dim=1)
print(values, indices, sep="\n")
top = x.topk(2, dim=0, largest=False)
print(top.values, top.indices, sep="\n")
s, order = torch.sort(x[1], descending=True)
print(s, order, torch.argsort(x[2]), x.argmax(dim=1), x.argmin())

idx = torch.tensor([[2, 0], [1, 1], [3, 2]])
picked = torch.gather(x, 1, idx)
print(picked)
print(x.index_select(0, torch.tensor([2, 0])), x.index_select(1, torch.tensor([3])))
print(torch.masked_select(x, x > 1), x[x.abs() < 1])
print(torch.where(x > 0, x, torch.zeros_like(x)))
print(torch.where(x > 0, x, 0.0).sum(dim=0), torch.where(x < 0))
print(torch.nonzero(x > 1), torch.nonzero(x > 1).shape)

target = torch.zeros(3, 5)
target.scatter_(1, torch.tensor([[0], [4], [2]]), 1.0)
print(target)
counts = torch.zeros(5).scatter_add_(0, torch.tensor([0, 1, 1, 4, 1]), torch.ones(5))
print(counts, torch.bincount(torch.tensor([0, 1, 1, 4, 1])))
out = torch.zeros(2, 4).index_add_(0, torch.tensor([0, 1, 0]), x)
print(out)

print(torch.cumsum(x, dim=1))
print(x.cumprod(dim=0)[-1], x.flip(0)[0], x.roll(1, dims=1)[0])
print(torch.tril(torch.ones(3, 3)), torch.triu(x, diagonal=1), sep="\n")
print(x.max(), x.max(dim=0), x.amax(dim=1), x.median(), sep="\n")
print(x.sum(dim=(0, 1)), x.mean(dim=-1, keepdim=True).shape, x.prod(dim=1))
print(x.unique(), torch.unique(torch.tensor([3, 1, 3, 2]), return_counts=True))
print(torch.chunk(torch.arange(7), 3), torch.split(torch.arange(5), [2, 3]))
print(torch.allclose(x @ w, torch.einsum("ij,jk->ik", x, w)), torch.equal(x, x.clone()))
