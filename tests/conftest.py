import pytest

from twin import LIBS


@pytest.fixture(params=LIBS, ids=lambda lib: lib.__name__)
def lib(request):
    "The library under test: each test that takes `lib` runs once with torch and once with nn."
    return request.param
