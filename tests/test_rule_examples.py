"""Every rule's own examples: invalid ones fire exactly where marked, valid ones stay silent.

Adding a rule module adds its cases here automatically.
"""

import libcst as cst
import pytest

from flake8_modreg import Applicability, Config, check
from flake8_modreg.fixer import fix
from flake8_modreg.noqa import Noqa
from flake8_modreg.rules import all_rules

STRICT = Config(strict=True, select=("ALL",))

INVALID = [
    pytest.param(rule, case, id=f"{rule.code}-invalid-{i}") for rule in all_rules() for i, case in enumerate(rule.invalid)
]
VALID = [pytest.param(rule, case, id=f"{rule.code}-valid-{i}") for rule in all_rules() for i, case in enumerate(rule.valid)]
TWINS = [
    pytest.param(rule, case.probe.twin, id=f"{rule.code}-twin-{i}")
    for rule in all_rules()
    for i, case in enumerate(rule.invalid)
    if case.probe is not None
]


@pytest.mark.parametrize("rule,case", INVALID)
def test_invalid_example_fires_exactly_where_marked(rule, case):
    cst.parse_module(case.code)  # the example itself must be valid Python
    got = {(f.code, f.line, f.col) for f in check(case.code, config=STRICT)}
    want = {(rule.code, line, col) for line, col in case.at} | set(case.also)
    assert got == want

FIXABLE = [
    pytest.param(rule, case, id=f"{rule.code}-fix-{i}")
    for rule in all_rules()
    if rule.fix_safety is not Applicability.NONE
    for i, case in enumerate(rule.invalid)
]


@pytest.mark.parametrize("rule,case", FIXABLE)
def test_fix_gives_exactly_the_fixed_example(rule, case):
    """ruff's harness: the fix gives the expected text, re-parses, converges and removes the finding."""
    only = Config(strict=True, select=(rule.code,))
    result = fix(case.code, config=only, unsafe=True)
    expected = case.fixed if case.fixed is not None else case.code
    assert result.source == expected
    if case.fixed is None:
        return  # the example shows where no fix is offered
    cst.parse_module(result.source)
    assert fix(result.source, config=only, unsafe=True).applied == []  # idempotent
    assert [(f.line, f.col) for f in check(result.source, config=only) if f.fix is not None] == []
    if rule.fix_safety is Applicability.UNSAFE:
        assert fix(case.code, config=only).source == case.code  # needs --unsafe-fixes


@pytest.mark.parametrize("rule,case", VALID)
def test_valid_lookalike_stays_silent(rule, case):
    """Silent as the user sees it: after ``# noqa`` (only MRG902's look-alikes carry one, on findings they silence)."""
    cst.parse_module(case.code)
    findings = check(case.code, config=STRICT)
    assert [(f.code, f.line, f.col) for f in Noqa.from_source(case.code).filter(findings)] == []
    if "noqa" not in case.code:
        assert findings == []


@pytest.mark.parametrize("rule,twin", TWINS)
def test_registered_twin_stays_silent(rule, twin):
    """The corrected program of each runtime probe must not be reported either."""
    assert [(f.code, f.line, f.col) for f in check(twin, config=STRICT)] == []


@pytest.mark.parametrize("rule", all_rules(), ids=lambda r: r.code)
def test_rule_metadata(rule):
    assert rule.message and rule.fix_hint and rule.summary
    assert not rule.message.endswith(".")
    # findings format their message and hint from the invalid examples without KeyError
    f = check(rule.invalid[0].code, config=STRICT)
    assert any(x.code == rule.code and "{" not in x.message and "{" not in x.fix_hint for x in f)


def test_codes_are_unique_and_sorted():
    codes = [r.code for r in all_rules()]
    assert codes == sorted(set(codes))
    names = [r.name for r in all_rules()]
    assert len(names) == len(set(names))


def test_protocol_rejects_bad_rules():
    from flake8_modreg.rules import Invalid, Rule, Valid

    def make(**over):
        attrs = dict(
            __doc__="## What it does\n## Why is this bad?\n## Example\n## Use instead\n",
            code="MRG999",
            name="x-y",
            summary="s",
            message="m",
            fix_hint="h",
            default_enabled=False,
            valid=(Valid("x = 1", why="w"),),
            invalid=(Invalid("x = 1", at=[(1, 0)]),),
        )
        attrs.update(over)
        return type("Bad", (Rule,), attrs)

    with pytest.raises(TypeError, match="MRG###"):
        make(code="MRG1")
    with pytest.raises(TypeError, match="already used"):
        make(code="MRG101")
    with pytest.raises(TypeError, match="section"):
        make(__doc__="## What it does")
    with pytest.raises(TypeError, match="valid and one invalid"):
        make(valid=())
    with pytest.raises(TypeError, match="fix_safety"):
        make(invalid=(Invalid("x = 1", at=[(1, 0)], fixed="x = 2"),))
    with pytest.raises(TypeError, match="off by default"):
        make(default_enabled=True)
    with pytest.raises(TypeError, match="kebab"):
        make(name="Bad_Name")
