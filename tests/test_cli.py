"""The ``labkit clear-cache`` command: what it removes, that it says so, and what it refuses.

Every test works in a fresh temporary cache without the linked converted models (the ``cache`` fixture's
link would let a removal reach the shared models folder).
"""

from pathlib import Path

import pytest
import torch

from labkit import models
from labkit.cli import main


@pytest.fixture()
def filled(tmp_path, monkeypatch):
    """A labkit cache holding a converted generator in two dtypes, an index and an adapter (fake files)."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("LABKIT_CACHE", str(folder))
    for dtype in (torch.float32, torch.bfloat16):
        models.generator_cache_path(dtype).mkdir(parents=True)
        (models.generator_cache_path(dtype) / "model.safetensors").write_bytes(b"\0" * 2**20)
    for kind in ("index", "ft"):
        (folder / kind / "0123").mkdir(parents=True)
        (folder / kind / "0123" / "data.bin").write_bytes(b"\0" * 3 * 2**20)
    return folder


def test_clear_cache_removes_the_converted_generator_and_names_each_folder(filled, capsys):
    assert main(["clear-cache"]) == 0
    out = capsys.readouterr().out
    for dtype in (torch.float32, torch.bfloat16):
        assert not models.generator_cache_path(dtype).exists()
        assert f"removed {models.generator_cache_path(dtype)} (1 MB)" in out
    assert (filled / "index" / "0123").exists() and (filled / "ft" / "0123").exists()  # the rest stays
    assert main(["clear-cache"]) == 0 and "nothing to remove" in capsys.readouterr().out


def test_clear_cache_all_removes_the_whole_cache_and_says_how_much(filled, capsys):
    assert main(["clear-cache", "--all"]) == 0
    assert capsys.readouterr().out.strip() == f"removed {filled} (8 MB)"  # 2 x 1 MB models + 2 x 3 MB
    assert not filled.exists()


@pytest.mark.parametrize("where", ["home", "work folder"])
def test_clear_cache_all_refuses_a_folder_that_is_more_than_a_cache(filled, monkeypatch, capsys, where):
    if where == "home":
        monkeypatch.setattr(Path, "home", lambda: filled)
    else:
        monkeypatch.chdir(filled / "index")
    assert main(["clear-cache", "--all"]) == 2
    assert "refusing to remove" in capsys.readouterr().err and (filled / "ft" / "0123").exists()
