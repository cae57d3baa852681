"""The unsafe registration fixes (MRG101-103, 201, 202) as in/out pairs, beyond the rules' own examples.

Each pair is a whole file; ``None`` as output means: reported, but no fix
offered (the rewrite would not be certain).  Every fixed torch output is also
run under real torch (``test_fixed_pairs_run_and_register``).
"""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from flake8_modreg import Config, check
from flake8_modreg.fixer import fix

STRICT = Config(strict=True)

HEAD = "import torch\nimport torch.nn as nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"


def body(*lines: str) -> str:
    return HEAD + "".join(f"        {ln}\n" for ln in lines)


def used(attr: str, src: str) -> str:
    """``src`` with a forward that combines ``self.<attr>`` unmoved with the input: what makes a plain tensor an MRG201 bug."""
    return src + f"\n    def forward(self, x):\n        return x * self.{attr}\n"


# (id, source, expected fixed source or None for "reported, no fix")
PAIRS = [
    # -- MRG101 ----------------------------------------------------------------------------
    (
        "bare-tuple",
        body("self.heads = nn.Linear(2, 1), nn.Linear(2, 1)"),
        body("self.heads = nn.ModuleList([nn.Linear(2, 1), nn.Linear(2, 1)])"),
    ),
    (
        "multiline-tuple-keeps-layout",
        body("self.heads = (  # two heads", "    nn.Linear(2, 1),", "    nn.Linear(2, 1),", ")"),
        body("self.heads = nn.ModuleList([  # two heads", "    nn.Linear(2, 1),", "    nn.Linear(2, 1),", "])"),
    ),
    ("list-call", body("self.layers = list()", "self.layers.append(nn.Linear(2, 2))"), body("self.layers = nn.ModuleList()", "self.layers.append(nn.Linear(2, 2))")),
    (
        "augmented-add",
        body("self.layers = []", "self.layers += [nn.Linear(2, 2), nn.ReLU()]"),
        body("self.layers = nn.ModuleList()", "self.layers += [nn.Linear(2, 2), nn.ReLU()]"),
    ),
    (
        "appended-layers-and-a-sequential",  # transformers' OneFormerTransformerModule.input_projections
        body("self.proj = []", "for i in range(2):", "    if i:", "        self.proj.append(nn.Linear(2, 2))", "    else:", "        self.proj.append(nn.Sequential())"),
        body("self.proj = nn.ModuleList()", "for i in range(2):", "    if i:", "        self.proj.append(nn.Linear(2, 2))", "    else:", "        self.proj.append(nn.Sequential())"),
    ),
    ("list-with-non-layers", body("self.layers = [nn.Linear(2, 2), 3]"), None),
    ("nested-lists", body("self.layers = [[nn.Linear(2, 2)], [nn.ReLU()]]"), None),
    ("chained-targets", body("self.a = self.b = [nn.Linear(2, 2)]"), None),
    ("annotated", body("self.layers: list = [nn.Linear(2, 2)]"), None),
    ("list-method-modulelist-lacks", body("self.layers = [nn.Linear(2, 2)]", "self.layers.reverse()"), None),
    # -- MRG102 ----------------------------------------------------------------------------
    ("dict-filled-by-key", body("self.d = {}", "self.d['a'] = nn.Linear(2, 2)"), body("self.d = nn.ModuleDict()", "self.d['a'] = nn.Linear(2, 2)")),
    ("dict-key-with-dot", body("self.d = {'a.b': nn.Linear(2, 2)}"), None),
    ("dict-key-refused-later", body("self.d = {}", "self.d['keys'] = nn.Linear(2, 2)"), None),
    ("dict-int-key-later", body("self.d = {}", "self.d[0] = nn.Linear(2, 2)"), None),
    ("dict-get-is-missing", body("self.d = {'a': nn.Linear(2, 2)}", "self.x = self.d.get('a')"), None),
    # -- MRG103 ----------------------------------------------------------------------------
    ("param-tuple", body("self.ps = (nn.Parameter(torch.ones(1)), nn.Parameter(torch.ones(1)))"), body("self.ps = nn.ParameterList([nn.Parameter(torch.ones(1)), nn.Parameter(torch.ones(1))])")),
    ("param-dict", body("self.ps = dict(a=nn.Parameter(torch.ones(1)))"), body("self.ps = nn.ParameterDict(dict(a=nn.Parameter(torch.ones(1))))")),
    ("param-dict-reserved-kwarg", body("self.ps = dict(train=nn.Parameter(torch.ones(1)))"), None),
    ("param-list-insert-is-missing", body("self.ps = [nn.Parameter(torch.ones(1))]", "self.ps.insert(0, nn.Parameter(torch.ones(1)))"), None),
    # -- MRG201 ----------------------------------------------------------------------------
    ("buffer-single-quotes-comment", used("t", body("self.t = torch.zeros(3)  # state")), used("t", body('self.register_buffer("t", torch.zeros(3))  # state'))),
    ("buffer-semicolon-line", used("t", body("self.t = torch.zeros(3); self.u = 1")), used("t", body('self.register_buffer("t", torch.zeros(3)); self.u = 1'))),
    (
        "buffer-reassigned-a-tensor-later",
        used("t", body("self.t = torch.zeros(3)", "self.t = torch.ones(3)")),
        used("t", body('self.register_buffer("t", torch.zeros(3))', "self.t = torch.ones(3)")),
    ),
    ("buffer-reassigned-a-float-later", used("t", body("self.t = torch.zeros(3)", "self.t = 0.5")), None),
    ("buffer-name-of-a-module-method", used("train", body("self.train = torch.zeros(3)")), None),
    ("buffer-in-for", used("t", body("for _ in range(1):", "    self.t = torch.zeros(3)")), None),
    # -- MRG202 ----------------------------------------------------------------------------
    (
        "param-kwarg-in-the-middle",
        body("self.w = torch.zeros(3, requires_grad=True, dtype=torch.float64)"),
        body("self.w = nn.Parameter(torch.zeros(3, dtype=torch.float64))"),
    ),
    ("param-requires-grad-underscore-true", body("self.w = torch.zeros(3).requires_grad_(True)"), body("self.w = nn.Parameter(torch.zeros(3))")),
    (
        "non-literal-requires-grad-is-mrg201",
        used("w", body("flag = True", "self.w = torch.zeros(3, requires_grad=flag)")),
        used("w", body("flag = True", 'self.register_buffer("w", torch.zeros(3, requires_grad=flag))')),
    ),
]


def _ids(pairs):
    return [p[0] for p in pairs]


@pytest.mark.parametrize("name,source,expected", PAIRS, ids=_ids(PAIRS))
def test_pair(name, source, expected):
    assert check(source, config=STRICT), "the pair must be reported at all"
    out = fix(source, config=STRICT, unsafe=True).source
    assert out == (expected if expected is not None else source)
    if expected is not None:
        cst.parse_module(out)
        assert fix(out, config=STRICT, unsafe=True).source == out
        assert fix(source, config=STRICT).source == source  # unsafe: not without --unsafe-fixes


def test_multiline_kwarg_removal_keeps_the_layout():
    src = body("self.w = torch.zeros(", "    3,", "    requires_grad=True,", ")")
    assert fix(src, config=STRICT, unsafe=True).source == body("self.w = nn.Parameter(torch.zeros(", "    3,", "))")


# -- spelling the wrapper: existing alias, added import, or no fix ------------------------------------


def _module(imports: str, extra: str = "") -> str:
    return textwrap.dedent(imports).lstrip() + textwrap.dedent(
        f"""

        class Net(Module):
            def __init__(self):
                super().__init__()
                self.layers = [Linear(2, 2)]{extra}
        """
    )


def test_import_added_when_nn_is_free():
    src = _module("from torch.nn import Linear, Module\n")
    out = fix(src, config=STRICT, unsafe=True).source
    assert out == _module("from torch.nn import Linear, Module\nfrom torch import nn\n").replace(
        "[Linear(2, 2)]", "nn.ModuleList([Linear(2, 2)])"
    )


def test_plain_import_torch_when_nn_is_taken():
    src = _module("from torch.nn import Linear, Module\n\nnn = 3\n")
    out = fix(src, config=STRICT, unsafe=True).source
    assert "import torch\n" in out and "self.layers = torch.nn.ModuleList([Linear(2, 2)])" in out


def test_no_fix_when_nn_and_torch_are_both_taken():
    src = _module("from torch.nn import Linear, Module\n\nnn = torch = 3\n")
    findings = [f for f in check(src, config=STRICT) if f.code == "MRG101"]
    assert findings and findings[0].fix is None


def test_alias_shadowed_in_the_method_is_not_used():
    src = textwrap.dedent(
        """
        import torch
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self, nn=None):
                super().__init__()
                self.layers = [torch.nn.Linear(2, 2)]
        """
    )
    out = fix(src, config=STRICT, unsafe=True).source
    assert "self.layers = torch.nn.ModuleList([torch.nn.Linear(2, 2)])" in out


def test_named_list_settled_before_the_assignment_is_wrapped():
    src = body("layers = []", "for _ in range(2):", "    layers.append(nn.Linear(2, 2))", "self.layers = layers")
    assert fix(src, config=STRICT, unsafe=True).source.endswith("self.layers = nn.ModuleList(layers)\n")


def test_named_list_mutated_after_the_assignment_is_not_wrapped():
    src = body("layers = [nn.Linear(2, 2)]", "self.layers = layers", "layers.pop()")
    assert fix(src, config=STRICT, unsafe=True).source == src


def test_no_wrapper_in_a_sequential_subclass():
    """A ModuleList child of an nn.Sequential subclass would become a step of its forward."""
    src = textwrap.dedent(
        """
        import torch.nn as nn

        class Stack(nn.Sequential):
            def __init__(self):
                super().__init__(nn.Linear(2, 2))
                self.extra = [nn.Linear(2, 2)]

        class Deeper(Stack):
            def __init__(self):
                super().__init__()
                self.more = [nn.Linear(2, 2)]
        """
    )
    assert [f.code for f in check(src, config=STRICT)] == ["MRG101", "MRG101"]
    assert fix(src, config=STRICT, unsafe=True).source == src


@pytest.mark.torch
def test_sequential_subclass_really_runs_a_registered_child(torch):
    """Why the fix is withheld there: the registered list becomes a step and forward raises."""

    class Stack(torch.nn.Sequential):
        def __init__(self):
            super().__init__(torch.nn.Linear(2, 2))
            self.extra = torch.nn.ModuleList([torch.nn.Linear(2, 2)])

    with pytest.raises(NotImplementedError):
        Stack()(torch.zeros(1, 2))


def test_buffer_name_set_by_a_same_file_base_is_not_registered():
    src = textwrap.dedent(
        """
        import torch
        import torch.nn as nn

        class Base(nn.Module):
            def __init__(self):
                super().__init__()
                self.t = None

        class Net(Base):
            def __init__(self):
                super().__init__()
                self.t = torch.zeros(3)

            def forward(self, x):
                return x * self.t
        """
    )
    assert [f.code for f in check(src, config=STRICT)] == ["MRG201"]
    assert fix(src, config=STRICT, unsafe=True).source == src


@pytest.mark.torch
@pytest.mark.parametrize("name,source,expected", [p for p in PAIRS if p[2] is not None], ids=_ids([p for p in PAIRS if p[2] is not None]))
def test_fixed_pairs_run_and_register(torch, name, source, expected):
    """Every fixed pair runs under torch, and whatever the plain code kept outside the state is now inside it."""
    ns: dict = {"__name__": "modreg_pair"}
    exec(compile(expected, name, "exec"), ns)
    net = ns["Net"]()
    before: dict = {"__name__": "modreg_pair"}
    exec(compile(source, name, "exec"), before)
    assert len(net.state_dict()) > len(before["Net"]().state_dict())


# -- the CLI on the shipped examples ----------------------------------------------------------------


@pytest.mark.torch
def test_unsafe_fix_of_the_torch_example_runs_and_registers_its_state(torch, tmp_path):
    """`modreg check --fix --unsafe-fixes` on a copy of examples/: the model runs and its state is registered."""
    import io
    import runpy
    import shutil
    from pathlib import Path

    from flake8_modreg import cli

    examples = Path(__file__).resolve().parent.parent / "examples"
    work = tmp_path / "examples"
    shutil.copytree(examples, work)
    out, err = io.StringIO(), io.StringIO()
    assert cli.main(["check", "--no-cache", "--fix", "--unsafe-fixes", str(work)], stdout=out, stderr=err) == 0, out.getvalue() + err.getvalue()
    assert "0 remaining" in out.getvalue() + err.getvalue()
    fixed = (work / "torch_model.py").read_text()
    assert "self.layers = nn.ModuleList(layer_list)" in fixed
    assert 'self.register_buffer("my_tensor", torch.randn(1))  # MRG201' in fixed
    net = runpy.run_path(str(work / "torch_model.py"))["MyNet"]()
    keys = set(net.state_dict())
    assert {"layers.0.weight", "layers.2.weight", "heads.cls.weight", "my_tensor", "my_buffer"} <= keys
    assert net(torch.randn(1, 3, 8, 8)).shape == (1, 64, 6, 6)
    assert cli.main(["check", "--no-cache", str(work)], stdout=io.StringIO(), stderr=io.StringIO()) == 0
