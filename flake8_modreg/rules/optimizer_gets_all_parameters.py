from __future__ import annotations

import libcst as cst

from .. import known
from ..model import FileModel, Scope
from ._base import Invalid, Reporter, Rule, Valid


def _all_params(
    model: FileModel, e: cst.BaseExpression, scope: Scope | None, order: int, depth: int = 0
) -> tuple[str, str] | None:
    """(what, owner) for ``net.get_parameters()`` / ``net.parameters_dict().values()`` (through list(), tuple(), locals)."""
    if depth > 6:
        return None
    if isinstance(e, cst.Call):
        func = e.func
        if isinstance(func, cst.Name) and func.value in ("list", "tuple") and len(e.args) == 1:
            return _all_params(model, e.args[0].value, scope, order, depth + 1)
        if isinstance(func, cst.Attribute):
            recv = func.value
            if func.attr.value == "get_parameters" and not _is_torch(model, recv, scope, order):
                return f"{_code(recv)}.get_parameters()", _code(recv)
            if (
                func.attr.value == "values"
                and isinstance(recv, cst.Call)
                and isinstance(recv.func, cst.Attribute)
                and recv.func.attr.value == "parameters_dict"
            ):
                return f"{_code(recv.func.value)}.parameters_dict().values()", _code(recv.func.value)
        return None
    if isinstance(e, cst.Name):
        b = model.value_binding(e.value, scope, order)
        return _all_params(model, b[0], b[1], b[2], depth + 1) if b is not None else None
    return None


def _is_torch(model: FileModel, recv: cst.BaseExpression, scope: Scope | None, order: int) -> bool:
    inst = model.instance_of(recv, scope, order)
    return inst is not None and inst[0] == "torch"


def _code(node: cst.CSTNode) -> str:
    return cst.Module([]).code_for_node(node)


def _nonzero(e: cst.BaseExpression | None) -> bool:
    """A weight decay that may be non-zero (anything but a literal 0 / 0.0)."""
    if e is None:
        return False
    if isinstance(e, (cst.Integer, cst.Float)):
        return float(e.value.replace("_", "")) != 0.0
    return True


def _keyword(call: cst.Call, name: str) -> cst.BaseExpression | None:
    return next((a.value for a in call.args if a.keyword is not None and a.keyword.value == name), None)


def _group_value(d: cst.Dict, key: str) -> cst.BaseExpression | None:
    for el in d.elements:
        if isinstance(el, cst.DictElement) and isinstance(el.key, cst.SimpleString) and el.key.evaluated_value == key:
            return el.value
    return None


class OptimizerGetsAllParameters(Rule):
    """
    ## What it does
    Finds a MindSpore optimizer (`nn.SGD`, `nn.Momentum`, `nn.Adam`,
    `nn.AdamWeightDecay`, ... -- the list is generated from MindSpore) given
    `net.get_parameters()` or `net.parameters_dict().values()` together with
    a weight decay (`weight_decay=...` on the optimizer, or in the parameter
    group that holds them).

    ## Why is this bad?
    In MindSpore, BatchNorm's `moving_mean` and `moving_variance` are
    `Parameter`s with `requires_grad=False`, and `get_parameters()` returns
    them (in torch they are buffers, outside `parameters()`: the seeds'
    central difference). MindSpore optimizers do not skip parameters with
    `requires_grad=False`: weight decay is applied to them as to any other
    parameter, so every step silently shrinks the BatchNorm statistics and
    inference drifts. Measured with MindSpore 2.10, one training step with
    learning rate 1.0 and `weight_decay=0.05`: `moving_variance` goes from
    1.0 to 0.95 with `SGD`, `Momentum` and `AdamWeightDecay`, and to 0.0 with
    `Adam`; with `trainable_params()` it stays 1.0.

    Without weight decay the statistics get zero gradients and stay unchanged
    (measured), so the rule is silent then -- the optimizer only wastes state
    on them. A weight decay passed by position is not recognised.

    MindSpore runtime truth: `tests/test_mindspore_truth.py::test_mrg503_*`
    (one training step with and without weight decay, and with
    `trainable_params()`).

    ## Example
    ```python
    net = ResNet()
    optimizer = nn.Momentum(net.get_parameters(), learning_rate=0.1, momentum=0.9, weight_decay=1e-4)
    ```

    ## Use instead
    ```python
    net = ResNet()
    optimizer = nn.Momentum(net.trainable_params(), learning_rate=0.1, momentum=0.9, weight_decay=1e-4)
    ```

    ## Fix safety
    No automatic fix. Replacing `get_parameters()` with `trainable_params()`
    would be safe in meaning for the BatchNorm statistics, but it also drops
    any parameter the user froze on purpose and still wanted decayed (rare),
    and it changes the optimizer's state layout, so optimizer checkpoints saved
    before do not load.

    ## References
    - [mindspore.nn.Cell.trainable_params](https://www.mindspore.cn/docs/en/master/api_python/nn/mindspore.nn.Cell.html)
    - [mindspore.nn.Optimizer (weight_decay, parameter groups)](https://www.mindspore.cn/docs/en/master/api_python/nn/mindspore.nn.Optimizer.html)
    - [Differences with torch.nn.Module.parameters](https://www.mindspore.cn/docs/en/r1.10/note/api_mapping/pytorch_diff/GetParams.html)
    """

    code = "MRG503"
    name = "optimizer-gets-all-parameters"
    summary = "A MindSpore optimizer with weight decay given `get_parameters()` (BatchNorm statistics included)"
    frameworks = frozenset({"mindspore"})
    message = "weight-decaying optimizer '{opt}' gets {source}"
    fix_hint = "pass {owner}.trainable_params(): weight decay would also shrink BatchNorm's moving_mean/moving_variance"
    fix_summary = "pass `net.trainable_params()`"

    invalid = (
        Invalid(
            """
            from mindspore import nn

            class Net(nn.Cell):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Dense(4, 4)
                    self.bn = nn.BatchNorm1d(4)

                def construct(self, x):
                    return self.bn(self.fc(x))

            net = Net()
            opt = nn.SGD(net.get_parameters(), learning_rate=1.0, weight_decay=0.05)
            """,
            at=[(13, 6)],
            title="weight decay on everything get_parameters() returns",
        ),
        Invalid(
            """
            import mindspore as ms
            from mindspore import nn

            def build(net, cfg):
                params = list(net.parameters_dict().values())
                return ms.nn.AdamWeightDecay(params, learning_rate=1e-3, weight_decay=cfg.wd)

            def build_groups(net):
                groups = [{"params": net.get_parameters(), "weight_decay": 1e-4}]
                return nn.Momentum(groups, learning_rate=0.1, momentum=0.9)
            """,
            at=[(6, 11), (10, 11)],
            title="through a local, parameters_dict(), a configured decay and a parameter group",
        ),
    )

    valid = (
        Valid(
            """
            from mindspore import nn

            class Net(nn.Cell):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Dense(4, 4)
                    self.bn = nn.BatchNorm1d(4)

                def construct(self, x):
                    return self.bn(self.fc(x))

            net = Net()
            opt = nn.SGD(net.trainable_params(), learning_rate=1.0, weight_decay=0.05)
            opt2 = nn.Momentum(net.get_parameters(), learning_rate=0.1, momentum=0.9)
            opt3 = nn.Adam(net.get_parameters(), learning_rate=0.1, weight_decay=0.0)
            opt4 = nn.SGD(filter(lambda p: p.requires_grad, net.get_parameters()), learning_rate=1.0, weight_decay=0.05)
            """,
            why="trainable_params(), no or zero weight decay (the statistics get zero gradients), and a filter",
        ),
        Valid(
            """
            import torch
            from mindspore import nn as msnn

            class TNet(torch.nn.Module):
                def get_parameters(self):
                    return list(self.parameters())

            opt = torch.optim.SGD(TNet().get_parameters(), lr=0.1, weight_decay=0.05)
            t = TNet()
            opt2 = msnn.SGD(t.get_parameters(), learning_rate=0.1, weight_decay=0.05)
            """,
            why="a torch optimizer, and a torch Module's own get_parameters() method",
        ),
    )

    def check(self, model: FileModel, report: Reporter) -> None:
        for site in model.calls:
            call = site.node
            q = model.qualify(call.func)
            if q not in known.MINDSPORE_OPTIMIZERS:
                continue
            positional = [a for a in call.args if a.keyword is None]
            params = _keyword(call, "params") or (positional[0].value if positional else None)
            if params is None:
                continue
            decay = _keyword(call, "weight_decay")
            source = _all_params(model, params, site.scope, site.order)
            if source is not None and _nonzero(decay):
                report(call, opt=q.rsplit(".", 1)[-1], source=source[0], owner=source[1])
                continue
            groups = params
            if isinstance(groups, cst.Name):
                b = model.value_binding(groups.value, site.scope, site.order)
                groups = b[0] if b is not None else None
            if isinstance(groups, cst.List):
                for el in groups.elements:
                    if not isinstance(el.value, cst.Dict):
                        continue
                    inner = _group_value(el.value, "params")
                    src = _all_params(model, inner, site.scope, site.order) if inner is not None else None
                    group_decay = _group_value(el.value, "weight_decay")
                    if src is not None and _nonzero(group_decay if group_decay is not None else decay):
                        report(call, opt=q.rsplit(".", 1)[-1], source=src[0], owner=src[1])
                        break

