"""Small helpers the API tests share."""

from __future__ import annotations

from datetime import UTC, datetime


def auth(user: dict) -> dict:
    """Authorization header for a demo user."""
    return {"Authorization": f"Bearer {user['token']}"}


def now_iso() -> str:
    """The current time as an aware ISO 8601 string."""
    return datetime.now(UTC).isoformat()


def open_case(client, user: dict, **over) -> dict:
    """Open a case through the API and return its body (asserting 201)."""
    body = {"kind": "penalty", "initiation": "ex_officio", "title": "违法建设 检查",
            "party": {"name": "岳阳某建设有限公司", "kind": "organisation",
                      "id_number": "91430600MA4L000000"},
            "site": {"lat": 29.3573, "lon": 113.1290, "datum": "gcj02",
                     "address": "岳阳市岳阳楼区某路1号"}}
    body.update(over)
    r = client.post("/api/v1/cases", json=body, headers=auth(user))
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def filing_form(client, user: dict, case_id: str) -> dict:
    """Submit a 立案审批表 (A10.1) and return the record."""
    r = client.post(f"/api/v1/cases/{case_id}/records", headers=auth(user), json={
        "type": "filing_form", "occurred_at": now_iso(),
        "fields": {"reason": "未取得施工许可擅自施工", "party_info": "岳阳某建设有限公司",
                   "officer_opinion": "建议立案调查"}})
    assert r.status_code == 201, r.get_json()
    return r.get_json()


def approve(client, user: dict, case_id: str, record_id: str, decision="approve", opinion="同意"):
    """Take the next approval step."""
    return client.post(f"/api/v1/cases/{case_id}/records/{record_id}/approvals",
                       headers=auth(user), json={"decision": decision, "opinion": opinion})
