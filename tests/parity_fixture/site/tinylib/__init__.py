from .layers import Mlp, make_mlp

__all__ = ["Mlp", "make_mlp"]
