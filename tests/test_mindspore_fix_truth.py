"""The registration fixes under real MindSpore (run like tests/test_mindspore_truth.py).

Run in the MindSpore venv: ``.msvenv/bin/python -m pytest -m mindspore -q tests/test_mindspore_*.py``.
"""

from __future__ import annotations

import pytest

from conftest import import_mindspore
from flake8_modreg.rules import all_rules

pytestmark = pytest.mark.mindspore

ms = import_mindspore()


def test_celldict_reserved_keys_are_its_attributes():
    from flake8_modreg.rules._fixes import MINDSPORE_CELLDICT_ATTRS

    assert MINDSPORE_CELLDICT_ATTRS == {n for n in dir(ms.nn.CellDict()) if not n.startswith("_")}
    with pytest.raises(KeyError):
        ms.nn.CellDict({"keys": ms.nn.Dense(1, 1)})


def test_mindspore_wrappers_lack_exactly_the_listed_container_methods():
    from flake8_modreg.rules._containers import WRAPPERS

    def public(obj):
        return {n for n in dir(obj) if not n.startswith("_")}

    seq = public(list) | public(tuple)
    assert WRAPPERS["mindspore.nn.CellList"].lacks == seq - public(ms.nn.CellList())
    assert WRAPPERS["mindspore.nn.CellDict"].lacks == public(dict) - public(ms.nn.CellDict())
    assert WRAPPERS["mindspore.ParameterTuple"].lacks == seq - public(ms.ParameterTuple(()))


FIXED_MS = [
    pytest.param(rule, case, id=f"{rule.code}-fixed-{i}")
    for rule in all_rules()
    if rule.code in ("MRG101", "MRG102", "MRG103")
    for i, case in enumerate(rule.invalid)
    if case.fixed is not None and "torch" not in case.fixed
]


def test_there_are_fixed_mindspore_examples():
    assert {p.values[0].code for p in FIXED_MS} == {"MRG101", "MRG102", "MRG103"}


@pytest.mark.parametrize("rule,case", FIXED_MS)
def test_autofixed_mindspore_example_registers_its_parameters(rule, case):
    """The MindSpore examples hold no parameters before the fix (CellList/CellDict/ParameterTuple) and some after."""

    def params(code):
        ns = {"__name__": "modreg_probe"}
        exec(compile(code, f"<{rule.code}>", "exec"), ns)
        cells = [v for v in ns.values() if isinstance(v, type) and issubclass(v, ms.nn.Cell) and v.__module__ == "modreg_probe"]
        return [p.name for c in cells for p in c().get_parameters()]

    assert params(case.code) == []
    assert params(case.fixed)
