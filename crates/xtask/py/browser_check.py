"""Open rendered pages in headless Chromium with the network off and check what a reader sees.

    python browser_check.py --chromium PATH --screenshots DIR PAGE.html [PAGE.html ...]

For each page: MathJax finished and typeset the maths (no raw `$...$` left in Markdown, no
MathJax error), every figure and table of the executed notebook (the .ipynb beside the page) is in
the DOM, and no cell shows an error or stderr. Saves a full-page screenshot per page. Prints
one line per problem and exits 1 if there are any.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from html.parser import HTMLParser

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--hide-scrollbars",
    # Network off: every connection goes to a proxy that is not there, no name resolves.
    "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
    "--virtual-time-budget=30000",
]


class Dom(HTMLParser):
    """Collects what the checks need from the DOM after scripts ran."""

    def __init__(self):
        super().__init__()
        self.mathjax_done = False
        self.mjx = 0
        self.mjx_errors = 0
        self.mimes = {}
        self.svg_in_output = 0
        self.markdown_text = []
        self.all_text = []
        self._stack = []  # (tag, in_markdown, skip)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body" and a.get("data-mathjax") == "done":
            self.mathjax_done = True
        if tag == "mjx-container":
            self.mjx += 1
        if tag == "mjx-merror" or (a.get("data-mjx-error")):
            self.mjx_errors += 1
        mime = a.get("data-mime-type")
        if mime:
            self.mimes[mime] = self.mimes.get(mime, 0) + 1
        cls = a.get("class", "") or ""
        parent_md = self._stack[-1][1] if self._stack else False
        parent_skip = self._stack[-1][2] if self._stack else False
        in_md = parent_md or "jp-RenderedMarkdown" in cls
        skip = parent_skip or tag in ("code", "pre", "mjx-container", "script", "style")
        if tag not in ("br", "img", "hr", "meta", "link", "input", "path", "use", "rect", "line", "circle", "polyline", "polygon", "image"):
            self._stack.append((tag, in_md, skip))

    def handle_endtag(self, tag):
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:
                del self._stack[i:]
                break

    def handle_data(self, data):
        if self._stack and not self._stack[-1][2]:
            self.all_text.append(data)
            if self._stack[-1][1]:
                self.markdown_text.append(data)


def expected_outputs(ipynb):
    """How many figures and tables the executed notebook displays, and whether it has maths."""
    with open(ipynb) as f:
        nb = json.load(f)
    figures = tables = 0
    has_math = False
    for c in nb["cells"]:
        src = "".join(c["source"]) if isinstance(c["source"], list) else c["source"]
        if c["cell_type"] == "markdown" and "$" in src:
            has_math = True
        for o in c.get("outputs", []):
            data = o.get("data", {})
            if "image/svg+xml" in data or "image/png" in data:
                figures += 1
            elif "text/html" in data:
                tables += 1
    return figures, tables, has_math


def check(chromium, page, shots):
    problems = []
    url = "file://" + os.path.abspath(page)
    name = os.path.splitext(os.path.basename(page))[0]
    with tempfile.TemporaryDirectory() as profile:
        flags = FLAGS + [f"--user-data-dir={profile}"]
        dom = subprocess.run([chromium, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=180)
        if dom.returncode != 0 or not dom.stdout.strip():
            return [f"{name}: Chromium could not open the page: {dom.stderr.strip()[-300:]}"]
        os.makedirs(shots, exist_ok=True)
        subprocess.run([chromium, *flags, "--window-size=1200,3000", f"--screenshot={os.path.join(shots, name + '.png')}", url],
                       capture_output=True, timeout=180)
    d = Dom()
    d.feed(dom.stdout)
    ipynb = os.path.splitext(page)[0] + ".ipynb"
    if os.path.exists(ipynb):
        figures, tables, has_math = expected_outputs(ipynb)
        text = " ".join(d.markdown_text)
    else:  # a page of ours (the index): any text may hold maths
        text = " ".join(d.all_text)
        figures, tables, has_math = 0, 0, "$" in text or d.mjx > 0
    if has_math:
        if not d.mathjax_done:
            problems.append(f"{name}: MathJax did not finish typesetting")
        if d.mjx == 0:
            problems.append(f"{name}: no maths was typeset")
        if d.mjx_errors:
            problems.append(f"{name}: {d.mjx_errors} maths expressions failed to typeset")
        raw = re.findall(r"\$[^$\s][^$]{0,60}\$", text)
        if raw:
            problems.append(f"{name}: raw LaTeX left in the text, e.g. {raw[0]!r}")
    shown = d.mimes.get("image/svg+xml", 0) + d.mimes.get("image/png", 0)
    if shown != figures:
        problems.append(f"{name}: {shown} figures on the page, {figures} in the notebook")
    if d.mimes.get("text/html", 0) < tables:
        problems.append(f"{name}: {d.mimes.get('text/html', 0)} tables on the page, {tables} in the notebook")
    for bad in ("application/vnd.jupyter.stderr", "application/vnd.jupyter.error"):
        if d.mimes.get(bad):
            problems.append(f"{name}: {d.mimes[bad]} cells show an error ({bad})")
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--chromium", required=True)
    ap.add_argument("--screenshots", required=True)
    ap.add_argument("pages", nargs="+")
    args = ap.parse_args()
    problems = []
    for page in args.pages:
        p = check(args.chromium, page, args.screenshots)
        print(f"browser: {os.path.basename(page)}: " + ("ok" if not p else f"{len(p)} problems"), flush=True)
        problems += p
    for p in problems:
        print(f"  {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
