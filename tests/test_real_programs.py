"""Unchanged PyTorch programs print the same under nn as under torch.

Each program in tests/programs/ is ordinary PyTorch code (`import torch`,
`import torch.nn as nn`, ...). It runs twice in a subprocess: with the real torch, and
through tests/programs/torch_shim.py, which makes `torch` and its submodules resolve to
nn. The two outputs must agree line by line:
  - numbers (found by NUMBER below) agree within a relative tolerance of 1e-4, or
    within one unit of the last digit printed (printing rounds, and a last digit may
    flip either way); integers (no decimal point, no exponent) must be equal, and an
    integer never equals a number printed as a float (`2` is not `2.`);
  - the rest of the text is equal after dropping the spaces before a number and
    collapsing other runs of spaces (tensors pad their columns to the widest number),
    dropping object addresses (`<MulBackward0 object at 0x7f..>` reads
    `<MulBackward0>`), and reading the library prefix `torch.` or `nn.` as the same word
    (so `torch.float32` and `nn.float32`, `torch.Size([2, 3])` and `nn.Size([2, 3])`
    agree, but not `float32` and `torch.float32`).
After the same seed nn draws torch's random numbers (chapter "Random numbers"), so a program
may seed once and draw its data and weights (seeded_training.py does); most build them from
formulas, which keeps them independent of the last bits of float32 normal samples.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = ROOT / "tests" / "programs"
SHIM = PROGRAMS / "torch_shim.py"
RTOL = 1e-4
TIMEOUT = 600
# a number that is not part of a word: 3, -2.5, 1., .5, 1.0000e-05, inf, nan
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?"
                    r"|inf|nan)(?!\w)")
ADDRESS = re.compile(r" object at 0x[0-9a-fA-F]+")
PREFIX = re.compile(r"(?<![\w.])(?:torch|nn)\.")


def programs():
    "The programs: every .py file of tests/programs/ but the shim and private helpers."
    return sorted(p for p in PROGRAMS.glob("*.py")
                  if p != SHIM and not p.name.startswith("_"))


def run(args):
    "Run Python with `args` from the repository root; return the completed process."
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1",
               PYTHONHASHSEED="0")
    return subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT)


def tail(text, lines=25):
    "The last lines of `text`, indented for a failure message."
    return "\n".join("    " + line for line in text.rstrip().splitlines()[-lines:])


def split_numbers(line):
    "A line's text with each number replaced by '#', and the numbers as strings."
    text = PREFIX.sub("LIB.", ADDRESS.sub("", line))
    numbers = NUMBER.findall(text)
    text = re.sub(r"\s+#", "#", NUMBER.sub("#", text))
    return re.sub(r"\s+", " ", text).strip(), numbers


def is_integer(number):
    "Whether a printed number is an integer: no decimal point, no exponent."
    return re.fullmatch(r"[-+]?\d+", number) is not None


def last_digit_unit(number):
    "One unit of the last digit printed after the decimal point (0 without one)."
    mantissa, _, exponent = number.lower().partition("e")
    if "." not in mantissa:
        return 0.0
    return 10.0 ** (int(exponent or 0) - len(mantissa.split(".")[1]))


def numbers_agree(expected, actual):
    "Whether two printed numbers agree (see the module's docstring)."
    if is_integer(expected) or is_integer(actual):
        both = is_integer(expected) and is_integer(actual)
        return both and int(expected) == int(actual)
    a, b = float(expected), float(actual)
    if a == b or (a != a and b != b):  # equal, or both nan
        return True
    if not (abs(a) < float("inf") and abs(b) < float("inf")):
        return False
    unit = max(last_digit_unit(expected), last_digit_unit(actual))
    return abs(a - b) <= max(RTOL * max(abs(a), abs(b)), unit * (1 + 1e-9))


def first_difference(expected, actual, complete=True):
    """Where two outputs first differ (a message), or None when they agree.

    With complete=False, `actual` may stop early (the program failed): only the lines
    both have are compared."""
    want, got = expected.splitlines(), actual.splitlines()
    for number, (line_want, line_got) in enumerate(zip(want, got), 1):
        text_want, numbers_want = split_numbers(line_want)
        text_got, numbers_got = split_numbers(line_got)
        if text_want != text_got or len(numbers_want) != len(numbers_got):
            reason = "the text differs"
        else:
            pairs = [(w, g) for w, g in zip(numbers_want, numbers_got)
                     if not numbers_agree(w, g)]
            if not pairs:
                continue
            reason = f"the number {pairs[0][0]} (torch) is {pairs[0][1]} under nn"
        return f"line {number}: {reason}\n  torch: {line_want}\n  nn:    {line_got}"
    if len(got) > len(want) or (complete and len(got) < len(want)):
        extra = (want if len(want) > len(got) else got)[min(len(want), len(got))]
        return (f"the line count: {len(want)} lines under torch, {len(got)} under nn; "
                f"line {min(len(want), len(got)) + 1}: {extra}")
    return None


@pytest.mark.parametrize("program", programs(), ids=lambda p: p.stem)
def test_program_prints_the_same_under_nn_as_under_torch(program):
    reference = run([program])
    assert reference.returncode == 0, (
        f"{program.name} fails under torch itself:\n{tail(reference.stderr)}")
    under_nn = run([SHIM, program])
    expected_lines = len(reference.stdout.splitlines())
    if under_nn.returncode != 0:
        lines_done = len(under_nn.stdout.splitlines())
        earlier = first_difference(reference.stdout, under_nn.stdout, complete=False)
        earlier = f"\nbefore that, the output differs at {earlier}" if earlier else ""
        pytest.fail(f"{program.name} fails under nn after {lines_done} of "
                    f"{expected_lines} lines of output:\n"
                    f"{tail(under_nn.stderr)}{earlier}", pytrace=False)
    difference = first_difference(reference.stdout, under_nn.stdout)
    if difference:
        pytest.fail(f"{program.name} prints differently under nn, at {difference}",
                    pytrace=False)


# the comparison itself, so that it can be trusted to fail
@pytest.mark.parametrize("expected, actual", [
    ("loss 2.5011346340179443", "loss 2.501134"),
    ("tensor([ 1.0000, -2.0000])", "tensor([1.0000, -2.0000])"),
    ("torch.float32 torch.Size([2, 3])", "nn.float32 nn.Size([2, 3])"),
    ("<SubBackward0 object at 0x7f83a8173e80> 0", "<SubBackward0> 0"),
    ("x = 0.0125", "x = 0.0124"),
    ("-0.0000", "0.0000"),
    ("tensor([1.0000e-08, 1.0000e+00])", "tensor([1.0001e-08, 1.0000e+00])"),
    ("tensor([inf, nan, -1.])", "tensor([inf, nan, -1.])"),
])
def test_outputs_that_agree(expected, actual):
    assert first_difference(expected, actual) is None


@pytest.mark.parametrize("expected, actual", [
    ("loss 2.5011346340179443", "loss 2.5021"),
    ("count 344", "count 345"),
    ("torch.float32", "float32"),
    ("torch.Size([2, 3])", "(2, 3)"),
    ("x = 0.0125", "x = 0.0127"),
    ("int32 7", "int64 7"),
    ("a\nb", "a"),
    ("a", "a\nb"),
    ("tensor([1., 2.])", "tensor([1, 2])"),
    ("2.0", "2"),
    ("-inf", "inf"),
    ("inf", "nan"),
    ("tensor([1., 2.])", "tensor([1., 2., 3.])"),
])
def test_outputs_that_differ(expected, actual):
    assert first_difference(expected, actual) is not None


def test_a_failed_run_is_compared_up_to_where_it_stopped():
    assert first_difference("a 1\nb 2\nc 3", "a 1\nb 2", complete=False) is None
    assert "line 2" in first_difference("a 1\nb 2\nc 3", "a 1\nb 3", complete=False)
    assert first_difference("a 1\nb 2", "a 1\nb 2\nc 3", complete=False) is not None


def test_the_shim_resolves_torch_names_to_nn(tmp_path):
    program = tmp_path / "imports.py"
    program.write_text(
        "import sys\n"
        "import torch\n"
        "import torch.nn as nn\n"
        "import torch.nn.functional as F\n"
        "from torch.utils.data import DataLoader\n"
        "from torch import optim\n"
        "print(torch.__name__, nn.__name__, F.__name__, optim.__name__,\n"
        "      DataLoader.__module__)\n"
        "print(torch.nn.init.__name__, torch.autograd.functional.__name__)\n"
        "print(sorted(name for name, m in sys.modules.items()\n"
        "             if name.split('.')[0] == 'torch'\n"
        "             and not m.__name__.startswith('nn')))\n"
        "import torch.distributed\n")
    done = run([SHIM, program])
    assert done.stdout.splitlines() == [
        "nn nn nn.functional nn.optim nn.utils.data.dataloader",
        "nn.init nn.autograd.functional",
        "[]"]
    # a module nn lacks is not importable: the program meets nn as it is
    assert done.returncode == 1 and "ModuleNotFoundError" in done.stderr
