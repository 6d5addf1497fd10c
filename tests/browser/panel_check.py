"""The comparison panel in JupyterLab, in a real browser (headless Chromium driven by Playwright).

What it checks, end to end, with the real models:
  1. JupyterLab opens notebook 04's own cells up to its panel (base, RAG, two fine-tunes and hybrid, built by
     the workbook's recipes: from the artifact cache when the notebooks ran before, else trained first);
  2. the ipywidgets panel renders (dropdown, text box, v1/v2 toggle, the whole "Ask all 5 systems" label);
  3. typing a question that contains ``<script>`` and clicking the button shows five answers, one per
     system, and that text literally, with no script element created and no dialog opened (model output
     and typed text are HTML-escaped);
  4. a screenshot is saved for the record.

Run: ``python tests/browser/panel_check.py [--screenshot PATH]`` (needs ``pip install playwright`` and a
Chromium: Debian ``apt install chromium``; no browser download). ``tests/test_side_by_side.py`` runs it
when both are present and skips otherwise.

Introduced in 04_side_by_side.ipynb (its panel).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
TYPED = "Who is <script>window.__xss = 1</script> Tessavik's CEO?"

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "04_side_by_side.ipynb"
SYSTEMS = ["base", "rag", "ft", "ft (documents)", "hybrid"]


def panel_cells(notebook: Path = NOTEBOOK) -> list[str]:
    """The notebook's code cells, in order, up to and including the one that displays the panel."""
    import nbformat as nbf

    cells = [c.source for c in nbf.read(notebook, as_version=4).cells if c.cell_type == "code"]
    last = next((i for i, src in enumerate(cells) if "lk.Panel(" in src and src.rstrip().endswith("panel")), None)
    if last is None:
        raise ValueError(f"{notebook}: no code cell builds and displays lk.Panel(...) as its last line")
    return cells[: last + 1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write_notebook(folder: Path) -> Path:
    import nbformat as nbf

    nb = nbf.v4.new_notebook(
        cells=[nbf.v4.new_code_cell(c) for c in panel_cells()],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )
    path = folder / "panel.ipynb"
    nbf.write(nb, path)
    return path


def _start_lab(folder: Path, port: int) -> subprocess.Popen:
    cmd = [
        sys.executable,
        "-m",
        "jupyter",
        "lab",
        "--no-browser",
        f"--port={port}",
        "--ip=127.0.0.1",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        f"--ServerApp.root_dir={folder}",
        "--ServerApp.disable_check_xsrf=True",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for _ in range(120):  # up to 60 s
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=1)
            return proc
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited: {proc.stderr.read()[-2000:]}") from None
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("JupyterLab did not answer within 60 s")


def check(screenshot: Path | None = None, timeout_s: float = 900) -> dict:
    """Drive the panel in JupyterLab; return what was observed (raises AssertionError on a failure)."""
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="panel-check-"))
    _write_notebook(folder)
    port = _free_port()
    lab = _start_lab(folder, port)
    seen: dict = {"dialogs": []}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                ],
            )
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
            page.goto(f"http://127.0.0.1:{port}/lab/tree/panel.ipynb", timeout=60_000)
            page.wait_for_selector(".jp-Notebook", timeout=60_000)
            select = page.locator(".jp-Dialog button", has_text="Select")  # "Select Kernel" on first open
            try:
                select.first.click(timeout=15_000)
            except Exception:  # no dialog: the kernel started by itself
                pass
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=90_000)
            # Run > Run All Cells, as a learner would.
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            try:
                page.wait_for_selector(".widget-button", timeout=timeout_s * 1000)  # the panel rendered
            except Exception:
                if screenshot:
                    page.screenshot(path=str(screenshot.with_suffix(".fail.png")), full_page=True)
                raise AssertionError(
                    "the panel did not render; notebook text:\n" + page.locator(".jp-Notebook").inner_text()[-3000:]
                ) from None
            seen["widgets"] = {
                "dropdown": page.locator(".widget-dropdown select").count(),
                "text": page.locator(".widget-text input").count(),
                "toggle_buttons": page.locator(".widget-toggle-button").count(),
                "button": page.locator(".widget-button").inner_text(),
            }
            # The notebook's own panel.run() shows a first question's table; wait for it, then ask ours.
            page.locator(".widget-html-content table").first.wait_for(timeout=timeout_s * 1000)
            page.fill(".widget-text input", TYPED)
            page.click(".widget-button")
            page.wait_for_function(
                "t => [...document.querySelectorAll('.widget-html-content')].some(e => e.innerText.includes(t))",
                arg="window.__xss = 1",
                timeout=timeout_s * 1000,
            )
            rows = page.locator(".widget-html-content table tr").all()[1:]  # the header row first
            seen["systems"] = [r.locator("td").first.inner_text().strip() for r in rows]
            seen["answers"] = [r.locator("td").nth(1).inner_text().strip() for r in rows]
            seen["results_text"] = page.locator(".widget-html-content").inner_text()
            seen["xss_ran"] = page.evaluate("window.__xss === 1")
            seen["script_elements_in_results"] = page.locator(".widget-html-content script").count()
            if screenshot:
                page.screenshot(path=str(screenshot), full_page=True)
            browser.close()
    finally:
        lab.terminate()
        try:
            lab.wait(timeout=20)
        except subprocess.TimeoutExpired:
            lab.kill()
        shutil.rmtree(folder, ignore_errors=True)
    w = seen["widgets"]
    assert w["dropdown"] == 1 and w["text"] == 1 and w["toggle_buttons"] == 2, w
    assert w["button"].strip() == f"Ask all {len(SYSTEMS)} systems", w  # the whole label, not cut off
    assert seen["systems"] == SYSTEMS and len(seen["answers"]) == len(SYSTEMS), seen["systems"]
    assert "<script>window.__xss = 1</script>" in seen["results_text"], seen["results_text"][:500]
    assert not seen["xss_ran"] and seen["script_elements_in_results"] == 0 and not seen["dialogs"], seen
    return seen


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--screenshot", type=Path, default=None)
    args = ap.parse_args()
    result = check(args.screenshot)
    print(json.dumps({k: v for k, v in result.items() if k != "results_text"}, indent=1))
    print(result["results_text"][:1500])
