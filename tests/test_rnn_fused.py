"""The recurrent layers' fused operations (chapter "Recurrent networks", section "The same step,
recorded once") against the compositions they replace.

Each fused op (the LSTM's gate activations, cell state and hidden state, the GRU's new state, and a
whole LSTM layer in either direction) is compared with torch computing the same function from its
ordinary operations: values and first derivatives (twin tests, float32 and float64), Hessian-vector
products with create_graph in float64, and nn's own finite-difference checks of first and second
order (gradcheck, gradgradcheck). The fused steps also agree with nn's composed steps, and a
layer's vjps, which share one walk back through time, stay right when backward runs twice.
"""
import numpy as np
import pytest
import torch

import nn
from nn import rnn
from twin import arrays, assert_same, twin

DTYPES = [np.float32, np.float64]
N, H = 3, 4  # batch and hidden size


def torch_gates(x):
    "The composition: sigmoid of i, f, o and tanh of g."
    i, f, g, o = x.chunk(4, -1)
    return torch.cat([i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()], -1)


def torch_cell_state(acts, c):
    i, f, g, _ = acts.chunk(4, -1)
    return f * c + i * g


def torch_hidden(acts, c):
    return acts.chunk(4, -1)[3] * c.tanh()


def torch_gru_state(x_part, h_part, h):
    x_r, x_z, x_n = x_part.chunk(3, -1)
    h_r, h_z, h_n = h_part.chunk(3, -1)
    r, z = (x_r + h_r).sigmoid(), (x_z + h_z).sigmoid()
    n = (x_n + r * h_n).tanh()
    return (1 - z) * n + z * h


def torch_lstm_sequence(projected, weight_hh, h0, c0, reverse=False):
    "The per-step composition, its outputs laid out as the fused op's: h, c, i, f, g, o."
    h, c, steps = h0, c0, [None] * len(projected)
    for t in (reversed(range(len(projected))) if reverse else range(len(projected))):
        acts = torch_gates(projected[t] + h @ weight_hh.T)
        c = torch_cell_state(acts, c)
        h = torch_hidden(acts, c)
        steps[t] = torch.cat([h, c, acts], -1)
    return torch.stack(steps)


def fused(name, composed):
    "A twin function: nn's fused op, torch's composition."
    return lambda lib, *t: getattr(rnn, name)(*t) if lib is nn else composed(*t)


CASES = {
    "_lstm_gates": (torch_gates, [(N, 4 * H)]),
    "_lstm_cell_state": (torch_cell_state, [(N, 4 * H), (N, H)]),
    "_lstm_hidden": (torch_hidden, [(N, 4 * H), (N, H)]),
    "_gru_state": (torch_gru_state, [(N, 3 * H), (N, 3 * H), (N, H)]),
    "_lstm_sequence": (torch_lstm_sequence, [(5, N, 4 * H), (4 * H, H), (N, H), (N, H)]),
}


def values(name, dtype=np.float64, seed=0):
    "Inputs for the op: activations in (0, 1) where they stand for gates, else normal."
    shapes = CASES[name][1]
    parts = arrays(*shapes, seed=seed)
    if name in ("_lstm_cell_state", "_lstm_hidden"):
        parts[0] = 1 / (1 + np.exp(-parts[0]))
    if name == "_lstm_sequence":
        parts[1] = parts[1] * 0.5
    return [p.astype(dtype) for p in parts]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", list(CASES))
def test_fused_op_matches_torchs_composition(name, dtype):
    twin(fused(name, CASES[name][0]), *values(name, dtype))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_reverse_lstm_sequence_matches_torch(dtype):
    twin(lambda lib, *t: (rnn._lstm_sequence(*t, reverse=True) if lib is nn
                          else torch_lstm_sequence(*t, reverse=True)),
         *values("_lstm_sequence", dtype))


def nn_op(name, reverse=False):
    "The fused op as a function of tensors (with the direction for a layer)."
    op = getattr(rnn, name)
    return (lambda *t: op(*t, reverse=True)) if reverse else op


@pytest.mark.parametrize("name, reverse", [(name, False) for name in CASES]
                         + [("_lstm_sequence", True)])
def test_fused_op_passes_gradcheck_and_gradgradcheck(name, reverse):
    inputs = [nn.tensor(v, requires_grad=True) for v in values(name)]
    assert nn.gradcheck(nn_op(name, reverse), inputs)
    assert nn.autograd.gradgradcheck(nn_op(name, reverse), inputs)


def hessian_vector_products(lib, fn, arrays_in):
    "d/dx <grad_x <f(x), u>, v>: gradients with create_graph, then differentiated again."
    inputs = [lib.tensor(a, requires_grad=True) for a in arrays_in]
    out = fn(*inputs)
    rng = np.random.default_rng(7)
    total = (out * lib.tensor(rng.standard_normal(tuple(out.shape)))).sum()
    grads = lib.autograd.grad(total, inputs, create_graph=True)
    product = sum((g * lib.tensor(rng.standard_normal(tuple(g.shape)))).sum() for g in grads)
    return lib.autograd.grad(product, inputs)


@pytest.mark.parametrize("name, reverse", [(name, False) for name in CASES]
                         + [("_lstm_sequence", True)])
def test_fused_op_hessian_vector_products_match_torch(name, reverse):
    composed = CASES[name][0]
    theirs = hessian_vector_products(
        torch, (lambda *t: composed(*t, reverse=True)) if reverse else composed, values(name))
    ours = hessian_vector_products(nn, nn_op(name, reverse), values(name))
    for i, (e, a) in enumerate(zip(theirs, ours)):
        assert_same(e, a, rtol=1e-9, atol=1e-11, what=f"Hessian-vector product {i}")


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_fused_steps_equal_nns_composed_steps(kind, dtype):
    "The fused step and the composed one of nn: the same values and gradients."
    size = 4 if kind == "LSTM" else 3
    p, w, b, h, c = arrays((N, size * H), (size * H, H), (size * H,), (N, H), (N, H), seed=3)
    results = []
    for step in ((rnn._lstm_step, rnn._lstm_fused_step) if kind == "LSTM"
                 else (rnn._gru_step, rnn._gru_fused_step)):
        tensors = [nn.tensor(a.astype(dtype), requires_grad=True) for a in (p, w, b, h, c)]
        state = (tensors[3], tensors[4]) if kind == "LSTM" else tensors[3]
        out = step(tensors[0], state, tensors[1], tensors[2])
        out = out if kind == "GRU" else out[0] + 2 * out[1]
        (out * out).sum().backward()
        results.append([out] + [t.grad for t in tensors[:4 if kind == "GRU" else 5]])
    rtol, atol = (1e-5, 1e-6) if dtype == np.float32 else (1e-12, 1e-13)
    for composed, fused_ in zip(*results):
        np.testing.assert_allclose(fused_.detach().numpy(), composed.detach().numpy(),
                                   rtol=rtol, atol=atol)


def test_the_layers_vjps_stay_right_when_backward_runs_twice():
    "The four vjps share one walk; a second backward with another gradient walks anew."
    runs = {}
    for lib in (torch, nn):
        inputs = [lib.tensor(a, requires_grad=True) for a in values("_lstm_sequence")]
        out = (rnn._lstm_sequence(*inputs) if lib is nn
               else torch_lstm_sequence(*inputs))
        rng, runs[lib] = np.random.default_rng(5), []
        for _ in range(2):
            out.backward(lib.tensor(rng.standard_normal(tuple(out.shape))),
                         retain_graph=True)
            runs[lib].append([t.grad.clone() for t in inputs])
    for k, (theirs, ours) in enumerate(zip(runs[torch], runs[nn])):
        for i, (e, a) in enumerate(zip(theirs, ours)):
            assert_same(e, a, what=f"backward {k}, input {i}")


def test_changing_the_recurrent_weight_in_place_before_backward_raises():
    "The layer's op reads W_hh in backward: a change in place since forward is refused."
    projected, weight, h0, c0 = (nn.tensor(v, requires_grad=True)
                                 for v in values("_lstm_sequence"))
    out = rnn._lstm_sequence(projected, weight, h0, c0)
    with nn.no_grad():
        weight.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_an_lstm_layer_is_one_recorded_op():
    "nn.LSTM records its recurrence once per layer and direction, not once per step."
    nn.manual_seed(0)
    layer = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    output, (h, c) = layer(nn.tensor(arrays((7, 2, 3), dtype=np.float32)[0]))
    seen, stack, count = set(), [output.grad_fn, h.grad_fn, c.grad_fn], 0
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen or not hasattr(node, "inputs"):
            continue
        seen.add(id(node))
        count += node.name() == "LstmSequenceBackward0"
        stack.extend(x.grad_fn for x in node.inputs)
    assert count == 4
