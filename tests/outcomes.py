"""Comparing whole outcomes of code typed once against `lib`, run with torch and with nn.

`both(fn)` runs `fn(torch)` and `fn(nn)` and compares what they return, recursively:
tensors in value, shape and dtype (twin.assert_same), everything else as plain Python values
(twin.plain), and a raised exception by its type (nn's must be torch's or a subclass). This
lets one test look at several things at once: a tensor after an in-place change, its
version counter, a gradient, whether an object is the same one, an error.

`lambda_id` names a parametrized lambda by its own source text, so a failing case reads as
the code that failed.
"""
import dis
import linecache

import torch

import nn
from twin import assert_same, plain


class Raised:
    "What `attempt` gives when the code raised: the exception's type and message."

    def __init__(self, error):
        self.type, self.message = type(error), str(error)

    def __repr__(self):
        return f"Raised({self.type.__name__}: {self.message[:200]})"


def attempt(fn):
    "`fn()`, or the exception it raised as a `Raised`."
    try:
        return fn()
    except Exception as error:  # noqa: BLE001 (the type is what is compared)
        return Raised(error)


def compare(expected, actual, what="result"):
    "torch's outcome and nn's agree: tensors by value/shape/dtype, the rest as plain values."
    if isinstance(expected, torch.Tensor):
        assert not isinstance(actual, Raised), f"{what}: torch gives a tensor, nn {actual!r}"
        # float16 results may be rounded at different steps: a few units in the last place
        half = expected.dtype == torch.float16
        assert_same(expected, actual, rtol=4e-3 if half else None, atol=1e-3 if half else None,
                    what=what)
    elif isinstance(expected, Raised):
        assert isinstance(actual, Raised), f"{what}: torch {expected!r}, nn gives {actual!r}"
        assert issubclass(actual.type, expected.type), f"{what}: torch {expected!r}, nn {actual!r}"
    elif isinstance(expected, (list, tuple)):
        assert isinstance(actual, (list, tuple)), f"{what}: torch {expected!r}, nn {actual!r}"
        assert len(actual) == len(expected), f"{what}: length"
        for i, (e, a) in enumerate(zip(expected, actual)):
            compare(e, a, f"{what}[{i}]")
    elif isinstance(expected, dict):
        assert set(actual) == set(expected), f"{what}: keys"
        for key in expected:
            compare(expected[key], actual[key], f"{what}[{key!r}]")
    else:
        assert not isinstance(actual, (nn.Tensor, Raised)), f"{what}: torch {expected!r}, nn {actual!r}"
        assert plain(actual) == plain(expected), f"{what}: torch {expected!r}, nn {actual!r}"


def both(fn):
    "Run `fn(lib)` with torch and with nn, compare the outcomes, return nn's."
    expected, actual = attempt(lambda: fn(torch)), attempt(lambda: fn(nn))
    compare(expected, actual)
    return actual


def named(lib, text):
    "A name as `lib` prints it, without the library's prefix: 'FloatTensor', 'Size([2])'."
    return str(text).removeprefix(lib.__name__ + ".")


def lambda_id(fn):
    "The source text of a lambda's body (for test ids); else the object's repr."
    if getattr(fn, "__name__", None) != "<lambda>":
        return None
    spans = [i.positions for i in dis.get_instructions(fn)
             if i.positions.lineno and (i.positions.col_offset, i.positions.end_col_offset) != (0, 0)]
    if not spans:
        return None
    start = min((p.lineno, p.col_offset) for p in spans)
    end = max((p.end_lineno, p.end_col_offset) for p in spans)
    lines = linecache.getlines(fn.__code__.co_filename)[start[0] - 1:end[0]]
    if not lines:
        return None
    lines[-1] = lines[-1][:end[1]]
    lines[0] = lines[0][start[1]:]
    return " ".join(line.strip() for line in lines)
