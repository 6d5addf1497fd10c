"""The notebooks as files: each .py source and its executed .ipynb agree, and what readers see is clean.

The sources (jupytext percent format) are what contributors edit; the .ipynb files carry the outputs
nbval checks and GitHub shows. These tests need no kernel: nbval executes the notebooks separately.
"""

import json
import re
from pathlib import Path

import jupytext
import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))
MACHINE_PATH = re.compile(r"(/tmp/|/root/|/home/|/work/|/Users/|[A-Z]:\\\\|\.venv/|site-packages)")
STUCK_BAR = re.compile(r"\b0%\|| 0/\d+ \[|it/s\]")  # a tqdm bar frozen in a stored output


def _cells(nb):
    return [(c.cell_type, c.source.strip(), sorted(c.metadata.get("tags", []))) for c in nb.cells]


def _outputs_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append(str(out.get("text", "")))
        for kind, value in out.get("data", {}).items():
            if kind.startswith("text/") or kind == "application/json":
                parts.append(str(value))
    return "\n".join(parts)


def test_there_are_notebooks_and_each_has_a_source():
    assert [p.stem[:2] for p in NOTEBOOKS] == [f"{i:02d}" for i in range(len(NOTEBOOKS))] and len(NOTEBOOKS) >= 5
    for nb in NOTEBOOKS:
        assert nb.with_suffix(".py").exists(), f"{nb.name} has no percent-format source {nb.stem}.py"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_source_and_notebook_are_in_sync(path):
    """Edit the .py, then `make notebook NB=<name>` (jupytext --sync, then execute): this fails otherwise."""
    source = jupytext.read(path.with_suffix(".py"))
    executed = nbformat.read(path, as_version=4)
    assert _cells(source) == _cells(executed), (
        f"{path.stem}.py and {path.name} differ: run `make notebook NB={path.stem}` to rebuild the notebook"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_notebook_names_its_kernel(path):
    """Without a kernelspec, JupyterLab asks the learner to pick a kernel and nbval guesses one."""
    spec = nbformat.read(path, as_version=4).metadata.get("kernelspec", {})
    assert (spec.get("name"), spec.get("language")) == ("python3", "python"), f"{path.name}: kernelspec {spec}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_what_readers_see_is_clean(path):
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[1].source.strip() == "import labkit as lk; env = lk.setup(seed=0)", "one setup line first"
    for i, cell in enumerate(nb.cells):
        where = f"{path.name} cell {i}"
        assert "../shared" not in cell.source and "shared/" not in cell.source, f"{where}: learners have no ../shared"
        assert "NBVAL_" not in cell.source, f"{where}: use nbval cell tags, not comments in the code learners read"
        if cell.cell_type != "code":
            continue
        assert cell.get("execution_count") is not None, f"{where}: not executed (run the whole notebook)"
        text = _outputs_text(cell)
        assert not MACHINE_PATH.search(text), f"{where}: output shows a machine path: {MACHINE_PATH.search(text)}"
        assert not STUCK_BAR.search(text), f"{where}: output holds a progress bar"
        assert not any(o.get("output_type") == "error" for o in cell.get("outputs", [])), f"{where}: error output"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebooks_end_with_exercises_and_a_results_box(path):
    nb = nbformat.read(path, as_version=4)
    text = "\n".join(c.source for c in nb.cells)
    for level in ("**Easy.**", "**Medium.**", "**Hard.**"):
        assert level in text, f"{path.name}: exercises at three levels; {level} is missing"
    assert "lk.results_box(" in nb.cells[-1].source, f"{path.name}: the last cell shows the results box"


def _readme_results():
    """benchmarks/readme_results.py, loaded as a module (benchmarks/ is not a package)."""
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "readme_results.py"
    spec = importlib.util.spec_from_file_location("readme_results", path)
    rr = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(rr)
    return rr


def test_the_readme_results_are_the_committed_notebooks_results():
    """README.md's results section is generated from the notebooks' results boxes: no hand-typed figure."""
    rr = _readme_results()
    readme = (Path(rr.__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert rr.BEGIN in readme and rr.END in readme, "README.md lost its results markers"
    assert rr.with_section(readme) == readme, "README.md's results differ: python benchmarks/readme_results.py"
    boxed = rr.section()
    assert boxed.count("**0") == len(NOTEBOOKS), "one results box per notebook, each titled by its number"


def test_the_readme_results_generator_pivots_shared_measures():
    rr = _readme_results()
    rows = [(f"{m}: {s}", f"{m[0]}{s}") for m in ("accuracy", "latency") for s in "abc"]
    rows += [("claim: x", "holds"), ("claim: y", "n.r."), ("claim: z", "holds"), ("wall time", "9 s")]
    md = rr.as_markdown("99 · run", rows)
    assert "| | a | b | c |" in md and "| accuracy | aa | ab | ac |" in md and "| latency | la | lb | lc |" in md
    assert "* accuracy: a" not in md  # pivoted, not listed twice
    assert "* claim: x: holds" in md and "* wall time: 9 s" in md  # one measure alone is listed, not a table


def test_the_readme_scale_table_comes_from_the_benchmark_file(tmp_path):
    rr = _readme_results()
    row = lambda n, kind, label, tune, ms: {
        "n": n,
        "kind": kind,
        "label": label,
        "knob": "efSearch=64",
        "p50_ms": ms,
        "recall": tune,
        "tune_recall": tune,
        "reached": tune >= 0.95,
        "index_mb": n / 1e3,
        "build_s": 1.0,
        "vectors": "real" if n < 10**6 else "mixed",
    }
    bench = {
        "machine": {"cpu": "Test CPU", "cores": 2, "dtype": "float32"},
        "date": "2026-01-01",
        "real": {
            "passages": 1000,
            "documents": 10,
            "packages": ["a"],
            "embedding": {"seconds": 7200},
            "queries": {"tune": 5, "test": 5},
        },
        "calibration": {
            "chosen_scale": 3.0,
            "chosen_spread": 0.5,
            "chosen": {"lid": 10.0, "max_recall_gap": 0.01, "max_recall_gap_test": 0.015},
            "generator_seeds": [1, 2, 3],
            "real": {"lid": 9.0},
            "gaussian": {"lid": 14.0},
            "gaussian_max_recall_gap": 0.1,
            "met": True,
            "met_test": True,
            "tolerance": {"max_recall_gap": 0.02, "lid_gap": 0.15},
        },
        "indexes": [
            row(1000, "flat", "flat", 1.0, 0.5),
            row(1000, "hnsw", "hnsw", 0.97, 0.1),
            row(10**6, "flat", "flat", 1.0, 90.0),
            row(10**6, "hnsw", "hnsw", 0.9, 2.0),
        ],
    }
    bench["indexes"][-1]["frontier"] = [[16, 0.5, 0.4], [32, 0.7, 0.9], [64, 0.9, 2.0]]  # [efSearch, recall, ms]
    path = tmp_path / "scale.json"
    path.write_text(json.dumps(bench))
    md = rr.scale_section(path)
    assert "Test CPU, 2 cores, float32, 2026-01-01" in md and "in 2.0 h" in md
    assert "| 10^3 | real | 0.50 ms, 1 MB | hnsw (efSearch=64) | 0.10 ms | 0.970 | 1 MB | 1.0 s |" in md
    assert "| 10^6 | mixed | 90.00 ms, 1,000 MB | none |" in md  # 0.9 on the tuning queries: not reached
    assert "tolerance 0.02 and 15%: met" in md
    assert "frontier: hnsw (efSearch=32), recall@10 0.700 at 0.90 ms" in md  # the best under 1 ms, not 0.9 at 2 ms


def test_every_notebook_times_batch_1_latency_on_the_same_questions():
    """01, 04 and 05 time answers one at a time: each on ``lk.latency_probe``, none on a list of its own."""
    timing = {}
    for path in NOTEBOOKS:
        src = jupytext.read(path.with_suffix(".py"))
        code = "\n".join(c.source for c in src.cells if c.cell_type == "code")
        if "lk.latency_batch1(" in code:
            timing[path.stem] = re.findall(r"^probe = (.+?)(?:\s+#.*)?$", code, flags=re.M)
    assert {"01_rag", "04_side_by_side", "05_cost_and_scale"} <= set(timing)
    assert all(found == ["lk.latency_probe(split)"] for found in timing.values()), timing
