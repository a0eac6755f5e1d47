"""Issue 12, "done means": the bot's commands and buttons get the same grid as the API. Every
officer command and every officer button, naming a case of department A, from an unbound
account, from a deactivated officer's former account, and from a bound officer of department
B: the first two are refused (and logged), the third never sees A's case, and nobody meets an
internal error."""

from __future__ import annotations

from bot.binding import OFFICER_CALLBACKS, OFFICER_COMMANDS
from bot.texts import t
from core.notices.bindings import bind_telegram, deactivate_officer
from core.people.officers import add_officer, ensure_department, issue_token
from tests.bot.support import bind_code, play
from tests.helpers import open_case

REFUSED = t("zh", "officer_only")
ERROR = t("zh", "error")


def _button(fake, user_id: int, data: str) -> None:
    """Put a message carrying the button in the chat, as if the bot had shown it."""
    mid = 900 + len(fake.messages)
    fake.messages[(user_id, mid)] = {
        "message_id": mid, "date": 0, "chat": {"id": user_id, "type": "private"}, "text": "x",
        "reply_markup": {"inline_keyboard": [[{"text": "a", "callback_data": data}]]}}


def test_bot_identity_grid(app, client, container, people, fake):
    """Unbound and deactivated: refused everywhere; department B: never A's case; no errors."""
    case = open_case(client, people["officer"])
    with container.uow() as uow:
        dept_b = ensure_department(uow.session, "QTJ", "另一局")
        b = add_officer(uow.session, dept_b, "乙执法", ["officer", "supervisor"], "B1")
        issue_token(uow.session, b)
        b_id = b.id
    bind_telegram(container, bind_code(container, b_id), 6102, lambda o: o.id)
    bind_telegram(container, bind_code(container, people["李娜"]["id"]), 6101, lambda o: o.id)
    with container.uow() as uow:
        deactivate_officer(uow, None, people["李娜"]["id"])
    unbound, former, other = fake.user(6100), fake.user(6101), fake.user(6102)
    commands = [f"/{c} {case['number']}" for c in sorted(OFFICER_COMMANDS)]
    buttons = [f"{p}{case['id']}" for p in OFFICER_CALLBACKS]

    async def script(h):
        out = {}
        for user in (unbound, former, other):
            for text in commands:
                out[(user["id"], text)] = await h.say(user, text)
                await h.say(user, "/cancel")
            for data in buttons:
                _button(fake, user["id"], data)
                out[(user["id"], data)] = await h.press(user, data)
                await h.say(user, "/cancel")
        return out

    answers = play(container, fake, script)
    problems = []
    for (user_id, what), replies in answers.items():
        text = "\n".join(replies)
        if ERROR in text:
            problems.append(f"{user_id} {what}: internal error")
        if user_id in (6100, 6101) and replies != [REFUSED]:
            problems.append(f"{user_id} {what}: not refused: {text[:80]}")
        # What only a reader of the case knows: its title, party and site.
        if user_id == 6102 and any(secret in text for secret in (
                "违法建设 检查", "岳阳某建设有限公司", "岳阳市岳阳楼区某路1号")):
            problems.append(f"{user_id} {what}: saw department A's case: {text[:80]}")
    assert problems == [], "\n".join(problems)
