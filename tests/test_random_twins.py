"""Same seed, same numbers: nn's random streams against torch's CPU generator.

Both libraries are seeded alike and must draw the same tensors: exactly for uniforms,
integers, permutations and Bernoulli draws; to float tolerance for normals (torch computes
them with its own vectorized log and sincos, nn with NumPy's).
"""
import numpy as np
import pytest
import torch

import nn

SEEDS = [0, 1, 42, 2**32 + 5, -7]
SIZES = [0, 1, 2, 7, 15, 16, 17, 31, 32, 100, 1001]
DTYPES = ["float32", "float64"]


def drawn(lib, seed, draw, calls=2):
    "draw(lib) `calls` times after lib.manual_seed(seed), as arrays; then one more word."
    lib.manual_seed(seed)
    values = [np.asarray(draw(lib).numpy()) for _ in range(calls)]
    return values, lib.randint(0, 2**31, (1,)).item()  # the stream's position after


def assert_same_draws(draw, seed, exact=True, dtype="float32"):
    (theirs, their_next), (ours, our_next) = (drawn(lib, seed, draw) for lib in (torch, nn))
    for a, b in zip(theirs, ours):
        assert a.shape == b.shape and a.dtype == b.dtype
        if exact:
            np.testing.assert_array_equal(b, a)
        else:
            tol = 1e-5 if dtype == "float32" else 1e-12
            np.testing.assert_allclose(b, a, rtol=tol, atol=tol)
    assert our_next == their_next  # the same number of words was used


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("seed", SEEDS)
def test_rand(seed, size, dtype):
    assert_same_draws(lambda lib: lib.rand(size, dtype=getattr(lib, dtype)), seed)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("seed", SEEDS)
def test_randn(seed, size, dtype):
    assert_same_draws(lambda lib: lib.randn(size, dtype=getattr(lib, dtype)), seed,
                      exact=False, dtype=dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("size", [1, 3, 16, 40])
@pytest.mark.parametrize("seed", SEEDS[:3])
def test_uniform_and_normal_in_place(seed, size, dtype):
    def draw(lib):
        t = lib.empty(size, dtype=getattr(lib, dtype))
        return lib.cat([t.uniform_(-2.5, 3.5), t.clone().normal_(1.5, 0.3)])
    assert_same_draws(draw, seed, exact=False, dtype=dtype)


@pytest.mark.parametrize("low, high", [(0, 10), (-5, 5), (0, 2**28 - 1), (0, 2**28),
                                       (0, 2**32), (-2**40, 2**40), (3, 2**62)])
@pytest.mark.parametrize("seed", SEEDS)
def test_randint(seed, low, high):
    assert_same_draws(lambda lib: lib.randint(low, high, (3, 5)), seed)


@pytest.mark.parametrize("n", [0, 1, 2, 10, 257])
@pytest.mark.parametrize("seed", SEEDS)
def test_randperm(seed, n):
    assert_same_draws(lambda lib: lib.randperm(n), seed)


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_bernoulli_dropout_and_multinomial(seed):
    p = np.linspace(0.05, 0.95, 24).reshape(4, 6)
    for dtype in ("float32", "float64"):
        assert_same_draws(lambda lib: lib.bernoulli(lib.tensor(p, dtype=getattr(lib, dtype))),
                          seed)
    assert_same_draws(lambda lib: lib.empty(30).bernoulli_(0.3), seed)
    assert_same_draws(lambda lib: lib.nn.functional.dropout(lib.ones(40), 0.3)
                      if lib is torch else lib.functional.dropout(lib.ones(40), 0.3), seed)
    for replacement, count in ((True, 1), (True, 9), (False, 1), (False, 4)):
        assert_same_draws(lambda lib: lib.multinomial(lib.tensor(p), count, replacement),
                          seed)


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_normal_with_tensor_arguments(seed):
    mean, std = np.linspace(-1, 1, 20), np.linspace(0.5, 2, 20)
    assert_same_draws(lambda lib: lib.normal(lib.tensor(mean), lib.tensor(std)), seed,
                      exact=False, dtype="float64")
    assert_same_draws(lambda lib: lib.normal(lib.tensor(mean), 2.0), seed,
                      exact=False, dtype="float64")
    assert_same_draws(lambda lib: lib.normal(0.5, 2.0, (3, 7)), seed, exact=False)


def test_a_cached_normal_waits_between_calls():
    def sequence(lib):
        lib.manual_seed(3)
        return [lib.randn(1).item(), lib.rand(1).item(), lib.randn(3).tolist(),
                lib.randn(20).tolist(), lib.randn(1, dtype=lib.float64).item()]
    ours, theirs = sequence(nn), sequence(torch)
    np.testing.assert_allclose(np.hstack([np.ravel(x) for x in ours]),
                               np.hstack([np.ravel(x) for x in theirs]), rtol=1e-5)


@pytest.mark.parametrize("seed", SEEDS)
def test_states_have_torchs_layout_and_move_between_libraries(seed):
    nn.manual_seed(seed)
    torch.manual_seed(seed)
    for lib in (nn, torch):
        lib.randn(3)
        lib.rand(5)
    assert np.array_equal(nn.get_rng_state().numpy(), torch.get_rng_state().numpy())
    torch.set_rng_state(torch.from_numpy(nn.get_rng_state().numpy()))
    assert nn.rand(4).tolist() == torch.rand(4).tolist()
    nn.set_rng_state(torch.get_rng_state())
    assert nn.initial_seed() == torch.initial_seed() == seed % 2**64


def test_generator_objects():
    for lib in (torch, nn):
        assert lib.Generator().initial_seed() == 67280421310721
    ours = nn.Generator().manual_seed(9)
    theirs = torch.Generator().manual_seed(9)
    assert nn.rand(3, generator=ours).tolist() == torch.rand(3, generator=theirs).tolist()
    assert (nn.randperm(7, generator=ours).tolist()
            == torch.randperm(7, generator=theirs).tolist())
    assert ours.get_state().numpy().tobytes() == theirs.get_state().numpy().tobytes()


def test_fork_rng_restores_the_stream():
    nn.manual_seed(1)
    with nn.random.fork_rng():
        nn.rand(10)
    torch.manual_seed(1)
    assert nn.rand(2).tolist() == torch.rand(2).tolist()


LAYERS = {
    "Linear": lambda L: L.Linear(20, 30),
    "Conv1d": lambda L: L.Conv1d(3, 4, 5),
    "Conv2d": lambda L: L.Conv2d(3, 8, 3),
    "Embedding": lambda L: L.Embedding(10, 4),
    "small Embedding": lambda L: L.Embedding(3, 4, padding_idx=1),
    "LayerNorm and BatchNorm": lambda L: L.Sequential(L.LayerNorm(3), L.BatchNorm1d(3),
                                                      L.Linear(3, 2)),
}


@pytest.mark.parametrize("layer", LAYERS)
@pytest.mark.parametrize("seed", SEEDS[:3])
def test_a_freshly_built_layer_has_torchs_weights(seed, layer):
    states = []
    for lib, L in ((torch, torch.nn), (nn, nn)):
        lib.manual_seed(seed)
        states.append({k: v.numpy() for k, v in LAYERS[layer](L).state_dict().items()})
    assert list(states[0]) == list(states[1])
    for name in states[0]:
        np.testing.assert_allclose(states[1][name], states[0][name], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("function, options", [
    ("uniform_", {"a": -0.5, "b": 0.5}), ("normal_", {"std": 0.1}),
    ("xavier_uniform_", {}), ("xavier_normal_", {}), ("kaiming_uniform_", {}),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}),
])
def test_init_functions(function, options):
    def draw(lib):
        init = torch.nn.init if lib is torch else nn.init
        return getattr(init, function)(lib.empty(6, 5), **options)
    assert_same_draws(draw, 0, exact=False)


def test_a_seeded_script_draws_torchs_sequence():
    def script(lib):
        lib.manual_seed(2024)
        L = torch.nn if lib is torch else nn
        model = L.Sequential(L.Linear(4, 8), L.ReLU(), L.Linear(8, 3))
        x = lib.randn(5, 4)
        noise = lib.rand(5, 3)
        labels = lib.randint(0, 3, (5,))
        order = lib.randperm(5)
        out = model(x[order]) + noise
        return [p.detach().numpy() for p in model.parameters()] + [
            out.detach().numpy(), labels.numpy(), order.numpy()]
    for a, b in zip(script(torch), script(nn)):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6)


def test_a_shuffling_dataloader_gives_torchs_batches():
    def batches(lib):
        lib.manual_seed(0)
        data = lib.utils.data.TensorDataset(lib.arange(23))
        loader = lib.utils.data.DataLoader(data, batch_size=5, shuffle=True)
        first = [b[0].tolist() for b in loader]
        second = [b[0].tolist() for b in loader]
        split = lib.utils.data.random_split(range(10), [0.3, 0.7])
        return first, second, [s.indices for s in split], lib.rand(1).item()
    assert batches(nn) == batches(torch)


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8", "bool",
                                   "float32", "float64"])
@pytest.mark.parametrize("seed", SEEDS[:3])
def test_random_in_place_over_the_dtypes_range(seed, dtype):
    assert_same_draws(lambda lib: lib.empty(9, dtype=getattr(lib, dtype)).random_(), seed)


@pytest.mark.parametrize("bounds", [(7,), (3, 9), (-4, 2**30), (0, 2**40)])
def test_random_in_place_between_bounds(bounds):
    assert_same_draws(lambda lib: lib.empty(6, dtype=lib.int64).random_(*bounds), 0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_exponential_in_place(dtype):
    assert_same_draws(lambda lib: lib.empty(12, dtype=getattr(lib, dtype)).exponential_(2.5),
                      0, exact=False, dtype=dtype)


def test_random_in_place_refuses_an_empty_range_before_drawing():
    for lib in (torch, nn):
        lib.manual_seed(0)
        with pytest.raises(RuntimeError, match="from"):
            lib.empty(3).random_(5, 5)
    assert nn.rand(2).tolist() == torch.rand(2).tolist()


@pytest.mark.parametrize("fill", ["normal_()", "uniform_(-1, 2)", "bernoulli_(0.4)",
                                  "random_(0, 100)", "exponential_()"])
@pytest.mark.parametrize("view", [".t()", "[:, ::2]", "[::2]"])
@pytest.mark.parametrize("rows", [5, 20])
def test_a_strided_tensor_is_filled_in_memory_order(rows, view, fill):
    assert_same_draws(lambda lib: eval(f"lib.empty(rows, 4){view}.{fill}",
                                       {"lib": lib, "rows": rows}), 0, exact=False)


@pytest.mark.parametrize("mean, std, a, b", [(0.0, 1.0, -2.0, 2.0), (0.0, 0.02, -0.04, 0.04),
                                             (0.0, 1.0, 1.0, 3.0), (0.5, 1.0, -0.2, 0.1),
                                             (1.0, 2.0, -1.0, 5.0)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_trunc_normal_draws_torchs_samples(mean, std, a, b, dtype):
    def draw(lib):
        init = torch.nn.init if lib is torch else nn.init
        return init.trunc_normal_(lib.empty(500, dtype=getattr(lib, dtype)), mean, std, a, b)
    assert_same_draws(draw, 0, exact=False, dtype=dtype)
    nn.manual_seed(1)
    values = nn.init.trunc_normal_(nn.empty(10_000), mean, std, a, b).numpy()
    assert values.min() >= a and values.max() <= b
