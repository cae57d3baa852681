"""A small MindSpore network with the registration bugs flake8-modreg finds."""

from mindspore import nn


class ConvBN(nn.Cell):
    def __init__(self):
        super(ConvBN, self).__init__()
        self.conv = nn.Conv2d(3, 64, 3)
        self.bn = nn.BatchNorm2d(64)

    def construct(self, x):
        return self.bn(self.conv(x))


class MyNet(nn.Cell):
    def __init__(self):
        super(MyNet, self).__init__()
        self.build_block = nn.SequentialCell(ConvBN(), nn.ReLU())
        self.branches = [nn.Dense(64, 10), nn.Dense(64, 10)]  # MRG101: use nn.CellList

    def forward(self, x):  # MRG302: MindSpore calls construct()
        return self.build_block(x)
