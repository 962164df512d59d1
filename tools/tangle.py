"""Tangle the book into the package: every `#| export` cell of book/*.ipynb goes into nn/.

    python tools/tangle.py          # regenerate nn/ from the notebooks
    python tools/tangle.py --check  # fail, showing a diff, if nn/ is not what the notebooks give

nn/ is generated and never edited by hand. The export is nbdev's own (`nb_export`): a notebook
names its module once with `#| default_exp NAME`, and each `#| export` cell is copied there.

Every run exports into a fresh temporary directory laid out like the repo (tmp/book holding
copies of the notebooks, tmp/nn receiving the modules), so that each module's header names its
notebook exactly as it does in nn/ ("File to edit: ../book/01_tensor.ipynb"). The result then
replaces nn/, or with --check is compared with it, file by file: a module that differs, that no
notebook produces, or that is missing, is a failure.
"""
import difflib
import shutil
import sys
import tempfile
from pathlib import Path

from nbdev.export import nb_export

ROOT = Path(__file__).resolve().parent.parent
BOOK, LIB = ROOT / "book", ROOT / "nn"


def notebooks():
    return sorted(p for p in BOOK.glob("*.ipynb") if not p.stem.endswith("-checkpoint"))


def modules(lib):
    """{path relative to lib: text} for every .py file under lib."""
    return {p.relative_to(lib).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(lib.rglob("*.py")) if "__pycache__" not in p.parts}


def export():
    """Export every notebook into a temporary nn/ and return its modules."""
    with tempfile.TemporaryDirectory() as tmp:
        book, lib = Path(tmp) / "book", Path(tmp) / "nn"
        book.mkdir()
        for nb in notebooks():
            shutil.copy(nb, book / nb.name)
            nb_export(str(book / nb.name), str(lib))
        for package in {path.parent for path in lib.rglob("*.py")} - {lib}:
            (package / "__init__.py").touch()  # a subpackage such as nn/utils/, as nbdev_export does
        return modules(lib) if lib.exists() else {}


def check(new, old):
    stale = sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))
    for name in stale:
        a = f"nn/{name}" if name in old else "/dev/null"
        b = f"nn/{name} (as the notebooks export it)" if name in new else "/dev/null"
        print(f"--- nn/{name}: " + ("in nn/ only, no notebook exports it" if name not in new else
                                   "missing from nn/" if name not in old else "differs"))
        sys.stdout.writelines(difflib.unified_diff(
            old.get(name, "").splitlines(True), new.get(name, "").splitlines(True), a, b))
    if stale:
        print("nn/ is out of sync with book/: run `python tools/tangle.py`")
        return 1
    print(f"nn/ matches the notebooks ({len(new)} modules)")
    return 0


def write(new, old):
    for name in sorted(old.keys() - new.keys()):
        (LIB / name).unlink()
        print(f"removed nn/{name} (no notebook exports it)")
    for name, text in new.items():
        if old.get(name) != text:
            (LIB / name).parent.mkdir(parents=True, exist_ok=True)
            (LIB / name).write_text(text, encoding="utf-8")
            print(f"wrote nn/{name}")
    print(f"nn/ is up to date ({len(new)} modules from {len(notebooks())} notebooks)")
    return 0


if __name__ == "__main__":
    if sys.argv[1:] not in ([], ["--check"]):
        sys.exit(__doc__)
    new, old = export(), modules(LIB) if LIB.exists() else {}
    sys.exit(check(new, old) if sys.argv[1:] == ["--check"] else write(new, old))
