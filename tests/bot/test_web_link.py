"""/web: a bound officer gets a one-time link that signs them in to the desk (issue 14); an
unbound user gets none."""

from __future__ import annotations

from sqlalchemy import select

from core.people.models import WebSignInLink
from tests.bot.support import bind, play
from tests.pages.support import csrf_of


def test_web_sends_a_one_time_sign_in_link_that_opens_the_desk(container, people, fake, app):
    """The link in the bot's answer carries its token in the fragment; it signs the officer in
    once (core.people.web_sessions)."""
    user = fake.user(5101, "王强")

    async def script(h):
        await bind(h, container, user, people["王强"]["id"])
        return await h.say(user, "/web")

    [answer] = play(container, fake, script)
    assert answer.startswith("🔐 一次性登录链接（15 分钟内有效")
    url = answer.rsplit("\n", 1)[1]
    assert "/signin#qw_" in url
    client = app.test_client()
    page = client.get("/signin")
    r = client.post("/signin", data={"token": url.split("#", 1)[1],
                                     "csrf_token": csrf_of(page.get_data(as_text=True))})
    assert r.status_code == 303
    assert "王强" in client.get("/desk").get_data(as_text=True)


def test_web_refused_to_an_unbound_user(container, people, fake):
    """No bound officer, no link."""
    user = fake.user(5102)
    replies = play(container, fake, lambda h: h.say(user, "/web"))
    assert all("/signin#" not in r for r in replies)
    with container.uow() as uow:
        assert uow.session.execute(select(WebSignInLink)).first() is None
