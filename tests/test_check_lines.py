"""The line-length check of tools/test finds long lines of code, and only those."""
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("check_lines", ROOT / "tools" / "check_lines.py")
check_lines = importlib.util.module_from_spec(spec)
spec.loader.exec_module(check_lines)


def notebook(cells):
    "A minimal notebook of (cell type, source) pairs."
    return json.dumps({"cells": [{"cell_type": kind, "id": f"c{i}", "source": [source]}
                                 for i, (kind, source) in enumerate(cells)]})


def test_long_code_is_found_in_cells_solutions_and_modules(tmp_path):
    long = "x = " + "1 + " * 30 + "1"
    (tmp_path / "book").mkdir()
    (tmp_path / "nn").mkdir()
    prose = "word " * 40  # prose and outputs may be long
    (tmp_path / "book" / "01_a.ipynb").write_text(notebook([
        ("code", "y = 1\n" + long),
        ("markdown", prose + "\n```python\n" + long + "\n```\n```text\n" + long + "\n```"),
        ("markdown", prose),
        ("markdown", "1. **An exercise.**\n\n   ```python\n   " + long + "\n   ```\n")]))
    (tmp_path / "nn" / "a.py").write_text("short = 1\n" + long + "\n")
    found = [where for where, length in check_lines.long_lines(tmp_path)]
    assert found == ["book/01_a.ipynb cell c0", "book/01_a.ipynb cell c1",
                     "book/01_a.ipynb cell c3", "nn/a.py:2"]


def test_lines_of_exactly_88_characters_pass(tmp_path):
    (tmp_path / "book").mkdir()
    (tmp_path / "nn").mkdir()
    (tmp_path / "nn" / "a.py").write_text("#" * 88 + "\n")
    indented = "   ```python\n   " + "#" * 88 + "\n   ```\n"  # the list's indent is not code
    (tmp_path / "book" / "01_a.ipynb").write_text(notebook([("markdown", indented)]))
    assert list(check_lines.long_lines(tmp_path)) == []
