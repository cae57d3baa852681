import torch
from torch import nn

from proj import Backbone
from ...util.plain import Stage
from ..base import Mixin


class Head(Backbone):
    def __init__(self):
        super().__init__()
        self.blocks = [nn.Linear(2, 2), nn.Linear(2, 2)]  # MRG101: 8
        self.table = torch.zeros(3)  # MRG201: 8

    def forward(self, x):
        return x + self.table


class DeepHead(Stage):
    def __init__(self):
        super().__init__()
        self.scale = torch.ones(1)  # MRG201: 8

    def construct(self, x):  # MRG307: 8 (not MRG301: Backbone, in another file, defines forward)
        return x * self.scale


class NotAModule(Mixin):
    def __init__(self):
        self.blocks = [nn.Linear(2, 2)]
        self.table = torch.zeros(3)
