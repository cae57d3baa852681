"""flake8-modreg: catch unregistered state in PyTorch Modules and MindSpore Cells."""

from __future__ import annotations

__version__ = "0.1.0"

from .core import check
from .findings import Applicability, Finding, Fix, ModregError
from .fixer import FixResult, fix
from .settings import Config

__all__ = ["Applicability", "Config", "Finding", "Fix", "ModregError", "__version__", "check", "fix", "FixResult"]
