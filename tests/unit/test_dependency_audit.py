"""Issue 12: `make lint` checks the pinned packages against PyPI's advisory data, with a
reviewed ignore file, and falls back to the vendored list (saying so) when PyPI cannot answer.
The online part runs the script against a fake of PyPI's JSON API on a local port."""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _audit():
    spec = importlib.util.spec_from_file_location("audit", ROOT / ".ci" / "audit.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["audit"] = module  # its dataclasses resolve their annotations through it
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
    listed = json.loads((ROOT / ".ci" / "advisories.json").read_text())["advisories"]
    current = audit.pins(ROOT / "requirements.txt", ROOT / "requirements-dev.txt")
    assert audit.offline(current, listed) == []


# --- the online check, against a fake of PyPI's JSON API on a local port ------------------

VULN = {"id": "PYSEC-2099-1", "aliases": ["CVE-2099-0001", "GHSA-xxxx-yyyy-zzzz"],
        "summary": "remote code execution in the parser", "fixed_in": ["3.0.4"],
        "withdrawn": None, "details": "long text", "link": "https://osv.dev/PYSEC-2099-1",
        "source": "osv"}


class FakePyPI:
    """PyPI's JSON API for a few packages: path → (status, JSON body, delay in seconds)."""

    def __init__(self, routes: dict[str, tuple[int, object, float]]):
        self.routes, self.hits = routes, []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                fake.hits.append(self.path)
                status, body, delay = fake.routes.get(self.path, (404, None, 0.0))
                time.sleep(delay)
                data = b"" if body is None else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:  # the client gave up (a timeout test)
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _version_page(vulns: list[dict]) -> dict:
    return {"info": {"version": "x"}, "vulnerabilities": vulns, "urls": []}


def _run(tmp_path, url: str, *, pins: str, ignore: object = None, vendored=(),
         deadline: float = 5.0, today: str = "2026-11-29") -> tuple[int, str, float]:
    req = tmp_path / "requirements.txt"
    req.write_text(pins)
    ign = tmp_path / "ignore.json"
    ign.write_text(json.dumps({"ignore": ignore or []}) if not isinstance(ignore, str)
                   else ignore)
    adv = tmp_path / "advisories.json"
    adv.write_text(json.dumps({"updated": "2026-11-01", "advisories": list(vendored)}))
    start = time.monotonic()
    run = subprocess.run([sys.executable, str(ROOT / ".ci" / "audit.py"), "--index-url", url,
                          "--requirements", str(req), "--ignore-file", str(ign),
                          "--advisories", str(adv), "--timeout", "1", "--deadline",
                          str(deadline), "--today", today],
                         capture_output=True, text=True, timeout=60)
    return run.returncode, run.stdout + run.stderr, time.monotonic() - start


@pytest.fixture
def pypi():
    servers = []

    def make(routes):
        servers.append(FakePyPI(routes))
        return servers[-1]

    yield make
    for s in servers:
        s.close()


PINS = ("Werkzeug==3.0.2\npillow==13.0.0\n# a comment\n"
        "requests[socks]==2.34.2 ; python_version>'3'\n")


def test_a_vulnerable_pin_fails_and_clean_ones_pass(tmp_path, pypi):
    """Each pin is asked for by its version page; a live vulnerability fails the lint naming
    its ID, aliases and fixed version; a withdrawn one does not count."""
    withdrawn = {**VULN, "id": "PYSEC-2099-2", "withdrawn": "2099-01-01T00:00:00Z"}
    fake = pypi({"/pypi/werkzeug/3.0.2/json": (200, _version_page([VULN]), 0),
                 "/pypi/pillow/13.0.0/json": (200, _version_page([withdrawn]), 0),
                 "/pypi/requests/2.34.2/json": (200, _version_page([]), 0)})
    code, out, _ = _run(tmp_path, fake.url, pins=PINS)
    assert code == 1, out
    assert "3 of 3 pinned packages checked" in out
    assert ("AFFECTED werkzeug==3.0.2: PYSEC-2099-1 (CVE-2099-0001, GHSA-xxxx-yyyy-zzzz): "
            "remote code execution in the parser; fixed in 3.0.4") in out
    assert "PYSEC-2099-2" not in out
    assert sorted(fake.hits) == ["/pypi/pillow/13.0.0/json", "/pypi/requests/2.34.2/json",
                                 "/pypi/werkzeug/3.0.2/json"]
    fake.routes["/pypi/werkzeug/3.0.2/json"] = (200, _version_page([]), 0)
    code, out, _ = _run(tmp_path, fake.url, pins=PINS)
    assert code == 0 and "no known vulnerability" in out, out


def test_an_ignore_needs_its_id_reason_and_a_date_not_passed(tmp_path, pypi):
    """An entry naming the advisory (or an alias) with a reason and a future expiry ignores
    it; once expired it fails again; a malformed file stops the lint."""
    fake = pypi({"/pypi/werkzeug/3.0.2/json": (200, _version_page([VULN]), 0)})
    entry = {"id": "CVE-2099-0001", "reason": "we never run the debugger",
             "expires": "2026-12-31", "package": "Werkzeug"}
    code, out, _ = _run(tmp_path, fake.url, pins="werkzeug==3.0.2\n", ignore=[entry])
    assert code == 0, out
    assert "IGNORED werkzeug==3.0.2: PYSEC-2099-1" in out and "until 2026-12-31: we never" in out
    code, out, _ = _run(tmp_path, fake.url, pins="werkzeug==3.0.2\n", ignore=[entry],
                        today="2027-01-01")
    assert code == 1 and "EXPIRED IGNORE werkzeug==3.0.2: PYSEC-2099-1" in out, out
    other = {**entry, "package": "flask"}  # the same ID for another package ignores nothing
    code, out, _ = _run(tmp_path, fake.url, pins="werkzeug==3.0.2\n", ignore=[other])
    assert code == 1 and "AFFECTED werkzeug" in out, out
    for bad in ([{"id": "CVE-2099-0001", "expires": "2026-12-31"}],
                [{"id": "CVE-2099-0001", "reason": "x", "expires": "soon"}],
                [{"id": "CVE-2099-0001", "reason": "x", "expires": "2026-12-31", "by": "me"}],
                "not json"):
        code, out, _ = _run(tmp_path, fake.url, pins="werkzeug==3.0.2\n", ignore=bad)
        assert code == 2 and "ignore" in out.lower(), (bad, out)


def test_a_missing_version_page_uses_the_project_page_or_the_vendored_list(tmp_path, pypi):
    """No page for the version: the project's page serves when its newest release is the pin;
    otherwise that package is checked against the vendored list, and the output says so."""
    fake = pypi({"/pypi/werkzeug/json": (200, {"info": {"version": "3.0.2"},
                                               "vulnerabilities": [VULN]}, 0),
                 "/pypi/pillow/json": (200, {"info": {"version": "14.0.0"},
                                             "vulnerabilities": []}, 0)})
    vendored = [{"id": "CVE-2024-28219", "package": "pillow", "fixed": "13.0.1",
                 "summary": "buffer overflow"}]
    code, out, _ = _run(tmp_path, fake.url, pins="Werkzeug==3.0.2\npillow==13.0.0\n",
                        vendored=vendored)
    assert code == 1
    assert "AFFECTED werkzeug==3.0.2: PYSEC-2099-1" in out
    assert "NOT CHECKED ONLINE pillow==13.0.0: PyPI serves no page for 13.0.0 (newest is " \
           "14.0.0)" in out
    assert "AFFECTED (vendored list) pillow==13.0.0: CVE-2024-28219" in out


def test_pypi_out_of_reach_falls_back_to_the_vendored_list_and_says_so(tmp_path):
    """Nothing listens: every package is checked against the vendored list, with a clear
    line that the database could not be reached; the result follows that list."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"  # closed once the block ends
    vendored = [{"id": "CVE-2024-34069", "package": "werkzeug", "fixed": "3.0.3",
                 "summary": "debugger PIN bypass"}]
    code, out, _ = _run(tmp_path, url, pins="Werkzeug==3.0.2\n", vendored=vendored)
    assert code == 1
    assert "0 of 1 pinned packages checked" in out
    assert "CANNOT REACH PyPI's advisory database" in out and "falling back" in out
    assert "AFFECTED (vendored list) werkzeug==3.0.2: CVE-2024-34069" in out
    code, out, _ = _run(tmp_path, url, pins="Werkzeug==3.0.3\n", vendored=vendored)
    assert code == 0 and "CANNOT REACH" in out, out


def test_a_slow_or_broken_answer_is_bounded_in_time(tmp_path, pypi):
    """A server that never answers in time, or answers junk, costs the timeout, not the
    run: the whole check ends by its deadline."""
    pins = "".join(f"pkg{i}==1.0\n" for i in range(40)) + "junk==1.0\nerror==1.0\n"
    fake = pypi({**{f"/pypi/pkg{i}/1.0/json": (200, _version_page([]), 30.0)
                    for i in range(40)},
                 "/pypi/junk/1.0/json": (200, ["not", "an", "object"], 0),
                 "/pypi/error/1.0/json": (503, {}, 0)})
    code, out, elapsed = _run(tmp_path, fake.url, pins=pins, deadline=3.0)
    assert code == 0, out  # nothing known against them, and the vendored list is empty
    assert elapsed < 15, elapsed
    assert "0 of 42 pinned packages checked" in out and "CANNOT REACH" in out
