"""Binder rehearsal: every notebook on 1 CPU inside a real 2 GB memory limit, in an environment built from binder/.

    python benchmarks/binder.py                 # build build/binder-env from binder/, then run 00 ... last
    python benchmarks/binder.py --reuse-env     # keep an environment built before
    python benchmarks/binder.py 00_setup_and_tour 01_rag

What it does, like repo2docker and mybinder.org:
1. a fresh virtual environment (``build/binder-env``): ``pip install -r binder/requirements.txt`` (CPU torch),
   then ``binder/postBuild`` (labkit, the offline models and their conversion) with that environment first
   on PATH, and an empty labkit cache (``build/binder-cache``) like a fresh image;
2. per notebook, in order: a cgroup v1 memory group with a 2 GB limit on memory *and* swap (Binder's kill),
   a JupyterLab server and ``jupyter nbconvert --execute`` both started inside it through ``binder/start``
   (one torch thread) and ``taskset -c 0`` (one CPU). The server's own memory counts against the limit.
3. a table: wall time; the group's working set at its peak (anonymous memory + mapped files, sampled every
   0.2 s: what it cannot give back without being killed); the group's peak as the limit counts it (that
   plus the page cache, which the kernel reclaims before it kills, so it can reach the limit harmlessly;
   the page cache is emptied before each notebook so its model files are charged to it, as in a fresh
   container); the kernel's own peak RSS (the
   notebook's results box); the peak of the group's processes' RSS summed (server + nbconvert + kernel,
   sampled every 0.2 s; pages they share count once per process, so this overstates); ok / killed.

Needs root and the cgroup v1 memory controller at /sys/fs/cgroup/memory; elsewhere it says so and exits 2.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CGROUP = Path("/sys/fs/cgroup/memory")
ENV, CACHE = ROOT / "build" / "binder-env", ROOT / "build" / "binder-cache"
LIMIT_MB = 2048


def build_env(python: str) -> Path:
    """A fresh environment from binder/ (requirements first, then postBuild), as repo2docker builds it."""
    shutil.rmtree(ENV, ignore_errors=True)
    shutil.rmtree(CACHE, ignore_errors=True)
    subprocess.run([python, "-m", "venv", str(ENV)], check=True)
    pip = [str(ENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "--timeout", "10", "--retries", "1"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "-r", str(ROOT / "binder" / "requirements.txt")], check=True, cwd=ROOT)
    subprocess.run(["bash", str(ROOT / "binder" / "postBuild")], check=True, cwd=ROOT, env=binder_env())
    return ENV


def binder_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "LABKIT_DTYPE")}
    env["PATH"] = f"{ENV / 'bin'}:{env.get('PATH', '')}"
    env["LABKIT_CACHE"] = str(CACHE)
    return env


def make_group(name: str, limit_mb: int) -> Path:
    group = CGROUP / name
    if group.exists():
        group.rmdir()
    group.mkdir()
    limit = str(limit_mb * 2**20)
    (group / "memory.limit_in_bytes").write_text(limit)
    if (group / "memory.memsw.limit_in_bytes").exists():  # no swapping past the limit: killed, like Binder
        (group / "memory.memsw.limit_in_bytes").write_text(limit)
    return group


def in_group(group: Path, cmd: list[str]) -> list[str]:
    """``cmd`` started inside ``group``, on CPU 0, through binder/start (one torch thread)."""
    join = f'echo $$ > {group / "cgroup.procs"} && exec taskset -c 0 "$@"'
    return ["sh", "-c", join, "sh", str(ROOT / "binder" / "start"), *cmd]


def group_rss_mb(group: Path) -> float:
    total = 0
    for pid in (group / "cgroup.procs").read_text().split():
        try:
            with open(f"/proc/{pid}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            pass
    return total / 1024


def group_working_set_mb(group: Path) -> float:
    """Anonymous memory + mapped files of the group: what it cannot give back without being killed."""
    stat = dict(line.split() for line in (group / "memory.stat").read_text().splitlines())
    return (int(stat["total_rss"]) + int(stat["total_mapped_file"])) / 2**20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def drop_page_cache() -> None:
    """Empty the page cache, so the files a notebook reads (model weights) are charged to its group, as in a
    fresh container; pages cached earlier by another group would not count against this one's limit."""
    subprocess.run(["sync"], check=True)
    Path("/proc/sys/vm/drop_caches").write_text("1")


def run_notebook(nb: Path, limit_mb: int, out_dir: Path) -> dict:
    drop_page_cache()
    group = make_group(f"labkit-binder-{nb.stem}", limit_mb)
    env, bin_ = binder_env(), ENV / "bin"
    root_flag = ["--allow-root"] if os.geteuid() == 0 else []
    lab = subprocess.Popen(
        in_group(
            group,
            [
                str(bin_ / "jupyter"),
                "lab",
                "--no-browser",
                f"--port={free_port()}",
                "--ip=127.0.0.1",
                *root_flag,
                f"--ServerApp.root_dir={out_dir}",
            ],
        ),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    time.sleep(5)  # the server starts and settles: its memory is part of the group's from here on
    peak, working, stop = [0.0], [0.0], threading.Event()

    def sample():
        while not stop.is_set():
            peak[0] = max(peak[0], group_rss_mb(group))
            working[0] = max(working[0], group_working_set_mb(group))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out = out_dir / nb.name
    t0 = time.perf_counter()
    proc = subprocess.run(
        in_group(
            group,
            [
                str(bin_ / "jupyter"),
                "nbconvert",
                "--to",
                "notebook",
                "--execute",
                "--ExecutePreprocessor.timeout=3600",
                f"--output={out}",
                str(nb),
            ],
        ),
        env=env,
        capture_output=True,
        text=True,
        cwd=nb.parent,
    )
    wall = time.perf_counter() - t0
    stop.set()
    sampler.join()
    oom = re.search(r"oom_kill (\d+)", (group / "memory.oom_control").read_text())
    hit_limit = (
        int(
            (
                group / "memory.memsw.failcnt"
                if (group / "memory.memsw.failcnt").exists()
                else group / "memory.failcnt"
            ).read_text()
        )
        > 0
    )
    killed = int(oom.group(1)) > 0 if oom else (hit_limit and proc.returncode != 0)
    group_peak = int((group / "memory.max_usage_in_bytes").read_text()) / 2**20
    os.killpg(lab.pid, signal.SIGTERM)
    lab.wait(timeout=30)
    time.sleep(1)
    group.rmdir()
    text = out.read_text() if out.exists() else ""
    kernel = re.findall(r"peak memory \(RSS\)</td><td[^>]*><b>(\d+) MB", text)
    if proc.returncode:
        print(proc.stderr[-2000:], file=sys.stderr)
    return {
        "notebook": nb.stem,
        "wall_s": round(wall),
        "kernel_peak_mb": int(kernel[-1]) if kernel else None,
        "processes_peak_mb": round(peak[0]),
        "group_peak_mb": round(group_peak),
        "working_set_peak_mb": round(working[0]),
        "result": "ok" if proc.returncode == 0 else ("killed (out of memory)" if killed else "failed"),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", help="notebook stems (default: all, in order)")
    ap.add_argument("--reuse-env", action="store_true", help="keep build/binder-env from an earlier run")
    ap.add_argument("--limit-mb", type=int, default=LIMIT_MB)
    ap.add_argument("--python", default=shutil.which("python3.11") or sys.executable)
    args = ap.parse_args()
    if os.name != "posix" or os.geteuid() != 0 or not (CGROUP / "cgroup.procs").exists():
        print("skipped: needs root and the cgroup v1 memory controller at /sys/fs/cgroup/memory", file=sys.stderr)
        return 2
    if not shutil.which("taskset"):
        print("skipped: needs taskset (util-linux) to pin one CPU", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    if not (args.reuse_env and (ENV / "bin" / "jupyter").exists()):
        build_env(args.python)
    print(f"environment from binder/ ready in {time.perf_counter() - t0:.0f} s", flush=True)
    names = args.names or sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    out_dir = ROOT / "build" / "binder-run"
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in names:
        rows.append(run_notebook(ROOT / "notebooks" / f"{name}.ipynb", args.limit_mb, out_dir))
        print(rows[-1], flush=True)
    print(f"\n1 CPU, {args.limit_mb} MB limit (memory + swap), JupyterLab server in the group\n")
    print(
        "| notebook | wall (s) | group working set, peak (MB) | group incl. page cache, peak (MB) "
        "| kernel peak RSS (MB) | processes' RSS summed, peak (MB) | result |"
    )
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['notebook']} | {r['wall_s']} | {r['working_set_peak_mb']} | {r['group_peak_mb']} "
            f"| {r['kernel_peak_mb']} "
            f"| {r['processes_peak_mb']} | {r['result']} |"
        )
    print(f"| all | {sum(r['wall_s'] for r in rows)} | | | | | |")
    return 0 if all(r["result"] == "ok" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
