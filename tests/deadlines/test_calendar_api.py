"""The stored working-day calendar: the working-days endpoint, administrator overrides through
the API and `flask calendar ...` (RULES.md part 2: working days include 调休)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select

from core.kernel.errors import Forbidden
from core.people.models import AccessLog
from core.rules.calendar import PACKAGE_YEARS
from core.rules.calendar_store import add_override, declare_year, load_calendar
from core.rules.models import CalendarOverride
from tests.deadlines.support import admin_user
from tests.helpers import auth

needs_2027_unknown = pytest.mark.skipif(2027 in PACKAGE_YEARS,
                                        reason="the installed chinese_calendar knows 2027")


def test_working_days_endpoint_skips_national_day_2026(client):
    """N1/N3: 2026-09-30 + 1 working day = 2026-10-08, with the package named as source."""
    r = client.get("/api/v1/calendar/working-days?from=2026-09-30&add=1")
    assert r.status_code == 200
    body = r.get_json()
    assert body["date"] == "2026-10-08"
    assert body["source"].startswith("chinese_calendar ")
    assert body["warnings"] == []
    # 2026-10-10 is a 调休 Saturday: the next working day after 10-09.
    assert client.get("/api/v1/calendar/working-days?from=2026-10-09&add=1"
                      ).get_json()["date"] == "2026-10-10"


def test_working_days_endpoint_refuses_bad_input_without_500(client):
    """N1: a malformed date or count is a 422 naming the problem, never a 500."""
    for query in ("from=2026-13-01&add=1", "from=2026-09-30&add=x", "from=2026-09-30&add=-1",
                  "add=1", "from=2026-09-30&add=99999"):
        r = client.get(f"/api/v1/calendar/working-days?{query}")
        assert r.status_code == 422, query
        assert r.get_json()["error"]["code"] == "invalid"


@needs_2027_unknown
def test_unknown_year_warns_until_the_notice_is_entered_and_declared(client, container):
    """N3: a count into 2027 warns (weekends only) until an admin enters the notice and
    declares the year; then the answer follows the notice and the warning is gone."""
    before = client.get("/api/v1/calendar/working-days?from=2026-12-31&add=1").get_json()
    assert before["date"] == "2027-01-01"
    assert any("2027 has no holiday data" in w for w in before["warnings"])
    admin = admin_user(container)
    for day in ("2027-01-01", "2027-01-02", "2027-01-03"):
        r = client.post("/api/v1/calendar/overrides", headers=auth(admin),
                        json={"date": day, "working": False, "note": "元旦"})
        assert r.status_code == 201, r.get_json()
    partial = client.get("/api/v1/calendar/working-days?from=2026-12-31&add=1").get_json()
    assert partial["date"] == "2027-01-04"
    assert any("not declared complete" in w for w in partial["warnings"])
    r = client.post("/api/v1/calendar/years", headers=auth(admin),
                    json={"year": 2027, "source": "国务院办公厅关于2027年部分节假日安排的通知"})
    assert r.status_code == 201
    after = client.get("/api/v1/calendar/working-days?from=2026-12-31&add=1").get_json()
    assert after["date"] == "2027-01-04"
    assert after["warnings"] == []
    assert "admin calendar 2027" in after["source"]


def test_overrides_admin_only_and_recorded_with_who(client, container, people):
    """A8.1: only an admin edits the calendar (403 otherwise); each entry names who made it
    and is in the access log; GET lists them for any officer."""
    hdr = auth(people["officer"])
    body = {"date": "2026-10-12", "working": False, "note": "防汛应急停工（测试）"}
    assert client.post("/api/v1/calendar/overrides", headers=hdr, json=body).status_code == 403
    assert client.post("/api/v1/calendar/years", headers=hdr,
                       json={"year": 2027, "source": "x"}).status_code == 403
    assert client.post("/api/v1/calendar/overrides", json=body).status_code == 401
    # Issue 12 finding 10: a department's admin may not move every department's deadlines.
    dept_admin = admin_user(container, ("admin",))
    assert client.post("/api/v1/calendar/overrides", headers=auth(dept_admin),
                       json=body).status_code == 403
    admin = admin_user(container)
    r = client.post("/api/v1/calendar/overrides", headers=auth(admin), json=body)
    assert r.status_code == 201
    assert r.get_json()["created_by"] == f"officer:{admin['id']}"
    listed = client.get("/api/v1/calendar/overrides?year=2026", headers=hdr).get_json()
    assert [(o["date"], o["working"]) for o in listed["overrides"]] == [("2026-10-12", False)]
    assert client.get("/api/v1/calendar/working-days?from=2026-10-09&add=2"
                      ).get_json()["date"] == "2026-10-13"
    with container.uow() as uow:
        logged = uow.session.execute(select(AccessLog).where(
            AccessLog.action == "calendar_override")).scalars().all()
    assert [a.officer_id for a in logged] == [admin["id"]]


def test_override_input_is_validated(client, container):
    """N3: a bad date, flag or missing note is a 422 naming the field."""
    hdr = auth(admin_user(container))
    for body in ({"date": "2026-02-30", "working": False, "note": "x"},
                 {"date": "2026-10-12", "working": "yes", "note": "x"},
                 {"date": "2026-10-12", "working": False},
                 {"date": "1899-01-01", "working": False, "note": "x"}):
        r = client.post("/api/v1/calendar/overrides", headers=hdr, json=body)
        assert r.status_code == 422, body
    assert client.post("/api/v1/calendar/years", headers=hdr,
                       json={"year": "2027", "source": "x"}).status_code == 422
    assert client.get("/api/v1/calendar/overrides?year=abc", headers=hdr).status_code == 422


def test_latest_override_wins_and_service_refuses_non_admins(container, people):
    """N3: overrides are append-only; the latest entry for a day is the one counted."""
    with container.uow() as uow:
        add_override(uow.session, "cli:test", date(2026, 10, 12), False, "停工")
        add_override(uow.session, "cli:test", date(2026, 10, 12), True, "撤销停工")
    with container.uow() as uow:
        cal = load_calendar(uow.session)
        assert cal.is_working_day(date(2026, 10, 12))
        assert len(uow.session.execute(select(CalendarOverride)).all()) == 2
        from core.people.officers import get_officer
        officer = get_officer(uow.session, people["officer"]["id"])
        with pytest.raises(Forbidden):
            declare_year(uow.session, officer, 2027, "x")


def test_flask_calendar_cli(app, container):
    """N3: `flask calendar add-holiday/add-workday/declare-year/show` edit and show a year."""
    runner = app.test_cli_runner()
    r = runner.invoke(args=["calendar", "add-holiday", "2030-10-01", "--note", "国庆节"])
    assert r.exit_code == 0, r.output
    assert "2030-10-01 recorded as a holiday" in r.output
    r = runner.invoke(args=["calendar", "add-workday", "2030-09-29", "--note", "国庆节调休上班"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(args=["calendar", "declare-year", "2030", "--source",
                            "国务院办公厅关于2030年部分节假日安排的通知"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(args=["calendar", "show", "2030", "--json"])
    assert r.exit_code == 0, r.output
    report = json.loads(r.output)
    assert report["status"] == "declared"
    assert report["warning"] is None
    assert {"date": "2030-10-01", "note": "override: 国庆节"} in report["rest_weekdays"]
    assert report["working_weekends"] == [{"date": "2030-09-29",
                                           "note": "override: 国庆节调休上班"}]
    assert all(o["created_by"].startswith("cli:") for o in report["overrides"])
    r = runner.invoke(args=["calendar", "show", "2026"])
    assert r.exit_code == 0 and "2026: package" in r.output and "2026-10-01" in r.output
    r = runner.invoke(args=["calendar", "add-holiday", "not-a-date", "--note", "x"])
    assert r.exit_code != 0 and "YYYY-MM-DD" in r.output
