import pathlib

import pytest

from twin import LIBS


@pytest.fixture(params=LIBS, ids=lambda lib: lib.__name__)
def lib(request):
    "The library under test: each test that takes `lib` runs once with torch and once with nn."
    return request.param


def _known_differences():
    "node id -> what differs, from known_differences.txt beside this file."
    path = pathlib.Path(__file__).with_name("known_differences.txt")
    entries = (line.split(" | ", 1) for line in path.read_text().splitlines()
               if line and not line.startswith("#"))
    return dict(entries)


KNOWN_DIFFERENCES = _known_differences()


def pytest_collection_modifyitems(items):
    "Mark the cases where nn knowingly differs from torch as strict xfails."
    for item in items:
        reason = KNOWN_DIFFERENCES.get(item.nodeid)
        if reason is not None:
            item.add_marker(pytest.mark.xfail(reason=reason, strict=True))
