"""Staff sign-in to the pages without passwords (issue 14 item 1): a one-time link from the bot
or the CLI opens a session whose cookie is HttpOnly, SameSite=Strict, expiring (and Secure in
production); every form carries a CSRF token; signing out, expiry and deactivation end it."""

from __future__ import annotations

import dataclasses

from sqlalchemy import select

from api import create_app
from core.people.models import AccessLog, Officer, WebSession, WebSignInLink
from tests.pages.support import csrf_of, link_for, sign_in


def _cookie_header(response, name: str) -> str:
    found = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "=")]
    assert found, f"no {name} cookie set"
    return found[-1]


def test_one_time_link_signs_in_once_with_a_strict_session_cookie(client, container, people):
    """The link's token (in the fragment) is posted by the sign-in form once: a session cookie
    HttpOnly, SameSite=Strict, with an expiry; the same link a second time is refused; the
    token is stored only as its hash and the sign-in is in the access log (A33.1)."""
    url = link_for(container, people["supervisor"]["id"])
    assert "/signin#qw_" in url
    token = url.split("#", 1)[1]
    page = client.get("/signin")
    assert page.status_code == 200 and token not in page.get_data(as_text=True)
    anonymous = _cookie_header(page, "qc_csrf")
    assert "HttpOnly" in anonymous and "SameSite=Strict" in anonymous
    r = client.post("/signin", data={"token": token, "next": "/desk",
                                     "csrf_token": csrf_of(page.get_data(as_text=True))})
    assert r.status_code == 303 and r.headers["Location"].endswith("/desk")
    header = _cookie_header(r, "qc_session")
    assert "HttpOnly" in header and "SameSite=Strict" in header
    assert "Max-Age=43200" in header and "Expires=" in header
    assert "Secure" not in header  # development: plain http on 127.0.0.1
    desk = client.get("/desk")
    assert desk.status_code == 200 and "王强" in desk.get_data(as_text=True)

    other = client.application.test_client()
    page = other.get("/signin")
    again = other.post("/signin", data={"token": token, "next": "/desk",
                                        "csrf_token": csrf_of(page.get_data(as_text=True))})
    assert again.status_code == 400 and "qc_session" not in again.headers.get("Set-Cookie", "")
    with container.uow() as uow:
        link = uow.session.execute(select(WebSignInLink)).scalar_one()
        assert token not in link.token_hash and link.used_at is not None
        assert uow.session.execute(select(AccessLog).where(
            AccessLog.action == "sign_in", AccessLog.channel == "web")).scalar_one()


def test_production_cookie_is_secure(container, people, settings):
    """APP_ENV=production: the session and form cookies are Secure too."""
    object.__setattr__(container.settings, "app_env", "production")
    try:
        app = create_app({"CONTAINER": container, "TESTING": True})
        client = app.test_client()
        r = sign_in(client, container, people["supervisor"]["id"])
        assert "Secure" in _cookie_header(r, "qc_session")
    finally:
        object.__setattr__(container.settings, "app_env", "development")


def test_without_a_session_the_desk_sends_to_sign_in(client):
    """No cookie: the desk's pages redirect to the sign-in page, naming where to return."""
    r = client.get("/desk/cases?party=x")
    assert r.status_code == 302 and "/signin?next=" in r.headers["Location"]


def test_sign_out_ends_the_session(client, container, people):
    """Signing out ends the session in the database; the old cookie then opens nothing."""
    sign_in(client, container, people["supervisor"]["id"])
    desk = client.get("/desk").get_data(as_text=True)
    cookie = client.get_cookie("qc_session").value
    r = client.post("/signout", data={"csrf_token": csrf_of(desk)})
    assert r.status_code == 303 and "/signin?out=1" in r.headers["Location"]
    with container.uow() as uow:
        row = uow.session.execute(select(WebSession)).scalar_one()
        assert row.ended_at is not None and row.end_reason == "signed_out"
    client.set_cookie("qc_session", cookie)
    assert client.get("/desk").status_code == 302


def test_deactivated_officer_session_ends_at_the_next_request(client, container, people):
    """Deactivation ends the session: the one core check of "officer active" refuses it and
    the session is recorded as ended for that reason."""
    sign_in(client, container, people["supervisor"]["id"])
    assert client.get("/desk").status_code == 200
    with container.uow() as uow:
        uow.session.get(Officer, people["supervisor"]["id"]).active = False
    assert client.get("/desk").status_code == 302
    with container.uow() as uow:
        row = uow.session.execute(select(WebSession)).scalar_one()
        assert row.end_reason == "deactivated"
    # A link issued earlier cannot open a new session either.
    with container.uow() as uow:
        uow.session.get(Officer, people["supervisor"]["id"]).active = True
    token = link_for(container, people["supervisor"]["id"]).split("#", 1)[1]
    with container.uow() as uow:
        uow.session.get(Officer, people["supervisor"]["id"]).active = False
    page = client.get("/signin")
    r = client.post("/signin", data={"token": token,
                                     "csrf_token": csrf_of(page.get_data(as_text=True))})
    assert r.status_code == 400


def test_session_expires_after_idle_time_and_after_a_working_day(client, container, people,
                                                                 clock):
    """Two hours without a request, or twelve hours in all, end the session."""
    sign_in(client, container, people["supervisor"]["id"])
    clock.advance(hours=1, minutes=50)
    assert client.get("/desk").status_code == 200
    clock.advance(hours=2, minutes=1)
    assert client.get("/desk").status_code == 302
    sign_in(client, container, people["supervisor"]["id"])
    for _ in range(6):
        clock.advance(hours=1, minutes=45)
        assert client.get("/desk").status_code == 200
    clock.advance(hours=1, minutes=31)  # 12 h 01 min after signing in, 1 h 31 min idle
    assert client.get("/desk").status_code == 302
    with container.uow() as uow:
        reasons = sorted(r.end_reason for r in uow.session.execute(select(WebSession)).scalars())
    assert reasons == ["expired", "idle"]


def test_forms_without_the_csrf_token_or_from_another_origin_are_refused(client, container,
                                                                        people):
    """CSRF: a signed-in form posted without its token, with another session's token, or from
    another origin (Origin, Sec-Fetch-Site) is refused with 403 and changes nothing."""
    sign_in(client, container, people["supervisor"]["id"])
    desk = client.get("/desk").get_data(as_text=True)
    token = csrf_of(desk)
    assert client.post("/signout").status_code == 403
    assert client.post("/signout", data={"csrf_token": "x" * 64}).status_code == 403
    assert client.post("/signout", data={"csrf_token": token},
                       headers={"Origin": "https://evil.example"}).status_code == 403
    assert client.post("/signout", data={"csrf_token": token},
                       headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    # The anonymous sign-in form needs its token too (no login CSRF).
    fresh = client.application.test_client()
    link = link_for(container, people["head"]["id"]).split("#", 1)[1]
    assert fresh.post("/signin", data={"token": link}).status_code == 403
    with container.uow() as uow:
        assert uow.session.execute(select(WebSession.ended_at)).scalar_one() is None
    # The pages' own forms, under Referrer-Policy: no-referrer, arrive with "Origin: null".
    assert client.post("/signout", data={"csrf_token": token},
                       headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"}
                       ).status_code == 303


def test_cli_web_link_prints_a_link(app, people, container, monkeypatch):
    """`flask officers web-link <id>` prints <PUBLIC_URL>/signin#<token>; with PUBLIC_URL
    unset, on the port the app serves on (PORT), not a fixed one."""
    out = app.test_cli_runner().invoke(args=["officers", "web-link", people["head"]["id"]])
    assert out.exit_code == 0, out.output
    assert "/signin#qw_" in out.output
    monkeypatch.setattr(container, "settings", dataclasses.replace(
        container.settings, port=8123, public_url=""))
    out = app.test_cli_runner().invoke(args=["officers", "web-link", people["head"]["id"]])
    assert out.output.startswith("http://127.0.0.1:8123/signin#qw_"), out.output
