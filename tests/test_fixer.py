"""The fix engine: byte-exact outside the edit, encodings and line endings kept, overlaps resolved, noqa respected."""

import libcst as cst
import pytest

from flake8_modreg import Applicability, Config, Fix, ModregError, check
from flake8_modreg.fixer import _disjoint, apply_fixes, fix

BUGGY = "import torch.nn as nn\n\nclass Net(nn.Module):  # keep me\n    def construct(self, x):\n        return x  # and me\n"
FIXED = BUGGY.replace("def construct", "def forward")


def test_fix_renames_and_keeps_everything_else():
    result = fix(BUGGY)
    assert result.source == FIXED
    assert [f.code for f in result.applied] == ["MRG301"]
    assert result.remaining == []


def test_crlf_and_mixed_line_endings_are_kept():
    src = BUGGY.replace("\n", "\r\n")
    assert fix(src).source == FIXED.replace("\n", "\r\n")
    mixed = BUGGY.replace("keep me\n", "keep me\r\n")
    assert fix(mixed).source == FIXED.replace("keep me\n", "keep me\r\n")


def test_a_file_the_parser_cannot_round_trip_is_refused_not_damaged():
    """libcst drops the final CR of a bare-CR file; fixing it would change bytes outside the edit."""
    src = BUGGY.replace("\n", "\r")
    with pytest.raises(ModregError, match="byte for byte"):
        fix(src)


def test_utf8_bom_is_kept():
    assert fix("\ufeff" + BUGGY).source == "\ufeff" + FIXED


def test_bytes_in_a_pep263_encoding_stay_in_that_encoding():
    src = ("# -*- coding: latin-1 -*-\n# caf\u00e9\n" + BUGGY).encode("latin-1")
    out = fix(src).source
    assert isinstance(out, bytes)
    assert out == ("# -*- coding: latin-1 -*-\n# caf\u00e9\n" + FIXED).encode("latin-1")


def test_nothing_to_fix_returns_the_input_unchanged():
    assert fix(FIXED).source == FIXED
    assert fix("x = 1\n").source == "x = 1\n"
    assert not fix(FIXED).changed


def test_keep_filter_blocks_a_fix():
    result = fix(BUGGY, keep=lambda f, text: f.code != "MRG301")
    assert result.source == BUGGY
    assert [f.code for f in result.remaining] == ["MRG301"]


def test_only_selected_rules_are_fixed():
    assert fix(BUGGY, config=Config(select=("MRG1",))).source == BUGGY


def test_unparsable_source_raises_a_one_line_error():
    with pytest.raises(ModregError) as e:
        fix("import torch\nclass A(:\n")
    assert "\n" not in str(e.value)


def test_overlapping_fixes_apply_the_first_and_skip_the_nested_one():
    module = cst.parse_module("x = f(g(1))\n")
    outer = module.body[0].body[0].value  # f(g(1))
    inner = outer.args[0].value  # g(1)
    f1 = Fix(((outer, cst.parse_expression("h()")),), Applicability.SAFE)
    f2 = Fix(((inner, cst.parse_expression("k()")),), Applicability.SAFE)
    chosen = _disjoint([("a", f1), ("b", f2)])
    assert [name for name, _ in chosen] == ["a"]
    assert apply_fixes(module, [f for _, f in chosen]).code == "x = h()\n"
    # disjoint nodes both apply in one round
    module = cst.parse_module("a = f(1)\nb = g(2)\n")
    c1, c2 = module.body[0].body[0].value, module.body[1].body[0].value
    fixes = [Fix(((c1, cst.parse_expression("F()")),), Applicability.SAFE), Fix(((c2, cst.parse_expression("G()")),), Applicability.SAFE)]
    assert apply_fixes(module, fixes).code == "a = F()\nb = G()\n"


def test_imports_are_added_once_and_only_when_missing():
    module = cst.parse_module("import torch\n\nx = 1\n")
    f = Fix((), Applicability.SAFE, imports=(("torch", "nn", None), ("torch", "nn", None)))
    out = apply_fixes(module, [f]).code
    assert out.count("from torch import nn") == 1
    module = cst.parse_module("from torch import nn\n\nx = 1\n")
    assert apply_fixes(module, [f]).code == "from torch import nn\n\nx = 1\n"


def test_fixed_output_is_clean_for_the_fixed_rule():
    out = fix(BUGGY).source
    assert [f.code for f in check(out)] == []
