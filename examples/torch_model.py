"""A small PyTorch model with the registration bugs flake8-modreg finds.

Run:  flake8 --select MRG examples/
"""

import torch
import torch.nn as nn

# A module-level list of layers, later stored on the model as-is.
layer_list = [nn.Conv2d(5, 5, 3), nn.BatchNorm2d(5), nn.Linear(5, 2)]


class ConvBN(nn.Module):
    def __init__(self):
        super(ConvBN, self).__init__()
        self.conv = nn.Conv2d(3, 64, 3)
        self.bn = nn.BatchNorm2d(64)

    def forward(self, x):
        return self.bn(self.conv(x))


class MyNet(nn.Module):
    def __init__(self):
        super(MyNet, self).__init__()
        self.build_block = nn.Sequential(ConvBN(), nn.ReLU())
        self.layers = layer_list  # MRG101: these weights are never trained
        self.heads = {"cls": nn.Linear(64, 10)}  # MRG102
        self.my_tensor = torch.randn(1)  # MRG201: random values that state_dict() does not save
        self.register_buffer("my_buffer", torch.randn(1))  # correct

    def construct(self, x):  # MRG301: MindSpore's name; torch calls forward()
        return self.build_block(x)
