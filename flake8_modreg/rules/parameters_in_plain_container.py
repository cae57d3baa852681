from __future__ import annotations

from ..findings import Applicability
from ..model import FileModel, Tag
from ._base import Invalid, Probe, Reporter, Rule, Valid
from ._containers import plain_containers, wrap_fix


class ParametersInPlainContainer(Rule):
    """
    ## What it does
    Finds `nn.Parameter`s (torch) or `Parameter`s (MindSpore) kept in a plain
    `list`, `tuple` or `dict` attribute of a Module or Cell.

    ## Why is this bad?
    A Parameter is registered only when assigned directly as an attribute or
    held by `nn.ParameterList`/`nn.ParameterDict`. In a plain container it is
    invisible to `.parameters()` (the optimizer never updates it), to
    `state_dict()` (it is not saved) and to `.to(device)` (it stays behind on
    the CPU). In MindSpore, `get_parameters()` and `trainable_params()` miss it.

    MindSpore runtime truth: `tests/test_mindspore_fix_truth.py` builds the
    MindSpore example before and after the fix (no parameters in a plain
    list; all of them in `ParameterTuple`).

    ## Example
    ```python
    class Mix(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.weights = [nn.Parameter(torch.ones(1)) for _ in range(n)]
    ```

    ## Use instead
    ```python
    class Mix(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.weights = nn.ParameterList([nn.Parameter(torch.ones(1)) for _ in range(n)])
    ```
    For a dict, `nn.ParameterDict`. MindSpore: `ParameterTuple([...])`, or
    assign each `Parameter` as its own attribute.

    ## Fix safety
    The fix wraps the value of a single-target `self.x = <container>`
    statement: a list, tuple or comprehension of Parameters becomes
    `nn.ParameterList([...])`, a dict becomes `nn.ParameterDict({...})`, an
    empty `[]`/`{}` filled later becomes `nn.ParameterList()`/
    `nn.ParameterDict()`. MindSpore: `ParameterTuple([...])`, offered only for
    a list or tuple that is never appended to (a `ParameterTuple` is
    immutable, and MindSpore has no `ParameterDict`).

    The fix is **unsafe** (applied only with `--unsafe-fixes`): the
    Parameters gain `state_dict()` keys (`weights.0`, ...), so checkpoints
    saved before the fix no longer load with `load_state_dict(strict=True)`,
    and `parameters()` yields more tensors, so optimizers see a different
    list. `nn.ParameterList` is not a `list` (no `insert`, `pop`, `sort`,
    ...), and it turns plain tensors added to it into Parameters: no fix is
    offered when an element is not a Parameter, when a literal dict key would
    be refused (`ParameterDict` wants non-empty strings without `.` that are
    not attribute names), or when a list method it lacks is called.
    Nor in subclasses of `nn.Sequential`/`nn.ModuleList`/`nn.SequentialCell`
    and the like (a new child becomes a step of their `forward`), or when a
    base class is defined in another file (it might be one of those).

    ## References
    - [torch.nn.ParameterList](https://pytorch.org/docs/stable/generated/torch.nn.ParameterList.html)
    - [mindspore.ParameterTuple](https://www.mindspore.cn/docs/en/master/api_python/mindspore/mindspore.ParameterTuple.html)
    """

    code = "MRG103"
    name = "parameters-in-plain-container"
    summary = "Parameters kept in a plain `list`/`tuple`/`dict` attribute"
    message = "Parameters in plain {container} 'self.{attr}' are not registered"
    fix_hint = "wrap it in {wrapper}(...)"
    fix_safety = Applicability.UNSAFE
    fix_summary = "wrap it in `nn.ParameterList`/`nn.ParameterDict` (MindSpore: `ParameterTuple`)"

    invalid = (
        Invalid(
            """
            import torch
            import torch.nn as nn

            class Mix(nn.Module):
                def __init__(self, n=3):
                    super().__init__()
                    self.weights = [nn.Parameter(torch.ones(1)) for _ in range(n)]

                def forward(self, xs):
                    return sum(w * x for w, x in zip(self.weights, xs))
            """,
            at=[(7, 8)],
            title="a list of Parameters",
            fixed="""
            import torch
            import torch.nn as nn

            class Mix(nn.Module):
                def __init__(self, n=3):
                    super().__init__()
                    self.weights = nn.ParameterList([nn.Parameter(torch.ones(1)) for _ in range(n)])

                def forward(self, xs):
                    return sum(w * x for w, x in zip(self.weights, xs))
            """,
            probe=Probe(
                cls="Mix",
                attr="weights",
                twin="""
                import torch
                import torch.nn as nn

                class Mix(nn.Module):
                    def __init__(self, n=3):
                        super().__init__()
                        self.weights = nn.ParameterList([nn.Parameter(torch.ones(1)) for _ in range(n)])

                    def forward(self, xs):
                        return sum(w * x for w, x in zip(self.weights, xs))
                """,
            ),
        ),
        Invalid(
            """
            import torch
            from torch.nn import Module, Parameter

            class Scales(Module):
                def __init__(self):
                    super().__init__()
                    self.scales = {"a": Parameter(torch.zeros(2)), "b": Parameter(torch.zeros(2))}

                def forward(self, x, key):
                    return x * self.scales[key]
            """,
            at=[(7, 8)],
            title="a dict of Parameters: nn.ParameterDict",
            fixed="""
            import torch
            from torch.nn import Module, Parameter

            class Scales(Module):
                def __init__(self):
                    super().__init__()
                    self.scales = torch.nn.ParameterDict({"a": Parameter(torch.zeros(2)), "b": Parameter(torch.zeros(2))})

                def forward(self, x, key):
                    return x * self.scales[key]
            """,
            probe=Probe(
                cls="Scales",
                attr="scales",
                twin="""
                import torch
                from torch.nn import Module, Parameter, ParameterDict

                class Scales(Module):
                    def __init__(self):
                        super().__init__()
                        self.scales = ParameterDict({"a": Parameter(torch.zeros(2)), "b": Parameter(torch.zeros(2))})

                    def forward(self, x, key):
                        return x * self.scales[key]
                """,
            ),
        ),
        Invalid(
            """
            import mindspore as ms
            from mindspore import nn, Parameter

            class Gates(nn.Cell):
                def __init__(self):
                    super().__init__()
                    self.gates = [Parameter(ms.Tensor(1.0), name="g0")]

                def construct(self, x):
                    return x * self.gates[0]
            """,
            at=[(7, 8)],
            title="MindSpore: ParameterTuple",
            fixed="""
            import mindspore as ms
            from mindspore import nn, Parameter

            class Gates(nn.Cell):
                def __init__(self):
                    super().__init__()
                    self.gates = ms.ParameterTuple([Parameter(ms.Tensor(1.0), name="g0")])

                def construct(self, x):
                    return x * self.gates[0]
            """,
        ),
        Invalid(
            """
            import mindspore as ms
            from mindspore import nn, Parameter

            class Gates(nn.Cell):
                def __init__(self, n=2):
                    super().__init__()
                    self.gates = []
                    for i in range(n):
                        self.gates.append(Parameter(ms.Tensor(1.0), name=f"g{i}"))
                    self.by_name = {"a": Parameter(ms.Tensor(1.0), name="a")}

                def construct(self, x):
                    return x * self.gates[0] * self.by_name["a"]
            """,
            at=[(7, 8), (10, 8)],
            title="no fix: ParameterTuple cannot be appended to, and MindSpore has no ParameterDict",
            fixed=None,
        ),
        Invalid(
            """
            import torch
            import torch.nn as nn

            class Mix(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.terms = [nn.Parameter(torch.ones(1)), torch.zeros(1)]

                def forward(self, x):
                    return x * self.terms[0] + self.terms[1]
            """,
            at=[(7, 8)],
            title="no fix: ParameterList would turn the plain tensor into a Parameter too",
            fixed=None,
        ),
    )

    valid = (
        Valid(
            """
            import torch
            import torch.nn as nn

            class Mix(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.alpha = nn.Parameter(torch.ones(1))
                    self.beta = nn.Parameter(torch.ones(1))
                    self.all = [self.alpha, self.beta]
                    self.bank = nn.ParameterList([nn.Parameter(torch.ones(1))])

                def forward(self, x):
                    return x * self.alpha + self.beta
            """,
            why="a list of registered Parameters, and a ParameterList",
        ),
    )

    def check(self, model: FileModel, report: Reporter) -> None:
        for pc in plain_containers(model):
            if pc.kind.holds(Tag.PARAMETER) and not pc.kind.holds(Tag.LAYER):
                if pc.cls.framework == "mindspore":
                    qual = "mindspore.ParameterTuple"
                else:
                    qual = "torch.nn.ParameterDict" if pc.kind.tag is Tag.DICT else "torch.nn.ParameterList"
                report(pc.assign.node, fix=wrap_fix(model, pc, qual), container=pc.spelling, attr=pc.assign.attr, wrapper=model.alias(qual))
