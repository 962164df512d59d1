"""Modules and layers (chapter "Modules and parameters") and nn.init (chapter "Initialization") against PyTorch.

The Module tests build the same model with `torch.nn` and with `nn` and compare what is not random:
names, shapes, dtypes, modes, reprs, errors. The layer tests copy torch's (seeded) weights into nn's
layer with `load_state_dict`, then compare outputs, the input's gradient and every parameter's
gradient, in float32 and float64; batch norm also its running statistics over several steps.
Random layers and initializers (Dropout, nn.init, Linear's default weights) draw other random numbers
than torch, so their tests check the promised properties instead: fractions, bounds, spreads.
"""
import collections
import math
import warnings

import numpy as np
import pytest
import torch

import nn
from twin import F as functional, arrays, assert_same, dtype_name, layers, numpy, same, twin, twin_raises

DTYPES = [np.float32, np.float64]
torch.set_num_threads(1)   # tiny tensors: torch's thread pool only costs time (a lot of it on a busy machine)




# --- a model with every kind of member ------------------------------------------------------------
def build_model(lib):
    "A custom model: nested custom modules, a Sequential, buffers, a None parameter, a shared layer and weight."
    L = layers(lib)

    class Block(L.Module):
        def __init__(self):
            super().__init__()
            self.proj = L.Linear(3, 4)
            self.norm = L.LayerNorm(4)
            self.scale = L.Parameter(lib.ones(4))
            self.register_buffer("steps", lib.zeros(2))
            self.register_buffer("scratch", lib.zeros(1), persistent=False)
            self.register_parameter("unused", None)
            self.note = "a plain attribute"
            self.plain = lib.ones(3)           # a plain tensor attribute: not registered

        def forward(self, x):
            return self.norm(self.proj(x)) * self.scale

    class Net(L.Module):
        def __init__(self):
            super().__init__()
            self.block = Block()
            self.body = L.Sequential(L.ReLU(), L.Linear(4, 4), L.Tanh(), L.BatchNorm1d(4))
            self.head = L.Linear(4, 2)
            self.tied = self.head              # the same layer under a second name
            self.extra = L.Linear(4, 2, bias=False)
            self.extra.weight = self.head.weight  # a weight shared by two layers

        def forward(self, x):
            return self.head(self.body(self.block(x))) + self.extra(self.body(self.block(x)))

    return Net()


def shapes(pairs):
    "(name, shape, dtype name) for (name, tensor) pairs."
    return [(name, tuple(t.shape), dtype_name(t.dtype)) for name, t in pairs]


# --- registration -----------------------------------------------------------------------------------
def test_named_parameters_of_nested_custom_modules_and_sequential():
    names = same(lambda lib: shapes(build_model(lib).named_parameters()))
    assert names[0][0] == "block.scale" and ("body.1.bias", (4,), "float32") in names


def test_shared_parameters_and_modules_are_listed_once():
    names = same(lambda lib: [name for name, _ in build_model(lib).named_parameters()])
    assert "tied.weight" not in names and "extra.weight" not in names
    model = build_model(nn)
    assert len({id(p) for p in model.parameters()}) == len(list(model.parameters()))


def test_parameters_follow_named_parameters():
    model = build_model(nn)
    assert [id(p) for p in model.parameters()] == [id(p) for _, p in model.named_parameters()]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad and p.is_leaf for p in model.parameters())
    same(lambda lib: [tuple(p.shape) for p in build_model(lib).parameters()])
    same(lambda lib: [name for name, _ in build_model(lib).named_parameters(prefix="model")])
    same(lambda lib: [name for name, _ in build_model(lib).block.named_parameters(recurse=False)])


def test_children_modules_and_named_modules():
    same(lambda lib: [type(m).__name__ for m in build_model(lib).children()])
    same(lambda lib: [name for name, _ in build_model(lib).named_children()])
    same(lambda lib: [type(m).__name__ for m in build_model(lib).modules()])
    same(lambda lib: [(name, type(m).__name__) for name, m in build_model(lib).named_modules()])
    model = build_model(nn)
    assert next(iter(model.modules())) is model and model.block.proj in list(model.modules())


def test_buffers():
    same(lambda lib: shapes(build_model(lib).named_buffers()))
    same(lambda lib: [tuple(b.shape) for b in build_model(lib).buffers()])
    model = build_model(nn)
    assert all(not b.requires_grad for b in model.buffers())
    model.block.steps = nn.ones(2)            # assigning to a buffer's name replaces the buffer
    assert np.array_equal(dict(model.named_buffers())["block.steps"].numpy(), [1, 1])


def test_registration_by_attribute(lib):
    L = layers(lib)
    model = build_model(lib)
    assert model.block.unused is None and model.block.note == "a plain attribute"
    assert "block.plain" not in dict(model.named_buffers()) and "block.plain" not in model.state_dict()
    model.block.gain = L.Parameter(lib.ones(1))   # a new Parameter registers; a new Module too
    model.block.act = L.ReLU()
    assert "block.gain" in dict(model.named_parameters()) and "block.act" in dict(model.named_modules())
    del model.block.gain
    assert "block.gain" not in dict(model.named_parameters())
    model.head.bias = None                        # a parameter set to None is no longer listed
    assert model.head.bias is None and "head.bias" not in model.state_dict()
    assert "head.bias" not in dict(model.named_parameters())


def test_module_registration_names_match_torch():
    def names(lib):
        L = layers(lib)
        model = build_model(lib)
        model.block.gain = L.Parameter(lib.ones(1))
        model.head.bias = None
        model.block.proj = L.Sequential(L.Linear(3, 4))   # replacing a child module
        return [name for name, _ in model.named_parameters()], list(model.state_dict())
    same(names)


def test_assigning_a_plain_tensor_to_a_parameter_raises_TypeError(lib):
    layer = layers(lib).Linear(2, 3)
    before = numpy(layer.weight)
    with pytest.raises(TypeError):
        layer.weight = lib.ones(3, 2)
    assert isinstance(layer.weight, layers(lib).Parameter)
    np.testing.assert_array_equal(numpy(layer.weight), before)


def test_assigning_a_plain_tensor_to_a_none_parameter_raises_TypeError(lib):
    # torch registers Linear(bias=False)'s bias as a None parameter: only a Parameter (or None) may go there
    layer = layers(lib).Linear(2, 3, bias=False)
    with pytest.raises(TypeError):
        layer.bias = lib.ones(3)
    assert layer.bias is None and [name for name, _ in layer.named_parameters()] == ["weight"]
    layer.bias = layers(lib).Parameter(lib.zeros(3))
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]


def test_register_buffer_and_register_parameter_refuse_bad_input(lib):
    layer = layers(lib).Linear(2, 3)
    with pytest.raises(KeyError):
        layer.register_buffer("running.mean", lib.ones(1))   # names can't contain "."
    with pytest.raises(KeyError):
        layer.register_buffer("weight", lib.ones(1))         # already a parameter
    with pytest.raises(TypeError):
        layer.register_buffer("count", 5)
    with pytest.raises(TypeError):
        layer.register_parameter("scale", lib.ones(1))       # a plain tensor, not a Parameter
    assert list(layer.state_dict()) == ["weight", "bias"] and isinstance(layer.weight, layers(lib).Parameter)


def test_assigning_a_non_tensor_to_a_buffer_raises_TypeError(lib):
    layer = layers(lib).BatchNorm1d(3)
    with pytest.raises(TypeError):
        layer.running_mean = 5
    assert numpy(layer.running_mean).tolist() == [0.0, 0.0, 0.0]


def test_assigning_a_parameter_before_module_init_raises_AttributeError(lib):
    class Early(layers(lib).Module):
        def __init__(self):
            self.weight = layers(lib).Parameter(lib.ones(2))
            super().__init__()
    with pytest.raises(AttributeError):
        Early()


def test_forward_missing_raises_NotImplementedError(lib):
    class NoForward(layers(lib).Module):
        pass
    with pytest.raises(NotImplementedError):
        NoForward()(lib.ones(2))


def test_parameter_is_a_tensor_that_requires_grad(lib):
    p = layers(lib).Parameter(lib.ones(2, 3))
    assert isinstance(p, lib.Tensor) and p.requires_grad and p.is_leaf and p.grad_fn is None
    assert not layers(lib).Parameter(lib.ones(2), requires_grad=False).requires_grad
    assert repr(p).startswith("Parameter containing:\n")


# --- modes, gradients, dtype ------------------------------------------------------------------------
def test_train_and_eval_propagate_and_return_self(lib):
    model = build_model(lib)
    assert model.training and all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    assert model.train() is model and all(m.training for m in model.modules())
    assert model.train(False) is model and not any(m.training for m in model.modules())
    model.body.train()                          # a subtree only
    same(lambda lib: [m.training for m in build_model(lib).eval().body.train().modules()])
    assert model.body[3].training and not model.block.training


def backward_once(lib, model):
    model(lib.tensor(arrays((5, 3))[0], dtype=lib.float32)).sum().backward()


def test_zero_grad_sets_gradients_to_none_by_default(lib):
    model = build_model(lib)
    backward_once(lib, model)
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_zero_grad_without_set_to_none_zeros_in_place(lib):
    model = build_model(lib)
    backward_once(lib, model)
    grads = [p.grad for p in model.parameters()]
    model.zero_grad(set_to_none=False)
    for p, g in zip(model.parameters(), grads):
        assert p.grad is g and not numpy(p.grad).any() and p.grad.shape == p.shape


def test_gradients_accumulate_until_zero_grad(lib):
    model = build_model(lib)
    backward_once(lib, model)
    first = [numpy(p.grad) for p in model.parameters()]
    backward_once(lib, model)
    for p, g in zip(model.parameters(), first):
        np.testing.assert_allclose(numpy(p.grad), 2 * g, rtol=1e-5, atol=1e-6)


def test_requires_grad_false_freezes_every_parameter(lib):
    model = build_model(lib)
    assert model.block.requires_grad_(False) is model.block
    assert [p.requires_grad for p in model.parameters()] == [False] * 5 + [True] * 6
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())
    x = lib.tensor(arrays((5, 3))[0], dtype=lib.float32, requires_grad=True)
    model(x).sum().backward()
    assert all(p.grad is None for p in model.parameters()) and x.grad is not None
    model.requires_grad_()
    assert all(p.requires_grad for p in model.parameters())


def test_double_and_float_convert_parameters_and_buffers():
    def dtypes(lib):
        model = build_model(lib)
        assert model.double() is model
        converted = shapes(model.state_dict().items())
        out = model(lib.tensor(arrays((5, 3))[0], dtype=lib.float64))
        assert model.float() is model
        return converted, dtype_name(out.dtype), shapes(model.state_dict().items())
    converted, out_dtype, back = same(dtypes)
    assert out_dtype == "float64" and ("body.3.num_batches_tracked", (), "int64") in converted
    assert ("head.weight", (2, 4), "float64") in converted and ("head.weight", (2, 4), "float32") in back


# --- state_dict and load_state_dict -----------------------------------------------------------------
def test_state_dict_keys_order_and_shapes():
    entries = same(lambda lib: shapes(build_model(lib).state_dict().items()))
    names = [name for name, _, _ in entries]
    assert "body.3.running_mean" in names and "body.3.num_batches_tracked" in names
    assert "tied.weight" in names and "extra.weight" in names   # shared layers under each name
    assert "block.scratch" not in names and "block.unused" not in names


def test_state_dict_values_are_detached_and_share_memory(lib):
    model = build_model(lib)
    state = model.state_dict()
    assert not any(v.requires_grad for v in state.values())
    assert isinstance(state, collections.OrderedDict)
    # the entries share memory with the parameters (torch's too): writing one changes the other
    numpy_view = state["head.bias"].numpy()
    numpy_view[...] = 7.0
    np.testing.assert_array_equal(numpy(model.head.bias), [7.0, 7.0])


def torch_pair(make, dtype=np.float32, randomize=False, seed=0):
    "The layer `make(L)` in torch and in nn, torch's (seeded) weights and buffers copied into nn's, in `dtype`."
    torch.manual_seed(seed)
    theirs, ours = make(torch.nn), make(nn)
    if dtype == np.float64:
        theirs.double(), ours.double()
    if randomize:   # make ones/zeros initializations (norm layers) into values that tell the cases apart
        with torch.no_grad():
            for p in theirs.parameters():
                p.normal_()
    missing, unexpected = ours.load_state_dict({k: numpy(v) for k, v in theirs.state_dict().items()})
    assert missing == [] and unexpected == []
    return theirs, ours


def compare_states(theirs, ours, **tolerances):
    "The two layers' parameters and buffers agree (names, order, shapes, dtypes, values)."
    expected, actual = theirs.state_dict(), ours.state_dict()
    assert list(actual) == list(expected)
    for name in expected:
        assert_same(expected[name], actual[name], what=name, **tolerances)


def test_load_state_dict_from_torch_gives_identical_outputs():
    theirs, ours = torch_pair(lambda L: build_model(torch if L is torch.nn else nn))
    compare_states(theirs, ours, rtol=0, atol=0)
    x = arrays((6, 3))[0].astype(np.float32)
    for mode in ("train", "eval"):
        getattr(theirs, mode)(), getattr(ours, mode)()
        expected, actual = theirs(torch.tensor(x)), ours(nn.tensor(x))
        assert_same(expected, actual, what=f"output in {mode} mode")
        expected.sum().backward(), actual.sum().backward()
        for (name, p), (_, q) in zip(theirs.named_parameters(), ours.named_parameters()):
            assert_same(p.grad, q.grad, what=f"{name}.grad", rtol=1e-4, atol=1e-5)
        compare_states(theirs, ours)


def test_load_state_dict_copies_in_place_and_keeps_dtypes():
    ours, source = build_model(nn), build_model(nn)
    params = list(ours.parameters())
    state = {name: numpy(v).astype(np.float64) if v.dtype == nn.float32 else numpy(v)
             for name, v in source.state_dict().items()}
    result = ours.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert [id(p) for p in ours.parameters()] == [id(p) for p in params]
    assert all(p.dtype == nn.float32 for p in ours.parameters())
    compare = {**source.state_dict()}
    for name, value in ours.state_dict().items():
        np.testing.assert_allclose(numpy(value), numpy(compare[name]), rtol=1e-7)
    other = build_model(nn)
    other.load_state_dict(ours.state_dict())   # nn's own state_dict loads too
    x = nn.tensor(arrays((4, 3))[0], dtype=nn.float32)
    np.testing.assert_array_equal(numpy(other(x)), numpy(ours(x)))


BAD_STATES = {
    "missing key": lambda lib: {"weight": lib.zeros(3, 2)},
    "unexpected key": lambda lib: {"weight": lib.zeros(3, 2), "bias": lib.zeros(3), "scale": lib.ones(1)},
    "size mismatch": lambda lib: {"weight": lib.zeros(2, 3), "bias": lib.zeros(3)},
    "size mismatch and missing key": lambda lib: {"weight": lib.zeros(3, 3)},
}


@pytest.mark.parametrize("case", BAD_STATES)
def test_load_state_dict_strict_errors(case):
    # torch raises RuntimeError (after copying the good entries); nn raises it before copying anything
    for lib in (torch, nn):
        layer = layers(lib).Linear(2, 3)
        before = {name: numpy(v) for name, v in layer.state_dict().items()}
        with pytest.raises(RuntimeError) as error:
            layer.load_state_dict(BAD_STATES[case](lib))
        assert "state_dict" in str(error.value)
    for name, value in layer.state_dict().items():
        np.testing.assert_array_equal(numpy(value), before[name], err_msg=f"nn changed {name}, then raised")


def test_load_state_dict_error_names_the_keys():
    messages = {}
    for case, state in BAD_STATES.items():
        with pytest.raises(RuntimeError) as error:
            nn.Linear(2, 3).load_state_dict(state(nn))
        messages[case] = str(error.value)
    assert "bias" in messages["missing key"] and "scale" in messages["unexpected key"]
    assert "weight" in messages["size mismatch"] and "(2, 3)" in messages["size mismatch"].replace("[", "(")


def test_load_state_dict_non_strict_returns_missing_and_unexpected_keys():
    def load(lib):
        layer = layers(lib).Linear(2, 3)
        result = layer.load_state_dict({"weight": lib.ones(3, 2), "extra": lib.ones(1)}, strict=False)
        missing, unexpected = result
        assert (missing, unexpected) == (result.missing_keys, result.unexpected_keys)
        return missing, unexpected, numpy(layer.weight).tolist()
    missing, unexpected, weight = same(load)
    assert missing == ["bias"] and unexpected == ["extra"] and weight == [[1.0, 1.0]] * 3


def test_load_state_dict_non_strict_still_refuses_a_size_mismatch(lib):
    with pytest.raises(RuntimeError):
        layers(lib).Linear(2, 3).load_state_dict({"weight": lib.zeros(2, 3)}, strict=False)


# --- repr --------------------------------------------------------------------------------------------
REPRS = [
    "L.Linear(3, 4)", "L.Linear(3, 4, bias=False)", "L.ReLU()", "L.Tanh()", "L.Sigmoid()", "L.GELU()",
    "L.GELU(approximate='tanh')", "L.Softmax(dim=1)", "L.Softmax()", "L.LogSoftmax(0)", "L.LogSoftmax(dim=-1)",
    "L.Identity()", "L.Flatten()", "L.Flatten(0, 2)", "L.Dropout()", "L.Dropout(0.25)", "L.Embedding(5, 3)",
    "L.Embedding(5, 3, padding_idx=2)", "L.Embedding(5, 3, padding_idx=-1)", "L.LayerNorm(3)",
    "L.LayerNorm((2, 3), eps=1e-3)", "L.LayerNorm([4], bias=False)", "L.LayerNorm(3, elementwise_affine=False)",
    "L.BatchNorm1d(3)", "L.BatchNorm1d(3, eps=1e-3, momentum=None)", "L.BatchNorm1d(4, track_running_stats=False)",
    "L.BatchNorm1d(3, affine=False)",
    "L.Sequential()", "L.Sequential(L.Linear(2, 3), L.ReLU())",
    "L.Sequential(L.Linear(2, 3), L.Sequential(L.Tanh(), L.Sequential(L.Linear(3, 1))), L.Dropout(0.1))",
    "L.Sequential(collections.OrderedDict([('encoder', L.Linear(2, 3)), ('act', L.GELU())]))",
]


@pytest.mark.parametrize("expression", REPRS)
def test_repr(expression):
    same(lambda lib: repr(eval(expression, {"L": layers(lib), "collections": collections})))


def test_repr_of_a_custom_model():
    same(lambda lib: repr(build_model(lib)))


# --- Sequential -------------------------------------------------------------------------------------
def test_sequential_indexing_len_iteration_slicing_append(lib):
    L = layers(lib)
    seq = L.Sequential(L.Linear(2, 3), L.ReLU(), L.Linear(3, 4), L.Tanh())
    assert len(seq) == 4 and isinstance(seq[0], L.Linear) and isinstance(seq[-1], L.Tanh)
    assert seq[2] is list(seq)[2] and [type(m).__name__ for m in seq] == ["Linear", "ReLU", "Linear", "Tanh"]
    part = seq[1:3]
    assert isinstance(part, L.Sequential) and len(part) == 2 and part[0] is seq[1]
    with pytest.raises(IndexError):
        seq[4]
    assert seq.append(L.Sigmoid()) is seq and len(seq) == 5 and isinstance(seq[4], L.Sigmoid)
    x = lib.tensor(arrays((5, 2))[0], dtype=lib.float32)
    expected = x
    for layer in seq:
        expected = layer(expected)
    np.testing.assert_array_equal(numpy(seq(x)), numpy(expected))


def test_sequential_names_and_reprs_match_torch():
    def describe(lib):
        L = layers(lib)
        seq = L.Sequential(L.Linear(2, 3), L.ReLU(), L.Linear(3, 4), L.Tanh())
        seq.append(L.Sigmoid())
        return (repr(seq[1:4]), repr(seq[::2]), [n for n, _ in seq[2:].named_parameters()],
                list(seq.state_dict()), [n for n, _ in seq.named_children()])
    same(describe)


def test_sequential_with_an_ordered_dict_uses_its_names():
    same(lambda lib: list(layers(lib).Sequential(collections.OrderedDict(
        [("encoder", layers(lib).Linear(2, 3)), ("act", layers(lib).ReLU()),
         ("decoder", layers(lib).Linear(3, 2))])).state_dict()))


# --- each layer against torch, from identical weights -----------------------------------------------
def step(pair, x, seed=0, **tolerances):
    """One forward and backward pass of both layers of `pair` on the array x: the outputs, the input's
    gradient and every parameter's gradient agree. Returns (torch's output, nn's output)."""
    theirs, ours = pair
    runs = {}
    for lib, layer in ((torch, theirs), (nn, ours)):
        layer.zero_grad()
        x_lib = lib.tensor(x, requires_grad=x.dtype.kind == "f")
        runs[lib] = x_lib, layer(x_lib)
    (x_torch, expected), (x_nn, actual) = runs[torch], runs[nn]
    assert_same(expected, actual, what="output", **tolerances)
    assert actual.requires_grad == expected.requires_grad
    gradient = np.random.default_rng(seed).standard_normal(tuple(expected.shape)).astype(numpy(expected).dtype)
    expected.backward(torch.tensor(gradient)), actual.backward(nn.tensor(gradient))
    if x_torch.requires_grad:
        assert_same(x_torch.grad, x_nn.grad, what="input's gradient", **tolerances)
    else:
        assert x_nn.grad is None
    expected_params, actual_params = dict(theirs.named_parameters()), dict(ours.named_parameters())
    assert list(actual_params) == list(expected_params)
    for name, p in expected_params.items():
        q = actual_params[name]
        assert (p.grad is None) == (q.grad is None), f"{name}.grad is None in one library only"
        if p.grad is not None:
            assert_same(p.grad, q.grad, what=f"{name}.grad", **tolerances)
    return expected, actual


def input_array(shape, dtype, seed=1, scale=1.0, shift=0.0):
    return (arrays(shape, seed=seed)[0] * scale + shift).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3), (3,), (0, 3)], ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_linear(shape, bias, dtype):
    step(torch_pair(lambda L: L.Linear(3, 4, bias=bias), dtype), input_array(shape, dtype))


@pytest.mark.parametrize("in_features, out_features", [(0, 4), (3, 0)])
def test_linear_with_no_inputs_or_no_outputs(in_features, out_features):
    # torch allows empty layers (warning that initializing an empty weight is a no-op); Linear(0, n) gives y = bias
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pair = torch_pair(lambda L: L.Linear(in_features, out_features))
    step(pair, input_array((2, in_features), np.float32))
    step(pair, input_array((2, 5, in_features), np.float32))


ACTIVATIONS = [
    ("ReLU()", (4, 5)), ("ReLU()", (2, 3, 4)), ("Tanh()", (4, 5)), ("Sigmoid()", (2, 3, 4)),
    ("GELU()", (4, 5)), ("GELU(approximate='none')", (2, 3, 4)), ("GELU(approximate='tanh')", (4, 5)),
    ("GELU('tanh')", (2, 3, 4)),
    ("Softmax(dim=0)", (4, 5)), ("Softmax(dim=1)", (4, 5)), ("Softmax(dim=-1)", (2, 3, 4)), ("Softmax(1)", (2, 3, 4)),
    ("LogSoftmax(dim=0)", (4, 5)), ("LogSoftmax(dim=1)", (4, 5)), ("LogSoftmax(-1)", (2, 3, 4)),
    ("LogSoftmax(dim=-3)", (2, 3, 4)), ("Identity()", (4, 5)),
    ("Flatten()", (2, 3, 4, 5)), ("Flatten(0, 2)", (2, 3, 4, 5)), ("Flatten(start_dim=-3, end_dim=-2)", (2, 3, 4, 5)),
    ("Flatten(0, -1)", (2, 3, 4)), ("Flatten(2)", (2, 3, 4, 5)), ("Flatten(1, 1)", (2, 3, 4)), ("Flatten()", (2, 3)),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("expression, shape", ACTIVATIONS, ids=[f"{e}-{s}" for e, s in ACTIVATIONS])
def test_activation_and_shape_layers(expression, shape, dtype):
    x = input_array(shape, dtype, scale=2.5)
    x = np.where(np.abs(x) < 0.1, 0.3, x).astype(dtype)   # away from ReLU's kink
    step(torch_pair(lambda L: eval(f"L.{expression}", {"L": L}), dtype), x)


def test_identity_returns_its_input(lib):
    x = lib.ones(2, 3, requires_grad=True)
    assert layers(lib).Identity()(x) is x


@pytest.mark.parametrize("name", ["Softmax", "LogSoftmax"])
@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4)], ids=str)
def test_softmax_without_dim_warns_and_picks_torchs_dim(name, shape):
    pair = torch_pair(lambda L: getattr(L, name)())
    with pytest.warns(UserWarning):
        pair[0](torch.zeros(shape))
    with pytest.warns(UserWarning):
        pair[1](nn.zeros(*shape))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        step(pair, input_array(shape, np.float64))


EMBEDDINGS = [
    ("Embedding(6, 3)", [[1, 3, 3], [0, 5, 1]]),
    ("Embedding(6, 3, padding_idx=1)", [[1, 3, 3], [0, 5, 1]]),
    ("Embedding(6, 3, padding_idx=-1)", [5, 2, 5, 5, 0]),
    ("Embedding(6, 2, padding_idx=0)", [[[0, 0], [4, 4]], [[4, 1], [2, 0]]]),
    ("Embedding(4, 3)", 2),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("expression, indices", EMBEDDINGS, ids=[f"{e}-{i}" for e, i in EMBEDDINGS])
def test_embedding(expression, indices, dtype):
    pair = torch_pair(lambda L: eval(f"L.{expression}", {"L": L}), dtype, randomize=True)
    step(pair, np.array(indices, dtype=np.int64))


def test_embedding_weight_gradient_accumulates_and_skips_padding():
    weight = nn.Embedding(5, 2, padding_idx=0)
    assert not numpy(weight.weight)[0].any()          # the padding row starts at zero
    out = weight(nn.tensor([[1, 3, 3], [0, 1, 3]]))
    out.backward(nn.ones(2, 3, 2))
    np.testing.assert_array_equal(numpy(weight.weight.grad), [[0, 0], [2, 2], [0, 0], [3, 3], [0, 0]])


def test_embedding_default_init_is_standard_normal():
    nn.manual_seed(0)
    weight = numpy(nn.Embedding(1000, 100).weight)
    assert weight.dtype == np.float32 and abs(weight.mean()) < 0.01 and abs(weight.std() - 1) < 0.01


LAYER_NORMS = [
    ("LayerNorm(4)", (3, 4)), ("LayerNorm(4)", (2, 3, 4)), ("LayerNorm([3, 4])", (2, 3, 4)),
    ("LayerNorm((3, 4), eps=1e-3)", (3, 4)), ("LayerNorm(4, elementwise_affine=False)", (2, 3, 4)),
    ("LayerNorm(4, bias=False)", (5, 4)), ("LayerNorm(4)", (4,)),
]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("expression, shape", LAYER_NORMS, ids=[f"{e}-{s}" for e, s in LAYER_NORMS])
def test_layer_norm(expression, shape, dtype):
    pair = torch_pair(lambda L: eval(f"L.{expression}", {"L": L}), dtype, randomize=True)
    step(pair, input_array(shape, dtype, scale=3.0, shift=1.0), rtol=1e-4 if dtype == np.float32 else None)


BATCH_NORMS = [
    "BatchNorm1d(3)", "BatchNorm1d(3, momentum=0.3, eps=1e-3)", "BatchNorm1d(3, momentum=None)",
    "BatchNorm1d(3, track_running_stats=False)", "BatchNorm1d(3, affine=False)",
    "BatchNorm1d(3, affine=False, momentum=None)", "BatchNorm1d(3, bias=False)",
]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("shape", [(8, 3), (4, 3, 5), (2, 3)], ids=str)
@pytest.mark.parametrize("expression", BATCH_NORMS)
def test_batch_norm_training_steps_then_eval(expression, shape, dtype):
    pair = torch_pair(lambda L: eval(f"L.{expression}", {"L": L}), dtype, randomize=True)
    tolerances = {"rtol": 1e-4, "atol": 1e-5} if dtype == np.float32 else {}
    for i in range(3):   # batches of different means and spreads
        step(pair, input_array(shape, dtype, seed=10 + i, scale=i + 1, shift=2 * i - 1), seed=i, **tolerances)
        compare_states(*pair, **tolerances)
    running = {name: numpy(v) for name, v in pair[1].state_dict().items()}
    for layer in pair:
        assert layer.eval() is layer and not layer.training
    for i in range(2):   # evaluation: running statistics (if tracked), which then stay as they are
        step(pair, input_array(shape, dtype, seed=20 + i, scale=2.0, shift=0.5), seed=5 + i, **tolerances)
        compare_states(*pair, **tolerances)
    for name, value in pair[1].state_dict().items():
        np.testing.assert_array_equal(numpy(value), running[name], err_msg=f"{name} changed in eval mode")
    pair[0].train(), pair[1].train()
    step(pair, input_array(shape, dtype, seed=30), **tolerances)
    compare_states(*pair, **tolerances)


def test_batch_norm_buffers():
    same(lambda lib: shapes(layers(lib).BatchNorm1d(3).named_buffers()))
    same(lambda lib: shapes(layers(lib).BatchNorm1d(3).state_dict().items()))
    same(lambda lib: shapes(layers(lib).BatchNorm1d(3, track_running_stats=False).state_dict().items()))
    same(lambda lib: shapes(layers(lib).BatchNorm1d(3, affine=False).state_dict().items()))
    layer = nn.BatchNorm1d(3, track_running_stats=False)
    assert layer.running_mean is None and layer.running_var is None and layer.num_batches_tracked is None


def test_batch_norm_counts_batches(lib):
    layer = layers(lib).BatchNorm1d(2)
    for _ in range(3):
        layer(lib.tensor(arrays((4, 2))[0], dtype=lib.float32))
    layer.eval()(lib.tensor(arrays((4, 2))[0], dtype=lib.float32))
    assert layer.num_batches_tracked.item() == 3


# --- Dropout: random masks, so the properties ---------------------------------------------------------
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_dropout_in_training(p, dtype):
    nn.manual_seed(0)
    layer = nn.Dropout(p)
    x = nn.tensor(np.abs(input_array((200, 250), dtype)) + 0.5, requires_grad=True)
    out = layer(x)
    assert out.dtype == dtype and out.shape == x.shape and out.requires_grad
    values, inputs = numpy(out), numpy(x)
    kept = values != 0
    assert abs(1 - kept.mean() - p) < 0.01, f"fraction zeroed {1 - kept.mean():.3f}, p = {p}"
    np.testing.assert_allclose(values[kept], inputs[kept] / (1 - p), rtol=1e-6)
    gradient = input_array((200, 250), dtype, seed=3)
    out.backward(nn.tensor(gradient))
    np.testing.assert_allclose(numpy(x.grad), gradient * kept / (1 - p), rtol=1e-6)


def test_dropout_masks_follow_manual_seed():
    masks = []
    for _ in range(2):
        nn.manual_seed(5)
        masks.append(numpy(nn.Dropout(0.5)(nn.ones(50, 50))) != 0)
    assert np.array_equal(*masks)
    assert not np.array_equal(masks[0], numpy(nn.Dropout(0.5)(nn.ones(50, 50))) != 0)


def test_dropout_in_eval_mode_is_the_identity(lib):
    x = lib.tensor(arrays((4, 5))[0], requires_grad=True)
    layer = layers(lib).Dropout(0.5)
    assert layer.eval() is layer
    assert layer(x) is x
    assert functional(lib).dropout(x, 0.5, training=False) is x
    model = layers(lib).Sequential(layers(lib).Linear(5, 5), layers(lib).Dropout(0.9)).double().eval()
    first, second = numpy(model(x)), numpy(model(x))
    np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("p", [0.0, 1.0])
@pytest.mark.parametrize("form", ["module", "function"])
def test_dropout_with_p_0_and_1(p, form):
    if form == "module":
        twin(lambda lib, x: layers(lib).Dropout(p)(x), *arrays((4, 5)))
    else:
        twin(lambda lib, x: functional(lib).dropout(x, p), *arrays((4, 5)))


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_with_an_invalid_p_raises_ValueError(lib, p):
    with pytest.raises(ValueError):
        layers(lib).Dropout(p)
    with pytest.raises(ValueError):
        functional(lib).dropout(lib.ones(3), p)


# --- Linear's default initialization ----------------------------------------------------------------
def test_linear_default_init_matches_torchs_distribution():
    nn.manual_seed(0)
    torch.manual_seed(0)
    ours, theirs = nn.Linear(400, 300), torch.nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    for name in ("weight", "bias"):
        values, reference = numpy(getattr(ours, name)), numpy(getattr(theirs, name))
        assert values.dtype == np.float32 and np.abs(values).max() <= bound
        assert np.abs(values).max() > 0.95 * bound and abs(values.mean()) < 0.1 * bound
    weight, reference = numpy(ours.weight), numpy(theirs.weight)
    assert abs(weight.std() / reference.std() - 1) < 0.02 and abs(weight.std() * math.sqrt(3) / bound - 1) < 0.02
    bias = numpy(ours.bias)
    assert abs(bias.std() * math.sqrt(3) / bound - 1) < 0.15
    assert isinstance(ours.weight, nn.Parameter) and ours.weight.requires_grad and ours.weight.is_leaf
    assert not np.array_equal(numpy(nn.Linear(400, 300).weight), weight)   # fresh numbers each layer


def test_linear_default_init_of_a_small_layer_stays_within_its_bound():
    nn.manual_seed(1)
    for fan_in in (1, 2, 7):
        layer = nn.Linear(fan_in, 50)
        bound = 1 / math.sqrt(fan_in)
        assert np.abs(numpy(layer.weight)).max() <= bound and np.abs(numpy(layer.bias)).max() <= bound


# --- nn.init -----------------------------------------------------------------------------------------
INITS = {
    "uniform_": (lambda init, t: init.uniform_(t), 1 / math.sqrt(12)),
    "uniform_(-2, 4)": (lambda init, t: init.uniform_(t, -2.0, 4.0), 6 / math.sqrt(12)),
    "normal_": (lambda init, t: init.normal_(t), 1.0),
    "normal_(mean=1, std=0.1)": (lambda init, t: init.normal_(t, mean=1.0, std=0.1), 0.1),
    "kaiming_uniform_": (lambda init, t: init.kaiming_uniform_(t), math.sqrt(2 / 400)),
    "kaiming_uniform_(a=sqrt 5)": (lambda init, t: init.kaiming_uniform_(t, a=math.sqrt(5)), 1 / math.sqrt(3 * 400)),
    "kaiming_uniform_(fan_out, relu)": (lambda init, t: init.kaiming_uniform_(t, mode="fan_out", nonlinearity="relu"),
                                        math.sqrt(2 / 300)),
    "kaiming_normal_": (lambda init, t: init.kaiming_normal_(t, nonlinearity="relu"), math.sqrt(2 / 400)),
    "xavier_uniform_": (lambda init, t: init.xavier_uniform_(t), math.sqrt(2 / 700)),
    "xavier_uniform_(gain=2)": (lambda init, t: init.xavier_uniform_(t, gain=2.0), 2 * math.sqrt(2 / 700)),
    "xavier_normal_": (lambda init, t: init.xavier_normal_(t), math.sqrt(2 / 700)),
    "zeros_": (lambda init, t: init.zeros_(t), 0.0),
    "ones_": (lambda init, t: init.ones_(t), 0.0),
    "constant_": (lambda init, t: init.constant_(t, 0.25), 0.0),
}


def init_of(lib):
    return torch.nn.init if lib is torch else nn.init


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("case", INITS)
def test_init_fills_in_place_returns_the_tensor_and_keeps_dtype(case, dtype):
    fill, intended_std = INITS[case]
    nn.manual_seed(0)
    torch.manual_seed(0)
    ours = nn.zeros(300, 400, dtype=dtype)
    storage = ours._data
    theirs = torch.zeros(300, 400, dtype=torch.float64 if dtype == np.float64 else torch.float32)
    assert fill(nn.init, ours) is ours and fill(torch.nn.init, theirs) is theirs
    assert ours.dtype == dtype and ours.shape == (300, 400) and ours._data is storage
    values, reference = numpy(ours), numpy(theirs)
    assert abs(values.mean() - reference.mean()) < 0.01 + 0.01 * abs(reference.mean())
    np.testing.assert_allclose(values.std(), reference.std(), rtol=0.02, atol=1e-12)
    np.testing.assert_allclose(values.std(), intended_std, rtol=0.02, atol=1e-12)
    if "normal" not in case:   # bounded distributions: the same range as torch's
        np.testing.assert_allclose([values.min(), values.max()], [reference.min(), reference.max()], rtol=0.01, atol=1e-3)


@pytest.mark.parametrize("case", ["uniform_(-2, 4)", "kaiming_uniform_", "kaiming_uniform_(a=sqrt 5)",
                                  "kaiming_uniform_(fan_out, relu)", "xavier_uniform_(gain=2)"])
def test_uniform_inits_stay_within_torchs_bound(case):
    fill, std = INITS[case]
    nn.manual_seed(0)
    values = numpy(fill(nn.init, nn.zeros(300, 400)))
    center, bound = (1.0, 3.0) if case == "uniform_(-2, 4)" else (0.0, std * math.sqrt(3))
    assert np.abs(values - center).max() <= bound * (1 + 1e-6)
    assert np.abs(values - center).max() > 0.999 * bound


def test_init_of_a_parameter_keeps_it_a_leaf(lib):
    weight = layers(lib).Parameter(lib.zeros(4, 3))
    for fill, _ in INITS.values():
        assert fill(init_of(lib), weight) is weight
        assert weight.is_leaf and weight.requires_grad and weight.grad_fn is None and weight.grad is None


def test_init_on_a_conv_weight_uses_its_receptive_field():
    nn.manual_seed(0)
    values = numpy(nn.init.kaiming_uniform_(nn.zeros(64, 16, 3, 3), nonlinearity="relu"))
    bound = math.sqrt(2) * math.sqrt(3 / (16 * 9))
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.99 * bound


@pytest.mark.parametrize("shape", [(3, 5), (5, 3), (8, 4, 3, 3), (2, 3, 4), (7, 1, 5), (4, 6, 1, 2, 3)], ids=str)
def test_fans_equal_torchs(shape):
    same(lambda lib: init_of(lib)._calculate_fan_in_and_fan_out(lib.zeros(*shape)))


GAINS = [("linear", None), ("conv1d", None), ("conv2d", None), ("conv_transpose2d", None), ("sigmoid", None),
         ("tanh", None), ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 0),
         ("leaky_relu", 3), ("selu", None)]


@pytest.mark.parametrize("nonlinearity, param", GAINS)
def test_gains_equal_torchs(nonlinearity, param):
    assert nn.init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-15)


INIT_ERRORS = {
    "fans of a 1-d tensor": lambda lib: init_of(lib)._calculate_fan_in_and_fan_out(lib.zeros(3)),
    "xavier_uniform_ 1-d": lambda lib: init_of(lib).xavier_uniform_(lib.zeros(3)),
    "xavier_normal_ 0-d": lambda lib: init_of(lib).xavier_normal_(lib.zeros(())),
    "kaiming_uniform_ 1-d": lambda lib: init_of(lib).kaiming_uniform_(lib.zeros(3)),
    "kaiming_normal_ 1-d": lambda lib: init_of(lib).kaiming_normal_(lib.zeros(3)),
    "kaiming_uniform_ bad mode": lambda lib: init_of(lib).kaiming_uniform_(lib.zeros(2, 2), mode="fan"),
    "kaiming_normal_ bad nonlinearity": lambda lib: init_of(lib).kaiming_normal_(lib.zeros(2, 2), nonlinearity="swish"),
    "calculate_gain unknown": lambda lib: init_of(lib).calculate_gain("swish"),
    "calculate_gain bad slope": lambda lib: init_of(lib).calculate_gain("leaky_relu", "0.2"),
}


@pytest.mark.parametrize("case", INIT_ERRORS)
def test_init_errors(case):
    for lib in (torch, nn):
        with pytest.raises(ValueError):
            INIT_ERRORS[case](lib)


def test_init_refuses_before_changing_the_tensor():
    t = nn.ones(2, 2)
    with pytest.raises(ValueError):
        nn.init.kaiming_uniform_(t, mode="fan")
    np.testing.assert_array_equal(numpy(t), np.ones((2, 2)))


# --- errors --------------------------------------------------------------------------------------------
F32 = np.float32


def refuse(fn, *values, **kwargs):
    "Both libraries raise on fn(lib, *tensors) with the same exception type; returns them."
    return twin_raises(fn, *values, **kwargs)


def test_linear_with_a_wrong_input_size_raises_RuntimeError():
    refuse(lambda lib, x: layers(lib).Linear(3, 4)(x), input_array((2, 5), F32))
    refuse(lambda lib, x: layers(lib).Linear(3, 4)(x), input_array((5,), F32))
    refuse(lambda lib, x: layers(lib).Linear(3, 4)(x), input_array((3, 2), F32))


def test_linear_with_a_float64_input_and_float32_weights_raises_RuntimeError():
    refuse(lambda lib, x: layers(lib).Linear(3, 4)(x), input_array((2, 3), np.float64))


@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3,)], ids=str)
def test_batch_norm_with_a_wrong_number_of_dims_raises_ValueError(shape):
    refuse(lambda lib, x: layers(lib).BatchNorm1d(3)(x), input_array(shape, F32))


def test_batch_norm_with_a_wrong_number_of_channels_raises_RuntimeError():
    refuse(lambda lib, x: layers(lib).BatchNorm1d(3)(x), input_array((4, 2), F32))


@pytest.mark.parametrize("shape", [(1, 3), (1, 3, 1)], ids=str)
def test_training_batch_norm_with_one_value_per_channel_raises_ValueError(shape):
    refuse(lambda lib, x: layers(lib).BatchNorm1d(3)(x), input_array(shape, F32))
    for lib in (torch, nn):   # the running statistics are untouched
        layer = layers(lib).BatchNorm1d(3)
        with pytest.raises(ValueError):
            layer(lib.tensor(input_array(shape, F32)))
        np.testing.assert_array_equal(numpy(layer.running_mean), np.zeros(3))
        np.testing.assert_array_equal(numpy(layer.running_var), np.ones(3))
        layer.eval()
        layer(lib.tensor(input_array(shape, F32)))   # in eval mode one sample is fine


@pytest.mark.parametrize("normalized_shape, shape", [(3, (2, 4)), ((2, 3), (4, 3, 2)), ((4,), (4, 1))], ids=str)
def test_layer_norm_with_a_wrong_trailing_shape_raises_RuntimeError(normalized_shape, shape):
    refuse(lambda lib, x: layers(lib).LayerNorm(normalized_shape)(x), input_array(shape, F32))


def test_embedding_with_float_indices_raises_RuntimeError():
    refuse(lambda lib, i: layers(lib).Embedding(5, 3)(i), np.array([1.0, 2.0]), requires_grad=False)


@pytest.mark.parametrize("indices", [[5], [0, 7], [-1], [[1, -6]]], ids=str)
def test_embedding_with_an_index_out_of_range_raises_IndexError(indices):
    refuse(lambda lib, i: layers(lib).Embedding(5, 3)(i), np.array(indices, dtype=np.int64))


def test_embedding_with_padding_idx_out_of_range_raises_AssertionError(lib):
    with pytest.raises(AssertionError):
        layers(lib).Embedding(5, 3, padding_idx=5)


def test_gelu_with_an_unknown_approximation_raises_RuntimeError():
    refuse(lambda lib, x: layers(lib).GELU("fast")(x), input_array((2, 3), F32))
    refuse(lambda lib, x: functional(lib).gelu(x, approximate="fast"), input_array((2, 3), F32))


def test_softmax_with_a_dim_out_of_range_raises_IndexError():
    refuse(lambda lib, x: layers(lib).Softmax(dim=2)(x), input_array((2, 3), F32))
    refuse(lambda lib, x: layers(lib).LogSoftmax(dim=-3)(x), input_array((2, 3), F32))


# --- functional forms against torch.nn.functional --------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_functional_linear(dtype):
    x, w, b = (a.astype(dtype) for a in arrays((2, 3, 4), (5, 4), (5,)))
    twin(lambda lib, x, w, b: functional(lib).linear(x, w, b), x, w, b)
    twin(lambda lib, x, w: functional(lib).linear(x, w), x, w)
    twin(lambda lib, x, w, b: functional(lib).linear(x, w, bias=b), x, w, b)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_functional_gelu(approximate, dtype):
    x = np.concatenate([np.linspace(-8, 8, 161), [-30.0, 30.0, 0.0]]).astype(dtype)
    twin(lambda lib, x: functional(lib).gelu(x, approximate=approximate), x)
    twin(lambda lib, x: functional(lib).gelu(x), arrays((3, 4))[0].astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_functional_layer_norm(dtype):
    x, w, b = (a.astype(dtype) for a in arrays((2, 3, 4), (3, 4), (3, 4)))
    tolerances = {"rtol": 1e-4} if dtype == np.float32 else {}
    twin(lambda lib, x, w, b: functional(lib).layer_norm(x, (3, 4), w, b), x, w, b, **tolerances)
    twin(lambda lib, x: functional(lib).layer_norm(x, [4], eps=0.1), x, **tolerances)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5)], ids=str)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
def test_functional_batch_norm_updates_running_stats_like_torch(training, shape, dtype):
    x, w, b, mean = (a.astype(dtype) for a in arrays(shape, (3,), (3,), (3,)))
    var = (np.abs(arrays((3,), seed=1)[0]) + 0.5).astype(dtype)
    tolerances = {"rtol": 1e-4} if dtype == np.float32 else {}

    def run(lib, x, w, b, running_mean, running_var):
        out = functional(lib).batch_norm(x, running_mean, running_var, w, b, training=training, momentum=0.3, eps=1e-3)
        return out, running_mean * 1, running_var * 1    # the running stats after the update
    twin(run, x, w, b, mean, var, requires_grad=(True, True, True, False, False), **tolerances)
    if training:
        twin(lambda lib, x: functional(lib).batch_norm(x, None, None, training=True), x, **tolerances)


@pytest.mark.parametrize("padding_idx", [None, 2])
def test_functional_embedding(padding_idx):
    indices, weight = np.array([[0, 2, 2], [4, 2, 1]]), arrays((5, 3))[0]
    twin(lambda lib, i, w: functional(lib).embedding(i, w, padding_idx=padding_idx), indices, weight)


# --- finite differences ------------------------------------------------------------------------------------
def f64(*shapes, seed=0):
    return [nn.tensor(a, requires_grad=True) for a in arrays(*shapes, seed=seed)]


def test_gradcheck_linear():
    x, w, b = f64((2, 3, 4), (5, 4), (5,))
    assert nn.gradcheck(nn.modules.linear, (x, w, b))
    assert nn.gradcheck(nn.modules.linear, (x, w))


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gradcheck_gelu(approximate):
    x = nn.tensor(np.linspace(-4, 4, 33) + 0.01, requires_grad=True)
    assert nn.gradcheck(lambda t: nn.modules.gelu(t, approximate=approximate), (x,))


def test_gradcheck_layer_norm():
    x, w, b = f64((3, 2, 4), (2, 4), (2, 4))
    assert nn.gradcheck(lambda x, w, b: nn.modules.layer_norm(x, (2, 4), w, b), (x, w, b))
    assert nn.gradcheck(lambda x: nn.modules.layer_norm(x, 4), (x,))


@pytest.mark.parametrize("shape", [(5, 3), (3, 3, 4)], ids=str)
def test_gradcheck_batch_norm_training(shape):
    x, w, b = f64(shape, (3,), (3,))
    assert nn.gradcheck(lambda x, w, b: nn.modules.batch_norm(x, None, None, w, b, training=True), (x, w, b))


def test_gradcheck_embedding():
    indices = nn.tensor([[0, 2, 2], [3, 2, 0]])
    (w,) = f64((4, 3))
    assert nn.gradcheck(lambda w: nn.modules.embedding(indices, w), (w,))


def test_gradcheck_sequential_model():
    nn.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.LayerNorm(6), nn.GELU(), nn.Linear(6, 5), nn.Sigmoid(),
                          nn.BatchNorm1d(5), nn.Linear(5, 3), nn.LogSoftmax(dim=1)).double()
    (x,) = f64((7, 4))
    assert nn.gradcheck(lambda x: model(x), (x,))
