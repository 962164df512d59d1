"""`t[index] = value` over random shapes and every kind of index part, against PyTorch.

An index is drawn part by part from left to right: ints (negative too), slices (with steps),
None, one Ellipsis, boolean masks over one or more dims, integer arrays (lists or tensors),
0-d integer tensors, in any mix. The value is a number, a 0-d tensor, or a tensor of the
selected shape or of a shape that broadcasts to it. torch decides what the index means: nn
must leave the same values (and count the same versions), or refuse with torch's exception
type and change nothing. With autograd, the gradients of the changed non-leaf's source and of
the value must be torch's.
"""
import numpy as np
import torch
from hypothesis import given, settings, strategies as st

import nn
from outcomes import Raised, attempt, compare
from twin import numpy

deterministic = settings(max_examples=150, deadline=None, derandomize=True, database=None)
shapes = st.lists(st.integers(1, 4), min_size=1, max_size=4).map(tuple)


@st.composite
def index_parts(draw, shape):
    "A list of index part specs for a tensor of `shape` (each rebuilt per library)."
    parts, dim, ellipsis_used = [], 0, False
    count = draw(st.integers(1, len(shape) + 1))
    length = draw(st.integers(1, 3))  # of every integer array: they broadcast together
    for _ in range(count):
        left = len(shape) - dim
        kinds = ["none"] + (["ellipsis"] if not ellipsis_used else [])
        if left:
            kinds += ["int", "slice", "mask", "ints", "int0d"]
        kind = draw(st.sampled_from(kinds))
        if kind == "none":
            parts.append(("none",))
        elif kind == "ellipsis":
            ellipsis_used = True
            parts.append(("ellipsis",))
            dim += draw(st.integers(0, left))  # the dims it stands for (parts after decide)
        elif kind in ("int", "int0d"):
            parts.append((kind, draw(st.integers(-shape[dim], shape[dim] - 1))))
            dim += 1
        elif kind == "slice":
            n = shape[dim]
            bound = st.none() | st.integers(-n - 1, n + 1)
            parts.append(("slice", draw(bound), draw(bound), draw(st.sampled_from([None, 1, 2, 3]))))
            dim += 1
        elif kind == "mask":
            covered = draw(st.integers(1, left))
            mask_shape = shape[dim:dim + covered]
            mask = np.asarray(draw(st.lists(st.booleans(), min_size=int(np.prod(mask_shape)),
                                            max_size=int(np.prod(mask_shape))))).reshape(mask_shape)
            # torch reads a nested list of bools as a sequence of indices: masks of more
            # than one dim are written as tensors
            parts.append(("mask", mask, covered > 1 or draw(st.booleans())))
            dim += covered
        else:  # distinct positions, so that no element is written twice
            n = shape[dim]
            values = draw(st.permutations(range(-n, 0) if draw(st.booleans()) else range(n)))
            picked = np.asarray(values[:min(length, n)])
            parts.append(("ints", picked, draw(st.sampled_from(["list", "tensor"]))))
            dim += 1
    return parts


def build_index(lib, parts):
    "The index the specs describe, as `lib` code would write it."
    built = []
    for part in parts:
        kind = part[0]
        if kind == "none":
            built.append(None)
        elif kind == "ellipsis":
            built.append(Ellipsis)
        elif kind == "int":
            built.append(part[1])
        elif kind == "int0d":
            built.append(lib.tensor(part[1]))
        elif kind == "slice":
            built.append(slice(*part[1:]))
        elif kind == "mask":
            built.append(lib.tensor(part[1]) if part[2] else part[1].tolist())
        else:
            built.append(lib.tensor(part[1]) if part[2] == "tensor" else part[1].tolist())
    return tuple(built)


@st.composite
def values(draw, selected_shape, dtype):
    "A value spec: a number, a 0-d tensor, or an array broadcasting to `selected_shape`."
    kind = draw(st.sampled_from(["number", "0d", "full", "broadcast"]))
    if kind == "number":
        return ("number", draw(st.sampled_from([-2, 7, 0.5, -1.25, True])))
    if kind == "0d":
        return ("tensor", np.asarray(draw(st.floats(-5, 5, width=32)), dtype=dtype))
    shape = tuple(selected_shape)
    if kind == "broadcast":
        shape = shape[draw(st.integers(0, len(shape))):]
        shape = tuple(1 if draw(st.booleans()) else n for n in shape)
    seed = draw(st.integers(0, 2**32 - 1))
    return ("tensor", np.random.default_rng(seed).standard_normal(shape).astype(dtype))


def build_value(lib, spec):
    return spec[1] if spec[0] == "number" else lib.tensor(spec[1])


def selected_shape(shape, parts, dtype):
    "What torch selects with the index (None if torch refuses to read it)."
    x = torch.zeros(shape, dtype=dtype)
    result = attempt(lambda: x[build_index(torch, parts)])
    return None if isinstance(result, Raised) else tuple(result.shape)


@st.composite
def assignments(draw, dtype=np.float32):
    "(shape, index parts, value spec) with the value fitting what torch selects."
    shape = draw(shapes)
    parts = draw(index_parts(shape))
    selected = selected_shape(shape, parts, getattr(torch, np.dtype(dtype).name))
    return shape, parts, draw(values(selected if selected is not None else (), dtype))


def assign(lib, shape, parts, value, dtype):
    "A tensor of `shape`, then `x[index] = value`: (x, its version, the outcome)."
    x = lib.arange(float(np.prod(shape)), dtype=getattr(lib, dtype)).reshape(shape)
    before = numpy(x), x._version
    outcome = attempt(lambda: x.__setitem__(build_index(lib, parts), build_value(lib, value)))
    return x, before, outcome


def check_assignment(shape, parts, value, dtype, versions):
    expected, _, torch_outcome = assign(torch, shape, parts, value, dtype)
    actual, before, nn_outcome = assign(nn, shape, parts, value, dtype)
    compare(torch_outcome, nn_outcome, "outcome")
    if isinstance(nn_outcome, Raised):
        assert np.array_equal(numpy(actual), before[0]) and actual._version == before[1], (
            "nn changed the tensor, then raised")
    elif versions:
        assert actual._version == expected._version, "version"
    else:
        compare(expected, actual, "tensor after the assignment")


@deterministic
@given(assignments())
def test_setitem_values_match_torch(assignment):
    check_assignment(*assignment, "float32", versions=False)


@deterministic
@given(assignments())
def test_setitem_counts_versions_as_torch(assignment):
    check_assignment(*assignment, "float32", versions=True)


@deterministic
@given(assignments(dtype=np.int64))
def test_setitem_into_integer_tensors_matches_torch(assignment):
    shape, parts, value = assignment
    if value[0] == "number":
        value = ("number", int(value[1]))
    check_assignment(shape, parts, value, "int64", versions=False)


@deterministic
@given(assignments(dtype=np.float64), st.booleans(), st.integers(0, 2**32 - 1))
def test_setitem_gradients_match_torch(assignment, constant, seed):
    "The value requires grad, or is a constant (then the overwritten elements get no gradient)."
    shape, parts, value = assignment
    rng = np.random.default_rng(seed)
    source, weights = rng.standard_normal(shape), rng.standard_normal(shape)

    def gradients(lib):
        x0 = lib.tensor(source, requires_grad=True)
        w = lib.tensor(value[1] if value[0] == "tensor" else np.float64(value[1]),
                       dtype=lib.float64, requires_grad=True)
        y = x0 * 1
        assigned = build_value(lib, value) if constant else w * 2
        outcome = attempt(lambda: y.__setitem__(build_index(lib, parts), assigned))
        if isinstance(outcome, Raised):
            return outcome
        (y * y * lib.tensor(weights)).sum().backward()
        return y, x0.grad, None if constant else w.grad

    expected, actual = attempt(lambda: gradients(torch)), attempt(lambda: gradients(nn))
    compare(expected, actual)
