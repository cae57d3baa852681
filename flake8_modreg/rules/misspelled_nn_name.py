from __future__ import annotations

import libcst as cst

from .. import known
from ..findings import Applicability, Fix
from ..model import FileModel
from ._base import Invalid, Reporter, Rule, Valid
from ._entry import osa_distance

#: the modules whose attributes are checked; ``mindspore.ops`` is left out (see the docs)
CHECKED = ("torch.nn", "torch.nn.functional", "torch.nn.init", "torch.nn.parameter", "mindspore.nn")


def _skeleton(s: str) -> list[str]:
    return [c for c in s if not c.isalpha()]


def _interior(a: str, b: str) -> bool:
    """The one edit between ``a`` and ``b`` touches neither the first nor the last character."""
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    j = 0
    while j < n - i and a[-1 - j] == b[-1 - j]:
        j += 1
    return i >= 1 and j >= 1


def close_names(name: str, names: frozenset[str]) -> list[str]:
    """Known names that ``name`` is a typo of, by the conservative policy of MRG404's docs."""
    low, upper = name.lower(), name[:1].isupper()
    same_case = [n for n in names if n.lower() == low and n[:1].isupper() == upper]
    if same_case:
        return sorted(same_case)
    if len(name) < 6:
        return []
    out = []
    for n in names:
        nl = n.lower()
        if n[:1].isupper() != upper or _skeleton(n) != _skeleton(name) or abs(len(nl) - len(low)) > 1:
            continue
        if osa_distance(low, nl) != 1 or not _interior(low, nl):
            continue
        if len(nl) == len(low) and sum(x != y for x, y in zip(low, nl)) == 1:
            continue  # a substitution (MSELoss/MAELoss): too often a real, different name
        out.append(n)
    return sorted(out)


def _chain_node(node: cst.CSTNode, steps: int) -> cst.CSTNode:
    for _ in range(steps):
        node = node.value  # type: ignore[attr-defined]
    return node


class MisspelledNnName(Rule):
    """
    ## What it does
    Finds an attribute of `torch.nn`, `torch.nn.functional`, `torch.nn.init`,
    `torch.nn.parameter` or `mindspore.nn` that does not exist and is a typo of
    one that does: `nn.Paramter`, `nn.parameter.Paramter`, `nn.Relu`,
    `nn.Batchnorm2d`, `nn.Modulelist`, `F.softmx`... -- written as an attribute
    chain or imported (`from torch.nn import Relu`).

    The public names are data generated from the real packages (torch 2.13,
    MindSpore 2.10) by `scripts/gen_known.py`. A name we do not know is
    reported **only** when it is a typo of a known name:

    - the same letters in another case, with the same case of the first letter
      (`Relu` -> `ReLU`, `Batchnorm2d` -> `BatchNorm2d`); or
    - one letter missing, doubled or inserted, or two neighbours swapped, inside
      the word (not its first or last letter), in a name of 6 or more
      characters with the same digits and underscores (`Paramter`,
      `Sequnetial`). A different letter (`MSELoss`/`MAELoss`) or digit
      (`Conv3d`/`Conv4d`) is never enough.

    A name with no such close match is never reported, so layers added in a
    newer torch or MindSpore than ours are not flagged as typos. The policy is
    measured on the tables themselves (`tests/test_runtime_construction.py`):
    taking each real name out and checking it against the others, it flags
    none of `torch.nn`'s or `mindspore.nn`'s names and one of
    `torch.nn.functional`'s (`rrelu_` against `relu_`). `mindspore.ops` is not
    checked: its primitives and functions come in near pairs (`Gelu`/`GeLU`,
    `BitwiseOr`/`BitwiseXor`), and the same measurement flags 6% of its own names.

    **Releases.** With `torch-version` / `mindspore-version` set to an older
    release (or, unset, the installed torch / MindSpore when it is older than
    our newest table), a real name of `torch.nn`, `torch.nn.functional`,
    `torch.nn.init`, `torch.nn.parameter` or `mindspore.nn` added later is
    reported as missing there: `nn.RMSNorm` with torch 2.3 (`'RMSNorm' does
    not exist in torch.nn (torch 2.3)`, hint `added in torch 2.4`), `F.rms_norm`
    likewise, MindSpore's `nn.Linear` with MindSpore 2.0 (hint `added in
    MindSpore 2.1-2.7`: no table lies in between). A name that the chosen
    release has and a later one dropped (`nn.ResizeBilinear` in MindSpore 2.0)
    is not reported, and typos are matched against the chosen release's
    names too. The names of every torch release from 2.0 and of MindSpore
    2.0 and 2.7 -- 2.10 (the MindSpore releases on PyPI) are read from the
    released wheels' sources by `scripts/gen_api_versions.py`
    (`tests/test_api_versions.py` and, for MindSpore,
    `tests/test_mindspore_api_versions.py` check the installed release's
    tables against the real modules). MindSpore 2.1 -- 2.6 were published
    only on MindSpore's own site: they are judged by the nearest newer table,
    2.7's, so a name added between them and 2.7 goes unreported rather than a
    real name being reported; the message names the table judged
    (`mindspore.nn (MindSpore 2.7)`).

    ## Why is this bad?
    The attribute lookup raises `AttributeError: module 'torch.nn' has no
    attribute 'Paramter'` (`ImportError` for `from torch.nn import Relu`) as soon
    as the line runs -- often only when the model is first built, far from
    where it was written.

    MindSpore runtime truth:
    `tests/test_mindspore_probes.py::test_mrg404_misspelled_mindspore_names_raise`.

    ## Example
    ```python
    self.w = nn.Paramter(torch.randn(3))
    self.act = nn.Relu()
    ```

    ## Use instead
    ```python
    self.w = nn.Parameter(torch.randn(3))
    self.act = nn.ReLU()
    ```

    ## Fix safety
    The fix replaces the name by the only close real name and is **safe**: the
    original raises, so no working code changes. It is not offered when two
    names are equally close, nor for `from torch.nn import Relu` without an
    `as` alias (the rest of the file uses the misspelled name).

    ## References
    - [torch.nn](https://pytorch.org/docs/stable/nn.html)
    - [torch.nn.functional](https://pytorch.org/docs/stable/nn.functional.html)
    - [mindspore.nn](https://www.mindspore.cn/docs/en/master/api_python/mindspore.nn.html)
    """

    code = "MRG404"
    name = "misspelled-nn-name"
    summary = "A misspelled `torch.nn`/`mindspore.nn` name (`nn.Paramter`, `nn.Relu`)"
    message = "'{name}' does not exist in {module} ({version})"
    fix_hint = "{remedy} ({error} at run time)"
    fix_summary = "use the closest real name"
    fix_safety = Applicability.SAFE

    invalid = (
        Invalid(
            """
            import torch
            import torch.nn as nn

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.w = nn.Paramter(torch.randn(3))
                    self.b = nn.parameter.Paramter(torch.zeros(3))
                    self.act = nn.Relu()
                    self.bn = torch.nn.Batchnorm2d(3)
                    self.blocks = nn.Modulelist([nn.Sequnetial()])

                def forward(self, x):
                    return self.act(self.bn(x * self.w + self.b))
            """,
            at=[(7, 17), (8, 17), (9, 19), (10, 18), (11, 22), (11, 37)],
            fixed="""
            import torch
            import torch.nn as nn

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.w = nn.Parameter(torch.randn(3))
                    self.b = nn.parameter.Parameter(torch.zeros(3))
                    self.act = nn.ReLU()
                    self.bn = torch.nn.BatchNorm2d(3)
                    self.blocks = nn.ModuleList([nn.Sequential()])

                def forward(self, x):
                    return self.act(self.bn(x * self.w + self.b))
            """,
            title="the seeds' nn.Paramter and nn.Relu, and other slips",
        ),
        Invalid(
            """
            import torch.nn.functional as F
            from torch.nn import Relu, Linaer as Dense

            def head(x):
                return F.softamx(Dense(2, 2)(x), dim=-1)
            """,
            at=[(2, 21), (2, 27), (5, 11)],
            fixed="""
            import torch.nn.functional as F
            from torch.nn import Relu, Linear as Dense

            def head(x):
                return F.softmax(Dense(2, 2)(x), dim=-1)
            """,
            title="imported names and torch.nn.functional (no fix for an import used under its misspelled name)",
        ),
        Invalid(
            """
            from mindspore import nn

            class Net(nn.Cell):
                def __init__(self):
                    super().__init__()
                    self.body = nn.Sequentialcell([nn.Dense(4, 2), nn.Relu()])

                def construct(self, x):
                    return self.body(x)
            """,
            at=[(6, 20), (6, 55)],
            fixed="""
            from mindspore import nn

            class Net(nn.Cell):
                def __init__(self):
                    super().__init__()
                    self.body = nn.SequentialCell([nn.Dense(4, 2), nn.ReLU()])

                def construct(self, x):
                    return self.body(x)
            """,
            title="MindSpore: `nn.Sequentialcell` and `nn.Relu`",
        ),
    )

    valid = (
        Valid(
            """
            import torch
            import torch.nn as nn
            import torch.nn.functional as F
            from torch.nn import Module, ReLU
            from torch.nn.utils import clip_grad_norm_

            class Net(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.w = nn.parameter.Parameter(torch.zeros(1))
                    self.conv = nn.Conv4d(3, 3, 3)
                    self.norm = nn.RMSNormV2(3)
                    self.sdpa = nn.attention.sdpa_kernel
                    self.loss = nn.MAELoss()

                def forward(self, x):
                    x = F.rrelu_(x)
                    nn.init.kaiming_uniform_(self.w)
                    return nn.modules.conv.Conv2d.forward(self.conv, x)
            """,
            why="real names, submodules, and unknown names that are not typos of known ones "
            "(a digit, a new suffix, a one-letter substitution): perhaps newer than our tables",
        ),
        Valid(
            """
            from mindspore import nn, ops

            class Net(nn.Cell):
                def __init__(self):
                    super().__init__()
                    self.dense = nn.Dense(4, 2)
                    self.gelu = ops.FastGeLU()

                def construct(self, x):
                    return ops.Relu()(self.dense(x))
            """,
            why="mindspore.ops is not checked (its names come in near pairs)",
        ),
    )

    def check(self, model: FileModel, report: Reporter) -> None:
        imports = model.imports.names()
        seen_modules: set[str] = set()
        for ref in model.name_refs:
            is_import = isinstance(ref.node, cst.ImportAlias)
            written = ref.dotted.split(".")
            if is_import:
                full = written
            else:
                head = imports.get(written[0])
                if head is None:
                    continue
                full = head.split(".") + written[1:]
            for i in range(len(full) - 1, 0, -1):
                module = ".".join(full[:i])
                if module in CHECKED:
                    break
            else:
                continue
            name = full[i]
            names = known.ATTR_NAMES.get(module)
            version = known.ATTR_VERSIONS.get(module, "?")
            if not names or name.startswith("_"):
                continue
            mindspore = module.startswith("mindspore.")
            chosen = None
            if self.config is not None:
                chosen = self.config.mindspore_version if mindspore else self.config.torch_version
            release = known.release_names(module, chosen)  # None: the newest table judges alone
            if release is not None:
                if name in release[1]:
                    continue  # real in the release the code runs on (removed later or not)
                version = f"{'MindSpore' if mindspore else 'torch'} {release[0]}"
            if name in names:
                added = known.added_in(module, name, release[0]) if release is not None else None
                if added is None:
                    continue
                # a name of a later release: missing in the one the code runs on (torch-/mindspore-version)
                best, remedy = [], f"added in {version.split()[0]} {added}"
            else:
                best = close_names(name, names | release[1] if release is not None else names)
                if not best:
                    continue
                remedy = "did you mean '" + "' or '".join(best) + "'?"
            fix = None
            if len(best) == 1:
                fix = self._fix(ref, is_import, len(full) - 1 - i, best[0])
            if is_import and i < len(full) - 1:  # the module of a from-import: report it once
                key = ".".join(full[: i + 1])
                if key in seen_modules:
                    continue
                seen_modules.add(key)
            error = "ImportError" if is_import else "AttributeError"
            report(ref.node, fix=fix, name=name, module=module, version=version, error=error, remedy=remedy)

    @staticmethod
    def _fix(ref, is_import: bool, steps: int, best: str) -> Fix | None:
        if is_import:
            alias = ref.node
            if steps != 0 or alias.asname is None or not isinstance(alias.name, cst.Name):
                return None
            old = alias.name
        else:
            node = _chain_node(ref.node, steps)
            if not isinstance(node, cst.Attribute):
                return None
            old = node.attr
        return Fix(((old, old.with_changes(value=best)),), Applicability.SAFE, title=f"use '{best}'")
