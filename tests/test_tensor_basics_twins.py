"""Tensor basics against PyTorch: dtypes, devices, conversions, factories, gradient hooks,
grad modes and the graph's next_functions.

Each test is typed once against `lib` and run with torch and with nn; `both` (outcomes.py)
compares what the two return: tensors in value, shape and dtype, everything else as plain
Python values, and a raised exception by its type (nn's must be torch's or a subclass).
"""
import warnings

import numpy as np
import pytest
import torch

import nn
from outcomes import Raised, attempt, both, lambda_id, named
from twin import numpy, same, twin


# --- dtypes -----------------------------------------------------------------------------
DTYPE_NAMES = ["float32", "float64", "float16", "complex64", "complex128", "int64", "int32",
               "int16", "int8", "uint8", "bool"]
ALIASES = {"float": "float32", "double": "float64", "half": "float16", "long": "int64",
           "int": "int32", "short": "int16", "cfloat": "complex64", "cdouble": "complex128"}


@pytest.mark.parametrize("name", DTYPE_NAMES + list(ALIASES))
def test_dtype_names_print_as_torch(name):
    same(lambda lib: named(lib, getattr(lib, name)))


@pytest.mark.parametrize("alias, name", ALIASES.items())
def test_dtype_aliases_are_the_same_object(alias, name):
    same(lambda lib: (getattr(lib, alias) is getattr(lib, name),
                      getattr(lib, alias) == getattr(lib, name)))


@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_dtype_properties(name):
    same(lambda lib: (getattr(lib, name).is_floating_point, getattr(lib, name).is_complex,
                      getattr(lib, name).is_signed, getattr(lib, name).itemsize))


def test_dtypes_compare_and_hash_by_identity_of_type():
    same(lambda lib: (lib.float32 == lib.float, lib.float32 != lib.float64,
                      lib.int64 == lib.int32, len({lib.float, lib.float32, lib.double}),
                      {lib.long: "x"}.get(lib.int64)))


@pytest.mark.parametrize("name", DTYPE_NAMES)
def test_tensors_of_every_dtype(name):
    both(lambda lib: lib.tensor([[0, 1], [1, 0]], dtype=getattr(lib, name)))
    both(lambda lib: lib.ones(2, 3, dtype=getattr(lib, name)))


def test_bfloat16_is_named_but_refused_on_use():
    assert "bfloat16" in repr(nn.bfloat16)
    with pytest.raises(TypeError):
        nn.zeros(2, dtype=nn.bfloat16)
    with pytest.raises(TypeError):
        nn.tensor([1.0]).to(nn.bfloat16)


def test_default_dtype_is_float32():
    same(lambda lib: (lib.get_default_dtype(), lib.tensor(1.5).dtype, lib.zeros(1).dtype,
                      lib.arange(2.0).dtype, lib.tensor([1, 2]).dtype))


def with_default_dtype(lib, dtype, fn):
    "`fn()` with the default dtype set to `dtype`, restored afterwards."
    previous = lib.get_default_dtype()
    lib.set_default_dtype(dtype)
    try:
        return fn()
    finally:
        lib.set_default_dtype(previous)


def test_set_default_dtype_changes_what_floats_become():
    def made(lib):
        return with_default_dtype(lib, lib.float64, lambda: (
            lib.get_default_dtype(), lib.tensor(1.5), lib.tensor([1.0, 2.0]),
            lib.zeros(2), lib.ones(1), lib.full((2,), 1.5), lib.arange(0.0, 2.0),
            lib.linspace(0, 1, 3), lib.tensor([1, 2]), lib.tensor([1, 2]) * 1.5,
            lib.tensor(np.float32(1.0))))
    both(made)
    same(lambda lib: lib.get_default_dtype())  # restored


@pytest.mark.parametrize("dtype", ["int64", "bool", "int32"])
def test_set_default_dtype_refuses_non_floating_types(dtype):
    both(lambda lib: lib.set_default_dtype(getattr(lib, dtype)))
    same(lambda lib: lib.get_default_dtype())


def test_is_floating_point_is_tensor_numel_is_complex():
    same(lambda lib: (
        lib.is_floating_point(lib.zeros(2)), lib.is_floating_point(lib.arange(2)),
        lib.is_floating_point(lib.zeros(2, dtype=lib.float16)),
        lib.is_tensor(lib.zeros(1)), lib.is_tensor([1.0]), lib.is_tensor(np.zeros(1)),
        lib.numel(lib.zeros(2, 3)), lib.numel(lib.tensor(1.0)), lib.numel(lib.zeros(0, 4)),
        lib.is_complex(lib.zeros(2, dtype=lib.complex64)), lib.is_complex(lib.zeros(2)),
        lib.zeros(2).is_complex(), lib.zeros(2, dtype=lib.int8).is_floating_point()))


# --- devices ----------------------------------------------------------------------------
def test_device_objects():
    same(lambda lib: (str(lib.device("cpu")), repr(lib.device("cpu")),
                      lib.device("cpu").type, lib.device("cpu").index,
                      str(lib.device("cpu:0")), repr(lib.device("cpu", 0)),
                      lib.device("cpu", 0).index, lib.device(lib.device("cpu")).type,
                      lib.device("cpu") == lib.device("cpu"),
                      lib.device("cpu") == lib.device("cpu", 0),
                      len({lib.device("cpu"), lib.device("cpu")})))


def test_tensor_device_is_the_cpu():
    same(lambda lib: (lib.zeros(2).device == lib.device("cpu"), str(lib.zeros(2).device),
                      lib.zeros(2).device.type, lib.zeros(2).is_cuda,
                      lib.tensor([1]).device.type))


@pytest.mark.parametrize("make", ids=lambda_id, argvalues=[
    lambda lib, d: lib.zeros(2, 3, device=d), lambda lib, d: lib.ones(2, device=d),
    lambda lib, d: lib.empty(2, device=d).shape, lambda lib, d: lib.full((2,), 3.0, device=d),
    lambda lib, d: lib.eye(2, device=d), lambda lib, d: lib.arange(3, device=d),
    lambda lib, d: lib.linspace(0, 1, 4, device=d), lambda lib, d: lib.tensor([1, 2], device=d),
    lambda lib, d: lib.randn(2, device=d).shape, lambda lib, d: lib.rand(2, device=d).shape,
    lambda lib, d: lib.zeros_like(lib.ones(2), device=d),
    lambda lib, d: lib.ones_like(lib.ones(2), device=d),
    lambda lib, d: lib.full_like(lib.ones(2), 2.0, device=d),
    lambda lib, d: lib.ones(2).to(d), lambda lib, d: lib.ones(2).new_zeros(3, device=d),
])
@pytest.mark.parametrize("where", ["cpu", "cpu:0", "device"])
def test_factories_take_the_cpu_as_device(make, where):
    both(lambda lib: make(lib, lib.device("cpu") if where == "device" else where))


@pytest.mark.parametrize("where", ["cuda", "cuda:0", "mps"])
@pytest.mark.parametrize("make", ids=lambda_id, argvalues=[
    lambda d: nn.zeros(2, device=d), lambda d: nn.tensor([1.0], device=d),
    lambda d: nn.ones(2).to(d), lambda d: nn.arange(3, device=d),
    lambda d: nn.zeros_like(nn.ones(2), device=d), lambda d: nn.set_default_device(d),
    lambda d: nn.ones(2).to(nn.device(d)), lambda d: nn.ones(2).to(d, nn.float64),
])
def test_other_devices_are_refused_with_a_runtime_error(make, where):
    # torch raises here only because this build has no CUDA; nn says it runs on the CPU
    with pytest.raises(RuntimeError, match="CPU"):
        make(where)


def test_cuda_method_is_refused_and_nothing_changes():
    x = nn.ones(2)
    with pytest.raises(RuntimeError, match="CPU"):
        x.cuda()
    assert x.device.type == "cpu" and x._version == 0


def test_cuda_and_mps_namespaces_say_unavailable():
    same(lambda lib: (lib.cuda.is_available(), lib.cuda.device_count(),
                      lib.cuda.manual_seed(0), lib.cuda.manual_seed_all(0),
                      lib.backends.mps.is_available()))
    assert nn.cuda.synchronize() is None


def test_set_default_device_cpu_and_get_default_device():
    def default(lib):
        lib.set_default_device("cpu")
        try:
            return lib.get_default_device().type, lib.zeros(2).device.type
        finally:
            lib.set_default_device(None)
    same(default)


# --- conversions ------------------------------------------------------------------------
FLOATS = np.array([[-1.7, 0.0, 2.5], [3.9, -0.4, 1.0]])
INTS = np.array([[-2, 0, 3], [1, 7, -5]])
BOOLS = np.array([True, False, True])
CONVERTERS = ["float", "double", "half", "long", "int", "short", "bool", "byte", "char"]


@pytest.mark.parametrize("method", CONVERTERS)
@pytest.mark.parametrize("data", [FLOATS, INTS, BOOLS], ids=["floats", "ints", "bools"])
def test_converting_methods(method, data):
    both(lambda lib: getattr(lib.tensor(data), method)())


@pytest.mark.parametrize("method, dtype", [
    ("float", "float32"), ("double", "float64"), ("half", "float16"), ("long", "int64"),
    ("int", "int32"), ("short", "int16"), ("bool", "bool"), ("byte", "uint8"), ("char", "int8")])
def test_converting_to_the_same_dtype_returns_the_tensor_itself(method, dtype):
    same(lambda lib: (lambda x: getattr(x, method)() is x)(
        lib.zeros(2, dtype=getattr(lib, dtype))))


@pytest.mark.parametrize("call", ids=lambda_id, argvalues=[
    lambda lib, x: x.to(lib.float64), lambda lib, x: x.to(lib.int32),
    lambda lib, x: x.to(dtype=lib.float16), lambda lib, x: x.to("cpu"),
    lambda lib, x: x.to(lib.device("cpu")), lambda lib, x: x.to("cpu", lib.float64),
    lambda lib, x: x.to(device="cpu", dtype=lib.int64),
    lambda lib, x: x.to(lib.zeros(1, dtype=lib.int16)), lambda lib, x: x.to(lib.bool),
    lambda lib, x: x.type(lib.float64), lambda lib, x: x.type(lib.int64),
    lambda lib, x: x.type(f"{lib.__name__}.DoubleTensor"),
    lambda lib, x: x.type(f"{lib.__name__}.LongTensor"),
    lambda lib, x: x.type_as(lib.zeros(1, dtype=lib.int8)),
    lambda lib, x: x.type_as(lib.zeros(1, dtype=lib.float64)), lambda lib, x: x.cpu(),
])
def test_to_type_type_as_and_cpu_convert(call):
    both(lambda lib: call(lib, lib.tensor(FLOATS, dtype=lib.float32)))


@pytest.mark.parametrize("call", ids=lambda_id, argvalues=[
    lambda lib, x: x.to(lib.float32), lambda lib, x: x.to("cpu"), lambda lib, x: x.cpu(),
    lambda lib, x: x.to(lib.zeros(1)), lambda lib, x: x.type(lib.float32),
    lambda lib, x: x.type_as(lib.zeros(1)), lambda lib, x: x.to(lib.float32, copy=True),
    lambda lib, x: x.to(lib.float64), lambda lib, x: x.to("cpu", copy=True),
])
def test_conversions_that_change_nothing_return_the_tensor_itself(call):
    def identity_and_sharing(lib):
        x = lib.ones(3)
        y = call(lib, x)
        shares = y.dtype == x.dtype and np.shares_memory(numpy_view(y), numpy_view(x))
        return y is x, shares
    same(identity_and_sharing)


def numpy_view(t):
    "The tensor's storage as a NumPy array (no copy), in either library."
    return t.detach().numpy()


@pytest.mark.parametrize("dtype", DTYPE_NAMES)
def test_type_without_argument_names_the_tensor_type(dtype):
    same(lambda lib: named(lib, lib.zeros(1, dtype=getattr(lib, dtype)).type()))


@pytest.mark.parametrize("call", ids=lambda_id, argvalues=[
    lambda lib, x: x.to(lib.float32), lambda lib, x: x.float(), lambda lib, x: x.half().float(),
    lambda lib, x: x.double() * 2, lambda lib, x: x.to(lib.float64, copy=True),
    lambda lib, x: x.type(lib.float32), lambda lib, x: x.type_as(lib.zeros(1)),
    lambda lib, x: x.clone() * x,
])
def test_conversions_pass_gradients_back_in_the_inputs_dtype(call):
    twin(call, FLOATS)


def test_converting_to_an_integer_type_cuts_the_graph():
    both(lambda lib: (lambda y: (y, y.requires_grad, y.grad_fn is None))(
        lib.tensor(FLOATS, requires_grad=True).long()))


def test_clone_copies_storage_and_keeps_requires_grad():
    def cloned(lib):
        x = lib.tensor(FLOATS, requires_grad=True)
        y = x.clone()
        z = lib.tensor(INTS).clone()
        with lib.no_grad():
            y.add_(1)
        return (y, x, y.requires_grad, y.is_leaf, y.grad_fn.name(), z,
                np.shares_memory(numpy_view(y), numpy_view(x)))
    both(cloned)


@pytest.mark.parametrize("call", ids=lambda_id, argvalues=[
    lambda lib, x: x.new_zeros(2, 3), lambda lib, x: x.new_zeros((2,)),
    lambda lib, x: x.new_ones(3), lambda lib, x: x.new_ones((1, 2), dtype=lib.int64),
    lambda lib, x: x.new_full((2, 2), 7), lambda lib, x: x.new_full((2,), 1.5),
    lambda lib, x: x.new_tensor([1, 2]), lambda lib, x: x.new_tensor([1.5, 2.5]),
    lambda lib, x: x.new_tensor([[1, 0]], dtype=lib.bool), lambda lib, x: x.new_empty(3).shape,
    lambda lib, x: x.new_empty((2, 1)).dtype,
    lambda lib, x: (lambda y: (y, y.requires_grad, y.is_leaf))(
        x.new_zeros(2, requires_grad=True)),
])
@pytest.mark.parametrize("dtype", ["float64", "int32", "float16"])
def test_new_factories_take_the_tensors_dtype(call, dtype):
    both(lambda lib: call(lib, lib.ones(4, dtype=getattr(lib, dtype))))


@pytest.mark.parametrize("dtype", DTYPE_NAMES)
def test_nelement_element_size_is_floating_point(dtype):
    same(lambda lib: (lambda x: (x.nelement(), x.element_size(), x.is_floating_point(),
                                 x.dim(), x.ndim, x.numel()))(
        lib.zeros(2, 3, dtype=getattr(lib, dtype))))


@pytest.mark.parametrize("index", ids=lambda_id, argvalues=[
    lambda lib: lib.tensor(1), lambda lib: lib.tensor(-1), lambda lib: lib.tensor([2]),
    lambda lib: lib.tensor(1, dtype=lib.int8), lambda lib: lib.tensor(True),
    lambda lib: lib.tensor(1, dtype=lib.uint8)])
def test_integer_tensors_act_as_python_indices(index):
    same(lambda lib: ([10, 20, 30][index(lib)], "abcd"[index(lib)],
                      list(range(5))[index(lib):], hex(index(lib)), range(index(lib) + 3)[-1]))


@pytest.mark.parametrize("index", ids=lambda_id, argvalues=[
    lambda lib: lib.tensor(1.0), lambda lib: lib.tensor([1, 2]), lambda lib: lib.tensor([]),
    lambda lib: lib.tensor(1.5, dtype=lib.float64)])
def test_non_integer_or_many_element_tensors_are_not_indices(index):
    both(lambda lib: [10, 20, 30][index(lib)])


@pytest.mark.parametrize("spec, make", ids=lambda_id, argvalues=[
    (".2f", lambda lib: lib.tensor(2.5)), ("", lambda lib: lib.tensor(2.5)),
    ("d", lambda lib: lib.tensor(3)), (">6", lambda lib: lib.tensor(7)),
    (".3e", lambda lib: lib.tensor(1234.5, dtype=lib.float64)),
    ("", lambda lib: lib.tensor(True)), (".2f", lambda lib: lib.tensor([2.5])),
    ("", lambda lib: lib.tensor([2.5, 1.0])), ("d", lambda lib: lib.tensor([[3]])),
    (".1f", lambda lib: lib.tensor(2.25, requires_grad=True)),
])
def test_format_of_0d_tensors_formats_the_number(spec, make):
    both(lambda lib: format(make(lib), spec))


def test_shape_is_a_size():
    def sizes(lib):
        x = lib.zeros(2, 3, 4)
        return (named(lib, repr(x.shape)), str(x.shape).removeprefix(lib.__name__ + "."),
                isinstance(x.shape, tuple), x.shape == (2, 3, 4), x.shape[1:],
                named(lib, repr(x.shape[1:])), type(x.shape[0]).__name__, x.shape.numel(),
                x.size() == x.shape, x.size(1), x.size(-1), list(x.shape),
                named(lib, repr(lib.zeros(()).shape)), lib.Size([2, 3]) == (2, 3),
                named(lib, repr(lib.Size([5]))), x.shape + (5,), named(lib, repr(x.size())))
    same(sizes)


# --- factories --------------------------------------------------------------------------
@pytest.mark.parametrize("make", ids=lambda_id, argvalues=[
    lambda lib: lib.linspace(0, 1, 5), lambda lib: lib.linspace(-2, 3, 7, dtype=lib.float64),
    lambda lib: lib.linspace(1, 1, 1), lambda lib: lib.linspace(0, 1, 0),
    lambda lib: lib.linspace(0, 10, 4, dtype=lib.int64), lambda lib: lib.linspace(3, -3, 6),
    lambda lib: lib.linspace(0.1, 0.7, 11), lambda lib: lib.linspace(-1, 1, 2),
    lambda lib: lib.linspace(0, 1, 5, requires_grad=True),
    lambda lib: lib.logspace(0, 2, 3), lambda lib: lib.logspace(0, 3, 4, base=2),
    lambda lib: lib.logspace(-1, 1, 5, dtype=lib.float64), lambda lib: lib.logspace(0, 1, 1),
    lambda lib: lib.logspace(0, 3, 4, base=2, dtype=lib.int64),
    lambda lib: lib.empty(2, 3).shape, lambda lib: lib.empty((2, 0)).shape,
    lambda lib: lib.empty(3, dtype=lib.int64).dtype, lambda lib: lib.empty(()).shape,
    lambda lib: (lambda t: (t.shape, t.dtype, t.requires_grad))(
        lib.empty(2, requires_grad=True)),
    lambda lib: (lambda t: (t.shape, t.dtype))(lib.empty_like(lib.ones(2, 3, dtype=lib.int32))),
    lambda lib: lib.empty_like(lib.ones(2), dtype=lib.float64).dtype,
    lambda lib: lib.full_like(lib.ones(2, 3), 7), lambda lib: lib.full_like(lib.arange(3), 2.5),
    lambda lib: lib.full_like(lib.arange(3), 2, dtype=lib.float64),
    lambda lib: lib.full_like(lib.ones(2, dtype=lib.bool), 0),
    lambda lib: lib.full((2,), 7), lambda lib: lib.full((2, 2), 1.5),
    lambda lib: lib.full((2,), True), lambda lib: lib.full((), 3),
    lambda lib: lib.full([1, 2], 2, dtype=lib.float16),
    lambda lib: lib.zeros([2, 3]), lambda lib: lib.ones(size=(2,)),
    lambda lib: lib.zeros((2, 3), dtype=lib.int16),
    lambda lib: lib.arange(5), lambda lib: lib.arange(1, 4, 0.5),
    lambda lib: lib.arange(0, 1, 0.1), lambda lib: lib.arange(5, dtype=lib.float64),
    lambda lib: lib.arange(10, 0, -3), lambda lib: lib.arange(0.0, 3), lambda lib: lib.arange(0),
    lambda lib: lib.eye(3), lambda lib: lib.eye(2, 3), lambda lib: lib.eye(3, 1, dtype=lib.int64),
    lambda lib: lib.zeros_like(lib.tensor(INTS)), lambda lib: lib.ones_like(lib.tensor(BOOLS)),
    lambda lib: lib.zeros_like(lib.tensor(INTS), dtype=lib.float32),
    lambda lib: lib.tensor([]), lambda lib: lib.tensor([[]]),
])
def test_factories(make):
    both(make)


@pytest.mark.parametrize("factory", ["randn", "rand"])
def test_random_factories_repeat_after_manual_seed(factory):
    def draws(lib):
        lib.manual_seed(3)
        a = getattr(lib, factory)(2, 3)
        b = getattr(lib, factory)(2, 3)
        lib.manual_seed(3)
        c = getattr(lib, factory)((2, 3))
        d = getattr(lib, factory)(2, 3, dtype=lib.float64)
        return (a.shape, a.dtype, d.dtype, bool(np.array_equal(numpy(a), numpy(b))),
                bool(np.array_equal(numpy(a), numpy(c))))
    same(draws)


@pytest.mark.parametrize("make, out", ids=lambda_id, argvalues=[
    (lambda lib, o: lib.zeros(2, 3, out=o), lambda lib: lib.empty(2, 3)),
    (lambda lib, o: lib.zeros(2, 3, out=o), lambda lib: lib.empty(0)),
    (lambda lib, o: lib.zeros(4, out=o), lambda lib: lib.empty(4, dtype=lib.int64)),
    (lambda lib, o: lib.ones((2, 2), out=o), lambda lib: lib.empty(0, dtype=lib.float64)),
    (lambda lib, o: lib.arange(5, out=o), lambda lib: lib.empty(0)),
    (lambda lib, o: lib.arange(0, 2, 0.5, out=o), lambda lib: lib.empty(0, dtype=lib.float64)),
    (lambda lib, o: lib.arange(3, out=o), lambda lib: lib.empty(3, dtype=lib.int32)),
    (lambda lib, o: lib.full((2,), 3.5, out=o), lambda lib: lib.empty(2)),
    (lambda lib, o: lib.eye(2, out=o), lambda lib: lib.empty(0)),
    (lambda lib, o: lib.linspace(0, 1, 3, out=o), lambda lib: lib.empty(3)),
])
def test_factories_write_into_out(make, out):
    def written(lib):
        o = out(lib)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns when it resizes a non-empty out
            result = make(lib, o)
        return result is o, o, o._version > 0
    both(written)


# --- hooks ------------------------------------------------------------------------------
def test_hook_sees_the_gradient_and_its_handle_removes_it():
    def hooked(lib):
        seen = []
        x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        handle = x.register_hook(lambda g: seen.append(g.clone()))
        (x * x).sum().backward()
        handle.remove()
        (x * x).sum().backward()
        handle.remove()  # twice is harmless
        return seen, x.grad, len(seen), hasattr(handle, "remove")
    both(hooked)


def test_hook_returning_a_tensor_replaces_the_gradient():
    def doubled(lib):
        x = lib.tensor([1.0, -2.0], requires_grad=True)
        y = x * 3
        y.register_hook(lambda g: g * 2)
        x.register_hook(lambda g: g + 1)
        (y * y).sum().backward()
        return x.grad
    both(doubled)


def test_hooks_run_in_order_of_registration_and_none_keeps_the_gradient():
    def chained(lib):
        calls = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g: calls.append(("first", g.tolist())))
        x.register_hook(lambda g: g * 10)
        x.register_hook(lambda g: calls.append(("third", g.tolist())))
        (x * 2).sum().backward()
        return calls, x.grad
    both(chained)


def test_leaf_hook_sees_its_whole_gradient_once():
    def counted(lib):
        calls = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        x.register_hook(lambda g: calls.append(g.tolist()))
        (x * 2 + x.sin() + x * x).sum().backward()
        return calls, x.grad
    both(counted)


def test_non_leaf_hook_changes_what_flows_upstream():
    def upstream(lib):
        seen = []
        x = lib.tensor([0.5, -1.0, 2.0], requires_grad=True)
        h = x.exp()
        h.register_hook(lambda g: seen.append(g.clone()))
        h.register_hook(lambda g: g.clamp(min=0))
        (h * lib.tensor([1.0, -1.0, 2.0])).sum().backward()
        return seen, x.grad
    both(upstream)


def test_hook_with_retain_grad_stores_the_hooked_gradient():
    def retained(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * 2
        y.retain_grad()
        y.register_hook(lambda g: g * 3)
        (y * y).sum().backward()
        return y.grad, x.grad
    both(retained)


def test_hook_runs_with_create_graph():
    def second(lib):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = x ** 3
        y.register_hook(lambda g: g * x)
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        g.sum().backward()
        return g, x.grad
    both(second)


def test_hook_on_a_tensor_that_does_not_require_grad_raises():
    both(lambda lib: lib.ones(2).register_hook(lambda g: g))


def test_removed_hook_of_a_non_leaf_is_not_called():
    def removed(lib):
        calls = []
        x = lib.tensor([1.0], requires_grad=True)
        y = x * 2
        y.register_hook(lambda g: calls.append(1)).remove()
        y.sum().backward()
        return calls, x.grad
    both(removed)


# --- grad modes -------------------------------------------------------------------------
def recorded(lib, x):
    "What an operation on x says about recording: requires_grad, grad_fn present, mode."
    y = x * 2
    return y.requires_grad, y.grad_fn is not None, lib.is_grad_enabled()


def leaf(lib):
    return lib.ones(2, requires_grad=True)


def test_set_grad_enabled_as_a_function():
    def called(lib):
        x = leaf(lib)
        try:
            lib.set_grad_enabled(False)
            off = recorded(lib, x)
            lib.set_grad_enabled(True)
            on = recorded(lib, x)
        finally:
            lib.set_grad_enabled(True)
        return off, on
    same(called)


@pytest.mark.parametrize("mode", [False, True])
def test_set_grad_enabled_as_a_context_restores_the_mode(mode):
    def context(lib):
        x = leaf(lib)
        with lib.set_grad_enabled(mode):
            inside = recorded(lib, x)
        after = recorded(lib, x)
        with lib.no_grad():
            with lib.set_grad_enabled(mode):
                nested = recorded(lib, x)
            after_nested = lib.is_grad_enabled()
        return inside, after, nested, after_nested
    same(context)


def test_set_grad_enabled_context_restores_after_an_exception(lib):
    with pytest.raises(ValueError):
        with lib.set_grad_enabled(False):
            raise ValueError
    assert lib.is_grad_enabled()


@pytest.mark.parametrize("mode", [False, True])
def test_set_grad_enabled_as_a_decorator(mode):
    def decorated(lib):
        x = leaf(lib)

        @lib.set_grad_enabled(mode)
        def f():
            return recorded(lib, x)
        at_definition = lib.is_grad_enabled()
        with lib.no_grad():
            in_no_grad = f()
        return at_definition, f(), in_no_grad, lib.is_grad_enabled()
    same(decorated)


def test_inference_mode_as_context_and_decorator():
    def inference(lib):
        x = leaf(lib)
        with lib.inference_mode():
            inside = recorded(lib, x)
        with lib.inference_mode(False):
            off = recorded(lib, x)
        with lib.no_grad():
            with lib.inference_mode(False):
                off_in_no_grad = lib.is_grad_enabled()

        @lib.inference_mode()
        def called():
            return recorded(lib, x)

        @lib.inference_mode
        def bare():
            return recorded(lib, x)
        return inside, off, off_in_no_grad, called(), bare(), recorded(lib, x)
    same(inference)


def test_no_grad_and_enable_grad_nest():
    def nested(lib):
        x = leaf(lib)
        with lib.no_grad():
            a = recorded(lib, x)
            with lib.enable_grad():
                b = recorded(lib, x)
                with lib.set_grad_enabled(False):
                    c = recorded(lib, x)
                d = recorded(lib, x)
            e = recorded(lib, x)
        return a, b, c, d, e, recorded(lib, x)
    same(nested)


def test_grad_mode_decorators_keep_the_functions_name_and_result():
    def wrapped(lib):
        @lib.no_grad()
        def f(a, b=2):
            "doc"
            return a * b

        @lib.enable_grad()
        def g(a):
            return a * 1
        with lib.no_grad():
            made = g(leaf(lib)).requires_grad
        return f.__name__, f.__doc__, f(leaf(lib)).requires_grad, made
    same(wrapped)


def test_backward_of_a_result_computed_without_grad_raises():
    def computed(lib):
        x = leaf(lib)
        with lib.no_grad():
            y = (x * 2).sum()
        return y.backward()
    both(computed)


# --- the graph: grad_fn, next_functions -------------------------------------------------
def node_name(node):
    "A node's name, None for no node."
    return None if node is None else node.name()


def edges(node):
    "next_functions as (name, index) pairs."
    return [(node_name(n), i) for n, i in node.next_functions]


def test_next_functions_name_the_inputs_nodes():
    def graph(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        w = lib.tensor([3.0, 4.0], requires_grad=True)
        c = lib.tensor([5.0, 6.0])
        y = x * w + c
        z = (y * 2).sum()
        mul = y.grad_fn.next_functions[0][0]
        accumulate_x = mul.next_functions[0][0]
        return (node_name(y.grad_fn), edges(y.grad_fn), edges(mul), edges(z.grad_fn),
                accumulate_x.variable is x, mul.next_functions[1][0].variable is w,
                edges(accumulate_x), node_name(accumulate_x))
    both(graph)


def test_one_accumulate_grad_per_leaf():
    def shared(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        a, b = x * 2, x.exp()
        return (a.grad_fn.next_functions[0][0] is b.grad_fn.next_functions[0][0],
                (x * x).grad_fn.next_functions[0][0] is (x * x).grad_fn.next_functions[1][0])
    same(shared)


def test_next_functions_of_a_constant_input_is_none():
    def constants(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        return (edges((x + 1).grad_fn), edges((lib.ones(2) * x).grad_fn),
                edges((x * x).sum().grad_fn))
    both(constants)


@pytest.mark.parametrize("op", ids=lambda_id, argvalues=[
    lambda lib, x: x + x, lambda lib, x: x - 1, lambda lib, x: x * x, lambda lib, x: x / 2,
    lambda lib, x: -x, lambda lib, x: x ** 2, lambda lib, x: x.exp(), lambda lib, x: x.sum(),
    lambda lib, x: x.sum(0), lambda lib, x: x.mean(), lambda lib, x: x.clone(),
    lambda lib, x: x.double(), lambda lib, x: x.t(), lambda lib, x: x @ x.t(),
    lambda lib, x: x[0], lambda lib, x: x[:, 1:], lambda lib, x: x[[0, 1]],
    lambda lib, x: x.view(-1), lambda lib, x: x.tanh(), lambda lib, x: x.relu(),
    lambda lib, x: x.sigmoid(), lambda lib, x: x.log(), lambda lib, x: x.sqrt(),
])
def test_grad_fn_names_follow_torch(op):
    same(lambda lib: node_name(op(lib, lib.tensor([[1.0, 2.0], [3.0, 4.0]],
                                                   requires_grad=True)).grad_fn))


@pytest.mark.parametrize("make", ids=lambda_id, argvalues=[
    lambda lib: lib.zeros(-1), lambda lib: lib.ones(2, -3), lambda lib: lib.empty(-1),
    lambda lib: lib.full((-1,), 1.0), lambda lib: lib.zeros(2.5),
    lambda lib: lib.arange(0, 10, 0), lambda lib: lib.arange(10, 0),
    lambda lib: lib.arange(0, 10, -1), lambda lib: lib.linspace(0, 1, -1),
    lambda lib: lib.eye(-1), lambda lib: lib.arange(3, requires_grad=True),
    lambda lib: lib.zeros(2, dtype=lib.int64, requires_grad=True),
    lambda lib: lib.tensor([1, 2], requires_grad=True),
    lambda lib: lib.full((2,), 1, dtype=lib.bool, requires_grad=True),
    lambda lib: lib.ones(2).to("float64"),
])
def test_factories_and_conversions_refuse_bad_arguments(make):
    assert isinstance(both(make), Raised)


@pytest.mark.parametrize("make", ids=lambda_id, argvalues=[
    lambda lib: lib.full((2,), 1.7, dtype=lib.int64), lambda lib: lib.full((2,), -1, dtype=lib.uint8),
    lambda lib: lib.tensor([1.9, -1.9]).long(), lambda lib: lib.tensor([0.0, 0.5]).bool(),
    lambda lib: lib.tensor([300, -1]).byte(), lambda lib: lib.tensor([200]).char(),
    lambda lib: lib.tensor([1e6]).half(), lambda lib: lib.tensor([70000]).short(),
    lambda lib: lib.tensor([True, False]).float(),
])
def test_conversions_wrap_and_truncate_as_torch(make):
    both(make)


def test_hook_returning_a_tensor_of_another_shape_raises():
    def wrong(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        (x * 2).register_hook(lambda g: g.sum())
        y = x * 2
        y.register_hook(lambda g: g.sum())
        return y.sum().backward()
    assert isinstance(both(wrong), Raised)


def test_hook_handle_as_a_context_manager():
    def scoped(lib):
        calls = []
        x = lib.tensor([1.0], requires_grad=True)
        with x.register_hook(lambda g: calls.append(g.item())):
            (x * 2).sum().backward()
        (x * 3).sum().backward()
        return calls, x.grad
    both(scoped)
