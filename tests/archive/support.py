"""Helpers of the afterlife tests: a custodian, and one row in every afterlife table."""

from __future__ import annotations

from datetime import datetime, timedelta

from core import ledger
from core.archive import access_requests, custody, retention
from core.archive.models import DisclosureCopy, Dossier
from core.cases.models import Record, Refusal
from core.deadlines.models import Deadline
from core.kernel.clock import utcnow
from core.kernel.ids import new_id
from core.people.models import Officer
from core.platform.uow import Event
from core.rules.calendar import LEGAL_TZ
from tests.helpers import open_case


def every_afterlife_row(flow, container, people, case_id: str) -> None:
    """Write one row of each afterlife table for a case through the services; the volume and
    the disclosure copy are recorded without rendering (their bags are tested elsewhere)."""
    custodian = flow.custodian()
    with container.uow() as uow:
        uow.emit(Event("act.ended", case_id, utcnow(), {"reason": "test"}))
        dossier = Dossier(id=new_id(), case_id=case_id, volume=1, kind="volume",
                          bag_sha256="0" * 64, size=1, manifest_sha256="1" * 64, documents=1,
                          pages=1, pdf_variant="pdf/a-2b", archival=True, last_seq=0,
                          built_by=people["officer"]["id"], built_at=utcnow())
        uow.session.add(dossier)
        ledger.append(uow.session, "dossier", dossier, case_id=case_id)
        copy = DisclosureCopy(id=new_id(), case_id=case_id, audience="party", sha256="2" * 64,
                              size=1, masked={"values": 0}, blurred={},
                              made_by=people["officer"]["id"], made_at=utcnow())
        uow.session.add(copy)
        ledger.append(uow.session, "disclosure_copy", copy, case_id=case_id)
    with container.uow() as uow:
        keeper = uow.session.get(Officer, custodian["id"])
        custody.archive(uow, keeper, dossier.id, location="档案室")
        use = custody.hand_out(uow, keeper, dossier.id, user_name="复议机关 李某",
                               purpose="行政复议", approved_by=people["head"]["id"])
        custody.take_back(uow, keeper, use.id)
        retention.legal_hold(uow, keeper, case_id, on=True, basis="行政诉讼中")
        req = access_requests.receive(
            uow, keeper, case_id, requester_name="周建国", requester_kind="party",
            asked="查阅本案案卷", received_at=datetime.fromisoformat("2026-09-30T10:00:00+08:00"),
            identity_checked=True)
        access_requests.reply(uow, keeper, req.id, outcome="granted",
                              disclosure_id=copy.id)


# --- A36.1: a small fixed data set for the compliance figures (API and desk) ----------

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


def metrics_data_set(flow, container, people, clock) -> dict:
    """A36.1's fixed data set: two cases (one per officer) with deadlines, AV-requiring
    records and a refusal; "now" is left on 12 March 2026."""
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
