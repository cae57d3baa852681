import torch.nn as nn


class Mlp(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.fc = nn.Linear(dim, dim)

    def forward(self, x):
        return self.fc(x)


def make_mlp(dim):
    layer = Mlp(dim)
    return layer
