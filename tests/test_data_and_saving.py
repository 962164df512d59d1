"""Data loading and saving (chapters "Data" and "Saving and loading") against PyTorch: TensorDataset, samplers, collate,
DataLoader (batches, lengths, shuffling), nn.save/nn.load, and moving state_dicts between the libraries."""
import io
import zipfile
from collections import OrderedDict, namedtuple

import numpy as np
import pytest
import torch

import nn
from nn.utils.data import DataLoader, TensorDataset
from twin import assert_same, same

X = np.arange(26 * 3, dtype=np.float32).reshape(26, 3) / 7
Y = np.arange(26) % 4


def dataset(lib):
    "The same 26 samples (float32 rows, int64 labels) in either library."
    return lib.utils.data.TensorDataset(lib.tensor(X), lib.tensor(Y))


def layers(lib):
    return torch.nn if lib is torch else nn


# --- datasets and samplers -------------------------------------------------------------------------
def test_tensor_dataset_items_and_length():
    same(lambda lib: (len(dataset(lib)), [(tuple(t.shape), t.dtype, t.tolist()) for t in dataset(lib)[5]]))


def test_tensor_dataset_refuses_different_first_dimensions(lib):
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        lib.utils.data.TensorDataset(lib.ones(4, 2), lib.ones(3))


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("batch_size", [1, 4, 5, 13, 26, 30])
def test_batch_sampler_matches_torch(batch_size, drop_last):
    def batches(lib):
        sampler = lib.utils.data.BatchSampler(lib.utils.data.SequentialSampler(range(26)), batch_size, drop_last)
        return list(sampler), len(sampler)
    same(batches)


@pytest.mark.parametrize("replacement, num_samples", [(False, None), (False, 60), (True, None), (True, 7)])
def test_random_sampler_draws_the_right_indices(replacement, num_samples):
    sampler = nn.utils.data.RandomSampler(range(26), replacement, num_samples,
                                          generator=nn.Generator().manual_seed(0))
    drawn = np.array(list(sampler))
    count = 26 if num_samples is None else num_samples
    assert len(drawn) == len(sampler) == count and drawn.min() >= 0 and drawn.max() < 26
    if not replacement:  # whole permutations, then part of one more
        for start in range(0, count, 26):
            part = drawn[start:start + 26]
            assert len(set(part.tolist())) == len(part)


def test_generator_is_seeded_like_torchs():
    assert nn.Generator().initial_seed() == torch.Generator().initial_seed()
    g = nn.Generator()
    assert g.manual_seed(5) is g and g.initial_seed() == 5


# --- collate ---------------------------------------------------------------------------------------
Pair = namedtuple("Pair", "x label")


def structure(batch):
    "A collated batch as plain values: container types, and (shape, dtype, values) for tensors."
    if isinstance(batch, (torch.Tensor, nn.Tensor)):
        return tuple(batch.shape), str(batch.dtype).removeprefix("torch.").removeprefix("nn."), batch.tolist()
    if isinstance(batch, dict):
        return {key: structure(value) for key, value in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch).__name__, [structure(value) for value in batch]
    return batch


@pytest.mark.parametrize("samples", [
    lambda lib: [lib.tensor([1.0, 2.0]), lib.tensor([3.0, 4.0])],
    lambda lib: [lib.tensor(1), lib.tensor(2)],
    lambda lib: [(lib.tensor([1.0]), 0), (lib.tensor([2.0]), 1)],
    lambda lib: [[lib.tensor([1.0]), 0.5], [lib.tensor([2.0]), 1.5]],
    lambda lib: [np.ones((2, 2), np.float64), np.zeros((2, 2), np.float64)],
    lambda lib: [np.float32(1), np.float32(2)],
    lambda lib: [np.int32(1), np.int32(2)],
    lambda lib: [0.5, 1.5],
    lambda lib: [1, 2],
    lambda lib: [True, False],
    lambda lib: ["a", "b"],
    lambda lib: [{"x": lib.zeros(2), "y": 1}, {"x": lib.ones(2), "y": 2}],
    lambda lib: [Pair(lib.zeros(2, dtype=lib.float64), 1), Pair(lib.ones(2, dtype=lib.float64), 2)],
])
def test_default_collate_matches_torch(samples):
    same(lambda lib: structure(lib.utils.data.default_collate(samples(lib))))


@pytest.mark.parametrize("samples, error", [
    (lambda lib: [lib.ones(2), lib.ones(3)], RuntimeError),
    (lambda lib: [(1, 2), (3,)], RuntimeError),
    (lambda lib: [np.array(["a"]), np.array(["b"])], TypeError),
    (lambda lib: [None, None], TypeError),
])
def test_default_collate_refuses_like_torch(samples, error, lib):
    with pytest.raises(error):
        lib.utils.data.default_collate(samples(lib))


# --- the DataLoader --------------------------------------------------------------------------------
def epoch(loader):
    "One epoch as plain values: the batch structure, shapes, dtypes and values."
    return [structure(batch) for batch in loader]


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("batch_size", [1, 3, 4, 13, 26, 64])
def test_loader_batches_match_torch_without_shuffling(batch_size, drop_last):
    same(lambda lib: (epoch(loader := lib.utils.data.DataLoader(dataset(lib), batch_size=batch_size,
                                                                drop_last=drop_last)), len(loader)))


def test_loader_without_batching_matches_torch():
    same(lambda lib: (epoch(loader := lib.utils.data.DataLoader(dataset(lib), batch_size=None)), len(loader)))


def test_loader_batches_are_tensors_like_torchs():
    for (tx, ty), (nx, ny) in zip(torch.utils.data.DataLoader(dataset(torch), batch_size=8),
                                  DataLoader(dataset(nn), batch_size=8)):
        assert_same(tx, nx, what="x batch")
        assert_same(ty, ny, what="y batch")
        assert not nx.requires_grad and not ny.requires_grad


def test_loader_with_custom_sampler_and_batch_sampler():
    same(lambda lib: epoch(lib.utils.data.DataLoader(dataset(lib), batch_size=3, sampler=[5, 1, 9, 0, 2])))
    same(lambda lib: epoch(lib.utils.data.DataLoader(dataset(lib), batch_sampler=[[3, 4], [0], [25, 1, 7]])))


@pytest.mark.parametrize("drop_last", [False, True])
def test_shuffled_epoch_uses_every_sample_once(drop_last, lib):
    labels = lib.utils.data.TensorDataset(lib.arange(26))
    loader = lib.utils.data.DataLoader(labels, batch_size=4, shuffle=True, drop_last=drop_last)
    orders = []
    for _ in range(3):
        seen = np.concatenate([batch[0].numpy() for batch in loader])
        assert len(seen) == (24 if drop_last else 26) and len(set(seen.tolist())) == len(seen)
        if not drop_last:
            assert sorted(seen.tolist()) == list(range(26))
        orders.append(seen.tolist())
    assert orders[0] != orders[1] or orders[1] != orders[2]  # a new permutation per epoch


def test_seeded_shuffles_repeat():
    labels = TensorDataset(nn.arange(50))

    def two_epochs(**options):
        loader = DataLoader(labels, batch_size=7, shuffle=True, **options)
        return [[batch[0].tolist() for batch in loader] for _ in range(2)]

    seeded = two_epochs(generator=nn.Generator().manual_seed(0))
    assert seeded == two_epochs(generator=nn.Generator().manual_seed(0))
    assert seeded != two_epochs(generator=nn.Generator().manual_seed(1))
    assert seeded[0] != seeded[1]
    nn.manual_seed(3)
    global_seeded = two_epochs()
    nn.manual_seed(3)
    assert global_seeded == two_epochs()


def test_fast_path_equals_the_general_path():
    data = dataset(nn)
    fast = DataLoader(data, batch_size=5, shuffle=True, generator=nn.Generator().manual_seed(2))
    general = DataLoader(data, batch_size=5, shuffle=True, generator=nn.Generator().manual_seed(2),
                         collate_fn=nn.utils.data.default_collate)
    assert fast._fast and not general._fast
    assert epoch(fast) == epoch(general)


def test_fast_path_keeps_the_graph_when_the_data_require_grad():
    def gradient(lib):
        x = lib.tensor(X, requires_grad=True)
        loader = lib.utils.data.DataLoader(lib.utils.data.TensorDataset(x), batch_size=4, sampler=[3, 1, 3, 7])
        (batch,) = next(iter(loader))
        (batch * batch).sum().backward()
        return batch.requires_grad, x.grad.tolist()
    same(gradient)


def test_subclass_with_its_own_getitem_is_not_bypassed():
    class Doubled(TensorDataset):
        def __getitem__(self, index):
            return tuple(2 * t for t in super().__getitem__(index))

    (batch,) = next(iter(DataLoader(Doubled(nn.arange(6)), batch_size=3)))
    assert batch.tolist() == [0, 2, 4]


@pytest.mark.parametrize("make", [
    lambda lib, ds: lib.utils.data.DataLoader(ds, batch_size=0),
    lambda lib, ds: lib.utils.data.DataLoader(ds, batch_size=2.5),
    lambda lib, ds: lib.utils.data.DataLoader(ds, drop_last="yes"),
    lambda lib, ds: lib.utils.data.DataLoader(ds, sampler=range(3), shuffle=True),
    lambda lib, ds: lib.utils.data.DataLoader(ds, batch_size=4, batch_sampler=[[0, 1]]),
    lambda lib, ds: lib.utils.data.DataLoader(ds, shuffle=True, batch_sampler=[[0, 1]]),
    lambda lib, ds: lib.utils.data.DataLoader(ds, batch_size=None, drop_last=True),
    lambda lib, ds: lib.utils.data.DataLoader(ds, num_workers=-1),
    lambda lib, ds: lib.utils.data.DataLoader(lib.utils.data.TensorDataset(lib.ones(0)), shuffle=True),
])
def test_loader_refuses_bad_arguments_like_torch(make, lib):
    with pytest.raises(ValueError):
        make(lib, dataset(lib))


def test_workers_load_the_same_batches():
    loader = DataLoader(dataset(nn), batch_size=5, shuffle=True, num_workers=2,
                        generator=nn.Generator().manual_seed(2))
    alone = DataLoader(dataset(nn), batch_size=5, shuffle=True,
                       generator=nn.Generator().manual_seed(2))
    assert epoch(loader) == epoch(alone)


# --- save and load ---------------------------------------------------------------------------------
STATE = OrderedDict([
    ("w", nn.randn(3, 2, requires_grad=True)),
    ("b", nn.zeros(3, dtype=nn.float64)),
    ("count", nn.tensor(7)),
    ("mask", nn.tensor([True, False])),
    ("ints", np.arange(6, dtype=np.int32).reshape(2, 3)),
    ("scale", np.float64(0.5)),
])


def as_array(value):
    return np.asarray(value._data if isinstance(value, nn.Tensor) else value)


@pytest.mark.parametrize("target", ["path", "str", "file"])
def test_save_load_round_trip_keeps_order_dtypes_shapes_values(target, tmp_path):
    f = {"path": tmp_path / "state.pt", "str": str(tmp_path / "state.pt"), "file": io.BytesIO()}[target]
    nn.save(STATE, f)
    if target == "file":
        f.seek(0)
    loaded = nn.load(f)
    assert isinstance(loaded, OrderedDict) and list(loaded) == list(STATE)
    for name, value in STATE.items():
        expected, got = as_array(value), loaded[name]
        assert isinstance(got, nn.Tensor) and not got.requires_grad
        assert got.dtype == expected.dtype and got.shape == expected.shape
        np.testing.assert_array_equal(got.numpy(), expected)
    if target != "file":
        assert [p.name for p in tmp_path.iterdir()] == ["state.pt"]  # no .npz appended


def test_saved_file_is_a_plain_npz(tmp_path):
    nn.save(STATE, tmp_path / "state.pt")
    with np.load(tmp_path / "state.pt", allow_pickle=False) as archive:
        assert archive.files == list(STATE)
        np.testing.assert_array_equal(archive["ints"], STATE["ints"])


def test_load_refuses_object_arrays_and_pickles(tmp_path):
    np.savez(tmp_path / "crafted.npz", w=np.ones(2), x=np.array([object()], dtype=object))
    with pytest.raises(ValueError, match="pickled"):
        nn.load(tmp_path / "crafted.npz")
    (tmp_path / "plain.pkl").write_bytes(__import__("pickle").dumps({"w": 1}))
    with pytest.raises(ValueError, match="pickled"):
        nn.load(tmp_path / "plain.pkl")
    with pytest.raises(ValueError):
        nn.load(tmp_path / "crafted.npz", weights_only=False)


def test_load_points_torch_files_to_torch_load(tmp_path):
    torch.save({"w": torch.ones(2)}, tmp_path / "t.pt")
    with pytest.raises(ValueError, match="torch.load"):
        nn.load(tmp_path / "t.pt")


@pytest.mark.parametrize("obj", [
    nn.Linear(2, 2), {"model": {"hook": print}}, {(0, 1): nn.ones(2)},
    {"x": np.array([object()], dtype=object)}, {"names": np.array(["a", "b"])},
    [nn.ones(2), object()], {"w": nn.ones(2), "bad": {1, 2}},
])
def test_save_refuses_before_writing(obj, tmp_path):
    with pytest.raises(TypeError):
        nn.save(obj, tmp_path / "bad.pt")
    assert not (tmp_path / "bad.pt").exists()


# --- state_dicts between torch and nn --------------------------------------------------------------
def mlp(lib, batch_norm=False):
    L = layers(lib)
    middle = [L.BatchNorm1d(8)] if batch_norm else []
    return L.Sequential(L.Linear(4, 8), *middle, L.ReLU(), L.Linear(8, 3))


INPUT = np.random.default_rng(0).standard_normal((6, 4)).astype(np.float32)


def outputs(lib, model):
    return model(lib.tensor(INPUT)).detach().numpy()


@pytest.mark.parametrize("batch_norm", [False, True])
def test_torch_state_dict_loads_into_nn(batch_norm):
    torch.manual_seed(0)
    source = mlp(torch, batch_norm)
    for _ in range(2):
        source(torch.randn(10, 4))  # moves the running statistics
    source.eval()
    target = mlp(nn, batch_norm)
    target.load_state_dict({k: v.detach().numpy() for k, v in source.state_dict().items()})
    target.eval()
    assert list(target.state_dict()) == list(source.state_dict())
    np.testing.assert_allclose(outputs(nn, target), outputs(torch, source), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("batch_norm", [False, True])
def test_nn_state_dict_loads_into_torch_and_through_a_file(batch_norm, tmp_path):
    nn.manual_seed(0)
    source = mlp(nn, batch_norm)
    source(nn.randn(10, 4))
    source.eval()
    target = mlp(torch, batch_norm)
    target.load_state_dict({k: torch.from_numpy(v.numpy()) for k, v in source.state_dict().items()})
    target.eval()
    np.testing.assert_allclose(outputs(torch, target), outputs(nn, source), rtol=1e-5, atol=1e-5)

    nn.save(source.state_dict(), tmp_path / "model.pt")
    rebuilt = mlp(nn, batch_norm)
    rebuilt.load_state_dict(nn.load(tmp_path / "model.pt"))
    rebuilt.eval()
    np.testing.assert_array_equal(outputs(nn, rebuilt), outputs(nn, source))


@pytest.mark.parametrize("damage", ["missing", "unexpected", "shape"])
def test_load_state_dict_refuses_like_torch(damage, lib):
    model = layers(lib).Linear(4, 3)
    state = {k: v.detach().clone() if lib is torch else v.detach().numpy().copy() for k, v in model.state_dict().items()}
    if damage == "missing":
        del state["bias"]
    elif damage == "unexpected":
        state["scale"] = lib.ones(1)
    else:
        state["weight"] = lib.ones(3, 5)
    before = model.weight.detach().numpy().copy()
    with pytest.raises(RuntimeError):
        model.load_state_dict(state)
    np.testing.assert_array_equal(model.weight.detach().numpy(), before)
