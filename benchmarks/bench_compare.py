"""How ``labkit compare`` scales with the folder (not a test): wall time, peak memory and time per stage.

    python benchmarks/bench_compare.py [--words 10000 20000 40000] [--out build/bench_compare]

A folder of real documentation is what a team would bring; this machine has one offline: the long
descriptions (READMEs, Markdown) of the Python packages installed in this environment, one ``.md`` file per
package, taken in name order (labkit's own left out) until the folder holds the requested number of words
(counted as ``labkit compare`` reads them), skipping a package that would overshoot it by more than 10%. The
folders are nested: every package in the 10k one is in the 20k one.

Each size runs ``python -m labkit compare --docs FOLDER --quiet`` in a fresh process, under ``/usr/bin/time -v``
(peak resident memory), with a fresh stage folder and a fresh labkit cache that holds only the converted
models (a new user's cache after ``make setup``: nothing trained on these folders yet), so every stage runs.
With ``--cache DIR`` the sizes share one labkit cache instead (a further folder on a machine that already ran
one: the reader's decline bias, chosen once on the workbook's questions, is reused). Prints a markdown table
and writes ``results.json`` in ``--out``. Introduced in 06_your_own_documents.ipynb.
"""

from __future__ import annotations

import argparse
import email
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from labkit.env import cache_dir
from labkit.gen_qa import generate_qa
from labkit.ingest import load_folder
from labkit.own_docs import CompareConfig


def package_docs() -> list[tuple[str, str]]:
    """(package, Markdown long description) for every installed distribution that ships one, by name."""
    from importlib.metadata import distributions

    found = {}
    for dist in distributions():
        meta = dist.metadata
        name = meta["Name"]
        if name is None or name.lower() == "labkit" or "markdown" not in (meta["Description-Content-Type"] or ""):
            continue
        body = meta.get_payload() if isinstance(meta, email.message.Message) else None
        body = body or meta["Description"] or ""
        if len(body.split()) >= 200:  # a paragraph or two is a stub, not documentation
            found[name.lower()] = body
    return sorted(found.items())


def make_folder(docs: list[tuple[str, str]], words: int, folder: Path) -> int:
    """Write packages' descriptions into ``folder`` until it holds ``words`` words as labkit reads them."""
    folder.mkdir(parents=True)
    n = 0
    for name, body in docs:
        path = folder / f"{re.sub(r'[^a-z0-9]+', '-', name)}.md"
        path.write_text(body, encoding="utf-8")
        now = sum(len(d.text.split()) for d in load_folder(folder).docs)
        if now > 1.1 * words:  # too big a step: the next package may fit
            path.unlink()
            continue
        n = now
        if n >= words:
            return n
    raise SystemExit(f"only {n} words of package documentation installed; ask for fewer than {words}")


def run_compare(folder: Path, work: Path, models: Path, cache: Path | None = None) -> dict:
    """One ``labkit compare`` in a fresh process, every stage run: wall time, peak RSS, the stages' own times
    and peaks. ``cache``: a labkit cache to use (and keep) instead of a fresh one."""
    work.mkdir(parents=True)  # the report's folder: labkit compare makes no new folders for --out
    cache = cache or work / "cache"
    if not (cache / "models").exists():
        (cache / "models").parent.mkdir(parents=True, exist_ok=True)
        (cache / "models").symlink_to(models)  # the converted generator only: what make setup leaves
    env = {**os.environ, "LABKIT_CACHE": str(cache)}
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "labkit", "compare", "--docs", str(folder), "--quiet",
           "--work-dir", str(work / "stages"), "--out", str(work / "report.html")]  # fmt: skip
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"labkit compare failed on {folder}:\n{proc.stderr[-3000:]}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    done = sorted((work / "stages").glob("*.json"), key=os.path.getmtime)  # in the order the stages ran
    stored = {p.stem: json.loads(p.read_text()) for p in done}
    stages = {k: round(v["seconds"], 1) for k, v in stored.items()}
    peaks = {k: v.get("peak_mb") for k, v in stored.items()}  # the process's peak by each stage's end
    made = len(generate_qa(load_folder(folder).docs, n=CompareConfig(str(folder)).n_generated))  # as the run does
    return {"wall_s": round(wall, 1), "peak_rss_mb": int(rss.group(1)) // 1024, "stages_s": stages,
            "stage_peak_mb": peaks, "generated": made, "test_questions": len(stored["base"]["value"])}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--words", nargs="+", type=int, default=[10_000, 20_000, 40_000])
    ap.add_argument("--out", default="build/bench_compare", help="folders, stages and results.json go here")
    ap.add_argument(
        "--cache",
        help="a labkit cache every size shares (kept): what an earlier run or notebook 06 "
        "left there is reused (the reader's decline bias); default: a fresh one each",
    )
    args = ap.parse_args()
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    models = cache_dir() / "models"
    if not models.exists():
        raise SystemExit(f"{models} missing: run `make setup` first")
    docs, rows = package_docs(), []
    for words in sorted(args.words):
        folder = out / f"docs-{words // 1000}k"
        n_words = make_folder(docs, words, folder)
        row = {"words": n_words, "documents": len(list(folder.iterdir())),
               "dtype": os.environ.get("LABKIT_DTYPE", "auto")}  # fmt: skip
        row |= run_compare(folder, out / f"run-{words // 1000}k", models, Path(args.cache) if args.cache else None)
        rows.append(row)
        print(json.dumps(row), flush=True)
    (out / "results.json").write_text(json.dumps(rows, indent=1))
    print("\n| words | documents | wall s | peak RSS MB | stages: s (peak MB by its end) |\n|---|---|---|---|---|")
    for r in rows:
        stages = ", ".join(f"{k} {v:.0f} ({r['stage_peak_mb'][k]})" for k, v in r["stages_s"].items())
        print(f"| {r['words']:,} | {r['documents']} | {r['wall_s']:.0f} | {r['peak_rss_mb']:,} | {stages} |")


if __name__ == "__main__":
    main()
