"""List every RULES.md ID (A- and N-IDs, N25–N33 included) and the tests whose docstrings
name it.

Usage: python tests/check_rule_coverage.py [--all] [--range]
Every A- and N-ID is listed; those no test docstring names are printed as NO TEST, and a name
in a docstring that looks like an ID but is not one of RULES.md (N31.2, N34) as NOT A RULES.md
ID (it proves nothing). Exit 0 when every ID is named by at least one test docstring and no
docstring names an unknown ID, 1 otherwise. ``--range`` checks only the
core range A9.1–A30.1 (issue 5's guarantee; the other IDs are still listed). RULES.md is read
from ../shared/mission beside the project; without it the list embedded below is used.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
# ../shared beside the checkout; a git worktree under wt/ finds it one level further up.
RULES_MD = next((p for p in (ROOT.parent / "shared" / "mission" / "RULES.md",
                             ROOT.parent.parent / "shared" / "mission" / "RULES.md")
                 if p.is_file()), ROOT.parent / "shared" / "mission" / "RULES.md")
FIRST, LAST = (9, 1), (30, 1)
ID = re.compile(r"\bA(\d+)\.(\d+)\b")
# An ID followed by ".digit" is another ID ("N31.2" is not N31, "A9.10" is not A9.1): such a
# name is reported as unknown, never counted for the ID it starts with.
ANY_ID = re.compile(r"\b(?:A\d+\.\d+|N\d+)(?:\.\d+)*\b")
N_ID = re.compile(r"N(\d+)")
# Part 1 of RULES.md as of 2019's 实施细则, for a checkout without the shared folder.
EMBEDDED = (
    "A2.1", "A3.1", "A4.1", "A5.1", "A6.1", "A7.1", "A8.1",
    "A9.1", "A9.2", "A10.1", "A10.2", "A11.1", "A12.1", "A13.1", "A13.2", "A13.3", "A14.1",
    "A15.1", "A16.1", "A17.1", "A17.2", "A18.1", "A19.1", "A20.1", "A21.1", "A22.1", "A22.2",
    "A22.3", "A23.1", "A24.1", "A25.1", "A26.1", "A27.1", "A28.1", "A29.1", "A30.1",
    "A31.1", "A32.1", "A33.1", "A34.1", "A35.1", "A36.1", "A37.1",
)


def _key(rule_id: str) -> tuple[int, int]:
    m = ID.fullmatch(rule_id)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def all_ids() -> tuple[list[str], str | None]:
    """Every A- and N-ID of RULES.md, and where they came from (None: nowhere)."""
    if RULES_MD.is_file():
        found = []
        for line in RULES_MD.read_text(encoding="utf-8").splitlines():
            cell = line.split("|")[1].strip() if line.startswith("|") else ""
            if (ID.fullmatch(cell) or N_ID.fullmatch(cell)) and cell not in found:
                found.append(cell)
        return found, str(RULES_MD)
    if EMBEDDED:
        return [*EMBEDDED, *(f"N{i}" for i in range(1, 34))], "embedded list"
    return [], None


def rule_ids() -> tuple[list[str], str | None]:
    """The IDs in the core range A9.1–A30.1, and where they came from (None: nowhere)."""
    ids, source = all_ids()
    return [i for i in ids if ID.fullmatch(i) and FIRST <= _key(i) <= LAST], source


def named_by_tests() -> dict[str, list[str]]:
    """ID → the tests (path::name) whose docstring names it."""
    out: dict[str, list[str]] = {}
    for path in sorted(TESTS.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) \
                    and node.name.startswith("test"):
                doc = ast.get_docstring(node) or ""
                for m in ANY_ID.finditer(doc):
                    rid = m.group(0)
                    out.setdefault(rid, []).append(f"{path.relative_to(ROOT)}::{node.name}")
    return out


def unknown_named(ids: list[str]) -> dict[str, list[str]]:
    """IDs that test docstrings name but RULES.md does not have (N31.2, N34), with the tests."""
    known = set(ids)
    return {rid: sorted(set(tests)) for rid, tests in named_by_tests().items()
            if rid not in known}


def report() -> tuple[list[str], list[str], str | None]:
    """(all IDs in range, the ones no test names, their source)."""
    ids, source = rule_ids()
    named = named_by_tests()
    return ids, [i for i in ids if i not in named], source


def full_report() -> tuple[list[str], list[str], str | None]:
    """(every A- and N-ID, the ones no test names, their source)."""
    ids, source = all_ids()
    named = named_by_tests()
    return ids, [i for i in ids if i not in named], source


def main(argv: list[str]) -> int:
    """Print the coverage; exit 1 if an ID (in the checked set) has no test."""
    ids, missing, source = report() if "--range" in argv else full_report()
    if source is None:
        print("no RULES.md and no embedded list: nothing to check")
        return 2
    named = named_by_tests()
    if "--range" in argv:
        every, _ = all_ids()
        others = [i for i in every if i not in ids and i not in named]
        print(f"outside A9.1–A30.1 without a test: {' '.join(others) or 'none'}")
    print(f"RULES.md IDs {'A9.1–A30.1' if '--range' in argv else 'A and N'} from {source}: "
          f"{len(ids)}")
    for rid in ids:
        tests = named.get(rid, [])
        if rid in missing:
            print(f"  {rid:<6} NO TEST")
        elif "--all" in argv:
            print(f"  {rid:<6} {len(tests)} tests, e.g. {tests[0]}")
    every, _ = all_ids()
    unknown = unknown_named(every)
    for rid, tests in sorted(unknown.items()):
        print(f"  {rid:<6} NOT A RULES.md ID, named by {', '.join(tests)}")
    if missing:
        print(f"{len(missing)} IDs without a test: {' '.join(missing)}")
        return 1
    if unknown:
        print(f"{len(unknown)} names that are not RULES.md IDs: {' '.join(sorted(unknown))}")
        return 1
    print("every ID is named by a test docstring")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
