"""The MindSpore name tables as the model uses them (no MindSpore needed; the tables are
generated from the 2.10 wheel, and tests/test_mindspore_probes.py re-checks them against it)."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from flake8_modreg import known
from flake8_modreg.model import Tag, build_model


def _model(code: str):
    return build_model(cst.parse_module(textwrap.dedent(code)))


@pytest.mark.parametrize(
    "qualified,framework",
    [
        ("mindspore.mint.nn.Linear", "mindspore"),
        ("mindspore.mint.nn.Conv2d", "mindspore"),
        ("mindspore.mint.nn.layer.basic.Linear", "mindspore"),  # a private spelling, normalized
        ("mindspore.mint.nn.functional", None),
        ("mindspore.mint.nn.F", None),
        ("mindspore.mint.zeros", None),
    ],
)
def test_mint_nn_layers_are_cells(qualified, framework):
    assert known.framework_of_class(known.normalize(qualified)) == framework


def test_mint_nn_layer_state_is_generated():
    assert known.layer_state("mindspore.mint.nn.Linear")[0] is True
    assert known.layer_state("mindspore.mint.nn.ReLU")[0] is False
    assert known.layer_state("mindspore.mint.nn.LayerNorm") == (True, [["elementwise_affine"]])


def test_construct_unimplemented_bases_do_not_provide_construct():
    for name in ("Optimizer", "LossBase", "CellList", "CellDict", "Cell"):
        assert not known.forward_providing(f"mindspore.nn.{name}")
    for name in ("Dense", "SequentialCell", "WithLossCell"):
        assert known.forward_providing(f"mindspore.nn.{name}")


def test_cell_subclassing_a_mint_layer_and_mint_tensors():
    m = _model(
        """
        import mindspore
        from mindspore import mint
        from mindspore.common.initializer import initializer, Normal

        class Head(mint.nn.Linear):
            def __init__(self):
                super().__init__(4, 2)
                self.a = mint.zeros((2,))
                self.b = initializer(Normal(), (2, 2), mindspore.float32)
                t = mint.ones((2,))
                self.c = mint.exp(t)
                self.d = mint.nn.Linear(2, 2)
        """
    )
    (head,) = m.modules
    assert head.framework == "mindspore"
    kinds = {a.attr: m.kind_of(a.value, a.scope, a.order) for a in head.self_assigns}
    assert {k: v.tag for k, v in kinds.items()} == {"a": Tag.MS_TENSOR, "b": Tag.MS_TENSOR, "c": Tag.MS_TENSOR, "d": Tag.LAYER}


def test_module_level_alias_of_a_base():
    """``MSPreTrainedModel = PreTrainedModel``: the alias stands for the imported class (Python binds the same object)."""
    m = build_model(
        cst.parse_module(
            textwrap.dedent(
                """
                from mindspore import nn
                from mylib.modeling import PreTrainedModel

                MSCell = nn.Cell
                MSPreTrainedModel = PreTrainedModel
                Again = MSCell

                class A(MSCell):
                    pass

                class B(MSPreTrainedModel):
                    pass

                class C(Again):
                    pass

                Twice = nn.Cell
                Twice = object

                class D(Twice):
                    pass
                """
            )
        ),
        project_bases={"mylib.modeling.PreTrainedModel": "mindspore"},
    )
    fw = {c.name: c.framework for c in m.classes}
    assert fw == {"A": "mindspore", "B": "mindspore", "C": "mindspore", "D": None}


def test_every_mindspore_test_is_in_a_file_ci_runs_in_its_mindspore_venv():
    """.ci/run's MindSpore venv collects only tests/test_mindspore_*.py (other modules may import torch)."""
    import pathlib
    import re

    here = pathlib.Path(__file__).parent
    marked = {p.name for p in here.glob("test_*.py") if re.search(r"mark\.mindspore\b", p.read_text(encoding="utf-8"))}
    assert marked and all(re.fullmatch(r"test_mindspore_\w+\.py", n) for n in marked), marked
    assert "tests/test_mindspore_*.py" in (here.parent / ".ci" / "run").read_text(encoding="utf-8")


def _docs():
    from flake8_modreg.rules import all_rules

    return all_rules()


def test_rule_pages_cite_existing_runtime_tests():
    """Every `tests/<file>.py::<test>` a rule's docs cite exists (a glob may end in *)."""
    import fnmatch
    import pathlib
    import re

    here = pathlib.Path(__file__).parent
    cited = set()
    for r in _docs():
        text = re.sub(r"\s*\n\s*", " ", r.__doc__ or "")
        cited |= set(re.findall(r"tests/(test_\w+\.py)::(test_[\w*]+)", text))
    assert cited
    for file, name in sorted(cited):
        names = re.findall(r"^def (test_\w+)", (here / file).read_text(encoding="utf-8"), re.M)
        assert any(fnmatch.fnmatch(n, name) for n in names), f"{file}::{name}"


def test_every_rule_that_fires_on_cells_cites_a_mindspore_probe():
    """MRG502 is the exception: its MindSpore example is a torch Module holding MindSpore layers, which no
    single venv of ours can run (torch and MindSpore live apart); its claim about torch is run in
    tests/test_runtime_apis.py."""
    missing = [
        r.code
        for r in _docs()
        if any("mindspore" in c.code for c in r.invalid) and "tests/test_mindspore_" not in (r.__doc__ or "")
    ]
    assert missing == ["MRG502"]


def test_mint_layers_in_the_rules():
    """mint.nn layers: built in construct (MRG403), .construct() called on them (MRG306), a Cell subclassing one."""
    from flake8_modreg.core import run

    code = textwrap.dedent(
        """
        from mindspore import nn, mint

        class Block(mint.nn.Linear):
            def __init__(self):
                self.extra = mint.nn.Linear(2, 2)

        class Net(nn.Cell):
            def __init__(self):
                super().__init__()
                self.fc = mint.nn.Linear(4, 4)

            def construct(self, x):
                x = self.fc.construct(x)
                return mint.nn.Conv2d(4, 4, 3)(x)
        """
    )
    found = sorted((f.code, f.line, f.col) for f in run(code, path="net.py")[2])
    assert found == [("MRG306", 14, 12), ("MRG401", 5, 8), ("MRG403", 15, 15)]
