import os

import pytest

# Rules re-raise their own exceptions under test instead of logging them.
os.environ["MODREG_STRICT"] = "1"


_MARKEXPR = ""


def pytest_configure(config):
    global _MARKEXPR
    config.addinivalue_line("markers", "torch: runs real PyTorch (must not be skipped in CI)")
    _MARKEXPR = (config.getoption("markexpr", "") or "").strip()


def import_mindspore():
    """MindSpore for a module of ``mindspore``-marked tests, or a module-level skip.

    MindSpore lives in its own venv (an ~800 MB wheel that needs numpy<2), so the
    main suite skips these tests.  A run that selects them (``pytest -m mindspore``)
    under CI is .ci/run's MindSpore step: there a missing MindSpore is an error.
    """
    try:
        import mindspore
    except ImportError:
        if os.environ.get("CI") and _MARKEXPR == "mindspore":
            pytest.fail(
                "mindspore is not importable in CI's MindSpore run: .ci/run must install mindspore==2.10.0 first",
                pytrace=False,
            )
        pytest.skip(
            'mindspore is not importable: these ground-truth tests need `pip install mindspore==2.10.0 "numpy<2"` '
            "in a separate venv (see the README; .ci/run does it)",
            allow_module_level=True,
        )
    return mindspore


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


def write_tree(root, files: dict) -> None:
    """Write ``{relative path: dedented text}`` under ``root`` (a multi-file package for the resolver)."""
    import textwrap

    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))


@pytest.fixture
def private_resolver(tmp_path, monkeypatch):
    """The resolver with its own summary cache and no memoised answers: files a test writes are read afresh."""
    from flake8_modreg import resolver

    monkeypatch.setenv("MODREG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(resolver, "_STORE", resolver._Store())
    monkeypatch.setattr(resolver, "_WORLDS", {})
    return resolver
