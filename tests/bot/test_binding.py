"""Binding an officer's Telegram account, the public menu, and refusing unbound officers."""

from __future__ import annotations

from sqlalchemy import select

from core.people.models import AccessLog, Officer
from tests.bot.support import bind_code, play


def test_bind_with_code_then_officer_menu(container, people, fake):
    """/bind CODE binds the account (core.people.officers.redeem_bind_code); the menu follows."""
    code = bind_code(container, people["张伟"]["id"])
    user = fake.user(5001, "张伟")

    async def script(h):
        first = await h.say(user, "/start")
        bound = await h.say(user, f"/bind {code}")
        again = await h.say(user, f"/bind {code}")
        return first, bound, again

    first, bound, again = play(container, fake, script)
    assert "/complain" in first[0] and "/bind" in first[0]
    assert bound[0].startswith("绑定成功：张伟（执法人员）") and "/new 新建案件" in bound[0]
    # The account is bound; a used code is refused whatever the account.
    assert again == ["绑定码无效、已使用或已过期。请向管理员重新申请。"]
    with container.uow() as uow:
        assert uow.session.get(Officer, people["张伟"]["id"]).telegram_user_id == 5001


def test_start_with_code_binds_like_bind(container, people, fake):
    """A t.me deep link /start CODE binds too."""
    code = bind_code(container, people["王强"]["id"])
    user = fake.user(5002)
    replies = play(container, fake, lambda h: h.say(user, f"/start {code}"))
    assert replies[0].startswith("绑定成功：王强（承办机构负责人）")


def test_bad_code_is_refused(container, people, fake):
    """An unknown code is a plain sentence, nothing bound."""
    user = fake.user(5003)
    replies = play(container, fake, lambda h: h.say(user, "/bind 00000000"))
    assert replies == ["绑定码无效、已使用或已过期。请向管理员重新申请。"]
    assert play(container, fake, lambda h: h.say(user, "/bind"))[0].startswith("请发送：/bind")


def test_unbound_officer_command_refused_and_logged(container, people, fake):
    """An unbound user's officer command or button is refused and logged (A37.1, A33.1)."""
    user = fake.user(5004)

    async def script(h):
        out = [await h.say(user, cmd) for cmd in ("/new", "/checklist", "/record", "/cases")]
        fake.messages[(5004, 1)] = {"message_id": 1, "date": 0, "chat": {"id": 5004,
                                    "type": "private"}, "text": "x", "reply_markup": {
                                    "inline_keyboard": [[{"text": "a", "callback_data":
                                                          "ap:" + "0" * 32 + ":a"}]]}}
        out.append(await h.press(user, "ap:" + "0" * 32 + ":a"))
        return out

    replies = play(container, fake, script)
    for reply in replies:
        assert reply == ["此功能仅限已绑定的执法人员使用。执法人员请先发送 /bind 绑定码；群众可用 "
                         "/complain 投诉举报。此次尝试已记录。"]
    with container.uow() as uow:
        rows = uow.session.execute(select(AccessLog).where(AccessLog.channel == "telegram")
                                   ).scalars().all()
    assert [r.subject_id for r in rows] == ["/new tg:5004", "/checklist tg:5004",
                                            "/record tg:5004", "/cases tg:5004",
                                            "button ap tg:5004"]
    assert all(r.action == "refused" and r.officer_id is None for r in rows)


def test_lang_en_is_stored_on_the_officer(container, people, fake):
    """/lang en switches to English and stores it on Officer.lang; /lang zh back."""
    code = bind_code(container, people["张伟"]["id"])
    user = fake.user(5005)

    async def script(h):
        await h.say(user, f"/bind {code}")
        en = await h.say(user, "/lang en")
        help_en = await h.say(user, "/help")
        buttons = await h.say(user, "/lang")
        zh = await h.press(user, "lang:zh")
        return en, help_en, buttons, zh

    en, help_en, buttons, zh = play(container, fake, script)
    assert en == ["Language set to English."]
    assert help_en[0].startswith("/new open a case")
    assert buttons == ["请选择语言："] or buttons == ["Choose a language:"]
    assert zh == ["已切换为中文。"]
    with container.uow() as uow:
        assert uow.session.get(Officer, people["张伟"]["id"]).lang == "zh"


def test_unknown_text_shows_menu_and_cancel_idle(container, people, fake):
    """Text no dialog waits for gets the menu; /cancel with nothing running says so."""
    user = fake.user(5006)

    async def script(h):
        return await h.say(user, "你好"), await h.say(user, "/cancel")

    public, cancel = play(container, fake, script)
    assert "/complain" in public[0]
    assert cancel == ["当前没有进行中的操作。"]


def test_unbind_asks_then_ends_the_binding(container, people, fake):
    """Issue 12, finding 3: /unbind asks first (declining changes nothing); confirmed, the
    officer's binding ends through core.notices.bindings, is ledgered, the chat is told, and
    the account is refused officer commands until it binds again with a new code."""
    from core.ledger.models import LedgerEntry
    from core.notices.models import OutboxMessage

    officer_id = people["张伟"]["id"]
    code = bind_code(container, officer_id)
    user = fake.user(5007, "张伟")

    async def script(h):
        await h.say(user, f"/bind {code}")
        menu = await h.say(user, "/help")
        asked = await h.say(user, "/unbind")
        buttons = (h.buttons(user)[:2], h.labelled(user, "确认解除绑定"),
                   h.labelled(user, "取消"))
        kept = await h.press(user, "ub:no")
        with container.uow() as uow:
            still = uow.session.get(Officer, officer_id).telegram_user_id
        await h.say(user, "/unbind")
        done = await h.press(user, "ub:ok")
        after = await h.say(user, "/cases")
        again = await h.say(user, "/unbind")
        return menu, asked, buttons, kept, still, done, after, again

    with container.uow() as uow:
        entries_before = uow.session.query(LedgerEntry).count()
    menu, asked, buttons, kept, still, done, after, again = play(container, fake, script)
    assert "/unbind 解除绑定" in menu[0]
    assert asked == ["确定解除此 Telegram 账号与执法人员 张伟 的绑定吗？解除后，须向管理员申请新的"
                     "绑定码才能再次绑定。"]
    assert buttons == (["ub:ok", "ub:no"], "ub:ok", "ub:no")
    assert kept == ["好的，绑定未变。"] and still == 5007
    assert done == ["已解除绑定。此 Telegram 账号不能再使用执法功能；如需重新绑定，请向管理员申请"
                    "绑定码。"]
    refused = ["此功能仅限已绑定的执法人员使用。执法人员请先发送 /bind 绑定码；群众可用 "
               "/complain 投诉举报。此次尝试已记录。"]
    assert after == refused and again == refused
    with container.uow() as uow:
        assert uow.session.get(Officer, officer_id).telegram_user_id is None
        assert uow.session.query(LedgerEntry).count() > entries_before
        told = uow.session.execute(select(OutboxMessage).where(
            OutboxMessage.recipient == "5007")).scalars().all()
    assert [m.payload["event"] for m in told] == ["binding.unbound"]


def test_unbind_is_in_the_command_menu():
    """The menu Telegram shows lists /unbind in Chinese and English."""
    from bot.app import COMMANDS

    assert ("unbind", "解除绑定") in COMMANDS["zh"]
    assert "unbind" in dict(COMMANDS["en"])
