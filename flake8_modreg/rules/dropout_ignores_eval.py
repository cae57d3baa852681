from __future__ import annotations

import libcst as cst

from ..model import FileModel, dotted_name
from ._base import Invalid, Reporter, Rule, Valid
from .layer_built_in_forward import _stored

_LAYERS = {f"torch.nn.{n}" for n in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "AlphaDropout", "FeatureAlphaDropout")}
_FUNCTIONS = {
    f"torch.nn.functional.{n}"
    for n in ("dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout")
}


def _passes_training(call: cst.Call) -> bool:
    """``training=`` given, positionally (the third argument) or through ``*``/``**`` (cannot tell: assume so)."""
    if any(a.star for a in call.args):
        return True
    if any(a.keyword is not None and a.keyword.value == "training" for a in call.args):
        return True
    return sum(a.keyword is None for a in call.args) >= 3


class DropoutIgnoresEval(Rule):
    """
    ## What it does
    Finds dropout in a torch Module's `forward` that `.eval()` cannot switch
    off: a dropout layer (`nn.Dropout`, `nn.Dropout1d/2d/3d`,
    `nn.AlphaDropout`, `nn.FeatureAlphaDropout`) constructed inside `forward`
    and not stored on `self`, or a functional call (`F.dropout`,
    `F.dropout1d/2d/3d`, `F.alpha_dropout`, `F.feature_alpha_dropout`) that does
    not pass `training`.

    ## Why is this bad?
    `model.eval()` switches off dropout by setting `training = False` on every
    *registered* sub-module. A layer built during the call is a fresh module in
    training mode, and `F.dropout`'s `training` argument defaults to `True`:
    either way the model keeps dropping activations at inference, so
    predictions are random and worse, and evaluation numbers do not match
    training-time validation. Nothing raises.

    Off by default (MRG9xx): Monte Carlo dropout keeps dropout active at
    inference on purpose. Enable it with `--extend-select MRG901`.

    Runtime truth: `tests/test_runtime_opinionated.py` runs both examples under
    PyTorch: after `.eval()`, the reported forms still zero activations; the
    fixed forms return their input unchanged.

    ## Example
    ```python
    class Head(nn.Module):
        def forward(self, x):
            x = nn.Dropout(0.5)(x)
            return F.dropout(x, 0.1)
    ```

    ## Use instead
    ```python
    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.drop = nn.Dropout(0.5)

        def forward(self, x):
            x = self.drop(x)
            return F.dropout(x, 0.1, training=self.training)
    ```

    ## Fix safety
    No automatic fix: building the layer in `__init__` changes the module's
    structure, and whether dropout at inference is wanted is the author's call.
    """

    code = "MRG901"
    name = "dropout-ignores-eval"
    summary = "Dropout in `forward` that `.eval()` does not switch off (built per call, or `F.dropout` without `training`)"
    message = "'{call}' in {method}() stays active after .eval()"
    fix_hint = "{hint}"
    fix_summary = "build the layer in `__init__`, or pass `training=self.training`"
    frameworks = frozenset({"torch"})
    default_enabled = False

    invalid = (
        Invalid(
            """
            import torch.nn as nn
            import torch.nn.functional as F

            class Head(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(4, 4)

                def forward(self, x):
                    x = nn.Dropout(0.5)(self.fc(x))
                    return F.dropout(x, 0.5)
            """,
            at=[(10, 12), (11, 15)],
            title="a Dropout built per call and F.dropout without training",
        ),
        Invalid(
            """
            import torch
            from torch import nn

            class Block(nn.Module):
                def forward(self, x):
                    drop = nn.AlphaDropout(p=0.2)
                    return torch.nn.functional.dropout1d(drop(x), p=0.2, inplace=False)
            """,
            at=[(6, 15), (7, 15)],
            title="a layer bound to a local name; the full functional path with keywords",
        ),
    )

    valid = (
        Valid(
            """
            import torch.nn as nn
            import torch.nn.functional as F

            class Head(nn.Module):
                def __init__(self):
                    super().__init__()
                    self.fc = nn.Linear(4, 4)
                    self.drop = nn.Dropout(0.5)
                    self.extra = None

                def forward(self, x):
                    x = self.drop(self.fc(x))
                    x = F.dropout(x, 0.5, training=self.training)
                    x = F.dropout(x, 0.5, self.training)
                    if self.extra is None:
                        self.extra = nn.Dropout(0.1)
                    return x
            """,
            why="the layer built in __init__ (or stored on self), and training passed by keyword or position",
        ),
        Valid(
            """
            import torch.nn as nn
            import torch.nn.functional as F

            def mc_sample(x):
                return F.dropout(x, 0.5)

            class NotAModule:
                def forward(self, x):
                    return nn.Dropout(0.5)(x)

            class Net(nn.Module):
                def make_dropout(self):
                    return nn.Dropout(0.5)

                def forward(self, x, **kw):
                    return F.dropout(x, **kw)
            """,
            why="outside a Module's forward, a builder method, and arguments passed through **kwargs",
        ),
    )

    def check(self, model: FileModel, report: Reporter) -> None:
        stored_by_method: dict[int, set[int]] = {}
        for site in model.calls:
            meth, cls = site.method, site.cls
            if meth is None or cls is None or cls.framework != "torch" or meth.name != "forward":
                continue
            q = model.qualify(site.node.func)
            if q in _FUNCTIONS:
                if not _passes_training(site.node):
                    report(
                        site.node,
                        call=f"{dotted_name(site.node.func)}(...)",
                        method=meth.name,
                        hint="pass training=self.training",
                    )
            elif q in _LAYERS:
                if id(meth) not in stored_by_method:
                    stored_by_method[id(meth)] = _stored(model, cls, meth)
                if id(site.node) in stored_by_method[id(meth)]:
                    continue
                name = dotted_name(site.node.func)
                report(
                    site.node,
                    call=f"{name}(...)",
                    method=meth.name,
                    hint=f"build it once in __init__ (self.drop = {name}(...)) so .eval() switches it off",
                )
