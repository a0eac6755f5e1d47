"""Helpers of the afterlife tests: a custodian, and one row in every afterlife table."""

from __future__ import annotations

from datetime import datetime

from core import ledger
from core.archive import access_requests, custody, retention
from core.archive.models import DisclosureCopy, Dossier
from core.kernel.clock import utcnow
from core.kernel.ids import new_id
from core.people.models import Officer
from core.platform.uow import Event


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
