"""Issue 12, finding 9: huge integers and dates at the end of the calendar are a 422 naming the
field, never a 500 (offset, year, ledger entry numbers, tree sizes, working days)."""

from __future__ import annotations

import pytest

from tests.helpers import auth, open_case

HUGE = "9" * 30
INT64 = str(2**63)


@pytest.mark.parametrize("method,url,body,field", [
    ("GET", f"/api/v1/cases?offset={HUGE}", None, "offset"),
    ("GET", f"/api/v1/cases?offset={INT64}", None, "offset"),
    ("GET", f"/api/v1/cases?limit={HUGE}", None, "limit"),
    ("GET", f"/api/v1/calendar/overrides?year={HUGE}", None, "year"),
    ("GET", f"/api/v1/calendar/overrides?year={INT64}", None, "year"),
    ("POST", "/api/v1/calendar/overrides", {"date": "2026-01-01", "working": True,
                                            "note": "x", "year": HUGE}, None),
    ("POST", "/api/v1/calendar/years", {"year": int(HUGE), "source": "x"}, "year"),
    ("POST", "/api/v1/calendar/years", {"year": 2**63, "source": "x"}, "year"),
    ("GET", f"/api/v1/ledger/proof/{HUGE}", None, "entry"),
    ("GET", f"/api/v1/ledger/proof/{INT64}", None, "entry"),
    ("GET", f"/api/v1/ledger/proof/1?tree_size={HUGE}", None, "tree_size"),
    ("GET", f"/api/v1/ledger/consistency?from=1&to={HUGE}", None, "to"),
    ("GET", f"/api/v1/ledger/consistency?from={INT64}&to={INT64}", None, "to"),
    ("GET", f"/api/v1/deliveries?limit={HUGE}", None, None),
    ("POST", f"/api/v1/deliveries/{HUGE}/retry", {}, None),
    ("GET", "/api/v1/calendar/working-days?from=9999-12-20&add=3660", None, "from"),
    ("GET", f"/api/v1/calendar/working-days?from=2026-01-01&add={HUGE}", None, "add"),
    ("GET", "/api/v1/calendar/working-days?from=0001-01-01&add=1", None, None),
])
def test_no_500_on_huge_numbers(client, container, people, method, url, body, field):
    """Every number is bounded: 4xx with the field named, never a 500."""
    from core.people.officers import add_officer, department_by_code, issue_token

    with container.uow() as uow:
        admin = add_officer(uow.session, department_by_code(uow.session, "YYZJ"), "管理员",
                            ["admin", "calendar_admin"])
        token = issue_token(uow.session, admin)
    r = client.open(url, method=method, json=body, headers=auth({"token": token}))
    assert r.status_code < 500, (url, r.status_code, r.get_data(as_text=True)[:300])
    if field is not None:
        assert r.status_code == 422, (url, r.status_code, r.get_json())
        assert field in r.get_data(as_text=True), r.get_json()


def test_no_500_on_huge_numbers_in_case_routes(client, people):
    """Numbers inside a case's routes too (record lists, approvals, upload links)."""
    case = open_case(client, people["officer"])
    hdr = auth(people["officer"])
    for url, body in ((f"/api/v1/cases/{case['id']}/upload-links",
                       {"expires_in_hours": int(HUGE)}),
                      (f"/api/v1/cases/{case['id']}/transitions", {"to": HUGE}),
                      (f"/api/v1/cases/{case['id']}/records",
                       {"type": "inquiry_record", "fields": {}, "occurred_at": HUGE})):
        r = client.post(url, json=body, headers=hdr)
        assert r.status_code < 500 and r.status_code >= 400, (url, r.status_code)
