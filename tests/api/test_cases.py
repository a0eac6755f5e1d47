"""Opening cases, the filing gate, visibility and the error shapes of CONTRACT.md."""

from __future__ import annotations

from sqlalchemy import func, select

from core.cases.models import Case
from core.people.models import AccessLog
from tests.helpers import approve, auth, filing_form, now_iso, open_case


def test_open_case_numbers_per_department_and_year(client, people):
    """A2.1, A3.1: a case has one kind, starts in initiation and gets a department number."""
    first = open_case(client, people["officer"])
    second = open_case(client, people["officer"], kind="inspection", initiation="inspection")
    assert first["stage"] == "initiation"
    assert first["kind"] == "penalty"
    assert first["number"].startswith("YYZJ-")
    assert int(second["number"].rsplit("-", 1)[1]) == int(first["number"].rsplit("-", 1)[1]) + 1
    assert first["party"]["name"] == "岳阳某建设有限公司"
    assert first["site"]["datum"] == "gcj02"


def test_filing_form_approved_by_head_moves_case_to_investigation(client, people):
    """A10.1: the 立案审批表 goes officer → unit → head; only then may the case move on."""
    case = open_case(client, people["officer"])
    form = filing_form(client, people["officer"], case["id"])
    assert [a["step"] for a in form["approvals"]] == ["officer"]

    refused = client.post(f"/api/v1/cases/{case['id']}/transitions", json={"to": "investigation"},
                          headers=auth(people["officer"]))
    assert refused.status_code == 409
    assert refused.get_json()["error"]["missing"] == ["A10.1"]

    # The head cannot skip the unit's step.
    early = approve(client, people["head"], case["id"], form["id"])
    assert early.status_code == 403
    assert approve(client, people["supervisor"], case["id"], form["id"]).status_code == 201
    still = client.post(f"/api/v1/cases/{case['id']}/transitions", json={"to": "investigation"},
                        headers=auth(people["officer"]))
    assert still.status_code == 409 and still.get_json()["error"]["missing"] == ["A10.1"]
    assert approve(client, people["head"], case["id"], form["id"]).status_code == 201

    moved = client.post(f"/api/v1/cases/{case['id']}/transitions", json={"to": "investigation"},
                        headers=auth(people["officer"]))
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["stage"] == "investigation"

    checklist = client.get(f"/api/v1/cases/{case['id']}/checklist",
                           headers=auth(people["officer"])).get_json()
    a101 = [r for r in checklist["stages"]["initiation"] if r["id"] == "A10.1"]
    assert a101 == [{"id": "A10.1", "text": "filing form (立案审批表) approved by the head",
                     "text_zh": "立案审批表经负责人批准", "status": "done",
                     "satisfied_by": [{"record_type": "filing_form", "title_zh": "立案审批表",
                                       "title_en": "Case filing approval form",
                                       "approved_by": "head"}]}]


def test_returned_filing_form_needs_a_correction(client, people):
    """A10.1: a form the unit returns cannot be approved; a correcting record restarts the chain."""
    case = open_case(client, people["officer"])
    form = filing_form(client, people["officer"], case["id"])
    r = approve(client, people["supervisor"], case["id"], form["id"], "return", "理由不充分")
    assert r.status_code == 201
    assert approve(client, people["supervisor"], case["id"], form["id"]).status_code == 409
    fixed = client.post(f"/api/v1/cases/{case['id']}/records", headers=auth(people["officer"]),
                        json={"type": "filing_form", "corrects": form["id"],
                              "occurred_at": now_iso(),
                              "fields": {"reason": "未取得施工许可擅自施工，已核实",
                                         "party_info": "岳阳某建设有限公司",
                                         "officer_opinion": "建议立案"}})
    assert fixed.status_code == 201
    fixed_id = fixed.get_json()["id"]
    assert approve(client, people["supervisor"], case["id"], fixed_id).status_code == 201
    assert approve(client, people["head"], case["id"], fixed_id).status_code == 201
    records = client.get(f"/api/v1/cases/{case['id']}/records",
                         headers=auth(people["officer"])).get_json()["records"]
    assert [(r["id"], r["superseded"]) for r in records] == [(form["id"], True),
                                                             (fixed_id, False)]


def test_emergency_case_starts_first_and_owes_the_filing_form(client, people):
    """A10.2: an emergency case moves on with its emergency record; the approved filing form
    becomes a requirement of the investigation stage."""
    case = open_case(client, people["officer"], emergency=True)
    r = client.post(f"/api/v1/cases/{case['id']}/records", headers=auth(people["officer"]), json={
        "type": "emergency_initiation", "occurred_at": now_iso(),
        "officers": [people["officer"]["id"], people["officer2"]["id"]],
        "fields": {"emergency_reason": "脚手架倒塌风险", "measures_taken": "责令停工",
                   "started_at": now_iso()}})
    assert r.status_code == 201, r.get_json()
    moved = client.post(f"/api/v1/cases/{case['id']}/transitions", json={"to": "investigation"},
                        headers=auth(people["officer"]))
    assert moved.status_code == 200
    checklist = client.get(f"/api/v1/cases/{case['id']}/checklist",
                           headers=auth(people["officer"])).get_json()["stages"]
    assert {"id": "A10.2", "status": "missing"}.items() <= checklist["investigation"][0].items()


def test_field_record_needs_two_certified_officers(client, people):
    """A14.1: an emergency field record with one officer is refused naming A14.1."""
    case = open_case(client, people["officer"], emergency=True)
    r = client.post(f"/api/v1/cases/{case['id']}/records", headers=auth(people["officer"]), json={
        "type": "emergency_initiation", "occurred_at": now_iso(),
        "fields": {"emergency_reason": "x", "measures_taken": "y", "started_at": now_iso()}})
    assert r.status_code == 409
    assert r.get_json()["error"]["missing"] == ["A14.1"]


def test_complaint_route_gates(client, people):
    """A11.1: a complaint case needs the intake and a decision to start before investigation."""
    case = open_case(client, people["officer"], initiation="complaint")
    r = client.post(f"/api/v1/cases/{case['id']}/transitions", json={"to": "investigation"},
                    headers=auth(people["officer"]))
    assert r.status_code == 409
    assert r.get_json()["error"]["missing"] == ["A10.1", "A11.1"]
    # Not starting: the case may close straight from initiation with the decision recorded.
    r = client.post(f"/api/v1/cases/{case['id']}/records", headers=auth(people["officer"]), json={
        "type": "complaint_decision",
        "fields": {"decision": "not_start", "reason": "不属于本机关职责",
                   "decided_at": now_iso()}})
    assert r.status_code == 201
    closed = client.post(f"/api/v1/cases/{case['id']}/transitions", json={"to": "closed"},
                         headers=auth(people["officer"]))
    assert closed.status_code == 200 and closed.get_json()["stage"] == "closed"


def test_record_validation_names_fields_and_rules(client, people):
    """A10.1: a filing form missing its required fields is a 422 naming fields and rule IDs."""
    case = open_case(client, people["officer"])
    r = client.post(f"/api/v1/cases/{case['id']}/records", headers=auth(people["officer"]),
                    json={"type": "filing_form", "fields": {"reason": "x", "bogus": 1}})
    assert r.status_code == 422
    err = r.get_json()["error"]
    assert set(err["fields"]) == {"party_info", "officer_opinion", "bogus"}
    assert err["missing"] == ["A10.1"]
    r = client.post(f"/api/v1/cases/{case['id']}/records", headers=auth(people["officer"]),
                    json={"type": "application_acceptance", "fields": {}})
    assert r.status_code == 409  # wrong route for this case


def test_other_department_sees_404_and_reads_are_logged(client, people, container):
    """A33.1, A37.1: a case is invisible outside its department, and every read is logged."""
    from core.people.officers import add_officer, ensure_department, issue_token

    case = open_case(client, people["officer"])
    with container.uow() as uow:
        other = ensure_department(uow.session, "OTHER", "另一个局")
        stranger = add_officer(uow.session, other, "赵六", ["officer"], "X1")
        token = issue_token(uow.session, stranger)
    hdr = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/cases/{case['id']}", headers=hdr).status_code == 404
    assert client.get("/api/v1/cases", headers=hdr).get_json()["cases"] == []
    assert client.post(f"/api/v1/cases/{case['id']}/records", headers=hdr,
                       json={"type": "filing_form", "fields": {}}).status_code == 404
    assert client.get(f"/api/v1/cases/{case['id']}", headers=auth(people["officer"])
                      ).status_code == 200
    with container.uow() as uow:
        reads = uow.session.execute(select(func.count()).select_from(AccessLog).where(
            AccessLog.subject_id == case["id"], AccessLog.action == "read",
            AccessLog.officer_id == people["officer"]["id"])).scalar()
    assert reads == 1


def test_idempotency_key_prevents_duplicates(client, people, container):
    """A retried POST with the same Idempotency-Key returns the first case, not a second one."""
    body = {"kind": "penalty", "initiation": "ex_officio", "title": "重试"}
    hdr = {**auth(people["officer"]), "Idempotency-Key": "phone-retry-1"}
    a = client.post("/api/v1/cases", json=body, headers=hdr)
    b = client.post("/api/v1/cases", json=body, headers=hdr)
    assert a.status_code == b.status_code == 201
    assert a.get_json()["id"] == b.get_json()["id"]
    assert b.headers.get("Idempotent-Replayed") == "true"
    other = client.post("/api/v1/cases", json={**body, "title": "另一个"}, headers=hdr)
    assert other.status_code == 422
    with container.uow() as uow:
        assert uow.session.execute(select(func.count()).select_from(Case)).scalar() == 1


def test_errors_are_json_and_never_500(client, people):
    """Bad input gets a 4xx with a JSON body naming the problem."""
    hdr = auth(people["officer"])
    cases = [
        client.get("/api/v1/cases"),
        client.get("/api/v1/cases", headers={"Authorization": "Bearer nope"}),
        client.post("/api/v1/cases", data="not json", headers=hdr),
        client.post("/api/v1/cases", json=[1, 2], headers=hdr),
        client.post("/api/v1/cases", json={"kind": "x", "initiation": "ex_officio", "title": "t"},
                    headers=hdr),
        client.post("/api/v1/cases", json={"kind": "penalty", "initiation": "ex_officio",
                                           "title": "t", "site": {"lat": 91, "lon": 0}},
                    headers=hdr),
        client.post("/api/v1/cases", json={"kind": "penalty", "initiation": "ex_officio",
                                           "title": "t" * 301}, headers=hdr),
        client.get("/api/v1/cases/doesnotexist", headers=hdr),
        client.post("/api/v1/cases/doesnotexist/transitions", json={"to": "closed"}, headers=hdr),
        client.get("/api/v1/nothing-here"),
        client.delete("/api/v1/cases"),
        client.get("/api/v1/cases?limit=abc", headers=hdr),
    ]
    statuses = [r.status_code for r in cases]
    assert statuses == [401, 401, 422, 422, 422, 422, 422, 404, 404, 404, 405, 422]
    for r in cases:
        body = r.get_json()
        assert body["error"]["code"] and body["error"]["message"], body


def test_health_catalogue_and_openapi(client):
    """CONTRACT.md: health, record types and the OpenAPI document are served."""
    health = client.get("/healthz").get_json()
    assert health["status"] == "ok" and health["database"]["status"] == "ok"
    types = client.get("/api/v1/record-types").get_json()["record_types"]
    filing = next(t for t in types if t["name"] == "filing_form")
    assert filing["rules"] == ["A10.1"]
    assert {f["name"]: f["required"] for f in filing["fields"]}["reason"] is True
    assert [s["step"] for s in filing["approval_chain"]] == ["officer", "unit", "head"]
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    assert "/api/v1/cases/{case_id}/transitions" in doc["paths"]
    assert "Fields_filing_form" in doc["components"]["schemas"]
