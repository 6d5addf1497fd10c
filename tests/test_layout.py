"""The README's layout table is true: every labkit module once, in the order they load, each with its tests."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "labkit"
ROW = re.compile(r"^\| `(\w+)\.py` \[([^\]]+)\] \|", re.M)
# Modules tested through another module's entry point: (the test file, the entry point it calls).
TESTED_BY = {
    "own_docs": ("test_compare.py", "compare_documents"),
    "own_docs_report": ("test_compare.py", "write_report"),
    "decide_measures": ("test_decide.py", "recommend"),  # the guide's intervals, through the guide
    "retrieval_eval": ("test_retrieval.py", "retrieval_metrics"),  # recall@k, MRR, latency, the threshold
    "trainlog": ("test_finetune.py", "finetune"),  # TrainLog's counts, resumed after a crash, through the loop
}


def table() -> list[str]:
    return [m for m, _ in ROW.findall((ROOT / "README.md").read_text(encoding="utf-8"))]


def modules() -> list[str]:
    return sorted(p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("_"))


def loads_at_import(module: str) -> set[str]:
    """The labkit modules ``module`` imports at module level (a function's own imports load later)."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    out = set()
    for node in tree.body:  # top-level statements only
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            out |= {node.module.split(".")[0]} if node.module else {a.name for a in node.names}
    return out & set(modules())


def test_every_module_is_in_the_table_once():
    rows = table()
    assert sorted(rows) == modules(), f"README layout table vs labkit/: {set(rows) ^ set(modules())}"
    assert len(rows) == len(set(rows))


def test_the_table_is_in_load_order():
    pos = {m: i for i, m in enumerate(table())}
    for m in table():
        later = sorted(d for d in loads_at_import(m) if pos[d] > pos[m])
        assert not later, f"README layout: {m}.py imports {later} at load time: list them above it"


@pytest.mark.parametrize("module", modules())
def test_every_module_has_its_tests(module):
    name, entry = TESTED_BY.get(module, (f"test_{module}.py", None))
    path = ROOT / "tests" / name
    assert path.exists(), f"labkit/{module}.py has no {path.name}"
    if entry:  # the other file calls the entry point that runs this module's code
        assert re.search(rf"\b{entry}\(", path.read_text(encoding="utf-8")), f"{name} never calls {entry}()"


def test_the_load_order_check_reads_top_level_imports_only(tmp_path, monkeypatch):
    pkg = tmp_path / "labkit"
    pkg.mkdir()
    (pkg / "a.py").write_text("from .b import x\n\ndef f():\n    from .c import y\n")
    (pkg / "b.py").write_text("")
    (pkg / "c.py").write_text("")
    monkeypatch.setattr(__import__(__name__), "PACKAGE", pkg)
    assert loads_at_import("a") == {"b"}
