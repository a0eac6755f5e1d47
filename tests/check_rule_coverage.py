"""List every RULES.md ID from A9.1 to A30.1 and the tests whose docstrings name it.

Usage: python tests/check_rule_coverage.py [--all]
Exit 0 when every ID in the range is named by at least one test docstring, 1 otherwise (the
IDs without a test are printed). RULES.md is read from ../shared/mission beside the project;
without it the list embedded below is used.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
RULES_MD = ROOT.parent / "shared" / "mission" / "RULES.md"
FIRST, LAST = (9, 1), (30, 1)
ID = re.compile(r"\bA(\d+)\.(\d+)\b")
# Part 1 of RULES.md as of 2019's 实施细则, for a checkout without the shared folder.
EMBEDDED = (
    "A9.1", "A9.2", "A10.1", "A10.2", "A11.1", "A12.1", "A13.1", "A13.2", "A13.3", "A14.1",
    "A15.1", "A16.1", "A17.1", "A17.2", "A18.1", "A19.1", "A20.1", "A21.1", "A22.1", "A22.2",
    "A22.3", "A23.1", "A24.1", "A25.1", "A26.1", "A27.1", "A28.1", "A29.1", "A30.1",
)


def _key(rule_id: str) -> tuple[int, int]:
    m = ID.fullmatch(rule_id)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def rule_ids() -> tuple[list[str], str | None]:
    """The IDs in range, and where they came from (None: nowhere)."""
    if RULES_MD.is_file():
        found = []
        for line in RULES_MD.read_text(encoding="utf-8").splitlines():
            cell = line.split("|")[1].strip() if line.startswith("|") else ""
            if ID.fullmatch(cell) and FIRST <= _key(cell) <= LAST and cell not in found:
                found.append(cell)
        return found, str(RULES_MD)
    if EMBEDDED:
        return [i for i in EMBEDDED if FIRST <= _key(i) <= LAST], "embedded list"
    return [], None


def named_by_tests() -> dict[str, list[str]]:
    """ID → the tests (path::name) whose docstring names it."""
    out: dict[str, list[str]] = {}
    for path in sorted(TESTS.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) \
                    and node.name.startswith("test"):
                doc = ast.get_docstring(node) or ""
                for m in ID.finditer(doc):
                    rid = m.group(0)
                    out.setdefault(rid, []).append(f"{path.relative_to(ROOT)}::{node.name}")
    return out


def report() -> tuple[list[str], list[str], str | None]:
    """(all IDs in range, the ones no test names, their source)."""
    ids, source = rule_ids()
    named = named_by_tests()
    return ids, [i for i in ids if i not in named], source


def main(argv: list[str]) -> int:
    """Print the coverage; exit 1 if an ID has no test."""
    ids, missing, source = report()
    if source is None:
        print("no RULES.md and no embedded list: nothing to check")
        return 2
    named = named_by_tests()
    print(f"RULES.md IDs A9.1–A30.1 from {source}: {len(ids)}")
    for rid in ids:
        tests = named.get(rid, [])
        if rid in missing:
            print(f"  {rid:<6} NO TEST")
        elif "--all" in argv:
            print(f"  {rid:<6} {len(tests)} tests, e.g. {tests[0]}")
    if missing:
        print(f"{len(missing)} IDs without a test: {' '.join(missing)}")
        return 1
    print("every ID is named by a test docstring")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
