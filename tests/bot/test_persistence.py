"""Dialog state in the database (bot.persistence over core.platform.keyvalue): two bot
applications on one database, as two web processes taking webhook updates, alternate the
updates of one dialog and finish it; every answer is in the database as soon as it is given."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from telegram import Update

from bot.app import build_application
from bot.persistence import DatabasePersistence
from core.bootstrap import bootstrap
from core.cases.models import Case
from core.platform import keyvalue
from tests.bot.support import Harness, bind_code
from tests.support.telegram_fake import FakeRequest


class Alternating(Harness):
    """Plays each update into the next application in turn (a load balancer's round robin)."""

    def __init__(self, apps, fake):
        super().__init__(apps[0], fake)
        self.apps, self.turn, self.taken = apps, 0, [0] * len(apps)

    async def send(self, update: dict, chat_id: int | None = None) -> list[str]:
        """Hand the update to the next application."""
        index = self.turn % len(self.apps)
        self.turn += 1
        self.taken[index] += 1
        self.app = self.apps[index]
        return await super().send(update, chat_id)


def _stored(container, namespace: str, key: str):
    with container.uow() as uow:
        return keyvalue.get(uow.session, namespace, key)


def test_two_bot_processes_alternate_one_dialog_and_finish_it(container, settings, people,
                                                              fake):
    """Several processes: /bind and the whole /new dialog (A2.1) with every update going to
    the other of two applications, each with its own adapters over one database: each one
    picks the dialog up where the other left it, the case is opened, and the ended dialog
    leaves no state behind. The draft is in the database after each answer, with no flush."""
    other = bootstrap(settings)
    user = fake.user(7101)
    code = bind_code(container, people["张伟"]["id"])
    seen: dict = {}

    async def main():
        apps = [build_application(c, request=FakeRequest(fake)) for c in (container, other)]
        assert all(isinstance(a.persistence, DatabasePersistence) for a in apps)
        for a in apps:
            await a.initialize()
        h = Alternating(apps, fake)
        try:
            await h.say(user, f"/bind {code}")
            await h.say(user, "/new")
            await h.press(user, "nk:penalty")
            seen["after_kind"] = _stored(container, "tg.user", str(user["id"]))
            seen["state"] = _stored(container, "tg.conv:new_case",
                                    f"[{user['id']},{user['id']}]")
            await h.press(user, "nr:ex_officio")
            await h.say(user, "未取得施工许可擅自施工")
            await h.press(user, "np:organisation")
            await h.say(user, "岳阳某建设有限公司")
            await h.say(user, "91430600MA4L000000")
            await h.send(fake.location(user, 29.3573, 113.1290, accuracy=12))
            await h.say(user, "岳阳市岳阳楼区某路1号")
            seen["summary"] = await h.press(user, "ne:0")
            seen["opened"] = await h.press(user, "nc:ok")
            seen["taken"] = h.taken
        finally:
            for a in apps:  # no shutdown flush is needed: a crash here loses nothing
                await a.shutdown()

    try:
        asyncio.run(main())
    finally:
        other.engine.dispose()
    assert seen["after_kind"]["draft_case"] == {"kind": "penalty"}
    assert seen["state"] is not None
    assert seen["summary"][0].startswith("请核对：\n类别：行政处罚\n启动方式：依职权")
    with container.uow() as uow:
        case = uow.session.execute(select(Case)).scalar_one()
    assert seen["opened"][0].startswith(f"✅ 已立案登记：{case.number}")
    assert case.opened_by == people["张伟"]["id"] and case.site_address == "岳阳市岳阳楼区某路1号"
    assert seen["taken"] == [6, 6]
    assert _stored(container, "tg.conv:new_case", f"[{user['id']},{user['id']}]") is None
    assert _stored(container, "tg.user", str(user["id"]))["case_number"] == case.number


def test_a_dialog_state_written_by_one_process_is_read_by_a_fresh_one(container, people, fake):
    """A restart (or another process) in mid-dialog: an application started after the
    answers were given continues the dialog from the database."""
    user = fake.user(7102)
    code = bind_code(container, people["张伟"]["id"])

    async def run(updates):
        app = build_application(container, request=FakeRequest(fake))
        await app.initialize()  # never shut down: as if the process died afterwards
        mark = fake.mark()
        for make in updates:  # made when sent: a button press needs the question first
            await app.process_update(Update.de_json(make(), app.bot))
        return fake.sent(user["id"], mark)

    asyncio.run(run([lambda: fake.text(user, f"/bind {code}"), lambda: fake.text(user, "/new"),
                     lambda: fake.press(user, "nk:penalty")]))
    replies = asyncio.run(run([lambda: fake.press(user, "nr:ex_officio")]))
    assert replies == ["（3/6）请输入案由（例如：未取得施工许可擅自施工）："]


def test_values_keep_their_types_and_nothing_is_pickled():
    """Tuples, sets, dates, bytes and non-text keys come back as they were written; a value
    JSON cannot describe is refused when written, never pickled."""
    value = {"queue": [{"path": "/x", "size": 3}], "pair": (1, "a"), "ids": {3, 1},
             "at": datetime(2026, 5, 1, 8, 30, tzinfo=UTC), "day": date(2026, 5, 1),
             "raw": b"\x00\xff", "by_id": {7: "seven"}, "none": None}
    assert keyvalue.loads(keyvalue.dumps(value)) == value
    with pytest.raises(TypeError, match="cannot be kept"):
        keyvalue.dumps({"x": object()})


def test_claim_is_won_once(container):
    """keyvalue.claim: the first writer of a key wins, every later one is told so (how an
    update delivered twice is handled once, bot.updates)."""
    with container.uow() as uow:
        first = keyvalue.claim(uow.session, "tg.update", "1:77")
    with container.uow() as uow:
        second = keyvalue.claim(uow.session, "tg.update", "1:77")
        other = keyvalue.claim(uow.session, "tg.update", "1:78")
    assert (first, second, other) == (True, False, True)
