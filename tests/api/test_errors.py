"""One error language on every route (issue 15): 422 names the field, 409 lists the missing
requirement IDs, 403 names the role, 404 for what the caller may not see; unknown body fields
refused; Allow on 405; Chinese by default, English by Accept-Language, both always present."""

from __future__ import annotations

import re

from core.kernel import errors
from core.people.officers import add_officer, ensure_department, issue_token
from tests.helpers import auth, filing_form, open_case

CJK = re.compile(r"[\u4e00-\u9fff]")


def test_chinese_by_default_english_on_request(client, people):
    """CONTRACT.md: the message is Chinese unless Accept-Language asks for English."""
    body = {"kind": "penalty", "initiation": "ex_officio"}
    zh = client.post("/api/v1/cases", json=body, headers=auth(people["officer"])).get_json()
    en = client.post("/api/v1/cases", json=body, headers={
        **auth(people["officer"]), "Accept-Language": "en-US,en;q=0.9"}).get_json()
    zh_cn = client.post("/api/v1/cases", json=body, headers={
        **auth(people["officer"]), "Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}).get_json()
    assert CJK.search(zh["error"]["message"]) and zh["error"]["fields"] == {"title": "required"}
    assert en["error"]["message"] == en["error"]["message_en"] == "invalid fields: title: required"
    assert zh_cn["error"]["message"] == zh["error"]["message"] == zh["error"]["message_zh"]


def test_each_refusal_kind_says_what_it_is(client, people, container):
    """422 field, 409 requirement IDs (A10.1), 403 role, 404 for another department's case."""
    case = open_case(client, people["officer"])
    form = filing_form(client, people["officer"], case["id"])
    moved = client.post(f"/api/v1/cases/{case['id']}/transitions", json={"to": "investigation"},
                        headers=auth(people["officer"])).get_json()["error"]
    assert moved["code"] == "gate_refused" and moved["missing"] == ["A10.1"]
    assert "立案审批表" in moved["message"]
    role = client.post(f"/api/v1/cases/{case['id']}/records/{form['id']}/approvals",
                       json={"decision": "approve"}, headers=auth(people["head"]))
    assert role.status_code == 403 and role.get_json()["error"]["roles"] == ["supervisor"]
    assert "承办机构负责人" in role.get_json()["error"]["message"]
    with container.uow() as uow:
        other = add_officer(uow.session, ensure_department(uow.session, "OTH", "另一局"),
                            "外人", ["officer"], "湘执999")
        token = issue_token(uow.session, other)
    hidden = client.get(f"/api/v1/cases/{case['id']}", headers={"Authorization":
                                                                f"Bearer {token}"})
    assert hidden.status_code == 404 and hidden.get_json()["error"]["code"] == "not_found"


def test_unknown_fields_are_refused_on_every_documented_body(client, people):
    """A misspelt field is a 422 naming it, on each route whose body the document closes."""
    case = open_case(client, people["officer"])
    form = filing_form(client, people["officer"], case["id"])
    for path, body, unknown in [
        ("/api/v1/cases", {"kind": "penalty", "initiation": "ex_officio", "title": "x",
                           "titel": "x"}, "titel"),
        (f"/api/v1/cases/{case['id']}/transitions", {"to": "investigation", "force": True},
         "force"),
        (f"/api/v1/cases/{case['id']}/records/{form['id']}/approvals",
         {"decision": "approve", "comment": "同意"}, "comment"),
        (f"/api/v1/cases/{case['id']}/records", {"type": "filing_form", "fields": {},
                                                 "note": "x"}, "note"),
        ("/api/v1/calendar/overrides", {"date": "2027-01-01", "working": False, "note": "元旦",
                                        "year": 2027}, "year"),
    ]:
        r = client.post(path, json=body, headers=auth(people["officer"]))
        assert r.status_code == 422, (path, r.get_json())
        assert set(r.get_json()["error"]["fields"]) == {unknown}, path
        assert "不是此处可填写的字段" in r.get_json()["error"]["message"]


def test_405_names_the_allowed_methods(client, people):
    """RFC 9110: a 405 carries Allow; the body is the one error shape."""
    r = client.delete("/api/v1/cases", headers=auth(people["officer"]))
    assert r.status_code == 405
    assert set(r.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert r.get_json()["error"]["code"] == "method_not_allowed"
    assert CJK.search(r.get_json()["error"]["message"])


def test_every_domain_error_has_a_chinese_text():
    """Every kind of refusal reads in Chinese, even where only English was worded: the kind's
    lead, the missing rules' names and the bad fields."""
    kinds = [c for c in vars(errors).values()
             if isinstance(c, type) and issubclass(c, errors.DomainError)]
    assert len(kinds) >= 10
    for kind in kinds:
        exc = kind("x", ["A10.1"]) if issubclass(kind, errors.GateRefused) else kind("x")
        assert CJK.search(exc.text("zh")), kind
        assert exc.text("en") == "x"
    gate = errors.GateRefused("stage not finished", ["A10.1"])
    assert "立案审批表及审批（A10.1）" in gate.text("zh")
