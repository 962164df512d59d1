"""Give every chapter the cell that makes it run in Colab.

    python tools/colab_cell.py          # write (or rewrite) the cell in every notebook
    python tools/colab_cell.py --check  # fail if a notebook lacks it or has another text

Colab opens a single notebook, with PyTorch, NumPy and matplotlib installed but not nn, and
without the files around it. So the first code cell of each chapter, when it runs in Colab
(recognized by the module `google.colab`), clones the book's repository (`repository` in
_config.yml), installs nn from the clone, and moves into the clone's book/ folder, where the
files a chapter reads (bench/ results, for one) are where they are in the repository. It does
nothing anywhere else: Binder and a local checkout have nn installed already. The cell is
tagged `remove-cell`, so the rendered book does not show it.
"""
import json
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
TAGS = ["remove-cell"]


CLONE = "/content/nn"  # Colab's working folder is /content


def repository(config_path=ROOT / "_config.yml"):
    "The book's repository and branch, as _config.yml names them."
    config = yaml.safe_load(Path(config_path).read_text(encoding="utf-8"))["repository"]
    return config["url"], config["branch"]


def cell_source(url, branch):
    "The text of the Colab cell that clones `url` at `branch` and installs nn from it."
    return (
        "# In Colab, fetch the book's repository and install nn from it; elsewhere nn is\n"
        "# installed already. The chapter then runs in book/, as it does in the repository.\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        "    import os\n"
        "    import subprocess\n"
        "\n"
        f'    if not os.path.exists("{CLONE}"):\n'
        '        subprocess.run(["git", "clone", "--quiet", "--depth", "1",\n'
        f'                        "--branch", "{branch}", "{url}",\n'
        f'                        "{CLONE}"], check=True)\n'
        '        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",\n'
        f'                        "{CLONE}"], check=True)\n'
        f'    os.chdir("{CLONE}/book")')


def first_code_cell(cells):
    "The index of the first code cell."
    return next(i for i, cell in enumerate(cells) if cell["cell_type"] == "code")


def is_colab_cell(cell):
    "Whether a cell is a Colab cell (of any text)."
    return cell["cell_type"] == "code" and "google.colab" in "".join(cell["source"])


def colab_cell(source):
    "The notebook cell (a dict) holding `source`."
    return {"cell_type": "code", "execution_count": None, "id": "colab-install",
            "metadata": {"tags": TAGS}, "outputs": [],
            "source": source.splitlines(True)}


def with_colab_cell(notebook, source):
    "`notebook` (a dict) with its Colab cell set to `source`, first among the code cells."
    cells = [cell for cell in notebook["cells"] if not is_colab_cell(cell)]
    cells.insert(first_code_cell(cells), colab_cell(source))
    return {**notebook, "cells": cells}


def problems(notebook, source):
    "What is wrong with a notebook's Colab cell (empty when nothing is)."
    cell = notebook["cells"][first_code_cell(notebook["cells"])]
    if not is_colab_cell(cell):
        return ["the first code cell is not the Colab cell"]
    found = []
    if "".join(cell["source"]) != source:
        found.append("the Colab cell's text differs from tools/colab_cell.py's")
    if cell["metadata"].get("tags") != TAGS:
        found.append(f"the Colab cell is not tagged {TAGS}")
    if cell.get("outputs"):
        found.append("the Colab cell has outputs")
    return found


def main(check):
    "Write the Colab cell into every notebook, or (check) report those that lack it."
    source, failed = cell_source(*repository()), False
    for path in sorted(BOOK.glob("*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        if check:
            for problem in problems(notebook, source):
                print(f"{path.relative_to(ROOT)}: {problem}")
                failed = True
        elif problems(notebook, source):
            text = json.dumps(with_colab_cell(notebook, source), indent=1,
                              ensure_ascii=False)
            path.write_text(text + "\n", encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv[1:]))
