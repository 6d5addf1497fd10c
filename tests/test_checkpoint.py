"""Atomic writes: a file or folder is replaced so that the old or the new version is always readable."""

import os
import shutil

import pytest

import labkit as lk


def folder_with(path, text):
    path.mkdir(parents=True)
    (path / "weights.txt").write_text(text)
    return path


def read(path):
    return (path / "weights.txt").read_text()


class Crash(Exception):
    """Stands for a process killed mid-write."""


def failing(real, fail_from: int):
    """``real`` that raises ``Crash`` on its ``fail_from``-th call and every call after (no cleanup step runs)."""
    calls = []

    def wrapped(*args, **kwargs):
        calls.append(args)
        if len(calls) >= fail_from:
            raise Crash(f"call {len(calls)}")
        return real(*args, **kwargs)

    return wrapped


def test_write_atomic_replaces_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "records.json"
    lk.checkpoint.write_atomic(path, "old")
    lk.checkpoint.write_atomic(path, "new")
    assert path.read_text() == "new"
    monkeypatch.setattr(os, "replace", failing(os.replace, 1))
    with pytest.raises(Crash):
        lk.checkpoint.write_atomic(path, "newer")
    assert path.read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["records.json"]


@pytest.mark.parametrize("step", ["aside", "in"])
def test_a_failed_folder_replace_keeps_the_old_version(tmp_path, monkeypatch, step):
    target = folder_with(tmp_path / "model", "old")
    monkeypatch.setattr(os, "replace", failing(os.replace, {"aside": 1, "in": 2}[step]))
    with pytest.raises(Crash):
        with lk.checkpoint.atomic_dir(target) as tmp:
            (tmp / "weights.txt").write_text("new")
    monkeypatch.undo()
    # "in" failed after the old folder was renamed aside, and so did putting it back: a crash's state
    assert target.exists() == (step == "aside")
    assert read(lk.checkpoint.recover(target)) == "old"  # what every later write and every cache lookup runs first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model", "model.tmp"]  # the next write clears .tmp


def test_a_failure_after_the_renames_keeps_the_new_version(tmp_path, monkeypatch):
    target = folder_with(tmp_path / "model", "old")
    monkeypatch.setattr(shutil, "rmtree", failing(shutil.rmtree, 2))  # 1: the stale .tmp; 2: the old folder
    with pytest.raises(Crash):
        with lk.checkpoint.atomic_dir(target) as tmp:
            (tmp / "weights.txt").write_text("new")
    monkeypatch.undo()
    assert read(target) == "new" and (tmp_path / "model.old").exists()
    assert read(lk.checkpoint.recover(target)) == "new" and not (tmp_path / "model.old").exists()


def test_the_next_write_and_the_cache_lookup_recover_a_crashed_replace(tmp_path, monkeypatch):
    monkeypatch.setenv("LABKIT_CACHE", str(tmp_path))
    target = lk.artifact_dir("index", {"k": 1})
    shutil.rmtree(target)
    folder_with(target.with_name(target.name + ".old"), "old")  # a crash between the two renames
    assert read(lk.artifact_dir("index", {"k": 1})) == "old"  # not an empty folder hiding the old one
    shutil.move(target, target.with_name(target.name + ".old"))  # the same crash, then a new write
    with lk.checkpoint.atomic_dir(target) as tmp:
        (tmp / "weights.txt").write_text("new")
    assert read(target) == "new" and sorted(p.name for p in target.parent.iterdir()) == [target.name]
