"""The MindSpore 2.10 API table (``flake8_modreg/_api_versions.py``, read from the wheel's ``mindspore/nn/cell.py``
by ``scripts/gen_api_versions.py``) against a real MindSpore 2.10 ``Cell`` (CI's MindSpore venv)."""

from __future__ import annotations

import pytest

from conftest import import_mindspore
from flake8_modreg import _api_versions, known

pytestmark = pytest.mark.mindspore

ms = import_mindspore()


def test_the_installed_mindspore_is_the_newest_table():
    assert ms.__version__.startswith("2.10.") and known.NEWEST_MINDSPORE == "2.10"


def test_the_2_10_table_is_the_public_class_attributes_of_a_real_cell():
    public = {n for n in vars(ms.nn.Cell) if not n.startswith("_")}
    assert set(_api_versions.MINDSPORE_CELL["2.10"]) == public
    for name in _api_versions.MINDSPORE_CELL["2.10"]:
        assert hasattr(ms.nn.Cell, name)


@pytest.mark.parametrize("method", sorted(known.TORCH_STYLE_METHODS))
def test_each_torch_style_method_exists_on_a_2_10_cell_exactly_when_the_table_says_so(method):
    """Judged on the class and on an instance: the C++ base ``Cell_`` (not in cell.py) adds none of them."""
    reported = method in known.torch_only_methods("2.10")[1]
    assert hasattr(ms.nn.Cell, method) is not reported
    assert hasattr(ms.nn.Dense(2, 2), method) is not reported
