"""Per-op overhead of nn against PyTorch CPU and hand-written NumPy, on small tensors.

Each case is one forward and backward pass, typed once per library: the same NumPy inputs, float32.
Runs of nn, torch and NumPy are interleaved (one repeat of each in turn), so a slow moment of the
machine hits all three alike; the table gives the median over the repeats, in microseconds per call,
and the ratios. Everything runs on one thread: NumPy's BLAS and torch alike.

    python bench/ops.py
"""
import os

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"  # before NumPy loads its BLAS

import platform
import statistics
import sys
import timeit

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import nn  # noqa: E402  (the checkout's nn, after the thread settings)

torch.set_num_threads(1)
REPEATS = 15           # interleaved repeats per case and library
SECONDS_PER_REPEAT = 0.01


# --- the cases: (name, shapes, code for nn and torch, hand-written NumPy) ---------------------------
def leaves(lib, arrays):
    return [lib.tensor(a, requires_grad=True) for a in arrays]


def library_case(body):
    "A call of `body(lib, *tensors)`, then backward, with fresh gradients each time."
    def make(lib, arrays, index):
        tensors = leaves(lib, arrays)
        index = lib.tensor(index)

        def call():
            for t in tensors:
                t.grad = None
            body(lib, index, *tensors).backward()
        return call
    return make


def numpy_case(forward_backward):
    def make(arrays, index):
        return lambda: forward_backward(index, *arrays)
    return make


def mul_numpy(index, x, y):
    out = (x * y).sum()
    g = np.ones_like(out)
    return out, g * y, g * x


def exp_numpy(index, x):
    e = np.exp(x)
    return e.sum(), e


def mean_numpy(index, x):
    out = x.mean(-1).sum()
    return out, np.full_like(x, 1.0 / x.shape[-1])


def index_numpy(index, x):
    out = x[index].sum()
    grad = np.zeros_like(x)
    np.add.at(grad, index, np.ones_like(x[index]))
    return out, grad


def matmul_numpy(index, a, b):
    out = a @ b
    g = np.ones_like(out)
    if a.ndim == 1:
        return out.sum(), g * b, g * a
    return out.sum(), g @ b.T, a.T @ g


CASES = [
    ("(x * y).sum()", 2, library_case(lambda lib, i, x, y: (x * y).sum()), numpy_case(mul_numpy)),
    ("x.exp().sum()", 1, library_case(lambda lib, i, x: x.exp().sum()), numpy_case(exp_numpy)),
    ("x.mean(-1).sum()", 1, library_case(lambda lib, i, x: x.mean(-1).sum()), numpy_case(mean_numpy)),
    ("x[idx].sum()", 1, library_case(lambda lib, i, x: x[i].sum()), numpy_case(index_numpy)),
    ("(a @ b).sum()", 2, library_case(lambda lib, i, a, b: (a @ b).sum()), numpy_case(matmul_numpy)),
]
SIZES = [(8,), (64, 64)]


# --- timing ----------------------------------------------------------------------------------------
def calls_per_repeat(call):
    "How many calls take about SECONDS_PER_REPEAT (after a warm-up call)."
    call()
    number, elapsed = timeit.Timer(call).autorange()
    return max(1, round(number * SECONDS_PER_REPEAT / elapsed))


def median_microseconds(calls):
    "Median microseconds per call of each of `calls`, timed in interleaved repeats."
    numbers = [calls_per_repeat(call) for call in calls]
    timers = [timeit.Timer(call) for call in calls]
    times = [[] for _ in calls]
    for _ in range(REPEATS):
        for timer, number, samples in zip(timers, numbers, times):
            samples.append(timer.timeit(number) / number)
    return [statistics.median(samples) * 1e6 for samples in times]


def machine():
    processor = platform.processor() or platform.machine()
    return (f"{platform.system()} {processor}, {os.cpu_count()} CPUs; Python {platform.python_version()}, "
            f"NumPy {np.__version__}, torch {torch.__version__}, nn {nn.__version__}\n"
            f"threads: 1 for both (torch.set_num_threads(1); OMP/OPENBLAS/MKL_NUM_THREADS=1 for NumPy's BLAS); "
            f"float32; forward + backward per call; median of {REPEATS} interleaved repeats")


def main():
    print(machine())
    print()
    columns = ("torch us", "nn us", "numpy us", "nn/torch", "nn/numpy")
    header = f"{'op (+ backward)':<18} {'shape':<9}" + "".join(f" {c:>9}" for c in columns)
    print(header)
    print("-" * len(header))
    rng = np.random.default_rng(0)
    for name, count, library_call, numpy_call in CASES:
        for shape in SIZES:
            arrays = [rng.standard_normal(shape).astype(np.float32) for _ in range(count)]
            index = rng.integers(0, shape[0], size=shape[0])
            calls = [library_call(torch, arrays, index), library_call(nn, arrays, index), numpy_call(arrays, index)]
            torch_us, nn_us, numpy_us = median_microseconds(calls)
            print(f"{name:<18} {str(shape):<9} {torch_us:>9.1f} {nn_us:>9.1f} {numpy_us:>9.1f} "
                  f"{nn_us / torch_us:>9.2f} {nn_us / numpy_us:>9.2f}")
    print()
    print("Ratios from one run on one machine; the numpy column computes the same forward and gradients by hand.")


if __name__ == "__main__":
    main()
