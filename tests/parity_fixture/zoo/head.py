# No framework name in this file: every Module fact comes from zoo/base.py.
from . import Base
from .base import Block, Norm, describe, make_block


class Head(Base):
    def __init__(self, dim, norm_layer=Norm):
        super().__init__()
        self.blocks = [Block(dim) for _ in range(2)]  # MRG101: 8
        self.norms = [norm_layer(dim)]  # MRG101: 8
        self.extra = [make_block(dim, 0.1)]  # MRG101: 8
        self.kept = Block(dim)
        self.info = [describe(dim)]

    def forward(self, x):
        return self.kept.forward(x)  # MRG306: 15


class NotAModule:
    def __init__(self, dim):
        self.blocks = [Block(dim) for _ in range(2)]
