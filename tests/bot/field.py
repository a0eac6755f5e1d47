"""The field-day harness: the bot over HTTP against the fake Bot API (a proxy-like base URL,
not api.telegram.org), its dialog state in the database, restarts as a new process would
make them, and a tap counter for the actions issue 16 measures.

Taps are counted as a phone makes them: a command from the menu is one tap, an inline button
one, sharing the location from the reply keyboard two (button, confirm), a file through
📎 → 文件 four (clip, "file", pick, send), a photo the default way three (clip, pick, send);
a typed answer is counted apart."""

from __future__ import annotations

import re

from telegram import Update

from bot.app import build_application
from core.kernel import vocab
from core.rules.catalogue import CATALOGUE
from tests.bot.support import Harness

TAPS = {"command": 1, "button": 1, "location": 2, "document": 4, "photo": 3, "media": 4}


class FieldDay(Harness):
    """Plays updates into the current bot process; ``restart`` starts a new one on the same
    database (the old one is dropped as if it died); counts taps and typed answers."""

    def __init__(self, container, fake, url: str):
        self.container, self.url = container, url
        self.apps: list = []
        self.taps = 0
        self.typed = 0
        self.said: list[str] = []  # every text the bot sent to anyone, for the language scan
        super().__init__(None, fake)

    async def start(self) -> None:
        """Start a bot process (database persistence, HTTP to the fake)."""
        app = build_application(self.container, base_url=self.url)
        await app.initialize()
        self.apps.append(app)
        self.app = app

    async def restart(self) -> None:
        """A new process takes over; nothing is flushed by the old one."""
        await self.start()

    async def close(self) -> None:
        """Close every process's HTTP client."""
        for app in self.apps:
            await app.shutdown()

    async def send(self, update: dict, chat_id: int | None = None) -> list[str]:
        """Process one update (as Telegram would deliver it) and count what it cost."""
        body = update.get("message") or {}
        if "callback_query" in update:
            self.taps += TAPS["button"]
        elif body.get("text", "").startswith("/"):
            self.taps += TAPS["command"]
        elif "text" in body:
            self.typed += 1
        elif "location" in body:
            self.taps += TAPS["location"]
        elif "document" in body:
            self.taps += TAPS["document"]
        elif "photo" in body:
            self.taps += TAPS["photo"]
        elif any(k in body for k in ("video", "audio", "voice", "video_note")):
            self.taps += TAPS["media"]
        return await self.deliver_again(update, chat_id)

    async def deliver_again(self, update: dict, chat_id: int | None = None) -> list[str]:
        """Telegram delivers the same update JSON again (no tap: the user did nothing)."""
        mark = self.fake.mark()
        body = update.get("message") or update.get("callback_query") or \
            update.get("edited_message") or {}
        chat_id = chat_id or (body.get("chat") or {}).get("id") or body.get("from", {}).get("id")
        await self.app.process_update(Update.de_json(update, self.app.bot))
        out = self.fake.sent(chat_id, mark)
        self.said += _everything_said(self.fake, mark)
        return out

    def count(self) -> tuple[int, int]:
        """(taps, typed answers) so far; reset the counters."""
        found = (self.taps, self.typed)
        self.taps = self.typed = 0
        return found


def _everything_said(fake, mark: int) -> list[str]:
    out = []
    for call in fake.calls[mark:]:
        if call.method in ("sendMessage", "editMessageText"):
            out.append(call.params["text"])
        markup = call.params.get("reply_markup")
        if isinstance(markup, dict):
            for row in markup.get("inline_keyboard") or markup.get("keyboard") or []:
                out += [b.get("text", "") if isinstance(b, dict) else str(b) for b in row]
    return out


HEX_ID = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")
WORD = re.compile(r"[A-Za-z][A-Za-z_]+")
# Latin words a Chinese reply may carry: units, names of techniques, device brands.
ALLOWED = {"GPS", "SHA", "MB", "KB", "GB", "ID", "PDF", "Telegram", "Xiaomi", "HEIC", "JPEG",
           "EXIF", "AV", "mp", "jpg", "pdf", "mov", "ogg"}


def raw_codes() -> set[str]:
    """Every stored code a user must never read: kinds, routes, stages, roles, and the
    catalogue's record types, field names and choice values."""
    codes = set(vocab.KINDS) | set(vocab.ROUTES) | set(vocab.ROLES)
    codes |= set(getattr(vocab, "STAGES", ()))
    for rtype in CATALOGUE:
        codes.add(rtype.name)
        for f in rtype.fields:
            codes.add(f.name)
            codes |= set(f.choices)
    return {c for c in codes if len(c) > 2}


def foreign(text: str, codes: set[str]) -> list[str]:
    """What in a Chinese reply is not Chinese: 32-hex ids, raw codes, English words
    (commands, file names and rule IDs like A31.1 aside)."""
    found = HEX_ID.findall(text)
    clean = re.sub(r"/[a-z_]+", " ", text)  # commands
    clean = re.sub(r"[\w-]+\.(pdf|jpg|jpeg|mp4|ogg|png|heic|mov)", " ", clean)  # file names
    clean = re.sub(r"https?://\S+", " ", clean)
    clean = re.sub(r"\b[A-Z]{2,6}-\d{4}-\d+", " ", clean)  # case numbers
    clean = re.sub(r"[0-9a-f]{8}…", " ", clean)  # hash prefixes
    for word in WORD.findall(clean):
        short_caps = re.fullmatch(r"[A-Z]{1,2}", word)
        if word in codes or "_" in word or (word not in ALLOWED and not short_caps):
            found.append(word)
    return found


# ----- the actions issue 16 measures, played as an officer would ---------------------------


async def open_case_with_filing_form(day: FieldDay, user: dict) -> tuple[int, int]:
    """Open a case at the site (location shared) and fill in its 立案审批表: (taps, typed)."""
    day.count()
    await day.say(user, "/new")
    await day.press(user, "nk:penalty")
    await day.press(user, "nr:ex_officio")
    await day.say(user, "未取得施工许可擅自施工")
    await day.press(user, "np:organisation")
    await day.say(user, "岳阳某建设有限公司")
    await day.press(user, "np:skip")
    await day.send(day.fake.location(user, 29.3573, 113.1290, accuracy=12))
    await day.press(user, "na:skip")
    await day.press(user, "ne:0")
    await day.press(user, "nc:ok")
    await day.say(user, "/record")
    await day.press(user, "rt:filing_form")
    await day.say(user, "未取得施工许可擅自施工，违反《建筑法》第七条")
    await day.press(user, "rf:def")
    await day.say(user, "建议立案调查")
    await day.press(user, "rf:skip")
    await day.press(user, "rc:ok")
    return day.count()


async def attach_verified_photo(day: FieldDay, user: dict, photo: bytes) -> tuple[int, int]:
    """Attach a photo whose EXIF survives (📎 → 文件) and say what it proves: (taps, typed)."""
    day.count()
    await day.send(day.fake.document(user, photo, "IMG_0001.jpg", "image/jpeg"))
    await day.press(user, "pv:0")
    return day.count()


async def open_case_fast(day: FieldDay, user: dict, *, share_location: bool = True
                         ) -> tuple[int, int]:
    """The same with the defaults that remember (a case was opened before): the last kind and
    route, the ID after the name, the shared location as the site, the 立案审批表 prefilled
    from the case. Sharing the location is counted (2 taps) unless it was shared already."""
    day.count()
    if share_location:
        await day.send(day.fake.location(user, 29.3573, 113.1290, accuracy=12))
    await day.say(user, "/new")
    await day.press(user, "nk:last")
    await day.say(user, "擅自占用道路施工")
    await day.press(user, "np:organisation")
    await day.say(user, "岳阳某路桥有限公司 91430600MA4L000001")
    await day.press(user, "ns:last")
    await day.press(user, "nc:form")
    await day.press(user, "fq:ok")
    return day.count()


async def verified_photo_in_capture_page(day: FieldDay, user: dict) -> tuple[int, int]:
    """A verified photo through the capture page inside Telegram: the bot's 📷 button (a Mini
    App, checked to be there), then the page's one shutter button, which records time and place
    and uploads by itself (tests/browser/test_capture_page.py plays the page)."""
    with day.fake._lock:
        newest = max((m for (chat, _), m in day.fake.messages.items() if chat == user["id"]
                      and _web_apps(m)), key=lambda m: m["message_id"], default=None)
    assert newest is not None, "no capture-page button was offered"
    assert "/m/capture?case=" in _web_apps(newest)[0]
    return TAPS["button"] + 1, 0


def _web_apps(message: dict) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [b["web_app"]["url"] for row in rows for b in row if b.get("web_app")]


async def inquiry_record(day: FieldDay, user: dict, colleague_id: str) -> None:
    """A 询问笔录 with a colleague (A14.1) naming its interviewee, as the scenario fills it."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    beijing = ZoneInfo("Asia/Shanghai")
    await day.say(user, "/record")
    await day.press(user, "rt:inquiry_record")
    await day.press(user, f"ro:{colleague_id}")
    await day.press(user, "ro:done")
    answers = [("text", "张三"), ("press", "rf:skip"), ("press", "rf:c0"),
               ("text", "岳阳市岳阳楼区某路1号工地"),
               ("text", (datetime.now(UTC) - timedelta(minutes=40)).astimezone(beijing)
                .strftime("%Y-%m-%d %H:%M")),
               ("text", (datetime.now(UTC) - timedelta(minutes=5)).astimezone(beijing)
                .strftime("%Y-%m-%d %H:%M")),
               ("text", "问：工地是否取得施工许可？答：没有。"), ("press", "rf:b1"),
               ("press", "rf:b0")]
    for kind, value in answers:
        await (day.say(user, value) if kind == "text" else day.press(user, value))
    await day.press(user, "rc:ok")


async def refusal_by_video(day: FieldDay, user: dict) -> tuple[int, int]:
    """The interviewee refuses to sign; a video of the case shows it (A22.2)."""
    day.count()
    await day.say(user, "/refuse")
    await day.press(user, next(b for b in day.buttons(user) if b.startswith("rx:")))
    await day.press(user, "rz:0")
    await day.press(user, "rv:0")
    await day.press(user, "rc2:ok")
    return day.count()


async def refusal_with_witness(day: FieldDay, user: dict, signature: bytes) -> tuple[int, int]:
    """The interviewee refuses to sign before one witness who signs (A22.2)."""
    day.count()
    await day.say(user, "/refuse")
    await day.press(user, next(b for b in day.buttons(user) if b.startswith("rx:")))
    await day.press(user, "rz:0")
    await day.press(user, "rw:add")
    await day.say(user, "刘一")
    await day.say(user, "430602199001010011")
    await day.say(user, "村委会工作人员")
    await day.send(day.fake.photo(user, signature))
    await day.press(user, "rw:done")
    await day.press(user, "rc2:ok")
    return day.count()
