"""GET /api/v1/me, /officers and /inbox: who the caller is, whom they can name on a record
(A14.1), and what waits for them (A10.1 approvals, returns, deadlines) — one query per section."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import event, select

from core.people.models import AccessLog
from core.people.officers import add_officer, ensure_department
from tests.helpers import approve, auth, filing_form, open_case
from tests.support.openapi_check import check_response


@contextmanager
def counted(engine):
    """Count the SQL statements run inside the block."""
    seen: list[str] = []

    def before(conn, cursor, statement, *a):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before)


def _inbox(client, user) -> dict:
    r = client.get("/api/v1/inbox", headers=auth(user))
    assert r.status_code == 200, r.get_json()
    check_response(client.get("/api/v1/openapi.json").get_json(), "get", "/api/v1/inbox", 200,
                   r.get_json())
    return r.get_json()


def test_me_names_the_caller_and_department(client, people, container):
    """A8.1: the caller's roles and certificate come from the officer register; the read is
    logged (A33.1)."""
    r = client.get("/api/v1/me", headers=auth(people["supervisor"]))
    assert r.status_code == 200
    me = r.get_json()
    doc = client.get("/api/v1/openapi.json").get_json()
    check_response(doc, "get", "/api/v1/me", 200, me)
    assert me["id"] == people["supervisor"]["id"]
    assert me["roles"] == ["supervisor"]
    assert me["certificate_status"] == "valid"
    assert me["department"]["code"] == people["department"]["code"]
    assert me["lang"] == "zh" and me["telegram_bound"] is False
    with container.uow() as uow:
        logged = uow.session.execute(select(AccessLog).where(
            AccessLog.officer_id == me["id"], AccessLog.subject_type == "officer")).scalars().all()
    assert [a.action for a in logged] == ["read"]
    assert client.get("/api/v1/me").status_code == 401


def test_officers_lists_colleagues_with_certificate_status(client, people, container):
    """A14.1: a field record needs two certified officers; the list says who holds a
    certificate, and shows no one from another department."""
    with container.uow() as uow:
        dept = ensure_department(uow.session, people["department"]["code"], "x")
        add_officer(uow.session, dept, "赵六", ["officer"], None)
        other = ensure_department(uow.session, "OTHER", "另一个局")
        add_officer(uow.session, other, "外人", ["officer"], "湘执999")
    r = client.get("/api/v1/officers", headers=auth(people["officer"]))
    assert r.status_code == 200
    check_response(client.get("/api/v1/openapi.json").get_json(), "get", "/api/v1/officers", 200,
                   r.get_json())
    found = r.get_json()["officers"]
    names = [o["name"] for o in found]
    assert names[0] == people["officer"]["name"]  # the caller first
    assert "外人" not in names and "赵六" in names
    zhao = next(o for o in found if o["name"] == "赵六")
    assert zhao["certificate_status"] == "missing" and zhao["may_sign_field_records"] is False
    li = next(o for o in found if o["id"] == people["officer2"]["id"])
    assert li["certificate_status"] == "valid" and li["certificate_no"]

    certified = client.get("/api/v1/officers?certified=true",
                           headers=auth(people["officer"])).get_json()["officers"]
    assert "赵六" not in [o["name"] for o in certified]
    heads = client.get("/api/v1/officers?role=head", headers=auth(people["officer"])).get_json()
    assert [o["id"] for o in heads["officers"]] == [people["head"]["id"]]


def test_officers_refuses_unknown_parameters_naming_them(client, people):
    """A misspelt filter is refused with 422 naming it, not ignored."""
    bad_role = client.get("/api/v1/officers?role=boss", headers=auth(people["officer"]))
    assert bad_role.status_code == 422
    assert "role" in bad_role.get_json()["error"]["fields"]
    unknown = client.get("/api/v1/officers?rol=head", headers=auth(people["officer"]))
    assert unknown.status_code == 422
    assert "rol" in unknown.get_json()["error"]["fields"]


def test_inbox_follows_the_approval_chain(client, people):
    """A10.1: the filing form waits for the unit (supervisor), then for the head; a return goes
    back to the submitter with its reason; a correction starts the chain again."""
    case = open_case(client, people["officer"])
    form = filing_form(client, people["officer"], case["id"])

    sup = _inbox(client, people["supervisor"])
    assert [(a["record_id"], a["step"], a["role"]) for a in sup["approvals"]] == \
        [(form["id"], "unit", "supervisor")]
    item = sup["approvals"][0]
    assert item["case_number"] == case["number"] and item["record_type"] == "filing_form"
    assert item["submitted_by"]["id"] == people["officer"]["id"]
    assert item["action"]["path"] == f"/api/v1/cases/{case['id']}/records/{form['id']}/approvals"
    assert _inbox(client, people["head"])["approvals"] == []
    assert _inbox(client, people["officer"])["approvals"] == []

    assert approve(client, people["supervisor"], case["id"], form["id"]).status_code == 201
    assert _inbox(client, people["supervisor"])["approvals"] == []
    head = _inbox(client, people["head"])["approvals"]
    assert [(a["record_id"], a["step"]) for a in head] == [(form["id"], "head")]

    r = approve(client, people["head"], case["id"], form["id"], "return", "事实不清")
    assert r.status_code == 201
    assert _inbox(client, people["head"])["approvals"] == []
    mine = _inbox(client, people["officer"])
    assert [(x["record_id"], x["step"], x["reason"]) for x in mine["returns"]] == \
        [(form["id"], "head", "事实不清")]
    assert mine["returns"][0]["returned_by"]["id"] == people["head"]["id"]
    assert mine["counts"]["returns"] == 1

    fix = client.post(f"/api/v1/cases/{case['id']}/records", headers=auth(people["officer"]),
                      json={"type": "filing_form", "corrects": form["id"],
                            "fields": {"reason": "未取得施工许可擅自施工，已核实",
                                       "party_info": "岳阳某建设有限公司",
                                       "officer_opinion": "建议立案调查"}})
    assert fix.status_code == 201, fix.get_json()
    assert _inbox(client, people["officer"])["returns"] == []
    assert [a["record_id"] for a in _inbox(client, people["supervisor"])["approvals"]] == \
        [fix.get_json()["id"]]


def test_inbox_is_a_fixed_number_of_queries_and_logged(client, people, container):
    """No N+1: the inbox of ten waiting forms costs the queries of one; one log line (A33.1)."""
    first = open_case(client, people["officer"])
    filing_form(client, people["officer"], first["id"])
    # The token's first use records its last-use time (issue 12): not part of the inbox.
    client.get("/api/v1/me", headers=auth(people["supervisor"]))
    with counted(container.engine) as one:
        assert len(_inbox(client, people["supervisor"])["approvals"]) == 1
    for _ in range(9):
        case = open_case(client, people["officer"])
        filing_form(client, people["officer"], case["id"])
    with counted(container.engine) as ten:
        assert len(_inbox(client, people["supervisor"])["approvals"]) == 10
    assert len(ten) == len(one)
    with container.uow() as uow:
        lines = uow.session.execute(select(AccessLog).where(
            AccessLog.officer_id == people["supervisor"]["id"],
            AccessLog.subject_type == "inbox")).scalars().all()
    assert len(lines) == 2


def test_inbox_deadlines_are_the_callers_open_deadlines(client, people):
    """RULES.md part 2: the deadlines an officer owns (cases they opened or are named on) are
    in their inbox, with the rule ID; a colleague on no record of the case does not see them."""
    case = open_case(client, people["officer"])
    filing_form(client, people["officer"], case["id"])
    open_ids = {d["id"] for d in client.get(f"/api/v1/cases/{case['id']}/deadlines",
                                            headers=auth(people["officer"])).get_json()
                ["deadlines"] if d["status"] == "open"}
    mine = _inbox(client, people["officer"])["deadlines"]
    assert {d["id"] for d in mine} == open_ids
    assert all(d["rule_id"] and d["case_number"] == case["number"] for d in mine)
    assert _inbox(client, people["officer2"])["deadlines"] == []
    limit = client.get("/api/v1/inbox?limit=0", headers=auth(people["officer"]))
    assert limit.status_code == 422 and "limit" in limit.get_json()["error"]["fields"]
