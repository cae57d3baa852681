"""flake8-modreg: catch unregistered state in PyTorch Modules and MindSpore Cells.

The public names are imported on first use (PEP 562): flake8 imports this
package for every run of every user who installed the plugin, selected or
not, and ``libcst`` alone costs more than a small flake8 run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Applicability", "Config", "Finding", "Fix", "ModregError", "__version__", "check", "fix", "FixResult"]

_LAZY = {
    "check": "core",
    "Applicability": "findings",
    "Finding": "findings",
    "Fix": "findings",
    "ModregError": "findings",
    "FixResult": "fixer",
    "fix": "fixer",
    "Config": "settings",
}

if TYPE_CHECKING:  # pragma: no cover
    from .core import check
    from .findings import Applicability, Finding, Fix, ModregError
    from .fixer import FixResult, fix
    from .settings import Config


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
