import torch.nn as nn


class Backbone(nn.Module):
    def forward(self, x):
        return x


class Mixin:
    """Not a Module: subclasses of it alone must stay plain classes."""


class Middle(Backbone):
    pass
