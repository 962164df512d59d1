"""The names API.md promises under "Neural networks" exist, and their signatures are torch's.

For each callable the test compares the parameters that matter to a user (those API.md mentions and
the core ones of torch's documentation) by name, default and position: `nn.Linear(3, 4, False)` must
mean what it means in torch. Torch-only parameters (device, dtype, generator, foreach, ...) are ignored.
"""
import inspect

import numpy as np
import pytest
import torch

import nn

torch.set_num_threads(1)   # tiny tensors: torch's thread pool only costs time

LAYERS = """Module Parameter Linear ReLU Tanh Sigmoid GELU Softmax LogSoftmax Sequential Flatten Dropout Embedding
            LayerNorm BatchNorm1d Conv2d MaxPool2d MSELoss CrossEntropyLoss NLLLoss BCEWithLogitsLoss""".split()
FUNCTIONAL = """relu sigmoid tanh gelu softmax log_softmax linear dropout cross_entropy nll_loss mse_loss
                binary_cross_entropy_with_logits conv2d max_pool2d""".split()
INIT = "kaiming_uniform_ xavier_uniform_ zeros_ ones_ normal_ uniform_".split()
OPTIMIZERS = "SGD Adam AdamW".split()
DATA = "TensorDataset DataLoader".split()
MODULE_METHODS = """forward __call__ parameters named_parameters children modules zero_grad train eval state_dict
                    load_state_dict requires_grad_""".split()


@pytest.mark.parametrize("name", LAYERS)
def test_layer_exists(name):
    assert isinstance(getattr(torch.nn, name), type), f"torch.nn.{name} (the list itself is wrong)"
    assert isinstance(getattr(nn, name, None), type), f"nn.{name} is missing"
    if name not in ("Module", "Parameter"):
        assert issubclass(getattr(nn, name), nn.Module), f"nn.{name} is not a Module"


def test_parameter_is_a_tensor():
    assert issubclass(nn.Parameter, nn.Tensor)


@pytest.mark.parametrize("name", FUNCTIONAL)
def test_functional_exists(name):
    assert callable(getattr(torch.nn.functional, name)), f"torch.nn.functional.{name} (the list itself is wrong)"
    assert callable(getattr(nn.functional, name, None)), f"nn.functional.{name} is missing"


def test_import_nn_functional_as_F():
    import nn.functional as F
    assert F is nn.functional


@pytest.mark.parametrize("name", INIT)
def test_init_exists(name):
    assert callable(getattr(torch.nn.init, name)), f"torch.nn.init.{name} (the list itself is wrong)"
    assert callable(getattr(nn.init, name, None)), f"nn.init.{name} is missing"


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_exists_and_steps(name):
    optimizer_class = getattr(nn.optim, name, None)
    assert isinstance(optimizer_class, type), f"nn.optim.{name} is missing"
    assert callable(optimizer_class.step) and callable(optimizer_class.zero_grad)
    weight = nn.Parameter(nn.ones(3))
    optimizer = optimizer_class([weight], lr=0.1)
    (weight * weight).sum().backward()
    assert optimizer.step() is None
    assert np.all(weight.detach().numpy() < 1), f"nn.optim.{name}.step() did not move the weight downhill"
    optimizer.zero_grad()
    assert weight.grad is None


def test_optimizer_takes_a_modules_parameters():
    model = nn.Linear(2, 1)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    model(nn.ones(4, 2)).sum().backward()
    before = model.weight.detach().numpy().copy()
    optimizer.step()
    np.testing.assert_allclose(model.weight.detach().numpy(), before - 0.5 * 4, rtol=1e-6)


@pytest.mark.parametrize("name", DATA)
def test_data_names_exist(name):
    assert isinstance(getattr(torch.utils.data, name), type), f"torch.utils.data.{name} (the list itself is wrong)"
    assert isinstance(getattr(nn.utils.data, name, None), type), f"nn.utils.data.{name} is missing"


def test_data_imports_like_torch():
    from nn.utils.data import DataLoader, TensorDataset
    assert DataLoader is nn.utils.data.DataLoader and TensorDataset is nn.utils.data.TensorDataset
    x, y = nn.arange(10.0).reshape(5, 2), nn.arange(5)
    dataset = TensorDataset(x, y)
    assert len(dataset) == 5 and [t.tolist() for t in dataset[1]] == [[2.0, 3.0], 1]
    batches = list(DataLoader(dataset, batch_size=2))
    assert [tuple(b[0].shape) for b in batches] == [(2, 2), (2, 2), (1, 2)]
    assert [b[1].tolist() for b in batches] == [[0, 1], [2, 3], [4]]
    shuffled = list(DataLoader(dataset, batch_size=5, shuffle=True))
    assert sorted(shuffled[0][1].tolist()) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("name", MODULE_METHODS)
def test_module_method_exists(name):
    assert callable(getattr(torch.nn.Module, name)), f"torch.nn.Module.{name} (the list itself is wrong)"
    assert callable(getattr(nn.Module, name, None)), f"nn.Module.{name} is missing"


def test_module_has_a_training_flag():
    assert nn.Module().training is True and nn.Linear(2, 3).eval().training is False


# --- signatures --------------------------------------------------------------------------------------
# "names checked by position | names checked by name only"; a path is resolved in nn and in torch
# (torch.nn for layers, functional, init and Module; torch for optim and utils.data).
SIGNATURES = {
    "Parameter": "data requires_grad",
    "Linear": "in_features out_features bias",
    "GELU": "approximate",
    "Softmax": "dim",
    "LogSoftmax": "dim",
    "Flatten": "start_dim end_dim",
    "Dropout": "p",
    "Embedding": "num_embeddings embedding_dim padding_idx",
    "LayerNorm": "normalized_shape eps elementwise_affine bias",
    "BatchNorm1d": "num_features eps momentum affine track_running_stats | bias",
    "Conv2d": "in_channels out_channels kernel_size stride padding dilation groups bias",
    "MaxPool2d": "kernel_size stride padding",
    "MSELoss": "| reduction",
    "CrossEntropyLoss": "weight | ignore_index reduction label_smoothing",
    "NLLLoss": "weight | ignore_index reduction",
    "BCEWithLogitsLoss": "weight | reduction pos_weight",
    "functional.relu": "input",
    "functional.sigmoid": "input",
    "functional.tanh": "input",
    "functional.gelu": "input | approximate",
    "functional.softmax": "input dim",
    "functional.log_softmax": "input dim",
    "functional.linear": "input weight bias",
    "functional.dropout": "input p training",
    "functional.cross_entropy": "input target weight | ignore_index reduction label_smoothing",
    "functional.nll_loss": "input target weight | ignore_index reduction",
    "functional.mse_loss": "input target | reduction",
    "functional.binary_cross_entropy_with_logits": "input target weight | reduction pos_weight",
    "functional.conv2d": "input weight bias stride padding dilation groups",
    "functional.max_pool2d": "input kernel_size stride padding",
    "init.kaiming_uniform_": "tensor a mode nonlinearity",
    "init.xavier_uniform_": "tensor gain",
    "init.zeros_": "tensor",
    "init.ones_": "tensor",
    "init.normal_": "tensor mean std",
    "init.uniform_": "tensor a b",
    "optim.SGD": "params lr momentum dampening weight_decay nesterov",
    "optim.Adam": "params lr betas eps weight_decay",
    "optim.AdamW": "params lr betas eps weight_decay",
    "optim.SGD.step": "closure",
    "optim.SGD.zero_grad": "set_to_none",
    "optim.Adam.step": "closure",
    "optim.Adam.zero_grad": "set_to_none",
    "utils.data.DataLoader": "dataset batch_size shuffle",
    "Module.parameters": "recurse",
    "Module.named_parameters": "prefix recurse",
    "Module.zero_grad": "set_to_none",
    "Module.train": "mode",
    "Module.load_state_dict": "state_dict strict",
    "Module.requires_grad_": "requires_grad",
}

# torch's C builtins have no inspectable signature: these are the ones its documentation gives
TORCH_DOCUMENTED = {
    "functional.gelu": "input, *, approximate='none'",
    "functional.linear": "input, weight, bias=None",
    "functional.conv2d": "input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1",
    "functional.max_pool2d": "input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, "
                             "return_indices=False",
}

POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def resolve(root, path):
    obj = root
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def parameters(fn):
    "The parameters of a callable (a class: of its constructor), without self, in order."
    return [p for p in inspect.signature(fn).parameters.values() if p.name != "self"]


def torch_parameters(path):
    if path in TORCH_DOCUMENTED:
        return parameters(eval(f"lambda {TORCH_DOCUMENTED[path]}: None"))
    root = torch if path.startswith(("optim.", "utils.")) else torch.nn
    return parameters(resolve(root, path))


@pytest.mark.parametrize("path", SIGNATURES)
def test_signature_matches_torch(path):
    by_position, _, by_name = SIGNATURES[path].partition("|")
    by_position, by_name = by_position.split(), by_name.split()
    theirs = torch_parameters(path)
    try:
        ours = parameters(resolve(nn, path))
    except AttributeError:
        pytest.fail(f"nn.{path} is missing")
    their_names, our_names = [p.name for p in theirs], [p.name for p in ours]
    for name in by_position + by_name:
        assert name in their_names, f"torch's {path} has no parameter {name} (the list itself is wrong)"
        assert name in our_names, f"nn.{path} has no parameter {name!r}: it has {our_names}, torch has {their_names}"
        theirs_p, ours_p = theirs[their_names.index(name)], ours[our_names.index(name)]
        assert ours_p.default == theirs_p.default, (
            f"nn.{path}: default of {name} is {ours_p.default!r}, torch's is {theirs_p.default!r}")
        assert ours_p.kind != inspect.Parameter.POSITIONAL_ONLY, f"nn.{path}: {name} cannot be passed by name"
    for name in by_position:
        theirs_p, ours_p = theirs[their_names.index(name)], ours[our_names.index(name)]
        assert (ours_p.kind in POSITIONAL) == (theirs_p.kind in POSITIONAL), (
            f"nn.{path}: {name} is {ours_p.kind.description}, torch's is {theirs_p.kind.description}")
        assert our_names.index(name) == their_names.index(name), (
            f"nn.{path}: {name} is parameter {our_names.index(name)}, torch's is {their_names.index(name)} "
            f"(nn: {our_names}, torch: {their_names})")


@pytest.mark.parametrize("path", ["utils.data.TensorDataset", "Sequential"])
def test_variadic_constructors(path):
    ours = parameters(resolve(nn, path))
    assert len(ours) == 1 and ours[0].kind == inspect.Parameter.VAR_POSITIONAL


@pytest.mark.parametrize("path", ["functional.softmax", "functional.log_softmax"])
def test_functional_softmax_without_dim_warns_like_torch(path):
    # torch.nn.functional.softmax(x) still works: it warns and picks dim 1 for a 2-d input (0 for 0-, 1-, 3-d)
    x = np.arange(6.0).reshape(2, 3)
    with pytest.warns(UserWarning):
        expected = resolve(torch.nn, path)(torch.tensor(x))
    with pytest.warns(UserWarning):
        actual = resolve(nn, path)(nn.tensor(x))
    np.testing.assert_allclose(actual.numpy(), expected.numpy(), rtol=1e-12)
