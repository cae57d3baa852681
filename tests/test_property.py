"""Property tests: arbitrary programs never crash the checker; generated Modules get exactly the expected findings.

CI runs a bounded profile (seconds). The long profile, by hand:

    HYPOTHESIS_PROFILE=long python -m pytest tests/test_property.py -q --hypothesis-show-statistics
"""

from __future__ import annotations

import os

import libcst as cst
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flake8_modreg import Config, ModregError, check

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)
settings.register_profile(
    "long", max_examples=5000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ALL = Config(select=("ALL",), strict=True)


def _assert_sane(source: str, findings) -> None:
    lines = source.splitlines() or [""]
    for f in findings:
        assert 1 <= f.line <= f.end_line <= len(lines) + 1, f
        assert 0 <= f.col and 0 <= f.end_col
        if f.line <= len(lines):
            assert f.col <= len(lines[f.line - 1]), f
        assert f.message and f.code.startswith("MRG")


try:
    import hypothesmith
except ImportError:  # pragma: no cover - the test extra installs it
    hypothesmith = None


@pytest.mark.skipif(hypothesmith is None, reason="hypothesmith is not installed")
@given(st.data())
def test_any_valid_program_gives_findings_or_one_error(data):
    program = data.draw(hypothesmith.from_node(cst.Module))
    source = "import torch\nimport torch.nn as nn\n" + program
    try:
        findings = check(source, config=ALL)
    except ModregError as e:
        assert "\n" not in str(e)
        return
    _assert_sane(source, findings)
    assert findings == check(source, config=ALL)  # deterministic


# --- a generator of Module/Cell classes whose bugs are known ----------------------------------

# (template, expected code or None). `{a}` is a fresh attribute name.
TORCH_STMTS = [
    ("self.{a} = [nn.Linear(2, 2) for _ in range(2)]", "MRG101"),
    ("self.{a} = (nn.Conv2d(1, 1, 1), nn.ReLU())", "MRG101"),
    ("self.{a} = [Block()] * 2", "MRG101"),
    ("self.{a} = {{'x': nn.Linear(2, 2)}}", "MRG102"),
    ("self.{a} = [nn.Parameter(torch.ones(1))]", "MRG103"),
    ("self.{a} = torch.zeros(3)", "MRG201"),
    ("self.{a} = torch.arange(4).float()", "MRG201"),
    ("self.{a} = torch.randn(2, requires_grad=True)", "MRG202"),
    ("self.{a} = nn.ModuleList([nn.Linear(2, 2)])", None),
    ("self.{a} = nn.Parameter(torch.zeros(1))", None),
    ("self.register_buffer('{a}', torch.zeros(1))", None),
    ("self.{a} = nn.Buffer(torch.ones(1))", None),
    ("self.{a} = [1, 2, 3]", None),
    ("self.{a}: int = 3", None),
    ("self.{a} = None", None),
    ("if (n := 2) > 1:\n        self.{a} = n", None),
    ("self.{a} = [self.fc, self.fc]", None),
    ("for _i in range(2):\n        self.add_module(f'{a}{{_i}}', nn.Linear(2, 2))", None),
    (
        "match 1:\n        case 1:\n            self.{a} = 1\n        case _:\n            pass",
        None,
    ),
]
MS_STMTS = [
    ("self.{a} = [nn.Dense(2, 2), nn.Dense(2, 2)]", "MRG101"),
    ("self.{a} = {{'x': nn.Dense(2, 2)}}", "MRG102"),
    ("self.{a} = nn.CellList([nn.Dense(2, 2)])", None),
    ("self.{a} = 0.5", None),
]
EXTRAS = [
    "\n    @property\n    def size(self) -> int:\n        return 1\n",
    "\n    async def helper(self):\n        return None\n",
    "\n    class Inner:\n        def __init__(self):\n            self.layers = [1, 2]\n",
    "\n    @staticmethod\n    def make():\n        return [nn.Linear(2, 2)]\n",
    "",
]


@st.composite
def module_files(draw):
    framework = draw(st.sampled_from(["torch", "mindspore"]))
    menu = TORCH_STMTS if framework == "torch" else MS_STMTS
    n_classes = draw(st.integers(1, 3))
    if framework == "torch":
        header = "import torch\nimport torch.nn as nn\n\n\nclass Block(nn.Module):\n    def forward(self, x):\n        return x\n"
        base_choices = ["nn.Module", "Block", "nn.Sequential"]
        entry, other, root, slip_code = "forward", "construct", "Module", "MRG301"
    else:
        header = "import mindspore\nfrom mindspore import nn\n\n\nclass Block(nn.Cell):\n    def construct(self, x):\n        return x\n"
        base_choices = ["nn.Cell", "Block"]
        entry, other, root, slip_code = "construct", "forward", "Cell", "MRG302"
    lines = header.splitlines()
    expected = set()
    for c in range(n_classes):
        base = draw(st.sampled_from(base_choices))
        lines += ["", "", f"class Net{c}({base}):", "    def __init__(self):", "        super().__init__()"]
        if framework == "torch":
            lines.append("        self.fc = nn.Linear(2, 2)")
        picks = draw(st.lists(st.sampled_from(range(len(menu))), min_size=1, max_size=6))
        used = []  # MRG201 is use-based: the entry method combines each plain tensor, unmoved, with its input
        for i, k in enumerate(picks):
            template, code = menu[k]
            stmt = template.format(a=f"attr{c}_{i}")
            if code is not None:
                expected.add((code, len(lines) + 1, 8))
            if code == "MRG201":
                used.append(f"attr{c}_{i}")
            lines += ["        " + ln if j == 0 else "    " + ln for j, ln in enumerate(stmt.split("\n"))]
        slip = draw(st.booleans()) and draw(st.booleans())  # a quarter: the other framework's entry point
        name = other if slip else entry
        if slip and base in (f"nn.{root}",):
            expected.add((slip_code, len(lines) + 2, 8))
        elif slip:  # Block (or nn.Sequential) provides the entry point: the renamed override never runs
            expected.add(("MRG307", len(lines) + 2, 8))
        lines += ["", f"    def {name}(self, x):", *(f"        x = x + self.{a}" for a in used), "        return x"]
        lines += draw(st.sampled_from(EXTRAS)).split("\n")
    return "\n".join(lines) + "\n", expected


@given(module_files())
def test_generated_modules_get_exactly_the_expected_findings(case):
    source, expected = case
    findings = check(source, config=Config(strict=True))
    _assert_sane(source, findings)
    assert {(f.code, f.line, f.col) for f in findings} == expected, source


def _changed_lines(before: str, after: str) -> list[tuple[int, int, list[str]]]:
    """(first, last) 1-based line ranges of ``before`` that differ, with the inserted text."""
    import difflib

    a, b = before.splitlines(), after.splitlines()
    out = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if tag != "equal":
            out.append((i1 + 1, i2, b[j1:j2]))
    return out


@given(module_files())
def test_fixes_reparse_converge_and_touch_only_what_they_fix(case):
    """Issue 7: fixed text re-parses, a second fix is a no-op, text outside the fixed statements is unchanged."""
    from flake8_modreg.fixer import fix

    source, _ = case
    result = fix(source, config=Config(strict=True), unsafe=True)
    cst.parse_module(result.source)
    assert fix(result.source, config=Config(strict=True), unsafe=True).source == result.source
    spans = [(f.line, f.end_line) for f in result.applied]
    for first, last, inserted in _changed_lines(source, result.source):
        if last < first:  # a pure insertion: only imports may be added
            assert all(ln.startswith(("import ", "from ")) for ln in inserted), inserted
            continue
        # every changed line lies in a fixed finding's span (adjacent fixes make one hunk)
        assert all(any(lo <= ln <= hi for lo, hi in spans) for ln in range(first, last + 1)), (first, last, spans, result.source)


_REGISTRATION = {"MRG101", "MRG102", "MRG103", "MRG201", "MRG202"}


@pytest.mark.torch
@given(module_files())
def test_unsafe_fixes_give_torch_code_that_registers_the_state(case):
    """The registration fixes on generated torch Modules: the fixed file runs and every fixed attribute is state."""
    import re

    from flake8_modreg.fixer import fix

    torch = pytest.importorskip("torch")
    source, expected = case
    if "import torch\n" not in source:
        return  # a MindSpore file
    result = fix(source, config=Config(strict=True), unsafe=True)
    lines = source.splitlines()
    attrs = {re.search(r"self\.(\w+)", lines[line - 1]).group(1) for code, line, _ in expected if code in _REGISTRATION}
    attrs -= {re.search(r"self\.(\w+)", result.source.splitlines()[f.line - 1]).group(1) for f in result.remaining}
    ns: dict = {"__name__": "modreg_property"}
    exec(compile(result.source, "<fixed>", "exec"), ns)
    for name, cls in ns.items():
        if not (name.startswith("Net") and isinstance(cls, type)):
            continue
        net = cls()
        state = {t.data_ptr() for t in net.state_dict().values()}
        for attr in attrs:
            if not hasattr(net, attr):
                continue  # the attribute belongs to another generated class
            value = getattr(net, attr)
            if isinstance(value, torch.nn.Module):
                assert net._modules.get(attr) is value, (attr, result.source)
                tensors = list(value.parameters()) + list(value.buffers())
            else:
                tensors = [value]
            assert all(t.data_ptr() in state for t in tensors), (attr, result.source)
