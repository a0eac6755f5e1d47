"""Dependency advisories for `make lint` (issue 12): every pinned package of requirements.txt
and requirements-dev.txt is checked against the vendored list .ci/advisories.json, offline,
always; then, when pip-audit is installed and QC_AUDIT_ONLINE=1, against its online database,
saying plainly when that database cannot be reached (the offline result still stands).

    .venv/bin/python .ci/audit.py            # exit 1 when a pin is below an advisory's fix
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from packaging.version import InvalidVersion, Version

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;#]+)")


def pins(*files: Path) -> dict[str, str]:
    """Package (normalised name) → pinned version, from requirements files."""
    out = {}
    for path in files:
        for line in path.read_text().splitlines():
            m = PIN.match(line.strip())
            if m:
                out[re.sub(r"[-_.]+", "-", m.group(1)).lower()] = m.group(2)
    return out


def offline(pinned: dict[str, str], advisories: list[dict]) -> list[str]:
    """The advisories a pin is affected by (pinned version below the fixed one)."""
    found = []
    for adv in advisories:
        version = pinned.get(adv["package"])
        if version is None:
            continue
        try:
            if Version(version) < Version(adv["fixed"]):
                found.append(f"{adv['package']}=={version}: {adv['id']} ({adv['summary']}); "
                             f"fixed in {adv['fixed']}")
        except InvalidVersion:
            found.append(f"{adv['package']}=={version}: version not comparable with {adv['id']}")
    return found


def online() -> None:
    """pip-audit against its database, when asked for and installed; never fails the lint
    because the database is out of reach."""
    if os.environ.get("QC_AUDIT_ONLINE") != "1":
        print("advisories: online database not consulted (set QC_AUDIT_ONLINE=1 with pip-audit "
              "installed); the vendored list above is what was checked")
        return
    tool = shutil.which("pip-audit") or str(Path(sys.executable).with_name("pip-audit"))
    if not Path(tool).exists():
        print("advisories: pip-audit is not installed: the online database was NOT consulted")
        return
    run = subprocess.run([tool, "-r", str(ROOT / "requirements.txt"), "--no-deps",  # noqa: S603
                          "--disable-pip", "--progress-spinner", "off"],
                         capture_output=True, text=True, timeout=300)
    if run.returncode == 0:
        print("advisories: pip-audit found nothing in its online database")
    elif "Connection" in run.stderr or "resolve" in run.stderr or "timed out" in run.stderr:
        print("advisories: CANNOT REACH the pip-audit advisory database (offline?): only the "
              "vendored list was checked")
    else:
        print(run.stdout + run.stderr)
        sys.exit(1)


def main() -> None:
    """Check, print, and exit 1 on an affected pin."""
    data = json.loads((HERE / "advisories.json").read_text())
    pinned = pins(ROOT / "requirements.txt", ROOT / "requirements-dev.txt")
    found = offline(pinned, data["advisories"])
    print(f"advisories: {len(pinned)} pinned packages checked against "
          f"{len(data['advisories'])} vendored advisories (list of {data['updated']})")
    for line in found:
        print(f"  AFFECTED {line}")
    online()
    if found:
        sys.exit(1)


if __name__ == "__main__":
    main()
