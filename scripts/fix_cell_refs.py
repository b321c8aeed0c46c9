"""Recompute marimo cell signatures from the code (what the editor does on save).

    python scripts/fix_cell_refs.py notebooks/*.py

Each `@app.cell def _(...)` gets as parameters the names it reads that another cell
defines; the first (import) cell returns every name it defines that another cell reads.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path


def _defs_and_uses(fn: ast.FunctionDef) -> tuple[set[str], set[str]]:
    defs, uses = set(), set()
    for node in ast.walk(fn):
        if isinstance(node, ast.Name):
            (defs if isinstance(node.ctx, ast.Store) else uses).add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                defs.add((a.asname or a.name).split(".")[0])
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node is not fn:
            defs.add(node.name)
        elif isinstance(node, ast.arg) and node not in fn.args.args:
            defs.add(node.arg)  # parameters of nested functions and lambdas are local names
    return defs, uses


def fix(path: Path) -> bool:
    src = path.read_text()
    tree = ast.parse(src)
    cells = [
        n for n in tree.body if isinstance(n, ast.FunctionDef) and any(getattr(d, "attr", "") == "cell" for d in n.decorator_list)
    ]
    info = [_defs_and_uses(c) for c in cells]
    public = [{d for d in defs if not d.startswith("_")} for defs, _ in info]
    lines = src.splitlines(keepends=True)
    edits = []  # (start, end) line ranges (0-based, end exclusive) and their new text
    for k, (cell, (defs, uses)) in enumerate(zip(cells, info, strict=True)):
        others = set().union(*(public[j] for j in range(len(cells)) if j != k))
        params = sorted((uses - defs) & others)
        def_line = next(i for i in range(cell.lineno - 1, cell.body[0].lineno) if lines[i].lstrip().startswith("def _("))
        edits.append((def_line, cell.body[0].lineno - 1, f"def _({', '.join(params)}):\n"))
    read_elsewhere = set().union(*(info[j][1] for j in range(1, len(cells))))
    ret = sorted(public[0] & read_elsewhere, key=lambda s: (s.lower(), s))
    ret_stmt = cells[0].body[-1]
    if isinstance(ret_stmt, ast.Return):
        text = "    return (\n" + "".join(f"        {r},\n" for r in ret) + "    )\n" if ret else "    return\n"
        edits.append((ret_stmt.lineno - 1, ret_stmt.end_lineno, text))
    new = lines[:]
    for start, end, text in sorted(edits, key=lambda e: -e[0]):
        new[start:end] = [text]
    out = "".join(new)
    if out != src:
        path.write_text(out)
        return True
    return False


if __name__ == "__main__":
    for p in sys.argv[1:]:
        print(p, "fixed" if fix(Path(p)) else "unchanged")
