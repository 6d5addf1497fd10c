"""Memory: peak RSS, glibc heap slack, oneDNN kernel cache, free_memory."""

import os
from pathlib import Path

import pytest

import labkit as lk


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux: VmHWM and VmRSS")
def test_peak_rss_rises_by_a_touched_buffer_and_stays_after_it_is_freed():
    """In a fresh process (pytest's own peak would hide a rise): writing 256 MB raises the measured peak by
    about 256 MB, and freeing them lowers the resident memory but not the peak (a high-water mark)."""
    import subprocess
    import sys

    code = (
        "from labkit.memory import peak_rss_mb\n"
        "def rss():\n"
        "    return int(next(l for l in open('/proc/self/status') if l.startswith('VmRSS')).split()[1]) / 1024\n"
        "before = peak_rss_mb()\n"
        "buf = bytearray(b'x') * (256 << 20)  # written, so every page is resident\n"
        "during = peak_rss_mb()\n"
        "del buf\n"
        "print(before, during, peak_rss_mb(), rss())\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    before, during, after, rss_after = map(float, out.split())
    assert 256 - 4 < during - before < 256 + 4  # MB of 2**20 bytes (not kB, nor 10**6 bytes: 268)
    assert after == pytest.approx(during, abs=1) and rss_after < after - 200  # the peak, not the current RSS


def _subprocess_rss_growth(env_value: str) -> tuple[bool, float]:
    """(applied, MB of RSS kept) after freeing 64 buffers of 8 MB with live 256 KB blocks between them."""
    import subprocess
    import sys

    code = (
        "import ctypes, os, labkit as lk\n"
        "applied = lk.memory.limit_heap_slack()\n"
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
        "print(applied, rss() - before)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "LABKIT_MMAP_THRESHOLD_MB": env_value},
    ).stdout.split()
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
    assert lk.memory.limit_kernel_cache(128) == (preset is None)
    assert os.environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] == (preset or "128")


def test_free_memory_reports_the_rss_after_collecting():
    import psutil

    junk = [bytearray(4 << 20) for _ in range(16)]  # 64 MB of Python objects
    del junk
    after = lk.free_memory()
    assert abs(after - psutil.Process().memory_info().rss / 2**20) < 32  # MB: the RSS it measured, now
