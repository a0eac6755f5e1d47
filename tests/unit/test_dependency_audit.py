"""Issue 12: `make lint` checks the pinned packages against the vendored advisory list."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _audit():
    spec = importlib.util.spec_from_file_location("audit", ROOT / ".ci" / "audit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_an_old_pin_is_flagged_and_the_current_pins_are_clean(tmp_path):
    """A pin below an advisory's fix is reported; today's requirements are not affected."""
    audit = _audit()
    old = tmp_path / "requirements.txt"
    old.write_text("Werkzeug==3.0.2\npillow==13.0.0\n")
    advisories = [{"id": "CVE-2024-34069", "package": "werkzeug", "fixed": "3.0.3",
                   "summary": "debugger"}]
    found = audit.offline(audit.pins(old), advisories)
    assert len(found) == 1 and "CVE-2024-34069" in found[0]
    import json

    listed = json.loads((ROOT / ".ci" / "advisories.json").read_text())["advisories"]
    current = audit.pins(ROOT / "requirements.txt", ROOT / "requirements-dev.txt")
    assert audit.offline(current, listed) == []
