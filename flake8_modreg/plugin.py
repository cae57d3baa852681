"""The flake8 adapter: a thin shell around :func:`flake8_modreg.check`.

* ``tree`` is requested so that flake8 runs the plugin once per file
  (flake8 classifies plugins by their parameter names).  It is only read as
  proof that Python's own parser accepted these lines (flake8 builds it with
  ``ast.parse("".join(lines))`` before any tree plugin runs), so the check
  skips its own ``ast`` pass over them (:func:`flake8_modreg.core.parse`).
* The source comes from flake8's ``lines``, never from re-reading the file,
  so ``flake8 -`` (stdin, as editors run it) works and the BOM is already gone.
* Columns are 0-based code points; flake8 adds 1 itself.
* ``# noqa`` is left to flake8 entirely (so ``--disable-noqa`` works).
* Off-by-default rules (MRG9xx) run only when a selection names them with four or more characters
  (``--extend-select MRG9``), as in the CLI; a plain ``--select MRG`` does not switch them on.
* A file that does not parse yields nothing: flake8 reports E999 itself, and
  an exception escaping a plugin would abort the user's whole run.
* When the user's selection leaves every MRG code out (``--select E,W,F``),
  the plugin does no work at all: installing it must not tax other runs.
  flake8 imports every installed plugin before it reads the selection, so
  this module imports nothing heavy: the codes come from the generated
  ``_codes`` table, and the checker (rules, model, libcst) is imported when
  the first file is checked.  ``tests/test_flake8_adapter.py`` asserts it.
"""

from __future__ import annotations

import argparse
import ast
import logging
from typing import Any, ClassVar, Iterator

from . import __version__
from ._codes import CODES
from .settings import Config

log = logging.getLogger("flake8_modreg")


def _pyproject() -> Any:
    """The ``ProjectConfig`` of the nearest ``[tool.modreg]`` (None without one, or when it is invalid: warned)."""
    from pathlib import Path

    from .config import ConfigError, find_pyproject, load

    try:
        found = find_pyproject(Path.cwd())
        return load(found) if found else None
    except ConfigError as e:
        log.warning("flake8-modreg: %s", e)
        return None


def _opted_in(code: str, options: argparse.Namespace) -> bool:
    """An off-by-default code (MRG9xx) runs only when a selection names it with four or more characters
    (``--extend-select MRG9``, ``--select MRG901``), as in the CLI: flake8 itself lets a plain ``--select MRG``
    (the README's command) beat the extended default ignore ``MRG9`` and would switch the opinionated rules on."""
    chosen = [*(getattr(options, "select", None) or ()), *(getattr(options, "extend_select", None) or ())]
    return any(isinstance(p, str) and len(p.strip()) >= 4 and code.startswith(p.strip().upper()) for p in chosen)


def _versions(options: argparse.Namespace, project: Any) -> dict[str, str | None]:
    """``torch_version`` / ``mindspore_version``: flake8's ``--modreg-*-version``, else ``[tool.modreg]``'s.

    A bad value is a warning (a plugin cannot stop flake8) and the default (the newest table) is used.
    """
    from .settings import VERSION_SETTINGS, ConfigError, check_version

    out: dict[str, str | None] = {}
    for setting in VERSION_SETTINGS:
        key = setting.replace("-", "_")
        value = getattr(options, f"modreg_{key}", None)
        if value:
            try:
                out[key] = check_version(value, f"--modreg-{setting}", setting)
            except ConfigError as e:
                log.warning("flake8-modreg: %s; using the newest table", e)
                out[key] = None
        else:
            out[key] = getattr(project, key, None)
    return out


class Plugin:
    name = "flake8-modreg"
    version = __version__

    #: set by ``parse_options``: the codes the user's flake8 run can report
    _config: ClassVar[Config] = Config(select=("ALL",))

    def __init__(self, tree: ast.AST, lines: list[str], filename: str = "stdin") -> None:
        self.lines = lines
        self.filename = filename
        self.python_parsed = isinstance(tree, ast.Module)

    @staticmethod
    def add_options(manager: Any) -> None:
        manager.add_option(
            "--modreg-module-bases",
            default="",
            parse_from_config=True,
            comma_separated_list=True,
            help="Extra base classes (dotted or plain names) whose subclasses are torch Modules, "
            "e.g. mylib.BaseModel. (Default: none)",
        )
        for setting, framework, rule in (("torch-version", "torch", "MRG502"), ("mindspore-version", "MindSpore", "MRG501")):  # and MRG404
            manager.add_option(
                f"--modreg-{setting}",
                default="",
                parse_from_config=True,
                help=f"The {framework} release {rule} and MRG404 judge names by, e.g. 2.10. "
                "(Default: [tool.modreg]'s, else the newest known)",
            )
        off = sorted({code[:4] for code, on in CODES.items() if not on} | {"MRG9"})
        manager.extend_default_ignore(off)

    @staticmethod
    def _warn_unknown_codes(options: argparse.Namespace) -> None:
        """flake8 owns its options (other plugins' codes are valid there), but an ``MRG`` code modreg lacks is a typo."""
        from .settings import code_problem

        for opt in ("select", "extend_select", "ignore", "extend_ignore"):
            for code in getattr(options, opt, None) or ():
                if isinstance(code, str) and code.upper().startswith("MRG") and code_problem(code) is not None:
                    log.warning("flake8-modreg: --%s: %s", opt.replace("_", "-"), code_problem(code))
        pfi = getattr(options, "per_file_ignores", None) or ()
        for pair in [pfi] if isinstance(pfi, str) else pfi:
            for code in str(pair).replace(":", " ").replace(",", " ").split():
                if code.upper().startswith("MRG") and code_problem(code) is not None:
                    log.warning("flake8-modreg: --per-file-ignores: %s", code_problem(code))

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        try:
            cls._warn_unknown_codes(options)
        except Exception:  # pragma: no cover - a warning must never abort the run
            pass
        codes: tuple[str, ...] = tuple(CODES)
        try:
            from flake8.style_guide import Decision, DecisionEngine

            engine = DecisionEngine(options)
            codes = tuple(c for c in codes if engine.decision_for(c) is Decision.Selected and (CODES[c] or _opted_in(c, options)))
        except Exception as e:  # an older/newer flake8 internals change: run everything
            log.debug("flake8-modreg: cannot read flake8's selection (%s); running all rules", e)
        bases = getattr(options, "modreg_module_bases", None) or ()
        project = _pyproject() if codes else None
        if not bases and project is not None:  # flake8 has none configured: use [tool.modreg] module-bases, as the CLI does
            bases = project.module_bases
        cls._config = Config.make(select=codes, module_bases=bases, **_versions(options, project))

    def run(self) -> Iterator[tuple[int, int, str, type]]:
        config = self._config
        if not config.select:
            return
        from .core import check  # first file checked: now the rules, the model and libcst are needed
        from .findings import ModregError

        try:
            findings = check("".join(self.lines), path=self.filename, config=config, python_parsed=self.python_parsed)
        except ModregError:
            return  # flake8 reports E999 for real syntax errors
        except Exception as e:  # never abort the user's flake8 run
            log.warning("flake8-modreg: internal error on %s: %s: %s", self.filename, type(e).__name__, e)
            return
        for f in findings:
            yield f.line, f.col, f.text, type(self)
