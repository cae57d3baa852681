from __future__ import annotations

from ..model import FileModel, Tag
from ._base import Invalid, Probe, Reporter, Rule, Valid
from ._containers import plain_containers


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
    No automatic fix yet. Registering changes the `state_dict` keys.

    ## References
    - [torch.nn.ParameterList](https://pytorch.org/docs/stable/generated/torch.nn.ParameterList.html)
    - [mindspore.ParameterTuple](https://www.mindspore.cn/docs/en/master/api_python/mindspore/mindspore.ParameterTuple.html)
    """

    code = "MRG103"
    name = "parameters-in-plain-container"
    summary = "Parameters kept in a plain `list`/`tuple`/`dict` attribute"
    message = "Parameters in plain {container} 'self.{attr}' are not registered"
    fix_hint = "wrap it in {wrapper}(...)"
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
                report(pc.assign.node, container=pc.spelling, attr=pc.assign.attr, wrapper=model.alias(qual))
