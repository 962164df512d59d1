"nn's top level holds torch's names (torch and torch.nn, which `import nn` stands for) and the book's own few."
import types

import torch

import nn

# The book's own names: drawing the graph, checking gradients, the scalar engine's module.
OWN = {"draw_graph", "GraphPicture", "gradcheck", "GradcheckError"}


def public_names(module):
    "The names a module shows, without submodules (importing a submodule adds its name)."
    return {name for name, value in vars(module).items()
            if not name.startswith("_") and not isinstance(value, types.ModuleType)}


def test_every_top_level_name_is_torchs_or_the_books_own():
    torchs = set(dir(torch)) | set(dir(torch.nn))
    strangers = public_names(nn) - torchs - OWN
    assert not strangers, f"names at nn's top level that torch does not have: {sorted(strangers)}"


def test_numpy_and_chapter_helpers_stay_in_their_modules():
    for name in ("np", "record", "operands", "unbroadcast", "binary_operator", "accepts_out"):
        assert not hasattr(nn, name), name
    assert callable(nn.engine.record) and callable(nn.inplace.accepts_out)


def test_the_books_own_names_are_there():
    assert all(hasattr(nn, name) for name in OWN)
