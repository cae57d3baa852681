"""Editor latency of the language server: ``didChange`` -> ``publishDiagnostics`` (a benchmark, not a test).

    python bench/lsp_latency.py                      # a generated 5,000-line model file
    python bench/lsp_latency.py --lines 1000 --runs 30
    python bench/lsp_latency.py --file path/to/model.py

Starts ``python -m flake8_modreg.lsp`` as a subprocess and drives it over stdio
with pygls' own client (a real JSON-RPC round trip, as an editor would).  For
each run it sends one edit inside a class chosen at random (a line added to
its ``__init__``, edits accumulate; a full-text ``didChange``, what the
server asks for) and times until the diagnostics *for that version* arrive.
Every published set of diagnostics is compared with a full check of that
version's text (codes and ranges): the incremental re-parse must not change
them (exit status 1 otherwise).  It measures
twice: with the default debounce (the delay counts: it is what the user sees)
and with ``--debounce-ms 0`` (the analysis and the round trip alone), and
prints the medians together with the server's own analysis time (from its
debug log).  Needs the ``lsp`` extra (pygls).
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import random
import re
import statistics
import sys
import time

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

BLOCK = '''

class Block{i}(nn.Module):
    """Residual block {i}: conv-bn-act twice, with a learned scale."""

    def __init__(self, channels: int = 64, expansion: int = 4, drop: float = 0.0):
        super().__init__()
        hidden = channels * expansion
        self.conv1 = nn.Conv2d(channels, hidden, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(hidden)
        self.conv2 = nn.Conv2d(hidden, hidden, kernel_size=3, padding=1, groups=hidden, bias=False)
        self.bn2 = nn.BatchNorm2d(hidden)
        self.conv3 = nn.Conv2d(hidden, channels, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(channels)
        self.act = nn.GELU()
        self.drop = nn.Dropout(drop) if drop > 0 else nn.Identity()
        self.scale = nn.Parameter(torch.ones(channels) * 1e-4)
        self.heads = {heads}
        self.register_buffer("running", torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.act(self.bn1(self.conv1(x)))
        x = self.act(self.bn2(self.conv2(x)))
        x = self.bn3(self.conv3(x))
        x = self.drop(x) * self.scale.view(1, -1, 1, 1)
        for head in self.heads:
            x = x + head(x.mean((2, 3)))[:, :, None, None]
        return shortcut + x

    def extra_repr(self) -> str:
        return f"channels={{self.bn3.num_features}}"
'''

HEADER = '''"""A generated model file for the LSP latency benchmark."""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
'''


def edit_inside_a_class(text: str, rng: random.Random, v: int) -> str:
    """A line typed into the ``__init__`` of a random class (every third edit adds a finding: a tensor attribute)."""
    anchors = [m.end() for m in re.finditer(r"\n        super\(\).__init__\(\)\n", text)]
    if not anchors:
        return text + f"# edit {v}\n"
    at = rng.choice(anchors)
    line = f"        self.extra{v} = torch.zeros({v})\n" if v % 3 == 0 else f"        self.width{v} = {v}\n"
    return text[:at] + line + text[at:]


def full_check(text: str) -> list[tuple[int, int, int, int, str]]:
    """What a full check reports for ``text``, as LSP ranges (0-based lines; ASCII text: columns are code points)."""
    from flake8_modreg.core import check
    from flake8_modreg.noqa import Noqa

    findings = Noqa.from_source(text).filter(check(text))
    return sorted((f.line - 1, f.col, f.end_line - 1, f.end_col, f.code) for f in findings)


def generated(lines: int = 1000) -> str:
    parts = [HEADER]
    i = 0
    while sum(p.count("\n") for p in parts) < lines - 40:
        heads = "[nn.Linear(channels, channels) for _ in range(2)]"  # every fifth block: MRG101
        parts.append(BLOCK.format(i=i, heads=heads if i % 5 == 0 else f"nn.ModuleList({heads})"))
        i += 1
    body = "".join(parts)
    n = body.count("\n")
    return body + "".join(f"# padding line {k}\n" for k in range(lines - n))


async def measure(text: str, *, debounce_ms: int | None, runs: int, server: list[str]) -> dict[str, float]:
    client = LanguageClient("modreg-bench", "1")
    published: dict[int, float] = {}
    diagnostics: dict[int, list[tuple[int, int, int, int, str]]] = {}
    logs: list[str] = []
    got = asyncio.Event()

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def _pub(params: lsp.PublishDiagnosticsParams) -> None:
        published[params.version or -1] = time.perf_counter()
        diagnostics[params.version or -1] = sorted(
            (d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character, str(d.code))
            for d in params.diagnostics
        )
        got.set()

    @client.feature(lsp.WINDOW_LOG_MESSAGE)
    def _log(params: lsp.LogMessageParams) -> None:
        logs.append(params.message)

    args = [*server, "--log-level", "debug"] + ([] if debounce_ms is None else ["--debounce-ms", str(debounce_ms)])
    await client.start_io(*args)
    root = pathlib.Path.cwd()
    await client.initialize_async(lsp.InitializeParams(capabilities=lsp.ClientCapabilities(), root_uri=root.as_uri()))
    client.initialized(lsp.InitializedParams())
    uri = (root / "bench_model.py").as_uri()

    async def wait_version(v: int, timeout: float = 30.0) -> float:
        deadline = time.perf_counter() + timeout
        while v not in published:
            got.clear()
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise RuntimeError(f"no diagnostics for version {v}")
            try:
                await asyncio.wait_for(got.wait(), remaining)
            except asyncio.TimeoutError:
                pass
        return published[v]

    client.text_document_did_open(
        lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(uri=uri, language_id="python", version=1, text=text))
    )
    await wait_version(1)
    latencies = []
    rng = random.Random(0)
    texts = {1: text}
    edited = text
    for v in range(2, runs + 2):
        await asyncio.sleep(0.3)  # a pause in typing
        edited = edit_inside_a_class(edited, rng, v)
        texts[v] = edited
        t0 = time.perf_counter()
        client.text_document_did_change(
            lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=v),
                content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=edited)],
            )
        )
        latencies.append((await wait_version(v)) - t0)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    analysis = [float(m.group(1)) for line in logs if (m := re.search(r" in ([\d.]+) ms: ", line))]
    mismatches = [v for v, t in texts.items() if v in diagnostics and diagnostics[v] != full_check(t)]
    return {
        "mismatches": mismatches,
        "median_ms": statistics.median(latencies) * 1000,
        "min_ms": min(latencies) * 1000,
        "max_ms": max(latencies) * 1000,
        "analysis_median_ms": statistics.median(analysis[1:] or analysis),
    }


def cpu_per_keystroke(text: str, runs: int) -> dict[str, dict[str, float]]:
    """In-process CPU time of the server's ``analyse`` per edit, re-parsing everything vs incrementally.

    CPU time, not wall: robust on a shared machine.  Also split into the model
    walk, the rules and the finding positions (what remains after the parse).
    """
    import collections

    from pygls.workspace import PositionCodec

    from flake8_modreg import core, lsp as server
    from flake8_modreg.settings import Config

    spent: collections.Counter = collections.Counter()
    # (module, name, what it counts as): the server's own positions hook counts as positions too
    hooks = [(core, "build_model", "build_model"), (core, "analyse", "analyse"), (core, "node_positions", "node_positions"),
             (server, "node_positions", "node_positions"), (server, "statement_positions", "node_positions")]
    originals = {(mod, name): getattr(mod, name) for mod, name, _ in hooks}

    def timed(mod, name: str, key: str):
        def wrapper(*a, **k):
            c0 = time.process_time()
            try:
                return originals[mod, name](*a, **k)
            finally:
                spent[key] += time.process_time() - c0

        return wrapper

    out = {}
    config, codec = Config(), PositionCodec()
    try:
        for mod, name, key in hooks:
            setattr(mod, name, timed(mod, name, key))
        for mode in ("full parse", "incremental"):
            rng = random.Random(1)
            edited = text
            last = server.analyse(edited, version=1, path=None, config=config, codec=codec)
            spent.clear()
            cpus = []
            for v in range(2, runs + 2):
                edited = edit_inside_a_class(edited, rng, v)
                c0 = time.process_time()
                result = server.analyse(
                    edited, version=v, path=None, config=config, codec=codec, previous=last if mode == "incremental" else None
                )
                cpus.append(time.process_time() - c0)
                last = result
            out[mode] = {
                "median_ms": statistics.median(cpus) * 1000,
                **{key: spent[key] / runs * 1000 for _, _, key in hooks},
                "diagnostics": len(last.diagnostics),
            }
    finally:
        for (mod, name), fn in originals.items():
            setattr(mod, name, fn)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--file", type=pathlib.Path, help="a model file to use instead of the generated one")
    p.add_argument("--lines", type=int, default=5000, help="size of the generated file (default 5000)")
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--cpu-only", action="store_true", help="only the in-process CPU time per edit (no server)")
    args = p.parse_args(argv)
    text = args.file.read_text(encoding="utf-8") if args.file else generated(args.lines)
    server = [sys.executable, "-m", "flake8_modreg.lsp"]
    print(f"file: {args.file or 'generated'}, {text.count(chr(10))} lines; {args.runs} edits per case")
    for mode, r in cpu_per_keystroke(text, args.runs).items():
        print(
            f"{'CPU per edit, ' + mode:>26}: {r['median_ms']:.0f} ms median (model {r['build_model']:.0f}, "
            f"rules {r['analyse']:.0f}, positions {r['node_positions']:.0f} ms; {r['diagnostics']} diagnostics)"
        )
    if args.cpu_only:
        return 0
    bad = 0
    for label, debounce in (("default debounce (150 ms)", None), ("no debounce", 0)):
        r = asyncio.run(measure(text, debounce_ms=debounce, runs=args.runs, server=server))
        print(
            f"{label:>26}: didChange -> publishDiagnostics median {r['median_ms']:.1f} ms "
            f"(min {r['min_ms']:.1f}, max {r['max_ms']:.1f}); server analysis median {r['analysis_median_ms']:.1f} ms"
        )
        if r["mismatches"]:
            bad += 1
            print(f"{'':>26}  diagnostics differ from a full check for versions {r['mismatches']}")
    print("diagnostics: " + ("DIFFER from a full check" if bad else "identical to a full check for every version"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
