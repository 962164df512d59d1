"""First-order gradients are bit-identical to those of the engine before vjps could run on tensors.

tests/data/first_order_gradients.npz holds the values and gradients of the cases below as nn
computed them when every vjp still ran on arrays only (the engine of commit f7fdf8d), except GELU,
layer norm, batch norm and convolution, whose arithmetic changed on purpose later (erf by Cody's
rational approximations; the norms as one node each; convolution's new layouts): their values are
from then, and differ from before by rounding. Making each
vjp run on tensors as well, for create_graph=True, must not change one bit of an ordinary backward.
To regenerate after an intended numerical change: `python tests/test_first_order_unchanged.py`.
"""
from pathlib import Path

import numpy as np
import pytest

import nn

F = nn.functional
REFERENCE = Path(__file__).parent / "data" / "first_order_gradients.npz"


def cases():
    "Name -> (function, input tensors), the inputs drawn in a fixed order from one generator."
    rng = np.random.default_rng(0)

    def t(*shape, dtype=np.float64, positive=False):
        a = rng.standard_normal(shape)
        a = np.abs(a) + 0.5 if positive else a
        return nn.tensor(a.astype(dtype), requires_grad=True)
    found = {}

    def case(name, fn, *inputs):
        found[name] = (fn, inputs)
    for dt in (np.float32, np.float64):
        s = dt.__name__
        case(f"add_{s}", lambda a, b: a + b, t(3, 4, dtype=dt), t(4, dtype=dt))
        case(f"mul_{s}", lambda a, b: a * b, t(3, 4, dtype=dt), t(3, 1, dtype=dt))
        case(f"sub_div_{s}", lambda a, b: (a - b) / b, t(3, 4, dtype=dt),
             t(4, dtype=dt, positive=True))
        case(f"pow_{s}", lambda a, b: a ** b, t(3, 4, dtype=dt, positive=True), t(4, dtype=dt))
        case(f"powc_{s}", lambda a: a ** 3 + 2.0 ** a, t(3, 4, dtype=dt))
        case(f"maxmin_{s}", lambda a, b: nn.maximum(a, b) * nn.minimum(a, b), t(3, 4, dtype=dt),
             t(4, dtype=dt))
        case(f"where_{s}", lambda a, b: nn.where(a > 0, a, b), t(3, 4, dtype=dt), t(4, dtype=dt))
        case(f"dot_{s}", lambda a, b: a.dot(b), t(5, dtype=dt), t(5, dtype=dt))
        case(f"mv_{s}", lambda a, b: a.mv(b), t(3, 5, dtype=dt), t(5, dtype=dt))
        case(f"mm_{s}", lambda a, b: a.mm(b), t(3, 5, dtype=dt), t(5, 2, dtype=dt))
        case(f"bmm_{s}", lambda a, b: a.bmm(b), t(2, 3, 5, dtype=dt), t(2, 5, 2, dtype=dt))
        case(f"matmul_{s}", lambda a, b, c: (a @ b) @ c, t(2, 1, 3, 5, dtype=dt),
             t(4, 5, 2, dtype=dt), t(2, dtype=dt))
        case(f"matmulv_{s}", lambda a, b: a @ b, t(5, dtype=dt), t(2, 5, 3, dtype=dt))
        for name in ("exp", "tanh", "sigmoid", "sin", "cos", "abs", "relu"):
            case(f"{name}_{s}", lambda a, f=name: getattr(nn, f)(a), t(3, 4, dtype=dt))
        case(f"log_sqrt_{s}", lambda a: nn.log(a) + nn.sqrt(a), t(3, 4, dtype=dt, positive=True))
        case(f"clamp_{s}", lambda a: a.clamp(-0.5, 0.5), t(3, 4, dtype=dt))
        case(f"sum_{s}", lambda a: a.sum(1) * a.sum((0, 2), keepdim=True).sum(),
             t(2, 3, 4, dtype=dt))
        case(f"mean_{s}", lambda a: a.mean(1), t(2, 3, 4, dtype=dt))
        case(f"var_{s}", lambda a: a.var(1) + a.std(0, keepdim=True).sum(), t(3, 4, dtype=dt))
        case(f"max_{s}", lambda a: (a.max() + a.max(1).values.sum()
                                    + a.min(0, keepdim=True).values.sum()), t(3, 4, dtype=dt))
        case(f"lse_{s}", lambda a: a.logsumexp(1), t(3, 4, dtype=dt))
        case(f"softmax_{s}", lambda a: a.softmax(1) * a.log_softmax(0), t(3, 4, dtype=dt))
        case(f"index_{s}", lambda a: a[1:, ::2].sum() + a[[0, 0, 2]].sum() + a[a > 0].sum(),
             t(3, 4, dtype=dt))
        case(f"shape_{s}", lambda a: (a.reshape(4, 3).T.permute(1, 0).unsqueeze(0).squeeze()
                                      .flatten().expand(2, 12)), t(3, 4, dtype=dt))
        case(f"cat_{s}", lambda a, b: nn.cat([a, b], 1) * nn.stack([a, a], 0).sum(0).sum(),
             t(3, 4, dtype=dt), t(3, 2, dtype=dt))
        case(f"linear_{s}", lambda x, w, b: F.linear(x, w, b), t(2, 3, 4, dtype=dt),
             t(5, 4, dtype=dt), t(5, dtype=dt))
        case(f"gelu_{s}", lambda a: F.gelu(a) + F.gelu(a, approximate="tanh"), t(3, 4, dtype=dt))
        case(f"layernorm_{s}", lambda a, w, b: F.layer_norm(a, (4,), w, b), t(3, 4, dtype=dt),
             t(4, dtype=dt), t(4, dtype=dt))
        case(f"mse_{s}", lambda a, b: F.mse_loss(a, b), t(3, 4, dtype=dt), t(3, 4, dtype=dt))
        case(f"wmse_{s}", lambda a, b, w: F.mse_loss(a, b, weight=w), t(3, 4, dtype=dt),
             t(3, 4, dtype=dt), t(3, 4, dtype=dt, positive=True))
        labels = nn.tensor(rng.integers(0, 4, 5))
        case(f"ce_{s}", lambda a, y=labels: F.cross_entropy(a, y), t(5, 4, dtype=dt))
        case(f"ce_ls_{s}", lambda a, y=labels: F.cross_entropy(a, y, label_smoothing=0.1,
                                                                 reduction="sum"),
             t(5, 4, dtype=dt))
        case(f"ce_p_{s}", lambda a, p, w: F.cross_entropy(a, p, weight=w), t(5, 4, dtype=dt),
             t(5, 4, dtype=dt, positive=True), t(4, dtype=dt, positive=True))
        case(f"nll_{s}", lambda a, y=labels: F.nll_loss(a, y), t(5, 4, dtype=dt))
        case(f"bce_{s}", lambda a, b: F.binary_cross_entropy_with_logits(a, b), t(5, 4, dtype=dt),
             t(5, 4, dtype=dt, positive=True))
        case(f"conv_{s}", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, groups=2),
             t(2, 4, 7, 6, dtype=dt), t(6, 2, 3, 3, dtype=dt), t(6, dtype=dt))
        case(f"pool_{s}", lambda x: F.max_pool2d(x, 2, padding=1), t(2, 3, 5, 5, dtype=dt))
        case(f"emb_{s}", lambda w: F.embedding(nn.tensor([[0, 2, 2], [1, 0, 3]]), w, padding_idx=0),
             t(4, 3, dtype=dt))
        case(f"mixed_{s}", lambda a, b: a * b + a / 3 - b ** 2, t(3, dtype=dt),
             t(3, dtype=np.float64))
        case(f"bn_{s}", lambda x, dt=dt: (nn.BatchNorm1d(4).double() if dt == np.float64
                                          else nn.BatchNorm1d(4))(x), t(6, 4, dtype=dt))
    return found


def results(name, fn, inputs):
    "The value and every input's gradient after a backward with a fixed, cosine seed."
    y = fn(*inputs)
    y.backward(nn.tensor(np.cos(np.arange(y.numel())).reshape(y.shape).astype(y.dtype)))
    out = {f"{name}/value": y.detach().numpy()}
    for i, x in enumerate(inputs):
        out[f"{name}/grad{i}"] = np.zeros(0) if x.grad is None else x.grad.numpy()
    return out


CASES = cases()


@pytest.mark.parametrize("name", list(CASES))
def test_gradients_are_bit_identical_to_the_reference(name):
    reference = np.load(REFERENCE)
    for key, array in results(name, *CASES[name]).items():
        assert array.dtype == reference[key].dtype, key
        assert array.tobytes() == reference[key].tobytes(), key


if __name__ == "__main__":
    np.savez(REFERENCE, **{k: v for name, case in cases().items()
                           for k, v in results(name, *case).items()})
