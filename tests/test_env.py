import os
from pathlib import Path

import numpy as np
import pytest
import torch

import labkit as lk
from labkit import env as lenv


def test_setup_seeds_everything_the_same_way():
    lk.setup(seed=123, device="cpu")
    a = (np.random.rand(3), torch.rand(3))
    lk.setup(seed=123, device="cpu")
    b = (np.random.rand(3), torch.rand(3))
    assert np.array_equal(a[0], b[0]) and torch.equal(a[1], b[1])


@pytest.mark.parametrize("bad", [-1, 1.5, "0"])
def test_setup_rejects_bad_seed(bad):
    with pytest.raises(ValueError, match="seed"):
        lk.setup(seed=bad)


def test_pick_device_prefers_cuda_only_when_present(monkeypatch):
    monkeypatch.delenv("LABKIT_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert lk.pick_device().type == expected
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert lk.pick_device().type == "cuda"
    assert lk.pick_device("cpu").type == "cpu"  # an explicit choice wins


@pytest.mark.parametrize("forced, expected", [("float32", torch.float32), ("bfloat16", torch.bfloat16)])
def test_dtype_override(monkeypatch, forced, expected):
    monkeypatch.setenv("LABKIT_DTYPE", forced)
    lenv.auto_dtype.cache_clear()
    try:
        assert lenv.auto_dtype("cpu") == expected
    finally:
        lenv.auto_dtype.cache_clear()


def test_auto_dtype_falls_back_to_fp32_without_native_bf16(monkeypatch):
    monkeypatch.delenv("LABKIT_DTYPE", raising=False)
    monkeypatch.setattr(lenv, "cpu_has_bf16", lambda: False)
    lenv.auto_dtype.cache_clear()
    try:
        assert lenv.auto_dtype("cpu") == torch.float32
    finally:
        lenv.auto_dtype.cache_clear()


@pytest.mark.parametrize("shape", [None, (64, 32, 8), (8, 256, 64)])
def test_matmul_probe_measures_positive_throughput(shape):
    assert lk.matmul_gflops(torch.float32, n=128, repeats=2, shape=shape) > 0


def test_artifact_dir_is_keyed_by_content(tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path))
    a = lk.artifact_dir("index", {"chunk": 200, "model": "m"})
    assert a == lk.artifact_dir("index", {"model": "m", "chunk": 200})  # key order does not matter
    assert a != lk.artifact_dir("index", {"chunk": 201, "model": "m"})
    assert a.is_dir() and str(a).startswith(str(tmp_path))


def test_peak_rss_is_plausible():
    assert 10 < lk.peak_rss_mb() < 24_000
    assert os.environ["HF_HUB_OFFLINE"] == "1"


def _subprocess_rss_growth(env_value: str) -> tuple[bool, float]:
    """(applied, MB of RSS kept) after freeing 64 buffers of 8 MB with live 256 KB blocks between them."""
    import subprocess
    import sys

    code = (
        "import ctypes, os, labkit as lk\n"
        "applied = lk.env.limit_heap_slack()\n"
        "libc = ctypes.CDLL('libc.so.6'); libc.malloc.restype = ctypes.c_void_p\n"
        "libc.free.argtypes = [ctypes.c_void_p]\n"
        "libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]\n"
        "def rss():\n"
        "    return int(next(l for l in open('/proc/self/status') if l.startswith('VmRSS')).split()[1]) / 1024\n"
        "libc.free(libc.malloc(16 << 20))  # glibc's default then raises its threshold to 16 MB\n"
        "before = rss(); big, small = [], []\n"
        "for _ in range(64):\n"
        "    p = libc.malloc(8 << 20); libc.memset(p, 1, 8 << 20)\n"
        "    big.append(p); small.append(libc.malloc(256 << 10))\n"
        "for p in big: libc.free(p)\n"
        "print(applied, rss() - before)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "LABKIT_MMAP_THRESHOLD_MB": env_value}).stdout.split()
    return out[0] == "True", float(out[1])


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="glibc/Linux only")
def test_limit_heap_slack_returns_freed_buffers_at_once():
    applied, kept = _subprocess_rss_growth("4")  # 8 MB buffers >= 4 MB threshold: each its own mmap
    assert applied and kept < 64  # MB: freeing them gave the 512 MB back
    not_applied, kept_default = _subprocess_rss_growth("0")  # glibc's default: one free of a 16 MB
    assert not not_applied and kept_default > 400  # buffer lifts its threshold; the heap keeps the rest


@pytest.mark.parametrize("preset", [None, "512"])
def test_limit_kernel_cache_sets_a_default_and_keeps_the_users_value(monkeypatch, preset):
    if preset is None:
        monkeypatch.delenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY", raising=False)
    else:
        monkeypatch.setenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY", preset)
    assert lk.limit_kernel_cache(128) == (preset is None)
    assert os.environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] == (preset or "128")
