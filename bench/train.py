"""One training step of an MLP in nn, in PyTorch (CPU, eager) and in hand-written NumPy.

A step is what a training loop repeats: forward pass, cross-entropy loss, backward pass, optimizer
step (SGD with momentum 0.9, lr 0.01). The four workloads go from overhead-bound to BLAS-bound:

    (a) digits MLP 64-128-10, batch 64       (b) the same, batch 1
    (c) MLP 64-512-512-10, batch 256         (d) MLP 1024-2048-2048-10, batch 512

All three candidates start from the same weights (drawn once with NumPy and copied into each) and
see the same batches of random float32 data; before timing, one step of each is checked to give the
same weights, so the benchmark compares the same computation. The NumPy candidate is the floor: the
same arithmetic written out by hand, with no autograd bookkeeping at all. Runs are interleaved (one
repeat of each candidate in turn, each after a short untimed settling run) and the table reports the
median time per step; each candidate then runs briefly alone, and a warning says when its interleaved
time differs from that. NumPy's BLAS keeps its own thread count and torch is given the same one. The
script also times the phases of a step on the small workloads and profiles nn on workload (a).

    python bench/train.py               # about three minutes; writes results-train.json, profile-train.txt
    python bench/train.py --quick       # a short run; prints the tables, writes nothing
    python bench/train.py --threads 1   # BLAS and torch on one thread (needs threadpoolctl)

Nothing here is a test, and no test asserts a timing.
"""
import argparse
import collections
import cProfile
import io
import json
import os
import platform
import pstats
import statistics
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
import nn  # noqa: E402  (the checkout's nn)

LR, MOMENTUM = 0.01, 0.9
SETTLE_SECONDS = 0.15         # untimed steps before each timed repeat (see median_seconds)
ALONE_REPEATS = 3             # repeats of each library alone, after the interleaved ones, as a check
INTERFERENCE = 0.25           # warn when a library's interleaved time is this far from its time alone
BATCHES_PER_WORKLOAD = 4      # distinct batches, used in turn
WORKLOADS = [                 # (key, name, layer sizes, batch size)
    ("a", "digits MLP, batch 64", (64, 128, 10), 64),
    ("b", "digits MLP, batch 1", (64, 128, 10), 1),
    ("c", "MLP, batch 256", (64, 512, 512, 10), 256),
    ("d", "BLAS-bound MLP, batch 512", (1024, 2048, 2048, 10), 512),
]
PHASES = ("zero_grad", "forward", "loss", "backward", "update")
Trainer = collections.namedtuple("Trainer", ["step", "weights", "phased_step"])
AIMS = {  # the project's targets, reported and never asserted: (text, largest nn/torch, largest nn/numpy)
    "a": ("nn faster than torch, within 1.6x of numpy", 1.0, 1.6),
    "b": ("nn faster than torch, within 1.6x of numpy", 1.0, 1.6),
    "c": ("nn within 1.1x of numpy", None, 1.1),
    "d": ("nn within 1.1x of numpy", None, 1.1),
}


# --- the machine ----------------------------------------------------------------------------------
def blas_threads():
    "The number of threads NumPy's BLAS uses, and how it was found."
    try:
        from threadpoolctl import threadpool_info
        counts = [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
        if counts:
            return max(counts), "threadpoolctl"
    except ImportError:
        pass
    for variable in ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS"):
        if os.environ.get(variable, "").isdigit():
            return int(os.environ[variable]), variable
    return os.cpu_count(), "assumed: one per CPU"


def machine(threads, source):
    "A description of where the benchmark ran."
    return {
        "platform": platform.platform(terse=True),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "nn": nn.__version__,
        "blas_threads": threads,
        "blas_threads_from": source,
        "torch_threads": torch.get_num_threads(),
    }


def busy_seconds():
    "(CPU seconds all processes spent busy, CPU seconds this process used), on Linux; else None."
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except OSError:
        return None
    idle = fields[3] + fields[4]                     # idle and iowait
    ticks = os.sysconf("SC_CLK_TCK")
    return (sum(fields[:8]) - idle) / ticks, sum(os.times()[:2])


def others_share(start, end, wall_seconds):
    "The fraction of the machine's CPU time that other processes used between two busy_seconds() readings."
    if start is None or end is None:
        return None
    others = (end[0] - start[0]) - (end[1] - start[1])
    return max(0.0, others / (wall_seconds * os.cpu_count()))


# --- data and initial weights, made once with NumPy -----------------------------------------------
def initial_weights(sizes, rng):
    "[(W, b), ...] with W of shape (out, in), drawn like torch.nn.Linear's: U(-1/sqrt(in), 1/sqrt(in))."
    weights = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(n_in)
        weights.append((rng.uniform(-bound, bound, (n_out, n_in)).astype(np.float32),
                        rng.uniform(-bound, bound, n_out).astype(np.float32)))
    return weights


def random_batches(sizes, batch_size, rng):
    "[(x, y), ...]: standard normal inputs and uniformly random class labels."
    return [(rng.standard_normal((batch_size, sizes[0])).astype(np.float32),
             rng.integers(0, sizes[-1], batch_size)) for _ in range(BATCHES_PER_WORKLOAD)]


# --- candidate 1 and 2: nn and torch, the same code ------------------------------------------------
def library_trainer(lib, weights, batches):
    "A Trainer: step(i) does one training step of `lib` on batch i; phased_step(i) also times its PHASES."
    layers = torch.nn if lib is torch else nn
    modules = []
    for W, _ in weights:
        modules += [layers.Linear(W.shape[1], W.shape[0]), layers.ReLU()]
    model = layers.Sequential(*modules[:-1])
    state = {}
    for i, (W, b) in enumerate(weights):
        state[f"{2 * i}.weight"], state[f"{2 * i}.bias"] = W, b
    model.load_state_dict({name: lib.tensor(value) for name, value in state.items()})
    optimizer = lib.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    cross_entropy = layers.functional.cross_entropy
    data = [(lib.tensor(x), lib.tensor(y)) for x, y in batches]

    def step(i):
        x, y = data[i % len(data)]
        optimizer.zero_grad()
        loss = cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        return loss

    def phased_step(i):
        x, y = data[i % len(data)]
        t0 = time.perf_counter()
        optimizer.zero_grad()
        t1 = time.perf_counter()
        logits = model(x)
        t2 = time.perf_counter()
        loss = cross_entropy(logits, y)
        t3 = time.perf_counter()
        loss.backward()
        t4 = time.perf_counter()
        optimizer.step()
        return np.diff([t0, t1, t2, t3, t4, time.perf_counter()])

    def current_weights():
        return [p.detach().numpy().copy() for p in model.parameters()]
    return Trainer(step, current_weights, phased_step)


# --- candidate 3: NumPy by hand, the floor ----------------------------------------------------------
def numpy_forward(weights, x):
    "Activations of every layer: inputs, then ReLU(h W^T + b) for hidden layers, then the logits."
    activations = [x]
    for i, (W, b) in enumerate(weights):
        z = activations[-1] @ W.T + b
        activations.append(z if i == len(weights) - 1 else np.maximum(z, 0))
    return activations


def softmax_cross_entropy(logits, y):
    "The mean cross-entropy loss and its gradient with respect to the logits, (softmax - onehot) / N."
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    sums = exp.sum(axis=1, keepdims=True)
    rows = np.arange(len(y))
    loss = np.mean(np.log(sums[:, 0]) - shifted[rows, y])
    grad = exp / sums
    grad[rows, y] -= 1
    grad /= len(y)
    return loss, grad


def numpy_backward(weights, activations, grad):
    "Gradients [(dW, db), ...] from the gradient of the logits, through the linear layers and ReLUs."
    grads = []
    for i in range(len(weights) - 1, -1, -1):
        W, h = weights[i][0], activations[i]
        grads.append((grad.T @ h, grad.sum(axis=0)))
        if i > 0:
            grad = grad @ W
            grad *= h > 0            # ReLU passes the gradient where its output was positive
    return grads[::-1]


def sgd_momentum(weights, grads, buffers):
    "In place: buffer = momentum * buffer + g (buffer = g at the first step), weight -= lr * buffer."
    for (W, b), (dW, db), buffer in zip(weights, grads, buffers):
        for param, g, key in ((W, dW, "W"), (b, db, "b")):
            if key not in buffer:
                buffer[key] = g.copy()
            else:
                buffer[key] *= MOMENTUM
                buffer[key] += g
            param -= LR * buffer[key]


def numpy_trainer(weights, batches):
    "Like library_trainer, for the hand-written NumPy step (which has no gradients to zero)."
    weights = [(W.copy(), b.copy()) for W, b in weights]
    buffers = [{} for _ in weights]

    def step(i):
        x, y = batches[i % len(batches)]
        activations = numpy_forward(weights, x)
        loss, grad = softmax_cross_entropy(activations[-1], y)
        sgd_momentum(weights, numpy_backward(weights, activations, grad), buffers)
        return loss

    def phased_step(i):
        x, y = batches[i % len(batches)]
        t1 = time.perf_counter()
        activations = numpy_forward(weights, x)
        t2 = time.perf_counter()
        loss, grad = softmax_cross_entropy(activations[-1], y)
        t3 = time.perf_counter()
        grads = numpy_backward(weights, activations, grad)
        t4 = time.perf_counter()
        sgd_momentum(weights, grads, buffers)
        return np.diff([t1, t1, t2, t3, t4, time.perf_counter()])

    def current_weights():
        return [array.copy() for pair in weights for array in pair]
    return Trainer(step, current_weights, phased_step)


# --- timing ----------------------------------------------------------------------------------------
def make_trainers(sizes, batch_size, seed=0):
    "The three trainers, from the same weights and batches, in the order torch, nn, numpy."
    rng = np.random.default_rng(seed)
    weights = initial_weights(sizes, rng)
    batches = random_batches(sizes, batch_size, rng)
    return [library_trainer(torch, weights, batches), library_trainer(nn, weights, batches),
            numpy_trainer(weights, batches)]


def check_same_step(trainers):
    "After one step from the same weights, all three trainers must hold the same weights (float32 tolerance)."
    losses = [trainer.step(0).item() for trainer in trainers]
    np.testing.assert_allclose(losses, losses[0], rtol=1e-5)
    reference = trainers[0].weights()
    for trainer in trainers[1:]:
        for ours, theirs in zip(trainer.weights(), reference):
            np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6)


def run_steps(step, first, number):
    "Run `number` steps starting at batch `first`; return the time they took and the last loss."
    start = time.perf_counter()
    for i in range(first, first + number):
        loss = step(i)
    return time.perf_counter() - start, loss


def median_seconds(steps, repeats, seconds_per_repeat):
    """Median seconds per step of each of `steps`, from interleaved repeats of about seconds_per_repeat each.

    Before each timed repeat a candidate runs untimed for SETTLE_SECONDS. NumPy's BLAS and torch keep
    their own thread pools, whose idle threads spin for a while after each call before they sleep: on
    a machine with few cores, the previous candidate's spinning threads would slow the next one down.
    Settling lets them go to sleep and warms up the candidate's own threads, so that each repeat
    measures a library running the way it runs alone.
    """
    numbers = []
    for step in steps:                          # warm up, then choose the number of steps per repeat
        elapsed, _ = run_steps(step, 0, 3)
        numbers.append(max(1, round(seconds_per_repeat / (elapsed / 3))))
    samples = [[] for _ in steps]
    for _ in range(repeats):
        for step, number, times in zip(steps, numbers, samples):
            settle = max(1, round(number * SETTLE_SECONDS / seconds_per_repeat))
            run_steps(step, 0, settle)
            elapsed, loss = run_steps(step, settle, number)
            times.append(elapsed / number)
        assert np.isfinite(loss.item()), "training diverged: timings of nan arithmetic mean nothing"
    return [statistics.median(times) for times in samples]


def median_phases(trainer, steps):
    "Median microseconds of each of PHASES over `steps` steps, after settling (see median_seconds)."
    settle_until = time.perf_counter() + SETTLE_SECONDS
    i = 0
    while time.perf_counter() < settle_until:
        trainer.step(i)
        i += 1
    times = np.array([trainer.phased_step(i + k) for k in range(steps)])
    return dict(zip(PHASES, np.round(np.median(times, axis=0) * 1e6, 1).tolist()))


def run_phases(steps):
    "Per-phase medians of torch, nn and numpy on the overhead-bound workloads (a) and (b)."
    phases = []
    for key, name, sizes, batch_size in WORKLOADS[:2]:
        trainers = make_trainers(sizes, batch_size)
        phases.append({"workload": key, **{lib: median_phases(trainer, steps)
                                           for lib, trainer in zip(("torch", "nn", "numpy"), trainers)}})
    return phases


def phase_table(phases):
    "Per-phase medians as a small text table."
    lines = [f"{'':<10}" + "".join(f"{phase:>10}" for phase in PHASES)]
    for entry in phases:
        for lib in ("torch", "nn", "numpy"):
            lines.append(f"({entry['workload']}) {lib:<6}" + "".join(f"{entry[lib][p]:>10.1f}" for p in PHASES))
    return "\n".join(lines)


def interference(interleaved, alone):
    "Libraries whose interleaved median differs by more than INTERFERENCE from their time alone."
    return [lib for lib, both, single in zip(("torch", "nn", "numpy"), interleaved, alone)
            if abs(both / single - 1) > INTERFERENCE]


def run_workloads(repeats, seconds_per_repeat):
    "Check and time every workload; one result dict per workload."
    results = []
    for key, name, sizes, batch_size in WORKLOADS:
        trainers = make_trainers(sizes, batch_size)
        check_same_step(trainers)
        steps = [trainer.step for trainer in trainers]
        torch_s, nn_s, numpy_s = median_seconds(steps, repeats, seconds_per_repeat)
        alone = [median_seconds([step], ALONE_REPEATS, seconds_per_repeat)[0] for step in steps]
        aim, most_vs_torch, most_vs_numpy = AIMS[key]
        met = (most_vs_torch is None or nn_s / torch_s < most_vs_torch) and nn_s / numpy_s < most_vs_numpy
        results.append({"workload": key, "name": name, "layers": "-".join(map(str, sizes)),
                        "batch": batch_size, "torch_us": round(torch_s * 1e6, 1), "nn_us": round(nn_s * 1e6, 1),
                        "numpy_us": round(numpy_s * 1e6, 1), "nn/torch": round(nn_s / torch_s, 3),
                        "nn/numpy": round(nn_s / numpy_s, 3),
                        "alone_us": {lib: round(s * 1e6, 1) for lib, s in zip(("torch", "nn", "numpy"), alone)},
                        "interference": interference((torch_s, nn_s, numpy_s), alone),
                        "aim": aim, "aim_met": met})
        print(f"  ({key}) done", file=sys.stderr)
    return results


# --- reporting -------------------------------------------------------------------------------------
def format_time(us):
    "Microseconds below 10 ms, else milliseconds."
    return f"{us:,.0f} us" if us < 10_000 else f"{us / 1000:,.1f} ms"


def table(results):
    "The results as a small text table."
    header = f"{'workload':<32} {'layers':<20} {'batch':>5} {'torch':>10} {'nn':>10} {'numpy':>10} " \
             f"{'nn/torch':>8} {'nn/numpy':>8}  aim"
    lines = [header, "-" * len(header)]
    for r in results:
        lines.append(f"({r['workload']}) {r['name']:<28} {r['layers']:<20} {r['batch']:>5} "
                     f"{format_time(r['torch_us']):>10} {format_time(r['nn_us']):>10} "
                     f"{format_time(r['numpy_us']):>10} {r['nn/torch']:>8.2f} {r['nn/numpy']:>8.2f}  "
                     f"{'met' if r['aim_met'] else 'missed'}: {r['aim']}")
    return "\n".join(lines)


def describe(info, settings):
    "The machine and settings, in two lines."
    return (f"{info['platform']}, {info['processor']}, {info['cpus']} CPUs; Python {info['python']}, "
            f"NumPy {info['numpy']}, torch {info['torch']}, nn {info['nn']}\n"
            f"BLAS threads: {info['blas_threads']} (from {info['blas_threads_from']}), "
            f"torch.set_num_threads({info['torch_threads']}); {settings}")


# --- where nn's time goes ---------------------------------------------------------------------------
def qualified_name(module_name, lineno, function):
    "`Class.method` for a method of a class in the imported module `module_name` defined at `lineno`."
    module = sys.modules.get(module_name)
    for owner in vars(module).values() if module else ():
        for name, value in vars(owner).items() if isinstance(owner, type) and owner.__module__ == module_name else ():
            code = getattr(getattr(value, "fget", value), "__code__", None)
            if code is not None and code.co_firstlineno == lineno and code.co_name == function:
                return f"{owner.__name__}.{name}" + (" (property)" if isinstance(value, property) else "")
    return function


def short_name(filename, lineno, function):
    "module:function without absolute paths (nn.engine:_propagate, nn.modules:Linear.forward, numpy...)."
    if filename == "~":
        return function                             # a C function: "<method 'dot' of ...>"
    path = filename.replace(os.sep, "/")
    for marker in ("/nn/", "/numpy/", "/torch/"):
        if marker in path:
            module = marker.strip("/") + "." + path.split(marker, 1)[1]
            break
    else:
        module = os.path.basename(path)
    module = module.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    return f"{module}:{qualified_name(module, lineno, function)}"


def profiled(step, steps, warm_up, top):
    "cProfile of `steps` calls step(i) after `warm_up` unprofiled ones: the Stats and its top rows by own time."
    for i in range(warm_up):
        step(i)
    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(steps):
        step(i)
    profiler.disable()
    stats = pstats.Stats(profiler, stream=io.StringIO())
    return stats, sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:top]


def profile_nn_step(steps=200, top=15):
    "Profile `steps` nn training steps on workload (a); a short text of the top functions by own time."
    _, _, sizes, batch_size = WORKLOADS[0]
    stats, rows = profiled(make_trainers(sizes, batch_size)[1].step, steps, 20, top)
    total = stats.total_tt
    lines = [f"cProfile of {steps} nn training steps on workload (a), {'-'.join(map(str, sizes))}, batch {batch_size},",
             f"SGD with momentum: {total / steps * 1e6:,.0f} us per step under the profiler (which slows Python",
             "calls down, so read the shares, not the absolute times). Top functions by own time (tottime):",
             "",
             f"{'calls/step':>10} {'own us/step':>11} {'own %':>6} {'incl. us/step':>13}  function",
             "-" * 80]
    for (filename, line, function), (_, calls, own, inclusive, _) in rows:
        lines.append(f"{calls / steps:>10.0f} {own / steps * 1e6:>11.1f} {100 * own / total:>5.1f}% "
                     f"{inclusive / steps * 1e6:>13.1f}  {short_name(filename, line, function)}")
    by_inclusive = sorted(stats.stats.items(), key=lambda item: item[1][3], reverse=True)
    lines += ["", "Largest inclusive times (cumtime) among nn's own functions:", ""]
    shown = [(key, value) for key, value in by_inclusive if "/nn/" in key[0].replace(os.sep, "/")][:top]
    for (filename, line, function), (_, calls, own, inclusive, _) in shown:
        lines.append(f"{calls / steps:>10.0f} {inclusive / steps * 1e6:>11.1f} us/step "
                     f"{100 * inclusive / total:>5.1f}%  {short_name(filename, line, function)}")
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run that prints the table and writes nothing")
    parser.add_argument("--threads", type=int, help="BLAS and torch threads (default: NumPy's BLAS default)")
    args = parser.parse_args()
    if args.threads:
        from threadpoolctl import threadpool_limits
        limits = threadpool_limits(args.threads, user_api="blas")  # noqa: F841  (in force while it lives)
    threads, source = blas_threads()
    torch.set_num_threads(threads)
    repeats, seconds_per_repeat = (3, 0.02) if args.quick else (15, 0.1)
    settings = (f"float32; SGD(lr={LR}, momentum={MOMENTUM}); cross-entropy; median of {repeats} interleaved "
                f"repeats, each after {SETTLE_SECONDS} s of untimed steps")
    info = machine(threads, source)
    print(describe(info, settings), "\n")
    busy, start = busy_seconds(), time.perf_counter()
    results = run_workloads(repeats, seconds_per_repeat)
    phases = run_phases(200 if args.quick else 2000)
    share = others_share(busy, busy_seconds(), time.perf_counter() - start)
    info["other_processes_cpu_share"] = None if share is None else round(share, 3)
    print(table(results))
    for r in results:
        if r["interference"]:
            print(f"({r['workload']}) warning: {', '.join(r['interference'])} ran more than {INTERFERENCE:.0%} "
                  f"slower or faster interleaved than alone ({r['alone_us']} us alone): the libraries' thread "
                  "pools got in each other's way; rerun, or try --threads 1")
    if share is not None:
        print(f"\nOther processes used {100 * share:.0f}% of the machine's CPU time during the run"
              + (": a busy machine, the timings are unreliable (rerun when it is idle)." if share > 0.05 else "."))
    print("\nThe same step in each column; numpy is the hand-written floor without autograd.")
    print("\nMedian microseconds per phase of a step (numpy has no gradients to zero):")
    print(phase_table(phases))
    if args.quick:
        return
    with open(os.path.join(HERE, "results-train.json"), "w") as out:
        json.dump({"machine": info, "settings": settings, "results": results, "phases": phases}, out, indent=1)
        out.write("\n")
    profile = profile_nn_step()
    with open(os.path.join(HERE, "profile-train.txt"), "w") as out:
        out.write(profile)
    print("\n" + profile)


if __name__ == "__main__":
    main()
