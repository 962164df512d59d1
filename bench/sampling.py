"""How long nn's random factories take next to torch's, and next to NumPy's own sampler.

    python bench/sampling.py > bench/results-sampling.txt     # about half a minute

nn draws torch's numbers (chapter "Random numbers"): mt19937 words from NumPy's engine, turned
into floats, normals, integers and permutations by NumPy array operations, except the
permutation's swaps, which are a Python loop (each swap depends on the ones before it).
NumPy's own `Generator` (PCG64, its own algorithms) is the floor for vectorized sampling.
Runs are interleaved, one thread; the table reports median milliseconds and ratios.
"""
import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402

import nn  # noqa: E402

torch.set_num_threads(1)
N = 1_000_000
numpy_rng = np.random.default_rng(0)
CASES = {
    "rand(1e6) float32": (lambda: nn.rand(N), lambda: torch.rand(N),
                          lambda: numpy_rng.random(N, dtype=np.float32)),
    "randn(1e6) float32": (lambda: nn.randn(N), lambda: torch.randn(N),
                           lambda: numpy_rng.standard_normal(N, dtype=np.float32)),
    "randn(1e6) float64": (lambda: nn.randn(N, dtype=nn.float64),
                           lambda: torch.randn(N, dtype=torch.float64),
                           lambda: numpy_rng.standard_normal(N)),
    "randint(0, 10, 1e6)": (lambda: nn.randint(0, 10, (N,)),
                            lambda: torch.randint(0, 10, (N,)),
                            lambda: numpy_rng.integers(0, 10, N)),
    "randperm(1e5)": (lambda: nn.randperm(100_000), lambda: torch.randperm(100_000),
                      lambda: numpy_rng.permutation(100_000)),
    "Linear(1024, 1024)": (lambda: nn.Linear(1024, 1024),
                           lambda: torch.nn.Linear(1024, 1024),
                           lambda: numpy_rng.uniform(-1, 1, (1024, 1024))),
}


def median_ms(function, repeats=7):
    "Median wall time of one call, in milliseconds."
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def main():
    print(f"{'case':<22}{'nn ms':>9}{'torch ms':>10}{'numpy ms':>10}"
          f"{'nn/torch':>10}{'nn/numpy':>10}")
    for name, (ours, theirs, floor) in CASES.items():
        runs = {key: [] for key in ("nn", "torch", "numpy")}
        for _ in range(3):  # interleaved
            for key, function in zip(runs, (ours, theirs, floor)):
                runs[key].append(median_ms(function))
        nn_ms, torch_ms, numpy_ms = (statistics.median(v) for v in runs.values())
        print(f"{name:<22}{nn_ms:>9.2f}{torch_ms:>10.2f}{numpy_ms:>10.2f}"
              f"{nn_ms / torch_ms:>10.1f}{nn_ms / numpy_ms:>10.1f}")


if __name__ == "__main__":
    main()
