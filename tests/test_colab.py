"""Each chapter runs in Colab: its first code cell installs nn there, and only there.

The cell is run here as Colab would run it, with a module `google.colab` present and
`subprocess.run`, `os.chdir` and `os.path.exists` standing in for Colab's machine, recording
what they are asked; and the pip command it gives is carried out for real on a copy of this
checkout, into an empty directory, to see that it yields an importable nn.
"""
import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import colab_cell  # noqa: E402

NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))


def first_code_source(path):
    "The text of a notebook's first code cell."
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return "".join(cells[colab_cell.first_code_cell(cells)]["source"])


def run_cell(source, monkeypatch, in_colab, cloned=False):
    "Run a cell's text with or without Colab's module; return the calls it made."
    calls = []
    monkeypatch.setattr(subprocess, "run",
                        lambda args, **kwargs: calls.append(("run", args, kwargs)))
    monkeypatch.setattr(os, "chdir", lambda path: calls.append(("chdir", path)))
    monkeypatch.setattr(os.path, "exists", lambda path: cloned)
    if in_colab:
        google = types.ModuleType("google")
        google.colab = types.ModuleType("google.colab")
        monkeypatch.setitem(sys.modules, "google", google)
        monkeypatch.setitem(sys.modules, "google.colab", google.colab)
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(compile(source, "<colab cell>", "exec"), {})
    monkeypatch.undo()
    return calls


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_chapter_begins_with_the_colab_cell(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    source = colab_cell.cell_source(*colab_cell.repository())
    assert colab_cell.problems(notebook, source) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_in_colab_the_cell_clones_installs_and_moves_into_the_book(path, monkeypatch):
    calls = run_cell(first_code_source(path), monkeypatch, in_colab=True)
    assert calls == [
        ("run", ["git", "clone", "--quiet", "--depth", "1", "--branch", "main",
                 "https://github.com/nn-book/nn", "/content/nn"], {"check": True}),
        ("run", [sys.executable, "-m", "pip", "install", "--quiet", "/content/nn"],
         {"check": True}),
        ("chdir", "/content/nn/book")]


def test_run_again_in_colab_the_cell_only_moves_into_the_book(monkeypatch):
    calls = run_cell(first_code_source(NOTEBOOKS[0]), monkeypatch, in_colab=True,
                     cloned=True)
    assert calls == [("chdir", "/content/nn/book")]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_elsewhere_the_cell_does_nothing(path, monkeypatch):
    assert run_cell(first_code_source(path), monkeypatch, in_colab=False) == []


def test_the_repository_follows_the_books_configuration(tmp_path):
    config = tmp_path / "_config.yml"
    config.write_text("repository:\n  url: https://example.org/me/fork\n  branch: dev\n")
    assert colab_cell.repository(config) == ("https://example.org/me/fork", "dev")
    source = colab_cell.cell_source("https://example.org/me/fork", "dev")
    assert '"--branch", "dev", "https://example.org/me/fork",' in source


def test_the_check_catches_a_missing_or_changed_cell():
    notebook = json.loads(NOTEBOOKS[0].read_text(encoding="utf-8"))
    url, branch = colab_cell.repository()
    source = colab_cell.cell_source(url, branch)
    without = {**notebook, "cells": [c for c in notebook["cells"]
                                     if not colab_cell.is_colab_cell(c)]}
    assert colab_cell.problems(without, source) == [
        "the first code cell is not the Colab cell"]
    other = colab_cell.with_colab_cell(without, colab_cell.cell_source(url, "dev"))
    assert colab_cell.problems(other, source) == [
        "the Colab cell's text differs from tools/colab_cell.py's"]
    assert colab_cell.problems(colab_cell.with_colab_cell(without, source), source) == []


def test_the_install_command_gives_an_importable_nn(tmp_path, monkeypatch):
    _, (_, args, kwargs), _ = run_cell(first_code_source(NOTEBOOKS[0]), monkeypatch,
                                       in_colab=True)
    # the same pip command, given a copy of this checkout's package instead of GitHub's,
    # installing into an empty directory
    source = tmp_path / "source"
    shutil.copytree(ROOT / "nn", source / "nn", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    local = [*args[:-1], "--no-deps", "--no-build-isolation", "--target",
             str(tmp_path / "site"), str(source)]
    subprocess.run(local, **kwargs, capture_output=True, cwd=tmp_path)
    check = ("import nn; print(nn.__file__); "
             "print(nn.tensor([1.0, 2.0]).dot(nn.tensor([3.0, 4.0])).item())")
    out = subprocess.run([sys.executable, "-c", check], check=True, capture_output=True,
                         text=True, cwd=tmp_path,
                         env={"PYTHONPATH": str(tmp_path / "site"), "PATH": ""})
    location, value = out.stdout.split()
    assert Path(location).is_relative_to(tmp_path / "site")
    assert value == "11.0"


def test_the_rendered_book_does_not_show_the_cell():
    pages = sorted((ROOT / "_build" / "html" / "book").glob("*.html"))
    if not pages:
        pytest.skip("the book is not built (tools/build-book)")
    shown = [page.name for page in pages
             if "google.colab" in page.read_text(encoding="utf-8")]
    assert shown == []
