"""Attention against PyTorch: scaled_dot_product_attention (masks, causal, scale, broadcast
batch dims, dropout, fully masked rows), its first and second derivatives, and
MultiheadAttention (initialization, outputs, weights and every parameter's gradient in
each mode, state_dict loading, errors)."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

import nn
from twin import F, arrays, layers, numpy, twin, twin_raises

deterministic = settings(max_examples=40, deadline=None, derandomize=True, database=None)


def sdpa(lib, *args, **kwargs):
    return F(lib).scaled_dot_product_attention(*args, **kwargs)


def blocked_row_mask(L, S, seed=0):
    "A boolean (L, S) mask with about half the keys allowed and query 0 fully blocked."
    mask = np.random.default_rng(seed).random((L, S)) < 0.5
    mask[0] = False
    return mask


CASES = {
    "plain": (((2, 3, 4), (2, 5, 4), (2, 5, 6)), {}),
    "causal": (((2, 3, 4), (2, 5, 4), (2, 5, 6)), {"is_causal": True}),
    "causal L > S": (((2, 6, 4), (2, 3, 4), (2, 3, 2)), {"is_causal": True}),
    "scale": (((3, 4), (5, 4), (5, 2)), {"scale": 0.37}),
    "broadcast batch": (((2, 1, 3, 4), (1, 3, 5, 4), (3, 5, 2)), {}),
    "unit L": (((4, 1, 4), (4, 7, 4), (4, 7, 3)), {"is_causal": True}),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES)
def test_sdpa_twins(case, dtype):
    shapes, options = CASES[case]
    twin(lambda lib, q, k, v: sdpa(lib, q, k, v, **options), *arrays(*shapes, dtype=dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sdpa_boolean_mask_with_fully_masked_row_gives_zeros(dtype):
    q, k, v = arrays((2, 4, 3), (2, 5, 3), (2, 5, 2), dtype=dtype)
    mask = blocked_row_mask(4, 5)
    expected, actual = twin(lambda lib, q, k, v, m: sdpa(lib, q, k, v, attn_mask=m),
                            q, k, v, mask)
    assert not numpy(actual[0])[:, 0].any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sdpa_float_mask_has_a_gradient(dtype):
    q, k, v, m = arrays((2, 3, 4), (1, 5, 4), (2, 5, 6), (3, 5), dtype=dtype)
    m[1] = -np.inf
    twin(lambda lib, q, k, v, m: sdpa(lib, q, k, v, attn_mask=m), q, k, v, m)


def test_sdpa_broadcast_boolean_mask():
    q, k, v = arrays((2, 3, 4, 4), (2, 3, 5, 4), (2, 3, 5, 2))
    mask = np.random.default_rng(1).random((3, 1, 5)) < 0.7
    twin(lambda lib, q, k, v, m: sdpa(lib, q, k, v, attn_mask=m, scale=2.0), q, k, v, mask)


@pytest.mark.parametrize("p", [0.3, 1.0])
def test_sdpa_dropout_draws_torchs_numbers(p):
    def fn(lib, q, k, v):
        lib.manual_seed(7)
        return sdpa(lib, q, k, v, dropout_p=p, is_causal=True)
    twin(fn, *arrays((2, 2, 5, 3), (2, 2, 6, 3), (2, 2, 6, 4)))


@st.composite
def attention_shapes(draw):
    batch = draw(st.lists(st.integers(1, 3), max_size=2))
    drop = lambda shape: tuple(1 if draw(st.booleans()) else s for s in shape)
    L, S, E, Ev = (draw(st.integers(1, 5)) for _ in range(4))
    q, k, v = (drop(batch) + tail for tail in ((L, E), (S, E), (S, Ev)))
    kind = draw(st.sampled_from(["none", "bool", "float", "causal"]))
    return q, k, v, kind, draw(st.integers(0, 2**31 - 1))


@deterministic
@given(attention_shapes())
def test_sdpa_hypothesis(case):
    q, k, v, kind, seed = case
    values = arrays(q, k, v, seed=seed)
    rng = np.random.default_rng(seed)
    mask_shape = (q[-2], k[-2])
    if kind == "none":
        twin(lambda lib, q, k, v: sdpa(lib, q, k, v), *values)
    elif kind == "causal":
        twin(lambda lib, q, k, v: sdpa(lib, q, k, v, is_causal=True), *values)
    else:
        mask = (rng.random(mask_shape) < 0.6 if kind == "bool"
                else rng.standard_normal(mask_shape))
        twin(lambda lib, q, k, v, m: sdpa(lib, q, k, v, attn_mask=m), *values, mask)


def leaves(values):
    return [nn.tensor(x, requires_grad=True) for x in values]


GRADCHECK = {
    "plain": lambda q, k, v: nn.functional.scaled_dot_product_attention(q, k, v),
    "causal": lambda q, k, v: nn.functional.scaled_dot_product_attention(
        q, k, v, is_causal=True, scale=0.8),
    "mask": lambda q, k, v: nn.functional.scaled_dot_product_attention(
        q, k, v, attn_mask=nn.tensor(blocked_row_mask(3, 5))),
}


@pytest.mark.parametrize("case", GRADCHECK)
def test_sdpa_gradcheck_and_gradgradcheck(case):
    inputs = leaves(arrays((2, 3, 4), (1, 5, 4), (2, 5, 3)))
    assert nn.gradcheck(GRADCHECK[case], inputs)
    assert nn.autograd.gradgradcheck(GRADCHECK[case], inputs)


def test_sdpa_float_mask_gradgradcheck():
    inputs = leaves(arrays((2, 3, 4), (2, 5, 4), (2, 5, 3), (3, 5)))
    fn = lambda q, k, v, m: nn.functional.scaled_dot_product_attention(q, k, v, m)
    assert nn.gradcheck(fn, inputs)
    assert nn.autograd.gradgradcheck(fn, inputs)


@pytest.mark.parametrize("options", [{}, {"is_causal": True}, {"mask": True},
                                     {"dropout_p": 0.4}])
def test_sdpa_hessian_vector_products(options):
    values = arrays((2, 3, 4), (2, 5, 4), (2, 5, 3), (3, 5))
    results = []
    for lib in (torch, nn):
        lib.manual_seed(3)
        q, k, v, m = (lib.tensor(x, requires_grad=True) for x in values)
        kwargs = {key: value for key, value in options.items() if key != "mask"}
        out = sdpa(lib, q, k, v, attn_mask=m if "mask" in options else None, **kwargs)
        inputs = [q, k, v] + ([m] if "mask" in options else [])
        w = lib.tensor(np.random.default_rng(1).standard_normal(tuple(out.shape)))
        grads = lib.autograd.grad(out, inputs, w, create_graph=True)
        directions = [lib.tensor(x) for x in arrays(*[tuple(t.shape) for t in inputs],
                                                    seed=2)]
        total = sum((g * d).sum() for g, d in zip(grads, directions))
        results.append(grads + lib.autograd.grad(total, inputs))
    for expected, actual in zip(*results):
        np.testing.assert_allclose(numpy(actual), numpy(expected), rtol=1e-10, atol=1e-12)


BAD = {
    "1-d": ((4,), (4,), (4,)),
    "E differs": ((2, 3, 4), (2, 5, 3), (2, 5, 6)),
    "S differs": ((2, 3, 4), (2, 5, 4), (2, 4, 6)),
    "batch": ((2, 3, 4), (3, 5, 4), (3, 5, 6)),
}


@pytest.mark.parametrize("case", BAD)
def test_sdpa_errors(case):
    twin_raises(lambda lib, q, k, v: sdpa(lib, q, k, v), *arrays(*BAD[case]))


def test_sdpa_mask_errors():
    q, k, v = arrays((2, 3, 4), (2, 5, 4), (2, 5, 6))
    twin_raises(lambda lib, q, k, v, m: sdpa(lib, q, k, v, attn_mask=m),
                q, k, v, np.ones((4, 5)))
    twin_raises(lambda lib, q, k, v, m: sdpa(lib, q, k, v, attn_mask=m, is_causal=True),
                q, k, v, np.ones((3, 5), dtype=bool))
    twin_raises(lambda lib, q, k, v, m: sdpa(lib, q, k, v, attn_mask=m),
                q, k, v, np.ones((3, 5), dtype=np.int64))
    twin_raises(lambda lib, q, k, v: sdpa(lib, q, k.double(), v),
                *arrays((2, 3, 4), (2, 5, 4), (2, 5, 6), dtype=np.float32))


GQA = {
    "shared heads": ((2, 6, 4, 3), (2, 2, 5, 3), (2, 3, 5, 2)),
    "one key head": ((6, 4, 3), (1, 5, 3), (6, 5, 2)),
}


@pytest.mark.parametrize("case", GQA)
def test_sdpa_grouped_query_attention(case):
    twin(lambda lib, q, k, v: sdpa(lib, q, k, v, enable_gqa=True, is_causal=True),
         *arrays(*GQA[case]))


def test_sdpa_grouped_query_errors():
    twin_raises(lambda lib, q, k, v: sdpa(lib, q, k, v, enable_gqa=True),
                *arrays((1, 4, 3, 2), (1, 3, 5, 2), (1, 3, 5, 2)))
    twin_raises(lambda lib, q, k, v: sdpa(lib, q, k, v, enable_gqa=True),
                *arrays((3, 2), (5, 2), (5, 2)))


def test_sdpa_grouped_gradgradcheck():
    fn = lambda q, k, v: nn.functional.scaled_dot_product_attention(q, k, v,
                                                                       enable_gqa=True)
    inputs = leaves(arrays((1, 4, 3, 2), (1, 2, 5, 2), (1, 1, 5, 3)))
    assert nn.gradcheck(fn, inputs)
    assert nn.autograd.gradgradcheck(fn, inputs)


# --- MultiheadAttention ----------------------------------------------------------------------
def run_mha(lib, options, call, shapes, dtype, train=False):
    "Output, weights, the inputs' gradients, every parameter and its gradient."
    lib.manual_seed(0)
    mha = layers(lib).MultiheadAttention(8, 2, **options).to(getattr(lib, dtype))
    mha.train(train)
    q, k, v = (lib.tensor(x, requires_grad=True)
               for x in arrays(*shapes, dtype=np.dtype(dtype), seed=1))
    kwargs = {key: lib.tensor(value.astype(dtype) if value.dtype.kind == "f" else value)
              if isinstance(value, np.ndarray) else value for key, value in call.items()}
    lib.manual_seed(1)
    out, weights = mha(q, k, v, **kwargs)
    loss = (out * out).sum()
    if weights is not None:
        loss = loss + (weights * weights).nan_to_num().sum()
    loss.backward()
    names = sorted(name for name, _ in mha.named_parameters())
    params = dict(mha.named_parameters())
    return ([out, weights, q.grad, k.grad, v.grad]
            + [params[n] for n in names] + [params[n].grad for n in names]), names


PADDING = np.array([[False] * 5, [False, False, False, True, True]])
CAUSAL = np.triu(np.ones((4, 5), dtype=bool), 1)
SEQ = [(4, 2, 8), (5, 2, 8), (5, 2, 8)]
MODES = {
    "default": ({}, {}, SEQ),
    "average off": ({}, {"average_attn_weights": False}, SEQ),
    "bool attn_mask": ({}, {"attn_mask": CAUSAL}, SEQ),
    "float attn_mask 3-d": ({}, {"attn_mask": arrays((4, 4, 5), seed=4)[0]}, SEQ),
    "key_padding_mask": ({}, {"key_padding_mask": PADDING}, SEQ),
    "both masks, no weights": ({}, {"key_padding_mask": PADDING, "attn_mask": CAUSAL,
                                    "need_weights": False}, SEQ),
    "need_weights=False": ({}, {"need_weights": False}, SEQ),
    "is_causal hint": ({}, {"attn_mask": CAUSAL, "is_causal": True,
                            "need_weights": False}, SEQ),
    "batch_first": ({"batch_first": True}, {"key_padding_mask": PADDING},
                    [(2, 4, 8), (2, 5, 8), (2, 5, 8)]),
    "kdim vdim": ({"kdim": 3, "vdim": 6}, {}, [(4, 2, 8), (5, 2, 3), (5, 2, 6)]),
    "unbatched": ({}, {"attn_mask": CAUSAL, "key_padding_mask": PADDING[1]},
                  [(4, 8), (5, 8), (5, 8)]),
    "unbatched no weights": ({}, {"need_weights": False}, [(4, 8), (5, 8), (5, 8)]),
    "no bias": ({"bias": False}, {}, SEQ),
    "fully masked row": ({}, {"key_padding_mask": np.ones((2, 5), dtype=bool)}, SEQ),
    "add_bias_kv, masks": ({"add_bias_kv": True}, {"key_padding_mask": PADDING,
                                                   "attn_mask": CAUSAL}, SEQ),
    "add_zero_attn, no weights": ({"add_zero_attn": True},
                                  {"key_padding_mask": PADDING, "need_weights": False},
                                  SEQ),
    "bias_kv, zero_attn, kdim": ({"add_bias_kv": True, "add_zero_attn": True, "kdim": 3},
                                 {"attn_mask": arrays((4, 4, 5), seed=6)[0]},
                                 [(4, 2, 8), (5, 2, 3), (5, 2, 8)]),
    "zero_attn unbatched": ({"add_zero_attn": True},
                            {"key_padding_mask": np.ones(5, dtype=bool)},
                            [(4, 8), (5, 8), (5, 8)]),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode", MODES)
def test_multihead_attention_twins(mode, dtype):
    options, call, shapes = MODES[mode]
    (theirs, names), (ours, our_names) = (run_mha(lib, options, call, shapes, dtype)
                                          for lib in (torch, nn))
    assert our_names == names
    tol = 1e-5 if dtype == "float32" else 1e-12
    for expected, actual in zip(theirs, ours):
        assert (expected is None) == (actual is None)
        if expected is not None:
            assert tuple(actual.shape) == tuple(expected.shape)
            assert str(actual.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
            np.testing.assert_allclose(numpy(actual), numpy(expected), rtol=tol, atol=tol)


@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention_dropout_in_training(need_weights):
    call = {"need_weights": need_weights}
    (theirs, _), (ours, _) = (run_mha(lib, {"dropout": 0.5}, call, SEQ, "float64", True)
                              for lib in (torch, nn))
    for expected, actual in zip(theirs, ours):
        if expected is not None:
            np.testing.assert_allclose(numpy(actual), numpy(expected), atol=1e-12)


@pytest.mark.parametrize("options", [{}, {"kdim": 3, "vdim": 5}, {"bias": False},
                                     {"add_bias_kv": True}])
def test_multihead_attention_loads_torchs_state_dict(options):
    torch.manual_seed(11)
    theirs = torch.nn.MultiheadAttention(8, 4, **options).double()
    ours = nn.MultiheadAttention(8, 4, **options).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    ours.load_state_dict({name: nn.tensor(value.numpy())
                          for name, value in theirs.state_dict().items()})
    q, k, v = arrays((3, 2, 8), (4, 2, options.get("kdim", 8)),
                     (4, 2, options.get("vdim", 8)), seed=5)
    expected = theirs(*map(torch.tensor, (q, k, v)))
    actual = ours(*map(nn.tensor, (q, k, v)))
    for e, a in zip(expected, actual):
        np.testing.assert_allclose(numpy(a), numpy(e), atol=1e-12)


def test_multihead_attention_gradcheck():
    mha = nn.MultiheadAttention(4, 2, kdim=3).double()
    inputs = leaves(arrays((3, 2, 4), (5, 2, 3), (5, 2, 4)))
    for need_weights in (True, False):
        fn = lambda q, k, v: mha(q, k, v, need_weights=need_weights)[0]
        assert nn.gradcheck(fn, inputs)
        assert nn.autograd.gradgradcheck(fn, inputs)


MHA_BAD = {
    "4-d query": ([(4, 2, 1, 8), (5, 2, 1, 8), (5, 2, 1, 8)], {}),
    "2-d key for 3-d query": ([(4, 2, 8), (5, 8), (5, 8)], {}),
    "embed dim": ([(4, 2, 6), (5, 2, 6), (5, 2, 6)], {}),
    "attn_mask shape": ([(4, 2, 8), (5, 2, 8), (5, 2, 8)], {"attn_mask": (3, 5)}),
    "is_causal without mask": ([(4, 2, 8), (5, 2, 8), (5, 2, 8)], {"is_causal": True}),
}


@pytest.mark.parametrize("case", MHA_BAD)
def test_multihead_attention_errors(case):
    shapes, call = MHA_BAD[case]

    def fn(lib, q, k, v):
        lib.manual_seed(0)
        kwargs = {key: lib.zeros(value, dtype=lib.bool) if key == "attn_mask" else value
                  for key, value in call.items()}
        return layers(lib).MultiheadAttention(8, 2)(q, k, v, **kwargs)
    twin_raises(fn, *arrays(*shapes, dtype=np.float32))


def test_multihead_attention_constructor_errors():
    for lib in (torch, nn):
        with pytest.raises(AssertionError):
            layers(lib).MultiheadAttention(6, 4)
