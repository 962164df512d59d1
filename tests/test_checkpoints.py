"""nn.save and nn.load on checkpoints: dicts, lists and tuples of tensors and Python values.

What comes back must be what torch.load(weights_only=True) gives for the same object saved
by torch.save: the same containers (dict or OrderedDict, list or tuple), the same keys with
their types, the same Python values, and tensors with the same dtypes, shapes and values.
"""
import collections
import json
import math
import zipfile

import numpy as np
import pytest
import torch

import nn


def outline(value):
    "`value` with tensors replaced by (dtype name, shape, values), containers kept."
    if isinstance(value, (nn.Tensor, torch.Tensor)):
        return (str(value.dtype).split(".")[-1], tuple(value.shape),
                value.detach().numpy().tolist())
    if isinstance(value, dict):
        return type(value).__name__, [(k, type(k), outline(v)) for k, v in value.items()]
    if isinstance(value, (list, tuple)):
        return type(value).__name__, [outline(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return type(value).__name__, value


def nested(lib):
    "A checkpoint-like object touching every kind of value nn stores."
    return {
        "model": collections.OrderedDict([("w", lib.arange(6.0).reshape(2, 3)),
                                          ("count", lib.tensor(7))]),
        "state": {0: {"step": lib.tensor(3.0), "buf": lib.zeros(2, dtype=lib.float64)},
                  1: {}},
        "groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1],
                    "nesterov": False, "foreach": None, "name": "first"}],
        "mask": lib.tensor([True, False]),
        "values": [1, -2.5, float("inf"), float("nan"), 1e-300, 2 ** 62, True, None, "é"],
        "pair": (lib.ones(1, dtype=lib.int32), ()),
        "empty": {}, "empty_list": [], 3.5: "a float key", None: "a None key",
        "z": 1 + 2j,
    }


def round_trip(lib, obj, path):
    lib.save(obj, path)
    return lib.load(path, weights_only=True)


def test_a_nested_checkpoint_comes_back_as_torchs_does(tmp_path):
    ours = round_trip(nn, nested(nn), tmp_path / "nn.pt")
    theirs = round_trip(torch, nested(torch), tmp_path / "torch.pt")
    assert outline(ours) == outline(theirs)
    assert outline(ours) == outline(nested(nn))


def test_loaded_tensors_are_plain_and_writable(tmp_path):
    obj = {"p": nn.Parameter(nn.ones(2))}
    back = round_trip(nn, obj, tmp_path / "p.pt")["p"]
    assert type(back) is nn.Tensor and not back.requires_grad
    back += 1
    assert back.tolist() == [2.0, 2.0]


def test_a_state_dict_stays_a_plain_npz(tmp_path):
    state = nn.Linear(3, 2).state_dict()
    nn.save(state, tmp_path / "sd.pt")
    with zipfile.ZipFile(tmp_path / "sd.pt") as archive:
        assert archive.namelist() == ["weight.npy", "bias.npy"]
    back = nn.load(tmp_path / "sd.pt")
    assert type(back) is collections.OrderedDict and list(back) == ["weight", "bias"]


def test_tensors_are_members_named_by_their_path(tmp_path):
    nn.save({"optimizer": {"state": {0: {"exp_avg": nn.ones(2)}}}, "w": [nn.zeros(1)]},
            tmp_path / "c.pt")
    with zipfile.ZipFile(tmp_path / "c.pt") as archive:
        names = archive.namelist()
        structure = json.loads(archive.read("structure.json"))
    assert names == ["optimizer/state/0/exp_avg.npy", "w/0.npy", "structure.json"]
    with np.load(tmp_path / "c.pt", allow_pickle=False) as plain:  # any NumPy reads it
        assert plain["optimizer/state/0/exp_avg"].tolist() == [1.0, 1.0]
    assert structure["dict"][0][0] == "optimizer"


def test_colliding_paths_get_distinct_members(tmp_path):
    obj = {"a/b": nn.ones(1), "a": {"b": nn.zeros(1)}}
    back = round_trip(nn, obj, tmp_path / "c.pt")
    assert back["a/b"].tolist() == [1.0] and back["a"]["b"].tolist() == [0.0]


def test_a_dict_of_tensors_that_is_no_ordereddict_comes_back_as_a_dict(tmp_path):
    ours = round_trip(nn, {"w": nn.ones(2)}, tmp_path / "nn.pt")
    theirs = round_trip(torch, {"w": torch.ones(2)}, tmp_path / "torch.pt")
    assert type(ours) is type(theirs) is dict


@pytest.mark.parametrize("obj", [[], (), {}, 3, "text", None, nn.tensor(2.5)])
def test_any_single_value_round_trips(obj, tmp_path):
    back = round_trip(nn, obj, tmp_path / "v.pt")
    assert outline(back) == outline(obj)


def test_training_resumes_exactly_from_a_file(tmp_path):
    def build():
        model = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1))
        with nn.no_grad():
            for p in model.parameters():
                p.copy_(nn.linspace(-0.5, 0.5, p.numel()).reshape(p.shape))
        optimizer = nn.optim.Adam(model.parameters(), lr=0.05)
        return model, optimizer, nn.optim.lr_scheduler.StepLR(optimizer, 4, gamma=0.5)

    x = nn.linspace(-1, 1, 16).reshape(8, 2)
    y = (x[:, :1] * 3).sin()

    def steps(model, optimizer, scheduler, count):
        for _ in range(count):
            optimizer.zero_grad()
            ((model(x) - y) ** 2).mean().backward()
            optimizer.step()
            scheduler.step()

    model, optimizer, scheduler = build()
    steps(model, optimizer, scheduler, 10)
    straight = [p.detach().numpy().copy() for p in model.parameters()]

    model, optimizer, scheduler = build()
    steps(model, optimizer, scheduler, 4)
    nn.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
             "scheduler": scheduler.state_dict(), "epoch": 4}, tmp_path / "ckpt.pt")
    checkpoint = nn.load(tmp_path / "ckpt.pt")
    model, optimizer, scheduler = build()
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    steps(model, optimizer, scheduler, 10 - checkpoint["epoch"])
    for ours, expected in zip(model.parameters(), straight):
        np.testing.assert_array_equal(ours.detach().numpy(), expected)


@pytest.mark.parametrize("obj, where", [
    ({"model": {"hook": print}}, "'model/hook'"),
    ({"layers": [nn.ones(1), nn.Linear(1, 1)]}, "'layers/1'"),
    ({"names": np.array(["a"])}, "'names'"),
    ({(1, 2): nn.ones(1)}, "tuple"),
    ({"s": {1, 2}}, "'s' is a set"),
])
def test_refusals_name_the_place_and_write_nothing(obj, where, tmp_path):
    with pytest.raises(TypeError, match=where):
        nn.save(obj, tmp_path / "bad.pt")
    assert not (tmp_path / "bad.pt").exists()
