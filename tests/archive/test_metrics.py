"""A36.1: the compliance figures of a small fixed data set equal the figures worked out by
hand, per officer and per department, as JSON, CSV and a PDF report; only heads,
supervisors and auditors read them."""

from __future__ import annotations

import csv
import io
import subprocess
from datetime import datetime, timedelta
from shutil import which

import pytest

from core import ledger
from core.cases.models import Record, Refusal
from core.deadlines.models import Deadline
from core.kernel.ids import new_id
from core.rules.calendar import LEGAL_TZ
from tests.helpers import open_case

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=LEGAL_TZ)


def _day(n: int, hour: int = 10) -> datetime:
    return T0 + timedelta(days=n, hours=hour - 10)


def _deadline(uow, case_id, rule, trigger, due, status="open", closed=None):
    uow.session.add(Deadline(id=new_id(), case_id=case_id, rule_id=rule, legal_source="test",
                             trigger_event="test", trigger_at=trigger, due_at=due, period=1,
                             unit="working_days", status=status, closed_at=closed,
                             closed_by="test" if closed else None, warnings=[]))


def _record(uow, case_id, officer_id, rtype, when) -> str:
    r = Record(id=new_id(), case_id=case_id, type=rtype, stage="investigation", fields={},
               officers=[officer_id], occurred_at=when, created_by=officer_id)
    uow.session.add(r)
    ledger.append(uow.session, "record", r, case_id=case_id)
    return r.id


@pytest.fixture
def data(flow, container, people, clock):
    """Two cases (one per officer) with deadlines, AV-requiring records and a refusal."""
    clock.set(T0)
    a = flow.open()
    b = open_case(flow.client, people["officer2"])
    mine, theirs = people["officer"]["id"], people["officer2"]["id"]
    with container.uow() as uow:
        # A22.1 for officer 1: met after 2 and 4 days, missed (closed after 7, due after 5).
        _deadline(uow, a["id"], "A22.1", _day(1), _day(8, 23), "closed", _day(3))
        _deadline(uow, a["id"], "A22.1", _day(2), _day(9, 23), "closed", _day(6))
        _deadline(uow, a["id"], "A22.1", _day(0), _day(5, 23), "closed", _day(7))
        # A31.1 still open past its due day: missed. A32.1 open, not due yet: open.
        _deadline(uow, a["id"], "A31.1", _day(0), _day(3, 23))
        _deadline(uow, a["id"], "A32.1", _day(4), _day(24, 23))
        # Cancelled and outside the period: not counted.
        _deadline(uow, a["id"], "A22.1", _day(1), _day(6, 23), "cancelled", _day(2))
        _deadline(uow, a["id"], "A22.1", _day(40), _day(45, 23), "closed", _day(41))
        # Officer 2: one A22.1 met after 1 day.
        _deadline(uow, b["id"], "A22.1", _day(1), _day(8, 23), "closed", _day(2))
        # AV: two inspections by officer 1, one with video; a refusal to sign on one of them.
        r1 = _record(uow, a["id"], mine, "onsite_inspection_record", _day(1))
        _record(uow, a["id"], mine, "onsite_inspection_record", _day(2))
        refusal = Refusal(id=new_id(), case_id=a["id"], record_id=r1, role="party",
                          person_name="周建国", refused="sign", reason="-", place="-",
                          at=_day(1), witnesses=[], created_by=mine)
        uow.session.add(refusal)
        ledger.append(uow.session, "refusal", refusal, case_id=a["id"])
    clock.set(_day(1))
    flow.av(a, r1)
    clock.set(_day(10))  # "now": A31.1 is past due, A32.1 not yet
    return {"a": a, "b": b, "mine": mine, "theirs": theirs}


def test_a36_1_figures_equal_the_hand_computed_ones(flow, people, data, app, tmp_path):
    """A36.1: per officer and per department for March 2026."""
    q = "/api/v1/metrics?from=2026-03-01&to=2026-03-31"
    r = flow.client.get(q, headers={"Authorization": f"Bearer {people['officer']['token']}"})
    assert r.status_code == 403
    head = people["head"]
    by_officer = {g["group"]: g for g in flow.get(q + "&group=officer", head)["groups"]}
    mine = by_officer[data["mine"]]
    assert mine["deadlines"]["A22.1"] == {"met": 2, "missed": 1, "open": 0, "median_days": 4.0}
    assert mine["upload_delays_a31_1"] == {"met": 0, "missed": 1, "open": 0,
                                           "median_days": None}
    assert mine["deadlines"]["A32.1"]["open"] == 1 and mine["late_archiving"] == 0
    assert mine["av_coverage"] == {"required": 2, "recorded": 1, "ratio": 0.5}
    assert mine["refusals_to_sign"] == 1
    # Each officer's one case, opened ex officio, still lacks its filing form (A10.1).
    assert mine["gate_gaps"] == {"initiation": {"A10.1": 1}}
    theirs = by_officer[data["theirs"]]
    assert theirs["deadlines"] == {"A22.1": {"met": 1, "missed": 0, "open": 0,
                                             "median_days": 1.0}}
    assert theirs["refusals_to_sign"] == 0 and theirs["av_coverage"]["required"] == 0
    [dept] = flow.get(q, head)["groups"]
    # Department: A22.1 days used 2, 4, 7 and 1 → median (2 + 4) / 2 = 3.
    assert dept["deadlines"]["A22.1"] == {"met": 3, "missed": 1, "open": 0, "median_days": 3.0}
    assert dept["gate_gaps"] == {"initiation": {"A10.1": 2}}
    # CSV carries the same figures.
    r = flow.client.get(q + "&format=csv", headers={"Authorization": f"Bearer {head['token']}"})
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    figures = {(x["metric"], x["rule"]): x["value"] for x in rows}
    assert figures[("deadline_met", "A22.1")] == "3"
    assert figures[("deadline_median_days", "A22.1")] == "3.0"
    assert figures[("refusals_to_sign", "A22.2")] == "1"
    assert figures[("missing_at_initiation", "A10.1")] == "2"
    # The month's PDF report, every font embedded.
    out = tmp_path / "m.pdf"
    result = app.test_cli_runner().invoke(args=["metrics", "report", "--month", "2026-03",
                                                "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(b"%PDF")
    if which("pdffonts"):
        fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True,
                               check=True).stdout.splitlines()[2:]
        assert fonts and all(line.split()[-5] == "yes" for line in fonts), fonts
