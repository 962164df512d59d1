"""The engine (chapter "The Tensor and its graph") against PyTorch: tensors, factories,
dtype promotion, add, mul, sum, autograd."""
import warnings

import numpy as np
import pytest
import torch

import nn
from twin import arrays, numpy, same, twin, twin_raises


def described(t):
    "What a twin test of a factory compares: shape, dtype, whether it requires grad."
    return t.shape, t.dtype, t.requires_grad


def contents(t):
    "The same, plus the values."
    return described(t) + (t.tolist(),)


# --- tensor(): dtypes inferred as torch infers them ------------------------------------------------
@pytest.mark.parametrize("data", [
    1.5, [1.0, 2.0], [[1, 2.5], [3, 4]], 3, [1, 2], True, [True, False], [1, 2.5, True],
    np.array([1.0, 2.0]), np.array([1.0, 2.0], np.float32), np.array([1, 2], np.int32),
    np.array([1, 2]), np.float64(1.5), np.array(2.0), np.array([True, False]),
], ids=repr)
def test_tensor_infers_dtype_shape_and_values(data):
    same(lambda lib: contents(lib.tensor(data)))


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
def test_tensor_with_explicit_dtype(dtype):
    same(lambda lib: contents(lib.tensor([0, 1, 2], dtype=getattr(lib, dtype))))


def test_tensor_copies_its_data_and_from_numpy_shares_it():
    def after_writing_to_the_array(lib):
        a = np.zeros(3)
        copied, shared = lib.tensor(a), lib.from_numpy(a)
        a[0] = 7.0
        return copied.tolist(), shared.tolist(), shared.dtype
    same(after_writing_to_the_array)


# --- factories -------------------------------------------------------------------------------------
@pytest.mark.parametrize("make", [
    lambda lib: lib.zeros(2, 3), lambda lib: lib.zeros((2, 3)), lambda lib: lib.zeros(()),
    lambda lib: lib.ones(4), lambda lib: lib.ones(2, 1, 3, dtype=lib.float64),
    lambda lib: lib.zeros(2, dtype=lib.int64), lambda lib: lib.ones(2, dtype=lib.bool),
    lambda lib: lib.full((2, 3), 1.5), lambda lib: lib.full((2,), 7), lambda lib: lib.full((2,), True),
    lambda lib: lib.full((2, 2), 7, dtype=lib.float64), lambda lib: lib.full((), 2.5),
    lambda lib: lib.eye(3), lambda lib: lib.eye(2, 4), lambda lib: lib.eye(3, dtype=lib.int64),
    lambda lib: lib.arange(5), lambda lib: lib.arange(2, 7), lambda lib: lib.arange(0, 10, 3),
    lambda lib: lib.arange(0, 1, 0.25), lambda lib: lib.arange(5.0), lambda lib: lib.arange(1, 2.5, 0.5),
    lambda lib: lib.arange(4, dtype=lib.float64),
])
def test_factory_gives_torch_values_shape_and_dtype(make):
    same(lambda lib: contents(make(lib)))


@pytest.mark.parametrize("factory", ["zeros", "ones", "full"])
def test_factory_can_make_a_leaf_that_requires_grad(factory):
    def leaf(lib):
        t = getattr(lib, factory)(*((2, 3), 0.5) if factory == "full" else (2, 3), requires_grad=True)
        return described(t), t.is_leaf, t.grad_fn
    same(leaf)


@pytest.mark.parametrize("like", ["zeros_like", "ones_like", "randn_like", "rand_like"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_like_factories_copy_shape_and_dtype(like, dtype):
    source = np.zeros((2, 1, 3), dtype)
    same(lambda lib: described(getattr(lib, like)(lib.tensor(source))))
    same(lambda lib: described(getattr(lib, like)(lib.tensor(source, requires_grad=True), requires_grad=True)))


@pytest.mark.parametrize("like", ["zeros_like", "ones_like"])
def test_like_factories_values_and_dtype_override(like):
    source = np.arange(6).reshape(2, 3)
    same(lambda lib: contents(getattr(lib, like)(lib.tensor(source))))
    same(lambda lib: contents(getattr(lib, like)(lib.tensor(source), dtype=lib.float64)))


@pytest.mark.parametrize("factory", ["randn", "rand"])
def test_random_factories_shape_and_dtype(factory):
    same(lambda lib: described(getattr(lib, factory)(2, 3)))
    same(lambda lib: described(getattr(lib, factory)((4,), dtype=lib.float64, requires_grad=True)))


def test_rand_lies_in_the_unit_interval(lib):
    values = numpy(lib.rand(1000))
    assert values.min() >= 0 and values.max() < 1


def test_manual_seed_makes_draws_repeatable(lib):
    lib.manual_seed(3)
    first = lib.randn(5).tolist()
    lib.manual_seed(3)
    assert lib.randn(5).tolist() == first


# --- attributes ------------------------------------------------------------------------------------
def test_attributes_describe_the_tensor():
    def describe(lib):
        t = lib.tensor(np.arange(24.0).reshape(2, 3, 4))
        return (t.shape, t.ndim, t.dim(), t.numel(), t.size(), t.size(1), t.size(-1), len(t),
                t.is_leaf, t.requires_grad, t.grad_fn, t.grad)
    same(describe)


@pytest.mark.parametrize("data", [2.5, [7], [[-3]], True, 4])
def test_item_gives_the_single_element(data):
    same(lambda lib: (lib.tensor(data).item(), type(lib.tensor(data).item())))


def test_tolist_nests_like_the_shape():
    same(lambda lib: lib.tensor([[1, 2], [3, 4]]).tolist())
    same(lambda lib: lib.tensor(2.5).tolist())


def test_size_of_a_missing_dimension_raises():
    twin_raises(lambda lib, t: t.size(3), np.zeros((2, 3)))
    twin_raises(lambda lib, t: t.size(-3), np.zeros((2, 3)))


def test_item_of_many_elements_raises():
    twin_raises(lambda lib, t: t.item(), np.zeros((2, 3)))


def test_len_of_a_0d_tensor_raises():
    twin_raises(lambda lib, t: len(t), np.array(1.0))


# --- dtype promotion -------------------------------------------------------------------------------
f32, f64, i32, i64, b = (np.dtype(d) for d in ("float32", "float64", "int32", "int64", "bool"))
PROMOTIONS = [  # (left, right): a dtype means a tensor of shape (3,), (dtype, ()) a 0-d tensor
    (f32, 2.5), (i64, 2.5), (i64, 2), (b, 3), (b, True), (f32, True), (i32, 5), ((i64, ()), 2.5),
    (f32, (f64, ())), (i64, f32), (f32, f64), (b, b), (b, i64), (i64, (f64, ())), (i32, (i64, ())),
    (b, (f64, ())), ((f64, ()), (f32, ())), ((f64, ()), 2.5), ((f32, ()), f64), (i32, i64),
    (i64, np.float32(2.5)), (f64, np.float32(2.5)), (i32, np.int64(2)), ((i32, ()), np.int64(2)),
    ((i64, ()), np.float32(2.5)), ((f32, ()), np.float64(2.5)),
]  # NumPy scalars count as Python numbers in torch


def is_tensor(spec):
    return isinstance(spec, (np.dtype, tuple))


def spec_array(spec, seed):
    "The array a tensor spec stands for: values about -3..3 of the spec's dtype and shape."
    dtype, shape = spec if isinstance(spec, tuple) else (spec, (3,))
    return np.asarray(arrays(shape, seed=seed)[0] * 3, dtype=dtype)


def with_operands(fn, left, right):
    "twin's arguments for `fn(lib, left, right)`: tensor specs become arrays, scalars are captured."
    specs = (left, right)
    values = [spec_array(s, seed) for seed, s in enumerate(specs) if is_tensor(s)]

    def apply(lib, *tensors):
        tensors = iter(tensors)
        return fn(lib, *(next(tensors) if is_tensor(s) else s for s in specs))
    return apply, values


def spec_id(spec):
    if not is_tensor(spec):
        return repr(spec)
    return f"{spec[0]}-0d" if isinstance(spec, tuple) else str(spec)


@pytest.mark.parametrize("op", ["add", "mul"])
@pytest.mark.parametrize("left, right", PROMOTIONS, ids=spec_id)
def test_promotion_follows_torch(op, left, right):
    apply, values = with_operands(lambda lib, x, y: getattr(lib, op)(x, y), left, right)
    twin(apply, *values)


@pytest.mark.parametrize("left, right", PROMOTIONS, ids=spec_id)
def test_result_type_follows_torch(left, right):
    apply, values = with_operands(lambda lib, x, y: lib.result_type(x, y), left, right)
    same(lambda lib: apply(lib, *(lib.tensor(v) for v in values)))


# --- operators with scalars and NumPy arrays -------------------------------------------------------
@pytest.mark.parametrize("expression", [
    lambda x: x + 2, lambda x: 2 + x, lambda x: x * 2.5, lambda x: 2.5 * x, lambda x: x * x + x,
    lambda x: x * np.float64(2.0), lambda x: x + np.float32(2.0), lambda x: np.int64(3) * x,
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_operators_take_python_and_numpy_scalars(expression, dtype):
    twin(lambda lib, x: expression(x), *arrays((3,), dtype=dtype))


def array_operand(lib, a):
    "nn takes a NumPy array as it is; torch, only through a tensor (`Tensor + ndarray` goes via NumPy)."
    return torch.from_numpy(a) if lib is torch else a


@pytest.mark.parametrize("expression", [lambda x, a: x + a, lambda x, a: x * a, lambda x, a: x * a + x])
@pytest.mark.parametrize("dtypes", [(np.float32, np.float32), (np.float32, np.float64), (np.float64, np.float32),
                                    (np.float32, np.int64)], ids=str)
@pytest.mark.parametrize("shapes", [((3,), (3,)), ((3,), (2, 1)), ((2, 3), ())], ids=str)
def test_operators_take_numpy_arrays_on_the_right(expression, dtypes, shapes):
    x, a = arrays(*shapes)
    a = np.asarray(a * 3, dtype=dtypes[1])
    twin(lambda lib, x: expression(x, array_operand(lib, a)), x.astype(dtypes[0]))


@pytest.mark.parametrize("expression", [lambda a, x: a + x, lambda a, x: a * x])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_ndarray_on_the_left_gives_an_nn_tensor(expression, dtype):
    # torch refuses `ndarray + Tensor`; nn accepts it, so torch is asked with the operands swapped.
    a, values = arrays((2, 3), (3,), dtype=dtype)
    _, (out,) = twin(lambda lib, x: expression(a, x) if lib is nn else expression(x, torch.from_numpy(a)), values)
    assert isinstance(out, nn.Tensor)


# --- broadcasting and its gradients ----------------------------------------------------------------
BROADCASTS = [((4, 3), (3,)), ((3,), (4, 3)), ((2, 1, 3), (4, 1)), ((), (2, 3)), ((2, 3), ()),
              ((1, 3), (4, 1)), ((3, 1), (3,)), ((1,), (2, 3)), ((5, 1, 1), (1, 4, 1)), ((2, 3), (2, 3)),
              ((), ())]


@pytest.mark.parametrize("op", ["add", "mul"])
@pytest.mark.parametrize("shapes", BROADCASTS, ids=str)
def test_broadcasting_values_and_gradients(op, shapes):
    twin(lambda lib, x, y: getattr(lib, op)(x, y), *arrays(*shapes))


@pytest.mark.parametrize("shapes", BROADCASTS, ids=str)
def test_broadcasting_operators_in_float32(shapes):
    twin(lambda lib, x, y: x * y + y, *arrays(*shapes, dtype=np.float32))


def test_gradient_only_for_the_input_that_requires_it():
    twin(lambda lib, x, y: x * y, *arrays((4, 3), (3,)), requires_grad=(False, True))


def test_tensor_used_twice_gets_both_contributions():
    twin(lambda lib, x: x * x + x, *arrays((3,)))


def test_intermediate_used_twice_gets_both_contributions():
    def graph(lib, x, y):
        h = x * y
        return h * h + h * x
    twin(graph, *arrays((2, 3), (3,)))


# --- sum -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dim", [None, 0, 1, 2, -1, -3, (0, 2), (-1, 0), (0, 1, 2), [1], (), []], ids=str)
@pytest.mark.parametrize("keepdim", [False, True])
def test_sum_values_and_gradients(dim, keepdim):
    if dim is None:
        twin(lambda lib, x: x.sum(), *arrays((2, 3, 4)))
    else:
        twin(lambda lib, x: x.sum(dim, keepdim=keepdim), *arrays((2, 3, 4)))
        twin(lambda lib, x: lib.sum(x, dim=dim, keepdim=keepdim), *arrays((2, 3, 4), dtype=np.float32))


@pytest.mark.parametrize("dim", [0, -1])
def test_sum_of_a_0d_tensor_over_dim_0(dim):
    twin(lambda lib, x: x.sum(dim), np.array(2.0))


@pytest.mark.parametrize("values", [np.array([[1, 2], [3, 4]]), np.array([1, 2], np.int32),
                                    np.array([True, True, False])], ids=lambda v: str(v.dtype))
def test_sum_of_integers_and_bools_is_int64(values):
    twin(lambda lib, x: (x.sum(), x.sum(0)), values)


def test_sum_over_a_repeated_dim_raises():
    twin_raises(lambda lib, x: x.sum((0, -2)), np.zeros((2, 3)))


def test_sum_over_a_missing_dim_raises():
    twin_raises(lambda lib, x: x.sum(2), np.zeros((2, 3)))


# --- autograd: where gradients go and when they are kept -------------------------------------------
def test_gradients_accumulate_over_repeated_backward():
    def backward_twice(lib, x):
        (x * x).sum().backward()
        (x * x).sum().backward()
        return x.grad
    twin(backward_twice, *arrays((3,)))


def test_setting_grad_to_none_resets_accumulation():
    def backward_reset_backward(lib, x):
        (x * x).sum().backward()
        x.grad = None
        (x * 3.0).sum().backward()
        return x.grad
    twin(backward_reset_backward, *arrays((3,)))


def test_backward_with_gradient_is_the_vector_jacobian_product():
    def vjp(lib, x, w):
        (x * w).backward(gradient=lib.tensor([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]], dtype=x.dtype))
        return x.grad, w.grad
    twin(vjp, *arrays((3,), (2, 3)))


def test_retain_grad_keeps_a_non_leaf_gradient():
    def retained(lib, x):
        h = x * 2.0
        h.retain_grad()
        (h * h).sum().backward()
        assert h.retains_grad
        return h.grad
    twin(retained, *arrays((3,)))


def test_non_leaf_keeps_no_grad_by_default(lib):
    x = lib.ones(3, requires_grad=True)
    h = x * 2.0
    (h * h).sum().backward()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns when a non-leaf's .grad is read
        assert h.grad is None
    assert x.grad is not None


def test_leaf_gets_grad_from_backward_on_itself():
    twin(lambda lib, x: x, *arrays((2, 3)))
    twin(lambda lib, x: x, np.array(1.5))


def test_requires_grad_false_freezes_and_true_unfreezes(lib):
    x = lib.ones(3, requires_grad=True)
    assert x.requires_grad_(False) is x
    frozen = x * 2.0
    assert not frozen.requires_grad and frozen.grad_fn is None and frozen.is_leaf
    x.requires_grad_()
    assert (x * 2.0).requires_grad


@pytest.mark.parametrize("flag", [True, False])
def test_setting_requires_grad_on_a_non_leaf_raises(flag):
    twin_raises(lambda lib, x: setattr(x * 2.0, "requires_grad", flag), *arrays((3,)))


def test_integer_tensor_cannot_require_grad():
    twin_raises(lambda lib: lib.tensor([1, 2], requires_grad=True))
    twin_raises(lambda lib, x: x.requires_grad_(), np.array([1, 2]))


def test_detach_shares_data_and_is_a_leaf_without_grad(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert np.shares_memory(d.numpy(), x.detach().numpy())
    assert d.is_leaf and not d.requires_grad and d.grad is None and d.grad_fn is None
    (x * x).sum().backward()
    assert d.grad is None and x.grad is not None


def test_detach_cuts_the_graph():
    twin(lambda lib, x, y: x.detach() * y + x, *arrays((3,), (3,)))


# --- grad mode -------------------------------------------------------------------------------------
def test_no_grad_records_nothing(lib):
    x = lib.ones(3, requires_grad=True)
    with lib.no_grad():
        assert not lib.is_grad_enabled()
        y = x * 2.0 + x
    assert lib.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf


def test_no_grad_restores_grad_mode_after_an_exception(lib):
    with pytest.raises(ZeroDivisionError):
        with lib.no_grad():
            1 / 0
    assert lib.is_grad_enabled()


def test_no_grad_as_decorator_with_and_without_parentheses(lib):
    @lib.no_grad()
    def called(x):
        return x * 2.0

    @lib.no_grad
    def bare(x):
        return x * 2.0
    x = lib.ones(3, requires_grad=True)
    assert not called(x).requires_grad and not bare(x).requires_grad
    assert bare.__name__ == "bare" and lib.is_grad_enabled()


def test_enable_grad_inside_no_grad_records(lib):
    x = lib.ones(3, requires_grad=True)
    with lib.no_grad():
        with lib.enable_grad():
            assert lib.is_grad_enabled()
            y = x * 2.0
        assert not lib.is_grad_enabled()
    assert y.requires_grad and y.grad_fn is not None


def test_enable_grad_as_decorator_inside_no_grad(lib):
    @lib.enable_grad()
    def doubled(x):
        return x * 2.0
    x = lib.ones(3, requires_grad=True)
    with lib.no_grad():
        assert doubled(x).requires_grad


# --- backward that must refuse ---------------------------------------------------------------------
def test_second_backward_through_a_freed_graph_raises_and_keeps_grad(lib):
    x = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    first = numpy(x.grad)
    with pytest.raises(RuntimeError):
        y.backward()
    np.testing.assert_array_equal(numpy(x.grad), first)


def test_second_backward_with_retain_graph_accumulates():
    def backward_twice(lib, x):
        y = (x * x).sum()
        y.backward(retain_graph=True)
        y.backward()
        return x.grad
    twin(backward_twice, *arrays((3,)))


def test_second_backward_through_a_graph_that_saved_nothing_works():
    def backward_twice(lib, x):
        y = (x + x).sum()  # add and sum keep no arrays for backward: nothing to free
        y.backward()
        y.backward()
        return x.grad
    twin(backward_twice, *arrays((3,)))


def test_backward_on_non_scalar_without_gradient_raises():
    twin_raises(lambda lib, x: (x * 2.0).backward(), *arrays((3,)))


def test_backward_with_wrongly_shaped_gradient_raises():
    twin_raises(lambda lib, x: (x * 2.0).backward(lib.ones(4)), *arrays((3,)))
    twin_raises(lambda lib, x: (x * 2.0).backward(lib.ones(1, 3)), *arrays((3,)))


def test_backward_on_tensor_not_requiring_grad_raises():
    twin_raises(lambda lib, x: (x * 2.0).sum().backward(), *arrays((3,)), requires_grad=False)


# --- conversions -----------------------------------------------------------------------------------
def test_numpy_of_a_tensor_requiring_grad_raises():
    twin_raises(lambda lib, x: x.numpy(), *arrays((3,)))


def test_numpy_shares_memory_with_the_tensor(lib):
    t = lib.zeros(3)
    t.numpy()[0] = 5.0
    assert t.tolist() == [5.0, 0.0, 0.0]


def test_np_asarray_of_a_tensor():
    same(lambda lib: (np.asarray(lib.tensor([[1.0, 2.0]])).tolist(), np.asarray(lib.tensor([1.0])).dtype))


# --- deep graphs -----------------------------------------------------------------------------------
def test_deep_chain_backpropagates_without_recursion():
    x = nn.tensor(1.0, dtype=nn.float64, requires_grad=True)
    factor = nn.tensor(1.0001, dtype=nn.float64)
    y = x
    for _ in range(100_000):
        y = y * factor
    y.backward()
    assert np.isclose(x.grad.item(), 1.0001 ** 100_000, rtol=1e-8)
