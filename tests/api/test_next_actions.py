"""What next (issue 15 item 2): the case says what its stage lacks, which record type satisfies
each requirement, and what this caller may do now; a record's status tells fields complete from
approved (A10.1, A13.2)."""

from __future__ import annotations

from tests.helpers import approve, auth, filing_form, open_case


def _case(client, user, case_id) -> dict:
    r = client.get(f"/api/v1/cases/{case_id}", headers=auth(user))
    assert r.status_code == 200
    return r.get_json()


def test_next_actions_follow_the_caller(client, people):
    """A10.1: a fresh case asks for the filing form; once made, the supervisor's case shows the
    approval as theirs to take, the officer's shows it as someone else's."""
    case = open_case(client, people["officer"])
    fresh = _case(client, people["officer"], case["id"])
    assert [m["id"] for m in fresh["missing"]] == ["A10.1"]
    assert fresh["missing"][0]["satisfied_by"][0] == {
        "record_type": "filing_form", "title_zh": "立案审批表",
        "title_en": "Case filing approval form", "approved_by": "head"}
    add = [a for a in fresh["next_actions"] if a["kind"] == "add_record"]
    assert [a["record_type"] for a in add] == ["filing_form"] and add[0]["allowed"]
    assert add[0]["schema"] == "#/components/schemas/NewRecord_filing_form"

    form = filing_form(client, people["officer"], case["id"])
    mine = _case(client, people["officer"], case["id"])["next_actions"]
    theirs = _case(client, people["supervisor"], case["id"])["next_actions"]
    step = [a for a in theirs if a["kind"] == "approve"]
    assert step[0]["allowed"] and step[0]["role"] == "supervisor"
    assert step[0]["path"].endswith(f"/records/{form['id']}/approvals")
    assert [a["allowed"] for a in mine if a["kind"] == "approve"] == [False]
    assert not any(a["kind"] == "add_record" and a["record_type"] == "filing_form"
                   for a in mine)  # it waits for approval: not offered again
    sign = [a for a in mine if a["kind"] == "sign"]
    assert sign[0]["body"]["signer_officer_id"] == people["officer"]["id"] and sign[0]["allowed"]


def test_record_status_tells_fields_from_approval(client, people):
    """A record's fields are complete once recorded; its approval is pending until the head
    approves (A10.1) and its signatures missing until signed (A13.2)."""
    case = open_case(client, people["officer"])
    form = filing_form(client, people["officer"], case["id"])

    def status():
        found = client.get(f"/api/v1/cases/{case['id']}/records",
                           headers=auth(people["officer"])).get_json()["records"]
        return next(r for r in found if r["id"] == form["id"])["status"]

    first = status()
    assert (first["fields"], first["approval"], first["signatures"]) == \
        ("complete", "pending", "missing")
    assert first["complete"] is False
    approve(client, people["supervisor"], case["id"], form["id"])
    assert status()["approval"] == "pending"
    approve(client, people["head"], case["id"], form["id"])
    assert status()["approval"] == "approved"
    approve(client, people["head"], case["id"], form["id"])  # a double tap changes nothing
    assert status()["approval"] == "approved"
