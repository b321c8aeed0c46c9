"""Run every notebook headless: as a script (key figures on stdout), then as an HTML report.

    python -m pomodoro_core.report.suite [--only 01] [--out reports] [-- notebook args...]
    python -m pomodoro_core.report.suite serve [--port 8000]      # view reports over HTTP

Reports open offline: marimo's frontend, shipped inside the marimo wheel, is copied
next to them (reports/_marimo/) and the pages point there instead of at a CDN.
Browsers refuse ES modules from file:// pages, so open them through `serve`.
A notebook that fails makes the command exit non-zero and name it, with the
script run's traceback (marimo's export alone prints none).
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

from ..core.params import OneLineParser

ROOT = Path(__file__).resolve().parents[2]


def notebooks(only: list[str] | None = None, folder: Path | None = None) -> list[Path]:
    found = sorted((folder or ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
    if only:
        found = [p for p in found if any(p.name.startswith(o) or p.stem == o for o in only)]
    return found


ENV = {**os.environ, "POMODORO_LENIENT_ARGS": "1"}


def run_script(path: Path, args: list[str], timeout: float = 1800) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(path), *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout, env=ENV)


def export_html(path: Path, out: Path, args: list[str], timeout: float = 1800) -> subprocess.CompletedProcess:
    """A static report: the notebook run once at `args`, controls frozen (POMODORO_REPORT=1: forms count as submitted)."""
    cmd = [sys.executable, "-m", "marimo", "export", "html", str(path), "-o", str(out), "--force", "--no-include-code"]
    if args:
        cmd += ["--", *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=timeout, env=ENV | {"POMODORO_REPORT": "1"})


FRONTEND_DIR = "_marimo"
CDN = re.compile(r"https://cdn\.jsdelivr\.net/npm/@marimo-team/frontend@[^/\"']+/dist/")


def bundle_frontend(out: Path) -> Path:
    """Copy marimo's frontend assets (from the installed wheel) next to the reports, once per version."""
    import marimo

    src = Path(marimo.__file__).resolve().parent / "_static"
    dst = out / FRONTEND_DIR
    stamp = dst / ".marimo-version"
    if stamp.exists() and stamp.read_text() == marimo.__version__:
        return dst
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("*.md"))
    stamp.write_text(marimo.__version__)
    return dst


def make_offline(page: Path) -> int:
    """Point a report at the bundled frontend; returns how many references were rewritten."""
    text = page.read_text(encoding="utf-8")
    new, n = CDN.subn(f"./{FRONTEND_DIR}/", text)
    page.write_text(new, encoding="utf-8")
    return n


def add_static_notice(page: Path, notebook: Path, nb_args: list[str]) -> None:
    """Say at the top of a static report that its controls are frozen, and how to open the notebook live."""
    live = " ".join(["marimo edit", f"notebooks/{notebook.name}", *(["--", *nb_args] if nb_args else [])])
    notice = (
        '<div id="static-report-notice" style="padding:8px 16px;background:#fff4d6;border-bottom:1px solid #d9b25f;'
        'font:14px/1.4 system-ui,sans-serif;color:#3d2f00">'
        "<b>Static report:</b> the controls below are frozen at the values shown; moving them recomputes nothing. "
        f"To explore live, from the repository: <code>{html.escape(live)}</code></div>"
    )
    text = page.read_text(encoding="utf-8")
    page.write_text(text.replace("<body>", "<body>" + notice, 1), encoding="utf-8")


def key_figures(log: str, tag: str = "KEY") -> list[tuple[str, str]]:
    """(label, value) of each `TAG| label | value` line (a label may hold '|'; the value is after the last one)."""
    start = f"{tag}|"
    return [
        tuple(part.strip() for part in line[len(start) :].rsplit("|", 1)) for line in log.splitlines() if line.startswith(start)
    ]


def verdicts(log: str) -> list[tuple[str, str]]:
    """(title, first sentence) of each `VERDICT| title | sentence` line (`report.ui.verdict`); the title holds no '|'."""
    start = "VERDICT|"
    return [
        tuple(part.strip() for part in line[len(start) :].split("|", 1)) for line in log.splitlines() if line.startswith(start)
    ]


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("marimo", "torch", "numpy", "scipy", "polars", "altair", "gemmi"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "missing"
    return out


def write_index(out: Path, results: list[dict], nb_args: list[str]) -> Path:
    rows = []
    for r in results:
        figs = "".join(f"<li>{html.escape(k)}: <b>{html.escape(v)}</b></li>" for k, v in r["figures"]) or "<li>(none)</li>"
        said = "".join(f"<p><b>{html.escape(t)}:</b> {html.escape(v)}</p>" for t, v in r.get("verdicts", [])) or "&mdash;"
        link = f'<a href="{r["name"]}.html">{r["name"]}</a>' if r["ok"] else html.escape(r["name"])
        status = "ok" if r["ok"] else f'<span style="color:#b00">FAILED ({html.escape(r["stage"])})</span>'
        cells = [link, status, f"{r['seconds']:.1f} s", said, f"<ul>{figs}</ul>"]
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    vers = ", ".join(f"{k} {v}" for k, v in versions().items())
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>pomodoro-diagnostics reports</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto}}
td{{vertical-align:top;padding:6px;border-bottom:1px solid #ddd}}
ul{{margin:0;padding-left:1.2em}} td:nth-child(4){{max-width:420px}} td p{{margin:0 0 .4em}}
th{{text-align:left}}</style></head><body>
<h1>pomodoro-diagnostics reports</h1>
<p>Generated {dt.datetime.now().isoformat(timespec="seconds")} &middot;
parameters: <code>{html.escape(" ".join(nb_args) or "(defaults)")}</code>
&middot; {html.escape(vers)}</p>
<p>Start with <a href="00_claims_audit.html">00 &middot; claims audit</a>. The pages need no network but must be served over
HTTP: <code>python -m pomodoro_core.report.suite serve</code>.</p>
<table><tr><th>notebook</th><th>status</th><th>time</th><th>verdict</th><th>key figures</th></tr>{"".join(rows)}</table>
</body></html>"""
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    return index


def serve(out: Path, port: int) -> None:
    import functools
    import http.server

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as httpd:
        print(f"serving {out} at http://127.0.0.1:{port}/index.html (Ctrl-C stops)")
        httpd.serve_forever()


def unwritable(folder: Path) -> str | None:
    """None if reports can be written to `folder` (created if missing), else the reason in a few words."""
    if folder.exists() and not folder.is_dir():
        return "is a file, not a folder"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        return f"cannot write there ({exc.strerror or exc})"
    return None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    nb_args: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, nb_args = argv[:i], argv[i + 1 :]
    if argv[:1] == ["serve"]:
        sp = OneLineParser(description="serve the reports over HTTP on localhost")
        sp.add_argument("--out", default=str(ROOT / "reports"))
        sp.add_argument("--port", type=int, default=8000)
        so = sp.parse_args(argv[1:])
        serve(Path(so.out), so.port)
        return 0
    p = OneLineParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=str(ROOT / "reports"), help="folder for the HTML reports")
    p.add_argument("--only", nargs="*", help="notebook prefixes to run, e.g. 01 02")
    p.add_argument("--no-html", action="store_true", help="run as scripts only")
    p.add_argument("--notebooks", default=None, help=argparse.SUPPRESS)  # another folder (tests)
    opts = p.parse_args(argv)
    out = Path(opts.out)
    if problem := unwritable(out):
        print(f"error: --out {out}: {problem}", file=sys.stderr)
        return 2
    books = notebooks(opts.only, Path(opts.notebooks) if opts.notebooks else None)
    if not books:
        print("no notebook matched", file=sys.stderr)
        return 2
    if not opts.no_html:
        bundle_frontend(out)
    results = []
    for k, nb in enumerate(books, 1):
        print(f"[{k}/{len(books)}] {nb.name}: script ...", flush=True)
        t0 = time.perf_counter()
        res = run_script(nb, nb_args)
        dt_script = time.perf_counter() - t0
        log = res.stdout + res.stderr
        (out / f"{nb.stem}.log").write_text(log)
        r = {
            "name": nb.stem,
            "ok": res.returncode == 0,
            "stage": "script",
            "seconds": dt_script,
            "figures": key_figures(res.stdout),
            "verdicts": verdicts(res.stdout),
        }
        results.append(r)
        if not r["ok"]:
            print(f"FAILED {nb.name} (script, exit {res.returncode}, {dt_script:.1f} s):\n{res.stderr[-4000:]}", file=sys.stderr)
            continue
        print(f"    script ok in {dt_script:.1f} s", flush=True)
        if opts.no_html:
            continue
        t0 = time.perf_counter()
        page = out / f"{nb.stem}.html"
        res = export_html(nb, page, nb_args)
        dt_html = time.perf_counter() - t0
        r["seconds"] += dt_html
        if res.returncode != 0:
            r.update(ok=False, stage="HTML export")
            print(f"FAILED {nb.name} (HTML export, {dt_html:.1f} s):\n{(res.stdout + res.stderr)[-4000:]}", file=sys.stderr)
            continue
        n = make_offline(page)
        add_static_notice(page, nb, nb_args)
        print(f"    html ok in {dt_html:.1f} s -> {page} ({n} asset links made local)", flush=True)
    failed = [r["name"] for r in results if not r["ok"]]
    if not opts.no_html:
        print(f"index: {write_index(out, results, nb_args)}")
    if failed:
        print(f"{len(failed)} notebook(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"all {len(books)} notebook(s) ok; reports in {out} (view: python -m pomodoro_core.report.suite serve)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
