"""Fail if a line of code is longer than 88 characters: beyond that the rendered book hides it
behind a horizontal scrollbar.

    python tools/check_lines.py

Checked: every code cell of book/*.ipynb, the code blocks inside its Markdown cells (the exercises'
solutions), and every module of nn/ (which the code cells make).
"""
import json
import re
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMIT = 88
# a fenced Python block (indented too, inside a list item); not the blocks of output
FENCE = re.compile(r"^([ \t]*)```python[ \t]*\n(.*?)^\1```", re.M | re.S)


def notebook_code(path):
    "Each (cell id, line) of code in a notebook: code cells, and fenced blocks in Markdown cells."
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        source = "".join(cell["source"])
        blocks = ([source] if cell["cell_type"] == "code" else
                  [textwrap.dedent(block) for _, block in FENCE.findall(source)])
        for block in blocks:
            for line in block.splitlines():
                yield cell.get("id", "?"), line


def long_lines(root=ROOT):
    "Where (notebook and cell, or module and line) each line over the limit is, and its length."
    for path in sorted((root / "book").glob("*.ipynb")):
        for cell_id, line in notebook_code(path):
            if len(line) > LIMIT:
                yield f"{path.relative_to(root)} cell {cell_id}", len(line)
    for path in sorted((root / "nn").rglob("*.py")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if len(line) > LIMIT:
                yield f"{path.relative_to(root)}:{number}", len(line)


if __name__ == "__main__":
    found = list(long_lines())
    for where, length in found:
        print(f"{where}: a line of {length} characters")
    if found:
        print(f"{len(found)} lines of code are longer than {LIMIT} characters")
        sys.exit(1)
    print(f"every line of code fits in {LIMIT} characters")
