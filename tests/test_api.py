"""The names API.md promises under "Tensors", "Autograd" and "Operations" exist, where torch has them.

Every operation that is a Tensor method is also a function of `nn` wherever torch has `torch.f`, and
the two spellings give the same result.
"""
import numpy as np
import pytest
import torch

import nn
from twin import arrays, numpy

FUNCTIONS = """
    Tensor tensor from_numpy zeros ones full eye arange randn rand zeros_like ones_like randn_like manual_seed
    float32 float64 int64 bool no_grad enable_grad is_grad_enabled
    add sub mul div pow neg matmul dot mv mm bmm maximum minimum where eq ne lt le gt ge
    exp log sqrt abs tanh sigmoid relu sin cos clamp
    sum mean var std logsumexp max min argmax argmin softmax log_softmax
    reshape flatten transpose t permute unsqueeze squeeze cat stack
""".split()

ATTRIBUTES = "shape ndim dtype grad requires_grad is_leaf grad_fn T".split()

TENSOR_METHODS = "size dim numel numpy item tolist detach backward retain_grad requires_grad_".split()

OPERATIONS = """
    add sub mul div pow neg matmul maximum minimum eq ne lt le gt ge
    exp log sqrt abs tanh sigmoid relu sin cos clamp
    sum mean var std logsumexp max min argmax argmin softmax log_softmax
    reshape view flatten transpose t permute unsqueeze squeeze expand
""".split()

OPERATORS = "add radd sub rsub mul rmul truediv rtruediv pow rpow matmul neg lt le gt ge eq ne getitem".split()


@pytest.mark.parametrize("name", FUNCTIONS)
def test_function_exists(name):
    assert hasattr(torch, name), f"torch.{name} (the list itself is wrong)"
    assert hasattr(nn, name), f"nn.{name} is missing"


@pytest.mark.parametrize("name", TENSOR_METHODS + OPERATIONS)
def test_tensor_method_exists(name):
    assert callable(getattr(torch.Tensor, name)), f"torch.Tensor.{name} (the list itself is wrong)"
    assert callable(getattr(nn.Tensor, name, None)), f"nn.Tensor.{name} is missing"


@pytest.mark.parametrize("name", OPERATORS)
def test_operator_exists(name):
    assert hasattr(nn.Tensor, f"__{name}__"), f"nn.Tensor.__{name}__ is missing"


@pytest.mark.parametrize("name", ATTRIBUTES)
def test_tensor_attribute_exists(name):
    t = nn.ones(2, 3, requires_grad=True)
    getattr(t, name)


@pytest.mark.parametrize("name", [m for m in OPERATIONS if hasattr(torch, m)])
def test_every_operation_torch_also_has_as_a_function_is_a_function_of_nn(name):
    assert hasattr(nn, name), f"torch.{name} exists, nn.{name} does not"


# --- nn.f(x, ...) gives what x.f(...) gives ---------------------------------------------------------
CALLS = [  # (name, extra arguments), each valid both as torch.f(x, *args) and as x.f(*args)
    ("exp", ()), ("log", ()), ("sqrt", ()), ("abs", ()), ("tanh", ()), ("sigmoid", ()), ("relu", ()), ("sin", ()),
    ("cos", ()), ("clamp", (0.6, 1.2)), ("pow", (2.0,)), ("neg", ()),
    ("sum", (1,)), ("mean", (0,)), ("var", (1,)), ("std", ()), ("logsumexp", (1,)), ("softmax", (1,)),
    ("log_softmax", (0,)), ("max", ()), ("min", (1,)), ("argmax", ()), ("argmin", (0,)),
    ("reshape", ((3, 2),)), ("flatten", ()), ("transpose", (0, 1)), ("t", ()), ("permute", ((1, 0),)),
    ("unsqueeze", (1,)), ("squeeze", ()),
]


def flat(result):
    "A result (a tensor, or a tuple of them such as max's) as a list of NumPy arrays."
    results = result if isinstance(result, tuple) else (result,)
    return [numpy(r) for r in results]


@pytest.mark.parametrize("name, args", CALLS, ids=[name for name, _ in CALLS])
def test_function_and_method_agree(name, args):
    x = nn.tensor(np.abs(arrays((2, 3))[0]) + 0.5)
    function, method = flat(getattr(nn, name)(x, *args)), flat(getattr(x, name)(*args))
    assert len(function) == len(method)
    for f, m in zip(function, method):
        np.testing.assert_array_equal(f, m)


@pytest.mark.parametrize("name", ["maximum", "minimum", "add", "sub", "mul", "div", "pow", "eq", "lt", "ge"])
def test_binary_function_and_method_agree(name):
    x, y = (nn.tensor(np.abs(a) + 0.5) for a in arrays((2, 3), (3,)))
    np.testing.assert_array_equal(numpy(getattr(nn, name)(x, y)), numpy(getattr(x, name)(y)))
