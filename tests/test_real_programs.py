"""Unchanged PyTorch programs print the same under nn as under torch.

Each program in tests/programs/ is ordinary PyTorch code (`import torch`, `import torch.nn as nn`,
...). It runs twice in a subprocess: with the real torch, and through tests/programs/torch_shim.py,
which makes `torch` and its submodules resolve to nn. The two outputs must agree line by line:
  - numbers (found by NUMBER below) agree within a relative tolerance of 1e-4, or within one unit
    of the last digit printed (printing rounds, and a last digit may flip either way); integers
    (no decimal point, no exponent) must be equal;
  - the rest of the text is equal after dropping the spaces before a number and collapsing other
    runs of spaces (tensors pad their columns to the widest number), dropping object addresses (`<MulBackward0 object at 0x7f..>` reads
    `<MulBackward0>`), and reading the library prefix `torch.` or `nn.` as the same word (so
    `torch.float32` and `nn.float32`, `torch.Size([2, 3])` and `nn.Size([2, 3])` agree).
The programs make their data and weights without random streams, which differ between the two
libraries.
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
NUMBER = re.compile(r"(?<![\w.])[-+]?(?:(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|inf|nan)(?![\w])")
ADDRESS = re.compile(r" object at 0x[0-9a-fA-F]+")
PREFIX = re.compile(r"(?<![\w.])(?:torch|nn)\.")


def programs():
    "The programs: every .py file of tests/programs/ except the shim and private helpers."
    return sorted(p for p in PROGRAMS.glob("*.py") if p != SHIM and not p.name.startswith("_"))


def run(args):
    "Run Python with `args` from the repository root; return the completed process."
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1", PYTHONHASHSEED="0")
    return subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=TIMEOUT)


def tail(text, lines=25):
    "The last lines of `text`, indented for a failure message."
    return "\n".join("    " + line for line in text.rstrip().splitlines()[-lines:])


def split_numbers(line):
    "A line's text with numbers replaced by '#', and the numbers as strings."
    text = ADDRESS.sub("", line)
    text = PREFIX.sub("LIB.", text)
    numbers = NUMBER.findall(text)
    text = re.sub(r"\s+", " ", re.sub(r"\s+#", "#", NUMBER.sub("#", text))).strip()
    return text, numbers


def last_digit_unit(number):
    "One unit of the last digit printed after the decimal point (0 for integers)."
    mantissa, _, exponent = number.lower().partition("e")
    if "." not in mantissa:
        return 0.0
    decimals = len(mantissa.split(".")[1])
    return 10.0 ** (int(exponent or 0) - decimals)


def numbers_agree(expected, actual):
    "Whether two printed numbers agree (see the module's docstring)."
    if expected in ("nan", "+nan", "-nan") or actual in ("nan", "+nan", "-nan"):
        return expected.lstrip("+-") == actual.lstrip("+-")
    a, b = float(expected), float(actual)
    if a == b:
        return True
    if "inf" in expected or "inf" in actual:
        return False
    is_integer = not re.search(r"[.eE]", expected) and not re.search(r"[.eE]", actual)
    if is_integer:
        return False
    unit = max(last_digit_unit(expected), last_digit_unit(actual))
    return abs(a - b) <= max(RTOL * max(abs(a), abs(b)), unit * 1.0000001)


def first_difference(expected, actual, complete=True):
    """A description of the first line where two outputs differ, or None when they agree.

    With complete=False, `actual` may stop early (the program failed): only the lines both have
    are compared."""
    want, got = expected.splitlines(), actual.splitlines()
    for number, (line_want, line_got) in enumerate(zip(want, got), 1):
        text_want, numbers_want = split_numbers(line_want)
        text_got, numbers_got = split_numbers(line_got)
        if text_want != text_got or len(numbers_want) != len(numbers_got):
            reason = "the text differs"
        else:
            pairs = [(w, g) for w, g in zip(numbers_want, numbers_got) if not numbers_agree(w, g)]
            if not pairs:
                continue
            reason = f"number {pairs[0][0]} (torch) vs {pairs[0][1]} (nn)"
        return (f"line {number}: {reason}\n  torch: {line_want}\n  nn:    {line_got}")
    if len(want) != len(got) and (complete or len(got) > len(want)):
        shorter = "nn" if len(got) < len(want) else "torch"
        extra = (want if len(want) > len(got) else got)[min(len(want), len(got))]
        return (f"{shorter} printed fewer lines ({len(got)} under nn, {len(want)} under torch); "
                f"the first line past the end: {extra}")
    return None


@pytest.mark.parametrize("program", programs(), ids=lambda p: p.stem)
def test_program_prints_the_same_under_nn_as_under_torch(program):
    reference = run([program])
    assert reference.returncode == 0, (
        f"{program.name} fails under torch itself:\n{tail(reference.stderr)}")
    under_nn = run([SHIM, program])
    if under_nn.returncode != 0:
        lines_done = len(under_nn.stdout.splitlines())
        earlier = first_difference(reference.stdout, under_nn.stdout, complete=False)
        earlier = f"\nand before it, the output differs at {earlier}" if earlier else ""
        pytest.fail(f"{program.name} fails under nn after {lines_done} of "
                    f"{len(reference.stdout.splitlines())} lines of output:\n"
                    f"{tail(under_nn.stderr)}{earlier}", pytrace=False)
    difference = first_difference(reference.stdout, under_nn.stdout)
    if difference:
        pytest.fail(f"{program.name} prints differently under nn, {difference}", pytrace=False)


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
    ("inf", "nan"),
    ("tensor([1., 2.])", "tensor([1., 2., 3.])"),
])
def test_outputs_that_differ(expected, actual):
    assert first_difference(expected, actual) is not None
