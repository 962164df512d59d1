"""Twin tests: a test is typed once, as PyTorch code, and run with `torch` and with `nn`.

The code takes the library as its first argument, `lib`, so it reads as PyTorch:

    twin(lambda lib, a, b: a * b + a, *arrays((4, 3), (3,)))

`twin` makes tensors from the same NumPy arrays in both libraries, calls the code with each, and
checks that the results agree in value, shape and dtype. Then it runs backward on both with the
same random gradient and checks every input's `.grad` the same way (and that each gradient has
its tensor's shape and dtype). torch is the specification: where the two disagree, nn is wrong.

`code` turns a line of PyTorch code into such a function. `twin_raises` checks that both libraries
refuse the same code with the same kind of exception, and `same` compares plain Python results
(numbers, lists, shapes, dtype names).
"""
import re

import numpy as np
import pytest
import torch

import nn

LIBS = (torch, nn)


# --- inputs ----------------------------------------------------------------------------------------
def layers(lib):
    "Where `lib` keeps its layers and losses: torch.nn, or nn itself."
    return torch.nn if lib is torch else nn


def F(lib):
    "Where `lib` keeps its functional forms: torch.nn.functional or nn.functional."
    return torch.nn.functional if lib is torch else nn.functional


def arrays(*shapes, dtype=np.float64, seed=0):
    "One standard-normal NumPy array per shape, all different, and the same on every run."
    rng = np.random.default_rng(seed)
    return [np.asarray(rng.standard_normal(shape), dtype=dtype) for shape in shapes]


def make_tensors(lib, values, requires_grad):
    "The NumPy arrays as `lib` tensors; floating ones require grad where `requires_grad` says so."
    flags = requires_grad if isinstance(requires_grad, (tuple, list)) else [requires_grad] * len(values)
    assert len(flags) == len(values), "one requires_grad flag per input"
    return [lib.tensor(a, requires_grad=flag and a.dtype.kind == "f") for a, flag in zip(values, flags)]


# --- comparing -------------------------------------------------------------------------------------
def dtype_name(dtype):
    "A dtype's name in either library: torch.float32 -> 'float32', np.dtype('bool') -> 'bool'."
    return str(dtype).removeprefix("torch.").removeprefix("nn.")


def numpy(t):
    "A tensor's values as a NumPy array (a copy), in either library."
    return t.detach().numpy().copy()


def tolerance(dtype):
    "Default (rtol, atol): different summation orders differ by a few roundings."
    return (1e-5, 1e-5) if dtype_name(dtype) == "float32" else (1e-10, 1e-12)


def assert_same(expected, actual, rtol=None, atol=None, what="result"):
    "A torch tensor and an nn tensor agree in shape, dtype and value."
    assert isinstance(actual, nn.Tensor), f"{what}: nn gave a {type(actual).__name__}, not a Tensor"
    assert tuple(actual.shape) == tuple(expected.shape), f"{what}: shape"
    assert dtype_name(actual.dtype) == dtype_name(expected.dtype), f"{what}: dtype"
    if dtype_name(expected.dtype).startswith("float"):
        default_rtol, default_atol = tolerance(expected.dtype)
        np.testing.assert_allclose(numpy(actual), numpy(expected), err_msg=what,
                                   rtol=default_rtol if rtol is None else rtol,
                                   atol=default_atol if atol is None else atol)
    else:
        np.testing.assert_array_equal(numpy(actual), numpy(expected), err_msg=what)


def as_tuple(outputs):
    return tuple(outputs) if isinstance(outputs, (tuple, list)) else (outputs,)


def code(expression, names="x"):
    """A line of PyTorch code over `lib`, `np` and tensors named in `names`, as a function for twin():
    `twin(code("x[::2] - y", "x y"), *arrays((4,), (2,)))`. The line doubles as the test's id."""
    names = names.split()

    def run(lib, *tensors):
        return eval(expression, {"np": np, "lib": lib}, dict(zip(names, tensors)))
    return run


# --- the twin test ---------------------------------------------------------------------------------
def run_backward(lib, outputs, gradients):
    "Backpropagate `gradients` (NumPy arrays) from every output that requires grad."
    pairs = [(out, g) for out, g in zip(outputs, gradients) if out.requires_grad]
    for i, (out, g) in enumerate(pairs):
        out.backward(lib.tensor(g), retain_graph=i < len(pairs) - 1)


def twin(fn, *values, requires_grad=True, rtol=None, atol=None, seed=0):
    """Run `fn(lib, *tensors)` with torch and with nn on tensors made from the NumPy arrays `values`;
    compare outputs, then gradients after backward with one random gradient. Returns both outputs."""
    runs = {}
    for lib in LIBS:
        inputs = make_tensors(lib, values, requires_grad)
        runs[lib] = inputs, as_tuple(fn(lib, *inputs))
    (torch_inputs, expected), (nn_inputs, actual) = runs[torch], runs[nn]

    assert len(actual) == len(expected), "number of outputs"
    for i, (e, a) in enumerate(zip(expected, actual)):
        assert_same(e, a, rtol, atol, what=f"output {i}")
        assert a.requires_grad == e.requires_grad, f"output {i}: requires_grad"
        assert (a.grad_fn is None) == (e.grad_fn is None), f"output {i}: grad_fn"

    rng = np.random.default_rng(seed)
    gradients = [rng.standard_normal(tuple(e.shape)).astype(numpy(e).dtype) for e in expected]
    for lib, (inputs, outputs) in runs.items():
        run_backward(lib, outputs, gradients)

    for i, (e, a) in enumerate(zip(torch_inputs, nn_inputs)):
        assert (a.grad is None) == (e.grad is None), f"input {i}: grad is None in one library only"
        if a.grad is not None:
            assert_same(e.grad, a.grad, rtol, atol, what=f"input {i}: grad")
            assert a.grad.shape == a.shape and a.grad.dtype == a.dtype, f"input {i}: grad's shape/dtype"
    return expected, actual


# --- errors ----------------------------------------------------------------------------------------
def snapshot(t):
    "What an operation must leave untouched when it refuses its inputs."
    grad = None if t.grad is None else numpy(t.grad)
    return numpy(t).tobytes(), None if grad is None else grad.tobytes(), t.requires_grad, t.grad_fn


def twin_raises(fn, *values, requires_grad=True):
    """Both libraries raise on `fn(lib, *tensors)`, nn with torch's exception type (or a subclass),
    and neither changes its inputs before raising. Returns (torch's exception, nn's exception)."""
    errors = []
    for lib in LIBS:
        inputs = make_tensors(lib, values, requires_grad)
        before = [snapshot(t) for t in inputs]
        with pytest.raises(Exception) as raised:
            fn(lib, *inputs)
        assert [snapshot(t) for t in inputs] == before, f"{lib.__name__} changed an input, then raised"
        assert lib.is_grad_enabled(), f"{lib.__name__} left grad mode off"
        errors.append(raised.value)
    torch_error, nn_error = errors
    assert isinstance(nn_error, type(torch_error)), (
        f"torch raises {type(torch_error).__name__} ({torch_error}), nn raises "
        f"{type(nn_error).__name__} ({nn_error})")
    return torch_error, nn_error


def names_shape(message, shape):
    "True if the message spells the shape's sizes in order: '2x3', '(2, 3)', '[2, 3]' all count."
    if shape == ():
        return re.search(r"\(\)|\[\]", str(message)) is not None
    sizes = r"\D{1,3}".join(str(n) for n in shape)
    return re.search(rf"(?<!\d){sizes}(?!\d)", str(message)) is not None


# --- plain results ---------------------------------------------------------------------------------
def plain(value):
    "Shapes as tuples, dtypes as names, containers recursively: comparable across libraries."
    if isinstance(value, (torch.dtype, np.dtype)):
        return dtype_name(value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, tuple):  # torch.Size too
        return tuple(plain(v) for v in value)
    if isinstance(value, (torch.Tensor, nn.Tensor)):
        raise TypeError("same() compares plain Python values; use twin() for tensors")
    return value


def same(fn):
    "`fn(torch)` and `fn(nn)` give equal plain Python results; returns nn's."
    expected, actual = plain(fn(torch)), plain(fn(nn))
    assert actual == expected, f"torch gives {expected!r}, nn gives {actual!r}"
    return actual
