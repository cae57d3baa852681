import pytest

from flake8_modreg import Config


@pytest.mark.parametrize(
    "kw,code,default_enabled,expected",
    [
        ({}, "MRG101", True, True),
        ({}, "MRG901", False, False),
        ({"select": ["MRG1"]}, "MRG101", True, True),
        ({"select": ["MRG1"]}, "MRG201", True, False),
        ({"select": ["MRG"]}, "MRG901", False, False),
        ({"select": ["MRG9"]}, "MRG901", False, True),
        ({"extend_select": ["MRG901"]}, "MRG901", False, True),
        ({"ignore": ["MRG2"]}, "MRG201", True, False),
        ({"select": ["MRG201"], "ignore": ["MRG2"]}, "MRG201", True, True),
        ({"select": ["mrg1,MRG3"]}, "MRG301", True, True),
        ({"select": ["ALL"]}, "MRG901", False, True),
    ],
)
def test_selection(kw, code, default_enabled, expected):
    assert Config.make(**kw).enabled(code, default_enabled) is expected
