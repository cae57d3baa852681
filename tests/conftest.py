import os

import pytest

# Rules re-raise their own exceptions under test instead of logging them.
os.environ["MODREG_STRICT"] = "1"


def pytest_configure(config):
    config.addinivalue_line("markers", "torch: runs real PyTorch (must not be skipped in CI)")


@pytest.fixture(scope="session")
def torch():
    """PyTorch, or a skip -- except in CI, where a missing torch is an error."""
    try:
        import torch as _torch
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("torch is not installed in CI: .ci/run must install torch==2.13.0 before the tests")
        pytest.skip("torch is not installed (pip install torch==2.13.0) -- run-time truth tests skipped")
    return _torch
