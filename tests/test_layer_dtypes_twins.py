"""Layers make their parameters and buffers in the default dtype, or in the dtype asked."""
import pytest
import torch

import nn

LAYERS = {
    "Linear": lambda L, **kw: L.Linear(3, 2, **kw),
    "Conv1d": lambda L, **kw: L.Conv1d(2, 3, 3, **kw),
    "Conv2d": lambda L, **kw: L.Conv2d(2, 3, 3, **kw),
    "Embedding": lambda L, **kw: L.Embedding(5, 2, **kw),
    "LayerNorm": lambda L, **kw: L.LayerNorm(4, **kw),
    "BatchNorm1d": lambda L, **kw: L.BatchNorm1d(4, **kw),
    "BatchNorm2d": lambda L, **kw: L.BatchNorm2d(4, **kw),
}


def dtypes(layer):
    return {name: str(value.dtype).split(".")[-1]
            for name, value in layer.state_dict().items()}


@pytest.fixture
def restore_default_dtype():
    yield
    torch.set_default_dtype(torch.float32)
    nn.set_default_dtype(nn.float32)


@pytest.mark.parametrize("default", ["float32", "float64"])
@pytest.mark.parametrize("layer", LAYERS)
def test_parameters_follow_the_default_dtype(layer, default, restore_default_dtype):
    found = []
    for lib in (torch, nn):
        lib.set_default_dtype(getattr(lib, default))
        L = torch.nn if lib is torch else nn
        found.append((dtypes(LAYERS[layer](L)),
                      str(L.Parameter().dtype).split(".")[-1]))
    assert found[1] == found[0]
    assert default in found[1][0].values()


@pytest.mark.parametrize("layer", LAYERS)
def test_a_dtype_and_the_cpu_device_can_be_asked_for(layer):
    found = [dtypes(LAYERS[layer](L, device="cpu", dtype=lib.float64))
             for lib, L in ((torch, torch.nn), (nn, nn))]
    assert found[1] == found[0]


def test_a_cuda_device_is_refused_before_anything_is_built():
    with pytest.raises(RuntimeError, match="cuda"):
        nn.Linear(2, 2, device="cuda")
