"""Access requests (A35.1, N22) and retention (A34.1) on the working-day calendar: the
correction pause, the one extension across the National Day holiday, the reply; the
retention period, legal hold, disposal review and appraisal."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from core.deadlines.models import Deadline
from core.rules.calendar import LEGAL_TZ
from tests.archive.support import every_afterlife_row


def _a35(container, request_id):
    with container.uow() as uow:
        return list(uow.session.execute(select(Deadline).where(
            Deadline.rule_id == "A35.1", Deadline.subject_id == request_id)
            .order_by(Deadline.created_at)).scalars())


def test_a35_1_n22_correction_pause_extension_over_national_day_and_reply(flow, container,
                                                                         people, clock):
    """A35.1/N22: received 2026-09-01 (due 09-29, 20 working days); a correction asked pauses
    the clock; the corrected request of 09-08 restarts it: 20 working days → 10-12 (Mid-Autumn
    09-25 and National Day 10-01..07 not counted, the make-up Sundays 09-20 and Saturday 10-10
    counted); one extension of 20 with the head's approval → 11-09; a second is refused; the
    reply closes it and lists what was disclosed."""
    clock.set(datetime(2026, 9, 1, 9, 0, tzinfo=LEGAL_TZ))
    case = flow.open()
    keeper = flow.custodian()
    base = f"/api/v1/cases/{case['id']}/access-requests"
    body = {"requester_name": "周建国", "requester_kind": "party", "asked": "查阅本案全部案卷",
            "received_at": "2026-09-01T10:00:00+08:00", "identity_checked": True,
            "identity_document": "居民身份证"}
    assert flow.post(base, body).status_code == 403  # an officer does not handle requests
    r = flow.post(base, body, keeper)
    assert r.status_code == 201, r.get_json()
    req = r.get_json()
    assert (req["state"], req["last_day"]) == ("open", "2026-09-29")
    rid = req["id"]
    step = f"/api/v1/access-requests/{rid}"
    clock.set(datetime(2026, 9, 3, 9, 0, tzinfo=LEGAL_TZ))
    r = flow.post(f"{step}/correction", {"note": "请补充申请人与本案的关系证明"}, keeper)
    assert r.get_json()["state"] == "correction_needed" and r.get_json()["due_at"] is None
    clock.set(datetime(2026, 9, 8, 9, 0, tzinfo=LEGAL_TZ))
    r = flow.post(f"{step}/corrected", {"at": "2026-09-08T09:00:00+08:00"}, keeper)
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["last_day"] == "2026-10-12"
    # An extension needs the head's approval and a reason.
    r = flow.post(f"{step}/extend", {"approved_by": people["supervisor"]["id"], "reason": "x"},
                  keeper)
    assert r.status_code == 422
    r = flow.post(f"{step}/extend", {"approved_by": people["head"]["id"],
                                     "reason": "涉及第三方，需征求意见"}, keeper)
    assert r.status_code == 201 and r.get_json()["last_day"] == "2026-11-09"
    r = flow.post(f"{step}/extend", {"approved_by": people["head"]["id"], "reason": "再延"},
                  keeper)
    assert r.status_code == 409
    clock.set(datetime(2026, 11, 9, 17, 0, tzinfo=LEGAL_TZ))  # the last day still counts
    # A refusal states its legal reason; a grant lists what was disclosed.
    assert flow.post(f"{step}/reply", {"outcome": "refused"}, keeper).status_code == 422
    r = flow.post(f"{step}/reply", {"outcome": "partly", "legal_reason": "政府信息公开条例第十五条",
                                    "disclosed": ["立案审批表", "行政处罚决定书"]}, keeper)
    assert r.status_code == 201
    final = r.get_json()
    assert final["state"] == "replied" and final["due_at"] is None
    assert final["steps"][-1]["disclosed"] == ["立案审批表", "行政处罚决定书"]
    rows = _a35(container, rid)
    assert [(d.status, d.closed_by) for d in rows] == [
        ("cancelled", "access_request.correction_needed"),
        ("cancelled", "access_request.extended"), ("closed", "access_request.replied")]
    assert rows[-1].period == 40 and rows[-1].closed_at <= rows[-1].due_at


def test_a34_1_retention_hold_disposal_review_and_appraisal(flow, container, people, clock):
    """A34.1: 25 years from archiving; a hold keeps the case off the disposal-review list;
    released and run out, it is listed until an appraisal is recorded; nothing is deleted."""
    case = flow.open()
    every_afterlife_row(flow, container, people, case["id"])  # archived today, on hold
    keeper = flow.custodian()
    st = flow.get(f"/api/v1/cases/{case['id']}/retention", keeper)
    archived_on = date.fromisoformat(st["archived_on"])
    assert (st["years"], st["legal_hold"]) == (25, True)
    assert st["expires_on"] == archived_on.replace(year=archived_on.year + 25).isoformat()
    r = flow.post(f"/api/v1/cases/{case['id']}/retention", {"action": "period", "years": 10,
                                                            "basis": "x"}, keeper)
    assert r.status_code == 422  # below the 25 years of A34.1
    review = "/api/v1/retention/disposal-review?on=" + st["expires_on"]
    assert flow.get(review, keeper)["cases"] == []  # on hold
    r = flow.post(f"/api/v1/cases/{case['id']}/retention",
                  {"action": "release", "basis": "诉讼终结"}, keeper)
    assert r.status_code == 201
    assert [c["case_id"] for c in flow.get(review, keeper)["cases"]] == [case["id"]]
    day_before = (date.fromisoformat(st["expires_on"]) - timedelta(days=1)).isoformat()
    assert flow.get("/api/v1/retention/disposal-review?on=" + day_before, keeper)["cases"] == []
    appraise = {"action": "appraisal", "decision": "destroy", "basis": "鉴定小组意见"}
    assert flow.post(f"/api/v1/cases/{case['id']}/retention", appraise,
                     keeper).status_code == 409  # not run out yet
    clock.advance(days=366 * 25)
    with container.uow() as uow:  # tokens expire; the custodian of 25 years on gets a new one
        from core.people.models import Officer
        from core.people.officers import issue_token

        keeper = {**keeper, "token": issue_token(uow.session, uow.session.get(Officer,
                                                                               keeper["id"]))}
    r = flow.post(f"/api/v1/cases/{case['id']}/retention", appraise, keeper)
    assert r.status_code == 201 and r.get_json()["appraisal"]["decision"] == "destroy"
    assert flow.get(review, keeper)["cases"] == []
    # A recorded "destroy" deletes nothing: the database still refuses (A34.1).
    with pytest.raises(DBAPIError, match="A34.1"), container.engine.begin() as conn:
        conn.execute(text("DELETE FROM cases WHERE id = :c"), {"c": case["id"]})


def test_a34_1_retention_per_kind_comes_from_the_setting(flow, container, people, monkeypatch):
    """A34.1: RETENTION_BY_KIND gives a kind its own period and basis: a new case of the kind
    stores those years, its retention shows them from archiving; a permanent kind never runs
    out; other kinds keep RETENTION_YEARS and the municipal rule's basis."""
    import dataclasses

    from core.archive.retention import DEFAULT_BASIS

    basis = "《某某规定》第十条（保存30年）"
    monkeypatch.setattr(container, "settings", dataclasses.replace(
        container.settings, retention_by_kind=(("penalty", 30, basis),
                                               ("coercion", None, "《档案法》永久保存"))))
    keeper = flow.custodian()
    case = flow.open()
    assert flow.get(f"/api/v1/cases/{case['id']}")["retention_years"] == 30
    every_afterlife_row(flow, container, people, case["id"])
    st = flow.get(f"/api/v1/cases/{case['id']}/retention", keeper)
    archived_on = date.fromisoformat(st["archived_on"])
    assert (st["years"], st["basis"], st["permanent"]) == (30, basis, False)
    assert st["expires_on"] == archived_on.replace(year=archived_on.year + 30).isoformat()

    coercion = flow.open(kind="coercion")
    every_afterlife_row(flow, container, people, coercion["id"])
    st = flow.get(f"/api/v1/cases/{coercion['id']}/retention", keeper)
    assert (st["years"], st["permanent"], st["expires_on"]) == (None, True, None)
    assert st["basis"] == "《档案法》永久保存"

    monkeypatch.setattr(container, "settings", dataclasses.replace(
        container.settings, retention_by_kind=()))
    other = flow.open()
    every_afterlife_row(flow, container, people, other["id"])
    st = flow.get(f"/api/v1/cases/{other['id']}/retention", keeper)
    assert (st["years"], st["basis"]) == (25, DEFAULT_BASIS)
