"""Lawful service (issue 10 items 3, 5, 6): announcement only after failed direct and postal
service or a whereabouts-unknown finding (A28.1, 民诉 Art. 95), a refused receipt becomes
lodged service (N20), direct service dated by the signature (民诉 Art. 88), N8 met when
posting started in time (N29)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

SH = ZoneInfo("Asia/Shanghai")


def _notice(flow):
    case = flow.filed()
    flow.done(case, "inquiry_record")
    flow.move(case, "decision")
    return case, flow.done(case, "rights_notice")


def _failed(flow, case, doc, method, **over):
    return flow.done(case, "service_attempt_failed", officers=[flow.officer["id"]],
                     document_id=doc["id"], method=method, reason="无法送达", **over)


def _served(flow, case, doc):
    docs = flow.get(f"/api/v1/cases/{case['id']}/services")["documents"]
    return next(d for d in docs if d["document_id"] == doc["id"])["served_at"]


def test_a28_1_announcement_refused_after_a_failed_email_accepted_after_direct_and_postal(flow):
    """A28.1 (民诉 Art. 95): an e-mail that bounced is not "every other method failed": the
    announcement is refused and names the direct and postal attempts still lacking; after a
    failed visit it still lacks the post; after the registered letter came back it is accepted
    and records the attempts it rests on."""
    case, notice = _notice(flow)
    _failed(flow, case, notice, "electronic", outcome="not_delivered")
    err = flow.record(case, "service_announcement", document_id=notice["id"],
                      expect=409)["error"]
    assert err["missing"] == ["A28.1"] and err["lacking"] == ["direct", "postal"]
    visit = _failed(flow, case, notice, "direct", outcome="not_found")
    err = flow.record(case, "service_announcement", document_id=notice["id"],
                      expect=409)["error"]
    assert err["lacking"] == ["postal"]
    post = _failed(flow, case, notice, "postal", outcome="returned_by_post")
    announced = flow.serve(case, notice, "announcement")
    assert visit["id"] in announced["fields"]["failed_attempts"]
    assert post["id"] in announced["fields"]["failed_attempts"]


def test_a28_1_a_refusal_is_lodged_not_announced_and_whereabouts_unknown_suffices(flow):
    """A28.1, N20 (民诉 Art. 89, 95): a recipient who refused at the door was found: the
    document is lodged, never announced; a recorded whereabouts-unknown finding (what was done
    to find them) makes an announcement lawful without other attempts."""
    case, notice = _notice(flow)
    _failed(flow, case, notice, "direct", outcome="refused")
    _failed(flow, case, notice, "postal", outcome="returned_by_post")
    err = flow.record(case, "service_announcement", document_id=notice["id"],
                      expect=409)["error"]
    assert err["missing"] == ["A28.1", "N20"]

    case, notice = _notice(flow)
    finding = flow.done(case, "whereabouts_unknown", fields={
        "recipient": "周建国", "search_efforts": "走访住所地及经营场所，查询户籍，联系其亲属均未果",
        "addresses_checked": ["岳阳市岳阳楼区某路1号", "岳阳市南湖新区某小区"]})
    announced = flow.serve(case, notice, "announcement")
    assert announced["fields"]["failed_attempts"] == [finding["id"]]


def test_n20_service_refused_at_the_door_becomes_lodged_service(flow, container):
    """N20, A26.1 (民诉 Art. 89): the party opens the door, takes no receipt and will not sign;
    the officer's "refusal with a witness" on the direct receipt is refused; the officer lodges
    the notice (reason, place, date, a witness who signs, video of the process) and it counts as
    served when it was left; the 送达回证 is the lodged one."""
    case, notice = _notice(flow)
    direct = flow.record(case, "service_direct", officers=[flow.officer["id"]],
                         document_id=notice["id"])
    flow.sign(case, direct, "server", officer_id=flow.officer["id"])
    err = flow.refuse(case, direct, "recipient", expect=409)["error"]
    assert err["missing"] == ["N20", "A26.1"]
    lodged = flow.record(case, "service_lodged", officers=[flow.officer["id"]],
                         document_id=notice["id"], reason="受送达人拒绝签收",
                         place="岳阳某建设有限公司办公室", witness_name="社区网格员 黄敏")
    flow.sign_all(case, lodged)
    flow.av(case, lodged["id"], "video/mp4", "留置送达过程")
    assert _served(flow, case, notice) == lodged["fields"]["served_at"]
    services = flow.get(f"/api/v1/cases/{case['id']}/services")["documents"]
    methods = {s["method"]: s["complete"] for d in services for s in d["services"]}
    assert methods == {"direct": False, "lodged": True}


def test_n8_direct_service_is_dated_by_the_signature_not_the_record(flow, clock):
    """N8, A24.1 (民诉 Art. 88): a decision made 2026-09-01 and taken to the party: the receipt
    is written on 09-02 but the party signs it on 09-14 (after the 7 working days, which end
    09-10): served 09-14 and N8 is late; the record's own time does not count."""
    clock.set(datetime(2026, 9, 1, 10, 0, tzinfo=SH))
    case = flow.filed(kind="fee")
    flow.done(case, "inquiry_record")
    flow.move(case, "decision")
    flow.done(case, "handling_opinion")
    decision = flow.done(case, "decision")
    flow.move(case, "service")
    clock.set(datetime(2026, 9, 2, 10, 0, tzinfo=SH))
    receipt = flow.record(case, "service_direct", officers=[flow.officer["id"]],
                          document_id=decision["id"])
    flow.sign(case, receipt, "server", officer_id=flow.officer["id"])
    clock.set(datetime(2026, 9, 14, 15, 0, tzinfo=SH))
    flow.sign(case, receipt, "recipient")
    served = datetime.fromisoformat(_served(flow, case, decision))
    assert served.astimezone(SH).date().isoformat() == "2026-09-14"


def test_n8_n29_posting_within_the_period_is_in_time(flow, clock):
    """N8, N29 (民诉 Art. 85): a penalty decision made 2026-09-02 (Wed), party absent, posted on
    2026-09-10 (the 6th working day); N8 closes on time when the post started, though the
    document counts as served (N19) only on the return receipt's date."""
    clock.set(datetime(2026, 9, 1, 10, 0, tzinfo=SH))
    case, notice = _notice(flow)
    flow.serve(case, notice)
    flow.done(case, "statement_waiver")
    flow.done(case, "handling_opinion")
    flow.later(days=1)
    decision = flow.done(case, "decision")
    flow.move(case, "service")
    made = datetime.fromisoformat(decision["occurred_at"])
    clock.set(datetime(2026, 9, 10, 16, 0, tzinfo=SH))
    posted = flow.record(case, "service_postal", officers=[flow.officer["id"]],
                         document_id=decision["id"])
    flow.sign_all(case, posted)
    flow.av(case, posted["id"], "image/jpeg", "付邮凭证")
    n8 = next(d for d in flow.get(f"/api/v1/cases/{case['id']}/deadlines")["deadlines"]
              if d["rule_id"] == "N8")
    assert n8["status"] == "closed" and n8["late"] is False
    assert n8["closed_by"] == "decision.service_started"
    assert datetime.fromisoformat(n8["trigger_at"]) - made < timedelta(minutes=1)
    assert _served(flow, case, decision) is None  # in transit: not yet served
