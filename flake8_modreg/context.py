"""``FileContext``, in a module of its own that imports nothing heavy.

The CLI builds one for every file of a warm run (everything cached), which
must not import the checker (libcst, the model, the rules).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FileContext:
    """What a project-wide run knows about one file beyond its text.

    ``module_name`` (``pkg.models.head``) resolves relative imports;
    ``bases`` maps absolute qualified names of classes defined in *other*
    files of the run to the framework they belong to (see ``project.py``).
    """

    module_name: str | None = None
    is_package: bool = False
    bases: tuple[tuple[str, str], ...] = ()
