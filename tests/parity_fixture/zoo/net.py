# The base lives in an installed package (site/tinylib on sys.path).
import tinylib
from tinylib import make_mlp


class Net(tinylib.Mlp):
    def __init__(self, dim):
        super().__init__(dim)
        self.heads = [make_mlp(dim), make_mlp(dim)]  # MRG101: 8
        self.body = make_mlp(dim)

    def forward(self, x):
        return self.body.forward(x)  # MRG306: 15
