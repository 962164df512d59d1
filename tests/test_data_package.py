"""The package nn.utils.data (chapter "Data") against torch.utils.data: its submodules and import
paths, datasets (Subset, ConcatDataset, ChainDataset, IterableDataset, random_split), lazy
samplers, weighted sampling, collate structures, the DataLoader's options and errors, and
worker processes (the same batches as without workers, get_worker_info, worker_init_fn)."""
import collections
import importlib
import math
import time
import tracemalloc
import warnings

import numpy as np
import pytest
import torch

import nn
from twin import same


def structure(batch):
    "A batch as plain Python: containers by type name, tensors as (shape, dtype, values)."
    if isinstance(batch, (torch.Tensor, nn.Tensor)):
        return tuple(batch.shape), str(batch.dtype).split(".")[-1], batch.tolist()
    if isinstance(batch, dict):
        return type(batch).__name__, {key: structure(value) for key, value in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch).__name__, [structure(value) for value in batch]
    return batch


def epoch(loader):
    return [structure(batch) for batch in loader]


def table(lib, n=10):
    "A TensorDataset of n float32 rows and int64 labels."
    x = np.arange(2 * n, dtype=np.float32).reshape(n, 2)
    return lib.utils.data.TensorDataset(lib.tensor(x), lib.tensor(np.arange(n) % 3))


def samples_of(lib, n=10):
    "A map-style dataset (a subclass) of mixed samples: array, float, int, str, dict."
    class Samples(lib.utils.data.Dataset):
        def __len__(self):
            return n

        def __getitem__(self, i):
            return (np.full(3, i, dtype=np.float32), 0.5 * i, i, f"s{i}",
                    {"even": i % 2 == 0, "t": lib.ones(2) * i})
    return Samples()


def stream_of(lib, start, end, split=True):
    "An IterableDataset of start..end-1, split between workers if `split`."
    class Stream(lib.utils.data.IterableDataset):
        def __iter__(self):
            info = lib.utils.data.get_worker_info()
            if info is None or not split:
                return iter(range(start, end))
            per = math.ceil((end - start) / info.num_workers)
            first = start + info.id * per
            return iter(range(first, min(first + per, end)))

        def __len__(self):
            return end - start
    return Stream()


# --- import paths ----------------------------------------------------------------------------------
@pytest.mark.parametrize("module, names", [
    ("utils.data", "DataLoader Dataset IterableDataset TensorDataset Subset ConcatDataset "
                   "ChainDataset random_split Sampler SequentialSampler RandomSampler "
                   "SubsetRandomSampler WeightedRandomSampler BatchSampler default_collate "
                   "default_convert get_worker_info"),
    ("utils.data.dataloader", "DataLoader default_collate default_convert get_worker_info"),
    ("utils.data.dataset", "Dataset IterableDataset TensorDataset Subset ConcatDataset "
                           "ChainDataset random_split"),
    ("utils.data.sampler", "Sampler SequentialSampler RandomSampler SubsetRandomSampler "
                           "WeightedRandomSampler BatchSampler"),
    ("utils.data._utils.collate", "default_collate default_convert"),
    ("utils.data._utils.worker", "get_worker_info"),
])
def test_submodules_hold_torchs_names(module, names):
    ours, theirs = (importlib.import_module(f"{lib}.{module}") for lib in ("nn", "torch"))
    for name in names.split():
        assert hasattr(theirs, name), f"torch.{module}.{name} (the list itself is wrong)"
        assert getattr(ours, name) is getattr(nn.utils.data, name), f"nn.{module}.{name}"


def test_the_package_star_import():
    namespace = {}
    exec("from nn.utils.data import *", namespace)
    assert {"DataLoader", "random_split", "WeightedRandomSampler"} <= namespace.keys()
    assert nn.utils.data.DataLoader.__module__ == "nn.utils.data.dataloader"


def test_shim_maps_the_submodules():
    import sys
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent / "programs"))
    try:
        shim = importlib.import_module("torch_shim")
    finally:
        sys.path.pop(0)
    saved = {name: module for name, module in sys.modules.items()
             if name.split(".")[0] == "torch"}
    try:
        mapping = shim.install()
        for name in ("dataloader", "dataset", "sampler"):
            assert mapping[f"torch.utils.data.{name}"] is importlib.import_module(
                f"nn.utils.data.{name}")
    finally:
        sys.meta_path.remove(shim.NoOtherTorch)
        for name in [name for name in sys.modules if name.split(".")[0] == "torch"]:
            del sys.modules[name]
        sys.modules.update(saved)


# --- datasets --------------------------------------------------------------------------------------
def test_subset_and_concat_dataset():
    def run(lib):
        data = lib.utils.data
        base = table(lib)
        subset = data.Subset(base, [7, 2, 2, 9])
        joined = base + subset
        concat = data.ConcatDataset([subset, base, subset])
        return (len(subset), structure(subset[1]), type(joined).__name__, len(joined),
                structure(joined[11]), structure(joined[-1]), len(concat),
                structure(concat[5]), concat.cumulative_sizes,
                epoch(data.DataLoader(subset, batch_size=3)))
    same(run)


def test_subset_subclass_must_override_both_getters(lib):
    class Doubled(lib.utils.data.Subset):
        def __getitem__(self, index):
            return 2 * super().__getitem__(index)

    with pytest.raises(NotImplementedError, match="overrides __getitem__ but not"):
        Doubled(range(5), [1, 2])


def test_concat_dataset_errors(lib):
    data = lib.utils.data
    with pytest.raises(AssertionError):
        data.ConcatDataset([])
    with pytest.raises(AssertionError):
        data.ConcatDataset([table(lib), stream_of(lib, 0, 3)])
    with pytest.raises(ValueError):
        data.ConcatDataset([table(lib)])[-11]
    with pytest.raises(IndexError):
        data.ConcatDataset([table(lib)])[10]


def test_chain_dataset_and_stream_addition():
    same(lambda lib: (epoch(lib.utils.data.DataLoader(
        stream_of(lib, 0, 4) + stream_of(lib, 10, 13), batch_size=3)),
        len(stream_of(lib, 0, 4) + stream_of(lib, 10, 13))))


@pytest.mark.parametrize("lengths", [[3, 8], [0.3, 0.7], [0.33, 0.33, 0.34], [0.5, 0.5],
                                     [1 / 3] * 3, [0.1] * 10, [0.9, 0.05, 0.05]])
def test_random_split_lengths_and_disjointness(lengths):
    def run(lib):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            parts = lib.utils.data.random_split(range(11), lengths)
        indices = [list(part) for part in parts]
        union = sorted(i for part in indices for i in part)
        return ([len(part) for part in parts], union == list(range(11)),
                all(type(part).__name__ == "Subset" for part in parts), len(caught))
    same(run)


def test_random_split_is_reproducible_with_a_generator():
    def split(seed):
        parts = nn.utils.data.random_split(range(20), [0.5, 0.25, 0.25],
                                           generator=nn.Generator().manual_seed(seed))
        return [list(part) for part in parts]
    assert split(0) == split(0) and split(0) != split(1)


@pytest.mark.parametrize("lengths", [[3, 3], [0.5, 0.6], [1.5, -0.5], [0.2, 0.2]])
def test_random_split_errors(lengths):
    errors = []
    for lib in (torch, nn):
        with pytest.raises(Exception) as raised:
            lib.utils.data.random_split(range(10), lengths)
        errors.append(raised.value)
    assert type(errors[1]) is type(errors[0]) and str(errors[1]) == str(errors[0])


# --- samplers --------------------------------------------------------------------------------------
def test_random_sampler_with_replacement_is_lazy():
    sampler = nn.utils.data.RandomSampler(range(10), replacement=True, num_samples=10**10,
                                          generator=nn.Generator().manual_seed(0))
    assert len(sampler) == 10**10
    tracemalloc.start()
    start = time.perf_counter()
    batches = iter(nn.utils.data.BatchSampler(sampler, 64, False))
    first = [next(batches) for _ in range(20)]
    loader = iter(nn.utils.data.DataLoader(table(nn), batch_size=8, sampler=sampler))
    batch = next(loader)
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert seconds < 0.5 and peak < 2**20, (seconds, peak)
    assert all(len(b) == 64 and 0 <= min(b) and max(b) < 10 for b in first)
    assert len(batch[0]) == 8


def test_random_sampler_draws_in_chunks():
    "Torch draws indices with replacement 32 at a time; so does nn: the same indices."
    drawn = [list(lib.utils.data.RandomSampler(range(7), True, 70,
                                               generator=lib.Generator().manual_seed(4)))
             for lib in (torch, nn)]
    assert drawn[1] == drawn[0]


@pytest.mark.parametrize("num_samples", [None, 5, 10, 23])
def test_random_sampler_without_replacement_gives_permutations(num_samples):
    sampler = nn.utils.data.RandomSampler(range(10), num_samples=num_samples)
    drawn = list(sampler)
    assert len(drawn) == len(sampler) == (num_samples or 10)
    for start in range(0, len(drawn), 10):
        part = drawn[start:start + 10]
        assert len(set(part)) == len(part)


def test_random_sampler_uniform_in_distribution():
    nn.manual_seed(0)
    counts = np.bincount(list(nn.utils.data.RandomSampler(range(5), True, 50000)),
                         minlength=5)
    assert np.all(np.abs(counts / 50000 - 0.2) < 0.01), counts


def test_random_sampler_reproducible_under_global_seed():
    sampler = nn.utils.data.RandomSampler(range(30))
    nn.manual_seed(3)
    first = [list(sampler), list(sampler)]
    nn.manual_seed(3)
    assert [list(sampler), list(sampler)] == first and first[0] != first[1]


def test_subset_random_sampler():
    indices = [4, 9, 11, 30, 2]
    sampler = nn.utils.data.SubsetRandomSampler(indices,
                                                generator=nn.Generator().manual_seed(0))
    drawn = [list(sampler) for _ in range(5)]
    assert all(sorted(d) == sorted(indices) for d in drawn) and len(sampler) == 5
    assert len({tuple(d) for d in drawn}) > 1
    same(lambda lib: len(lib.utils.data.SubsetRandomSampler(indices)))


def test_weighted_random_sampler_distribution():
    weights = [1.0, 0.0, 3.0, 6.0]
    sampler = nn.utils.data.WeightedRandomSampler(weights, 40000,
                                                  generator=nn.Generator().manual_seed(0))
    counts = np.bincount(list(sampler), minlength=4) / 40000
    assert len(sampler) == 40000 and counts[1] == 0
    np.testing.assert_allclose(counts, np.array(weights) / 10, atol=0.01)
    assert str(sampler.weights.dtype).split(".")[-1] == "float64"


def test_weighted_random_sampler_without_replacement():
    sampler = nn.utils.data.WeightedRandomSampler([0.9, 0.4, 0.05, 0.2, 0.3, 0.1], 5,
                                                  replacement=False)
    drawn = list(sampler)
    assert len(set(drawn)) == 5 and set(drawn) <= set(range(6))


@pytest.mark.parametrize("make", [
    lambda lib: lib.utils.data.WeightedRandomSampler([1.0, 2.0], 0),
    lambda lib: lib.utils.data.WeightedRandomSampler([1.0, 2.0], 3.0),
    lambda lib: lib.utils.data.WeightedRandomSampler([1.0, 2.0], True),
    lambda lib: lib.utils.data.WeightedRandomSampler([1.0, 2.0], 3, replacement=1),
    lambda lib: lib.utils.data.WeightedRandomSampler([[1.0, 2.0]], 3),
    lambda lib: list(lib.utils.data.WeightedRandomSampler([1.0, -2.0], 3)),
    lambda lib: list(lib.utils.data.WeightedRandomSampler([0.0, 0.0], 3)),
    lambda lib: list(lib.utils.data.WeightedRandomSampler([1.0, float("nan")], 3)),
    lambda lib: list(lib.utils.data.WeightedRandomSampler([1.0, 2.0], 3, False)),
    lambda lib: lib.utils.data.RandomSampler(range(3), num_samples=0),
    lambda lib: lib.utils.data.RandomSampler(range(3), replacement=1),
    lambda lib: lib.utils.data.BatchSampler(range(3), 0, False),
    lambda lib: lib.utils.data.BatchSampler(range(3), 2, None),
])
def test_sampler_errors_as_torchs(make):
    errors = []
    for lib in (torch, nn):
        with pytest.raises(Exception) as raised:
            make(lib)
        errors.append(raised.value)
    assert isinstance(errors[1], type(errors[0])), errors


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("batch_size", [1, 3, 7, 10, 12])
def test_batch_sampler_over_sequential_and_lists(batch_size, drop_last):
    def run(lib):
        data = lib.utils.data
        sequential = data.BatchSampler(data.SequentialSampler(range(10)), batch_size,
                                       drop_last)
        listed = data.BatchSampler([5, 3, 1, 8, 0, 2, 9], batch_size, drop_last)
        return list(sequential), len(sequential), list(listed), len(listed)
    same(run)


def test_samplers_lengths():
    def run(lib):
        data = lib.utils.data
        return (len(data.SequentialSampler(range(7))),
                len(data.RandomSampler(range(7))),
                len(data.RandomSampler(range(7), True, 30)),
                len(data.RandomSampler(range(7), False, 30)),
                len(data.WeightedRandomSampler([1, 2], 9)),
                len(data.SubsetRandomSampler([1, 5])),
                list(data.SequentialSampler(range(4))))
    same(run)


# --- collate ---------------------------------------------------------------------------------------
Point = collections.namedtuple("Point", "x y")


@pytest.mark.parametrize("make", [
    lambda lib: [lib.ones(2, 3) * i for i in range(4)],
    lambda lib: [np.arange(3) + i for i in range(4)],
    lambda lib: [np.float32(i) for i in range(4)],
    lambda lib: [np.int16(i) for i in range(4)],
    lambda lib: [i for i in range(4)],
    lambda lib: [0.5 * i for i in range(4)],
    lambda lib: [i % 2 == 0 for i in range(4)],
    lambda lib: [f"s{i}" for i in range(4)],
    lambda lib: [(lib.ones(2) * i, i, "a") for i in range(4)],
    lambda lib: [[lib.ones(2) * i, 0.5] for i in range(4)],
    lambda lib: [{"x": np.ones(2) * i, "y": {"z": i}} for i in range(4)],
    lambda lib: [collections.OrderedDict(a=i, b=float(i)) for i in range(3)],
    lambda lib: [Point(lib.zeros(2), i) for i in range(3)],
    lambda lib: [(Point(1.0, [i, i]), {"k": (i, "w")}) for i in range(3)],
])
def test_default_collate_and_convert_structures(make):
    same(lambda lib: structure(lib.utils.data.default_collate(make(lib))))
    same(lambda lib: [structure(lib.utils.data.default_convert(sample))
                      for sample in make(lib)])


@pytest.mark.parametrize("make", [
    lambda lib: [lib.ones(2), lib.ones(3)],
    lambda lib: [np.ones(2), np.ones(3)],
    lambda lib: [(1, 2), (3,)],
    lambda lib: [np.array(["a"]), np.array(["b"])],
    lambda lib: [None, None],
    lambda lib: [object(), object()],
])
def test_default_collate_errors(make):
    errors = []
    for lib in (torch, nn):
        with pytest.raises(Exception) as raised:
            lib.utils.data.default_collate(make(lib))
        errors.append(raised.value)
    assert type(errors[1]) is type(errors[0]), errors
    if "stack expects" in str(errors[0]):
        assert str(errors[1]) == str(errors[0])


# --- the loader ------------------------------------------------------------------------------------
@pytest.mark.parametrize("options", [
    dict(batch_size=3), dict(batch_size=4, drop_last=True), dict(batch_size=None),
    dict(batch_size=10), dict(batch_size=2, sampler=[9, 0, 4, 4, 1]),
    dict(batch_sampler=[[3, 1], [0], [9, 8, 7]]),
    dict(batch_size=None, sampler=[2, 5]),
])
def test_loader_batches_as_torchs(options):
    same(lambda lib: (epoch(loader := lib.utils.data.DataLoader(table(lib), **options)),
                      len(loader)))
    same(lambda lib: (epoch(loader := lib.utils.data.DataLoader(samples_of(lib),
                                                                **options)),
                      len(loader)))


@pytest.mark.parametrize("options", [dict(batch_size=3), dict(batch_size=3, drop_last=True),
                                     dict(batch_size=None), dict(batch_size=5)])
def test_iterable_dataset_batches_as_torchs(options):
    same(lambda lib: (epoch(loader := lib.utils.data.DataLoader(stream_of(lib, 3, 14),
                                                                **options)),
                      len(loader)))


def test_iterable_dataset_without_len():
    class Endless(nn.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(5))
    loader = nn.utils.data.DataLoader(Endless(), batch_size=2)
    assert [b.tolist() for b in loader] == [[0, 1], [2, 3], [4]]
    with pytest.raises(TypeError):
        len(loader)


def test_loader_accepts_torchs_options():
    def run(lib):
        loader = lib.utils.data.DataLoader(
            table(lib), 4, False, None, None, 0, None, True, False, 0, None, None,
            lib.Generator().manual_seed(1), prefetch_factor=None,
            persistent_workers=False, pin_memory_device="", in_order=True)
        with pytest.warns(UserWarning, match="pin_memory"):
            return epoch(loader), loader.pin_memory, loader.timeout, loader.prefetch_factor
    same(run)


def test_loader_attributes_are_frozen(lib):
    loader = lib.utils.data.DataLoader(table(lib), batch_size=2)
    with pytest.raises(ValueError, match="batch_size attribute should not be set"):
        loader.batch_size = 3
    loader.num_workers = 0  # not a frozen one


@pytest.mark.parametrize("make", [
    lambda lib, ds: lib.utils.data.DataLoader(ds, batch_size=0),
    lambda lib, ds: lib.utils.data.DataLoader(ds, drop_last="yes"),
    lambda lib, ds: lib.utils.data.DataLoader(ds, sampler=range(3), shuffle=True),
    lambda lib, ds: lib.utils.data.DataLoader(ds, batch_size=4, batch_sampler=[[0, 1]]),
    lambda lib, ds: lib.utils.data.DataLoader(ds, shuffle=True, batch_sampler=[[0, 1]]),
    lambda lib, ds: lib.utils.data.DataLoader(ds, drop_last=True, batch_sampler=[[0]]),
    lambda lib, ds: lib.utils.data.DataLoader(ds, sampler=[0], batch_sampler=[[0]]),
    lambda lib, ds: lib.utils.data.DataLoader(ds, batch_size=None, drop_last=True),
    lambda lib, ds: lib.utils.data.DataLoader(ds, num_workers=-1),
    lambda lib, ds: lib.utils.data.DataLoader(ds, timeout=-1),
    lambda lib, ds: lib.utils.data.DataLoader(ds, prefetch_factor=2),
    lambda lib, ds: lib.utils.data.DataLoader(ds, num_workers=1, prefetch_factor=-1),
    lambda lib, ds: lib.utils.data.DataLoader(ds, persistent_workers=True),
    lambda lib, ds: lib.utils.data.DataLoader(ds, multiprocessing_context="fork"),
    lambda lib, ds: lib.utils.data.DataLoader(ds, num_workers=1,
                                              multiprocessing_context="nope"),
    lambda lib, ds: lib.utils.data.DataLoader(ds, num_workers=1,
                                              multiprocessing_context=3),
    lambda lib, ds: lib.utils.data.DataLoader(stream_of(lib, 0, 3), shuffle=True),
    lambda lib, ds: lib.utils.data.DataLoader(stream_of(lib, 0, 3), sampler=[0]),
    lambda lib, ds: lib.utils.data.DataLoader(stream_of(lib, 0, 3), batch_sampler=[[0]]),
    lambda lib, ds: lib.utils.data.DataLoader(
        lib.utils.data.TensorDataset(lib.ones(0)), shuffle=True),
])
def test_loader_errors_as_torchs(make):
    errors = []
    for lib in (torch, nn):
        with pytest.raises(Exception) as raised:
            make(lib, table(lib))
        errors.append(raised.value)
    assert type(errors[1]) is type(errors[0]), errors
    assert str(errors[1]).split(",")[0] == str(errors[0]).split(",")[0]


# --- workers ---------------------------------------------------------------------------------------
def generated(**options):
    return nn.Generator().manual_seed(5) if options.pop("seeded", False) else None


@pytest.mark.parametrize("options", [
    dict(batch_size=3), dict(batch_size=3, shuffle=True, seeded=True),
    dict(batch_size=4, drop_last=True, shuffle=True, seeded=True), dict(batch_size=None),
    dict(batch_size=2, sampler=[9, 0, 4, 4, 1, 7, 7]),
])
@pytest.mark.parametrize("dataset", [table, samples_of])
def test_workers_give_the_batches_of_no_workers(options, dataset):
    def loaded(num_workers):
        kwargs = dict(options)
        seeded = kwargs.pop("seeded", False)
        generator = nn.Generator().manual_seed(5) if seeded else None
        loader = nn.utils.data.DataLoader(dataset(nn, 23), num_workers=num_workers,
                                          generator=generator, **kwargs)
        return [epoch(loader) for _ in range(2)]
    alone = loaded(0)
    assert loaded(1) == alone and loaded(2) == alone


def test_workers_match_torchs_workers_on_a_split_stream():
    for batch_size in (None, 3):
        same(lambda lib: epoch(lib.utils.data.DataLoader(
            stream_of(lib, 3, 17), batch_size=batch_size, num_workers=2)))
    # unsplit, every worker yields the whole stream, interleaved batch by batch
    same(lambda lib: epoch(lib.utils.data.DataLoader(
        stream_of(lib, 0, 5, split=False), batch_size=2, num_workers=2)))


def test_worker_info_and_init_fn():
    def init(worker_id):
        info = nn.utils.data.get_worker_info()
        assert info.id == worker_id and info.num_workers == 3
        info.dataset.offset = 100 * (worker_id + 1)

    class Where(nn.utils.data.Dataset):
        offset = 0

        def __len__(self):
            return 6

        def __getitem__(self, i):
            info = nn.utils.data.get_worker_info()
            return [i, self.offset, info.id, info.seed - info.id, nn.rand(()).item()]

    assert nn.utils.data.get_worker_info() is None
    with pytest.warns(UserWarning, match="create 3 worker processes"):
        loader = nn.utils.data.DataLoader(Where(), batch_size=None, num_workers=3,
                                          worker_init_fn=init,
                                          generator=nn.Generator().manual_seed(0))
    rows = [sample for sample in loader]
    assert [r[0] for r in rows] == list(range(6))
    assert [r[2] for r in rows] == [0, 1, 2, 0, 1, 2]  # round-robin, order kept
    assert [r[1] for r in rows] == [100, 200, 300, 100, 200, 300]
    assert len({r[3] for r in rows}) == 1  # one base seed, plus the worker id
    assert len({r[4] for r in rows[:3]}) == 3  # workers' streams differ
    again = [sample for sample in loader]
    assert [r[3] for r in again] != [r[3] for r in rows]  # a new base seed per epoch


def test_persistent_workers_keep_their_state():
    class Counting(nn.utils.data.Dataset):
        calls = 0

        def __len__(self):
            return 4

        def __getitem__(self, i):
            Counting.calls += 1
            return Counting.calls

    loader = nn.utils.data.DataLoader(Counting(), batch_size=2, num_workers=1,
                                      persistent_workers=True, prefetch_factor=1)
    first, second = epoch(loader), epoch(loader)
    assert first[0][2] == [1, 2] and second[0][2] == [5, 6]
    persistent = loader._iterator
    assert persistent is not None and all(w.is_alive() for w in persistent._workers)


def test_worker_exceptions_reach_the_main_process():
    class Broken(nn.utils.data.Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            if i == 2:
                raise KeyError("no sample 2")
            return i

    loader = iter(nn.utils.data.DataLoader(Broken(), batch_size=None, num_workers=2))
    assert [next(loader), next(loader)] == [0, 1]
    with pytest.raises(KeyError, match="in DataLoader worker process 0"):
        next(loader)


def test_abandoned_epoch_stops_its_workers():
    loader = iter(nn.utils.data.DataLoader(table(nn, 100), batch_size=2, num_workers=2))
    next(loader)
    workers = list(loader._workers)
    del loader
    for worker in workers:
        worker.join(timeout=10)
        assert not worker.is_alive()
