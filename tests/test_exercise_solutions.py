"""The exercises' solutions print what the book says they print.

Each chapter ends with exercises whose solutions are markdown, inside
`:::{admonition} Solution` fences: a ```python block, then a ```text block holding what the
code prints. For each notebook, one kernel (nbclient, kernel "python3", working directory
book/) runs the notebook's code cells, since solutions use their names, and then every
solution's python blocks in order. A block's standard output must equal the text block that
follows it, line by line after trailing whitespace is stripped. Code shown in an exercise's
question (outside a Solution fence) is not run. A solution whose code raises fails, and so
does a python block with no text block after it.

Output that can never be reproduced (timings, a profiler's ranking by time) is marked in the
book: its text block's first line is a comment starting with `# illustrative` (for example
`# illustrative: timings vary`). Such a block's code must still run without error, but its
output is not compared. Put anything deterministic in a block of its own, which is compared.
"""
import pathlib
import re

import nbformat
import pytest
from nbclient import NotebookClient

BOOK = pathlib.Path(__file__).resolve().parent.parent / "book"
SOLUTION = re.compile(r"^(:{3,})\{admonition\}\s*Solution\b[^\n]*\n(.*?)^\1[ \t]*$",
                      re.M | re.S)
FENCE = re.compile(r"^```(\w*)[ \t]*\n(.*?)^```[ \t]*$", re.M | re.S)
ILLUSTRATIVE = "# illustrative"


def solution_blocks(notebook):
    "The (python code, expected text or None) pairs of a notebook's solutions, in order."
    pairs = []
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        for solution in SOLUTION.finditer(cell.source):
            body = solution.group(2)
            fences = list(FENCE.finditer(body))
            for i, fence in enumerate(fences):
                if fence.group(1) != "python":
                    continue
                following = fences[i + 1] if i + 1 < len(fences) else None
                adjacent = (following is not None and following.group(1) == "text"
                            and not body[fence.end():following.start()].strip())
                pairs.append((fence.group(2), following.group(2) if adjacent else None))
    return pairs


def normalized(text):
    "Text with trailing whitespace stripped from each line, and no blank lines at the end."
    return "\n".join(line.rstrip() for line in text.splitlines()).rstrip("\n")


def notebooks_with_solutions():
    "The book's chapters that have solution code."
    paths = sorted(BOOK.glob("[0-9][0-9]_*.ipynb"))
    return [path for path in paths
            if solution_blocks(nbformat.read(path, as_version=4))]


def run_solutions(path):
    "Run a notebook's code cells then its solutions in one kernel; the solution cells."
    notebook = nbformat.read(path, as_version=4)
    pairs = solution_blocks(notebook)
    run = nbformat.v4.new_notebook(metadata=notebook.metadata)
    run.cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    first = len(run.cells)
    run.cells += [nbformat.v4.new_code_cell(code) for code, _ in pairs]
    client = NotebookClient(run, timeout=900, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {"path": str(BOOK)}})
    client.execute()
    chapter_errors = [f"cell {i}: {output.ename}: {output.evalue}"
                      for i, cell in enumerate(run.cells[:first])
                      for output in cell.outputs if output.output_type == "error"]
    return pairs, run.cells[first:], chapter_errors


def mismatches(pairs, cells):
    "A description of each solution block that raised or printed other than its text."
    found = []
    for number, ((code, expected), cell) in enumerate(zip(pairs, cells), start=1):
        errors = [output for output in cell.outputs if output.output_type == "error"]
        printed = "".join(output.text for output in cell.outputs
                          if output.output_type == "stream" and output.name == "stdout")
        first_line = code.strip().splitlines()[0]
        where = f"solution block {number} ({first_line!r})"
        if errors:
            found.append(f"{where} raised {errors[0].ename}: {errors[0].evalue}")
        elif expected is None:
            found.append(f"{where} has no ```text block after it")
        elif expected.lstrip().startswith(ILLUSTRATIVE):
            continue
        elif normalized(printed) != normalized(expected):
            found.append(f"{where} printed\n{printed}\ninstead of\n{expected}")
    return found


@pytest.mark.parametrize("path", notebooks_with_solutions(), ids=lambda path: path.stem)
def test_solutions_print_their_text(path):
    pairs, cells, chapter_errors = run_solutions(path)
    assert not chapter_errors, "the chapter's own cells raised:\n" + "\n".join(chapter_errors)
    found = mismatches(pairs, cells)
    assert not found, f"{len(found)} of {len(pairs)} blocks differ:\n\n" + "\n\n".join(found)


def test_only_solution_blocks_are_read_and_compared():
    "The question's code is skipped; a wrong print, an error, a missing text block fail."
    markdown = "\n".join([
        "1. A question.", "", "   ```python", "   print('question')", "   ```", "",
        ":::{admonition} Solution", ":class: dropdown", "",
        "```python", "print(1)", "```", "", "```text", "1  ", "```", "",
        "```python", "print(2)", "```", "", "```text", "3", "```", "",
        "```python", "print(4)", "```", "", "```text", "# illustrative: varies", "5", "```",
        "", "```python", "1 / 0", "```", "", "```text", "", "```", "",
        "```python", "print(6)", "```", ":::", ""])
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(markdown)])
    pairs = solution_blocks(notebook)
    assert [code for code, _ in pairs] == [
        "print(1)\n", "print(2)\n", "print(4)\n", "1 / 0\n", "print(6)\n"]
    stdout = [nbformat.v4.new_output("stream", name="stdout", text=text)
              for text in ("1\n", "2\n", "4\n")]
    error = nbformat.v4.new_output("error", ename="ZeroDivisionError",
                                   evalue="division by zero", traceback=[])
    cells = [nbformat.v4.new_code_cell(outputs=[output])
             for output in stdout + [error, stdout[0]]]
    found = mismatches(pairs, cells)
    assert [line.split(" ", 3)[2] for line in found] == ["2", "4", "5"]
    assert "raised ZeroDivisionError" in found[1] and "no ```text" in found[2]
