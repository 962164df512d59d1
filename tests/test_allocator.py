"""nn keeps freed memory for reuse (glibc's malloc), unless told not to: see the chapter "Performance"."""
import os
import subprocess
import sys

import pytest

import nn

PASSES = """
import resource
import nn
x = nn.randn(16, 64, 512, requires_grad=True)
for _ in range(3):
    nn.functional.gelu(x).sum().backward()
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(20):
    nn.functional.gelu(x).sum().backward()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults)
"""


def page_faults(**environment):
    "Minor page faults of 20 GELU passes on a 2 MiB tensor, in a fresh process."
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "NN_KEEP"))}
    clean.pop("GLIBC_TUNABLES", None)
    result = subprocess.run([sys.executable, "-c", PASSES], env={**clean, **environment},
                            capture_output=True, text=True, check=True)
    return int(result.stdout)


@pytest.mark.skipif(not nn.allocator._glibc(), reason="tunes glibc's malloc only")
def test_kept_memory_removes_the_page_faults_of_a_training_loop():
    default, kept = page_faults(NN_KEEP_FREED_MEMORY="0"), page_faults()
    assert kept < default / 10, (kept, default)


@pytest.mark.skipif(not nn.allocator._glibc(), reason="tunes glibc's malloc only")
def test_the_environments_own_malloc_settings_are_left_alone():
    assert page_faults(MALLOC_TOP_PAD_="131072") > 10 * page_faults()


def test_declining_and_tuned_environments(monkeypatch):
    monkeypatch.setenv("NN_KEEP_FREED_MEMORY", "0")
    assert nn.allocator.keep_freed_memory() is False
    monkeypatch.delenv("NN_KEEP_FREED_MEMORY")
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "131072")
    assert nn.allocator._malloc_tuned() and nn.allocator.keep_freed_memory() is False
    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_")
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=131072")
    assert nn.allocator._malloc_tuned()
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.rtld.optional_static_tls=512")
    assert not nn.allocator._malloc_tuned()
