"""Environment: seeds, device, dtype, the cache folder."""

from types import SimpleNamespace

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
    assert lk.env.pick_device().type == expected
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert lk.env.pick_device().type == "cuda"
    assert lk.env.pick_device("cpu").type == "cpu"  # an explicit choice wins


@pytest.mark.parametrize("forced, expected", [("float32", torch.float32), ("bfloat16", torch.bfloat16)])
def test_dtype_override(monkeypatch, forced, expected):
    monkeypatch.setenv("LABKIT_DTYPE", forced)
    assert lenv.auto_dtype("cpu") == expected


def test_auto_dtype_reads_labkit_dtype_on_every_call(monkeypatch):
    monkeypatch.delenv("LABKIT_DTYPE", raising=False)
    native = lenv.auto_dtype("cpu")  # the hardware probe is cached from here on
    monkeypatch.setenv("LABKIT_DTYPE", "bfloat16")
    assert lenv.auto_dtype("cpu") == torch.bfloat16
    monkeypatch.setenv("LABKIT_DTYPE", "float32")
    assert lenv.auto_dtype("cpu") == torch.float32  # no stale bfloat16 from the call before
    monkeypatch.delenv("LABKIT_DTYPE")
    assert lenv.auto_dtype("cpu") == native


def test_auto_dtype_falls_back_to_fp32_without_native_bf16(monkeypatch):
    monkeypatch.delenv("LABKIT_DTYPE", raising=False)
    monkeypatch.setattr(lenv, "cpu_has_bf16", lambda: False)
    lenv._hardware_dtype.cache_clear()
    try:
        assert lenv.auto_dtype("cpu") == torch.float32
    finally:
        lenv._hardware_dtype.cache_clear()


@pytest.mark.parametrize(
    "shape, flops", [(None, 2 * 128**3), ((64, 32, 8), 2 * 64 * 32 * 8), ((8, 256, 64), 2 * 8 * 256 * 64)]
)
def test_matmul_probe_divides_the_products_flops_by_its_fastest_repeat(monkeypatch, shape, flops):
    """A clock that makes the three timed products take 0.5, 0.25 and 0.75 s: the probe must report the
    analytic 2*m*k*p FLOPs of one product over the best (0.25 s), whatever this CPU's speed."""
    ticks = iter([0.0, 0.5, 10.0, 10.25, 20.0, 20.75])
    monkeypatch.setattr(lenv, "time", SimpleNamespace(perf_counter=lambda: next(ticks)))
    assert lk.matmul_gflops(torch.float32, n=128, repeats=3, shape=shape) == pytest.approx(flops / 0.25 / 1e9)
    assert next(ticks, None) is None  # one reading before and after each repeat; the warm-up is not timed


def test_artifact_dir_is_keyed_by_content(tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path))
    a = lk.artifact_dir("index", {"chunk": 200, "model": "m"})
    assert a == lk.artifact_dir("index", {"model": "m", "chunk": 200})  # key order does not matter
    assert a != lk.artifact_dir("index", {"chunk": 201, "model": "m"})
    assert a.is_dir() and str(a).startswith(str(tmp_path))


def test_the_suite_runs_offline(tmp_path, monkeypatch):
    """No test may reach a model hub. huggingface_hub reads HF_HUB_OFFLINE once, when its constants first
    load, so the variable alone proves nothing: the client itself must be offline (conftest sets it before
    anything loads them), and a download must fail from the local cache without opening a socket."""
    import socket

    import huggingface_hub
    from huggingface_hub.errors import LocalEntryNotFoundError

    assert huggingface_hub.is_offline_mode()
    opened = []

    def connect(sock, address):
        opened.append(address)
        raise OSError("a test tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", connect)
    with pytest.raises(LocalEntryNotFoundError):
        huggingface_hub.hf_hub_download("some-org/some-model", "config.json", cache_dir=tmp_path)
    assert opened == []


def test_code_digest_ignores_docstrings_and_comments_but_not_code(tmp_path):
    src = '"""Module doc."""\n\n\ndef f(x):\n    """Doc."""\n    return x + 1  # why\n'
    (tmp_path / "m.py").write_text(src)
    before = lk.env.code_digest(tmp_path)
    (tmp_path / "m.py").write_text(src.replace("Doc.", "Better doc.").replace("# why", "# because"))
    assert lk.env.code_digest(tmp_path) == before
    (tmp_path / "m.py").write_text(src.replace("x + 1", "x + 2"))
    assert lk.env.code_digest(tmp_path) != before
    (tmp_path / "m.py").write_text(src.replace("return x + 1", 'PROMPT = "Answer."\n    return x + 1'))
    assert lk.env.code_digest(tmp_path) != before  # a string that is not a docstring is code (a prompt)


def write_package(folder, modules: dict):
    """A package folder of small modules (name -> source): the import graph's test bed."""
    folder.mkdir()
    for name, src in modules.items():
        (folder / f"{name}.py").write_text(src)
    return folder


PACKAGE = {
    "__init__": "from .a import *\n__version__ = '1'\n",
    "a": "from .b import f\n",
    "b": "def f():\n    from . import c  # inside a function: runs when f does\n    return c\n",
    "c": "import labkit.d\n",
    "d": "X = 1\n",
    "e": "import typing\n\nif typing.TYPE_CHECKING:\n    from .f import T\nelse:\n    from labkit.d import X\n",
    "f": "T = int\n",
    "g": "from . import __version__\n",
}


def test_module_closure_follows_every_import_that_runs(tmp_path):
    pkg = write_package(tmp_path / "labkit", PACKAGE)
    assert lk.module_closure("a", folder=pkg) == ("a", "b", "c", "d")  # from .x, from . import x, import labkit.x
    assert lk.module_closure("labkit.e", folder=pkg) == ("d", "e")  # a TYPE_CHECKING import never runs
    assert lk.module_closure("g", folder=pkg) == ("__init__", "a", "b", "c", "d", "g")  # __version__: the package
    with pytest.raises(ValueError, match="not a labkit module"):
        lk.module_closure("nope", folder=pkg)


def test_module_digest_changes_only_with_code_in_the_closure(tmp_path):
    pkg = write_package(tmp_path / "labkit", PACKAGE)
    before = lk.module_digest("a", folder=pkg)
    (pkg / "f.py").write_text("T = str\n")  # outside a's closure
    (pkg / "d.py").write_text('"""Now documented."""\nX = 1  # why\n')  # inside, documentation only
    assert lk.module_digest("a", folder=pkg) == before
    (pkg / "d.py").write_text("X = 2\n")  # inside, three imports away
    assert lk.module_digest("a", folder=pkg) != before


def test_labkit_closures_leave_out_plots_reports_costs_and_the_cli():
    harness = lk.module_closure("protocol", "evaluate")
    rag = lk.module_closure("protocol", "evaluate", "rag")
    assert set(harness) < set(rag) and "generate" in harness and "retrieval" in rag
    for unrelated in ("report", "scale", "cost", "prices", "cli", "own_docs_report", "decide", "__init__"):
        assert unrelated not in rag, unrelated
    assert "cli" not in lk.module_closure("finetune") and "own_docs_report" not in lk.module_closure("own_docs")
