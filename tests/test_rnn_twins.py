"""Recurrent layers (chapter "Recurrent networks") against PyTorch: RNNCell, LSTMCell, GRUCell,
RNN, LSTM, GRU.

Both libraries build the layer after the same seed, so the weights are torch's by construction
(checked); outputs, every parameter's and the input's gradient are compared on a grid of options,
in float32 and float64; state_dict names and loading; second derivatives; errors.
"""
import itertools

import numpy as np
import pytest
import torch

import nn
from twin import arrays, assert_same, names_shape

DTYPES = [np.float32, np.float64]
pytestmark = [pytest.mark.filterwarnings("ignore:dropout option adds dropout"),
              pytest.mark.filterwarnings("ignore:LSTM with projections")]  # torch's notes


def build(lib, name, *args, dtype=np.float64, seed=0, **kwargs):
    "The layer `name` of `lib`, built after manual_seed(seed), in `dtype`."
    lib.manual_seed(seed)
    layer = getattr(torch.nn if lib is torch else nn, name)(*args, **kwargs)
    return layer.double() if dtype == np.float64 else layer


def flat(outputs):
    "A layer's outputs as a flat list of tensors: out, (h, c) -> [out, h, c]."
    if isinstance(outputs, tuple):
        return [t for part in outputs for t in flat(part)]
    return [outputs]


def run(lib, name, args, kwargs, values, dtype, train=False, seed=0):
    "Build, run on `values` (input, then states), backpropagate fixed gradients."
    layer = build(lib, name, *args, dtype=dtype, **kwargs)
    layer.train(train)
    tensors = [lib.tensor(v.astype(dtype), requires_grad=True) for v in values]
    input, states = tensors[0], tensors[1:]
    hx = None if not states else states[0] if len(states) == 1 else tuple(states)
    lib.manual_seed(seed + 1)  # dropout's draws
    outputs = flat(layer(input, hx))
    rng = np.random.default_rng(seed)
    total = sum((o * lib.tensor(rng.standard_normal(tuple(o.shape)).astype(dtype))).sum()
                for o in outputs)
    total.backward()
    return layer, tensors, outputs


def compare(name, args, kwargs, values, dtype, train=False):
    "nn and torch agree in outputs, the inputs' gradients and every parameter's gradient."
    (t_layer, t_inputs, t_out), (n_layer, n_inputs, n_out) = (
        run(lib, name, args, kwargs, values, dtype, train) for lib in (torch, nn))
    assert len(t_out) == len(n_out)
    for i, (e, a) in enumerate(zip(t_out, n_out)):
        assert_same(e, a, what=f"output {i}")
    for i, (e, a) in enumerate(zip(t_inputs, n_inputs)):
        assert_same(e.grad, a.grad, what=f"input {i}: grad")
    t_params, n_params = dict(t_layer.named_parameters()), dict(n_layer.named_parameters())
    assert list(t_params) == list(n_params)
    for key in t_params:
        assert_same(t_params[key].grad, n_params[key].grad, what=f"{key}: grad")


def sequence_values(name, batch, seq, features, hidden, directions, layers, batch_first,
                    states, seed=0):
    "The input (batched or not) and, if `states`, the initial states."
    shape = ((batch, seq) if batch_first else (seq, batch)) if batch else (seq,)
    state = (layers * directions,) + ((batch,) if batch else ()) + (hidden,)
    count = (2 if name == "LSTM" else 1) if states else 0
    return arrays(shape + (features,), *[state] * count, seed=seed)


OPTIONS = [dict(num_layers=L, batch_first=bf, bidirectional=bi, bias=b)
           for L, bf, bi, b in itertools.product([1, 2], [False, True], [False, True],
                                                 [True, False])]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("states", [False, True], ids=["zero states", "given states"])
@pytest.mark.parametrize("options", OPTIONS, ids=str)
@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_layer_matches_torch(name, options, states, dtype):
    directions = 2 if options["bidirectional"] else 1
    values = sequence_values(name, 2, 5, 3, 4, directions, options["num_layers"],
                             options["batch_first"], states)
    compare(name, (3, 4), options, values, dtype)


@pytest.mark.parametrize("states", [False, True], ids=["zero states", "given states"])
@pytest.mark.parametrize("options", [dict(), dict(num_layers=2, bidirectional=True),
                                     dict(batch_first=True, num_layers=2)], ids=str)
@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_unbatched_input(name, options, states):
    layers, directions = options.get("num_layers", 1), 1 + options.get("bidirectional", 0)
    values = sequence_values(name, 0, 4, 3, 5, directions, layers, False, states)
    compare(name, (3, 5), options, values, np.float64)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("options", [dict(), dict(num_layers=2, bidirectional=True)],
                         ids=str)
def test_relu_rnn(options, dtype):
    options = dict(options, nonlinearity="relu")
    directions = 1 + options.get("bidirectional", 0)
    values = sequence_values("RNN", 3, 4, 2, 3, directions, options.get("num_layers", 1),
                             False, True)
    compare("RNN", (2, 3), options, values, dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("states", [False, True], ids=["zero states", "given states"])
@pytest.mark.parametrize("options", [dict(), dict(num_layers=2, bidirectional=True),
                                     dict(bias=False, batch_first=True, num_layers=2)],
                         ids=str)
def test_lstm_with_projections(options, states, dtype):
    layers, directions = options.get("num_layers", 1), 1 + options.get("bidirectional", 0)
    shape = (2, 5, 3) if options.get("batch_first") else (5, 2, 3)
    values = arrays(shape, *([(layers * directions, 2, 2), (layers * directions, 2, 4)]
                             if states else []))
    compare("LSTM", (3, 4), dict(options, proj_size=2), values, dtype)


def test_unbatched_lstm_with_projections():
    compare("LSTM", (3, 4), dict(proj_size=3, num_layers=2), arrays((5, 3), (2, 3), (2, 4)),
            np.float64)


@pytest.mark.parametrize("train", [False, True], ids=["eval", "train"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_dropout_between_layers(name, dtype, train):
    options = dict(num_layers=3, dropout=0.4, bidirectional=True)
    values = sequence_values(name, 2, 6, 3, 4, 2, 3, False, False)
    compare(name, (3, 4), options, values, dtype, train=train)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
@pytest.mark.parametrize("given", [False, True], ids=["zero state", "given state"])
@pytest.mark.parametrize("name, kwargs", [("RNNCell", {}), ("RNNCell", dict(bias=False)),
                                          ("RNNCell", dict(nonlinearity="relu")),
                                          ("LSTMCell", {}), ("LSTMCell", dict(bias=False)),
                                          ("GRUCell", {}), ("GRUCell", dict(bias=False))],
                         ids=str)
def test_cell_matches_torch(name, kwargs, given, batched, dtype):
    batch = (3,) if batched else ()
    count = (2 if name == "LSTMCell" else 1) if given else 0
    values = arrays(batch + (4,), *[batch + (5,)] * count)
    compare(name, (4, 5), kwargs, values, dtype)


@pytest.mark.parametrize("name, kwargs", [
    ("RNNCell", {}), ("LSTMCell", {}), ("GRUCell", dict(bias=False)), ("RNN", {}),
    ("LSTM", dict(num_layers=2, bidirectional=True)), ("GRU", dict(bias=False, num_layers=2)),
    ("LSTM", dict(num_layers=2, proj_size=2, bidirectional=True)),
    ("RNN", dict(nonlinearity="relu", bidirectional=True))], ids=str)
def test_default_init_and_state_dict_are_torchs(name, kwargs):
    theirs, ours = build(torch, name, 3, 4, seed=7, **kwargs), build(nn, name, 3, 4, seed=7,
                                                                      **kwargs)
    t_state, n_state = theirs.state_dict(), ours.state_dict()
    assert list(t_state) == list(n_state)
    for key in t_state:
        assert_same(t_state[key], n_state[key], rtol=0, atol=0, what=key)
    assert repr(ours) == repr(theirs)
    fresh = build(nn, name, 3, 4, seed=8, **kwargs)
    fresh.load_state_dict({k: nn.tensor(v.numpy()) for k, v in t_state.items()})
    for key, value in fresh.state_dict().items():
        np.testing.assert_array_equal(value.numpy(), t_state[key].numpy())


@pytest.mark.parametrize("kwargs", [dict(num_layers=2, dropout=0.5, batch_first=True),
                                    dict(bias=False, bidirectional=True)], ids=str)
@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_repr_with_options(name, kwargs):
    assert repr(build(nn, name, 3, 4, **kwargs)) == repr(build(torch, name, 3, 4, **kwargs))


def test_flatten_parameters_is_harmless():
    layer = nn.LSTM(2, 3)
    before = [p.detach().numpy().copy() for p in layer.parameters()]
    assert layer.flatten_parameters() is None
    for old, new in zip(before, layer.parameters()):
        np.testing.assert_array_equal(old, new.detach().numpy())


def hvp(lib, name, args, kwargs, values):
    "Gradients with create_graph, then their product with fixed directions, differentiated."
    layer = build(lib, name, *args, **kwargs)
    x = lib.tensor(values[0], requires_grad=True)
    outputs = flat(layer(x))
    rng = np.random.default_rng(1)
    total = sum((o * lib.tensor(rng.standard_normal(tuple(o.shape)))).sum() for o in outputs)
    params = [x] + list(layer.parameters())
    grads = lib.autograd.grad(total, params, create_graph=True)
    product = sum((g * lib.tensor(rng.standard_normal(tuple(g.shape)))).sum() for g in grads)
    return lib.autograd.grad(product, params)


@pytest.mark.parametrize("name, kwargs", [
    ("RNNCell", {}), ("LSTMCell", {}), ("GRUCell", {}), ("RNN", dict(num_layers=2)),
    ("LSTM", dict(bidirectional=True)), ("GRU", dict(num_layers=2)),
    ("LSTM", dict(proj_size=2, num_layers=2))], ids=str)
def test_hessian_vector_products_match_torch(name, kwargs):
    shape = (2, 3) if name.endswith("Cell") else (4, 2, 3)
    values = arrays(shape)
    theirs, ours = (hvp(lib, name, (3, 3), kwargs, values) for lib in (torch, nn))
    for i, (e, a) in enumerate(zip(theirs, ours)):
        assert_same(e, a, rtol=1e-9, atol=1e-11, what=f"Hessian-vector product {i}")


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cells_pass_gradcheck_and_gradgradcheck(name):
    cell = build(nn, name, 2, 3)
    x, h = (nn.tensor(a, requires_grad=True) for a in arrays((2, 2), (2, 3)))
    state = (h, h * 0.5) if name == "LSTMCell" else h

    def f(x, h):
        out = cell(x, (h, h * 0.5) if name == "LSTMCell" else h)
        return out if name != "LSTMCell" else out[0] + 2 * out[1]
    assert state is not None
    assert nn.gradcheck(f, (x, h))
    assert nn.autograd.gradgradcheck(f, (x, h))


def raises_like_torch(fn):
    "Both libraries raise, nn with torch's exception type, and nothing changes."
    errors = []
    for lib in (torch, nn):
        with pytest.raises(Exception) as info:
            fn(lib)
        errors.append(info.value)
    assert isinstance(errors[1], type(errors[0])), (errors[0], errors[1])
    return errors[1]


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_layer_errors(name):
    layer = {lib: build(lib, name, 3, 4, num_layers=2) for lib in (torch, nn)}
    x, wrong, flat_x = arrays((5, 2, 3), (5, 2, 2), (5, 2, 3, 1))
    error = raises_like_torch(lambda lib: layer[lib](lib.tensor(wrong)))
    assert "3" in str(error) and "2" in str(error)
    raises_like_torch(lambda lib: layer[lib](lib.tensor(flat_x)))
    states = arrays((1, 2, 4), (2, 3, 4), (2, 4))
    for state in states:
        hx = (lambda lib: (lib.tensor(state), lib.tensor(state))) if name == "LSTM" else (
            lambda lib: lib.tensor(state))
        error = raises_like_torch(lambda lib: layer[lib](lib.tensor(x), hx(lib)))
    assert names_shape(str(error), (2, 4)) or "2-D" in str(error)
    raises_like_torch(lambda lib: layer[lib](lib.tensor(x, dtype=lib.float32)))


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_errors(name):
    cell = {lib: build(lib, name, 3, 4) for lib in (torch, nn)}
    for shape in [(2, 2), (2, 3, 1)]:
        raises_like_torch(lambda lib: cell[lib](lib.tensor(arrays(shape)[0])))
    x, h = arrays((2, 3), (2, 5))
    hx = (lambda lib: (lib.tensor(h), lib.tensor(h))) if name == "LSTMCell" else (
        lambda lib: lib.tensor(h))
    raises_like_torch(lambda lib: cell[lib](lib.tensor(x), hx(lib)))


@pytest.mark.parametrize("kwargs", [dict(dropout=1.5), dict(dropout=True), dict(bias=1),
                                    dict(batch_first=None), dict(num_layers=0),
                                    dict(hidden_size=0), dict(nonlinearity="sigmoid"),
                                    dict(proj_size=2)], ids=str)
def test_construction_errors(kwargs):
    kwargs = dict(dict(input_size=3, hidden_size=4), **kwargs)
    raises_like_torch(lambda lib: (torch.nn if lib is torch else nn).RNN(**kwargs))


@pytest.mark.parametrize("name, kwargs", [("LSTM", dict(proj_size=4)), ("LSTM", dict(proj_size=-1)),
                                          ("GRU", dict(proj_size=2))], ids=str)
def test_projection_errors(name, kwargs):
    raises_like_torch(lambda lib: getattr(torch.nn if lib is torch else nn, name)(3, 4, **kwargs))


def test_projected_state_of_the_wrong_size_raises():
    layer = {lib: build(lib, "LSTM", 3, 4, proj_size=2) for lib in (torch, nn)}
    x, h, c = arrays((5, 2, 3), (1, 2, 4), (1, 2, 4))
    error = raises_like_torch(lambda lib: layer[lib](lib.tensor(x), (lib.tensor(h),
                                                                     lib.tensor(c))))
    assert names_shape(str(error), (1, 2, 2))
