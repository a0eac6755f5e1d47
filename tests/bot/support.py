"""Helpers for the bot tests: a harness that plays updates and reads replies, bind codes,
and a JPEG with real EXIF GPS and time."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx
from PIL import Image
from telegram import Update

from bot.app import build_application
from core.cases.commands import AddRecord, Decide, OpenCase, Transition
from core.people.models import Officer
from core.people.officers import issue_bind_code
from tests.support.telegram_fake import FakeRequest, FakeTelegram

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw0"  # the shape of a real token
SECRET = "webhook-secret-0123456789abcdef"


class Harness:
    """Plays updates into the application and returns what the bot said to that chat."""

    def __init__(self, app, fake: FakeTelegram):
        self.app, self.fake = app, fake

    async def deliver(self) -> list[int]:
        """Deliver every pending outbox message (approval requests, notices) the way the
        worker does, through the real Telegram channel to the fake; the ids delivered."""
        return await asyncio.to_thread(deliver_pending, self.app.container, self.fake)

    async def send(self, update: dict, chat_id: int | None = None) -> list[str]:
        """Process one update; the texts sent or edited into the chat since."""
        body = update.get("message") or update.get("callback_query") or \
            update.get("edited_message") or {}
        chat_id = chat_id or body.get("from", {}).get("id")
        mark = self.fake.mark()
        await self.app.process_update(Update.de_json(update, self.app.bot))
        return self.fake.sent(chat_id, mark)

    async def say(self, user: dict, text: str) -> list[str]:
        """The user types a text or a command."""
        return await self.send(self.fake.text(user, text))

    async def press(self, user: dict, data: str) -> list[str]:
        """The user presses the newest button with that data."""
        return await self.send(self.fake.press(user, data))

    def buttons(self, user: dict) -> list[str]:
        """Buttons now shown to the user, newest first."""
        return self.fake.buttons(user["id"])

    def labelled(self, user: dict, part: str) -> str:
        """The data of the newest button shown to the user whose label contains ``part``."""
        with self.fake._lock:
            found = sorted(((mid, m) for (chat, mid), m in self.fake.messages.items()
                            if chat == user["id"]), key=lambda p: p[0], reverse=True)
        for _, message in found:
            for row in (message.get("reply_markup") or {}).get("inline_keyboard") or []:
                for b in row:
                    if part in b.get("text", "") and b.get("callback_data"):
                        return b["callback_data"]
        raise AssertionError(f"no button labelled {part!r} in chat {user['id']}")


def play(container, fake: FakeTelegram, script: Callable[[Harness], Awaitable[Any]], *,
         persistence: Any = False, base_url: str | None = None, **build) -> Any:
    """Build the application and run a script against it: over the in-process fake, or over
    HTTP to the fake served at ``base_url`` (real httpx, forms and multipart)."""
    async def main():
        transport = {"base_url": base_url} if base_url else {"request": FakeRequest(fake)}
        app = build_application(container, persistence=persistence, **transport, **build)
        async with app:
            return await script(Harness(app, fake))

    return asyncio.run(main())


def bind_code(container, officer_id: str) -> str:
    """A fresh one-time binding code for an officer."""
    with container.uow() as uow:
        return issue_bind_code(uow.session, uow.session.get(Officer, officer_id))


def jpeg_with_gps(lat: float, lon: float, taken: datetime, *, make: str = "Xiaomi",
                  model: str = "14") -> bytes:
    """A small JPEG whose EXIF carries capture time (with offset), GPS, make and model."""
    def dms(value: float):
        value = abs(value)
        d = int(value)
        m = int((value - d) * 60)
        s = round(((value - d) * 60 - m) * 60, 4)
        return (float(d), float(m), float(s))

    img = Image.new("RGB", (64, 48), (120, 160, 200))
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = make, model
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = taken.strftime("%Y:%m:%d %H:%M:%S")
    ifd[0x9011] = taken.strftime("%z")[:3] + ":" + taken.strftime("%z")[3:]
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = ("N" if lat >= 0 else "S"), dms(lat)
    gps[3], gps[4] = ("E" if lon >= 0 else "W"), dms(lon)
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def phone_video(lat: float, lon: float, created: datetime) -> bytes:
    """A small MP4 as a phone records it: creation time, ©xyz location, make and model."""
    from tests.capture import media

    return media.movie_bytes(
        created=created, duration_s=20.0,
        udta=[media.xyz(f"{lat:+.4f}{lon:+.4f}/"), media.qt_text(b"\xa9mak", "Xiaomi"),
              media.qt_text(b"\xa9mod", "14")],
        mdat=bytes(range(256)) * 64)


def plain_jpeg() -> bytes:
    """A JPEG without any EXIF, as Telegram sends a compressed photo."""
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 20, 30)).save(out, "JPEG")
    return out.getvalue()


async def bind(h: Harness, container, user: dict, officer_id: str) -> None:
    """Bind a fake user to an officer through the bot."""
    replies = await h.say(user, f"/bind {bind_code(container, officer_id)}")
    assert replies[0].startswith(("绑定成功", "Bound")), replies


async def open_case(h: Harness, user: dict, *, route: str = "ex_officio", kind: str = "penalty",
                    emergency: bool = False, location: bool = True) -> list[str]:
    """Play /new to the end with a location site; the replies of the confirmation."""
    await h.say(user, "/new")
    await h.press(user, f"nk:{kind}")
    await h.press(user, f"nr:{route}")
    await h.say(user, "未取得施工许可擅自施工")
    await h.press(user, "np:organisation")
    await h.say(user, "岳阳某建设有限公司")
    await h.say(user, "91430600MA4L000000")
    if location:
        await h.send(h.fake.location(user, 29.3573, 113.1290, accuracy=12))
        await h.say(user, "岳阳市岳阳楼区某路1号")
    else:
        await h.say(user, "岳阳市岳阳楼区某路1号")
    await h.press(user, "ne:1" if emergency else "ne:0")
    return await h.press(user, "nc:ok")


async def filing_form(h: Harness, user: dict) -> list[str]:
    """Fill in the 立案审批表 through /record; the replies to the confirmation."""
    await h.say(user, "/record")
    await h.press(user, "rt:filing_form")
    await h.say(user, "未取得施工许可擅自施工，违反《建筑法》第七条")
    await h.press(user, "rf:def")  # the party, filled in from the case
    await h.say(user, "建议立案调查")
    await h.press(user, "rf:skip")
    return await h.press(user, "rc:ok")


def case_in_investigation(container, people) -> tuple[str, str]:
    """A penalty case moved to investigation through the core services: (id, number)."""
    from core.cases import lifecycle as case_service
    from core.cases import records as record_service

    def as_(uow, name):
        return uow.session.get(Officer, people[name]["id"])

    with container.uow() as uow:
        officer = as_(uow, "张伟")
        case = case_service.open_case(uow, officer, OpenCase.parse({
            "kind": "penalty", "initiation": "ex_officio", "title": "违法建设",
            "site": {"lat": 29.3573, "lon": 113.1290, "address": "岳阳市某路1号"}})).case
        record = record_service.add_record(uow, officer, case.id, AddRecord.parse({
            "type": "filing_form", "fields": {"reason": "擅自施工", "party_info": "某公司",
                                              "officer_opinion": "建议立案"}})).record
        for name in ("王强", "陈静"):
            record_service.approve(uow, as_(uow, name), case.id, record.id,
                                   Decide("approve", "同意"))
        case_service.transition(uow, officer, case.id, Transition("investigation"))
        return case.id, case.number


def deliver_pending(container, fake: FakeTelegram) -> list[int]:
    """Deliver the pending outbox through notifications' real Telegram channel, whose HTTP
    calls go to the fake in-process (Socket.IO messages are taken and dropped)."""
    from core.kernel.clock import utcnow
    from notifications.outbox import deliver, due_outbox
    from notifications.telegram import TelegramChannel

    def route(request: httpx.Request) -> httpx.Response:
        method = request.url.path.rsplit("/", 1)[-1]
        status, body = fake.handle(fake.token, method, json.loads(request.content or b"{}"))
        return httpx.Response(status, json=body)

    telegram = TelegramChannel(fake.token, "https://api.telegram.test",
                               client=httpx.Client(transport=httpx.MockTransport(route)))
    channels = {"telegram": telegram, "socketio": _Drop()}
    with container.uow() as uow:
        ids = due_outbox(uow.session, utcnow(), 1000)
    for outbox_id in ids:
        deliver(container, outbox_id, channels)
    return ids


class _Drop:
    """A channel that accepts every message (the department's Socket.IO room)."""

    name = "socketio"

    def send(self, message) -> None:
        """Accept."""
