"""Issue 12, "done means": the role × identity × route grid. Every route the app serves is called
by every role of a department, by officers and an admin of a second department, with no token,
a bad token, a one-time upload-link token and a complainant's code. The grid fails on any 5xx,
on any route missing from the OpenAPI document, and on any 2xx an identity may not get:
anonymous callers only on public routes, the second department never on the first one's
case, record, evidence, officer or token, administration only for the department's admin,
the national calendar only for the calendar administrator."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from core.complaints.models import ComplaintIntake
from core.complaints.public import PublicComplaint, submit_public
from core.evidence import uploads
from core.kernel.vocab import ROLES
from core.people.models import ApiToken, Officer
from core.people.officers import add_officer, ensure_department, issue_token
from tests.helpers import auth, filing_form, open_case

# Routes anyone may call (and the upload-link ones, whose credential is the link's token).
PUBLIC = {"/healthz", "/api/v1/openapi.json", "/api/v1/record-types", "/api/v1/rules",
          "/api/v1/calendar/working-days", "/api/v1/complaints/{tracking_no}", "/u",
          "/api/v1/upload-links/{token}", "/api/v1/upload-link", "/static/{filename}",
          "/telegram/webhook", "/m/capture", "/m/sw.js",
          "/c", "/c/{tracking_no}", "/signin",  # pages: the data needs a token
          "/api/v1/complaints/{tracking_no}/contact-confirmation"}
LINK_ROUTES = {"/api/v1/upload-link", "/api/v1/uploads", "/api/v1/uploads/{upload_id}"}
# Path parameters that name something of department A: B must never get a 2xx on them.
SCOPED = ("{case_id}", "{record_id}", "{evidence_id}", "{officer_id}", "{token_id}",
          "{draw_id}", "{intake_id}")


@dataclass
class Identity:
    """Who calls: headers to send, the client address (rate limits count per address)."""

    name: str
    headers: dict = field(default_factory=dict)
    roles: tuple[str, ...] = ()
    department: str = ""
    address: str = "127.0.0.1"


def _served(app) -> list[tuple[str, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
            continue
        path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)
        out += [(m, path) for m in sorted(rule.methods) if m not in ("HEAD", "OPTIONS")]
    return sorted(out)


@pytest.fixture
def world(client, container, people):
    """Department A (the demo people and one holder of every other role, a case with a filing
    form, a piece of evidence when the parser runs, an upload link, a public complaint) and
    department B (an officer and an admin)."""
    extra = {}
    with container.uow() as uow:
        dept_a = ensure_department(uow.session, "YYZJ", "演示局")
        for role in ("custodian", "admin", "auditor", "calendar_admin"):
            o = add_officer(uow.session, dept_a, f"角色{role}", [role])
            extra[role] = {"id": o.id, "token": issue_token(uow.session, o)}
        target = add_officer(uow.session, dept_a, "靶子", ["officer"])
        issue_token(uow.session, target)
        target_id = target.id
    with container.uow() as uow:
        token_id = uow.session.execute(select(ApiToken.id).where(
            ApiToken.officer_id == target_id)).scalar_one()
    case = open_case(client, people["officer"])
    form = filing_form(client, people["officer"], case["id"])
    with container.uow() as uow:
        actor = uow.session.get(Officer, people["officer"]["id"])
        link = uploads.issue_upload_link(uow, actor, case["id"])
        ticket = submit_public(uow, PublicComplaint.parse(
            {"what": "噪音扰民", "contact": "13800000009"}))
    with container.uow() as uow:
        intake_id = uow.session.execute(select(ComplaintIntake.id).where(
            ComplaintIntake.tracking_no == ticket["tracking_no"])).scalar_one()
    with container.uow() as uow:  # after the complaint: with two, PUBLIC_DEPARTMENT decides
        dept_b = ensure_department(uow.session, "QTJ", "另一局")
        b_officer = add_officer(uow.session, dept_b, "乙执法", ["officer", "supervisor"], "B1")
        b_admin = add_officer(uow.session, dept_b, "乙管理", ["admin"])
        b_auditor = add_officer(uow.session, dept_b, "乙监督", ["auditor"])
        b = {"officer": issue_token(uow.session, b_officer),
             "admin": issue_token(uow.session, b_admin),
             "auditor": issue_token(uow.session, b_auditor)}
    params = {"case_id": case["id"], "record_id": form["id"], "evidence_id": "0" * 32,
              "officer_id": target_id, "token_id": token_id, "draw_id": "0" * 32,
              "upload_id": "0" * 32, "entry": "0", "outbox_id": "1",
              "tracking_no": ticket["tracking_no"], "token": link["token"],
              "intake_id": intake_id,
              "filename": "css/site.css"}
    identities = [Identity(role, auth(people[role]), (role,), "A")
                  for role in ("officer", "supervisor", "legal_reviewer", "head")]
    identities += [Identity(role, auth(extra[role]), (role,), "A") for role in extra]
    identities += [
        Identity("B officer", auth({"token": b["officer"]}), ("officer", "supervisor"), "B",
                 "10.0.0.2"),
        Identity("B admin", auth({"token": b["admin"]}), ("admin",), "B", "10.0.0.3"),
        Identity("B auditor", auth({"token": b["auditor"]}), ("auditor",), "B", "10.0.0.8"),
        Identity("no token", {}, (), "", "10.0.0.4"),
        Identity("bad token", {"Authorization": "Bearer qc_not_a_token"}, (), "", "10.0.0.5"),
        Identity("upload link", {"Upload-Token": link["token"], "Tus-Resumable": "1.0.0"},
                 ("link",), "", "10.0.0.6"),
        Identity("complainant", {"X-Complaint-Code": ticket["code"]}, ("complainant",), "",
                 "10.0.0.7"),
    ]
    assert {r for i in identities for r in i.roles} >= set(ROLES)
    return {"params": params, "identities": identities}


def _allowed(identity: Identity, method: str, path: str) -> bool:
    """May this identity get a 2xx here?"""
    if path in PUBLIC and not (path == "/api/v1/upload-link" and "link" not in identity.roles):
        return True
    if "link" in identity.roles:
        return path in LINK_ROUTES
    if not identity.department:  # no token, bad token, a complainant's code
        return False
    scoped = any(p in path for p in SCOPED)
    if identity.department == "B" and scoped:
        # Auditors oversee every department's cases, read-only (access.CROSS_DEPARTMENT).
        return ("auditor" in identity.roles and method == "GET"
                and path.startswith("/api/v1/cases/"))
    if path.startswith("/api/v1/admin/"):
        return "admin" in identity.roles  # scoped ones are department A's admin's only
    if path.startswith("/api/v1/calendar/") and method != "GET":
        return "calendar_admin" in identity.roles
    return True


def test_role_identity_route_grid(app, client, world):
    """No 5xx, no undocumented route, no 2xx an identity may not get."""
    doc = client.get("/api/v1/openapi.json").get_json()
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    served = _served(app)
    assert [r for r in served if r not in documented and r[1] != "/static/{filename}"] == []
    problems = []
    for identity in world["identities"]:
        for method, path in served:
            url = path
            for name, value in world["params"].items():
                url = url.replace("{" + name + "}", value)
            r = client.open(url, method=method, json={}, headers=identity.headers,
                            environ_base={"REMOTE_ADDR": identity.address})
            if r.status_code >= 500:
                problems.append(f"{identity.name}: {method} {path} → {r.status_code}")
            elif 200 <= r.status_code < 300 and not _allowed(identity, method, path):
                problems.append(f"{identity.name}: {method} {path} → unexpected "
                                f"{r.status_code}")
    assert problems == [], "\n".join(problems)
