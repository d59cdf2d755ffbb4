import pytest

from tests.jobs.handlers import register_all


@pytest.fixture(autouse=True)
def _test_handlers():
    register_all()
