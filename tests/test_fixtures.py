"""Larger files with their expectations written inline (bugbear style).

A trailing comment ``# MRG101: 4`` (code, 0-based column; several separated by
commas) marks each finding the line must produce; every other line must stay
silent.  Each file is checked through the core and through a real flake8 run.
"""

import pathlib
import re
import subprocess
import sys

import pytest

from flake8_modreg import check

FIXTURES = sorted((pathlib.Path(__file__).parent / "fixtures").glob("*.py"))
EXPECT = re.compile(r"#\s*(MRG\d{3}:\s*\d+(?:\s*,\s*MRG\d{3}:\s*\d+)*)\s*$")


def expected(path):
    out = set()
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        m = EXPECT.search(line)
        if m:
            for item in m.group(1).split(","):
                code, col = item.split(":")
                out.add((code.strip(), lineno, int(col)))
    return out


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_fixture_core(path):
    got = {(f.code, f.line, f.col) for f in check(path.read_bytes(), path=str(path))}
    assert got == expected(path)


def test_fixtures_through_flake8():
    proc = subprocess.run(
        [sys.executable, "-m", "flake8", "--isolated", "--select", "MRG", *map(str, FIXTURES)],
        capture_output=True,
        text=True,
        encoding="utf-8",
    )
    assert "Traceback" not in proc.stderr
    got = set()
    for line in proc.stdout.splitlines():
        path, ln, col, rest = line.split(":", 3)
        got.add((pathlib.Path(path).name, rest.split()[0], int(ln), int(col) - 1))
    want = {(p.name, *e) for p in FIXTURES for e in expected(p)}
    assert got == want
