"""The pure logic of the mutation harness (tests/realworld/mutate.py): no downloads."""

from __future__ import annotations

import ast
import importlib.util
import sys
import textwrap
from pathlib import Path

import pytest

_PATH = Path(__file__).parent / "realworld" / "mutate.py"
_spec = importlib.util.spec_from_file_location("modreg_mutate", _PATH)
M = importlib.util.module_from_spec(_spec)
sys.modules["modreg_mutate"] = M  # dataclasses look their module up
_spec.loader.exec_module(M)


def _d(s: str) -> str:
    return textwrap.dedent(s).lstrip("\n")


LAYERS = _d(
    """
    from torch import nn

    class Block(nn.Module):
        def __init__(self, dim):
            super().__init__()
            self.fc = nn.Linear(dim, dim)

        def forward(self, x):
            return self.fc(x)

    class Gate(nn.Module):
        def forward(self, x):
            return x
    """
)

MODEL = _d(
    """
    import torch
    from torch import nn
    from ..layers import Block, Gate


    class Net(nn.Module):
        def __init__(self, dim, depth=2, norm_layer=nn.LayerNorm):
            super().__init__()
            self.blocks = nn.ModuleList([Block(dim) for _ in range(depth)])
            self.norm = norm_layer(dim)
            self.act = nn.ReLU()
            self.register_buffer("pos", torch.zeros(4, dim))
            self.register_buffer("scale", torch.tensor(2.0))
            self.register_buffer("idx", torch.arange(4), persistent=False)
            self.weight = nn.Parameter(torch.ones(dim))
            self.register_buffer("rel", torch.arange(4))
            self.table = nn.Parameter(torch.zeros(8))
            self.inv = nn.Buffer(torch.ones(dim), persistent=False)
            self.register_buffer("cast", torch.ones(dim))
            self.register_buffer("meta", torch.ones(dim))

        def forward(self, x):
            for blk in self.blocks:
                x = blk(x)
            x = self.act(self.norm(x + self.pos) * self.scale)
            return x * self.weight * self.inv + self.idx.to(x.device).sum() + self.table[self.rel.view(-1)] + self.cast.to(torch.float32) + x.new_zeros(self.meta.shape)


    class Head(Block):
        def __init__(self, dim):
            super().__init__(dim)
            self.gate = Gate()
    """
)


@pytest.fixture
def corpus():
    files = {"pkg/layers/__init__.py": "from .block import Block, Gate\n", "pkg/layers/block.py": LAYERS,
             "pkg/models/net.py": MODEL, "pkg/__init__.py": "", "pkg/models/__init__.py": ""}
    infos = {rel: M.FileInfo(rel, ast.parse(text)) for rel, text in files.items()}
    index = M.Index(infos)
    return index, M.FileCandidates(MODEL, infos["pkg/models/net.py"], index)


def by_kind(fc):
    out = {}
    for m in fc.all():
        out.setdefault(m.kind, []).append(m)
    return out


def test_edits_and_line_maps_round_trip():
    text = "a\nb\nc\nd\ne\n"
    lines = text.splitlines(keepends=True)
    edits = [M.Edit(M.offset(lines, 2, 0), M.offset(lines, 3, 1), "B"),  # two lines become one
             M.Edit(M.offset(lines, 5, 0), M.offset(lines, 5, 0), "x\ny\n")]  # two lines inserted before e
    new = M.apply_edits(text, edits)
    assert new == "a\nB\nd\nx\ny\ne\n"
    lm = M.LineMap(text, edits)
    assert [lm.to_new(i) for i in (1, 2, 3, 4, 5)] == [1, 2, 2, 3, 4]
    assert [lm.to_orig(i) for i in (1, 2, 3, 4, 5, 6)] == [1, 2, 4, 5, 5, 5]
    with pytest.raises(ValueError):
        M.apply_edits(text, [M.Edit(0, 3, ""), M.Edit(2, 4, "")])


def test_offsets_are_utf8_columns_as_ast_gives_them():
    text = 's = "é"; t = 1\n'
    node = ast.parse(text).body[1]
    assert text[M.offset(text.splitlines(True), node.lineno, node.col_offset):].startswith("t = 1")


def test_index_follows_bases_across_files_and_reexports(corpus):
    index, _ = corpus
    assert index.framework("pkg.layers.Block") == "torch"
    assert index.framework("pkg.models.net.Head") == "torch"  # Block comes through pkg/layers/__init__.py
    assert index.base_origin(index.files["pkg/models/net.py"], "Head") == "base-other-file"
    assert index.stateful("pkg.layers.Block") is True
    assert index.stateful("pkg.layers.Gate") is False
    assert index.stateful("torch.nn.ReLU") is False


def test_list_mutant_turns_the_container_into_its_list(corpus):
    _, fc = corpus
    (m,) = by_kind(fc)["list"]
    new = M.apply_edits(MODEL, m.edits)
    assert "self.blocks = [Block(dim) for _ in range(depth)]" in new
    assert m.expect == (9, 9) and m.evidence.startswith("list-comprehension,class-other-file")


def test_buffers_used_only_through_to_or_zero_d_are_not_bugs(corpus):
    _, fc = corpus
    ms = {m.mutated.strip(): m for m in by_kind(fc)["buffer"]}
    assert ms["self.pos = torch.zeros(4, dim)"].excluded is None
    assert ms["self.scale = torch.tensor(2.0)"].excluded == "0-d constant"
    assert ms["self.idx = torch.arange(4)"].excluded.startswith("only read via .to")
    assert ms["self.cast = torch.ones(dim)"].excluded is None  # a cast does not move it
    assert ms["self.meta = torch.ones(dim)"].excluded  # its shape is no use of its values
    assert ms["self.rel = torch.arange(4)"].excluded.startswith("only used as an index")
    assert ms["self.inv = torch.ones(dim)"].excluded is None  # nn.Buffer(t, persistent=False) -> t
    p = {m.mutated.strip(): m for m in by_kind(fc)["param"]}
    assert p["self.weight = torch.ones(dim)"].excluded is None
    assert p["self.table = torch.zeros(8)"].excluded is None  # indexed, not an index


def test_forward_call_mutants_need_a_known_layer(corpus):
    _, fc = corpus
    calls = by_kind(fc)["fwdcall"]
    got = {m.mutated.strip(): m.evidence for m in calls}
    assert got == {"x = self.act(self.norm.forward(x + self.pos) * self.scale)": "factory-param",
                   "x = self.act.forward(self.norm(x + self.pos) * self.scale)": "nn-layer"}


def test_rename_nosuper_and_move(corpus):
    _, fc = corpus
    kinds = by_kind(fc)
    rename = {m.line: m for m in kinds["rename"]}
    assert rename[22].mutated.strip() == "def construct(self, x):" and rename[22].expect == (22, 22)
    nosuper = {m.line: m for m in kinds["nosuper"]}
    assert nosuper[8].expect == (7, 7) and nosuper[31].evidence == "base-other-file"
    moves = {M.apply_edits(MODEL, m.edits).splitlines()[m.expect[0] - 1].strip(): m for m in kinds["inforward"]}
    assert moves["act = nn.ReLU()"].excluded == "a layer without weights"
    # norm_layer, dim: names of __init__, kept on self there and read from self in forward (no NameError)
    norm = moves["norm = self._mut_norm_layer(self._mut_dim)"]
    assert norm.excluded is None and norm.evidence == "factory-param,init-names"
    new = M.apply_edits(MODEL, norm.edits)
    assert "x = self.act(norm(x + self.pos) * self.scale)" in new
    assert "        self._mut_dim = dim; self._mut_norm_layer = norm_layer\n" in new
    compile(new, "mutant.py", "exec")


def test_score_counts_the_hit_and_maps_collateral_back():
    text = "l1\nl2\nl3\nl4\n"
    m = M.Mutant("list", "f.py", 2, [M.Edit(3, 5, "L2\nL2b")], (2, 3), "x")
    # baseline: MRG201 on line 4; mutant: the hit on line 2, MRG201 moved to line 5, one new MRG306 on line 5
    found, coll = M.score(m, [("MRG201", 4)], [("MRG101", 2), ("MRG201", 5), ("MRG306", 5)], text)
    assert found and coll == [("MRG306", 4)]
    found, coll = M.score(m, [("MRG101", 2)], [("MRG101", 2)], text)  # already reported before the mutation
    assert not found and coll == []
    found, _ = M.score(m, [], [("MRG101", 4)], text)  # right code, wrong line
    assert not found


def test_sample_is_seeded_skips_excluded_and_spreads_over_files():
    def mk(f, i, ex=None):
        return M.Mutant("list", f, i, [], (i, i), "e", ex)

    cands = [mk("a.py", i) for i in range(10)] + [mk("b.py", 1), mk("c.py", 1, "not a bug")]
    s1 = M.sample(cands, 3, 0, "list")
    assert [(m.file, m.line) for m in s1] == [(m.file, m.line) for m in M.sample(cands, 3, 0, "list")]
    assert sum(m.file == "a.py" for m in s1) == 2 and any(m.file == "b.py" for m in s1)
    assert all(m.excluded is None for m in M.sample(cands, 20, 1, "list"))
    assert len(M.sample(cands, 20, 1, "list")) == 11
    assert all(m.file != "b.py" for m in M.sample(cands, 20, 1, "list", ok=lambda m: m.file != "b.py"))
    assert M.parses("x = 1\n") and not M.parses("x = (\n")


def test_write_doc_adds_and_then_replaces_its_own_block(tmp_path):
    doc = tmp_path / "accuracy.md"
    doc.write_text("# Accuracy\n\n## timm\n\nkeep me\n\n## Decisions per rule\n\nkeep me too\n")
    data = {"label": "timm", "wheel": "timm-1", "commit": "abc", "results": [], "counts": {}, "verified": []}
    M.write_doc(data, doc)
    M.write_doc({**data, "commit": "def"}, doc)
    text = doc.read_text()
    assert text.count("## Mutation recall") == 1 and text.count("<!-- mutation-timm:start -->") == 1
    assert "commit `def`" in text and "commit `abc`" not in text
    assert "keep me\n" in text and "keep me too" in text


def test_flake8_view_finds_a_list_mutant_end_to_end(tmp_path):
    src = _d(
        """
        from torch import nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = nn.ModuleList([nn.Linear(4, 4), nn.Linear(4, 4)])

            def forward(self, x):
                for layer in self.layers:
                    x = layer(x)
                return x
        """
    )
    (tmp_path / "net.py").write_text(src)
    info = M.FileInfo("net.py", ast.parse(src))
    fc = M.FileCandidates(src, info, M.Index({"net.py": info}))
    (m,) = by_kind(fc)["list"]
    view = M.Flake8View(tmp_path)
    found, coll = M.score(m, view.check(tmp_path / "net.py", src), view.check(tmp_path / "net.py", M.apply_edits(src, m.edits)), src)
    assert found and coll == []


def test_mindspore_frozen_parameters_are_constants_unless_updated():
    src = _d(
        """
        import mindspore as ms
        from mindspore import nn, ops, Parameter, Tensor
        from mindspore.common.initializer import initializer

        class Head(nn.Cell):
            def __init__(self, n):
                super().__init__()
                self.w = Parameter(initializer("normal", (n, n)))
                self.stride = Parameter(Tensor([8, 16], ms.int32), requires_grad=False)
                self.steps = Parameter(Tensor([0], ms.int32), requires_grad=False)
                self.cells = nn.CellList([nn.Dense(n, n) for _ in range(2)])

            def construct(self, x):
                ops.assign(self.steps, self.steps + 1)
                for c in self.cells:
                    x = c(x)
                return ops.matmul(x, self.w) * self.stride[0]
        """
    )
    info = M.FileInfo("head.py", ast.parse(src))
    fc = M.FileCandidates(src, info, M.Index({"head.py": info}))
    kinds = by_kind(fc)
    params = {m.mutated.strip(): m.excluded for m in kinds["ms-param"]}
    assert params['self.w = initializer("normal", (n, n))'] is None
    assert params["self.stride = Tensor([8, 16], ms.int32)"].startswith("MindSpore constant")
    assert params["self.steps = Tensor([0], ms.int32)"] is None  # updated in construct: state
    (lst,) = kinds["ms-list"]
    assert lst.mutated.strip() == "self.cells = [nn.Dense(n, n) for _ in range(2)]"
    calls = {m.mutated.strip() for m in kinds.get("ms-constructcall", [])}
    assert "x = c(x)" not in calls  # a loop variable is not self.m
    assert {m.mutated.strip() for m in kinds["ms-rename"]} == {"def forward(self, x):"}


def test_scalar_parameters_make_zero_d_tensors_and_subclass_registrations_count():
    src = _d(
        """
        import torch
        from torch import nn

        class Pool(nn.Module):
            def __init__(self, r: float = 10.0, n=3, shape=(4,), learn: bool = True):
                super().__init__()
                self.register_buffer("r", torch.tensor(r))
                self.register_buffer("n", torch.tensor(n))
                self.register_buffer("s", torch.tensor(shape))
                self.w = nn.Parameter(torch.ones(4))

            def forward(self, x):
                return x * self.r * self.n * self.s * self.w

            def prune(self):
                if hasattr(self, "dist"):
                    self.dist = nn.Parameter(self.dist[:2].detach())

        class Distilled(Pool):
            def __init__(self):
                super().__init__()
                self.dist = nn.Parameter(torch.ones(3))

            def forward(self, x):
                return super().forward(x) * self.dist.sum()
        """
    )
    info = M.FileInfo("pool.py", ast.parse(src))
    fc = M.FileCandidates(src, info, M.Index({"pool.py": info}))
    kinds = by_kind(fc)
    buffers = {m.mutated.strip(): m.excluded for m in kinds["buffer"]}
    assert buffers["self.r = torch.tensor(r)"] == "0-d constant"  # r: float
    assert buffers["self.n = torch.tensor(n)"] == "0-d constant"  # n=3
    assert buffers["self.s = torch.tensor(shape)"] is None  # a tuple: 1-d
    params = {m.mutated.strip(): m.excluded for m in kinds["param"]}
    assert params["self.w = torch.ones(4)"] is None
    # the subclass registers `dist` in its __init__: assigning a plain tensor there raises (loud, not silent)
    assert params["self.dist = self.dist[:2].detach()"].startswith("registered in another method")


def test_a_buffer_moved_through_a_local_at_its_use_is_not_a_bug():
    src = _d(
        """
        import torch
        from torch import nn

        class Emb(nn.Module):
            def __init__(self, n, d):
                super().__init__()
                self.pos = nn.Embedding(n, d)
                self.register_buffer("position_ids", torch.arange(n).expand((1, -1)), persistent=False)
                self.register_buffer("bias", torch.zeros(d))
                self.register_buffer("freq", torch.ones(d))

            def forward(self, x, position_ids=None):
                if position_ids is None:
                    position_ids = self.position_ids[:, : x.shape[1]].clone()
                b = self.bias if x.dim() == 3 else self.bias[None]
                return x + self.pos(position_ids.to(x.device)) + b + self.freq[None].to(x.device)
        """
    )
    info = M.FileInfo("emb.py", ast.parse(src))
    fc = M.FileCandidates(src, info, M.Index({"emb.py": info}))
    buffers = {m.mutated.strip(): m.excluded for m in by_kind(fc)["buffer"]}
    assert buffers["self.position_ids = torch.arange(n).expand((1, -1))"].startswith("only read via .to")
    assert buffers["self.bias = torch.zeros(d)"] is None  # bound to a local that is used unmoved
    assert buffers["self.freq = torch.ones(d)"].startswith("only read via .to")  # sliced, then moved


def test_a_buffer_read_into_a_local_that_is_then_rebound_moved_is_moved_at_its_use():
    """`b = self.bias` ... `b = b.to(x.device)` ... `x + b`: the later use reads the moved value (owlvit's box bias)."""
    src = _d(
        """
        import torch
        from torch import nn

        class Head(nn.Module):
            def __init__(self, d):
                super().__init__()
                self.register_buffer("bias", torch.zeros(d))
                self.register_buffer("shift", torch.zeros(d))

            def forward(self, x, fresh=False):
                if fresh:
                    b = torch.zeros(x.shape[-1])
                else:
                    b = self.bias
                b = b.to(x.device)
                s = self.shift
                y = s.to(x.device)
                return x + b + y + s
        """
    )
    info = M.FileInfo("head.py", ast.parse(src))
    fc = M.FileCandidates(src, info, M.Index({"head.py": info}))
    buffers = {m.mutated.strip(): m.excluded for m in by_kind(fc)["buffer"]}
    assert buffers["self.bias = torch.zeros(d)"].startswith("only read via .to")
    assert buffers["self.shift = torch.zeros(d)"] is None  # `s` itself is still used unmoved


def test_statements_that_cannot_run_are_not_bugs():
    """A Parameter under `if self.use_past:` after `__init__` raised for `use_past=True` is dead code, and
    `np.zeros(1, n, dim)` raises before the Parameter is made (numpy's third positional parameter is `order`): a
    mutant there changes nothing. Look-alikes stay bugs: the raise is for another flag, or the shape is a tuple."""
    src = _d(
        """
        import numpy as np
        from mindspore import nn, Parameter, Tensor

        class Layer(nn.Cell):
            def __init__(self, n: int, dim: int = 8, use_past=False, other=False):
                super().__init__()
                if use_past:
                    raise ValueError("use_past is not supported")
                self.use_past = use_past
                self.other = other
                if self.use_past:
                    self.key_past = Parameter(Tensor(np.zeros((1, n))))
                if self.other:
                    self.value_past = Parameter(Tensor(np.zeros((1, n))))
                self.pos = Parameter(Tensor(np.zeros(1, n, dim)))
                self.pos2 = Parameter(Tensor(np.zeros((1, n, dim))))

            def construct(self, x):
                return x + self.key_past + self.value_past + self.pos + self.pos2
        """
    )
    info = M.FileInfo("layer.py", ast.parse(src))
    fc = M.FileCandidates(src, info, M.Index({"layer.py": info}))
    params = {m.mutated.strip(): m.excluded for m in by_kind(fc)["ms-param"]}
    assert params["self.key_past = Tensor(np.zeros((1, n)))"].startswith("dead code")
    assert params["self.value_past = Tensor(np.zeros((1, n)))"] is None
    assert params["self.pos = Tensor(np.zeros(1, n, dim))"].startswith("the original call raises")
    assert params["self.pos2 = Tensor(np.zeros((1, n, dim)))"] is None
