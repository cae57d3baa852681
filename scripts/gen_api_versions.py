"""Regenerate ``flake8_modreg/_api_versions.py``: the public class attributes of torch's ``nn.Module``
and MindSpore's ``nn.Cell``, and the names of ``torch.nn`` (with ``functional``, ``init``,
``parameter``) and ``mindspore.nn``, in each release, read from the released wheels' sources.

Usage::

    python scripts/gen_api_versions.py                  # every release below (network: pip download)
    python scripts/gen_api_versions.py --torch 2.13.0   # only these (the others keep their table)

MRG501 (torch-style methods a Cell lacks) and MRG502 (MindSpore-style methods a Module lacks)
judge a name against the release chosen with ``torch-version`` / ``mindspore-version``; so does
MRG404 (misspelled or not-yet-existing ``nn`` names).

Each wheel is fetched with ``pip download --no-deps`` into a temporary folder, one at a time; only
``torch/nn/modules/module.py`` or ``mindspore/nn/cell.py`` (and the ``nn`` packages' sources) is
read from it (``zipfile``), then the wheel is deleted.  torch: the macOS arm64 wheels (~60 MB; the
Python sources are the same in every platform's wheel).  MindSpore: macOS arm64 where PyPI has it
(~150 MB), else manylinux x86_64 (~800 MB).
PyPI holds MindSpore 2.0.0 and 2.7.0 onwards only (2.1 -- 2.6 were published on MindSpore's own
site), so those are the MindSpore tables.

What a table holds: every name bound in the class body (methods, properties, class attributes;
``def`` under ``if`` branches too), without leading underscore -- the names ``hasattr(cls, name)``
finds through the class itself.  Names the C++ base ``Cell_`` adds are not in ``cell.py``; the
``mindspore``-marked test ``tests/test_mindspore_api_versions.py`` compares the 2.10 table with a
real Cell (and ``tests/test_api_versions.py`` the torch 2.13 table with torch).
"""

from __future__ import annotations

import argparse
import ast
import pathlib
import pprint
import subprocess
import sys
import tempfile
import textwrap
import zipfile

OUT = pathlib.Path(__file__).resolve().parent.parent / "flake8_modreg" / "_api_versions.py"

#: the newest patch of each minor release (the attribute set does not change within a minor release)
TORCH_RELEASES = (
    "2.0.1", "2.1.2", "2.2.2", "2.3.1", "2.4.1", "2.5.1", "2.6.0", "2.7.1", "2.8.0", "2.9.1", "2.10.0",
    "2.11.0", "2.12.1", "2.13.0",
)  # fmt: skip
MINDSPORE_RELEASES = ("2.0.0", "2.7.2", "2.8.0", "2.9.0", "2.10.0")

#: (pip platform, python version) tried in order for each framework
PLATFORMS = {
    "torch": (("macosx_14_0_arm64", "3.11"),),
    "mindspore": (
        ("macosx_11_0_arm64", "3.11"),
        ("manylinux_2_17_x86_64", "3.11"),
        ("macosx_11_0_arm64", "3.9"),
        ("manylinux_2_17_x86_64", "3.9"),
    ),
}
SOURCE = {"torch": ("torch/nn/modules/module.py", "Module"), "mindspore": ("mindspore/nn/cell.py", "Cell")}


def class_names(source: str | bytes, cls: str) -> list[str]:
    """Public names bound in the body of the top-level class ``cls`` (branches included)."""
    tree = ast.parse(source)
    node = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == cls)
    names: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for b in body:
            if isinstance(b, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(b.name)
            elif isinstance(b, ast.Assign):
                names.update(t.id for t in b.targets if isinstance(t, ast.Name))
            elif isinstance(b, ast.AnnAssign) and isinstance(b.target, ast.Name) and b.value is not None:
                names.add(b.target.id)  # an annotation alone (`training: bool`) binds nothing on the class
            elif isinstance(b, (ast.If, ast.Try)):
                visit(b.body)
                visit(getattr(b, "orelse", []))
                for h in getattr(b, "handlers", []):
                    visit(h.body)

    visit(node.body)
    return sorted(n for n in names if not n.startswith("_"))


def nn_namespace(nn_init: str | bytes, modules_init: str | bytes, entries: list[str]) -> list[str]:
    """Public names of ``torch.nn`` in a release, read statically from its sources.

    ``torch/nn/__init__.py``'s own bindings and explicit imports, ``torch/nn/modules/__init__.py``'s
    ``__all__`` (``from .modules import *``) and the sub-modules and sub-packages of ``torch/nn``.
    For torch 2.13 this is ``dir(torch.nn)``'s public names plus two sub-packages it does not import
    (``tests/test_api_versions.py``).
    """
    names: set[str] = set()
    for n in ast.parse(nn_init).body:
        if isinstance(n, ast.ImportFrom):
            names.update(a.asname or a.name for a in n.names if a.name != "*")
        elif isinstance(n, (ast.FunctionDef, ast.ClassDef)):
            names.add(n.name)
        elif isinstance(n, ast.Assign):
            names.update(t.id for t in n.targets if isinstance(t, ast.Name))
    for n in ast.parse(modules_init).body:
        if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in n.targets):
            names.update(ast.literal_eval(n.value))
    names.update(e[:-3] if e.endswith(".py") else e for e in entries)
    return sorted(n for n in names if n and not n.startswith("_") and n.isidentifier())


def module_names(source: str | bytes) -> list[str]:
    """Public top-level names of a module's source: defs, classes, assignments and imports (``if``/``try``
    bodies too). For torch 2.13's ``torch.nn.functional``/``init``/``parameter`` this is ``dir()``'s
    public names (``tests/test_api_versions.py``)."""
    names: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for n in body:
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(n.name)
            elif isinstance(n, ast.Assign):
                for t in n.targets:
                    elts = t.elts if isinstance(t, ast.Tuple) else [t]
                    names.update(e.id for e in elts if isinstance(e, ast.Name))
            elif isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name):
                names.add(n.target.id)
            elif isinstance(n, (ast.Import, ast.ImportFrom)):
                names.update((a.asname or a.name).split(".")[0] for a in n.names if a.name != "*")
            elif isinstance(n, (ast.If, ast.Try)):
                visit(n.body)
                visit(getattr(n, "orelse", []))

    visit(ast.parse(source).body)
    return sorted(n for n in names if not n.startswith("_"))


class StaticPackage:
    """The public namespaces of a wheel's modules, read from their sources without importing them.

    What ``dir(module)`` shows for a package built of star-imports (``mindspore/nn/__init__.py``:
    ``from mindspore.nn.layer import *`` ... ``__all__.extend(layer.__all__)``): the names the module binds
    (defs, classes, assignments, imports, ``for``/``with`` targets, in ``if``/``try``/loop bodies too), a
    star-import binding the target's ``__all__`` when it can be evaluated statically (list and tuple
    literals, ``+``, ``+=``, ``.extend(x.__all__)``, ``.append``, ``.remove``) and else its public names, and
    the sub-modules and sub-packages the wheel holds (an import of ``pkg.sub`` anywhere binds ``sub`` on
    ``pkg``).  For MindSpore 2.10's ``mindspore.nn`` this is ``dir()``'s public names plus its sub-modules
    (``tests/test_mindspore_api_versions.py``)."""

    def __init__(self, wheel: zipfile.ZipFile):
        self.wheel = wheel
        self.files = set(wheel.namelist())
        self._seen: dict[str, tuple[set[str], list[str] | None]] = {}

    def _source(self, mod: str) -> bytes | None:
        p = mod.replace(".", "/")
        for cand in (p + ".py", p + "/__init__.py"):
            if cand in self.files:
                return self.wheel.read(cand)
        return None

    def _resolve(self, mod: str, level: int, name: str | None) -> str:
        if level == 0:
            return name or ""
        parts = mod.split(".")
        base = parts if mod.replace(".", "/") + "/__init__.py" in self.files else parts[:-1]
        base = base[: len(base) - (level - 1)]
        return ".".join(base + ([name] if name else []))

    def _exports(self, mod: str) -> set[str]:
        """What ``from mod import *`` binds."""
        ns, all_ = self._analyse(mod)
        return set(all_) if all_ is not None else {n for n in ns if not n.startswith("_")}

    def _analyse(self, mod: str) -> tuple[set[str], list[str] | None]:
        """(names bound in ``mod``, its ``__all__`` or None when absent or not static)."""
        if mod in self._seen:
            return self._seen[mod]
        self._seen[mod] = (set(), None)  # an import cycle sees an empty module
        src = self._source(mod)
        if src is None:  # compiled or outside the wheel
            return self._seen[mod]
        ns: set[str] = set()
        modules: dict[str, str] = {}  # local name -> the module it is bound to
        state: dict[str, list[str] | None] = {"all": None}

        def value(e: ast.expr) -> list[str] | None:
            if isinstance(e, (ast.List, ast.Tuple)):
                if all(isinstance(x, ast.Constant) and isinstance(x.value, str) for x in e.elts):
                    return [x.value for x in e.elts]  # type: ignore[attr-defined]
                return None
            if isinstance(e, ast.BinOp) and isinstance(e.op, ast.Add):
                a, b = value(e.left), value(e.right)
                return None if a is None or b is None else a + b
            if isinstance(e, ast.Attribute) and e.attr == "__all__" and isinstance(e.value, ast.Name):
                if e.value.id in modules:
                    return self._analyse(modules[e.value.id])[1]
                return None
            if isinstance(e, ast.Name) and e.id == "__all__":
                return state["all"]
            return None

        def bind(t: ast.expr) -> None:
            if isinstance(t, ast.Name):
                ns.add(t.id)
            elif isinstance(t, (ast.Tuple, ast.List)):
                for x in t.elts:
                    bind(x)
            elif isinstance(t, ast.Starred):
                bind(t.value)

        def all_call(n: ast.Call) -> None:
            meth, args, cur = n.func.attr, n.args, state["all"]  # type: ignore[attr-defined]
            if cur is None or meth == "sort":
                return
            arg = args[0] if len(args) == 1 else None
            if meth == "extend" and arg is not None:
                v = value(arg)
                state["all"] = None if v is None else cur + v
            elif meth in ("append", "remove") and isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                state["all"] = cur + [arg.value] if meth == "append" else [x for x in cur if x != arg.value]
            else:
                state["all"] = None

        def visit(body: list[ast.stmt]) -> None:
            for n in body:
                if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    ns.add(n.name)
                elif isinstance(n, ast.Import):
                    for a in n.names:
                        local = a.asname or a.name.split(".")[0]
                        ns.add(local)
                        modules[local] = a.name if a.asname else local
                elif isinstance(n, ast.ImportFrom):
                    target = self._resolve(mod, n.level, n.module)
                    for a in n.names:
                        if a.name == "*":
                            ns.update(self._exports(target))
                            continue
                        ns.add(a.asname or a.name)
                        if self._source(f"{target}.{a.name}") is not None:
                            modules[a.asname or a.name] = f"{target}.{a.name}"
                elif isinstance(n, ast.Assign):
                    for t in n.targets:
                        if isinstance(t, ast.Name) and t.id == "__all__":
                            state["all"] = value(n.value)
                        bind(t)
                elif isinstance(n, ast.AugAssign):
                    if isinstance(n.target, ast.Name) and n.target.id == "__all__":
                        v, cur = value(n.value), state["all"]
                        state["all"] = None if v is None or cur is None else cur + v
                    bind(n.target)
                elif isinstance(n, ast.AnnAssign):
                    if n.value is not None:
                        bind(n.target)
                elif (
                    isinstance(n, ast.Expr) and isinstance(n.value, ast.Call) and isinstance(n.value.func, ast.Attribute)
                    and isinstance(n.value.func.value, ast.Name) and n.value.func.value.id == "__all__"
                ):  # fmt: skip
                    all_call(n.value)
                elif isinstance(n, (ast.For, ast.AsyncFor)):
                    bind(n.target)
                    visit(n.body)
                    visit(n.orelse)
                elif isinstance(n, (ast.With, ast.AsyncWith)):
                    for item in n.items:
                        if item.optional_vars is not None:
                            bind(item.optional_vars)
                    visit(n.body)
                elif isinstance(n, (ast.If, ast.While)):
                    visit(n.body)
                    visit(n.orelse)
                elif isinstance(n, ast.Try) or type(n).__name__ == "TryStar":
                    visit(n.body)  # type: ignore[attr-defined]
                    visit(n.orelse)  # type: ignore[attr-defined]
                    visit(n.finalbody)  # type: ignore[attr-defined]
                    for h in n.handlers:  # type: ignore[attr-defined]
                        if h.name:
                            ns.add(h.name)
                        visit(h.body)

        visit(ast.parse(src).body)
        self._seen[mod] = (ns, state["all"])
        return self._seen[mod]

    def submodules(self, pkg: str) -> set[str]:
        """The sub-modules (``.py`` or compiled) and sub-packages of ``pkg`` in the wheel."""
        prefix = pkg.replace(".", "/") + "/"
        out = set()
        for f in self.files:
            if not f.startswith(prefix):
                continue
            rest = f[len(prefix) :].split("/")
            if len(rest) == 2 and rest[1] == "__init__.py":
                out.add(rest[0])
            elif len(rest) == 1 and (rest[0].endswith(".py") or rest[0].endswith(".so")):
                out.add(rest[0].split(".")[0])
        return out - {"__init__"}

    def public(self, mod: str) -> list[str]:
        """The public names ``mod.<name>`` reaches: its bindings and its sub-modules."""
        names = self._analyse(mod)[0] | self.submodules(mod)
        return sorted(n for n in names if not n.startswith("_") and n.isidentifier())


#: torch.nn sub-modules whose names MRG404 checks, and their source files
NN_MODULES = {"torch.nn.functional": "torch/nn/functional.py", "torch.nn.init": "torch/nn/init.py",
              "torch.nn.parameter": "torch/nn/parameter.py"}
#: MindSpore packages whose names MRG404 checks (read with :class:`StaticPackage`)
MS_NN_MODULES = ("mindspore.nn",)


def minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def fetch(framework: str, version: str) -> tuple[str, list[str]]:
    """(wheel file name, names) for one release: download, read one file, delete."""
    path, cls = SOURCE[framework]
    errors = []
    for platform, python in PLATFORMS[framework]:
        with tempfile.TemporaryDirectory(prefix="modreg-api-") as tmp:
            cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                   "--platform", platform, "--python-version", python, "-d", tmp, f"{framework}=={version}"]  # fmt: skip
            r = subprocess.run(cmd, capture_output=True, text=True)
            wheels = sorted(pathlib.Path(tmp).glob("*.whl"))
            if r.returncode or not wheels:
                errors.append(f"{platform}/py{python}: {r.stderr.strip().splitlines()[-1:] or r.returncode}")
                continue
            with zipfile.ZipFile(wheels[0]) as z:
                source = z.read(path)
                if framework == "torch":
                    entries = sorted({n.split("/")[2] for n in z.namelist() if n.startswith("torch/nn/") and n.count("/") >= 2})
                    NN_NAMES.setdefault("torch.nn", {})[minor(version)] = nn_namespace(
                        z.read("torch/nn/__init__.py"), z.read("torch/nn/modules/__init__.py"), entries)
                    for module, file in NN_MODULES.items():
                        NN_NAMES.setdefault(module, {})[minor(version)] = module_names(z.read(file))
                else:
                    package = StaticPackage(z)
                    for module in MS_NN_MODULES:
                        NN_NAMES.setdefault(module, {})[minor(version)] = package.public(module)
            return wheels[0].name, class_names(source, cls)
    raise SystemExit(f"{framework}=={version}: no wheel ({'; '.join(errors)})")


#: module -> minor release -> public names (``torch.nn``, ``NN_MODULES``, ``MS_NN_MODULES``; filled by ``fetch``)
NN_NAMES: dict[str, dict[str, list[str]]] = {}


def load() -> dict:
    if not OUT.exists():
        return {"torch": {}, "mindspore": {}, "wheels": {}, "torch_ns": {}, "ms_ns": {}}
    ns: dict = {}
    exec(OUT.read_text(encoding="utf-8"), ns)  # our own generated file
    return {"torch": dict(ns["TORCH_MODULE"]), "mindspore": dict(ns["MINDSPORE_CELL"]), "wheels": dict(ns["WHEELS"]),
            "torch_ns": {m: dict(t) for m, t in ns.get("TORCH_NAMESPACES", {}).items()},
            "ms_ns": {m: dict(t) for m, t in ns.get("MINDSPORE_NAMESPACES", {}).items()}}


def write(data: dict) -> None:
    def namespaces(tables: dict) -> str:
        return "".join(f'    "{m}": ' + textwrap.indent(table(t), "    ").lstrip() + ",\n" for m, t in sorted(tables.items()))

    def table(d: dict) -> str:
        items = sorted(d.items(), key=lambda kv: tuple(int(x) for x in kv[0].split(".")))
        lines = ["{"]
        for k, names in items:
            body = textwrap.fill(" ".join(names), width=100, initial_indent=" " * 8, subsequent_indent=" " * 8)
            lines.append(f'    "{k}": tuple(\n        """\n{body}\n        """.split()\n    ),')
        return "\n".join(lines + ["}"])

    OUT.write_text(
        '"""Public class attributes of torch.nn.Module and mindspore.nn.Cell, and the names of torch.nn and\n'
        'mindspore.nn, per release.\n\n'
        "Generated by `python scripts/gen_api_versions.py` from the released wheels' sources; do not edit.\n"
        '"""\n\n'
        "#: torch minor release -> public names bound in `class Module` (torch/nn/modules/module.py)\n"
        f"TORCH_MODULE: dict[str, tuple[str, ...]] = {table(data['torch'])}\n\n"
        "#: MindSpore minor release -> public names bound in `class Cell` (mindspore/nn/cell.py)\n"
        f"MINDSPORE_CELL: dict[str, tuple[str, ...]] = {table(data['mindspore'])}\n\n"
        "#: module -> torch minor release -> its public names (`torch.nn`: torch/nn/__init__.py, modules/__init__.py's\n"
        "#: __all__ and its sub-modules; functional/init/parameter: their top-level bindings). MRG404 reports a name\n"
        "#: of a later release as missing in the chosen one\n"
        "TORCH_NAMESPACES: dict[str, dict[str, tuple[str, ...]]] = {\n"
        + namespaces(data["torch_ns"])
        + "}\n\n"
        "#: module -> MindSpore minor release -> its public names (`mindspore.nn`: what its star-imports bind and its\n"
        "#: sub-modules, read by `StaticPackage`). MRG404 reports a name of a later release as missing in the chosen one\n"
        "MINDSPORE_NAMESPACES: dict[str, dict[str, tuple[str, ...]]] = {\n"
        + namespaces(data["ms_ns"])
        + "}\n\n"
        "#: '<framework> <minor>' -> the wheel each table was read from\n"
        f"WHEELS: dict[str, str] = {pprint.pformat(dict(sorted(data['wheels'].items())), width=110)}\n",
        encoding="utf-8",
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--torch", nargs="*", help="torch releases (default: all of TORCH_RELEASES)")
    ap.add_argument("--mindspore", nargs="*", help="MindSpore releases (default: all of MINDSPORE_RELEASES)")
    args = ap.parse_args(argv)
    if args.torch is None and args.mindspore is None:
        args.torch, args.mindspore = list(TORCH_RELEASES), list(MINDSPORE_RELEASES)
    data = load()
    for framework, versions in (("torch", args.torch or []), ("mindspore", args.mindspore or [])):
        for v in versions:
            wheel, names = fetch(framework, v)
            data[framework][minor(v)] = names
            data["wheels"][f"{framework} {minor(v)}"] = wheel
            key = "torch_ns" if framework == "torch" else "ms_ns"
            for module, tables in NN_NAMES.items():
                if module.split(".")[0] == framework and minor(v) in tables:
                    data[key].setdefault(module, {})[minor(v)] = tables[minor(v)]
            print(f"{framework} {v}: {len(names)} names from {wheel}", flush=True)
            write(data)  # after each release: an interrupted run keeps what it read
    return 0


if __name__ == "__main__":
    sys.exit(main())
