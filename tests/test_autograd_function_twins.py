"""autograd.Function against PyTorch: each Function subclass is written once, against `lib`, and
run by torch and by nn (outputs, gradients, the ctx's requests, errors, double backward), then
checked in float64 with gradcheck and gradgradcheck.
"""
import weakref

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import nn
from twin import (arrays, as_tuple, assert_same, dtype_name, numpy, same, twin,
                  twin_raises)

RTOL, ATOL = 1e-9, 1e-11


# --- Functions, written once for either library ----------------------------------------
def legendre(lib):
    "The tutorial's P3, saving its input."
    class LegendrePolynomial3(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return 0.5 * (5 * x ** 3 - 3 * x)

        @staticmethod
        def backward(ctx, grad):
            x, = ctx.saved_tensors
            return grad * 1.5 * (5 * x ** 2 - 1)
    return LegendrePolynomial3


def exp_saving_output(lib):
    "exp, saving its output (which apply swaps for the recorded one)."
    class Exp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            result = x.exp()
            ctx.save_for_backward(result)
            return result

        @staticmethod
        def backward(ctx, grad):
            result, = ctx.saved_tensors
            return grad * result
    return Exp


def softplus(lib):
    "Stable log(1 + exp(x)), derivative sigmoid(x)."
    class Softplus(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.clamp(min=0) + (-x.abs()).exp().log1p()

        @staticmethod
        def backward(ctx, grad):
            x, = ctx.saved_tensors
            return grad * x.sigmoid()
    return Softplus


def scaled_product(lib):
    "x * y * k with a number k, a keyword shift, and a broadcasting y."
    class ScaledProduct(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y, k, shift=0.0):
            ctx.save_for_backward(x, y)
            ctx.k = k
            return x * y * k + shift

        @staticmethod
        def backward(ctx, grad):
            x, y = ctx.saved_tensors
            # the gradient for y has x's (broadcast) shape: the engine sums it down
            return grad * y * ctx.k, grad * x * ctx.k, None, None
    return ScaledProduct


def product_and_sum(lib, calls=None, materialize=True, received=None):
    "Two outputs, x * y and x + y; counts its backward calls and keeps what it received."
    class ProductAndSum(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            ctx.set_materialize_grads(materialize)
            ctx.save_for_backward(x, y)
            return x * y, x + y

        @staticmethod
        def backward(ctx, grad_product, grad_sum):
            if calls is not None:
                calls.append(1)
            if received is not None:
                received.append([None if g is None else numpy(g).tolist()
                                 for g in (grad_product, grad_sum)])
            x, y = ctx.saved_tensors
            grad_x = grad_y = 0 * x
            if grad_product is not None:
                grad_x, grad_y = grad_product * y, grad_product * x
            if grad_sum is not None:
                grad_x, grad_y = grad_x + grad_sum, grad_y + grad_sum
            return grad_x, grad_y
    return ProductAndSum


def sin_cos(lib):
    "Two outputs of one input, differentiable again."
    class SinCos(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sin(), x.cos()

        @staticmethod
        def backward(ctx, grad_sin, grad_cos):
            x, = ctx.saved_tensors
            return grad_sin * x.cos() - grad_cos * x.sin()
    return SinCos


def shapes_apart(lib):
    "Outputs of different shapes: a sum over rows, and a scaled copy."
    class ShapesApart(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x.sum(0), x * x

        @staticmethod
        def backward(ctx, grad_sum, grad_square):
            x, = ctx.saved_tensors
            return grad_sum + 2 * x * grad_square
    return ShapesApart


def sort(lib, received=None):
    "Sort a 1-d tensor; the indices are marked non-differentiable."
    class Sort(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            indices = lib.from_numpy(np.argsort(x.detach().numpy(), kind="stable"))
            ctx.mark_non_differentiable(indices)
            ctx.save_for_backward(indices)
            return x[indices], indices

        @staticmethod
        def backward(ctx, grad_values, grad_indices):
            if received is not None:
                received.append((dtype_name(grad_indices.dtype),
                                 grad_indices.tolist()))
            indices, = ctx.saved_tensors
            return grad_values[lib.from_numpy(np.argsort(indices.numpy()))]
    return Sort


def marked_float(lib):
    "A floating-point output marked non-differentiable next to a differentiable one."
    class MarkedFloat(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            doubled, tripled = x * 2, x * 3
            ctx.mark_non_differentiable(tripled)
            return doubled, tripled

        @staticmethod
        def backward(ctx, grad_doubled, grad_tripled):
            return grad_doubled * 2
    return MarkedFloat


def doubled_in_place(lib):
    "x *= 2 through the shared array, declared with mark_dirty."
    class DoubleInPlace(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            x.detach().numpy()[...] *= 2
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, grad):
            return 2 * grad
    return DoubleInPlace


def identity(lib):
    "forward returns its input itself."
    class Identity(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, grad):
            return grad
    return Identity


def with_backward(lib, backward, save_number=False):
    "x * k whose backward is the given function."
    class Custom(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            if save_number:
                ctx.save_for_backward(x, k)
            return x * k
    Custom.backward = staticmethod(backward)
    return Custom


def cube_once(lib):
    "x ** 3 with a backward in NumPy, marked once_differentiable."
    class CubeOnce(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        @lib.autograd.function.once_differentiable
        def backward(ctx, grad):
            x, = ctx.saved_tensors
            return lib.from_numpy(3 * x.detach().numpy() ** 2 * grad.detach().numpy())
    return CubeOnce


# --- outputs and gradients ----------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_legendre_outputs_and_gradients(dtype):
    twin(lambda lib, x: legendre(lib).apply(x), *arrays((4, 3), dtype=dtype))


@pytest.mark.parametrize("make", [exp_saving_output, softplus], ids=lambda f: f.__name__)
def test_single_output_functions(make):
    twin(lambda lib, x: make(lib).apply(x) * 2, *arrays((2, 5)))


def test_non_tensor_and_keyword_arguments_and_a_broadcast_gradient():
    twin(lambda lib, x, y: scaled_product(lib).apply(x, y, 3.0, shift=0.5),
         *arrays((4, 3), (3,)))


def test_a_tensor_that_needs_no_grad_gets_none():
    twin(lambda lib, x, y: scaled_product(lib).apply(x, y, 2.0), *arrays((2, 3), (2, 3)),
         requires_grad=[True, False])


def test_the_node_is_named_after_the_class(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    assert legendre(lib).apply(x).grad_fn.name() == "LegendrePolynomial3Backward"
    for out in sin_cos(lib).apply(x):
        assert out.grad_fn.name() == "SinCosBackward"


def test_needs_input_grad():
    def flags(lib):
        seen = []

        class Record(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, y=None, k=None, flag=None):
                seen.append(ctx.needs_input_grad)
                return x * 1

            @staticmethod
            def backward(ctx, grad):
                return (grad,) + (None,) * (len(ctx.needs_input_grad) - 1)
        a = lib.tensor([1.0], requires_grad=True)
        b = lib.tensor([2.0])
        Record.apply(a, b, 3, flag=a)
        Record.apply(b, a)
        with lib.no_grad():
            Record.apply(a, b)
        return seen
    same(flags)


def test_forward_runs_without_recording_and_backward_with_recording_off(lib):
    modes = []

    class Watch(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            modes.append(lib.is_grad_enabled())
            return x * 2

        @staticmethod
        def backward(ctx, grad):
            modes.append(lib.is_grad_enabled())
            return grad * 2
    x = lib.tensor([1.0], requires_grad=True)
    Watch.apply(x).sum().backward()
    lib.autograd.grad(Watch.apply(x).sum(), x, create_graph=True)
    assert modes == [False, False, False, True]


def test_under_no_grad_nothing_is_recorded():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        with lib.no_grad():
            out = legendre(lib).apply(x)
            a, b = sin_cos(lib).apply(x)
        return [t.requires_grad for t in (out, a, b)], [t.grad_fn is None for t in (out, a, b)]
    same(run)


def test_an_input_returned_as_it_is_comes_back_as_a_new_tensor_sharing_storage(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    out = identity(lib).apply(x)
    assert out is not x and out.grad_fn is not None
    assert np.shares_memory(out.detach().numpy(), x.detach().numpy())
    (out * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_a_number_output_passes_through_and_gets_none(lib):
    got = []

    class WithCount(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, 5

        @staticmethod
        def backward(ctx, grad, grad_count):
            got.append(grad_count)
            return grad * 2
    out, count = WithCount.apply(lib.tensor([1.0], requires_grad=True))
    assert count == 5
    out.sum().backward()
    assert got == [None]


def test_an_integer_tensor_input_gets_no_gradient():
    def run(lib, x):
        return scaled_product(lib).apply(x, lib.tensor([1, 2, 3]), 2.0)
    twin(run, *arrays((2, 3)))


# --- several outputs --------------------------------------------------------------------
def test_two_outputs_both_used():
    twin(lambda lib, x, y: product_and_sum(lib).apply(x, y), *arrays((2, 3), (2, 3)))


def test_outputs_of_different_shapes():
    twin(lambda lib, x: shapes_apart(lib).apply(x), *arrays((3, 4)))


def test_outputs_of_different_dtypes(lib):
    class Mixed(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, lib.from_numpy(x.detach().numpy().astype(np.float64)) * 3

        @staticmethod
        def backward(ctx, grad_single, grad_double):
            dtypes.append((grad_single.dtype, grad_double.dtype))
            return grad_single * 2 + lib.from_numpy(
                grad_double.numpy().astype(np.float32)) * 3
    dtypes = []
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    single, double = Mixed.apply(x)
    (single.sum() + double.sum()).backward()
    assert dtypes == [(lib.float32, lib.float64)]
    assert x.grad.tolist() == [5.0, 5.0] and x.grad.dtype == lib.float32


def test_backward_is_called_once_per_pass_whatever_the_number_of_inputs_and_outputs():
    def calls(lib):
        count = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = lib.tensor([3.0, 4.0], requires_grad=True)
        product, total = product_and_sum(lib, count).apply(x, y)
        loss = (product * total).sum() + product.sum()
        loss.backward(retain_graph=True)
        loss.backward()
        return len(count), x.grad.tolist(), y.grad.tolist()
    assert same(calls)[0] == 2


@pytest.mark.parametrize("materialize", [True, False])
def test_what_backward_receives_for_unused_outputs(materialize):
    def received(lib):
        got = []
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = lib.tensor([3.0, 4.0], requires_grad=True)
        Function = product_and_sum(lib, materialize=materialize, received=got)
        product, total = Function.apply(x, y)
        total.sum().backward()
        product, total = Function.apply(x, y)
        ((product * 0).sum() + total.sum()).backward()
        product, total = Function.apply(x, y)
        (product * 2).sum().backward()
        return got, x.grad.tolist()
    got, _ = same(received)
    assert (got[0][0] is None) == (not materialize)


def test_an_unused_output_of_a_single_output_function_gets_its_gradient(lib):
    # one differentiable output: no bundle, the gradient arrives as it is
    received = []
    x = lib.tensor([3.0, 1.0, 2.0], requires_grad=True)
    values, indices = sort(lib, received).apply(x)
    assert not indices.requires_grad and indices.grad_fn is None
    (values * lib.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert x.grad.tolist() == [100.0, 1.0, 10.0]
    assert received == [("int64", [0, 0, 0])]


def test_mark_non_differentiable():
    twin(lambda lib, x: sort(lib).apply(x), *arrays((5,)))
    twin(lambda lib, x: marked_float(lib).apply(x), *arrays((2, 3)))


@settings(max_examples=20, deadline=None)
@given(rows=st.integers(1, 4), columns=st.integers(1, 4), seed=st.integers(0, 1000))
def test_several_outputs_for_any_shape(rows, columns, seed):
    twin(lambda lib, x: shapes_apart(lib).apply(x), *arrays((rows, columns), seed=seed))
    twin(lambda lib, x, y: product_and_sum(lib).apply(x, y),
         *arrays((rows, columns), (rows, columns), seed=seed))


# --- hooks and graph inspection on Functions ------------------------------------------------
def test_hooks_on_outputs_and_next_functions():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = lib.tensor([3.0, 4.0])
        product, total = product_and_sum(lib).apply(x, y)
        product.register_hook(lambda grad: grad * 10)
        seen = []
        total.register_hook(lambda grad: seen.append(grad.tolist()))
        out = legendre(lib).apply(x)
        node = out.grad_fn
        (first, index), = node.next_functions
        (product.sum() + (total * 2).sum() + out.sum()).backward()
        return (x.grad.tolist(), seen, node.name(), first.name(), index,
                first.variable is x)
    same(run)


# --- saved tensors and freeing ---------------------------------------------------------
def test_saved_tensors_after_backward_freed_the_graph():
    def run(lib):
        contexts = []

        class Keep(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                contexts.append(ctx)
                ctx.save_for_backward(x)
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                return grad * 2
        x = lib.tensor([1.0], requires_grad=True)
        y = Keep.apply(x)
        y.sum().backward(retain_graph=True)
        readable = len(contexts[0].saved_tensors)
        y.sum().backward()
        return readable, contexts[0]
    for lib in (torch, nn):
        readable, ctx = run(lib)
        assert readable == 1
        with pytest.raises(RuntimeError, match="freed"):
            ctx.saved_tensors


@pytest.mark.parametrize("make", [legendre, identity], ids=lambda f: f.__name__)
def test_a_second_backward_frees_a_function_that_saved_tensors(make):
    def second_backward(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = make(lib).apply(x).sum()
        y.backward()
        try:
            y.backward()
        except RuntimeError:
            return "RuntimeError"
        return x.grad.tolist()
    assert (same(second_backward) == "RuntimeError") == (make is legendre)


def test_a_saved_tensor_changed_in_place_is_refused():
    def run(lib, x):
        h = x * 1
        y = legendre(lib).apply(h)
        doubled_in_place(lib).apply(h)
        y.sum().backward()
    twin_raises(run, *arrays((3,)))


def test_saving_a_number_is_a_type_error():
    twin_raises(lambda lib, x: with_backward(lib, lambda ctx, g: (g, None),
                                             save_number=True).apply(x, 3),
                *arrays((2,)))


def test_the_saved_tensors_are_freed_with_the_graph():
    x = nn.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3
    kept = weakref.ref(h)
    y = legendre(nn).apply(h)
    del h
    assert kept() is not None
    y.sum().backward()
    assert kept() is None


# --- changing an input in place ----------------------------------------------------------
def test_mark_dirty_makes_the_input_the_output():
    def run(lib, x):
        h = x * 1
        out = doubled_in_place(lib).apply(h)
        assert out is h and h._version == 1
        assert h.grad_fn.name() == "DoubleInPlaceBackward"
        return out * out
    twin(run, *arrays((2, 3)))


def test_mark_dirty_on_a_leaf_that_requires_grad(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf"):
        doubled_in_place(lib).apply(x)
    assert x.tolist() == [2.0, 4.0]  # forward ran before the refusal, as in torch
    with lib.no_grad():  # allowed without recording
        doubled_in_place(lib).apply(x)
    assert x.tolist() == [4.0, 8.0]


def test_mark_dirty_on_a_tensor_not_returned():
    def run(lib, x):
        class Forgets(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.mark_dirty(x)
                return x * 2

            @staticmethod
            def backward(ctx, grad):
                return grad
        return Forgets.apply(x * 1)
    twin_raises(run, *arrays((3,)))


@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf")
def test_mark_dirty_on_a_tensor_that_needs_no_grad_with_another_that_does():
    def run(lib, buffer, w):
        class AddInto(lib.autograd.Function):
            @staticmethod
            def forward(ctx, buffer, w):
                buffer.detach().numpy()[...] += w.detach().numpy()
                ctx.mark_dirty(buffer)
                return buffer

            @staticmethod
            def backward(ctx, grad):
                return None, grad
        out = AddInto.apply(buffer, w)
        assert out is buffer and out.requires_grad
        return out * 3
    twin(run, *arrays((3,), (3,)), requires_grad=[False, True])


# --- what backward returns ---------------------------------------------------------------
MISTAKES = {
    "too few": lambda ctx, g: g,
    "too many": lambda ctx, g: (g, None, g),
    "a gradient for a number": lambda ctx, g: (g, g),
    "wrong shape": lambda ctx, g: (g[:1], None),
    "not broadcastable from the input's shape": lambda ctx, g: (g.reshape(1, 2, 1), None),
    "a float": lambda ctx, g: (2.0, None),
    "an array": lambda ctx, g: (np.ones(2), None),
}


@pytest.mark.parametrize("backward", MISTAKES.values(), ids=MISTAKES.keys())
def test_a_wrong_backward_result(backward):
    twin_raises(lambda lib, x: with_backward(lib, backward).apply(x, 3).sum().backward(),
                *arrays((2,)))


def test_extra_nones_and_a_broadcast_gradient_are_accepted():
    twin(lambda lib, x: with_backward(lib, lambda ctx, g: (g.expand(3, 2), None, None))
         .apply(x, 3), *arrays((2,)))


def test_none_for_a_tensor_that_needs_grad_is_zero(lib):
    x = lib.tensor([1.0, 2.0], requires_grad=True)
    (with_backward(lib, lambda ctx, g: (None, None)).apply(x, 3).sum() + x.sum()).backward()
    assert x.grad.tolist() == [1.0, 1.0]


def test_a_function_without_forward_or_backward():
    def no_forward(lib, x):
        class Nothing(lib.autograd.Function):
            pass
        Nothing.apply(x)

    def no_backward(lib, x):
        class OnlyForward(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                return x * 2
        OnlyForward.apply(x).sum().backward()
    for run in (no_forward, no_backward):
        twin_raises(run, *arrays((2,)))


# --- double backward ----------------------------------------------------------------------
def second_derivatives(lib, make, values, seed=1):
    "First gradients (create_graph) seeded randomly, then the gradient of their dot with v."
    rng = np.random.default_rng(seed)
    xs = [lib.tensor(v, requires_grad=True) for v in values]
    outputs = as_tuple(make(lib).apply(*xs))
    seeds = [lib.tensor(rng.standard_normal(tuple(o.shape))) for o in outputs]
    firsts = lib.autograd.grad(outputs, xs, seeds, create_graph=True)
    directions = [lib.tensor(rng.standard_normal(v.shape)) for v in values]
    dot = sum((g * v).sum() for g, v in zip(firsts, directions))
    return firsts, lib.autograd.grad(dot, xs)


@pytest.mark.parametrize("make", [legendre, exp_saving_output, softplus, sin_cos,
                                  shapes_apart, product_and_sum],
                         ids=lambda f: f.__name__)
def test_hessian_vector_products(make):
    count = 2 if make is product_and_sum else 1
    values = arrays(*[(3, 2)] * count)
    expected, actual = (second_derivatives(lib, make, values) for lib in (torch, nn))
    for e, a in zip(sum(expected, ()), sum(actual, ())):
        assert_same(e, a, RTOL, ATOL)


def test_create_graph_gradient_of_a_function_has_a_graph(lib):
    x = lib.tensor([0.5, 2.0], dtype=lib.float64, requires_grad=True)
    first, = lib.autograd.grad(legendre(lib).apply(x).sum(), x, create_graph=True)
    assert first.requires_grad
    second, = lib.autograd.grad(first.sum(), x)
    np.testing.assert_allclose(numpy(second), 15 * numpy(x))


def test_once_differentiable():
    twin(lambda lib, x: cube_once(lib).apply(x), *arrays((4,)))

    def double(lib, x):
        seed = lib.ones(4, dtype=lib.float64, requires_grad=True)
        first, = lib.autograd.grad(cube_once(lib).apply(x), x, seed, create_graph=True)
        first.sum().backward()
    twin_raises(double, *arrays((4,)))


def test_once_differentiable_with_a_seed_that_needs_no_grad():
    def run(lib):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        first, = lib.autograd.grad(cube_once(lib).apply(x).sum(), x, create_graph=True)
        return first.tolist(), first.requires_grad
    same(run)


# --- gradcheck and gradgradcheck -------------------------------------------------------------
CHECKED = [legendre, exp_saving_output, softplus]


@pytest.mark.parametrize("make", CHECKED, ids=lambda f: f.__name__)
def test_gradcheck_and_gradgradcheck(make):
    x = nn.tensor(arrays((3, 2), seed=2)[0], requires_grad=True)
    assert nn.gradcheck(make(nn).apply, (x,))
    assert nn.autograd.gradgradcheck(make(nn).apply, (x,))


def test_gradcheck_and_gradgradcheck_with_several_inputs_and_outputs():
    x, y = (nn.tensor(a, requires_grad=True) for a in arrays((2, 3), (2, 3), seed=3))
    apply = product_and_sum(nn).apply
    assert nn.gradcheck(lambda x, y: (lambda p, s: p * s)(*apply(x, y)), (x, y))
    assert nn.autograd.gradgradcheck(apply, (x, y))
    assert nn.autograd.gradgradcheck(sin_cos(nn).apply, (x,))
    assert nn.autograd.gradgradcheck(
        lambda x, y: scaled_product(nn).apply(x, y, 2.0, shift=1.0), (x, y[0]))


def test_gradcheck_catches_a_wrong_backward():
    def wrong(lib):
        class Wrong(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, grad):
                x, = ctx.saved_tensors
                return grad * 2 * x ** 2  # should be 3 x^2
        return Wrong
    x = nn.tensor(arrays((4,))[0], requires_grad=True)
    with pytest.raises(nn.GradcheckError):
        nn.gradcheck(wrong(nn).apply, (x,))


def test_gradgradcheck_catches_a_backward_computed_in_numpy():
    def numpy_backward(lib):
        class NumPyBackward(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, grad):
                x, = ctx.saved_tensors
                return grad * lib.from_numpy(3 * x.detach().numpy() ** 2)
        return NumPyBackward
    x = nn.tensor(arrays((4,))[0], requires_grad=True)
    assert nn.gradcheck(numpy_backward(nn).apply, (x,))
    with pytest.raises(nn.GradcheckError):
        nn.autograd.gradgradcheck(numpy_backward(nn).apply, (x,))


def test_the_names_torch_has():
    assert nn.autograd.Function.__name__ == torch.autograd.Function.__name__
    for name in ("Function", "FunctionCtx", "once_differentiable"):
        assert hasattr(torch.autograd.function, name)
        assert hasattr(nn.autograd.function, name)
        assert hasattr(nn.autograd, name) or name == "once_differentiable"
