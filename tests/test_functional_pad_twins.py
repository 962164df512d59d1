"""F.pad (constant, reflect, replicate, circular; negative pads), F.normalize, F.unfold and F.fold
(and nn.Unfold, nn.Fold) against PyTorch: values and gradients in float32 and float64, torch's
error types, finite differences to first and second order, and Hessian-vector products with
create_graph=True.
"""
import numpy as np
import pytest
import torch

import nn
from twin import F, arrays, assert_same, same, twin, twin_raises
from twin import layers as modules

DTYPES = [np.float32, np.float64]
MODES = ["constant", "reflect", "replicate", "circular"]
X1, X2, X3 = arrays((2, 3, 5), (2, 3, 4, 5), (1, 2, 3, 4, 5))

# (input, pad) pairs every copying mode accepts: 1, 2 and 3 padded dims, batched or not,
# negative pads that crop
COPYING_CASES = {
    "1d": (X1, (1, 2)),
    "1d unbatched": (X1[0], (2, 1)),
    "1d crop left": (X1, (-1, 3)),
    "1d crop right": (X1, (2, -1)),
    "1d crop both": (X1, (-2, -1)),
    "1d largest": (X1, (4, 4)),
    "1d nothing": (X1, (0, 0)),
    "2d": (X2, (1, 2, 3, 1)),
    "2d unbatched": (X2[0], (2, 0, 1, 3)),
    "2d crop": (X2, (-1, 2, 1, -2)),
    "2d largest": (X2, (4, 4, 3, 3)),
    "3d": (X3, (1, 2, 1, 0, 2, 2)),
    "3d unbatched": (X3[0], (0, 1, 2, 1, 1, 0)),
    "3d crop": (X3, (1, -2, 1, 0, -1, 2)),
}
# constant mode pads any number of the last dims
CONSTANT_CASES = {
    "one dim of three": (X1, (1, 2)),
    "all three": (X1, (1, 2, 0, 3, 2, 1)),
    "crop and pad": (X2, (-1, 2, 3, -2, 0, 1)),
    "crop all of a dim": (X1, (0, -5)),
    "crop then pad a dim": (X1, (-5, 2)),
    "1-d input": (X1[0, 0], (3, 1)),
    "0-d input, no pad": (np.array(2.5), ()),
    "empty pad": (X2, ()),
    "all four dims": (X2, (1, 1, 1, 1, 1, 1, 1, 1)),
}


def typed(dtype, value):
    return np.asarray(value, dtype=dtype)


# --- pad: values and gradients ---------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("mode", MODES[1:])
@pytest.mark.parametrize("case", COPYING_CASES)
def test_pad_copying_modes(case, mode, dtype):
    x, pads = COPYING_CASES[case]
    twin(lambda lib, x: F(lib).pad(x, pads, mode=mode), typed(dtype, x))


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("case", {**CONSTANT_CASES, **COPYING_CASES})
def test_pad_constant(case, dtype):
    x, pads = {**CONSTANT_CASES, **COPYING_CASES}[case]
    twin(lambda lib, x: F(lib).pad(x, pads), typed(dtype, x))
    twin(lambda lib, x: F(lib).pad(x, pads, "constant", -1.5), typed(dtype, x))


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.uint8, np.bool_],
                         ids=lambda d: d.__name__)
def test_pad_constant_casts_the_value_to_the_dtype(dtype):
    x = np.arange(12).reshape(3, 4).astype(dtype)
    twin(lambda lib, x: F(lib).pad(x, (1, 2, -1, 1), value=2.7), x)
    twin(lambda lib, x: F(lib).pad(x, (1, 1)), x)


@pytest.mark.parametrize("mode", MODES[1:])
def test_pad_copying_modes_keep_integer_dtypes(mode):
    twin(lambda lib, x: F(lib).pad(x, (1, 2), mode=mode), np.arange(12).reshape(3, 4))


def test_pad_a_zero_value_is_accepted_by_every_mode():
    for mode in MODES:
        twin(lambda lib, x: F(lib).pad(x, (1, 1), mode=mode, value=0), X1)


def test_pad_with_an_empty_batch():
    for mode in MODES:
        twin(lambda lib, x: F(lib).pad(x, (1, 2), mode=mode), X1[:0])


def test_pad_circular_accepts_empty_dims_and_empty_results():
    twin(lambda lib, x: F(lib).pad(x, (1, 1), mode="circular"), X1[:, :0])
    twin(lambda lib, x: F(lib).pad(x, (0, -5), mode="circular"), X1)


def test_pad_values_by_hand():
    x = nn.arange(4.0).reshape(1, 1, 4)
    expected = {"constant": [0, 0, 1, 2, 3, 0], "reflect": [1, 0, 1, 2, 3, 2],
                "replicate": [0, 0, 1, 2, 3, 3], "circular": [3, 0, 1, 2, 3, 0]}
    for mode, values in expected.items():
        assert nn.functional.pad(x, (1, 1), mode=mode).flatten().tolist() == values


def test_pad_returns_a_new_tensor():
    x = nn.tensor(X1)
    y = nn.functional.pad(x, ())
    y[0, 0, 0] = 100.0
    assert x[0, 0, 0].item() == X1[0, 0, 0]


def test_pad_grad_fn_names():
    def names(lib):
        # (torch spells the circular one torch::autograd::CopySlices)
        return [F(lib).pad(lib.tensor(x, requires_grad=True), pads, mode=mode).grad_fn.name()
                .removeprefix("torch::autograd::")
                for mode in MODES for x, pads in ((X1, (1, 1)), (X2, (1, 1, 1, 1)),
                                                  (X3, (1,) * 6))]
    same(names)


# --- pad: errors ---------------------------------------------------------------------------
PAD_ERRORS = {
    "odd length": (X1, (1, 1, 1), "constant"),
    "longer than twice the dims": (X1, (1,) * 8, "constant"),
    "constant crops too much": (X1, (1, -6), "constant"),
    "constant crops too much in two steps": (X2, (1, 1, -3, -2), "constant"),
    "unknown mode": (X1, (1, 1), "linear"),
    "reflect on 1-d input": (X1[0, 0], (1, 1), "reflect"),
    "replicate 2 dims of 2-d input": (X2[0, 0], (1, 1, 1, 1), "replicate"),
    "circular 3 dims of 3-d input": (X1, (1,) * 6, "circular"),
    "reflect 3 dims of 6-d input": (X3[None], (1,) * 6, "reflect"),
    "reflect, empty pad": (X1, (), "reflect"),
    "reflect pad as large as the dim": (X1, (5, 0), "reflect"),
    "reflect pad on the height": (X2, (1, 1, 1, 4), "reflect"),
    "reflect pad on the depth": (X3, (0, 0, 0, 0, 3, 1), "reflect"),
    "reflect to nothing": (X1, (0, -5), "reflect"),
    "replicate to less than nothing": (X1, (-3, -3), "replicate"),
    "replicate an empty channel dim": (X1[:, :0], (1, 1), "replicate"),
    "reflect an empty height": (X2[:, :, :0], (1, 1, 1, 1), "reflect"),
    "circular wraps twice": (X1, (6, 0), "circular"),
    "circular wraps an empty dim": (X1[:, :, :0], (1, 0), "circular"),
    "circular crops too much": (X1, (-3, -3), "circular"),
}


@pytest.mark.parametrize("case", PAD_ERRORS)
def test_pad_errors(case):
    x, pads, mode = PAD_ERRORS[case]
    twin_raises(lambda lib, x: F(lib).pad(x, pads, mode=mode), x)


def test_pad_error_messages_name_the_sizes():
    _, error = twin_raises(lambda lib, x: F(lib).pad(x, (5, 0), mode="reflect"), X1)
    assert "(5, 0)" in str(error) and "[2, 3, 5]" in str(error)
    _, error = twin_raises(lambda lib, x: F(lib).pad(x, (1, 1, 1)), X1)
    assert "divisible by 2" in str(error)


@pytest.mark.parametrize("value", [1.0, -2])
def test_pad_copying_modes_refuse_a_value(value):
    for mode in MODES[1:]:
        twin_raises(lambda lib, x: F(lib).pad(x, (1, 1), mode=mode, value=value), X1)


def test_pad_refuses_a_pad_of_floats_or_a_list_as_input():
    twin_raises(lambda lib, x: F(lib).pad(x, (1.0, 2)), X1)
    for lib in (torch, nn):
        with pytest.raises(TypeError):
            F(lib).pad([1.0, 2.0], (1, 1))


@pytest.mark.parametrize("pads", [(2, -1), (4, -2), (-1, 3)])
def test_circular_pads_larger_than_what_is_left_are_refused(pads):
    # torch copies overlapping memory there and returns uninitialized values, or raises;
    # nn raises a RuntimeError naming the pads (except (-1, 3): 3 of the 3 left, fine)
    x = nn.tensor(X1[:, :, :2])
    if pads == (-1, 3):
        twin(lambda lib, x: F(lib).pad(x, pads, mode="circular"), X1[:, :, :4])
        return
    with pytest.raises(RuntimeError, match="wrapping around"):
        nn.functional.pad(x, pads, mode="circular")


# --- normalize -----------------------------------------------------------------------------
WITH_ZEROS = X2.copy()
WITH_ZEROS[0, :, 1, 2] = 0.0        # a zero vector along dim 1
WITH_ZEROS[1, :, 0, 0] = 1e-13      # a norm below eps
NORMALIZE_CASES = {
    "default": ({}, X2),
    "p=1 dim=0": ({"p": 1, "dim": 0}, X2),
    "p=3 dim=-1": ({"p": 3.0, "dim": -1}, X2),
    "p=inf": ({"p": float("inf"), "dim": 2}, X2),
    "p=0.5": ({"p": 0.5}, X2),
    "1-d input dim 0": ({"dim": 0}, X1[0, 0]),
    "zeros and tiny norms": ({}, WITH_ZEROS),
    "eps above some norms": ({"eps": 2.0}, X2),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("case", NORMALIZE_CASES)
def test_normalize(case, dtype):
    kwargs, x = NORMALIZE_CASES[case]
    twin(lambda lib, x: F(lib).normalize(x, **kwargs), typed(dtype, x))


def test_normalize_out():
    def run(lib):
        out = lib.empty(0)
        result = F(lib).normalize(lib.tensor(X2), dim=1, out=out)
        return result is out, out.shape, out.dtype
    same(run)
    x = nn.tensor(X2)
    assert np.allclose(nn.functional.normalize(x, out=nn.empty(0)).numpy(),
                       torch.nn.functional.normalize(torch.tensor(X2)).numpy())


def test_normalize_errors():
    twin_raises(lambda lib, x: F(lib).normalize(x, dim=4), X2)
    twin_raises(lambda lib, x: F(lib).normalize(x, out=lib.zeros(3)), X2)  # grad
    twin_raises(lambda lib, x: F(lib).normalize(x), np.arange(6).reshape(2, 3),
                requires_grad=False)


# --- unfold and fold -----------------------------------------------------------------------
SLIDING = {
    "kernel 2": dict(kernel_size=2),
    "all settings": dict(kernel_size=(2, 3), dilation=(1, 2), padding=1, stride=(2, 1)),
    "padding wider": dict(kernel_size=3, padding=(0, 2), stride=2),
    "lists": dict(kernel_size=[2, 1], dilation=[2, 2], padding=[1, 0], stride=[1, 2]),
    "kernel as large as the input": dict(kernel_size=(4, 5)),
}


def blocks_shape(x, settings):
    return tuple(torch.nn.functional.unfold(torch.tensor(x), **settings).shape)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("case", SLIDING)
def test_unfold(case, batched, dtype):
    x = typed(dtype, X2 if batched else X2[0])
    twin(lambda lib, x: F(lib).unfold(x, **SLIDING[case]), x)
    twin(lambda lib, x: modules(lib).Unfold(**SLIDING[case])(x), x)


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.__name__)
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("case", SLIDING)
def test_fold(case, batched, dtype):
    (y,) = arrays(blocks_shape(X2, SLIDING[case]), dtype=dtype, seed=1)
    y = y if batched else y[0]
    twin(lambda lib, y: F(lib).fold(y, (4, 5), **SLIDING[case]), y)
    twin(lambda lib, y: modules(lib).Fold((4, 5), **SLIDING[case])(y), y)


def test_unfold_bool_and_empty_batch():
    twin(lambda lib, x: F(lib).unfold(x, 2), X2 > 0)
    twin(lambda lib, x: F(lib).unfold(x, 2), X2[:0])
    twin(lambda lib, y: F(lib).fold(y, (4, 5), 2), np.zeros((0, 12, 12)))


@pytest.mark.parametrize("case", SLIDING)
def test_fold_is_the_adjoint_of_unfold(case):
    x = nn.tensor(X2)
    (y,) = arrays(blocks_shape(X2, SLIDING[case]), seed=2)
    y = nn.tensor(y)
    left = (nn.functional.unfold(x, **SLIDING[case]) * y).sum().item()
    right = (x * nn.functional.fold(y, (4, 5), **SLIDING[case])).sum().item()
    assert np.isclose(left, right, rtol=1e-12)


def test_convolution_is_unfold_then_matmul():
    x, w = nn.tensor(X2), nn.tensor(arrays((6, 3, 2, 3), seed=3)[0])
    columns = nn.functional.unfold(x, (2, 3), padding=1, stride=2)     # (2, 18, L)
    y = (w.reshape(6, -1) @ columns).reshape(2, 6, 3, 3)
    expected = nn.functional.conv2d(x, w, padding=1, stride=2)
    np.testing.assert_allclose(y.numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)


def test_module_reprs():
    same(lambda lib: repr(modules(lib).Unfold((2, 3), stride=2)))
    same(lambda lib: repr(modules(lib).Fold((4, 5), 2, dilation=2, padding=(1, 0))))


UNFOLD_ERRORS = {
    "kernel larger than input": (X2, dict(kernel_size=7)),
    "kernel 0": (X2, dict(kernel_size=0)),
    "stride 0": (X2, dict(kernel_size=2, stride=0)),
    "negative padding": (X2, dict(kernel_size=2, padding=-1)),
    "dilation 0": (X2, dict(kernel_size=2, dilation=0)),
    "three kernel sizes": (X2, dict(kernel_size=(2, 2, 2))),
    "float kernel size": (X2, dict(kernel_size=2.5)),
    "one dilation in a list": (X2, dict(kernel_size=2, dilation=[2])),
    "2-d input": (X2[0, 0], dict(kernel_size=2)),
    "1-d input": (X2[0, 0, 0], dict(kernel_size=1)),
    "5-d input": (X3, dict(kernel_size=1)),
    "zero channels": (X2[:, :0], dict(kernel_size=2)),
    "integers": (np.arange(40).reshape(1, 2, 4, 5), dict(kernel_size=2)),
}


@pytest.mark.parametrize("case", UNFOLD_ERRORS)
def test_unfold_errors(case):
    x, settings = UNFOLD_ERRORS[case]
    twin_raises(lambda lib, x: F(lib).unfold(x, **settings), x)


FOLD_ERRORS = {
    "too many blocks for the size": ((2, 12, 20), (6, 6), dict(kernel_size=2)),
    "blocks of another kernel": ((2, 12, 20), (5, 6), dict(kernel_size=(2, 3))),
    "rows not a multiple of the kernel": ((2, 13, 20), (5, 6), dict(kernel_size=2)),
    "kernel larger than the output": ((2, 12, 20), (1, 1), dict(kernel_size=2)),
    "4-d input": ((12, 20, 1, 1), (5, 6), dict(kernel_size=2)),
    "1-d input": ((12,), (5, 6), dict(kernel_size=2)),
    "stride 0": ((2, 12, 20), (5, 6), dict(kernel_size=2, stride=0)),
    "three output sizes": ((2, 12, 20), (5, 6, 1), dict(kernel_size=2)),
    "integers": ((2, 12, 20), (5, 6), dict(kernel_size=2)),
}


@pytest.mark.parametrize("case", FOLD_ERRORS)
def test_fold_errors(case):
    shape, size, settings = FOLD_ERRORS[case]
    y = np.ones(shape, dtype=np.int64 if case == "integers" else np.float64)
    twin_raises(lambda lib, y: F(lib).fold(y, size, **settings), y)


def test_fold_error_names_the_block_count():
    _, error = twin_raises(lambda lib, y: F(lib).fold(y, (6, 6), 2), np.ones((2, 12, 20)))
    assert "5 * 5 = 25" in str(error) and "20" in str(error)


# --- first and second order ----------------------------------------------------------------
SECOND_ORDER = {
    **{f"pad {mode} {case}": (lambda lib, x, mode=mode, pads=COPYING_CASES[case][1]:
                              F(lib).pad(x, pads, mode=mode).sin(),
                              COPYING_CASES[case][0])
       for mode in MODES for case in ("1d crop right", "2d", "3d crop")},
    "pad constant crop": (lambda lib, x: F(lib).pad(x, (-1, 2, 3, -2, 0, 1), value=0.5).sin(),
                          X2),
    "normalize": (lambda lib, x: F(lib).normalize(x), X2),
    "normalize p=3 zeros": (lambda lib, x: F(lib).normalize(x, 3.0, 1), WITH_ZEROS),
    "normalize eps": (lambda lib, x: F(lib).normalize(x, eps=2.0, dim=2), X2),
    "unfold": (lambda lib, x: F(lib).unfold(x, (2, 3), 1, 1, (2, 1)).sin(), X2),
    "unfold unbatched": (lambda lib, x: F(lib).unfold(x, 2, stride=2).sin(), X2[0]),
    "fold": (lambda lib, y: F(lib).fold(y, (4, 5), 2, 2, 1, 1).sin(),
             arrays(blocks_shape(X2, dict(kernel_size=2, dilation=2, padding=1)))[0]),
}


def hessian_vector_product(lib, fn, x):
    "First gradient (create_graph=True) and the gradient of <grad, v> for a fixed v."
    x = lib.tensor(x, requires_grad=True)
    out = fn(lib, x)
    w = lib.tensor(np.cos(np.arange(out.numel())).reshape(tuple(out.shape)))
    (grad,) = lib.autograd.grad(out, x, grad_outputs=w, create_graph=True)
    v = lib.tensor(np.sin(np.arange(x.numel())).reshape(tuple(x.shape)))
    (hvp,) = lib.autograd.grad((grad * v).sum(), x)
    return grad, hvp


@pytest.mark.parametrize("case", SECOND_ORDER)
def test_hessian_vector_product_matches_torch(case):
    fn, x = SECOND_ORDER[case]
    (torch_grad, torch_hvp), (nn_grad, nn_hvp) = (hessian_vector_product(lib, fn, x)
                                                  for lib in (torch, nn))
    assert_same(torch_grad, nn_grad, what="first gradient")
    assert_same(torch_hvp, nn_hvp, what="Hessian-vector product")


# finite differences step across the clamp at eps around a zero vector: not checkable there
@pytest.mark.parametrize("case", [c for c in SECOND_ORDER if c != "normalize p=3 zeros"])
def test_gradcheck_and_gradgradcheck(case):
    fn, x = SECOND_ORDER[case]
    x = nn.tensor(x, requires_grad=True)
    assert nn.gradcheck(lambda x: fn(nn, x), x)
    assert nn.autograd.gradgradcheck(lambda x: fn(nn, x), x)


@pytest.mark.parametrize("mode", MODES)
def test_linear_ops_second_order_graph_is_linear_again(mode):
    # the vjp of a pad is recorded (crop, scatter), so a gradient of a gradient exists
    x = nn.tensor(X1, requires_grad=True)
    y = nn.functional.pad(x, (1, 2), mode=mode)
    (g,) = nn.autograd.grad((y * y).sum(), x, create_graph=True)
    (gg,) = nn.autograd.grad(g.sum(), x)
    (tg,) = torch.autograd.grad((torch.nn.functional.pad(t := torch.tensor(X1, requires_grad=True),
                                                         (1, 2), mode=mode) ** 2).sum(),
                                t, create_graph=True)
    (tgg,) = torch.autograd.grad(tg.sum(), t)
    assert_same(tgg, gg)


def test_normalize_second_derivative_at_a_zero_vector():
    # torch's double backward of the norm divides 0 by 0 there (nan); nn gives the Hessian of
    # x / eps, the function near zero, which is 0 (listed in known_differences.txt)
    x = np.zeros((2, 3))
    (_, torch_hvp), (_, nn_hvp) = (hessian_vector_product(lib, lambda lib, x: F(lib).normalize(x), x)
                                   for lib in (torch, nn))
    assert_same(torch_hvp, nn_hvp, what="Hessian-vector product")
