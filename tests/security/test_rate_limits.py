"""Issue 12, findings 6 and 8: public and credential-guessing entry points are rate limited per
client address, failed tokens go to the access log, and link tokens and complaint codes never
reach a server log."""

from __future__ import annotations

import logging

from sqlalchemy import select

from api.edge import RedactSecrets, redact
from core.people.models import AccessLog
from tests.helpers import auth


def test_failed_bearer_tokens_lock_the_address_and_are_logged(client, container, people):
    """30 wrong tokens a minute from one address, then 429 even for a right token from it;
    each failure is a line of the access log."""
    for i in range(30):
        r = client.get("/api/v1/cases", headers={"Authorization": f"Bearer qc_wrong{i}"})
        assert r.status_code == 401
    r = client.get("/api/v1/cases", headers=auth(people["officer"]))
    assert r.status_code == 429 and r.get_json()["error"]["code"] == "rate_limited"
    other = client.get("/api/v1/cases", headers=auth(people["officer"]),
                       environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 200
    with container.uow() as uow:
        logged = uow.session.execute(select(AccessLog).where(
            AccessLog.action == "bad_token")).scalars().all()
    assert len(logged) == 30 and {a.remote for a in logged} == {"127.0.0.1"}


def test_complaint_lookups_are_limited_per_address(client):
    """10 status lookups per address in 10 minutes, then 429 (guessing tracking numbers and
    codes); the limit is core's, shared with the complainant's page."""
    answers = [client.get("/api/v1/complaints/TS0000000000", headers={"X-Complaint-Code": "x"}
                          ).status_code for _ in range(11)]
    assert all(a in (403, 404, 422) for a in answers[:10]), answers
    assert answers[10] == 429


def test_upload_link_pages_are_limited(client):
    """The upload-link status page: 60 a minute per address."""
    answers = [client.get("/api/v1/upload-link", headers={"Upload-Token": f"qcu_{i}"}
                          ).status_code for i in range(61)]
    assert answers[-1] == 429 and 429 not in answers[:60]


def test_tokens_and_codes_are_blanked_in_request_logs(app):
    """Finding 8: werkzeug's and gunicorn's request lines lose link tokens and codes."""
    line = ('"GET /api/v1/upload-links/qcu_SECRET1 HTTP/1.1" 303 -',
            '"POST /api/v1/uploads?token=qcu_SECRET2 HTTP/1.1"',
            '"GET /api/v1/complaints/TS1?code=SECRET3&lang=zh HTTP/1.1"')
    for text in line:
        assert "SECRET" not in redact(text)
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, '%s - "%s" %s',
                               ("127.0.0.1", "GET /api/v1/uploads?token=qcu_SECRET4", "204"),
                               None)
    RedactSecrets().filter(record)
    assert "SECRET" not in record.getMessage() and "token=***" in record.getMessage()
    assert logging.getLogger("werkzeug").filters  # installed by create_app


def test_public_complaints_are_limited_per_contact_and_account(container, people):
    """Findings 5 and 6: five complaints an hour per contact, and per Telegram account
    whatever contact it types; the sixth is 429 and keeps nothing."""
    import pytest

    from core.cases.models import Case
    from core.complaints.models import ComplaintIntake
    from core.complaints.public import PublicComplaint, submit_public
    from core.kernel.errors import RateLimited

    def submit(contact: str, tg: int | None = None):
        data = {"what": "夜间施工噪音", "contact": contact, "channel": "telegram" if tg
                else "online", "telegram_user_id": tg}
        with container.uow() as uow:
            return submit_public(uow, PublicComplaint.parse(data))

    for _ in range(5):
        submit("13800000001")
    with pytest.raises(RateLimited):
        submit(" 138 0000 0001")  # the same contact, spaced
    for i in range(5):
        submit(f"1390000000{i}", tg=4242)
    with pytest.raises(RateLimited):
        submit("13700000000", tg=4242)
    with container.uow() as uow:
        # Each one waits in the intake queue (finding 5): ten items, no case until accepted.
        assert uow.session.query(ComplaintIntake).filter(
            ComplaintIntake.status == "pending").count() == 10
        assert uow.session.query(Case).filter(Case.initiation == "complaint").count() == 0
