"""Run every notebook headless: as a script (key figures on stdout), then as an HTML export.

    python -m pomodoro_core.suite [--only 01] [--out reports] [-- notebook args...]

A notebook that fails makes the command exit non-zero and name it, with the
script run's traceback (marimo's export alone prints none).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def notebooks(only: list[str] | None = None) -> list[Path]:
    found = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
    if only:
        found = [p for p in found if any(p.name.startswith(o) or p.stem == o for o in only)]
    return found


ENV = {**os.environ, "POMODORO_LENIENT_ARGS": "1"}


def run_script(path: Path, args: list[str], timeout: float = 1800) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(path), *args], capture_output=True, text=True, cwd=ROOT, timeout=timeout, env=ENV)


def export_html(path: Path, out: Path, args: list[str], timeout: float = 1800) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "marimo", "export", "html", str(path), "-o", str(out), "--force"]
    if args:
        cmd += ["--", *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=timeout, env=ENV)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    nb_args: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, nb_args = argv[:i], argv[i + 1 :]
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=str(ROOT / "reports"), help="folder for the HTML reports")
    p.add_argument("--only", nargs="*", help="notebook prefixes to run, e.g. 01 02")
    p.add_argument("--no-html", action="store_true", help="run as scripts only")
    opts = p.parse_args(argv)
    out = Path(opts.out)
    out.mkdir(parents=True, exist_ok=True)
    failed = []
    books = notebooks(opts.only)
    if not books:
        print("no notebook matched", file=sys.stderr)
        return 2
    for k, nb in enumerate(books, 1):
        print(f"[{k}/{len(books)}] {nb.name}: script ...", flush=True)
        t0 = time.perf_counter()
        res = run_script(nb, nb_args)
        dt = time.perf_counter() - t0
        (out / f"{nb.stem}.log").write_text(res.stdout + res.stderr)
        if res.returncode != 0:
            print(f"FAILED {nb.name} (script, exit {res.returncode}, {dt:.1f} s):\n{res.stderr[-4000:]}", file=sys.stderr)
            failed.append(nb.name)
            continue
        print(f"    script ok in {dt:.1f} s", flush=True)
        if opts.no_html:
            continue
        t0 = time.perf_counter()
        res = export_html(nb, out / f"{nb.stem}.html", nb_args)
        dt = time.perf_counter() - t0
        if res.returncode != 0:
            print(f"FAILED {nb.name} (HTML export, {dt:.1f} s):\n{(res.stdout + res.stderr)[-4000:]}", file=sys.stderr)
            failed.append(nb.name)
            continue
        print(f"    html ok in {dt:.1f} s -> {out / (nb.stem + '.html')}", flush=True)
    if failed:
        print(f"{len(failed)} notebook(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"all {len(books)} notebook(s) ok; reports in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
