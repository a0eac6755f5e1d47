"""Helpers the page tests share: sign-in links, the CSRF field of a page, complaint tickets."""

from __future__ import annotations

import re

from core.cases import records
from core.cases.commands import AddRecord
from core.people import web_sessions
from core.people.models import Officer

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
INTAKE = {"complainant_name": "王五", "complainant_contact": "13807301234",
          "channel": "online", "received_at": "2026-09-30T10:00:00+08:00",
          "content": "工地夜间施工噪音扰民"}


def link_for(container, officer_id: str) -> str:
    """A one-time sign-in link for an officer (what /web and `flask officers web-link` send)."""
    with container.uow() as uow:
        return web_sessions.issue_link(uow, officer_id, channel="cli").url


def csrf_of(html: str) -> str:
    """The CSRF token of the first form on a page."""
    found = CSRF.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in(client, container, officer_id: str):
    """Sign a test client in through the sign-in form; the response of the form post."""
    token = link_for(container, officer_id).split("#", 1)[1]
    page = client.get("/signin")
    return client.post("/signin", data={"token": token, "next": "/desk",
                                        "csrf_token": csrf_of(page.get_data(as_text=True))})


def complaint_ticket(container, officer_id: str, case_id: str) -> dict:
    """Register a complaint intake on a case; its tracking number and code (shown once)."""
    with container.uow() as uow:
        actor = uow.session.get(Officer, officer_id)
        return records.add_record(uow, actor, case_id, AddRecord.parse(
            {"type": "complaint_intake", "fields": INTAKE})).complaint_ticket
