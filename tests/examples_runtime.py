"""Helpers for the runtime ground-truth tests: a rule by code, and running its example text."""

from flake8_modreg.rules import all_rules


def rule(code):
    return next(r for r in all_rules() if r.code == code)


def run_example(code):
    ns = {"__name__": "modreg_runtime"}
    exec(compile(code, "<example>", "exec"), ns)
    return ns
