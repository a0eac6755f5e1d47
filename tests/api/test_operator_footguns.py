"""Operator foot-guns (issue 15 item 6): declaring a year before its State Council notice is
entered, verify and integrity runs without progress, `make help` and the README's examples."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import click._termui_impl
import pytest

from core.kernel.errors import Conflict
from core.kernel.settings import Settings
from core.kernel.vocab import PARTY_KINDS
from core.rules.calendar import PACKAGE_YEARS
from core.rules.calendar_store import declare_year
from tests.deadlines.support import admin_user
from tests.helpers import auth

ROOT = Path(__file__).resolve().parents[2]
# A year no chinese_calendar release will know during this code's life.
EMPTY_YEAR = 2097
NOTICE = f"国务院办公厅关于{EMPTY_YEAR}年部分节假日安排的通知"


def test_declaring_a_year_without_entries_is_refused_unless_forced(app, container):
    """N3: `flask calendar declare-year` refuses a year with no holidays entered, in Chinese
    (English with QC_LANG=en), naming the State Council notice and how to enter it; --force
    declares it anyway."""
    assert EMPTY_YEAR not in PACKAGE_YEARS
    runner = app.test_cli_runner()
    args = ["calendar", "declare-year", str(EMPTY_YEAR), "--source", NOTICE]
    r = runner.invoke(args=args)
    assert r.exit_code != 0
    assert NOTICE in r.output and "尚未录入任何节假日" in r.output
    assert f"flask calendar add-holiday {EMPTY_YEAR}-MM-DD" in r.output
    r = runner.invoke(args=args, env={"QC_LANG": "en"})
    assert r.exit_code != 0
    assert "enter the State Council notice first" in r.output and NOTICE in r.output
    shown = json.loads(runner.invoke(args=["calendar", "show", str(EMPTY_YEAR), "--json"]
                                     ).output)
    assert shown["status"] == "unknown" and shown["warning"]  # nothing was declared
    r = runner.invoke(args=[*args, "--force"])
    assert r.exit_code == 0, r.output
    assert f"{EMPTY_YEAR} declared complete" in r.output


def test_declaring_after_entering_the_notice_needs_no_force(app, container):
    """N3: once a holiday of the year is entered the year is declared without --force; a year
    the package knows needs no entries."""
    runner = app.test_cli_runner()
    r = runner.invoke(args=["calendar", "add-holiday", f"{EMPTY_YEAR}-01-01", "--note", "元旦"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(args=["calendar", "declare-year", str(EMPTY_YEAR), "--source", NOTICE])
    assert r.exit_code == 0, r.output
    known = min(PACKAGE_YEARS)
    with container.uow() as uow:
        assert declare_year(uow.session, "cli:test", known, "package year").year == known


def test_declare_year_api_is_refused_with_409_unless_forced(client, container):
    """N3: the API applies the same core rule: 409 naming the notice, 201 with force."""
    hdr = auth(admin_user(container))
    body = {"year": EMPTY_YEAR, "source": NOTICE}
    r = client.post("/api/v1/calendar/years", headers=hdr, json=body)
    assert r.status_code == 409
    err = r.get_json()["error"]
    assert err["code"] == "conflict" and NOTICE in err["message_zh"]
    assert client.post("/api/v1/calendar/years", headers=hdr,
                       json={**body, "force": "yes"}).status_code == 422
    r = client.post("/api/v1/calendar/years", headers=hdr, json={**body, "force": True})
    assert r.status_code == 201, r.get_json()
    with pytest.raises(Conflict), container.uow() as uow:
        declare_year(uow.session, "cli:test", EMPTY_YEAR + 1, "x")


@pytest.fixture
def terminal(monkeypatch):
    """Make click believe its output is a terminal, so progress bars are drawn."""
    monkeypatch.setattr(click._termui_impl, "isatty", lambda _f: True)


def test_integrity_check_shows_progress_and_keeps_its_summary(app, client, people, container,
                                                              terminal):
    """A37.1: `flask integrity check` draws a progress bar driven by the core check's
    callback, to 100 %; --quiet hides it and the summary line is the same."""
    from core.evidence import integrity
    from tests.integration.test_ledger_tamper import _small_case

    _small_case(client, people, container)
    with container.uow() as uow:
        hashes = integrity.recorded_hashes(uow.session)
    seen: list[str] = []
    assert integrity.check(container.blobs, hashes, progress=seen.append) == []
    assert seen == hashes and hashes
    runner = app.test_cli_runner()
    shown = runner.invoke(args=["integrity", "check"])
    assert shown.exit_code == 0, shown.output
    assert "re-hashing evidence" in shown.output and "100%" in shown.output
    quiet = runner.invoke(args=["integrity", "check", "--quiet"])
    assert quiet.exit_code == 0 and "re-hashing" not in quiet.output
    summary = f"{len(hashes)} blobs checked, 0 mismatches"
    assert summary in shown.output and quiet.output.strip() == summary


def test_ledger_verify_shows_progress_to_the_end(app, client, people, container, terminal):
    """A37.1: `flask ledger verify` draws its bar to 100 % from verify's callback; --quiet
    leaves only the result line."""
    from tests.integration.test_ledger_tamper import _small_case

    _small_case(client, people, container)
    runner = app.test_cli_runner()
    shown = runner.invoke(args=["ledger", "verify"])
    assert shown.exit_code == 0, shown.output
    assert "verifying the ledger" in shown.output and "100%" in shown.output
    quiet = runner.invoke(args=["ledger", "verify", "--quiet"])
    assert quiet.exit_code == 0
    assert quiet.output.startswith("ledger intact:") and "verifying" not in quiet.output


def _make_help(**env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k not in ("PORT", "MAKEFLAGS", "MAKELEVEL")}
    out = subprocess.run(["make", "--no-print-directory", "help"], cwd=ROOT, check=True,
                         capture_output=True, text=True, env={**clean, **env}, timeout=60)
    return out.stdout


def test_make_help_lists_every_target_and_the_real_port():
    """`make help` names every target of the Makefile and the port the app really uses."""
    makefile = (ROOT / "Makefile").read_text()
    targets = {m for m in re.findall(r"^([A-Za-z0-9_.-]+):(?!=)", makefile, re.M)
               if not m.startswith(".")}
    phony = set(re.search(r"^\.PHONY:(.*)$", makefile, re.M).group(1).split())
    assert phony <= targets
    listed = {line.split()[0] for line in _make_help().splitlines() if line.strip()}
    assert targets == listed
    port = Settings.from_env({}).port
    assert f"http://127.0.0.1:{port} " in _make_help()
    assert "http://127.0.0.1:8123 " in _make_help(PORT="8123")


def test_readme_case_example_names_a_party_kind_the_api_accepts(client, people):
    """N4: the README's example party is a company, so its kind must be organisation (a
    person's summary-fine and hearing thresholds differ); the body is accepted as written."""
    readme = (ROOT / "README.md").read_text()
    bodies = [json.loads(b) for b in re.findall(r"-d '(\{.*?\})'", readme)
              if '"party"' in b]
    assert bodies
    for body in bodies:
        party = body["party"]
        assert party.get("kind") in PARTY_KINDS
        if any(w in party["name"] for w in ("公司", "企业", "厂")):
            assert party["kind"] == "organisation"
        r = client.post("/api/v1/cases", json=body, headers=auth(people["officer"]))
        assert r.status_code == 201, r.get_json()
        assert r.get_json()["party"]["kind"] == party["kind"]
