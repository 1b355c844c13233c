#!/usr/bin/env python3
"""Load an HTML page from disk in headless Chromium and report whether every image loaded and
the page logged no errors. Standard library only.

The page carries a self-check (analysis/ssldyn/page.py) that, after the load event, writes into
#page-check the number of images, those that did not decode, and the script errors and
console.error calls it saw; Chromium prints the DOM (--dump-dom) and its own log on stderr,
which is scanned for console messages and uncaught exceptions from the page as well.

    python3 tests/browser/check_page.py PAGE.html     exit 0 clean, 1 problems, 77 no chromium
"""

import html
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-extensions",
         "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", "--dump-dom")
CONSOLE = re.compile(r'CONSOLE[:(]\d+\)?\]\s*"(.*)", source: (\S+)')


def find_chromium():
    """The browser named by $SSLDYN_CHROMIUM, or the first of CANDIDATES on PATH."""
    configured = os.environ.get("SSLDYN_CHROMIUM")
    if configured:
        return configured if shutil.which(configured) else None
    for name in CANDIDATES:
        if shutil.which(name):
            return shutil.which(name)
    return None


def check(page, chromium=None, timeout=60):
    """{'images', 'broken', 'errors', 'problems'}: problems empty when the page is clean."""
    chromium = chromium or find_chromium()
    if chromium is None:
        raise FileNotFoundError("no chromium on PATH (set SSLDYN_CHROMIUM)")
    url = pathlib.Path(page).resolve().as_uri()  # percent-encoded, as chromium logs it
    with tempfile.TemporaryDirectory(prefix="ssldyn-chromium-") as profile:
        out = subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", url],
                             capture_output=True, text=True, timeout=timeout,
                             env=dict(os.environ, HOME=profile))
    problems = []
    if out.returncode != 0:
        problems.append(f"chromium exited with {out.returncode}")
    found = re.search(r'<pre id="page-check"[^>]*data-state="loaded"[^>]*>(.*?)</pre>',
                      out.stdout, re.S)
    if not found:
        problems.append("the page's self-check did not run (no loaded #page-check in the DOM)")
        state = {"images": 0, "broken": [], "errors": []}
    else:
        state = json.loads(html.unescape(found.group(1)))
    if state["broken"]:
        problems.append("images that did not load: " + ", ".join(state["broken"]))
    problems += [f"page error: {e}" for e in state["errors"]]
    for line in out.stderr.splitlines():
        console = CONSOLE.search(line)
        if console and console.group(2).startswith(url):
            problems.append(f"console: {console.group(1)}")
        elif "Uncaught" in line:
            problems.append(f"chromium log: {line.strip()}")
    state["problems"] = problems
    return state


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    try:
        state = check(argv[1])
    except FileNotFoundError as e:
        print(f"check_page: {e}", file=sys.stderr)
        return 77
    print(json.dumps(state, indent=1))
    return 1 if state["problems"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
