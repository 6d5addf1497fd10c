"""The ``labkit compare`` report in a real browser (headless Chromium driven by Playwright).

Opens the HTML file from disk with the network cut off and returns what a reader would see: the console
errors and page errors (there must be none), the tables by id with their row counts, whether every image
decoded, and whether any script ran (the report has none; escaped text must stay text).

Run: ``python tests/browser/report_check.py REPORT.html``. ``tests/test_compare.py`` runs it on the
fixture folder's report.

Introduced in 06_your_own_documents.ipynb.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from panel_check import CHROMIUM


def check(report: Path, screenshot: Path | None = None) -> dict:
    from playwright.sync_api import sync_playwright

    errors, requests = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.route("http*://**", lambda route: route.abort())  # nothing may come from the network
            page.goto(Path(report).resolve().as_uri(), wait_until="load")
            seen = page.evaluate(
                """() => ({
                    tables: Object.fromEntries([...document.querySelectorAll('table[id]')]
                        .map(t => [t.id, t.rows.length])),
                    images: [...document.images].map(i => i.complete && i.naturalWidth > 0),
                    scripts: document.scripts.length,
                    title: document.title,
                })"""
            )
            if screenshot:
                page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    seen["errors"] = errors
    seen["remote_requests"] = [u for u in requests if not u.startswith(("file:", "data:"))]
    return seen


if __name__ == "__main__":
    print(json.dumps(check(Path(sys.argv[1])), indent=1))
