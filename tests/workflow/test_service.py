"""Service of documents (A23.1–A28.1, N18–N20): methods, served dates, receipts, events."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.cases.models import Evidence
from tests.workflow.flow import PNG_B64

SH = ZoneInfo("Asia/Shanghai")


def _notice(flow, **over):
    """A penalty case in the decision stage with a rights notice to serve."""
    case = flow.filed(**over)
    flow.done(case, "inquiry_record")
    flow.move(case, "decision")
    return case, flow.done(case, "rights_notice")


def _receipts(container, record_id: str) -> list[Evidence]:
    """The record's receipts once the media worker has made the ones owed (issue 12: they are
    drawn after the signature's transaction, by core.evidence.receipt_tasks)."""
    from core.evidence import receipt_tasks

    receipt_tasks.run_due(container.uow)
    with container.uow() as uow:
        return uow.session.execute(select(Evidence).where(Evidence.record_id == record_id)
                                   .order_by(Evidence.created_at)).scalars().all()


def _documents(flow, case) -> dict:
    docs = flow.get(f"/api/v1/cases/{case['id']}/services")["documents"]
    return {d["document_id"]: d for d in docs}


def test_direct_service_receipt_and_deadline(flow, container, app):
    """A23.1, A24.1: direct service is served when signed; a 送达回证 PDF is generated at once
    and again with the signatures; the served notice opens the statement-period deadline with
    the notice's figure."""
    case, notice = _notice(flow)
    service = flow.record(case, "service_direct", officers=[flow.officer["id"]],
                          document_id=notice["id"])
    assert "served_at" not in service["fields"]  # 民诉 Art. 88: dated by the signature
    assert service["fields"]["document_type"] == "rights_notice"
    assert _documents(flow, case)[notice["id"]]["served_at"] is None  # nobody signed yet
    draft = _receipts(container, service["id"])
    assert [(e.media_type, e.meta["final"]) for e in draft] == [("application/pdf", False)]
    with container.uow() as uow, uow.blobs.open(draft[0].sha256) as fh:
        assert fh.read(5) == b"%PDF-"
    flow.sign(case, service, "server", officer_id=flow.officer["id"])
    signed = flow.sign(case, service, "recipient")
    final = _receipts(container, service["id"])[-1]
    assert final.meta["final"] is True and len(final.meta["signatures"]) == 2
    assert final.sha256 != draft[0].sha256
    assert datetime.fromisoformat(_documents(flow, case)[notice["id"]]["served_at"]) \
        == datetime.fromisoformat(signed["signed_at"])
    r = flow.post(f"/api/v1/cases/{case['id']}/records/{service['id']}/receipt", {})
    assert r.status_code == 201 and r.get_json()["final"] is True
    deadlines = flow.get(f"/api/v1/cases/{case['id']}/deadlines")["deadlines"]
    period = [d for d in deadlines if d["rule_id"] == "A22.1"]
    assert period and period[0]["period"] == 5 and period[0]["subject_id"] == notice["id"]
    assert app.test_cli_runner().invoke(args=["ledger", "verify"]).exit_code == 0


def test_service_conditions(flow):
    """A23.1: only documents of this case, never before they exist, never twice; a recipient
    who has not signed means an entrusted or forwarded document is not yet served (A27.1)."""
    case, notice = _notice(flow)
    inquiry = next(r for r in flow.get(f"/api/v1/cases/{case['id']}/records")["records"]
                   if r["type"] == "inquiry_record")
    flow.record(case, "service_direct", document_id=inquiry["id"], expect=422)
    flow.record(case, "service_direct", document_id=notice["id"], at=flow.clock.iso(days=-1),
                expect=422)
    entrusted = flow.record(case, "service_entrusted", officers=[flow.officer["id"]],
                            document_id=notice["id"])
    flow.sign(case, entrusted, "server", officer_id=flow.officer["id"])
    assert _documents(flow, case)[notice["id"]]["served_at"] is None
    flow.sign(case, entrusted, "recipient")
    assert _documents(flow, case)[notice["id"]]["served_at"] is not None
    flow.record(case, "service_forwarded", document_id=notice["id"], expect=409)


def test_lodged_service_needs_its_video(flow):
    """A26.1, N20: a lodged document counts as served when left, but only once the server and a
    witness signed and AV of the process is linked; no "unsuitable" reason replaces it."""
    case, notice = _notice(flow)
    flow.record(case, "service_lodged", document_id=notice["id"],
                av_unsuitable_reason="天黑", expect=422)
    lodged = flow.record(case, "service_lodged", officers=[flow.officer["id"]],
                         document_id=notice["id"])
    assert lodged["fields"]["served_rule"].startswith("N20")
    flow.sign_all(case, lodged)
    flow.refuse(case, lodged, "witness", expect=422)  # a witness who will not sign is none
    assert _documents(flow, case)[notice["id"]]["served_at"] is None
    assert flow.missing(case, "service") == ["A18.1", "A19.1", "A22.1", "A26.1"]
    flow.av(case, lodged["id"], "audio/mp4", proves="留置过程录音")  # audio is not accepted
    assert _documents(flow, case)[notice["id"]]["served_at"] is None
    flow.av(case, lodged["id"], "video/mp4", proves="留置送达过程")
    assert _documents(flow, case)[notice["id"]]["served_at"] == lodged["fields"]["served_at"]


def test_postal_service_is_served_on_the_return_receipt_date(flow):
    """A25.1, N19: registered mail or EMS with its voucher; served on the return receipt's
    date, which must lie between posting and now; both need their scans."""
    case, notice = _notice(flow)
    posted = flow.record(case, "service_postal", officers=[flow.officer["id"]],
                         document_id=notice["id"])
    assert "served_at" not in posted["fields"]
    flow.sign_all(case, posted)
    flow.later(days=3)
    too_early = (flow.clock.now() - timedelta(days=10)).date()
    flow.record(case, "service_postal_return", service_id=posted["id"],
                receipt_date=too_early.isoformat(), received_by="周建国", expect=422)
    day = flow.clock.now().astimezone(SH).date()
    ret = flow.record(case, "service_postal_return", service_id=posted["id"],
                      receipt_date=day.isoformat(), received_by="周建国")
    assert ret["fields"]["served_at"] == datetime(day.year, day.month, day.day,
                                                  tzinfo=SH).isoformat()
    assert _documents(flow, case)[notice["id"]]["served_at"] is None  # no scans yet
    flow.av(case, posted["id"], "video/mp4", "付邮凭证")  # a voucher is an image
    flow.av(case, ret["id"], "image/jpeg", "邮寄回执")
    assert _documents(flow, case)[notice["id"]]["served_at"] is None
    flow.av(case, posted["id"], "image/jpeg", "付邮凭证")
    assert _documents(flow, case)[notice["id"]]["served_at"] == ret["fields"]["served_at"]


def test_announcement_is_deemed_served_after_30_days_or_60_before_2022(flow, clock):
    """A28.1, N18: an announcement needs failed direct and postal attempts; the document counts as
    served 30 days after publication (60 for an announcement before 2022-01-01), a last day on a
    rest day moving to the next working day."""
    clock.set(datetime(2021, 5, 6, 9, 0, tzinfo=SH))
    case, notice = _notice(flow)
    err = flow.record(case, "service_announcement", document_id=notice["id"], expect=409)
    assert err["error"]["missing"] == ["A28.1"]
    flow.done(case, "service_attempt_failed", officers=[flow.officer["id"]],
              document_id=notice["id"], method="direct", reason="多次上门无人")
    flow.done(case, "service_attempt_failed", officers=[flow.officer["id"]],
              document_id=notice["id"], method="postal", reason="邮件被退回")
    clock.set(datetime(2021, 5, 10, 9, 0, tzinfo=SH))
    old = flow.serve(case, notice, "announcement")
    # 2021-05-10 + 60 days = 2021-07-09, a Friday.
    assert old["fields"]["served_at"].startswith("2021-07-09T23:59:59")

    clock.set(datetime(2026, 11, 20, 9, 0, tzinfo=SH))
    case, notice = _notice(flow)
    for method in ("direct", "postal"):
        flow.done(case, "service_attempt_failed", officers=[flow.officer["id"]],
                  document_id=notice["id"], method=method, reason="无法送达")
    new = flow.serve(case, notice, "announcement")
    # 2026-11-20 + 30 days = 2026-12-20, a Sunday: moved to Monday 2026-12-21.
    assert new["fields"]["served_at"].startswith("2026-12-21T23:59:59")
    assert _documents(flow, case)[notice["id"]]["served_at"] is None
    clock.set(datetime(2026, 12, 22, 0, 1, tzinfo=SH))
    assert _documents(flow, case)[notice["id"]]["served_at"] is not None


def test_electronic_service_needs_signed_consent(flow):
    """A23.1: electronic service only with the party's signed consent to that address; a
    refusal to sign the confirmation is no consent; served when it reached the system."""
    case, notice = _notice(flow)
    consent = flow.record(case, "service_address_confirmation")
    flow.refuse(case, consent, "party")
    err = flow.record(case, "service_electronic", document_id=notice["id"],
                      consent_id=consent["id"], expect=409)["error"]
    assert err["missing"] == ["A23.1"]
    flow.sign(case, consent, "party")
    flow.record(case, "service_electronic", document_id=notice["id"], consent_id=consent["id"],
                address="other@example.com", expect=422)
    delivered = flow.clock.iso(minutes=-2)
    e = flow.record(case, "service_electronic", officers=[flow.officer["id"]],
                    document_id=notice["id"], consent_id=consent["id"], delivered_at=delivered)
    assert e["fields"]["served_at"] == delivered
    flow.sign_all(case, e)
    assert _documents(flow, case)[notice["id"]]["served_at"] == delivered


def test_refusal_to_sign_the_receipt_on_the_spot(flow):
    """N20, A26.1 (民诉 Art. 89): a rights notice handed over at the door; the party will not
    sign the receipt. That is not "a refusal with one witness" (A22.2 is for the on-the-spot
    notice): the refusal is refused and the document is lodged (留置送达) with the reason,
    place, date, a witness and AV, and counts as served when it was left."""
    case, notice = _notice(flow)
    service = flow.record(case, "service_direct", officers=[flow.officer["id"]],
                          document_id=notice["id"])
    flow.sign(case, service, "server", officer_id=flow.officer["id"])
    err = flow.refuse(case, service, "recipient", witnesses=[{
        "name": "路人甲", "id_number": "430602199912120000", "relation": "在场群众",
        "signature_image_base64": PNG_B64}], expect=409)["error"]
    assert err["missing"] == ["N20", "A26.1"]
    assert _documents(flow, case)[notice["id"]]["served_at"] is None
    lodged = flow.record(case, "service_lodged", officers=[flow.officer["id"]],
                         document_id=notice["id"], reason="受送达人拒绝签收",
                         place="岳阳某建设有限公司办公室门口", witness_name="路人甲")
    flow.sign(case, lodged, "server", officer_id=flow.officer["id"])
    flow.sign(case, lodged, "witness", name="路人甲")
    assert _documents(flow, case)[notice["id"]]["served_at"] is None  # no AV yet (A26.1)
    flow.av(case, lodged["id"], "video/mp4", "留置送达过程")
    assert _documents(flow, case)[notice["id"]]["served_at"] == lodged["fields"]["served_at"]


def test_a_receipt_asked_for_is_drawn_with_no_transaction_open(flow, container, monkeypatch):
    """A23.1, issue 12 finding 2: POST …/receipt reads the rows, draws the PDF (signature
    images through the sandbox) with no database connection held, then stores it; a refusal
    (not a service record) is still a 422 and stores nothing."""
    from core.cases import receipts

    case, notice = _notice(flow)
    flow.done(case, "service_direct", document_id=notice["id"], recipient="张三",
              signed_by="张三", place="现场")
    service = next(r for r in flow.get(f"/api/v1/cases/{case['id']}/records")["records"]
                   if r["type"] == "service_direct")
    held: list[int] = []
    real_draw = receipts.draw

    def watched(uow, data, final):
        held.append(container.engine.pool.checkedout())
        return real_draw(uow, data, final)

    monkeypatch.setattr(receipts, "draw", watched)
    before = len(_receipts(container, service["id"]))
    held.clear()
    r = flow.post(f"/api/v1/cases/{case['id']}/records/{service['id']}/receipt", {})
    assert r.status_code == 201, r.get_json()
    assert held == [0]  # drawn once, while no connection was checked out
    assert len(_receipts(container, service["id"])) == before + 1
    held.clear()
    r = flow.post(f"/api/v1/cases/{case['id']}/records/{notice['id']}/receipt", {})
    assert r.status_code == 422 and held == []
