#!/usr/bin/env python3
"""Load an HTML page from disk in headless Chromium and report whether every image loaded, every
interactive figure was drawn, and the page logged no errors. Standard library only.

The page carries a self-check (analysis/ssldyn/page.py) that, once its figures are drawn, writes
into #page-check the number of images, those that did not decode, the interactive figures and
those that plotly.js did not draw, and the script errors and console.error calls it saw;
Chromium prints the DOM (--dump-dom) and its own log on stderr, which is scanned for console
messages and uncaught exceptions from the page as well. With a probe, a copy of the page runs
probe.js too (a hover and a filter, as a reader would do them) and its answer is read back.

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


PROBE = pathlib.Path(__file__).with_name("probe.js")


def check(page, chromium=None, timeout=60, probe=None):
    """{'images', 'broken', 'figures', 'undrawn', 'errors', 'problems'}: problems empty when the
    page is clean. probe: a request to probe.js (hover a figure, filter a sweep), whose answer
    is returned as 'probe' (None if it gave none)."""
    chromium = chromium or find_chromium()
    if chromium is None:
        raise FileNotFoundError("no chromium on PATH (set SSLDYN_CHROMIUM)")
    page = pathlib.Path(page).resolve()
    if probe is not None:  # a copy beside the page (its files by the same relative paths)
        with open(page, encoding="utf-8") as f:
            text = f.read()
        script = (f"<script>window.SSLDYN_PROBE = {json.dumps(probe)};</script>"
                  f"<script>{PROBE.read_text(encoding='utf-8')}</script>")
        page = page.with_name(f".probe-{os.getpid()}-{page.name}")
        page.write_text(text.replace("</body>", script + "</body>"), encoding="utf-8")
    url = page.as_uri()  # percent-encoded, as chromium logs it
    try:
        with tempfile.TemporaryDirectory(prefix="ssldyn-chromium-") as profile:
            out = subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", url],
                                 capture_output=True, text=True, timeout=timeout,
                                 env=dict(os.environ, HOME=profile))
    finally:
        if probe is not None:
            page.unlink()
    problems = []
    if out.returncode != 0:
        problems.append(f"chromium exited with {out.returncode}")
    found = re.search(r'<pre id="page-check"[^>]*data-state="loaded"[^>]*>(.*?)</pre>',
                      out.stdout, re.S)
    if not found:
        problems.append("the page's self-check did not run (no loaded #page-check in the DOM)")
        state = {"images": 0, "broken": [], "figures": 0, "undrawn": [], "errors": []}
    else:
        state = json.loads(html.unescape(found.group(1)))
    if state["broken"]:
        problems.append("images that did not load: " + ", ".join(state["broken"]))
    if state["undrawn"]:
        problems.append("interactive figures not drawn: " + ", ".join(state["undrawn"]))
    answers = re.findall(r'<pre id="probe-result">(.*?)</pre>', out.stdout, re.S)
    state["probe"] = json.loads(html.unescape(answers[-1])) if answers else None
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
