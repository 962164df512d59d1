"""Run a PyTorch program unchanged with `nn` standing in for `torch`.

    python tests/programs/torch_shim.py PROGRAM.py [ARGS...]

Before the program runs, `sys.modules` maps every name the program may import to nn's
module of the same meaning: `torch` is nn itself; `torch.nn` is nn itself as well (nn is
both the tensor library and the layer library), so `torch.nn.X` is `nn.X`
(`torch.nn.functional` is nn.functional, `torch.nn.init` nn.init, `torch.nn.utils`
nn.utils); any other `torch.X.Y` is `nn.X.Y` when nn has such a module. A name nn lacks
(say `torch.cuda` today) is not mapped, so importing it fails with ModuleNotFoundError,
and attribute access such as `torch.cuda` fails with AttributeError: the program meets
nn exactly as it is. The real torch is never imported.
"""
import importlib
import pkgutil
import runpy
import sys
import traceback
import types

# torch modules programs commonly import; nn's counterpart is used when nn has it
COMMON = ("nn", "nn.functional", "nn.init", "nn.utils", "nn.parameter", "nn.modules",
          "functional", "optim", "optim.lr_scheduler", "utils", "utils.data",
          "utils.data.dataloader", "utils.data.dataset", "autograd",
          "autograd.functional", "autograd.grad_mode", "linalg", "fft", "special",
          "random", "cuda", "backends", "backends.mps", "backends.cudnn", "testing",
          "distributions", "types")


def nn_name(torch_name):
    "The nn module name standing for a torch module name: torch.nn.X, torch.X are nn.X."
    parts = torch_name.split(".")[1:]
    if parts[:1] == ["nn"]:
        parts = parts[1:]
    return ".".join(["nn", *parts])


def nn_module(name, submodules):
    """nn's module (or module-like attribute) called `name`, or None when nn has none.

    Only the files of the nn package imported are imported (`submodules`): an editable
    install elsewhere could otherwise supply a module this checkout lacks."""
    if name == "nn" or name in submodules:
        return importlib.import_module(name)
    obj = sys.modules["nn"]
    for part in name.split(".")[1:]:
        obj = getattr(obj, part, None)
    return obj if isinstance(obj, types.ModuleType) else None


class NoOtherTorch:
    "A meta path finder that lets no `torch.*` name be found beyond those mapped to nn."

    @staticmethod
    def find_spec(name, path=None, target=None):
        "Refuse every torch name (the mapped ones are in sys.modules and never asked)."
        if name.split(".")[0] == "torch":
            raise ModuleNotFoundError(f"No module named {name!r} (nn has no "
                                      f"{nn_name(name)!r})", name=name)
        return None


def install():
    "Put nn's modules into sys.modules under torch's names; return the mapping made."
    nn = importlib.import_module("nn")
    submodules = {info.name for info in pkgutil.walk_packages(nn.__path__, "nn.")}
    torch_names = {"torch", *(f"torch.{name}" for name in COMMON)}
    for name in submodules:
        rest = name[len("nn."):]
        torch_names |= {f"torch.{rest}", f"torch.nn.{rest}"}
    mapping = {}
    for torch_name in sorted(torch_names):
        module = nn_module(nn_name(torch_name), submodules)
        if module is not None:
            mapping[torch_name] = module
    sys.modules.update(mapping)
    sys.meta_path.insert(0, NoOtherTorch)
    # `import torch.nn as nn` reads the attribute `nn` of the package `torch`
    if not hasattr(nn, "nn"):
        nn.nn = nn
    return mapping


def run(path, argv=()):
    "Run the program at `path` as __main__ with torch resolved to nn."
    install()
    sys.argv = [str(path), *argv]
    runpy.run_path(str(path), run_name="__main__")
    stray = sorted(name for name, module in sys.modules.items()
                   if name.split(".")[0] == "torch" and module is not None
                   and not getattr(module, "__name__", "").startswith("nn"))
    if stray:
        raise RuntimeError(f"the real torch was imported: {stray}")


def program_traceback(error):
    "The traceback of `error` from the program's own frames on."
    tb = error.__traceback__
    while tb is not None and (tb.tb_frame.f_code.co_filename == __file__
                              or "runpy" in tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(error), error, tb))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    try:
        run(sys.argv[1], sys.argv[2:])
    except Exception as error:
        sys.stdout.flush()
        sys.stderr.write(program_traceback(error))
        sys.exit(1)
